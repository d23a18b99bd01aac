/* admins.c - super admins, their two-step sign-in and bearer tokens
 * (admins.h). Every statement runs on the control database. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "base/base.h"
#include "platform/admins.h"
#include "platform/tenants.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"

#define CHALLENGE_PREFIX "obc_"
#define TOKEN_PREFIX "obp_"
#define TOTP_ISSUER "opsbase platform"

int ob_super_admin_create(ob_store *s, const char *email, const char *name, const char *password,
                          char generated[32], ob_err *err)
{
    if (!password) {
        ob_password_generate(generated);
        password = generated;
    }
    if (ob_password_check(password, err) != 0) return -1;
    char hash[OB_PASSWORD_HASH_MAX];
    if (ob_password_hash(password, hash, err) != 0) return -1;
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_conn *c;
    int rc = ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err);
    if (rc != 0) goto out;
    ob_ctx ctx;
    ob_ctx_system(&ctx, &a, s, c, NULL);
    const ob_table *t = ob_registry_find(OB_TABLE_SUPER_ADMINS);
    ob_row *row = ob_row_new(&a, t);
    const char *lower = ob_text_lower(&a, email, strlen(email), NULL);
    json_t *body = json_pack("{s:s, s:s}", "email", lower, "name", name ? name : lower);
    rc = ob_db_begin(c, err);
    if (rc == 0) rc = ob_validate_body(&ctx, t, body, row, true, err);
    json_decref(body);
    if (rc == 0) {
        ob_row_set_text(&a, row, SUPER_ADMINS_PASSWORD_HASH, hash);
        rc = ob_crud_insert_row(&ctx, row, err);
        if (rc != 0 && err->code == OB_E_CONFLICT)
            ob_err_set(err, OB_E_CONFLICT, "a super admin \"%.100s\" exists already", lower);
    }
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
out:
    sodium_memzero(hash, sizeof hash);
    ob_arena_release(&a);
    return rc;
}

static int bad(ob_err *err)
{
    return ob_err_set(err, OB_E_BAD_CREDENTIALS, NULL);
}

/* Set once by serve before the workers start, read-only afterwards. */
static int64_t lock_max = 5, lock_ms = 15LL * 60 * 1000;

void ob_platform_lockout_configure(int64_t max_failures, int64_t lockout_ms)
{
    lock_max = max_failures;
    lock_ms = lockout_ms;
}

/* A platform audit row of the sign-in, on c (a write transaction); admin_id
 * NULL for an unknown e-mail, whose text is not kept. */
static int audit_signin(ob_ctx *ctx, ob_conn *c, const char *action, const char *admin_id, const char *json,
                        ob_err *err)
{
    ob_conn *was = ctx->db;
    ctx->db = c;
    int rc = ob_audit_platform_event(ctx, action, "super_admins", admin_id, json, err);
    ctx->db = was;
    return rc;
}

/* In the write transaction on c: one more failed step of admin_id; the
 * max-th locks the account and ends its pending challenges. */
