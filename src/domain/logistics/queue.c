/* queue.c - the queue at a service centre's counters (000): tokens A001,
 * A002, ... per centre, per local day and per prefix, numbered from a
 * tenant counter in the token's transaction (two desks issuing at once get
 * two numbers); estimates are the people waiting ahead times the mean
 * service time (served_at to completed_at) of the centre's last 20 served,
 * or its default_service_minutes before any. */
#include <string.h>

#include "base/base.h"
#include "domain/logistics/logistics.h"
#include "jobs/jobs.h"
#include "jobs/tz.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* Today in the centre's zone, else the tenant's. */
static int local_day(ob_ctx *ctx, const ob_row *centre, char out[11], ob_err *err)
{
    const ob_tz *z;
    const char *name = ob_row_text(centre, SERVICE_CENTERS_TIMEZONE);
    int rc = name && *name ? ob_tz_get(name, &z, err) : ob_jobs_tenant_zone(ctx->store, ctx->tenant->slug, &z, err);
    if (rc != 0) return -1;
    int64_t s = ctx->now_ms / 1000;
    int64_t local = s + ob_tz_offset(z, s);
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    ob_date_format(days, out);
    return 0;
}

/* The mean service time in minutes (rounded) of the last 20 served. */
static int mean_minutes(ob_ctx *ctx, const ob_row *centre, int64_t *out, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"served_at\", \"completed_at\" FROM \"queue_numbers\" WHERE \"service_center_id\" = ? "
                      "AND \"status\" = 'completed' AND \"served_at\" IS NOT NULL AND \"completed_at\" IS NOT NULL "
                      "ORDER BY \"completed_at\" DESC, \"id\" DESC LIMIT 20",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ob_row_id(centre), err);
    int64_t total = 0, n = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        int64_t a, b;
        if (ob_ts_parse(ob_stmt_col_text(st, 0, NULL), &a) != 0 || ob_ts_parse(ob_stmt_col_text(st, 1, NULL), &b) != 0)
            continue;
        total += b > a ? b - a : 0;
        n++;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    *out = n ? (total / n + 30000) / 60000 : ob_row_int(centre, SERVICE_CENTERS_DEFAULT_SERVICE_MINUTES, 5);
    return 0;
}

/* Today's waiting tokens of the centre, in queue order (at most 999 per prefix a day). */
static int waiting(ob_ctx *ctx, const ob_row *centre, const char *day, const char ***ids, int *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\" FROM \"queue_numbers\" WHERE \"service_center_id\" = ? AND \"queue_date\" = ? "
                      "AND \"status\" = 'waiting' ORDER BY \"created_at\", \"id\" LIMIT 5000",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ob_row_id(centre), err);
    ob_stmt_bind_text(st, 2, day, err);
    int cap = 64, rc;
    *ids = ob_arena_alloc(ctx->arena, sizeof **ids * (size_t)cap);
    *n = 0;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (*n == cap) {
            const char **more = ob_arena_alloc(ctx->arena, sizeof *more * (size_t)cap * 2);
            memcpy(more, *ids, sizeof *more * (size_t)cap);
            *ids = more;
            cap *= 2;
        }
        (*ids)[(*n)++] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

static int service_type_by_code(ob_ctx *ctx, const char *code, ob_row **out, ob_err *err)
{
    *out = NULL;
    if (!code) return 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT \"id\" FROM \"service_types\" WHERE \"service_code\" = ?", &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, code, err);
    int rc = ob_stmt_step(st, err);
    const char *id = rc == 1 ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)) : NULL;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (!id) {
        ob_err_set(err, OB_E_UNPROCESSABLE, "no service type has the code \"%.20s\"", code);
        ob_err_field_add(err, SERVICE_CENTERS_TOKENS_IN_SERVICE_TYPE.name, "is not the code of a service type");
        err->code = OB_E_UNPROCESSABLE;
        return -1;
    }
    return ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_SERVICE_TYPES), id, out, err);
}

