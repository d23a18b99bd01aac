/* requests.c - the life of a service request (000): its SLA due time from
 * the service type (in its business calendar's hours when it names one), the approval a type may require, and what the events
 * of its state machine (services.c) do beyond moving the status. */
#include <string.h>

#include "base/base.h"
#include "domain/logistics/logistics.h"
#include "domain/support/support.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

static int service_type(ob_ctx *ctx, const ob_row *req, ob_row **out, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_SERVICE_TYPES);
    return ob_sql_load_internal(ctx, t, ob_row_text(req, SERVICE_REQUESTS_SERVICE_TYPE_ID), out, err);
}

static bool needs_approval(const ob_row *type)
{
    return ob_row_int(type, SERVICE_TYPES_REQUIRES_APPROVAL, 0) != 0;
}

static int request_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_row_is_null(row, SERVICE_REQUESTS_SERVICE_TYPE_ID)) return 0; /* validation reports it */
    ob_row *type;
    if (service_type(ctx, row, &type, err) != 0) {
        if (err->code == OB_E_NOT_FOUND) ob_err_clear(err); /* validation reports the reference */
        return err->code == OB_E_OK ? 0 : -1;
    }
    if (needs_approval(type)) ob_row_set_text(ctx->arena, row, SERVICE_REQUESTS_STATUS, "in_review");
    int64_t minutes = ob_row_int(type, SERVICE_TYPES_SLA_HOURS, 24) * 60, due_ms = ctx->now_ms + minutes * 60000;
    /* counted in the type's working hours when it names a calendar, as a ticket's in its category's */
    const char *cal = ob_row_text(type, SERVICE_TYPES_BUSINESS_CALENDAR_ID);
    if (cal && ob_business_due(ctx, cal, ctx->now_ms, &minutes, &due_ms, 1, err) != 0) return -1;
    char due[OB_TS_LEN];
    ob_ts_format(due_ms, due);
    ob_row_set_text(ctx->arena, row, SERVICE_REQUESTS_SLA_DUE_AT, due);
    return 0;
}

const ob_hooks ob_service_request_hooks = {.before_create = request_before_create};

OB_EFFECT_FN(ob_service_request_submit)
{
    (void)old;
    ob_row *type;
    if (service_type(ctx, row, &type, err) != 0) return -1;
    if (needs_approval(type)) ob_row_set_text(ctx->arena, row, SERVICE_REQUESTS_STATUS, "in_review");
    return 0;
}

OB_GUARD_FN(ob_service_request_may_start)
{
    ob_row *type;
    if (service_type(ctx, row, &type, err) != 0) return -1;
    /* the row carries the new status: where it came from is in the stamps' rule, so look at approval */
    if (needs_approval(type) && ob_row_is_null(row, SERVICE_REQUESTS_APPROVED_AT))
        return ob_err_set(err, OB_E_BAD_STATE, "a request of a type that requires approval starts once approved");
    return 0;
}

OB_EFFECT_FN(ob_service_request_complete)
{
    (void)old;
    (void)err;
    if (ob_row_is_null(row, SERVICE_REQUESTS_ACTUAL_COMPLETION_DATE)) {
        char day[11];
        ob_date_format(ctx->now_ms / 86400000, day);
        ob_row_set_text(ctx->arena, row, SERVICE_REQUESTS_ACTUAL_COMPLETION_DATE, day);
    }
    return 0;
}

int ob_service_sla_check(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    (void)job;
    /* open requests past their due time, a bounded batch per run */
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\" FROM \"service_requests\" WHERE \"sla_breached\" = ? AND \"sla_due_at\" <= ? "
                      "AND \"status\" IN ('draft', 'submitted', 'in_review', 'approved', 'in_progress') "
                      "ORDER BY \"sla_due_at\", \"id\" LIMIT 500",
                      &st, err) != 0)
        return -1;
    ob_value no = ob_v_bool(false);
    ob_stmt_bind(st, 1, &no, err);
    ob_stmt_bind_text(st, 2, ctx->now, err);
    const char *ids[500];
    int n = 0, rc;
    while (n < 500 && (rc = ob_stmt_step(st, err)) == 1)
        ids[n++] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (n < 500 && rc < 0) return -1;
    const ob_table *t = ob_registry_find(OB_TABLE_SERVICE_REQUESTS);
    for (int i = 0; i < n; i++) {
        ob_row *old;
        if (ob_sql_load_internal(ctx, t, ids[i], &old, err) != 0) return -1;
        ob_row *row = ob_row_copy(ctx->arena, old);
        ob_row_set_bool(row, SERVICE_REQUESTS_SLA_BREACHED, true);
        if (ob_crud_save(ctx, old, row, "sla_breach", err) != 0) return -1;
    }
    ob_sb_addf(result, "{\"breached\":%d}", n);
    return 0;
}
