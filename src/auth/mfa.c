/* mfa.c - TOTP enrolment, sign-in challenges and their verification. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/mfa.h"
#include "auth/password.h"
#include "auth/throttle.h"
#include "auth/totp.h"
#include "db/secrets.h"
#include "base/base.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define CHALLENGE_PREFIX "obm_"

typedef struct mfa_state {
    const char *secret, *codes, *email, *password_hash;
    bool enabled, sealed;
    int64_t last_step; /* -1: none yet */
} mfa_state;

static int load_state(ob_ctx *ctx, const char *user_id, mfa_state *m, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT mfa_enabled, mfa_secret, mfa_last_step, mfa_recovery_codes, email, password_hash FROM users "
                      "WHERE id = ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, user_id, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        m->enabled = ob_stmt_col_i64(st, 0) != 0;
        const char *v = ob_stmt_col_text(st, 1, NULL);
        m->secret = v ? ob_arena_strdup(ctx->arena, v) : NULL;
        m->sealed = v && ob_secret_looks_sealed(v, strlen(v));
        m->last_step = ob_stmt_col_type(st, 2) == OB_V_NULL ? -1 : ob_stmt_col_i64(st, 2);
        v = ob_stmt_col_text(st, 3, NULL);
        m->codes = v ? ob_arena_strdup(ctx->arena, v) : NULL;
        v = ob_stmt_col_text(st, 4, NULL);
        m->email = v ? ob_arena_strdup(ctx->arena, v) : NULL;
        v = ob_stmt_col_text(st, 5, NULL);
        m->password_hash = v ? ob_arena_strdup(ctx->arena, v) : NULL;
    }
    ob_stmt_done(st);
    if (rc == 1 && m->sealed) {
        /* users.mfa_secret is sealed at rest (OB_ENCRYPTED): read here by
         * hand, so opened here as the engine's row load would */
        ob_sb plain;
        ob_sb_init_arena(&plain, ctx->arena, 64);
        if (ob_secret_open(&plain, ctx->tenant->slug, "users", user_id, "mfa_secret", m->secret, strlen(m->secret),
                           err) != 0)
            return -1;
        m->secret = plain.buf;
    }
    return rc < 0 ? -1 : rc == 1 ? 0 : ob_err_set(err, OB_E_NOT_FOUND, NULL);
}

/* A TOTP code of m's secret at now, later than the last accepted: its step
 * is stored. 1 accepted, 0 refused, -1 error. */
static int take_code(ob_ctx *ctx, const char *user_id, const mfa_state *m, const char *code, ob_err *err)
{
    if (!m->secret) return 0;
    int64_t step = ob_totp_check(m->secret, code, ctx->now_ms / 1000, 1, m->last_step);
    if (step < 0) return 0;
    ob_value v[] = {ob_v_int(step), ob_v_text(user_id)};
    return ob_sql_run(ctx->db, "UPDATE users SET mfa_last_step = ? WHERE id = ?", v, 2, err) != 0 ? -1 : 1;
}

/* A recovery code among m's hashes: it is struck off. 1, 0 or -1. */
static int take_recovery(ob_ctx *ctx, const char *user_id, const mfa_state *m, const char *code, ob_err *err)
{
    if (!m->codes) return 0;
    char hash[65], quoted[70];
    ob_token_hash(code, strlen(code), hash);
    snprintf(quoted, sizeof quoted, "\"%s\"", hash);
    const char *at = strstr(m->codes, quoted);
    if (!at) return 0;
    /* the stored value is ["h1","h2",...]: drop the entry and one comma */
    ob_sb rest;
    ob_sb_init_arena(&rest, ctx->arena, strlen(m->codes));
    size_t head = (size_t)(at - m->codes), tail = head + strlen(quoted);
    if (m->codes[tail] == ',') tail++;
    else if (head > 1 && m->codes[head - 1] == ',') head--;
    ob_sb_add(&rest, m->codes, head);
    ob_sb_add(&rest, m->codes + tail, strlen(m->codes + tail));
    ob_value v[] = {ob_v_text(rest.buf), ob_v_text(user_id)};
    return ob_sql_run(ctx->db, "UPDATE users SET mfa_recovery_codes = ? WHERE id = ?", v, 2, err) != 0 ? -1 : 1;
}