OB_ACTION_FN(ob_centre_issue_token)
{
    (void)row;
    if (!ob_row_int(old, SERVICE_CENTERS_IS_ACTIVE, 1))
        return ob_err_set(err, OB_E_BAD_STATE, "the centre is not active");
    ob_row *type;
    if (service_type_by_code(ctx, ob_row_text(ctx->input, SERVICE_CENTERS_TOKENS_IN_SERVICE_TYPE), &type, err) != 0)
        return -1;
    const char *prefix = type && ob_row_text(type, SERVICE_TYPES_TOKEN_PREFIX) ? ob_row_text(type, SERVICE_TYPES_TOKEN_PREFIX) : "A";
    char day[11];
    if (local_day(ctx, old, day, err) != 0) return -1;
    int64_t n;
    if (ob_sql_seq_next(ctx, ob_arena_printf(ctx->arena, "queue.%s.%s.%s", ob_row_id(old), day, prefix), &n, err) != 0)
        return -1;
    if (n > 999) return ob_err_set(err, OB_E_CONFLICT, "the centre has issued 999 %s tokens today", prefix);
    const char **ahead;
    int nahead;
    int64_t mean;
    if (waiting(ctx, old, day, &ahead, &nahead, err) != 0 || mean_minutes(ctx, old, &mean, err) != 0) return -1;
    ob_row *q = ob_row_with_defaults(ctx, OB_TABLE_QUEUE_NUMBERS);
    ob_row_set_text(ctx->arena, q, QUEUE_NUMBERS_QUEUE_NUMBER, ob_arena_printf(ctx->arena, "%s%03lld", prefix, (long long)n));
    ob_row_set_text(ctx->arena, q, QUEUE_NUMBERS_CUSTOMER_ID, ob_row_text(ctx->input, SERVICE_CENTERS_TOKENS_IN_CUSTOMER_ID));
    ob_row_set_text(ctx->arena, q, QUEUE_NUMBERS_SERVICE_CENTER_ID, ob_row_id(old));
    if (type) ob_row_set_text(ctx->arena, q, QUEUE_NUMBERS_SERVICE_TYPE_ID, ob_row_id(type));
    ob_row_set_text(ctx->arena, q, QUEUE_NUMBERS_QUEUE_DATE, day);
    ob_row_set_int(q, QUEUE_NUMBERS_ESTIMATED_WAIT_MINUTES, nahead * mean > 9999 ? 9999 : nahead * mean);
    if (ob_crud_insert_row(ctx, q, err) != 0) return -1;
    ctx->reply = q;
    return 0;
}

OB_ACTION_FN(ob_centre_call_next)
{
    (void)row;
    char day[11];
    if (local_day(ctx, old, day, err) != 0) return -1;
    const char **ids;
    int n;
    int64_t mean;
    if (waiting(ctx, old, day, &ids, &n, err) != 0 || mean_minutes(ctx, old, &mean, err) != 0) return -1;
    if (n == 0) return ob_err_set(err, OB_E_BAD_STATE, "no one is waiting at the centre today");
    const ob_table *t = ob_registry_find(OB_TABLE_QUEUE_NUMBERS);
    ob_row *called = NULL;
    for (int i = 0; i < n; i++) {
        ob_row *q;
        if (ob_sql_load_internal(ctx, t, ids[i], &q, err) != 0) return -1;
        ob_row *next = ob_row_copy(ctx->arena, q);
        if (i == 0) {
            int64_t created;
            ob_row_set_text(ctx->arena, next, QUEUE_NUMBERS_STATUS, "called");
            ob_row_set_text(ctx->arena, next, QUEUE_NUMBERS_CALLED_AT, ctx->now);
            if (ob_ts_parse(ob_row_text(q, QUEUE_NUMBERS_CREATED_AT), &created) == 0 && ctx->now_ms >= created) {
                int64_t m = (ctx->now_ms - created) / 60000;
                ob_row_set_int(next, QUEUE_NUMBERS_ACTUAL_WAIT_MINUTES, m > 9999 ? 9999 : m);
            }
            called = next;
        } else {
            int64_t est = (int64_t)(i - 1) * mean;
            ob_row_set_int(next, QUEUE_NUMBERS_ESTIMATED_WAIT_MINUTES, est > 9999 ? 9999 : est);
        }
        if (ob_crud_save(ctx, q, next, i == 0 ? "call" : "estimate", err) != 0) return -1;
    }
    ctx->reply = called;
    return 0;
}

OB_EFFECT_FN(ob_queue_serve)
{
    (void)old;
    (void)err;
    if (ob_row_is_null(row, QUEUE_NUMBERS_SERVED_AT)) ob_row_set_text(ctx->arena, row, QUEUE_NUMBERS_SERVED_AT, ctx->now);
    return 0;
}

OB_EFFECT_FN(ob_queue_complete)
{
    (void)old;
    if (ob_row_is_null(row, QUEUE_NUMBERS_COMPLETED_AT))
        ob_row_set_text(ctx->arena, row, QUEUE_NUMBERS_COMPLETED_AT, ctx->now);
    const char *a = ob_row_text(row, QUEUE_NUMBERS_SERVED_AT), *b = ob_row_text(row, QUEUE_NUMBERS_COMPLETED_AT);
    int64_t sa, sb;
    if (a && ob_ts_parse(a, &sa) == 0 && ob_ts_parse(b, &sb) == 0 && sb < sa) {
        ob_err_set(err, OB_E_VALIDATION, "completed_at is before served_at");
        return ob_err_field_add(err, QUEUE_NUMBERS_COMPLETED_AT.name, "is before served_at");
    }
    return 0;
}
