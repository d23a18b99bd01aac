/* gauges.c - the figures /metrics reads at scrape time (see metrics.h):
 * tenants, the connection pool, and the job queues.
 *
 * Nothing here opens a tenant: the tenant count is one query on the control
 * database, the pool's figures are the store's counters, and the job queues
 * are the sums the job sweep keeps (ob_metrics_use_jobs). */
#include <stdatomic.h>
#include <string.h>

#include "base/base.h"
#include "ops/metrics.h"
#include "base/banned.h"

static _Atomic(ob_metrics_jobs_fn) jobs_fn;

void ob_metrics_use_jobs(ob_metrics_jobs_fn fn)
{
    atomic_store(&jobs_fn, fn);
}

void ob_metrics_jobs(ob_metrics_jobs_figures *out)
{
    memset(out, 0, sizeof *out);
    ob_metrics_jobs_fn fn = atomic_load(&jobs_fn);
    if (fn) fn(out);
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
    ob_metrics_jobs_figures j;
    ob_metrics_jobs(&j);
    g->jobs_queued = j.queued;
    g->jobs_due = j.due;
    g->jobs_dead = j.dead;
    g->jobs_oldest_due_s = j.oldest_due_s;
    g->jobs_tenants_counted = j.tenants_counted;
    g->jobs_swept = j.swept;
}
