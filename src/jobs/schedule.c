/* schedule.c - schedules: a cron spec that enqueues a job at each slot.
 *
 * A slot fires exactly once however many workers and processes share the
 * data: firing is one conditional UPDATE that moves next_run_at from the slot
 * to the following one, and only the writer whose UPDATE changed the row
 * enqueues the job, in the same transaction. A second process sees either
 * the old next_run_at under its own write lock (SQLite serializes writers;
 * PostgreSQL re-checks the WHERE after the first commit) and changes nothing.
 */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "jobs/cron.h"
#include "jobs/jobs_int.h"
#include "platform/tenants.h"
#include "schema/sql.h"
#include "base/banned.h"

int ob_jobs_tenant_settings(ob_store *s, const char *slug, json_t **out, ob_err *err)
{
    ob_conn *c;
    *out = NULL;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    ob_stmt *st = NULL;
    int rc = ob_db_prepare(c,
                           "SELECT settings FROM tenants WHERE slug = ? AND deleted_at IS NULL AND "
                           "status <> 'provisioning'",
                           &st, err);
    if (rc == 0) {
        rc = ob_stmt_bind_text(st, 1, slug, err);
        int got = rc == 0 ? ob_stmt_step(st, err) : -1;
        if (got < 0) rc = -1;
        else if (got == 1) *out = json_loads(ob_stmt_col_text(st, 0, NULL) ? ob_stmt_col_text(st, 0, NULL) : "{}", 0, NULL);
        ob_stmt_done(st);
    }
    ob_db_release(c);
    if (rc == 0 && !json_is_object(*out)) {
        json_decref(*out);
        *out = json_object();
    }
    return rc;
}

int ob_jobs_tenant_zone(ob_store *s, const char *slug, const ob_tz **out, ob_err *err)
{
    json_t *set;
    if (ob_jobs_tenant_settings(s, slug, &set, err) != 0) return -1;
    const char *name = json_string_value(json_object_get(set, "timezone"));
    int rc = ob_tz_get(name, out, err);
    json_decref(set);
    return rc;
}

int ob_schedule_next(const ob_tz *z, const char *spec, int64_t after_ms, char out[OB_TS_LEN], ob_err *err)
{
    ob_cron c;
    int64_t at;
    if (ob_cron_parse(spec, &c, err) != 0) return -1;
    if (ob_cron_next(&c, z, after_ms, &at) != 0)
        return ob_err_set(err, OB_E_UNPROCESSABLE, "cron \"%.100s\" matches no time in the next five years", spec);
    ob_ts_format(at, out);
    return 0;
}

int ob_schedule_seed(ob_ctx *ctx, const char *name, const char *cron, const char *kind, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT 1 FROM schedules WHERE kind = ? LIMIT 1", &st, err) != 0) return -1;
    int rc = ob_stmt_bind_text(st, 1, kind, err);
    if (rc == 0) rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc != 0) return rc < 0 ? -1 : 0;
    const ob_tz *utc;
    char next[OB_TS_LEN], id[OB_UUID_LEN];
    if (ob_tz_get("UTC", &utc, err) != 0 || ob_schedule_next(utc, cron, ctx->now_ms, next, err) != 0) return -1;
    ob_uuid7(id);
    ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(name),
                    ob_v_text(cron), ob_v_text(kind), ob_v_text(next)};
    /* the name is unique: a tenant's own schedule of that name wins */
    return ob_sql_run(ctx->db,
                      "INSERT INTO schedules (id, created_at, updated_at, version, name, cron, kind, payload, "
                      "enabled, next_run_at) VALUES (?, ?, ?, 1, ?, ?, ?, '{}', TRUE, ?) ON CONFLICT DO NOTHING",
                      v, (int)OB_ARRAY_LEN(v), err);
}

typedef struct due {
    const char *id, *cron, *kind, *payload, *slot;
} due;

