/* mfa.h - the second factor of sign-in: TOTP (totp.h) with recovery codes.
 *
 * Enrolment: enroll stores a new secret in users.mfa_secret (not yet in
 * force) and returns it once with its otpauth:// URI; confirm with a code of
 * it turns MFA on and returns ten single-use recovery codes, kept only as
 * hashes (users.mfa_recovery_codes). From then on a correct password gives a
 * challenge ("obm_<slug>_...", 5 minutes, stored hashed in mfa_challenges),
 * not a session; verify with a code or a recovery code opens the session.
 * A code is accepted within one step either side of now, and only once: the
 * step of the last accepted code is kept (users.mfa_last_step) and it and
 * older steps are refused. Five wrong answers end a challenge; every wrong
 * answer also counts as a failed sign-in of the account and address.
 */
#ifndef OB_MFA_H
#define OB_MFA_H

#include "auth/session.h"
#include "schema/ctx.h"

#define OB_MFA_RECOVERY_CODES 10
#define OB_MFA_CHALLENGE_MS (5LL * 60 * 1000)
#define OB_MFA_MAX_FAILURES 5

/* For the signed-in ctx->who, on ctx->db (WRITE, in a transaction). */
/* enroll asks for the password again: OB_E_UNPROCESSABLE when wrong. */
int ob_mfa_enroll(ob_ctx *ctx, const char *password, const char **secret, const char **uri, ob_err *err);
int ob_mfa_confirm(ob_ctx *ctx, const char *code, const char *codes[OB_MFA_RECOVERY_CODES], ob_err *err);
int ob_mfa_disable(ob_ctx *ctx, const char *code, ob_err *err);

/* After the password of user_id (signing in as email) was accepted: a new
 * challenge (arena). The password's throttle claim is given back; each
 * code then claims an attempt of the same counters as a password does
 * (throttle.h), so wrong codes block the account like wrong passwords. */
int ob_mfa_challenge(ob_ctx *ctx, ob_tenant_info *ti, const char *user_id, const char *email,
                     const char **challenge, ob_err *err);

/* POST /auth/mfa/verify: exactly one of code and recovery_code. Fills *out
 * as a sign-in does; OB_E_UNAUTHENTICATED for a wrong, spent or expired
 * challenge or a wrong code; OB_E_RATE_LIMITED (out->retry_after_s) while
 * the account or address is blocked. */
int ob_mfa_verify(ob_ctx *ctx, const char *challenge, const char *code, const char *recovery_code, ob_login *out,
                  ob_err *err);

#endif
