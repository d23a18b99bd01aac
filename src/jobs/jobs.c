/* jobs.c - enqueue, claim, run and record jobs (see jobs.h). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "jobs/jobs_int.h"
#include "platform/tenants.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

static const ob_job_kind *kinds;
static int nkinds;

void ob_jobs_use(const ob_job_kind *k, int n)
{
    if (kinds) return;
    kinds = k;
    nkinds = n;
}

/* Kinds of the layer above the domain (the API's exports.produce, which
 * needs the export writers and the file store), given by `serve`. */
static const ob_job_kind *more;
static int nmore;

void ob_jobs_use_more(const ob_job_kind *k, int n)
{
    if (more) return;
    more = k;
    nmore = n;
}

const ob_job_kind *ob_jobs_kind(const char *name)
{
    for (int i = 0; name && i < nkinds; i++)
        if (strcmp(kinds[i].name, name) == 0) return &kinds[i];
    for (int i = 0; name && i < nmore; i++)
        if (strcmp(more[i].name, name) == 0) return &more[i];
    return NULL;
}

static const ob_table *jobs_table(void)
{
    static const ob_table *t;
    if (!t) t = ob_registry_find(OB_TABLE_JOBS);
    return t;
}

int ob_job_enqueue(ob_ctx *ctx, const char *kind, const char *payload_json, int max_attempts, ob_err *err)
{
    return ob_job_enqueue_at(ctx, kind, payload_json, max_attempts, NULL, err);
}

int ob_job_enqueue_at(ob_ctx *ctx, const char *kind, const char *payload_json, int max_attempts, const char *run_at,
                      ob_err *err)
{
    if (!ob_jobs_kind(kind)) return ob_err_set(err, OB_E_UNPROCESSABLE, "no worker knows jobs of kind \"%.60s\"", kind);
    ob_row *row = ob_row_new(ctx->arena, jobs_table());
    ob_row_set_text(ctx->arena, row, JOBS_KIND, kind);
    ob_row_set_text(ctx->arena, row, JOBS_PAYLOAD, payload_json ? payload_json : "{}");
    ob_row_set_text(ctx->arena, row, JOBS_STATUS, "queued");
    ob_row_set_int(row, JOBS_ATTEMPTS, 0);
    ob_row_set_int(row, JOBS_MAX_ATTEMPTS, max_attempts > 0 ? max_attempts : 8);
    ob_row_set_text(ctx->arena, row, JOBS_RUN_AT, run_at ? run_at : ctx->now);
    if (ob_crud_insert_row(ctx, row, err) != 0) return -1;
    ob_jobs_idle_enqueued(ob_conn_tenant(ctx->db));
    ob_jobs_wake();
    return 0;
}

int64_t ob_jobs_backoff_ms(int base_ms, int failures, uint32_t random)
{
    const int64_t cap = 3600 * 1000;
    int64_t d = base_ms > 0 ? base_ms : 1000;
    for (int i = 1; i < failures && d < cap; i++) d *= 2;
    if (d > cap) d = cap;
    return d + (int64_t)(random % (uint32_t)(d / 4 + 1));
}

/* Claim the tenant's next due job on its writer: queued and due, or running
 * with an expired lease (its worker died). 1 claimed (*out), 0 none. */
static int claim(ob_ctx *ctx, const ob_jobs_opts *o, ob_row **out, ob_err *err)
{
    const ob_table *t = jobs_table();
    bool pg = ob_conn_engine(ctx->db) == OB_DB_POSTGRES;
    char until[OB_TS_LEN];
    ob_ts_format(ctx->now_ms + (int64_t)o->lease_s * 1000, until);
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 512);
    ob_sb_addf(&sql,
               "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = ?, updated_at = ?, "
               "version = version + 1 WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= ?) "
               "OR (status = 'running' AND locked_until < ?) ORDER BY run_at, id LIMIT 1%s) RETURNING %s",
               pg ? " FOR UPDATE SKIP LOCKED" : "", ob_sql_cols(t));
    ob_value v[] = {ob_v_text(until), ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(ctx->now)};
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
    for (int i = 0; i < (int)OB_ARRAY_LEN(v); i++)
        if (ob_stmt_bind(st, i + 1, &v[i], err) != 0) {
            ob_stmt_done(st);
            return -1;
        }
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        *out = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, *out, st);
    }
    ob_stmt_done(st);
    return rc;
}

/* Record the outcome of the attempt the job was claimed under; 0 rows means
 * another worker took the job over (this run's lease ran out) and the caller
 * must roll back. */
static int record(ob_ctx *ctx, const ob_row *job, const char *status, const char *run_at, const char *error,
                  const char *result, ob_err *err)
{
    ob_value v[] = {
        ob_v_text(status), ob_v_text(run_at), ob_v_text(error), ob_v_text(result),
        ob_v_text(strcmp(status, "queued") ? ctx->now : NULL), ob_v_text(ctx->now),
        ob_v_text(ob_row_text(job, JOBS_ID)), ob_v_int(ob_row_int(job, JOBS_ATTEMPTS, 0)),
    };
    if (ob_sql_run(ctx->db,
                   "UPDATE jobs SET status = ?, run_at = COALESCE(?, run_at), last_error = ?, "
                   "result = COALESCE(?, result), finished_at = ?, locked_until = NULL, updated_at = ?, "
                   "version = version + 1 WHERE id = ? AND status = 'running' AND attempts = ?",
                   v, (int)OB_ARRAY_LEN(v), err) != 0)
        return -1;
    return ob_db_changes(ctx->db) == 1 ? 1 : 0;
}

