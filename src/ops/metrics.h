/* metrics.h - the process's request metrics in Prometheus text format.
 *
 * Requests are counted by method, route template and status class, with a
 * latency histogram per method and route; the route template (never a raw
 * path) and a bounded table keep the number of series bounded whatever
 * clients send: past OB_METRICS_MAX_SERIES, new series count under the
 * route "other". Per tenant only the busiest OB_METRICS_TOP_TENANTS are shown.
 * Recording is a mutex and a few additions; rendering copies under the lock. */
#ifndef OB_METRICS_H
#define OB_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "db/db.h"

#define OB_METRICS_MAX_SERIES 2048
#define OB_METRICS_MAX_TENANTS 4096
#define OB_METRICS_TOP_TENANTS 10

/* One answered request. route: its template ("/api/v1/tickets/{id}"), or
 * NULL when no route matched; tenant may be NULL. */
void ob_metrics_request(const char *method, const char *route, int status, const char *tenant, int64_t dur_us);
/* Requests being answered now (+1 when one starts, -1 when it ends). */
void ob_metrics_inflight(int delta);

/* Figures gathered at scrape time (ob_metrics_gather, gauges.c; the HTTP
 * connections by the caller, which owns the server). */
typedef struct ob_metrics_gauges {
    int64_t tenants;        /* tenants in the control database, -1 unknown */
    int64_t db_conns_open;  /* database connections held open, -1 unknown */
    int64_t db_conns_idle, db_bytes, db_opens, db_evictions;
    int64_t tenants_open;   /* tenant databases with a connection open */
    const char *engine;     /* "sqlite" or "postgres" */
    int64_t http_connections; /* client connections open, -1 unknown */
    int64_t jobs_queued, jobs_due, jobs_dead; /* over the tenants counted (ob_metrics_jobs_figures) */
    double jobs_oldest_due_s; /* how long the oldest due job has waited */
    int64_t jobs_tenants_counted; /* tenants whose queue the figures include */
    bool jobs_swept;          /* a whole pass over the tenants has counted since start */
    int64_t db_statements, db_slow_statements; /* executed since start, of which logged as slow */
    int64_t rate_counter_writes; /* writes of the tenants' shared rate counters, -1 unknown */
} ob_metrics_gauges;

/* The job queues over every tenant. They live in each tenant's database,
 * and counting them here would open every tenant (seconds with 1,000); the
 * job sweep counts each tenant as it visits it and keeps the sums in memory,
 * so the process that runs it (serve) gives a reader of them once at start,
 * and every scrape or probe reads those sums: no tenant opened, no query. */
typedef struct ob_metrics_jobs_figures {
    int64_t queued, due, dead;
    double oldest_due_s;     /* how long the oldest due job has waited (0: none) */
    int64_t tenants_counted; /* tenants whose queue is known */
    bool swept;              /* a whole pass has counted since start: every tenant is in */
} ob_metrics_jobs_figures;
typedef void (*ob_metrics_jobs_fn)(ob_metrics_jobs_figures *out);
/* Set the reader (NULL: none, the figures are zero and not swept). */
void ob_metrics_use_jobs(ob_metrics_jobs_fn fn);

/* Fill g from the store (http_connections is left to the caller). */
void ob_metrics_gather(ob_store *s, ob_metrics_gauges *g);
/* The job queues alone, for /readyz and the platform stats. */
void ob_metrics_jobs(ob_metrics_jobs_figures *out);

/* Append the exposition (text format 0.0.4) to out. */
void ob_metrics_render(ob_sb *out, const ob_metrics_gauges *g);

/* Forget everything (tests). */
void ob_metrics_reset(void);

#endif
