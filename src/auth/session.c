/* session.c - login, token authentication, logout. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/apikey.h"
#include "auth/password.h"
#include "auth/mfa.h"
#include "auth/pcache.h"
#include "auth/policy.h"
#include "auth/rbac.h"
#include "auth/session.h"
#include "auth/throttle.h"
#include "base/base.h"
#include "platform/tenants.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define TOKEN_PREFIX "obt_"
#define REFRESH_PREFIX "obr_"

static int fail(ob_err *err)
{
    return ob_err_set(err, OB_E_BAD_CREDENTIALS, NULL);
}

int ob_session_find_tenant(ob_ctx *ctx, const char *slug, ob_tenant_info **out, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    int rc = ob_tenant_lookup(c, ctx->arena, slug, out, err);
    ob_db_release(c);
    return rc;
}

/* Load the user by email on ctx->db. 1 found, 0 not, -1 error. */
static int user_by_email(ob_ctx *ctx, const char *email, ob_row **out, ob_err *err)
{
    const ob_table *ut = ob_registry_find(OB_TABLE_USERS);
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 256);
    ob_sb_addf(&sql, "SELECT %s FROM users WHERE email = ? AND deleted_at IS NULL", ob_sql_cols(ut));
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
    /* stored as validation wrote it (users.email is OB_LOWER) */
    ob_stmt_bind_text(st, 1, ob_text_lower(ctx->arena, email, strlen(email), NULL), err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        *out = ob_row_new(ctx->arena, ut);
        ob_row_load(ctx->arena, *out, st);
    }
    ob_stmt_done(st);
    return rc;
}


/* A new random token "<prefix><slug>_<43 chars>" (arena) and its hash. */
static const char *new_token(ob_ctx *ctx, const char *prefix, const char *slug, char hash[65])
{
    ob_sb tok;
    ob_sb_init_arena(&tok, ctx->arena, 96);
    ob_sb_addf(&tok, "%s%s_", prefix, slug);
    ob_random_b64url(&tok, 32);
    ob_token_hash(tok.buf, tok.len, hash);
    return tok.buf;
}

/* A bearer token lives access_token_minutes, never past its session. */
static void access_expiry(ob_ctx *ctx, const ob_session_policy *pol, const char *session_expires, char out[OB_TS_LEN])
{
    ob_ts_format(ctx->now_ms + pol->access_ms, out);
    if (strcmp(out, session_expires) > 0) memcpy(out, session_expires, OB_TS_LEN);
}

/* A refresh token of session sid, valid as long as the session may live. */
static int issue_refresh(ob_ctx *ctx, const char *slug, const char *user_id, const char *sid, const char *expires,
                         const char **out, ob_err *err)
{
    char hash[65], id[OB_UUID_LEN];
    *out = new_token(ctx, REFRESH_PREFIX, slug, hash);
    ob_uuid7(id);
    ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(user_id), ob_v_text(hash), ob_v_text(expires),
                    ob_v_text(sid)};
    return ob_sql_run(ctx->db,
                      "INSERT INTO refresh_tokens (id, created_at, user_id, token_hash, expires_at, session_id) "
                      "VALUES (?, ?, ?, ?, ?, ?)",
                      v, 6, err);
}