/* Due schedules, read on a reader: most sweeps find none and take no lock. */
static int find_due(ob_store *s, const ob_tenant_info *ti, ob_arena *a, const char *now, due *out, int max, int *n,
                    ob_err *err)
{
    *n = 0;
    ob_conn *c;
    if (ob_db_acquire(s, ti->slug, ti->id, OB_DB_READ, &c, err) != 0) return -1;
    ob_stmt *st = NULL;
    int rc = ob_db_prepare(c,
                           "SELECT id, cron, kind, payload, next_run_at FROM schedules WHERE enabled = ? "
                           "AND next_run_at <= ? ORDER BY next_run_at, id LIMIT 32",
                           &st, err);
    ob_value v[] = {ob_v_bool(true), ob_v_text(now)};
    for (int i = 0; rc == 0 && i < 2; i++) rc = ob_stmt_bind(st, i + 1, &v[i], err);
    while (rc == 0 && *n < max) {
        int got = ob_stmt_step(st, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        due *d = &out[(*n)++];
        const char **f[] = {&d->id, &d->cron, &d->kind, &d->payload, &d->slot};
        for (int i = 0; i < 5; i++) {
            const char *t = ob_stmt_col_text(st, i, NULL);
            *f[i] = t ? ob_arena_strdup(a, t) : NULL;
        }
    }
    if (st) ob_stmt_done(st);
    ob_db_release(c);
    return rc;
}

/* Claim one slot and enqueue its job in one transaction; 1 fired, 0 another
 * worker had fired it (or the schedule changed), -1 error. */
static int fire(ob_store *s, const ob_tenant_info *ti, ob_arena *a, const ob_tz *z, const due *d, ob_err *err)
{
    ob_conn *w;
    if (ob_db_acquire(s, ti->slug, ti->id, OB_DB_WRITE, &w, err) != 0) return -1;
    ob_ctx ctx;
    ob_ctx_system(&ctx, a, s, w, ti);
    /* the next slot after now: a schedule that missed slots while no worker
     * ran fires once for them, not once per missed slot */
    char next[OB_TS_LEN];
    int64_t slot_ms = 0;
    ob_ts_parse(d->slot, &slot_ms);
    ob_err cerr;
    int rc = ob_db_begin(w, err);
    int fired = 0;
    if (rc == 0 && ob_schedule_next(z, d->cron, slot_ms > ctx.now_ms ? slot_ms : ctx.now_ms, next, &cerr) != 0) {
        /* a spec that stopped matching (the zone changed): park it */
        ob_value v[] = {ob_v_bool(false), ob_v_text(ctx.now), ob_v_text(d->id), ob_v_text(d->slot)};
        rc = ob_sql_run(w,
                        "UPDATE schedules SET enabled = ?, updated_at = ?, version = version + 1 "
                        "WHERE id = ? AND next_run_at = ?",
                        v, 4, err);
    } else if (rc == 0) {
        ob_value v[] = {ob_v_text(next), ob_v_text(d->slot), ob_v_text(ctx.now), ob_v_text(d->id), ob_v_text(d->slot),
                        ob_v_bool(true)};
        rc = ob_sql_run(w,
                        "UPDATE schedules SET next_run_at = ?, last_run_at = ?, updated_at = ?, version = version + 1 "
                        "WHERE id = ? AND next_run_at = ? AND enabled = ?",
                        v, 6, err);
        if (rc == 0 && ob_db_changes(w) == 1) {
            fired = 1;
            rc = ob_job_enqueue_at(&ctx, d->kind, d->payload, 0, d->slot, err);
        }
    }
    if (rc == 0) rc = ob_db_commit(w, err);
    else ob_db_rollback(w);
    ob_db_release(w);
    if (rc == 0 && fired)
        ob_log(OB_LOG_INFO, "schedule fired", "tenant", ti->slug, "schedule", d->id, "slot", d->slot, NULL);
    return rc == 0 ? fired : -1;
}

int ob_schedules_fire_due(ob_store *s, const ob_tenant_info *ti, ob_arena *a, int *fired, ob_err *err)
{
    *fired = 0;
    char now[OB_TS_LEN];
    ob_ts_format(ob_now_ms(), now);
    due d[32];
    int n;
    if (find_due(s, ti, a, now, d, 32, &n, err) != 0) return -1;
    if (n == 0) return 0;
    const ob_tz *z;
    if (ob_jobs_tenant_zone(s, ti->slug, &z, err) != 0) return -1;
    for (int i = 0; i < n; i++) {
        int f = fire(s, ti, a, z, &d[i], err);
        if (f < 0) return -1;
        *fired += f;
    }
    return 0;
}
