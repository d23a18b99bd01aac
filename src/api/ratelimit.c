/* ratelimit.c - token buckets in a chained hash table under striped locks
 * (ratelimit.h). Levels are integers: one request is UNIT, and a class of
 * R requests a minute refills R units a millisecond, so there is no
 * rounding drift and no floating point. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ratelimit.h"
#include "base/base.h"
#include "schema/sql.h"
#include "base/banned.h"

#define UNIT 60000 /* milliseconds in a minute */
#define CHAINS 4096
#define STRIPES 64

typedef struct bucket {
    struct bucket *next;
    int64_t level;   /* units; the capacity is per_minute * UNIT */
    int64_t last_ms; /* when level was computed */
    ob_rate_class c;
    char key[];
} bucket;

struct ob_ratelimit {
    int64_t per_minute[OB_RATE__COUNT];
    bucket *chains[CHAINS];
    pthread_mutex_t locks[STRIPES];
};

ob_ratelimit *ob_ratelimit_new(const int64_t per_minute[OB_RATE__COUNT])
{
    ob_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl) return NULL;
    memcpy(rl->per_minute, per_minute, sizeof rl->per_minute);
    for (int i = 0; i < STRIPES; i++) pthread_mutex_init(&rl->locks[i], NULL);
    return rl;
}

void ob_ratelimit_free(ob_ratelimit *rl)
{
    if (!rl) return;
    for (int i = 0; i < CHAINS; i++)
        for (bucket *b = rl->chains[i], *next; b; b = next) {
            next = b->next;
            free(b);
        }
    for (int i = 0; i < STRIPES; i++) pthread_mutex_destroy(&rl->locks[i]);
    free(rl);
}

static unsigned chain_of(ob_rate_class c, const char *key)
{
    unsigned h = 2166136261u ^ (unsigned)c;
    for (; *key; key++) h = (h ^ (unsigned char)*key) * 16777619u;
    return h % CHAINS;
}

/* The level of b at now: refilled since last_ms, at most the capacity. */
static int64_t level_at(const ob_ratelimit *rl, const bucket *b, int64_t now_ms)
{
    int64_t rate = rl->per_minute[b->c], cap = rate * UNIT;
    int64_t dt = now_ms > b->last_ms ? now_ms - b->last_ms : 0;
    if (dt >= UNIT) return cap; /* a whole minute refills any bucket; no overflow */
    int64_t v = b->level + dt * rate;
    return v < cap ? v : cap;
}

bool ob_ratelimit_take(ob_ratelimit *rl, ob_rate_class c, const char *key, int64_t now_ms, int64_t *retry_after_s)
{
    *retry_after_s = 0;
    if (!rl || c <= OB_RATE_NONE || c >= OB_RATE__COUNT || rl->per_minute[c] <= 0) return true;
    int64_t rate = rl->per_minute[c], cap = rate * UNIT;
    unsigned ch = chain_of(c, key);
    pthread_mutex_t *lock = &rl->locks[ch % STRIPES];
    pthread_mutex_lock(lock);
    bucket *found = NULL;
    /* find the caller's bucket, forgetting full ones on the way: they hold
     * nothing a new bucket would not */
    for (bucket **pp = &rl->chains[ch]; *pp;) {
        bucket *b = *pp;
        if (b->c == c && !strcmp(b->key, key)) {
            found = b;
            pp = &b->next;
        } else if (level_at(rl, b, now_ms) >= rl->per_minute[b->c] * UNIT) {
            *pp = b->next;
            free(b);
        } else {
            pp = &b->next;
        }
    }
    if (!found) {
        size_t n = strlen(key) + 1;
        found = malloc(sizeof *found + n);
        if (!found) {
            pthread_mutex_unlock(lock);
            return true; /* out of memory: fail open rather than refuse everyone */
        }
        memcpy(found->key, key, n);
        found->c = c;
        found->level = cap;
        found->last_ms = now_ms;
        found->next = rl->chains[ch];
        rl->chains[ch] = found;
    }
    int64_t level = level_at(rl, found, now_ms);
    found->last_ms = now_ms > found->last_ms ? now_ms : found->last_ms;
    bool ok = level >= UNIT;
    if (ok) level -= UNIT;
    found->level = level;
    pthread_mutex_unlock(lock);
    if (!ok) {
        int64_t wait_ms = (UNIT - level + rate - 1) / rate;
        *retry_after_s = (wait_ms + 999) / 1000;
        if (*retry_after_s < 1) *retry_after_s = 1;
    }
    return ok;
}

/* ---- the tenant's own limits, counted in its database ---- */

static atomic_bool settings_limits = true;

void ob_ratelimit_settings_enable(bool on)
{
    atomic_store(&settings_limits, on);
}

typedef struct tenant_limits {
    int64_t per_minute, exports_per_hour;
    bool alert;
} tenant_limits;

/* The caller's limits on ctx->db (a read connection): the tenant's row, a
 * role's override (the most generous of the caller's roles). 0: no row. */
static int read_limits(ob_ctx *ctx, tenant_limits *l, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT s.requests_per_minute, s.export_requests_per_hour, s.alert_on_limit_violations, "
                      "(SELECT MAX(r.custom_requests_per_minute) FROM role_security_settings r JOIN user_roles ur "
                      "ON ur.role_id = r.role_id WHERE ur.user_id = ?) FROM security_settings s LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ctx->who->user_id, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        l->per_minute = ob_stmt_col_i64(st, 0);
        l->exports_per_hour = ob_stmt_col_i64(st, 1);
        l->alert = ob_stmt_col_i64(st, 2) != 0;
        if (ob_stmt_col_type(st, 3) != OB_V_NULL) l->per_minute = ob_stmt_col_i64(st, 3);
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : rc;
}