/* Record the outcome in one write transaction: counters, lock, session, audit. */
static int record(ob_ctx *ctx, ob_login *in, const char *user_id, bool ok, const char *reason, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(ctx->store, in->tenant_info->slug, in->tenant_info->id, OB_DB_WRITE, &c, err) != 0) return -1;
    ctx->db = c;
    int rc = ob_db_begin(c, err);
    if (rc == 0 && user_id && !ok) {
        /* kept for administrators to read; it locks nothing (throttle.h) */
        ob_value v[] = {ob_v_text(user_id)};
        rc = ob_sql_run(ctx->db, "UPDATE users SET failed_login_attempts = failed_login_attempts + 1 WHERE id = ?",
                        v, 1, err);
    }
    if (rc == 0 && ok) {
        ob_value v[] = {ob_v_text(ctx->now), ob_v_text(user_id)};
        rc = ob_sql_run(ctx->db, "UPDATE users SET failed_login_attempts = 0, last_login_at = ? WHERE id = ?", v, 2,
                        err);
        if (rc == 0) rc = ob_throttle_success(ctx, in->email, ctx->ip, err);
        ob_session_policy pol;
        if (rc == 0) rc = ob_policy_load(ctx, &pol, err);
        if (rc == 0) rc = ob_policy_admit(ctx, user_id, &pol, err);
        in->mfa_enrolment = rc == 0 && pol.mfa_required && !in->has_mfa;
        if (rc == 0) rc = ob_policy_signin_alert(ctx, user_id, err);
        if (in->mfa_enrolment && in->cookie)
            rc = ob_err_set(err, OB_E_UNPROCESSABLE,
                            "the tenant requires a second factor and this account has none: enrol through "
                            "POST /api/v1/auth/login and /api/v1/auth/mfa/enroll first");
        if (rc != 0 && err->code == OB_E_SESSION_LIMIT) {
            /* refused by policy: the refusal is audited, nothing else written */
            ob_err refused = *err;
            ob_db_rollback(c);
            rc = ob_db_begin(c, err);
            if (rc == 0)
                rc = ob_audit_event(ctx, "login_failed", "users", user_id, user_id,
                                    "{\"reason\":\"session_limit\"}", err);
            if (rc == 0) rc = ob_db_commit(c, err);
            ob_db_release(c);
            ctx->db = NULL;
            if (rc == 0) *err = refused;
            return -1;
        }
        char hash[65], sid[OB_UUID_LEN];
        in->token = new_token(ctx, TOKEN_PREFIX, in->tenant_info->slug, hash);
        ob_uuid7(sid);
        ob_ts_format(ctx->now_ms + OB_SESSION_TTL_MS, in->session_expires_at);
        access_expiry(ctx, &pol, in->session_expires_at, in->expires_at);
        if (in->cookie) memcpy(in->expires_at, in->session_expires_at, OB_TS_LEN);
        const char *ua = ctx->user_agent ? ob_arena_strndup(ctx->arena, ctx->user_agent, 1000) : NULL;
        ob_value s[] = {ob_v_text(sid), ob_v_text(ctx->now), ob_v_text(user_id), ob_v_text(hash), ob_v_text(ctx->ip),
                        ob_v_text(ua), ob_v_bool(false), ob_v_bool(true), ob_v_text(ctx->now),
                        ob_v_text(in->session_expires_at), ob_v_text(in->expires_at), ob_v_bool(in->mfa_enrolment)};
        if (rc == 0)
            rc = ob_sql_run(ctx->db,
                             "INSERT INTO user_sessions (id, created_at, user_id, session_token, ip_address, "
                             "user_agent, is_trusted, is_active, last_activity_at, expires_at, access_expires_at, "
                             "mfa_enrolment_only) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             s, 12, err);
        if (rc == 0)
            rc = issue_refresh(ctx, in->tenant_info->slug, user_id, sid, in->session_expires_at, &in->refresh_token,
                               err);
        static ob_principal who;
        ob_principal *p = ob_arena_zalloc(ctx->arena, sizeof *p);
        (void)who;
        p->user_id = user_id;
        p->session_id = ob_arena_strdup(ctx->arena, sid);
        ctx->who = p;
    }
    if (rc == 0) {
        const char *meta = reason ? ob_arena_printf(ctx->arena, "{\"reason\":\"%s\"}", reason) : NULL;
        rc = ob_audit_event(ctx, ok ? "login" : "login_failed", "users", user_id, user_id, meta, err);
    }
    if (rc == 0) rc = ob_db_commit(c, err);
    ob_db_release(c);
    ctx->db = NULL;
    return rc;
}

/* Claim this attempt (throttle.h) in a write transaction of its own, before
 * the password is looked at: parallel guesses queue on the tenant's write
 * lock, so no more than the limit are ever checked. A refusal is audited. */