int ob_mfa_enroll(ob_ctx *ctx, const char *password, const char **secret, const char **uri, ob_err *err)
{
    mfa_state m;
    if (load_state(ctx, ctx->who->user_id, &m, err) != 0) return -1;
    if (!m.password_hash || !ob_password_verify(m.password_hash, password))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the password is wrong");
    if (m.enabled)
        return ob_err_set(err, OB_E_BAD_STATE, "MFA is already enabled: disable it first to enrol a new device");
    char b32[OB_TOTP_B32_LEN + 1];
    ob_totp_new_secret(b32);
    *secret = ob_arena_strdup(ctx->arena, b32);
    *uri = ob_totp_uri(ctx->arena, "opsbase", m.email, b32);
    /* sealed as the engine seals users.mfa_secret (OB_ENCRYPTED): written here by hand */
    ob_sb sealed;
    ob_sb_init_arena(&sealed, ctx->arena, 128);
    if (ob_secret_seal(&sealed, ctx->tenant->slug, "users", ctx->who->user_id, "mfa_secret", b32, strlen(b32), err) !=
        0)
        return -1;
    ob_value v[] = {ob_v_text(sealed.buf), ob_v_text(ctx->who->user_id)};
    if (ob_sql_run(ctx->db, "UPDATE users SET mfa_secret = ?, mfa_last_step = NULL WHERE id = ?", v, 2, err) != 0)
        return -1;
    return ob_audit_event(ctx, "mfa_enroll", "users", ctx->who->user_id, ctx->who->user_id, NULL, err);
}

int ob_mfa_confirm(ob_ctx *ctx, const char *code, const char *codes[OB_MFA_RECOVERY_CODES], ob_err *err)
{
    const char *uid = ctx->who->user_id;
    mfa_state m;
    if (load_state(ctx, uid, &m, err) != 0) return -1;
    if (m.enabled) return ob_err_set(err, OB_E_BAD_STATE, "MFA is already enabled");
    if (!m.secret) return ob_err_set(err, OB_E_BAD_STATE, "enrol first: POST /api/v1/auth/mfa/enroll");
    int ok = take_code(ctx, uid, &m, code, err);
    if (ok < 0) return -1;
    if (!ok) return ob_err_set(err, OB_E_UNPROCESSABLE, "the code does not match the enrolled secret");
    ob_sb hashes;
    ob_sb_init_arena(&hashes, ctx->arena, 700);
    ob_sb_add(&hashes, "[", 1);
    for (int i = 0; i < OB_MFA_RECOVERY_CODES; i++) {
        ob_sb c;
        ob_sb_init_arena(&c, ctx->arena, 24);
        ob_random_b64url(&c, 9); /* 72 bits, 12 characters */
        codes[i] = c.buf;
        char hash[65];
        ob_token_hash(c.buf, c.len, hash);
        ob_sb_addf(&hashes, "%s\"%s\"", i ? "," : "", hash);
    }
    ob_sb_add(&hashes, "]", 1);
    ob_value v[] = {ob_v_bool(true), ob_v_text(hashes.buf), ob_v_text(uid)};
    if (ob_sql_run(ctx->db, "UPDATE users SET mfa_enabled = ?, mfa_recovery_codes = ? WHERE id = ?", v, 3, err) != 0)
        return -1;
    /* an enrol-only session stays so: the user signs in again, with the code */
    ob_registry_auth_changed();
    return ob_audit_event(ctx, "mfa_enable", "users", uid, uid, NULL, err);
}

