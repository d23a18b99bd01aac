/* gauges.c - the figures /metrics reads from the store at scrape time (see
 * metrics.h): tenants, the connection pool, and the job queues.
 *
 * Jobs live in each tenant's own database, so counting them visits every
 * tenant: the sum is kept for JOBS_TTL_MS and shared by concurrent scrapes,
 * which bounds that work to one sweep per interval (5 s) however often Prometheus
 * (or anyone with the token) asks. */
#include <pthread.h>
#include <string.h>

#include "base/base.h"
#include "base/clock.h"
#include "ops/metrics.h"
#include "platform/tenants.h"
#include "base/banned.h"

#define JOBS_TTL_MS 5000

typedef struct jobs_sum {
    int64_t queued, due, dead, oldest_due_ms; /* oldest_due_ms: run_at of the oldest due job, 0 none */
} jobs_sum;

static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static jobs_sum jobs_cached;
static int64_t jobs_at_ms;

static void count_tenant(ob_store *s, ob_arena *a, const char *slug, int64_t now, jobs_sum *sum)
{
    ob_err err;
    ob_tenant_info *info;
    ob_conn *c;
    if (ob_tenant_open(s, a, slug, OB_DB_READ, &info, &c, &err) != 0) return; /* suspended or gone */
    char now_ts[OB_TS_LEN];
    ob_ts_format(now, now_ts);
    ob_stmt *st;
    if (ob_db_prepare(c,
                      "SELECT status, COUNT(*), MIN(run_at), SUM(CASE WHEN run_at <= ? THEN 1 ELSE 0 END) "
                      "FROM jobs WHERE status IN ('queued', 'dead') GROUP BY status",
                      &st, &err) == 0) {
        ob_stmt_bind_text(st, 1, now_ts, &err);
        while (ob_stmt_step(st, &err) == 1) {
            const char *status = ob_stmt_col_text(st, 0, NULL);
            int64_t n = ob_stmt_col_i64(st, 1);
            if (strcmp(status, "dead") == 0) {
                sum->dead += n;
                continue;
            }
            sum->queued += n;
            int64_t due = ob_stmt_col_i64(st, 3), first;
            sum->due += due;
            const char *oldest = ob_stmt_col_text(st, 2, NULL);
            if (due > 0 && oldest && ob_ts_parse(oldest, &first) == 0 &&
                (!sum->oldest_due_ms || first < sum->oldest_due_ms))
                sum->oldest_due_ms = first;
        }
        ob_stmt_done(st);
    }
    ob_db_release(c);
}

static void gather_jobs(ob_store *s, int64_t now, jobs_sum *out)
{
    pthread_mutex_lock(&jobs_mu); /* one sweep at a time; the others wait and share it */
    if (!jobs_at_ms || now - jobs_at_ms >= JOBS_TTL_MS) {
        jobs_sum sum = {0};
        ob_arena a;
        ob_arena_init(&a, 0);
        ob_slugs l = {0};
        ob_err err;
        if (ob_tenant_slugs_of(s, &a, NULL, &l, &err) == 0)
            for (int i = 0; i < l.n; i++) count_tenant(s, &a, l.v[i], now, &sum);
        ob_arena_release(&a);
        jobs_cached = sum;
        jobs_at_ms = now;
    }
    *out = jobs_cached;
    pthread_mutex_unlock(&jobs_mu);
}

void ob_metrics_gather(ob_store *s, ob_metrics_gauges *g)
{
    g->engine = ob_store_engine(s) == OB_DB_POSTGRES ? "postgres" : "sqlite";
    g->tenants = -1;
    ob_err err;
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, &err) == 0) {
        ob_stmt *st;
        if (ob_db_prepare(c, "SELECT COUNT(*) FROM tenants WHERE deleted_at IS NULL AND status <> 'provisioning'", &st,
                          &err) == 0) {
            if (ob_stmt_step(st, &err) == 1) g->tenants = ob_stmt_col_i64(st, 0);
            ob_stmt_done(st);
        }
        ob_db_release(c);
    }
    ob_store_stats ps;
    ob_store_stats_get(s, &ps); /* after the reads above: they are back in the pool */
    g->db_conns_open = ps.conns_open;
    g->db_conns_idle = ps.conns_idle;
    g->db_bytes = ps.bytes;
    g->db_opens = ps.opens;
    g->db_evictions = ps.evictions;
    g->tenants_open = ps.tenants_open;
    ob_db_timing_counts(&g->db_statements, &g->db_slow_statements);
    int64_t now = ob_now_ms();
    jobs_sum j;
    gather_jobs(s, now, &j);
    g->jobs_queued = j.queued;
    g->jobs_due = j.due;
    g->jobs_dead = j.dead;
    g->jobs_oldest_due_s = j.oldest_due_ms ? (double)(now - j.oldest_due_ms) / 1000 : 0;
}

void ob_metrics_jobs(ob_store *s, int64_t *queued, int64_t *due, double *oldest_due_s)
{
    int64_t now = ob_now_ms();
    jobs_sum j;
    gather_jobs(s, now, &j);
    *queued = j.queued;
    *due = j.due;
    *oldest_due_s = j.oldest_due_ms ? (double)(now - j.oldest_due_ms) / 1000 : 0;
}

void ob_metrics_gather_reset(void)
{
    pthread_mutex_lock(&jobs_mu);
    jobs_at_ms = 0;
    pthread_mutex_unlock(&jobs_mu);
}