static int claim(ob_ctx *ctx, ob_login *in, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(ctx->store, in->tenant_info->slug, in->tenant_info->id, OB_DB_WRITE, &c, err) != 0) return -1;
    ctx->db = c;
    int64_t retry = 0;
    int rc = ob_db_begin(c, err);
    if (rc == 0) rc = ob_throttle_claim(ctx, in->email, ctx->ip, &retry, err);
    if (rc == 0 && retry > 0)
        rc = ob_audit_event(ctx, "login_failed", "users", NULL, NULL, "{\"reason\":\"rate_limited\"}", err);
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    ctx->db = NULL;
    if (rc != 0) return -1;
    if (retry > 0) {
        in->retry_after_s = (retry + 999) / 1000;
        return ob_err_set(err, OB_E_RATE_LIMITED, "too many sign-in attempts: try again in %lld s",
                          (long long)in->retry_after_s);
    }
    return 0;
}

int ob_session_login(ob_ctx *ctx, ob_login *in, ob_err *err)
{
    if (ob_session_find_tenant(ctx, in->tenant, &in->tenant_info, err) != 0) {
        if (err->code != OB_E_NOT_FOUND) return -1;
        ob_password_dummy_verify(in->password);
        return fail(err);
    }
    if (claim(ctx, in, err) != 0) return -1;
    ob_conn *c;
    if (ob_db_acquire(ctx->store, in->tenant_info->slug, in->tenant_info->id, OB_DB_READ, &c, err) != 0) return -1;
    ctx->db = c;
    ob_row *u = NULL;
    int found = user_by_email(ctx, in->email, &u, err);
    ob_db_release(c);
    ctx->db = NULL;
    if (found < 0) return -1;
    if (!found) {
        ob_password_dummy_verify(in->password);
        if (record(ctx, in, NULL, false, "unknown_user", err) != 0) return -1;
        return fail(err);
    }
    /* verify before looking at the lock so every failure costs the same */
    bool ok = ob_password_verify(ob_row_text(u, USERS_PASSWORD_HASH), in->password);
    const char *locked = ob_row_text(u, USERS_LOCKED_UNTIL);
    const char *uid = ob_row_text(u, USERS_ID);
    const char *reason = NULL;
    if (locked && strcmp(locked, ctx->now) > 0) reason = "locked";
    else if (!ob_row_int(u, USERS_IS_ACTIVE, 0) || strcmp(ob_row_text(u, USERS_STATUS), "active") != 0)
        reason = "inactive";
    else if (!ok) reason = "bad_password";
    if (reason) {
        /* a locked account does not count further failures */
        if (record(ctx, in, strcmp(reason, "bad_password") == 0 ? uid : NULL, false, reason, err) != 0) return -1;
        return fail(err);
    }
    if (ob_row_int(u, USERS_MFA_ENABLED, 0))
        return ob_mfa_challenge(ctx, in->tenant_info, uid, in->email, &in->mfa_challenge, err);
    if (record(ctx, in, uid, true, NULL, err) != 0) return -1;
    in->user = u;
    ob_row_set_text(ctx->arena, u, USERS_LAST_LOGIN_AT, ctx->now);
    return 0;
}

int ob_session_open(ob_ctx *ctx, ob_login *in, const char *user_id, ob_err *err)
{
    in->has_mfa = true;
    if (record(ctx, in, user_id, true, NULL, err) != 0) return -1;
    ob_conn *c;
    if (ob_db_acquire(ctx->store, in->tenant_info->slug, in->tenant_info->id, OB_DB_READ, &c, err) != 0) return -1;
    ctx->db = c;
    int found = user_by_email(ctx, in->email, &in->user, err);
    ob_db_release(c);
    ctx->db = NULL;
    return found == 1 ? 0 : found < 0 ? -1 : ob_err_set(err, OB_E_UNAUTHENTICATED, "the user is gone");
}

bool ob_principal_confined(const ob_principal *p, bool customer_type)
{
    if (p->is_owner || p->is_system) return false;
    bool staff = false;
    for (int i = 0; i < p->nroles; i++) {
        /* the customer role confines whatever else is held: fail closed */
        if (strcmp(p->roles[i], "customer") == 0) return true;
        staff = true;
    }
    return !staff || customer_type;
}

/* What the session policy needs to know of a session, read with it on every
 * request (the settings row joins in: no cache to go stale). */
typedef struct live_session {
    const char *last_activity, *ip;
    int64_t idle_ms;
    bool ip_binding;
} live_session;