/* One more hit in counter's window on the writer w; the window's count. A
 * caller's first hit of a window removes its earlier windows. */
static int count_hit(ob_ctx *ctx, ob_conn *w, const char *counter, int64_t window, int64_t *hits, ob_err *err)
{
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_stmt *st;
    if (ob_db_prepare(w,
                      "INSERT INTO rate_counters (id, created_at, bucket, window_start, hits) VALUES (?, ?, ?, ?, 1) "
                      "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_counters.hits + 1 RETURNING hits",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, id, err);
    ob_stmt_bind_text(st, 2, ctx->now, err);
    ob_stmt_bind_text(st, 3, counter, err);
    ob_stmt_bind_i64(st, 4, window, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *hits = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    if (rc != 1) return rc < 0 ? -1 : ob_err_set(err, OB_E_INTERNAL, "the rate counter returned nothing");
    if (*hits == 1) {
        ob_value v[] = {ob_v_text(counter), ob_v_int(window)};
        return ob_sql_run(w, "DELETE FROM rate_counters WHERE bucket = ? AND window_start < ?", v, 2, err);
    }
    return 0;
}

/* The first refusal of a window: the violation, and the alert if asked for. */
static int record_episode(ob_ctx *ctx, ob_conn *w, const char *path, const char *what, int64_t limit, bool alert,
                          ob_err *err)
{
    char vid[OB_UUID_LEN], aid[OB_UUID_LEN];
    ob_uuid7(vid);
    const char *desc = ob_arena_printf(ctx->arena, "more than %lld %s", (long long)limit, what);
    const char *meta = ob_arena_printf(ctx->arena, "{\"limit\":%lld,\"window\":\"%s\"}", (long long)limit,
                                       strstr(what, "hour") ? "hour" : "minute");
    ob_value v[] = {ob_v_text(vid), ob_v_text(ctx->now), ob_v_text(ctx->who->user_id), ob_v_text(desc),
                    ob_v_text(ctx->ip), ob_v_text(ctx->user_agent), ob_v_text(path), ob_v_bool(true), ob_v_text(meta)};
    if (ob_sql_run(w,
                   "INSERT INTO security_violations (id, created_at, user_id, violation_type, description, severity, "
                   "ip_address, user_agent, request_path, blocked, metadata) VALUES (?, ?, ?, 'rate_limit_exceeded', "
                   "?, 'medium', ?, ?, ?, ?, ?)",
                   v, 9, err) != 0)
        return -1;
    if (!alert) return 0;
    ob_uuid7(aid);
    ob_value a[] = {ob_v_text(aid), ob_v_text(ctx->now), ob_v_text(ctx->now),
                    ob_v_text(ob_arena_printf(ctx->arena, "rate limit exceeded: %s (%s)", desc, path)),
                    ob_v_text(ctx->who->user_id), ob_v_text(ctx->ip),
                    ob_v_text(ob_arena_printf(ctx->arena, "{\"violation_id\":\"%s\",\"limit\":%lld}", vid,
                                              (long long)limit))};
    return ob_sql_run(w,
                      "INSERT INTO security_alerts (id, created_at, updated_at, version, alert_type, severity, "
                      "description, user_id, ip_address, additional_data, status) VALUES (?, ?, ?, 1, "
                      "'rate_limit_exceeded', 'medium', ?, ?, ?, ?, 'open')",
                      a, 7, err);
}

int ob_ratelimit_tenant(ob_ctx *ctx, const char *path, bool export, ob_rate_verdict *v, ob_err *err)
{
    memset(v, 0, sizeof *v);
    if (!atomic_load(&settings_limits) || !ctx->who || !ctx->who->user_id || !ctx->tenant) return 0;
    tenant_limits l = {0};
    int found = read_limits(ctx, &l, err);
    if (found <= 0) return found;
    /* the request budget, and for an export the hourly export budget too */
    struct {
        const char *prefix, *what;
        int64_t limit, window_ms;
    } checks[2] = {{"rpm", "requests a minute", l.per_minute, 60000},
                   {"eph", "export requests an hour", l.exports_per_hour, 3600000}};
    int n = export ? 2 : 1;
    ob_conn *w;
    if (ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &w, err) != 0) return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (checks[i].limit <= 0 && i == 0) continue;
        int64_t window = ctx->now_ms / checks[i].window_ms, hits = 0;
        const char *counter = ob_arena_printf(ctx->arena, "%s:%s", checks[i].prefix, ctx->who->user_id);
        if ((rc = count_hit(ctx, w, counter, window, &hits, err)) != 0) break;
        int64_t reset = ((window + 1) * checks[i].window_ms - ctx->now_ms + 999) / 1000;
        int64_t left = checks[i].limit - hits;
        /* the headers tell the tightest budget: the refused one, else the least left */
        if (!v->refused && (v->limit == 0 || left < v->remaining)) {
            v->limit = checks[i].limit;
            v->remaining = left < 0 ? 0 : left;
            v->reset_s = reset < 1 ? 1 : reset;
        }
        if (hits > checks[i].limit && !v->refused) {
            v->refused = true;
            v->limit = checks[i].limit;
            v->remaining = 0;
            v->reset_s = reset < 1 ? 1 : reset;
            /* exactly one request sees the count pass the limit: one row per episode */
            if (hits == checks[i].limit + 1)
                rc = record_episode(ctx, w, path, checks[i].what, checks[i].limit, l.alert, err);
        }
    }
    ob_db_release(w);
    return rc;
}