int ob_mfa_disable(ob_ctx *ctx, const char *code, ob_err *err)
{
    const char *uid = ctx->who->user_id;
    mfa_state m;
    if (load_state(ctx, uid, &m, err) != 0) return -1;
    if (!m.enabled) return ob_err_set(err, OB_E_BAD_STATE, "MFA is not enabled");
    int ok = take_code(ctx, uid, &m, code, err);
    if (ok < 0) return -1;
    if (!ok) return ob_err_set(err, OB_E_UNPROCESSABLE, "the code is wrong or was already used");
    ob_value v[] = {ob_v_bool(false), ob_v_text(uid)};
    if (ob_sql_run(ctx->db,
                   "UPDATE users SET mfa_enabled = ?, mfa_secret = NULL, mfa_last_step = NULL, "
                   "mfa_recovery_codes = NULL WHERE id = ?",
                   v, 2, err) != 0)
        return -1;
    return ob_audit_event(ctx, "mfa_disable", "users", uid, uid, NULL, err);
}

int ob_mfa_challenge(ob_ctx *ctx, ob_tenant_info *ti, const char *user_id, const char *email,
                     const char **challenge, ob_err *err)
{
    ob_sb tok;
    ob_sb_init_arena(&tok, ctx->arena, 96);
    ob_sb_addf(&tok, CHALLENGE_PREFIX "%s_", ti->slug);
    ob_random_b64url(&tok, 32);
    char hash[65], id[OB_UUID_LEN], expires[OB_TS_LEN];
    ob_token_hash(tok.buf, tok.len, hash);
    ob_uuid7(id);
    ob_ts_format(ctx->now_ms + OB_MFA_CHALLENGE_MS, expires);
    ob_conn *c;
    if (ob_db_acquire(ctx->store, ti->slug, ti->id, OB_DB_WRITE, &c, err) != 0) return -1;
    ctx->db = c;
    ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(user_id), ob_v_text(hash), ob_v_text(expires),
                    ob_v_text(ctx->ip)};
    int rc = ob_db_begin(c, err);
    if (rc == 0)
        rc = ob_sql_run(c,
                        "INSERT INTO mfa_challenges (id, created_at, user_id, challenge_hash, expires_at, "
                        "failed_attempts, ip_address) VALUES (?, ?, ?, ?, ?, 0, ?)",
                        v, 6, err);
    if (rc == 0) rc = ob_throttle_refund(ctx, email, ctx->ip, err);
    if (rc == 0) rc = ob_audit_event(ctx, "login_mfa_challenge", "users", user_id, user_id, NULL, err);
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    ctx->db = NULL;
    if (rc == 0) *challenge = tok.buf;
    return rc;
}

/* In the write transaction: the challenge answered. 1 passed, 0 refused (the
 * refusal is to be committed), -1 error. */