static void live_read(ob_ctx *ctx, ob_stmt *st, int col, live_session *ls)
{
    const char *last = ob_stmt_col_text(st, col, NULL), *ip = ob_stmt_col_text(st, col + 1, NULL);
    ls->last_activity = last ? ob_arena_strdup(ctx->arena, last) : NULL;
    ls->ip = ip ? ob_arena_strdup(ctx->arena, ip) : NULL;
    ls->idle_ms = ob_stmt_col_type(st, col + 2) == OB_V_NULL ? 30LL * 60000 : ob_stmt_col_i64(st, col + 2) * 60000;
    ls->ip_binding = ob_stmt_col_i64(st, col + 3) != 0;
}

/* The caller's request limits (ob_ctx_limits), columns appended to the
 * session check when the gate wants them: the settings row is joined as
 * "st" already, and the role override is a sub-select on the session's
 * user, so the limiter's read costs no round trip of its own. */
#define LIMITS_COLS                                                                                                 \
    ", st.id, st.requests_per_minute, st.export_requests_per_hour, st.alert_on_limit_violations, (SELECT "        \
    "MAX(r.custom_requests_per_minute) FROM role_security_settings r JOIN user_roles ur ON ur.role_id = r.role_id " \
    "WHERE ur.user_id = s.user_id)"

static void limits_read(ob_ctx *ctx, ob_stmt *st, int col)
{
    ob_ctx_limits *l = &ctx->limits;
    l->read = true;
    l->found = ob_stmt_col_type(st, col) != OB_V_NULL; /* no settings row: no limits, as the limiter's own read */
    if (!l->found) return;
    l->per_minute = ob_stmt_col_i64(st, col + 1);
    l->exports_per_hour = ob_stmt_col_i64(st, col + 2);
    l->alert = ob_stmt_col_i64(st, col + 3) != 0;
    if (ob_stmt_col_type(st, col + 4) != OB_V_NULL) l->per_minute = ob_stmt_col_i64(st, col + 4);
}

/* End a session the policy no longer allows, in a write transaction of its
 * own (with the violation, when there is one). */
static int end_session(ob_ctx *ctx, ob_tenant_info *ti, const char *sid, const char *uid, const char *reason,
                       const char *violation, ob_err *err)
{
    ob_conn *w, *r = ctx->db;
    if (ob_db_acquire(ctx->store, ti->slug, ti->id, OB_DB_WRITE, &w, err) != 0) return -1;
    ctx->db = w;
    ob_value v[] = {ob_v_text(ctx->now), ob_v_bool(false), ob_v_text(reason), ob_v_text(sid)};
    int rc = ob_db_begin(w, err);
    if (rc == 0)
        rc = ob_sql_run(w,
                        "UPDATE user_sessions SET terminated_at = ?, is_active = ?, termination_reason = ? "
                        "WHERE id = ? AND terminated_at IS NULL",
                        v, 4, err);
    if (rc == 0 && violation) rc = ob_policy_violation(ctx, uid, "session_hijack_attempt", "high", violation, err);
    if (rc == 0) rc = ob_db_commit(w, err);
    else ob_db_rollback(w);
    ob_db_release(w);
    ctx->db = r;
    ob_registry_auth_changed();
    return rc;
}

/* Idle timeout and IP binding (policy.h); then last activity, when stale. */
static int enforce(ob_ctx *ctx, ob_tenant_info *ti, const char *sid, const char *uid, const live_session *ls,
                   ob_err *err)
{
    int64_t last_ms;
    bool known = ls->last_activity && ob_ts_parse(ls->last_activity, &last_ms) == 0;
    if (known && ctx->now_ms - last_ms >= ls->idle_ms) {
        if (end_session(ctx, ti, sid, uid, "idle_timeout", NULL, err) != 0) return -1;
        return ob_err_set(err, OB_E_UNAUTHENTICATED, "the session has expired after a period of inactivity");
    }
    if (ls->ip_binding && ls->ip && ctx->ip && strcmp(ls->ip, ctx->ip) != 0) {
        const char *why = ob_arena_printf(ctx->arena, "a token issued to %s was used from %s: its session ended",
                                          ls->ip, ctx->ip);
        if (end_session(ctx, ti, sid, uid, "ip_mismatch", why, err) != 0) return -1;
        return ob_err_set(err, OB_E_UNAUTHENTICATED, "the session is bound to another address");
    }
    if (known && ctx->now_ms - last_ms < ob_policy_touch_ms(ls->idle_ms)) return 0;
    ob_conn *w;
    ob_err ignored; /* a missed touch only shortens the idle window */
    if (ob_db_acquire(ctx->store, ti->slug, ti->id, OB_DB_WRITE, &w, &ignored) == 0) {
        ob_value v[] = {ob_v_text(ctx->now), ob_v_text(sid)};
        ob_sql_run(w, "UPDATE user_sessions SET last_activity_at = ? WHERE id = ?", v, 2, &ignored);
        ob_db_release(w);
    }
    return 0;
}

