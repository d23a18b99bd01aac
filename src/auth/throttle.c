/* throttle.c - sign-in attempt counters in login_throttles. */
#include <stdio.h>
#include <string.h>

#include "auth/throttle.h"
#include "base/base.h"
#include "schema/sql.h"
#include "base/banned.h"

/* Set once by serve before the workers start, read-only afterwards. */
static ob_throttle_cfg cfg = OB_THROTTLE_DEFAULTS;

void ob_throttle_configure(const ob_throttle_cfg *c)
{
    cfg = *c;
}

ob_throttle_cfg ob_throttle_config(void)
{
    return cfg;
}

typedef struct key_state {
    const char *key;
    const char *scope;     /* "account" or "address", for the violation row */
    int64_t max;
    int64_t failures, strikes, window_ms, blocked_ms; /* blocked_ms 0: not blocked */
    int64_t retry_ms;      /* > 0: this key refuses the attempt */
    bool newly_blocked;
} key_state;

static int64_t ts_or(const char *s, int64_t dflt)
{
    int64_t ms;
    return s && ob_ts_parse(s, &ms) == 0 ? ms : dflt;
}

/* Make sure the key's row exists and read it under the write lock. */
static int load(ob_ctx *ctx, key_state *k, ob_err *err)
{
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_value ins[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(k->key), ob_v_text(ctx->now)};
    if (ob_sql_run(ctx->db,
                   "INSERT INTO login_throttles (id, created_at, throttle_key, failures, window_started_at, strikes) "
                   "VALUES (?, ?, ?, 0, ?, 0) ON CONFLICT (throttle_key) DO NOTHING",
                   ins, 4, err) != 0)
        return -1;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT failures, window_started_at, blocked_until, strikes FROM login_throttles "
                      "WHERE throttle_key = ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, k->key, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        k->failures = ob_stmt_col_i64(st, 0);
        k->window_ms = ts_or(ob_stmt_col_text(st, 1, NULL), ctx->now_ms);
        k->blocked_ms = ts_or(ob_stmt_col_text(st, 2, NULL), 0);
        k->strikes = ob_stmt_col_i64(st, 3);
    }
    ob_stmt_done(st);
    if (rc == 0) return ob_err_set(err, OB_E_INTERNAL, "the throttle row of \"%.60s\" vanished", k->key);
    return rc < 0 ? -1 : 0;
}

/* Decide this attempt for one key, in memory. */
static void decide(ob_ctx *ctx, key_state *k)
{
    int64_t now = ctx->now_ms;
    if (k->blocked_ms > now) {
        k->retry_ms = k->blocked_ms - now;
        return;
    }
    if (k->blocked_ms) {
        /* a block that ended starts a fresh window; strikes stay, so the next block is longer */
        k->failures = 0;
        k->window_ms = k->blocked_ms;
        k->blocked_ms = 0;
    }
    if (now - k->window_ms >= cfg.window_ms) {
        /* a whole window without a block: start over, forgiving earlier blocks too */
        if (k->failures < k->max) k->strikes = 0;
        k->failures = 0;
        k->window_ms = now;
    }
    if (k->failures >= k->max) {
        int64_t delay = cfg.delay_ms;
        for (int64_t i = 0; i < k->strikes && delay < cfg.max_delay_ms; i++) delay *= 2;
        if (delay > cfg.max_delay_ms) delay = cfg.max_delay_ms;
        if (delay < 1) delay = 1;
        k->blocked_ms = now + delay;
        k->strikes++;
        k->retry_ms = delay;
        k->newly_blocked = true;
    }
}

static int store(ob_ctx *ctx, const key_state *k, ob_err *err)
{
    char window[OB_TS_LEN], blocked[OB_TS_LEN];
    ob_ts_format(k->window_ms, window);
    if (k->blocked_ms) ob_ts_format(k->blocked_ms, blocked);
    ob_value v[] = {ob_v_int(k->failures), ob_v_text(window), ob_v_text(k->blocked_ms ? blocked : NULL),
                    ob_v_int(k->strikes),  ob_v_text(ctx->now), ob_v_text(k->key)};
    return ob_sql_run(ctx->db,
                      "UPDATE login_throttles SET failures = ?, window_started_at = ?, blocked_until = ?, strikes = ?, "
                      "last_attempt_at = ? WHERE throttle_key = ?",
                      v, 6, err);
}

