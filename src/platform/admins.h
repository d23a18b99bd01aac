/* admins.h - super admins: the platform's own accounts (control database),
 * their sign-in with a required second factor, and their bearer tokens.
 *
 * Sign-in is two steps. The password answers a challenge ("obc_..."), never
 * a token; the first sign-in of an admin without MFA also answers a new TOTP
 * secret and its otpauth:// URI (enrolment). A TOTP code sent with the
 * challenge completes it: enrolment is confirmed by that code, and the
 * session's token "obp_<43 random base64url chars>" is returned once. Only
 * BLAKE2b hashes of challenges and tokens are stored (platform_sessions).
 * A code's step is stored on the admin and a code of that step or an older
 * one is refused, so an observed code cannot be used again; five wrong codes
 * end a challenge. Tenant tokens (obt_) are never platform tokens and
 * platform tokens are never tenant tokens: the prefixes differ and each
 * authenticator accepts only its own.
 */
#ifndef OB_ADMINS_H
#define OB_ADMINS_H

#include "schema/ctx.h"

#define OB_PLATFORM_CHALLENGE_TTL_MS (5LL * 60 * 1000)
#define OB_PLATFORM_SESSION_TTL_MS (8LL * 3600 * 1000)
#define OB_PLATFORM_MAX_BAD_CODES 5

/* Per-account lockout: after max_failures failed steps in a row (a wrong
 * password or a wrong code, counted on the admin) sign-in is refused with
 * OB_E_LOCKED for lockout_ms, and the admin's pending challenges end. Each
 * failure, the lockout and each completed sign-in are in the platform audit
 * log. Defaults 5 and 15 minutes; set once by serve before it answers. */
void ob_platform_lockout_configure(int64_t max_failures, int64_t lockout_ms);

/* Create a super admin (the CLI). A NULL password is generated into
 * generated[32]. OB_E_CONFLICT when the e-mail exists. */
int ob_super_admin_create(ob_store *s, const char *email, const char *name, const char *password,
                          char generated[32], ob_err *err);

typedef struct ob_platform_login {
    const char *challenge;   /* output (arena) */
    char expires_at[OB_TS_LEN];
    const char *enrol_secret; /* output when MFA is not set up yet: base32 secret (arena) */
    const char *enrol_uri;    /* and its otpauth:// URI */
    int64_t retry_after_s;    /* output with OB_E_LOCKED */
} ob_platform_login;

/* Check a super admin's password and open a challenge. Every failure is
 * OB_E_BAD_CREDENTIALS, except a locked account: OB_E_LOCKED with
 * *retry_after_s (even with the right password). ctx->db is not used. */
int ob_platform_login_start(ob_ctx *ctx, const char *email, const char *password, ob_platform_login *out,
                            ob_err *err);

typedef struct ob_platform_token {
    const char *token;        /* obp_..., shown once (arena) */
    char expires_at[OB_TS_LEN];
    const char *admin_id, *email;
    int64_t retry_after_s;    /* output with OB_E_LOCKED */
} ob_platform_token;

/* Complete a challenge with a TOTP code: OB_E_BAD_CREDENTIALS for an unknown,
 * expired or ended challenge, a wrong code or a replayed one; OB_E_LOCKED
 * while the admin is locked out. */
int ob_platform_mfa_verify(ob_ctx *ctx, const char *challenge, const char *code, ob_platform_token *out,
                           ob_err *err);

/* Resolve "Bearer obp_..." into ctx->who (user_id: the admin's id, email,
 * name, session_id). ctx->tenant stays NULL and ctx->db untouched.
 * OB_E_UNAUTHENTICATED on any problem. */
int ob_platform_authenticate(ob_ctx *ctx, const char *authorization, ob_err *err);

/* End the session of ctx->who. */
int ob_platform_logout(ob_ctx *ctx, ob_err *err);

#endif