static int admin_failed(ob_ctx *ctx, ob_conn *c, const char *admin_id, const char *reason, ob_err *err)
{
    ob_value v[] = {ob_v_text(ctx->now), ob_v_text(admin_id)};
    if (ob_sql_run(c,
                   "UPDATE super_admins SET failed_login_attempts = failed_login_attempts + 1, updated_at = ?, "
                   "version = version + 1 WHERE id = ?",
                   v, 2, err) != 0)
        return -1;
    ob_stmt *st;
    if (ob_db_prepare(c, "SELECT failed_login_attempts FROM super_admins WHERE id = ?", &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, admin_id, err);
    int rc = ob_stmt_step(st, err);
    int64_t fails = rc == 1 ? ob_stmt_col_i64(st, 0) : 0;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    const char *json = ob_arena_printf(ctx->arena, "{\"reason\":\"%s\",\"failures\":%lld}", reason,
                                       (long long)fails);
    if (audit_signin(ctx, c, "login_failed", admin_id, json, err) != 0) return -1;
    if (fails < lock_max) return 0;
    char until[OB_TS_LEN];
    ob_ts_format(ctx->now_ms + lock_ms, until);
    ob_value l[] = {ob_v_text(until), ob_v_text(admin_id)};
    ob_value e[] = {ob_v_text(ctx->now), ob_v_text(admin_id)};
    if (ob_sql_run(c, "UPDATE super_admins SET locked_until = ?, failed_login_attempts = 0 WHERE id = ?", l, 2,
                   err) != 0 ||
        ob_sql_run(c,
                   "UPDATE platform_sessions SET stage = 'ended', updated_at = ?, version = version + 1 "
                   "WHERE super_admin_id = ? AND stage = 'mfa_pending'",
                   e, 2, err) != 0)
        return -1;
    json = ob_arena_printf(ctx->arena, "{\"failures\":%lld,\"locked_until\":\"%s\"}", (long long)fails, until);
    return audit_signin(ctx, c, "login_lockout", admin_id, json, err);
}

/* A failed step recorded in a write transaction of its own. */
static int record_failure(ob_ctx *ctx, const char *admin_id, const char *reason, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    int rc = ob_db_begin(c, err);
    if (rc == 0)
        rc = admin_id ? admin_failed(ctx, c, admin_id, reason, err)
                      : audit_signin(ctx, c, "login_failed", NULL, "{\"reason\":\"unknown_admin\"}", err);
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    return rc;
}

/* A sign-in step refused during a lockout: audited, not counted. */
static int record_refusal(ob_ctx *ctx, const char *admin_id, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    int rc = ob_db_begin(c, err);
    if (rc == 0) rc = audit_signin(ctx, c, "login_failed", admin_id, "{\"reason\":\"locked\"}", err);
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    return rc;
}

/* OB_E_LOCKED while locked_until (a timestamp text or NULL) is ahead. */
static bool locked_out(ob_ctx *ctx, const char *locked_until, int64_t *retry_after_s, ob_err *err)
{
    int64_t until;
    if (!locked_until || ob_ts_parse(locked_until, &until) != 0 || until <= ctx->now_ms) return false;
    *retry_after_s = (until - ctx->now_ms + 999) / 1000;
    ob_err_set(err, OB_E_LOCKED, "too many failed sign-ins: the account is locked for %lld s",
               (long long)*retry_after_s);
    return true;
}

/* A random credential with its prefix, and the hash stored for it. */
static const char *new_secret_token(ob_arena *a, const char *prefix, char hash[65])
{
    ob_sb tok;
    ob_sb_init_arena(&tok, a, 64);
    ob_sb_adds(&tok, prefix);
    ob_random_b64url(&tok, 32);
    ob_token_hash(tok.buf, tok.len, hash);
    return tok.buf;
}

int ob_platform_login_start(ob_ctx *ctx, const char *email, const char *password, ob_platform_login *out,
                            ob_err *err)
{
    memset(out, 0, sizeof *out);
    ob_conn *c;
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    ob_stmt *st;
    int found = -1;
    const char *id = NULL, *hash = NULL, *locked = NULL;
    bool mfa = false;
    if (ob_db_prepare(c,
                      "SELECT id, password_hash, mfa_enabled, locked_until FROM super_admins WHERE email = ? AND "
                      "is_active = ?",
                      &st, err) == 0) {
        ob_stmt_bind_text(st, 1, ob_text_lower(ctx->arena, email, strlen(email), NULL), err);
        ob_value on = ob_v_bool(true);
        ob_stmt_bind(st, 2, &on, err);
        found = ob_stmt_step(st, err);
        if (found == 1) {
            id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
            hash = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 1, NULL));
            mfa = ob_stmt_col_i64(st, 2) != 0;
            const char *l = ob_stmt_col_text(st, 3, NULL);
            locked = l ? ob_arena_strdup(ctx->arena, l) : NULL;
        }
        ob_stmt_done(st);
    }
    ob_db_release(c);
    if (found < 0) return -1;
    /* the password check outside any write lock, as long for an unknown admin */
    if (found == 0) {
        ob_password_dummy_verify(password);
        return record_failure(ctx, NULL, NULL, err) != 0 ? -1 : bad(err);
    }
    /* verified even when locked, so a locked account answers as slowly */
    bool ok = ob_password_verify(hash, password);
    if (locked_out(ctx, locked, &out->retry_after_s, err)) {
        ob_err refused = *err;
        if (record_refusal(ctx, id, err) != 0) return -1;
        *err = refused;
        return -1;
    }
    if (!ok) return record_failure(ctx, id, "bad_password", err) != 0 ? -1 : bad(err);
    char th[65], sid[OB_UUID_LEN], secret[OB_TOTP_B32_LEN + 1] = {0};
    out->challenge = new_secret_token(ctx->arena, CHALLENGE_PREFIX, th);
    ob_uuid7(sid);
    ob_ts_format(ctx->now_ms + OB_PLATFORM_CHALLENGE_TTL_MS, out->expires_at);
    if (!mfa) {
        ob_totp_new_secret(secret);
        out->enrol_secret = ob_arena_strdup(ctx->arena, secret);
        out->enrol_uri = ob_totp_uri(ctx->arena, TOTP_ISSUER, ob_text_lower(ctx->arena, email, strlen(email), NULL),
                                     secret);
    }
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    ob_value v[] = {ob_v_text(sid),         ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(id),
                    ob_v_text(th),          ob_v_text(mfa ? NULL : secret),      ob_v_text(ctx->ip),
                    ob_v_text(out->expires_at)};
    int rc = ob_db_begin(c, err);
    if (rc == 0)
        rc = ob_sql_run(c,
                        "INSERT INTO platform_sessions (id, created_at, updated_at, version, super_admin_id, "
                        "token_hash, stage, enrol_secret, failed_codes, ip_address, expires_at) "
                        "VALUES (?, ?, ?, 1, ?, ?, 'mfa_pending', ?, 0, ?, ?)",
                        v, 8, err);
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