int ob_session_authenticate(ob_ctx *ctx, const char *authz, ob_err *err)
{
    static const char bearer[] = "Bearer ";
    if (!authz) return ob_err_set(err, OB_E_UNAUTHENTICATED, "an Authorization: Bearer token is required");
    if (strncasecmp(authz, bearer, sizeof bearer - 1) != 0)
        return ob_err_set(err, OB_E_UNAUTHENTICATED, "the Authorization header must be a Bearer token");
    const char *tok = authz + sizeof bearer - 1;
    if (ob_apikey_is_key(tok)) return ob_apikey_authenticate(ctx, tok, err);
    size_t n = strlen(tok);
    if (n < sizeof TOKEN_PREFIX + 44 || n > 200 || strncmp(tok, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1) != 0)
        return ob_err_set(err, OB_E_UNAUTHENTICATED, "the token is not valid");
    const char *slug_start = tok + sizeof TOKEN_PREFIX - 1;
    const char *us = strchr(slug_start, '_');
    if (!us || us == slug_start) return ob_err_set(err, OB_E_UNAUTHENTICATED, "the token is not valid");
    char *slug = ob_arena_strndup(ctx->arena, slug_start, (size_t)(us - slug_start));
    char hash[65];
    ob_token_hash(tok, n, hash);
    ob_tenant_info *ti;
    ob_principal *cached;
    if (ob_pcache_get(hash, ctx->arena, ctx->now_ms, &ti, &cached)) {
        /* One primary-key read confirms the session still exists in this
         * tenant's database: a tenant deleted (or recreated) and a session
         * ended by another process stop at once, not after the TTL. That
         * read fails by itself on a deleted tenant (db.h: the acquire or the
         * statement fails on both engines), so there is no separate check
         * that it exists: a failed read falls through to the full check
         * below, which asks the control database. */
        ob_conn *rc_conn;
        if (ob_db_acquire(ctx->store, ti->slug, ti->id, OB_DB_READ, &rc_conn, err) == 0) {
            ob_stmt *st;
            int live = -1;
            live_session ls;
#define LIVE_HEAD "SELECT s.last_activity_at, s.ip_address, st.session_timeout_minutes, st.ip_binding_enabled"
#define LIVE_TAIL                                                                                                  \
    " FROM user_sessions s LEFT JOIN security_settings st ON st.scope = 'tenant' WHERE s.id = ? AND s.user_id = ? " \
    "AND s.session_token = ? AND s.terminated_at IS NULL AND s.expires_at > ? AND (s.access_expires_at IS NULL OR " \
    "s.access_expires_at > ?)"
            bool want = ctx->limits.want;
            if (ob_db_prepare(rc_conn, want ? LIVE_HEAD LIMITS_COLS LIVE_TAIL : LIVE_HEAD LIVE_TAIL, &st, err) == 0) {
                ob_stmt_bind_text(st, 1, cached->session_id, err);
                ob_stmt_bind_text(st, 2, cached->user_id, err);
                ob_stmt_bind_text(st, 3, hash, err);
                ob_stmt_bind_text(st, 4, ctx->now, err);
                ob_stmt_bind_text(st, 5, ctx->now, err);
                live = ob_stmt_step(st, err);
                if (live == 1) live_read(ctx, st, 0, &ls);
                if (live == 1 && want) limits_read(ctx, st, 4);
                ob_stmt_done(st);
            }
            if (live == 1) {
                ctx->tenant = ti;
                ctx->db = rc_conn;
                if (enforce(ctx, ti, cached->session_id, cached->user_id, &ls, err) != 0) {
                    ob_pcache_drop(hash);
                    return -1; /* the caller releases ctx->db */
                }
                ctx->who = cached;
                return 0;
            }
            ob_db_release(rc_conn);
        }
        ob_pcache_drop(hash);
    }
    uint64_t epoch = ob_registry_auth_epoch(); /* before reading: a write meanwhile makes the entry stale */
    if (ob_session_find_tenant(ctx, slug, &ti, err) != 0) {
        if (err->code == OB_E_NOT_FOUND) return ob_err_set(err, OB_E_UNAUTHENTICATED, "the token is not valid");
        return -1;
    }
    ctx->tenant = ti;
    ob_conn *c;
    if (ob_db_acquire(ctx->store, ti->slug, ti->id, OB_DB_READ, &c, err) != 0) {
        if (err->code == OB_E_NOT_FOUND) return ob_err_set(err, OB_E_UNAUTHENTICATED, "the token is not valid");
        return -1;
    }
    ctx->db = c;
    ob_stmt *st;
#define FULL_HEAD                                                                                                  \
    "SELECT s.id, s.user_id, s.expires_at, s.last_activity_at, u.email, u.name, u.is_owner, u.is_active, u.status, " \
    "u.customer_id, u.user_type, u.locked_until, s.last_activity_at, s.ip_address, st.session_timeout_minutes, "     \
    "st.ip_binding_enabled, s.access_expires_at, s.mfa_enrolment_only"
#define FULL_TAIL                                                                                                  \
    " FROM user_sessions s JOIN users u ON u.id = s.user_id LEFT JOIN security_settings st ON st.scope = 'tenant' "  \
    "WHERE s.session_token = ? AND s.terminated_at IS NULL AND s.is_active AND u.deleted_at IS NULL"
    bool want = ctx->limits.want;
    if (ob_db_prepare(c, want ? FULL_HEAD LIMITS_COLS FULL_TAIL : FULL_HEAD FULL_TAIL, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, hash, err);
    int rc = ob_stmt_step(st, err);
    if (rc != 1) {
        ob_stmt_done(st);
        if (rc < 0) return -1;
        return ob_err_set(err, OB_E_UNAUTHENTICATED, "the token is not valid or has been revoked");
    }
    ob_principal *p = ob_arena_zalloc(ctx->arena, sizeof *p);
    p->session_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    p->user_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 1, NULL));
    const char *expires = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 2, NULL) ? ob_stmt_col_text(st, 2, NULL) : "");
    bool expired = !*expires || strcmp(expires, ctx->now) <= 0;
    live_session ls;
    live_read(ctx, st, 12, &ls);
    const char *access = ob_stmt_col_text(st, 16, NULL);
    bool access_over = access && strcmp(access, ctx->now) <= 0;
    p->enrol_only = ob_stmt_col_i64(st, 17) != 0;
    if (want) limits_read(ctx, st, 18);
    if (access && strcmp(access, expires) < 0) expires = ob_arena_strdup(ctx->arena, access);
    p->email = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 4, NULL));
    p->name = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 5, NULL));
    p->is_owner = ob_stmt_col_i64(st, 6) != 0;
    bool active = ob_stmt_col_i64(st, 7) != 0 && strcmp(ob_stmt_col_text(st, 8, NULL), "active") == 0;
    const char *cid = ob_stmt_col_text(st, 9, NULL);
    const char *utype = ob_stmt_col_text(st, 10, NULL);
    const char *locked = ob_stmt_col_text(st, 11, NULL);
    bool is_locked = locked && strcmp(locked, ctx->now) > 0;
    bool customer_type = utype && strcmp(utype, "customer") == 0;
    cid = cid ? ob_arena_strdup(ctx->arena, cid) : NULL;
    ob_stmt_done(st);
    if (expired) return ob_err_set(err, OB_E_UNAUTHENTICATED, "the session has expired");
    if (access_over)
        return ob_err_set(err, OB_E_UNAUTHENTICATED,
                          "the token has expired: POST /api/v1/auth/refresh with the refresh token for a new one");
    if (!active || is_locked) return ob_err_set(err, OB_E_UNAUTHENTICATED, "the account is not active");
    if (enforce(ctx, ti, p->session_id, p->user_id, &ls, err) != 0) return -1;
    if (ob_rbac_load(ctx, p->user_id, p, err) != 0) return -1;
    if (ob_principal_confined(p, customer_type))
        /* confined without a customer: a customer id no row has, so nothing matches */
        p->customer_id = cid ? cid : "00000000-0000-0000-0000-000000000000";
    ctx->who = p;
    int64_t expires_ms;
    if (ob_ts_parse(expires, &expires_ms) == 0) ob_pcache_put(hash, ti, p, expires_ms, ctx->now_ms, epoch);
    return 0;
}

