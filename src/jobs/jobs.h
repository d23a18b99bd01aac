/* jobs.h - the durable job queue of each tenant (table `jobs`).
 *
 * A job is enqueued in the transaction of the change that causes it, so it
 * exists exactly when the change does (a transactional outbox). Workers claim
 * due jobs with a lease, run them, and record the outcome: done, or queued
 * again after an exponential back-off with jitter, or dead after
 * max_attempts. A worker that dies mid-job leaves the job running with an
 * expired lease; the next worker runs it again (at least once), and a job's
 * database effects commit with its completion, guarded by the attempt it was
 * claimed under, so a run that lost its lease changes nothing.
 */
#ifndef OB_JOBS_H
#define OB_JOBS_H

#include <jansson.h>
#include <stdbool.h>

#include "base/strbuf.h"
#include "jobs/tz.h"
#include "schema/ctx.h"
#include "schema/row.h"

/* A kind of job. run() reports into result (a JSON value, or left empty).
 * With writes, it runs on the tenant's writer inside the transaction that
 * records the job done, so its changes and the completion commit together;
 * without, on a reader, before that transaction (long waits belong here). */
typedef struct ob_job_kind {
    const char *name;
    bool writes;
    int (*run)(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
    const char *doc;
    /* Optional, for kinds that do not write: called on the writer, inside the
     * transaction that records the job, with run()'s outcome (rc, rerr), so
     * the kind can record it in its own rows (a webhook delivery). Returning
     * 0 records the job done whatever run() returned: the kind has taken its
     * failure over (and queued its own retry). Returning 1 after a failed
     * run() keeps the settle's writes (the kind's log of the attempt) and
     * records the failure as usual: retried after the back-off, dead after
     * max_attempts. */
    int (*settle)(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err);
} ob_job_kind;

/* The kinds the workers know (given once at start-up by the domain). */
void ob_jobs_use(const ob_job_kind *kinds, int n);
/* Kinds of a layer above the domain (the API's), given once by the process
 * that has what they need; a process without them refuses their enqueue. */
void ob_jobs_use_more(const ob_job_kind *kinds, int n);
const ob_job_kind *ob_jobs_kind(const char *name);

/* Enqueue a job in ctx's write transaction; payload_json NULL means {}.
 * Unknown kinds are refused (422), so a typo cannot leave a job no worker
 * takes. Wakes this process's workers. */
int ob_job_enqueue(ob_ctx *ctx, const char *kind, const char *payload_json, int max_attempts, ob_err *err);
/* The same, due at run_at (a timestamp; NULL: now). */
int ob_job_enqueue_at(ob_ctx *ctx, const char *kind, const char *payload_json, int max_attempts, const char *run_at,
                      ob_err *err);

/* The tenant's settings object (tenants.settings in the control database;
 * {} when unset); the caller decrefs *out. */
int ob_jobs_tenant_settings(ob_store *s, const char *slug, json_t **out, ob_err *err);
/* The tenant's time zone: settings.timezone, an IANA name; UTC when unset. */
int ob_jobs_tenant_zone(ob_store *s, const char *slug, const ob_tz **out, ob_err *err);

/* Schedules (table `schedules`, schedule.c). The next slot of a cron spec
 * strictly after after_ms in zone z, as a timestamp; 422 when the spec is
 * malformed or never matches. */
int ob_schedule_next(const ob_tz *z, const char *spec, int64_t after_ms, char out[OB_TS_LEN], ob_err *err);
/* A schedule every tenant starts with (a seed): inserted with its first slot
 * in UTC unless a schedule of that kind exists already (the tenant may have
 * renamed, re-timed or disabled it; a seed never undoes that). ctx->db is in
 * a write transaction. */
int ob_schedule_seed(ob_ctx *ctx, const char *name, const char *cron, const char *kind, ob_err *err);
/* Fire the tenant's due schedules: each slot once, its job enqueued in the
 * transaction that moves next_run_at on. *fired counts the slots fired here. */
int ob_schedules_fire_due(ob_store *s, const ob_tenant_info *ti, ob_arena *a, int *fired, ob_err *err);

/* Worker settings; zero fields take the defaults. */
typedef struct ob_jobs_opts {
    int workers;        /* threads (default 1) */
    int poll_ms;        /* how often due jobs are looked for without a wake-up (default 1000) */
    int lease_s;        /* how long a claim lasts before another worker may run the job (300) */
    int backoff_ms;     /* first retry delay, doubled per attempt with jitter, capped at 1 h (1000) */
    int recheck_s;      /* longest a tenant with nothing due is passed over on PostgreSQL (30):
                           the bound on finding work another process wrote; 10x on SQLite, whose
                           file stamp finds that at once (worker.c, idle.c) */
    bool count_only;    /* sweep only to count the queues for ob_jobs_backlog_get (one thread):
                           run no job, fire no schedule (serve --workers 0) */
} ob_jobs_opts;

typedef struct ob_jobs ob_jobs;
/* Start worker threads on the store; they sweep every tenant. */
int ob_jobs_start(ob_jobs **out, ob_store *store, const ob_jobs_opts *o, ob_err *err);
/* Stop them, letting running jobs finish. NULL is a no-op. */
void ob_jobs_stop(ob_jobs *j);

/* The job queues summed over every tenant this process has counted, read
 * without opening any tenant (backlog.c): each sweep's visit of a tenant
 * counts its queue, and a reader sums the last counts under a lock. A
 * tenant's figures are as of its last visit, which comes within a poll of
 * any write to it in this process, and of another process's write within
 * the sweep's bound (the next poll on SQLite, --job-recheck-s on
 * PostgreSQL). Before the first whole pass since start (swept_ms 0) only
 * the tenants visited so far are counted. */
typedef struct ob_jobs_backlog {
    int64_t queued, due, dead;
    int64_t oldest_due_ms;   /* run_at of the oldest queued job whose run_at has come; 0: none */
    int64_t tenants_counted; /* tenants whose queue is known */
    int64_t swept_ms;        /* when the last whole pass ended; 0: none since start */
} ob_jobs_backlog;
void ob_jobs_backlog_get(int64_t now_ms, ob_jobs_backlog *out);

/* Run every due job of one tenant once (tests and `opsbase worker --once`);
 * *ran receives how many ran. */
int ob_jobs_run_due(ob_store *store, const char *slug, const ob_jobs_opts *o, int *ran, ob_err *err);

/* The back-off before attempt n+1 after n failures, in ms: base * 2^(n-1),
 * capped at an hour, with up to a quarter of it added at random. */
int64_t ob_jobs_backoff_ms(int base_ms, int failures, uint32_t random);

#endif
