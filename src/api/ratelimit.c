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

bool ob_ratelimit_settings_on(void)
{
    return atomic_load(&settings_limits);
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

/* ---- leases: the shared count written once per several requests ----
 *
 * Writing rate_counters on every request cost a write transaction each (about
 * 1-1.8 ms on SQLite with synchronous=FULL). Instead a process claims a lease
 * of several requests at once from the shared row, in one transaction that
 * reads the count and raises it by what it grants (never past the limit), and
 * spends the lease in memory. Claims are serialized by the tenant's write
 * lock, so all processes together never admit more than the limit in a
 * window; what a process leased and did not spend is lost with the window,
 * so the budget can end early by at most the unspent leases: each lease is at
 * most 1/LEASE_DIV of what was left when it was claimed and at most
 * LEASE_MAX. Near the limit leases shrink to one request, so small limits are
 * counted exactly as before (one write per request); one process alone is
 * always exact. Past the limit the stored count goes one over (the first
 * refusal, which records the episode) and each process then refuses from
 * memory for the rest of the window. */

#define LEASE_DIV 8
#define LEASE_MAX 64
#define LEASE_CHAINS 1024

typedef struct lease {
    struct lease *next;
    int64_t window;   /* the window this lease belongs to */
    int64_t left;     /* requests leased and not yet spent */
    int64_t claimed;  /* the shared count after this process's last claim */
    bool exhausted;   /* the shared count passed the limit: refuse without writing */
    char key[];       /* tenant slug, '|', counter */
} lease;

static pthread_mutex_t lease_mu = PTHREAD_MUTEX_INITIALIZER;
static lease *leases[LEASE_CHAINS];
static atomic_llong counter_writes;

int64_t ob_ratelimit_writes(void)
{
    return atomic_load(&counter_writes);
}

/* The lease of key, made when absent; leases of past windows met on the way
 * are dropped (lease_mu held). NULL: out of memory. */
static lease *lease_of(const char *key, int64_t window)
{
    unsigned h = 2166136261u;
    for (const char *k = key; *k; k++) h = (h ^ (unsigned char)*k) * 16777619u;
    lease **pp = &leases[h % LEASE_CHAINS], *found = NULL;
    while (*pp) {
        lease *l = *pp;
        if (!found && strcmp(l->key, key) == 0) {
            found = l;
            pp = &l->next;
        } else if (l->window < window - 1) { /* hour windows outlive minute ones: keep one back */
            *pp = l->next;
            free(l);
        } else {
            pp = &l->next;
        }
    }
    if (found) {
        if (found->window != window) {
            found->window = window;
            found->left = found->claimed = 0;
            found->exhausted = false;
        }
        return found;
    }
    size_t n = strlen(key) + 1;
    lease *l = calloc(1, sizeof *l + n);
    if (!l) return NULL;
    memcpy(l->key, key, n);
    l->window = window;
    l->next = leases[h % LEASE_CHAINS];
    leases[h % LEASE_CHAINS] = l;
    return l;
}

/* Claim up to want requests of counter's window from the shared row, on a
 * write connection of the tenant, in one transaction: *old is the count
 * before, *granted what this claim may spend (0: refused, and the count goes
 * one over so exactly one claim sees old == limit). A caller's first claim
 * of a window removes its earlier windows. */
static int claim(ob_ctx *ctx, ob_conn *w, const char *counter, int64_t window, int64_t limit, int64_t want,
                 int64_t *old, int64_t *granted, ob_err *err)
{
    if (ob_db_begin(w, err) != 0) return -1;
    ob_stmt *st;
    int rc = ob_db_prepare(w, "SELECT hits FROM rate_counters WHERE bucket = ? AND window_start = ?", &st, err);
    bool had = false;
    *old = 0;
    if (rc == 0) {
        ob_stmt_bind_text(st, 1, counter, err);
        ob_stmt_bind_i64(st, 2, window, err);
        int step = ob_stmt_step(st, err);
        if (step == 1) {
            had = true;
            *old = ob_stmt_col_i64(st, 0);
        }
        ob_stmt_done(st);
        rc = step < 0 ? -1 : 0;
    }
    *granted = *old >= limit ? 0 : (limit - *old < want ? limit - *old : want);
    int64_t now_count = *old + (*granted ? *granted : 1);
    if (rc == 0) {
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(counter), ob_v_int(window),
                        ob_v_int(now_count)};
        rc = ob_sql_run(w,
                        "INSERT INTO rate_counters (id, created_at, bucket, window_start, hits) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = excluded.hits",
                        v, 5, err);
    }
    if (rc == 0 && !had) {
        ob_value v[] = {ob_v_text(counter), ob_v_int(window)};
        rc = ob_sql_run(w, "DELETE FROM rate_counters WHERE bucket = ? AND window_start < ?", v, 2, err);
    }
    if (rc == 0) rc = ob_db_commit(w, err);
    else ob_db_rollback(w);
    if (rc == 0) atomic_fetch_add(&counter_writes, 1);
    return rc;
}