int ob_session_logout(ob_ctx *ctx, ob_err *err)
{
    ob_value v[] = {ob_v_text(ctx->now), ob_v_text(ctx->who->user_id), ob_v_bool(false), ob_v_text(ctx->who->session_id)};
    if (ob_sql_run(ctx->db,
                    "UPDATE user_sessions SET terminated_at = ?, terminated_by = ?, is_active = ?, "
                    "termination_reason = 'user_logout' WHERE id = ?",
                    v, 4, err) != 0)
        return -1;
    ob_value r[] = {ob_v_text(ctx->now), ob_v_text(ctx->who->session_id)};
    if (ob_sql_run(ctx->db, "UPDATE refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL", r,
                   2, err) != 0)
        return -1;
    ob_registry_auth_changed(); /* the cached principal of this token must go */
    return ob_audit_event(ctx, "logout", "users", ctx->who->user_id, ctx->who->user_id, NULL, err);
}

/* The tenant slug of a "<prefix><slug>_<random>" token (arena), or NULL. */
char *ob_session_token_slug(ob_ctx *ctx, const char *tok, const char *prefix)
{
    size_t n = strlen(tok), pn = strlen(prefix);
    if (n < pn + 45 || n > 200 || strncmp(tok, prefix, pn) != 0) return NULL;
    const char *start = tok + pn, *us = strchr(start, '_');
    if (!us || us == start) return NULL;
    return ob_arena_strndup(ctx->arena, start, (size_t)(us - start));
}