/* A new block is a security event an administrator should see. */
static int record_violation(ob_ctx *ctx, const key_state *k, ob_err *err)
{
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    const char *desc = ob_arena_printf(ctx->arena,
                                       "%lld failed sign-ins for %s \"%.255s\": sign-in blocked for %lld s",
                                       (long long)k->max, k->scope, strchr(k->key, ':') + 1,
                                       (long long)((k->retry_ms + 999) / 1000));
    const char *meta = ob_arena_printf(ctx->arena, "{\"scope\":\"%s\",\"strikes\":%lld,\"retry_after_ms\":%lld}",
                                       k->scope, (long long)k->strikes, (long long)k->retry_ms);
    const char *ua = ctx->user_agent ? ob_arena_strndup(ctx->arena, ctx->user_agent, 1000) : NULL;
    /* an account block names the user when the account exists */
    bool account = strcmp(k->scope, "account") == 0;
    ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(account ? strchr(k->key, ':') + 1 : ""),
                    ob_v_text("rate_limit_exceeded"), ob_v_text(desc),
                    ob_v_text(k->strikes > 1 ? "high" : "medium"), ob_v_text(ctx->ip), ob_v_text(ua),
                    ob_v_text("/api/v1/auth/login"), ob_v_bool(true), ob_v_text(meta)};
    return ob_sql_run(ctx->db,
                      "INSERT INTO security_violations (id, created_at, user_id, violation_type, description, "
                      "severity, ip_address, user_agent, request_path, blocked, metadata) VALUES (?, ?, "
                      "(SELECT id FROM users WHERE email = ? AND deleted_at IS NULL), ?, ?, ?, ?, ?, ?, ?, ?)",
                      v, 11, err);
}

static int keys_of(ob_ctx *ctx, const char *account, const char *address, key_state ks[2])
{
    int n = 0;
    if (account && *account)
        ks[n++] = (key_state){.key = ob_arena_printf(ctx->arena, "account:%s", ob_ascii_lower(ctx->arena, account)),
                              .scope = "account", .max = cfg.account_max};
    if (address && *address)
        ks[n++] = (key_state){.key = ob_arena_printf(ctx->arena, "address:%.200s", address), .scope = "address",
                              .max = cfg.address_max};
    return n;
}

/* Rows idle for longer than a window and a longest block hold nothing a
 * claim would still use. Guesses at made-up e-mails would otherwise grow the
 * table without end; one claim in 32 sweeps. */
static int prune(ob_ctx *ctx, ob_err *err)
{
    if (ctx->now_ms % 32 != 0) return 0;
    char before[OB_TS_LEN];
    ob_ts_format(ctx->now_ms - cfg.window_ms - cfg.max_delay_ms, before);
    ob_value v[] = {ob_v_text(before), ob_v_text(ctx->now)};
    return ob_sql_run(ctx->db,
                      "DELETE FROM login_throttles WHERE last_attempt_at < ? AND (blocked_until IS NULL OR "
                      "blocked_until < ?)",
                      v, 2, err);
}

int ob_throttle_claim(ob_ctx *ctx, const char *account, const char *address, int64_t *retry_ms, ob_err *err)
{
    key_state ks[2];
    int n = keys_of(ctx, account, address, ks);
    *retry_ms = 0;
    if (prune(ctx, err) != 0) return -1;
    for (int i = 0; i < n; i++) {
        if (load(ctx, &ks[i], err) != 0) return -1;
        decide(ctx, &ks[i]);
        if (ks[i].retry_ms > *retry_ms) *retry_ms = ks[i].retry_ms;
    }
    for (int i = 0; i < n; i++) {
        key_state *k = &ks[i];
        /* a refused attempt claims nothing: only a key it blocks just now changes */
        if (*retry_ms > 0 && !k->newly_blocked) continue;
        if (*retry_ms == 0) k->failures++;
        if (store(ctx, k, err) != 0) return -1;
        if (k->newly_blocked && record_violation(ctx, k, err) != 0) return -1;
    }
    return 0;
}

int ob_throttle_success(ob_ctx *ctx, const char *account, const char *address, ob_err *err)
{
    key_state ks[2];
    int n = keys_of(ctx, account, address, ks);
    for (int i = 0; i < n; i++) {
        ob_value v[] = {ob_v_text(ks[i].key)};
        /* the account proved itself; an address may hold other people's failures */
        const char *sql = strcmp(ks[i].scope, "account") == 0
                              ? "UPDATE login_throttles SET failures = 0, strikes = 0, blocked_until = NULL "
                                "WHERE throttle_key = ?"
                              : "UPDATE login_throttles SET failures = failures - 1 WHERE throttle_key = ? AND "
                                "failures > 0";
        if (ob_sql_run(ctx->db, sql, v, 1, err) != 0) return -1;
    }
    return 0;
}

int ob_throttle_refund(ob_ctx *ctx, const char *account, const char *address, ob_err *err)
{
    key_state ks[2];
    int n = keys_of(ctx, account, address, ks);
    for (int i = 0; i < n; i++) {
        ob_value v[] = {ob_v_text(ks[i].key)};
        if (ob_sql_run(ctx->db, "UPDATE login_throttles SET failures = failures - 1 WHERE throttle_key = ? AND "
                                "failures > 0",
                       v, 1, err) != 0)
            return -1;
    }
    return 0;
}
