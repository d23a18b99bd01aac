/* Background work: the tenant's durable job queue. Jobs are written by the
 * server in the transaction of the change that causes them (src/jobs) and run
 * by the workers of `opsbase serve` or `opsbase worker`; through the API they
 * are read, and a dead job may be retried. */
#include "base/base.h"
#include "domain/domains.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "gen/columns.h"
#include "base/banned.h"

OB_ENUM(job_status, "job_status", "queued", "running", "done", "dead");

static const ob_column job_cols[] = {
    {"kind", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_INDEXED | OB_SORT,
     .doc = "what to do, e.g. ledgers.check; the workers know each kind"},
    {"payload", OB_F_JSON, .flags = OB_REQUIRED, .dflt = "{}", .doc = "the kind's input"},
    {"status", OB_F_ENUM, .enm = &job_status, .flags = OB_REQUIRED | OB_SERVER | OB_SORT, .dflt = "queued",
     .doc = "queued: waiting for run_at; running: claimed by a worker until locked_until; done: finished; "
            "dead: failed max_attempts times (retry puts it back in the queue)"},
    {"attempts", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0", .doc = "runs started so far"},
    {"max_attempts", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 100, .dflt = "8"},
    {"run_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SERVER | OB_SORT, .dflt = "now",
     .doc = "not before this time; after a failure, later by an exponential back-off with jitter"},
    {"locked_until", OB_F_TIMESTAMP, .flags = OB_SERVER,
     .doc = "a running job whose worker has not finished by then is run again (the worker died)"},
    {"last_error", OB_F_TEXT, .max = 2000, .flags = OB_SERVER},
    {"result", OB_F_JSON, .flags = OB_SERVER, .doc = "what a finished run reported"},
    {"finished_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
};
static const ob_index job_idx[] = {{"status,run_at"}, {"created_at"}};

static int job_retry(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    (void)err;
    ob_row_set_int(row, JOBS_ATTEMPTS, 0);
    ob_row_set_text(ctx->arena, row, JOBS_RUN_AT, ctx->now);
    ob_row_set_null(row, JOBS_LOCKED_UNTIL);
    ob_row_set_null(row, JOBS_FINISHED_AT);
    return 0;
}

static const ob_transition job_transitions[] = {
    /* event   from    to        guard effect     perm */
    {"retry", "dead", "queued", NULL, job_retry, "retry"},
};
static const ob_fsm job_fsm = {"status", job_transitions, (int)OB_ARRAY_LEN(job_transitions), "retry"};

const ob_resource ob_res_jobs = {
    .table = "jobs", .doc = "the tenant's durable background jobs (read-only but for retry)",
    OB_COLS(job_cols), OB_INDEXES(job_idx), .perm = "jobs", .flags = OB_RES_READONLY | OB_RES_NO_AUDIT,
    .fsm = &job_fsm, .default_sort = "-created_at", .since = 2,
};