/* Reuse of a spent refresh token: someone else holds a copy. Every token of
 * the sign-in is revoked and its session ends. */
static int revoke_family(ob_ctx *ctx, const char *uid, const char *sid, ob_err *err)
{
    ob_value r[] = {ob_v_text(ctx->now), ob_v_text(sid)};
    ob_value s[] = {ob_v_text(ctx->now), ob_v_bool(false), ob_v_text(sid)};
    if (ob_sql_run(ctx->db, "UPDATE refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL", r,
                   2, err) != 0 ||
        ob_sql_run(ctx->db,
                   "UPDATE user_sessions SET terminated_at = ?, is_active = ?, termination_reason = "
                   "'refresh_token_reuse' WHERE id = ? AND terminated_at IS NULL",
                   s, 3, err) != 0)
        return -1;
    ob_registry_auth_changed();
    return ob_policy_violation(ctx, uid, "refresh_token_reuse", "high",
                               "a refresh token was presented again after it had been exchanged: every token of its "
                               "sign-in was revoked",
                               err);
}

/* In the write transaction: the refresh row of hash, checked and rotated. */
static int rotate(ob_ctx *ctx, const char *hash, ob_login *out, bool *reused, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT t.id, t.user_id, t.session_id, t.expires_at, t.revoked_at, t.replaced_at, s.expires_at, "
                      "s.last_activity_at, s.terminated_at, u.is_active, u.status, u.locked_until FROM refresh_tokens t "
                      "JOIN user_sessions s ON s.id = t.session_id JOIN users u ON u.id = t.user_id WHERE "
                      "t.token_hash = ? AND u.deleted_at IS NULL",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, hash, err);
    int rc = ob_stmt_step(st, err);
    if (rc != 1) {
        ob_stmt_done(st);
        return rc < 0 ? -1 : ob_err_set(err, OB_E_UNAUTHENTICATED, "the refresh token is not valid");
    }
    const char *col[12];
    for (int i = 0; i < 12; i++) {
        const char *v = i == 9 ? NULL : ob_stmt_col_text(st, i, NULL);
        col[i] = v ? ob_arena_strdup(ctx->arena, v) : NULL;
    }
    bool user_active = ob_stmt_col_i64(st, 9) != 0 && col[10] && strcmp(col[10], "active") == 0;
    ob_stmt_done(st);
    const char *id = col[0], *uid = col[1], *sid = col[2];
    if (col[5]) {
        if (revoke_family(ctx, uid, sid, err) != 0) return -1;
        *reused = true; /* the revocation is committed with the refusal */
        return ob_err_set(err, OB_E_UNAUTHENTICATED,
                          "the refresh token was already used: its sign-in has been ended");
    }
    if (col[4] || col[8] || strcmp(col[3], ctx->now) <= 0 || strcmp(col[6], ctx->now) <= 0 || !user_active ||
        (col[11] && strcmp(col[11], ctx->now) > 0))
        return ob_err_set(err, OB_E_UNAUTHENTICATED, "the refresh token has expired or its session has ended");
    ob_session_policy pol;
    if (ob_policy_load(ctx, &pol, err) != 0) return -1;
    int64_t last_ms;
    if (col[7] && ob_ts_parse(col[7], &last_ms) == 0 && ctx->now_ms - last_ms >= pol.idle_ms) {
        ob_value v[] = {ob_v_text(ctx->now), ob_v_bool(false), ob_v_text(sid)};
        if (ob_sql_run(ctx->db,
                       "UPDATE user_sessions SET terminated_at = ?, is_active = ?, termination_reason = 'idle_timeout' "
                       "WHERE id = ?",
                       v, 3, err) != 0)
            return -1;
        *reused = true; /* the ending is committed with the refusal */
        return ob_err_set(err, OB_E_UNAUTHENTICATED, "the session has expired after a period of inactivity");
    }
    char access_hash[65];
    out->token = new_token(ctx, TOKEN_PREFIX, out->tenant_info->slug, access_hash);
    snprintf(out->session_expires_at, OB_TS_LEN, "%s", col[6]);
    access_expiry(ctx, &pol, out->session_expires_at, out->expires_at);
    ob_value s[] = {ob_v_text(access_hash), ob_v_text(out->expires_at), ob_v_text(ctx->now), ob_v_text(sid)};
    ob_value t[] = {ob_v_text(ctx->now), ob_v_text(id)};
    if (ob_sql_run(ctx->db,
                   "UPDATE user_sessions SET session_token = ?, access_expires_at = ?, last_activity_at = ? WHERE id = ?",
                   s, 4, err) != 0 ||
        ob_sql_run(ctx->db, "UPDATE refresh_tokens SET replaced_at = ? WHERE id = ?", t, 2, err) != 0)
        return -1;
    return issue_refresh(ctx, out->tenant_info->slug, uid, sid, out->session_expires_at, &out->refresh_token, err);
}