/* The challenge's row, in the write transaction on c. 1 found, 0 not, -1. */
typedef struct pending {
    const char *id, *admin_id, *email, *enrol_secret, *mfa_secret, *locked_until;
    int64_t failed, last_step;
    bool mfa_enabled;
} pending;

static int load_pending(ob_ctx *ctx, ob_conn *c, const char *hash, pending *p, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(c,
                      "SELECT s.id, s.super_admin_id, a.email, s.enrol_secret, a.mfa_secret, s.failed_codes, "
                      "COALESCE(a.mfa_last_step, -1), a.mfa_enabled, a.locked_until FROM platform_sessions s "
                      "JOIN super_admins a ON a.id = s.super_admin_id "
                      "WHERE s.token_hash = ? AND s.stage = 'mfa_pending' AND s.expires_at > ? AND a.is_active = ?",
                      &st, err) != 0)
        return -1;
    ob_value on = ob_v_bool(true);
    ob_stmt_bind_text(st, 1, hash, err);
    ob_stmt_bind_text(st, 2, ctx->now, err);
    ob_stmt_bind(st, 3, &on, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        const char *s;
        p->id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        p->admin_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 1, NULL));
        p->email = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 2, NULL));
        p->enrol_secret = (s = ob_stmt_col_text(st, 3, NULL)) ? ob_arena_strdup(ctx->arena, s) : NULL;
        p->mfa_secret = (s = ob_stmt_col_text(st, 4, NULL)) ? ob_arena_strdup(ctx->arena, s) : NULL;
        p->failed = ob_stmt_col_i64(st, 5);
        p->last_step = ob_stmt_col_i64(st, 6);
        p->mfa_enabled = ob_stmt_col_i64(st, 7) != 0;
        p->locked_until = (s = ob_stmt_col_text(st, 8, NULL)) ? ob_arena_strdup(ctx->arena, s) : NULL;
    }
    ob_stmt_done(st);
    return rc;
}

/* A wrong or replayed code: counted, and the fifth ends the challenge. */
static int count_bad_code(ob_ctx *ctx, ob_conn *c, const pending *p, ob_err *err)
{
    bool end = p->failed + 1 >= OB_PLATFORM_MAX_BAD_CODES;
    ob_value v[] = {ob_v_text(end ? "ended" : "mfa_pending"), ob_v_text(ctx->now), ob_v_text(p->id)};
    if (ob_sql_run(c,
                   "UPDATE platform_sessions SET failed_codes = failed_codes + 1, stage = ?, updated_at = ?, "
                   "version = version + 1 WHERE id = ?",
                   v, 3, err) != 0)
        return -1;
    /* and a failure of the account, as a wrong password is */
    return admin_failed(ctx, c, p->admin_id, "bad_code", err);
}