/* Run one claimed job and record its outcome. */
static int run_claimed(ob_store *s, const ob_tenant_info *ti, ob_arena *a, const ob_row *job, const ob_jobs_opts *o,
                       ob_err *err)
{
    const ob_job_kind *k = ob_jobs_kind(ob_row_text(job, JOBS_KIND));
    ob_sb result;
    ob_sb_init_arena(&result, a, 64);
    ob_err jerr;
    ob_err_clear(&jerr);
    int jrc = 0;
    if (!k) jrc = ob_err_set(&jerr, OB_E_UNPROCESSABLE, "no worker knows this kind");
    /* a job that only reads runs outside the write transaction */
    if (k && !k->writes) {
        ob_conn *rd;
        jrc = ob_db_acquire(s, ti->slug, ti->id, OB_DB_READ, &rd, &jerr);
        if (jrc == 0) {
            ob_ctx rctx;
            ob_ctx_system(&rctx, a, s, rd, ti);
            jrc = k->run(&rctx, job, &result, &jerr);
            ob_db_release(rd);
        }
    }
    ob_conn *w;
    if (ob_db_acquire(s, ti->slug, ti->id, OB_DB_WRITE, &w, err) != 0) return -1;
    ob_ctx ctx;
    ob_ctx_system(&ctx, a, s, w, ti);
    int rc = ob_db_begin(w, err);
    if (rc == 0 && k && k->settle) {
        ob_err serr;
        ob_err_clear(&serr);
        int settled = k->settle(&ctx, job, jrc, &jerr, &result, &serr);
        if (settled == 0) {
            jrc = 0;
        } else if (settled == 1 && jrc != 0) {
            /* the kind logged the failure in its rows: those writes stay, and
             * the job is retried (or buried) with run()'s error as any other */
        } else {
            ob_db_rollback(w);
            rc = ob_db_begin(w, err);
            jrc = -1;
            jerr = serr;
        }
    }
    if (rc == 0 && k && k->writes && jrc == 0) {
        jrc = k->run(&ctx, job, &result, &jerr);
        if (jrc != 0) {
            /* the job's own changes go; its failure is recorded in a new transaction */
            ob_db_rollback(w);
            rc = ob_db_begin(w, err);
        }
    }
    int recorded = 0;
    if (rc == 0 && jrc == 0) {
        recorded = record(&ctx, job, "done", NULL, NULL, result.len ? result.buf : NULL, err);
    } else if (rc == 0) {
        int64_t attempts = ob_row_int(job, JOBS_ATTEMPTS, 0), max = ob_row_int(job, JOBS_MAX_ATTEMPTS, 8);
        char at[OB_TS_LEN];
        ob_ts_format(ctx.now_ms + ob_jobs_backoff_ms(o->backoff_ms, (int)attempts, randombytes_random()), at);
        const char *why = ob_arena_printf(a, "%s: %.1800s", ob_err_code_str(jerr.code), jerr.message);
        recorded = record(&ctx, job, attempts >= max ? "dead" : "queued", attempts >= max ? NULL : at, why, NULL,
                          err);
        ob_log(OB_LOG_WARN, attempts >= max ? "job dead" : "job failed", "tenant", ti->slug, "job",
               ob_row_text(job, JOBS_ID), "kind", ob_row_text(job, JOBS_KIND), "error", why, NULL);
    }
    if (recorded < 0) rc = -1;
    if (rc == 0 && recorded == 1) rc = ob_db_commit(w, err);
    else ob_db_rollback(w);
    ob_db_release(w);
    return rc;
}

/* When the tenant's next job can be claimed (*job_ms: the earliest queued
 * run_at or running lease expiry) and when anything there could fall due
 * (*any_ms: that, or an enabled schedule's next slot); INT64_MAX for none.
 * The same read counts the queue for /readyz and /metrics (*count, backlog.c),
 * so the probes open no tenant: the sweep's visit is the count.
 * Asked on a reader: the sweep visits every tenant each poll, and taking each
 * one's writer only to find nothing held the write lock of every tenant once
 * a second and made a sweep of many tenants slow. A timestamp that does not
 * parse counts as due now: better a visit too many than a job missed. */