int ob_session_refresh(ob_ctx *ctx, const char *refresh_token, ob_login *out, ob_err *err)
{
    char *slug = ob_session_token_slug(ctx, refresh_token, REFRESH_PREFIX);
    if (!slug) return ob_err_set(err, OB_E_UNAUTHENTICATED, "the refresh token is not valid");
    if (ob_session_find_tenant(ctx, slug, &out->tenant_info, err) != 0)
        return err->code == OB_E_NOT_FOUND ? ob_err_set(err, OB_E_UNAUTHENTICATED, "the refresh token is not valid")
                                           : -1;
    ctx->tenant = out->tenant_info;
    char hash[65];
    ob_token_hash(refresh_token, strlen(refresh_token), hash);
    ob_conn *c;
    if (ob_db_acquire(ctx->store, out->tenant_info->slug, out->tenant_info->id, OB_DB_WRITE, &c, err) != 0) return -1;
    ctx->db = c;
    /* one write transaction: two exchanges of one token queue on the
     * tenant's write lock, and the second is a reuse */
    bool keep = false;
    int rc = ob_db_begin(c, err);
    if (rc == 0) rc = rotate(ctx, hash, out, &keep, err);
    if (rc == 0 || keep) {
        ob_err failed = *err;
        int crc = ob_db_commit(c, err);
        if (crc == 0 && rc != 0) *err = failed;
        if (crc != 0) rc = -1;
    } else {
        ob_db_rollback(c);
    }
    ob_db_release(c);
    ctx->db = NULL;
    return rc;
}
