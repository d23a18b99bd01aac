/* session.h - signing in, bearer tokens and sessions.
 *
 * A token is "obt_<tenant slug>_<43 random base64url chars>": the slug says
 * which tenant database holds the session, the random part is 256 bits. Only
 * a BLAKE2b hash of the whole token is stored (user_sessions.session_token),
 * so a copy of the database cannot be used to sign in.
 */
#ifndef OB_SESSION_H
#define OB_SESSION_H

#include "schema/ctx.h"
#include "schema/row.h"

#define OB_SESSION_TTL_MS (12LL * 3600 * 1000)

typedef struct ob_login {
    const char *tenant, *email, *password;     /* input */
    bool cookie;                                /* input: the console's HttpOnly cookie session, whose token
                                                 * lives as long as the session (scripts never see it) */
    const char *token;                          /* output (arena) */
    char expires_at[OB_TS_LEN];                 /* the bearer token's (access_token_minutes) */
    const char *refresh_token;                  /* output (arena): "obr_<slug>_<43 chars>" */
    char session_expires_at[OB_TS_LEN];         /* the refresh token's too */
    ob_row *user;
    ob_tenant_info *tenant_info;
    const char *mfa_challenge;                  /* output: set instead of token when the user has MFA */
    bool has_mfa;                               /* input of ob_session_open: the second factor was given */
    bool mfa_enrolment;                         /* output: the session may only enrol MFA (mfa_required) */
    int64_t retry_after_s;                      /* output with OB_E_RATE_LIMITED */
} ob_login;

/* Check credentials and open a session. ctx supplies arena, store, clock and
 * request metadata; ctx->db is managed here. The attempt is first claimed
 * from the sign-in throttle (throttle.h): when the account or the client
 * address is blocked the answer is OB_E_RATE_LIMITED with retry_after_s set,
 * before any password is checked. Every other failure is
 * OB_E_BAD_CREDENTIALS, whatever the cause. Both are audited as login_failed. */
int ob_session_login(ob_ctx *ctx, ob_login *in, ob_err *err);
/* (A user with MFA enabled gets no session from it: in->mfa_challenge is set
 * instead, for POST /auth/mfa/verify; see mfa.h.) */

/* Open a session for user_id whose second factor was verified (mfa.c): as a
 * successful sign-in; in->tenant_info and in->email are given, in->user filled. */
int ob_session_open(ob_ctx *ctx, ob_login *in, const char *user_id, ob_err *err);
/* The tenant slug of a "<prefix><slug>_<random>" token (arena), or NULL. */
char *ob_session_token_slug(ob_ctx *ctx, const char *token, const char *prefix);
/* The tenant by slug (OB_E_NOT_FOUND when there is none). */
int ob_session_find_tenant(ob_ctx *ctx, const char *slug, ob_tenant_info **out, ob_err *err);

/* POST /auth/refresh: exchange a refresh token for a new bearer token and a
 * new refresh token (rotation: the one given is spent). A refresh token
 * presented again after it was exchanged revokes every token of its sign-in,
 * ends the session and writes a refresh_token_reuse violation. Fills
 * token, expires_at, refresh_token, session_expires_at and tenant_info of
 * *out; OB_E_UNAUTHENTICATED on any problem. */
int ob_session_refresh(ob_ctx *ctx, const char *refresh_token, ob_login *out, ob_err *err);

/* Resolve an Authorization header into ctx: tenant, principal (with roles and
 * permissions) and a READ connection to the tenant in ctx->db (the caller
 * releases it). OB_E_UNAUTHENTICATED on any problem. */
int ob_session_authenticate(ob_ctx *ctx, const char *authorization, ob_err *err);

/* Whether a principal (roles loaded) is confined to its customer's rows.
 * Confinement follows what is granted, not users.user_type, and fails
 * closed: the customer role confines whatever else is held, and so does
 * holding no other role; user_type "customer" confines too. The owner and
 * the system are never confined. */
bool ob_principal_confined(const ob_principal *p, bool customer_type);

/* End the session of ctx->who (ctx->db must be a WRITE connection in a
 * transaction). */
int ob_session_logout(ob_ctx *ctx, ob_err *err);

#endif
