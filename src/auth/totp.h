/* totp.h - time-based one-time passwords (RFC 6238), the second factor of
 * sign-in for tenant users and platform administrators.
 *
 * Secrets are 20 random bytes (the RFC's HMAC-SHA1 key size), shown to the
 * user once as RFC 4648 base32 without padding, the form authenticator apps
 * read from an otpauth:// URI. Codes are 6 digits over 30-second steps.
 * Checking returns the step a code matched, so the caller can store it and
 * refuse the same code (or an older one) a second time: RFC 6238 section 5.2
 * asks for exactly that, because an observed code stays valid for its
 * window otherwise.
 */
#ifndef OB_TOTP_H
#define OB_TOTP_H

#include <stdint.h>

#include "base/arena.h"

#define OB_TOTP_SECRET_BYTES 20
#define OB_TOTP_B32_LEN 32 /* 20 bytes -> 32 base32 characters */
#define OB_TOTP_STEP_S 30
#define OB_TOTP_DIGITS 6

/* A new random secret as base32 into out (NUL-terminated). */
void ob_totp_new_secret(char out[OB_TOTP_B32_LEN + 1]);

/* The otpauth://totp/ URI for an authenticator app, in the arena. issuer
 * and account are percent-encoded; both appear in the label and issuer
 * parameter, as the Key URI format asks. */
const char *ob_totp_uri(ob_arena *a, const char *issuer, const char *account, const char *b32);

/* The code of step (unix seconds / 30) into out; -1 for a malformed secret. */
int ob_totp_code(const char *b32, int64_t step, char out[OB_TOTP_DIGITS + 1]);

/* Check a code at now_s, accepting the steps within +-window of now's step
 * that are later than last_step (pass -1 when nothing was used yet). Returns
 * the matched step, or -1: wrong code, replayed or older step, malformed
 * secret or code. Comparison is constant time per step. */
int64_t ob_totp_check(const char *b32, const char *code, int64_t now_s, int window, int64_t last_step);

#endif