static int answer(ob_ctx *ctx, const char *hash, const char *code, const char *recovery, const char **uid,
                  const char **email, int64_t *retry_ms, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT c.id, c.user_id, c.expires_at, c.failed_attempts, c.ended_at FROM mfa_challenges c "
                      "WHERE c.challenge_hash = ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, hash, err);
    int rc = ob_stmt_step(st, err);
    const char *cid = NULL, *expires = NULL;
    bool ended = true;
    int64_t fails = 0;
    if (rc == 1) {
        cid = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        *uid = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 1, NULL));
        expires = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 2, NULL));
        fails = ob_stmt_col_i64(st, 3);
        ended = ob_stmt_col_type(st, 4) != OB_V_NULL;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (rc == 0 || ended || strcmp(expires, ctx->now) <= 0) {
        ob_err_set(err, OB_E_UNAUTHENTICATED, "the challenge is not valid, was used or has expired: sign in again");
        return -1;
    }
    mfa_state m;
    if (load_state(ctx, *uid, &m, err) != 0) return -1;
    *email = m.email;
    /* a code is a guess like a password: it claims an attempt of the same
     * account and address counters (throttle.h), so a known password does
     * not buy five fresh guesses per challenge; a blocked claim is refused
     * before the code is looked at, and costs the challenge nothing */
    if (ob_throttle_claim(ctx, m.email, ctx->ip, retry_ms, err) != 0) return -1;
    if (*retry_ms > 0) {
        if (ob_audit_event(ctx, "login_failed", "users", *uid, *uid, "{\"reason\":\"rate_limited\",\"step\":\"mfa\"}",
                           err) != 0)
            return -1;
        ob_err_set(err, OB_E_RATE_LIMITED, "too many sign-in attempts: try again in %lld s",
                   (long long)((*retry_ms + 999) / 1000));
        return 0;
    }
    int ok = !m.enabled ? 0 : code ? take_code(ctx, *uid, &m, code, err) : take_recovery(ctx, *uid, &m, recovery, err);
    if (ok < 0) return -1;
    if (!ok) {
        /* counted and audited as a wrong password is (session.c) */
        ob_value u[] = {ob_v_text(*uid)};
        if (ob_sql_run(ctx->db, "UPDATE users SET failed_login_attempts = failed_login_attempts + 1 WHERE id = ?", u,
                       1, err) != 0 ||
            ob_audit_event(ctx, "login_failed", "users", *uid, *uid,
                           code ? "{\"reason\":\"bad_mfa_code\"}" : "{\"reason\":\"bad_recovery_code\"}", err) != 0)
            return -1;
    }
    bool over = !ok && fails + 1 >= OB_MFA_MAX_FAILURES;
    ob_value v[] = {ob_v_int(ok ? fails : fails + 1), ob_v_text(ok || over ? ctx->now : NULL), ob_v_text(cid)};
    if (ob_sql_run(ctx->db, "UPDATE mfa_challenges SET failed_attempts = ?, ended_at = ? WHERE id = ?", v, 3, err) != 0)
        return -1;
    if (ok) return 1;
    ob_err_set(err, OB_E_UNAUTHENTICATED, over ? "the code is wrong; too many wrong codes: sign in again"
                                               : "the code is wrong or was already used");
    return 0;
}

int ob_mfa_verify(ob_ctx *ctx, const char *challenge, const char *code, const char *recovery_code, ob_login *out,
                  ob_err *err)
{
    if (!code == !recovery_code) {
        ob_err_set(err, OB_E_VALIDATION, "give either \"code\" or \"recovery_code\"");
        ob_err_field_add(err, code ? "recovery_code" : "code", "exactly one of code and recovery_code");
        err->code = OB_E_VALIDATION;
        return -1;
    }
    const char *slug = ob_session_token_slug(ctx, challenge, CHALLENGE_PREFIX);
    if (!slug) return ob_err_set(err, OB_E_UNAUTHENTICATED, "the challenge is not valid");
    if (ob_session_find_tenant(ctx, slug, &out->tenant_info, err) != 0)
        return err->code == OB_E_NOT_FOUND ? ob_err_set(err, OB_E_UNAUTHENTICATED, "the challenge is not valid") : -1;
    ctx->tenant = out->tenant_info;
    char hash[65];
    ob_token_hash(challenge, strlen(challenge), hash);
    ob_conn *c;
    if (ob_db_acquire(ctx->store, out->tenant_info->slug, out->tenant_info->id, OB_DB_WRITE, &c, err) != 0) return -1;
    ctx->db = c;
    const char *uid = NULL, *email = NULL;
    int64_t retry_ms = 0;
    int rc = ob_db_begin(c, err);
    int passed = rc == 0 ? answer(ctx, hash, code, recovery_code, &uid, &email, &retry_ms, err) : -1;
    if (passed >= 0) {
        ob_err refused = *err;
        if (ob_db_commit(c, err) != 0) passed = -1;
        else if (passed == 0) *err = refused;
    } else {
        ob_db_rollback(c);
    }
    ob_db_release(c);
    ctx->db = NULL;
    out->retry_after_s = (retry_ms + 999) / 1000;
    if (passed != 1) return -1;
    out->email = email;
    return ob_session_open(ctx, out, uid, err);
}