/* One request against counter's budget: *used is how many of the window's
 * budget are spent as far as this process knows (this one included; limit + 1
 * when refused); *first_refusal when this request is the window's first
 * refusal over every process. *w is acquired on the first claim and left for
 * the caller to release. */
static int spend(ob_ctx *ctx, ob_conn **w, const char *counter, int64_t window, int64_t limit, int64_t *used,
                 bool *first_refusal, ob_err *err)
{
    *first_refusal = false;
    const char *key = ob_arena_printf(ctx->arena, "%s|%s", ctx->tenant->slug, counter);
    pthread_mutex_lock(&lease_mu);
    lease *l = lease_of(key, window);
    if (l && l->exhausted) {
        pthread_mutex_unlock(&lease_mu);
        *used = limit + 1;
        return 0;
    }
    if (l && l->left > 0) {
        l->left--;
        *used = l->claimed - l->left;
        pthread_mutex_unlock(&lease_mu);
        return 0;
    }
    /* claim a share of what this process last saw left, unlocked: the write
     * waits on the tenant's lock and must not hold up other tenants */
    int64_t seen = l ? l->claimed : 0, want = (limit - seen) / LEASE_DIV;
    pthread_mutex_unlock(&lease_mu);
    if (want < 1) want = 1;
    if (want > LEASE_MAX) want = LEASE_MAX;
    if (!*w && ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, w, err) != 0) return -1;
    int64_t old, granted;
    if (claim(ctx, *w, counter, window, limit, want, &old, &granted, err) != 0) return -1;
    pthread_mutex_lock(&lease_mu);
    l = lease_of(key, window);
    if (granted == 0) {
        if (l) l->exhausted = true;
        *used = limit + 1;
        *first_refusal = old == limit;
    } else {
        /* this request spends one; the rest waits for the next requests. A
         * claim by another thread of this process may have landed meanwhile:
         * the shared count is the larger one */
        if (l) {
            l->left += granted - 1;
            if (old + granted > l->claimed) l->claimed = old + granted;
            *used = l->claimed - l->left;
        } else {
            *used = old + 1;
        }
    }
    pthread_mutex_unlock(&lease_mu);
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
    int found;
    if (ctx->limits.read) {
        /* read with the session row, in the same statement (ob_ctx_limits) */
        found = ctx->limits.found;
        l.per_minute = ctx->limits.per_minute;
        l.exports_per_hour = ctx->limits.exports_per_hour;
        l.alert = ctx->limits.alert;
    } else {
        found = read_limits(ctx, &l, err); /* an API key's request: its check does not read them */
    }
    if (found <= 0) return found;
    /* the request budget, and for an export the hourly export budget too */
    struct {
        const char *prefix, *what;
        int64_t limit, window_ms;
    } checks[2] = {{"rpm", "requests a minute", l.per_minute, 60000},
                   {"eph", "export requests an hour", l.exports_per_hour, 3600000}};
    int n = export ? 2 : 1;
    ob_conn *w = NULL; /* acquired only when a lease must be claimed */
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (checks[i].limit <= 0 && i == 0) continue;
        int64_t window = ctx->now_ms / checks[i].window_ms, hits = 0;
        const char *counter = ob_arena_printf(ctx->arena, "%s:%s", checks[i].prefix, ctx->who->user_id);
        bool first_refusal;
        if ((rc = spend(ctx, &w, counter, window, checks[i].limit, &hits, &first_refusal, err)) != 0) break;
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
            /* exactly one claim over every process sees the count at the limit: one row per episode */
            if (first_refusal) {
                if (!w && ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &w, err) != 0)
                    rc = -1;
                else
                    rc = record_episode(ctx, w, path, checks[i].what, checks[i].limit, l.alert, err);
            }
        }
    }
    if (w) ob_db_release(w);
    return rc;
}
