/* password.h - argon2id password hashes (libsodium crypto_pwhash). */
#ifndef OB_PASSWORD_H
#define OB_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define OB_PASSWORD_HASH_MAX 128
#define OB_PASSWORD_MIN_LEN 10

/* Hash into out (an encoded $argon2id$ string). -1 with OB_E_INTERNAL if the
 * machine lacks the memory. */
int ob_password_hash(const char *pw, char out[OB_PASSWORD_HASH_MAX], ob_err *err);
/* Constant-time verification; false for a NULL or malformed hash. */
bool ob_password_verify(const char *hash, const char *pw);
/* Spend the time of a verification without a hash, so that unknown users and
 * wrong passwords take as long as each other. */
void ob_password_dummy_verify(const char *pw);
/* Make the dummy hash now rather than on the first unknown sign-in (serve);
 * it is built from random bytes with this module's parameters, not hashed, so
 * this costs microseconds. */
void ob_password_warm(void);
/* The dummy hash unknown-user sign-ins are verified against (static storage;
 * "" if it could not be made, which a test catches): for tests. */
const char *ob_password_dummy_hash(void);
/* A policy check: length and not all one kind of character. */
int ob_password_check(const char *pw, ob_err *err);
/* A strong random password (24 characters) into out[32]. */
void ob_password_generate(char out[32]);

#endif
