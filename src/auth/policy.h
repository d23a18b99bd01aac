/* policy.h - the tenant's session policy (security_settings, issue #17).
 *
 * Idle timeout: a session unused for session_timeout_minutes ends (reason
 * idle_timeout). Activity slides it, but last_activity_at is written at most
 * once per min(60 s, timeout / 4), so a session ends between 3/4 of the
 * timeout and the timeout after its last use: a write per request would
 * serialise every reader on the tenant's write lock. The absolute lifetime
 * stays OB_SESSION_TTL_MS from sign-in (user_sessions.expires_at).
 *
 * Concurrent sessions: a sign-in that would exceed max_concurrent_sessions
 * ends the user's oldest live sessions (max_sessions_exceeded) or is refused
 * with OB_E_SESSION_LIMIT, as session_limit_action says.
 *
 * IP binding: a token presented from an address other than the one it was
 * issued to ends its session (ip_mismatch) and writes a
 * session_hijack_attempt security violation.
 */
#ifndef OB_POLICY_H
#define OB_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/ctx.h"

typedef struct ob_session_policy {
    int64_t idle_ms;        /* session_timeout_minutes */
    int64_t max_sessions;   /* max_concurrent_sessions */
    bool refuse_over_limit; /* session_limit_action = refuse */
    bool ip_binding;        /* ip_binding_enabled */
    int64_t access_ms;      /* access_token_minutes: a bearer token's lifetime */
    bool mfa_required;      /* mfa_required: users without MFA get an enrol-only session */
} ob_session_policy;

/* The tenant's policy read on ctx->db; the declared defaults when the
 * settings row is missing. */
int ob_policy_load(ob_ctx *ctx, ob_session_policy *out, ob_err *err);

/* In the sign-in's write transaction on ctx->db, before the new session is
 * inserted: make room for it under max_concurrent_sessions, or refuse. */
int ob_policy_admit(ob_ctx *ctx, const char *user_id, const ob_session_policy *pol, ob_err *err);

/* How stale last_activity_at may grow before a request rewrites it. */
int64_t ob_policy_touch_ms(int64_t idle_ms);

/* At a successful sign-in, before its session is written: a security_alerts
 * row (new_device_login, new_address_login) when the user has signed in
 * before but never with this User-Agent, or never from this address. */
int ob_policy_signin_alert(ob_ctx *ctx, const char *user_id, ob_err *err);

/* Write a security_violations row on ctx->db (in the caller's transaction),
 * and a security_alerts row of the same type and severity. */
int ob_policy_violation(ob_ctx *ctx, const char *user_id, const char *type, const char *severity,
                        const char *description, ob_err *err);

#endif