static int verify_in(ob_ctx *ctx, ob_conn *c, const char *challenge, const char *code, ob_platform_token *out,
                     bool *counted, ob_err *err)
{
    char ch[65], th[65];
    ob_token_hash(challenge, strlen(challenge), ch);
    pending p = {0};
    int found = load_pending(ctx, c, ch, &p, err);
    if (found <= 0) return found < 0 ? -1 : bad(err);
    if (locked_out(ctx, p.locked_until, &out->retry_after_s, err)) return -1;
    const char *secret = p.mfa_enabled ? p.mfa_secret : p.enrol_secret;
    int64_t step = secret ? ob_totp_check(secret, code, ctx->now_ms / 1000, 1, p.last_step) : -1;
    if (step < 0) {
        *counted = true;
        return count_bad_code(ctx, c, &p, err);
    }
    /* the step is taken in this transaction: a racing request with the same
     * code finds it taken (SQLite serializes, PostgreSQL re-checks the WHERE) */
    ob_value s[] = {ob_v_int(step), ob_v_text(ctx->now), ob_v_text(p.admin_id), ob_v_int(step)};
    if (ob_sql_run(c,
                   "UPDATE super_admins SET mfa_last_step = ?, last_login_at = ?, failed_login_attempts = 0, "
                   "locked_until = NULL, version = version + 1 "
                   "WHERE id = ? AND (mfa_last_step IS NULL OR mfa_last_step < ?)",
                   s, 4, err) != 0)
        return -1;
    if (ob_db_changes(c) != 1) {
        *counted = true;
        return count_bad_code(ctx, c, &p, err);
    }
    if (!p.mfa_enabled) {
        ob_value e[] = {ob_v_text(p.enrol_secret), ob_v_bool(true), ob_v_text(p.admin_id)};
        if (ob_sql_run(c, "UPDATE super_admins SET mfa_secret = ?, mfa_enabled = ? WHERE id = ?", e, 3, err) != 0)
            return -1;
    }
    out->token = new_secret_token(ctx->arena, TOKEN_PREFIX, th);
    ob_ts_format(ctx->now_ms + OB_PLATFORM_SESSION_TTL_MS, out->expires_at);
    out->admin_id = p.admin_id;
    out->email = p.email;
    if (audit_signin(ctx, c, "login", p.admin_id, NULL, err) != 0) return -1;
    ob_value a[] = {ob_v_text(th), ob_v_text(out->expires_at), ob_v_text(ctx->now), ob_v_text(p.id)};
    return ob_sql_run(c,
                      "UPDATE platform_sessions SET token_hash = ?, stage = 'active', enrol_secret = NULL, "
                      "expires_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                      a, 4, err);
}

int ob_platform_mfa_verify(ob_ctx *ctx, const char *challenge, const char *code, ob_platform_token *out,
                           ob_err *err)
{
    memset(out, 0, sizeof *out);
    if (strncmp(challenge, CHALLENGE_PREFIX, strlen(CHALLENGE_PREFIX)) != 0) return bad(err);
    ob_conn *c;
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    bool counted = false;
    int rc = ob_db_begin(c, err);
    if (rc == 0) rc = verify_in(ctx, c, challenge, code, out, &counted, err);
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    /* a refused code is committed as counted, then answered as refused */
    if (rc == 0 && counted) return bad(err);
    return rc;
}

static int unauth(ob_err *err)
{
    return ob_err_set(err, OB_E_UNAUTHENTICATED, "a platform token is required");
}

int ob_platform_authenticate(ob_ctx *ctx, const char *authorization, ob_err *err)
{
    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0) return unauth(err);
    const char *tok = authorization + 7;
    if (strncmp(tok, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 || strlen(tok) > 100) return unauth(err);
    char th[65];
    ob_token_hash(tok, strlen(tok), th);
    ob_conn *c;
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    ob_stmt *st;
    int rc = -1;
    if (ob_db_prepare(c,
                      "SELECT s.id, a.id, a.email, a.name FROM platform_sessions s "
                      "JOIN super_admins a ON a.id = s.super_admin_id "
                      "WHERE s.token_hash = ? AND s.stage = 'active' AND s.expires_at > ? AND a.is_active = ?",
                      &st, err) == 0) {
        ob_value on = ob_v_bool(true);
        ob_stmt_bind_text(st, 1, th, err);
        ob_stmt_bind_text(st, 2, ctx->now, err);
        ob_stmt_bind(st, 3, &on, err);
        rc = ob_stmt_step(st, err);
        if (rc == 1) {
            ob_principal *p = ob_arena_zalloc(ctx->arena, sizeof *p);
            p->session_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
            p->user_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 1, NULL));
            p->email = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 2, NULL));
            p->name = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 3, NULL));
            ctx->who = p;
        }
        ob_stmt_done(st);
    }
    ob_db_release(c);
    if (rc < 0) return -1;
    return rc == 1 ? 0 : unauth(err);
}

int ob_platform_logout(ob_ctx *ctx, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    ob_value v[] = {ob_v_text(ctx->now), ob_v_text(ctx->who->session_id)};
    int rc = ob_db_begin(c, err);
    if (rc == 0)
        rc = ob_sql_run(c, "UPDATE platform_sessions SET stage = 'ended', updated_at = ?, version = version + 1 "
                           "WHERE id = ?", v, 2, err);
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    return rc;
}