static int next_due(ob_store *s, const ob_tenant_info *ti, int64_t now_ms, int64_t *job_ms, int64_t *any_ms,
                    ob_jobs_count *count, ob_err *err)
{
    *job_ms = *any_ms = INT64_MAX;
    memset(count, 0, sizeof *count);
    count->next_ms = INT64_MAX;
    ob_conn *c;
    if (ob_db_acquire(s, ti->slug, ti->id, OB_DB_READ, &c, err) != 0) return -1;
    char now_ts[OB_TS_LEN];
    ob_ts_format(now_ms, now_ts);
    ob_stmt *st = NULL;
    int rc = ob_db_prepare(c,
                           "SELECT (SELECT MIN(run_at) FROM jobs WHERE status = 'queued'), "
                           "(SELECT MIN(locked_until) FROM jobs WHERE status = 'running'), "
                           "(SELECT MIN(next_run_at) FROM schedules WHERE enabled = ?), "
                           "(SELECT MIN(run_at) FROM jobs WHERE status = 'queued' AND run_at > ?), "
                           "(SELECT COUNT(*) FROM jobs WHERE status = 'queued'), "
                           "(SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND run_at <= ?), "
                           "(SELECT COUNT(*) FROM jobs WHERE status = 'dead')",
                           &st, err);
    ob_value v[] = {ob_v_bool(true), ob_v_text(now_ts), ob_v_text(now_ts)};
    for (int i = 0; rc == 0 && i < (int)OB_ARRAY_LEN(v); i++) rc = ob_stmt_bind(st, i + 1, &v[i], err);
    int got = rc == 0 ? ob_stmt_step(st, err) : -1;
    if (got < 0) rc = -1;
    for (int i = 0; got == 1 && i < 4; i++) {
        const char *t = ob_stmt_col_text(st, i, NULL);
        int64_t at;
        if (!t) continue;
        if (ob_ts_parse(t, &at) != 0) at = now_ms;
        if (i == 0) count->oldest_ms = at;
        if (i == 3) {
            count->next_ms = at;
            continue;
        }
        /* a lease is taken over once it has passed (locked_until < now) */
        if (i == 1 && at < INT64_MAX) at++;
        if (i < 2 && at < *job_ms) *job_ms = at;
        if (at < *any_ms) *any_ms = at;
    }
    if (got == 1) {
        count->queued = ob_stmt_col_i64(st, 4);
        count->due = ob_stmt_col_i64(st, 5);
        count->dead = ob_stmt_col_i64(st, 6);
    }
    if (st) ob_stmt_done(st);
    ob_db_release(c);
    return rc;
}

int ob_jobs_run_due(ob_store *s, const char *slug, const ob_jobs_opts *o, int *ran, ob_err *err)
{
    int64_t next;
    return ob_jobs_run_due_next(s, slug, o, ran, &next, err);
}

int ob_jobs_run_due_next(ob_store *s, const char *slug, const ob_jobs_opts *o, int *ran, int64_t *next_ms,
                         ob_err *err)
{
    *ran = 0;
    *next_ms = 0;
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_tenant_info *ti = NULL;
    ob_conn *c;
    int rc = ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err);
    if (rc == 0) {
        rc = ob_tenant_lookup(c, &a, slug, &ti, err);
        ob_db_release(c);
    }
    int fired = 0;
    ob_err serr;
    /* a schedule that cannot fire must not hold up the tenant's jobs */
    bool sched_ok = true;
    if (rc == 0 && !o->count_only && ob_schedules_fire_due(s, ti, &a, &fired, &serr) != 0) {
        sched_ok = false;
        ob_log(OB_LOG_WARN, "schedules: firing failed", "tenant", slug, "error", serr.message, NULL);
    }
    /* taken before the read: a count read later by another worker wins */
    uint64_t mark = ob_jobs_backlog_mark();
    int64_t now = ob_now_ms(), job_ms = INT64_MAX, any_ms = INT64_MAX;
    ob_jobs_count count;
    if (rc == 0) rc = next_due(s, ti, now, &job_ms, &any_ms, &count, err);
    if (rc == 0) ob_jobs_backlog_set(slug, mark, &count);
    if (rc == 0 && o->count_only) {
        /* nothing runs here: the count changes by itself only when a queued
         * job comes due; anything else is a write (idle.c) */
        *next_ms = count.next_ms;
        ob_arena_release(&a);
        return 0;
    }
    bool due = job_ms <= now;
    /* a bounded batch per sweep, so one busy tenant cannot starve the others */
    for (int i = 0; rc == 0 && due && i < 32; i++) {
        ob_conn *w;
        ob_row *job = NULL;
        if ((rc = ob_db_acquire(s, ti->slug, ti->id, OB_DB_WRITE, &w, err)) != 0) break;
        ob_ctx ctx;
        ob_ctx_system(&ctx, &a, s, w, ti);
        rc = ob_db_begin(w, err);
        int got = rc == 0 ? claim(&ctx, o, &job, err) : -1;
        if (got == 1) rc = ob_db_commit(w, err);
        else ob_db_rollback(w);
        ob_db_release(w);
        if (got < 0) rc = -1;
        if (rc != 0 || got != 1) break;
        rc = run_claimed(s, ti, &a, job, o, err);
        (*ran)++;
    }
    /* only a quiet tenant gets a next moment: one that ran or fired anything,
     * or whose schedules failed, is visited again on the next sweep */
    if (rc == 0 && *ran == 0 && fired == 0 && sched_ok && !due) *next_ms = any_ms;
    ob_arena_release(&a);
    return rc;
}
