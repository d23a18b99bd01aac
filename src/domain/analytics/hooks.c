/* hooks.c - analytics, reports and automation: rows are tied to their
 * author, events to their catalogued type, KPI rates follow their values. */
#include <string.h>

#include "base/base.h"
#include "domain/analytics/analytics.h"
#include "domain/security/rules.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* Fill event_name and event_category from the catalogued type when absent. */
static void event_defaults(ob_ctx *ctx, ob_row *row, const char *name, const char *category)
{
    if (ob_row_is_null(row, ANALYTICS_EVENTS_EVENT_NAME) && name)
        ob_row_set_text(ctx->arena, row, ANALYTICS_EVENTS_EVENT_NAME, name);
    if (ob_row_is_null(row, ANALYTICS_EVENTS_EVENT_CATEGORY) && category)
        ob_row_set_text(ctx->arena, row, ANALYTICS_EVENTS_EVENT_CATEGORY, category);
}

/* Find an event type by code; 1 found (row filled), 0 not, -1 error. */
static int event_type_by_code(ob_ctx *ctx, ob_row *row, const char *code, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT id, name, category FROM event_types WHERE code = ?", &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, code, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        ob_row_set_text(ctx->arena, row, ANALYTICS_EVENTS_EVENT_TYPE_ID, ob_stmt_col_text(st, 0, NULL));
        event_defaults(ctx, row, ob_stmt_col_text(st, 1, NULL), ob_stmt_col_text(st, 2, NULL));
    }
    ob_stmt_done(st);
    return rc;
}

static int event_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const char *type_id = ob_row_text(row, ANALYTICS_EVENTS_EVENT_TYPE_ID);
    const char *code = ob_row_text(row, ANALYTICS_EVENTS_EVENT_TYPE);
    if (type_id) {
        ob_row *et;
        if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_EVENT_TYPES), type_id, &et, err) != 0) {
            if (err->code != OB_E_NOT_FOUND) return -1;
            /* reported here, as the reference check would, before the
             * event_type it should have given is found missing */
            ob_err_set(err, OB_E_UNPROCESSABLE, "\"event_type_id\" refers to a event_types record that does not exist");
            ob_err_field_add(err, ANALYTICS_EVENTS_EVENT_TYPE_ID.name, "refers to a record that does not exist");
            err->code = OB_E_UNPROCESSABLE;
            return -1;
        }
        const char *et_code = ob_row_text(et, EVENT_TYPES_CODE);
        if (code && strcmp(code, et_code) != 0)
            return ob_rule_field_error(err, ANALYTICS_EVENTS_EVENT_TYPE.name,
                                       "does not match the type of event_type_id");
        ob_row_set_text(ctx->arena, row, ANALYTICS_EVENTS_EVENT_TYPE, et_code);
        code = et_code;
        event_defaults(ctx, row, ob_row_text(et, EVENT_TYPES_NAME), ob_row_text(et, EVENT_TYPES_CATEGORY));
    } else if (code && event_type_by_code(ctx, row, code, err) < 0) {
        return -1;
    }
    /* an uncatalogued type (004 logs any event_type) names its own events */
    if (code && ob_row_is_null(row, ANALYTICS_EVENTS_EVENT_NAME))
        ob_row_set_text(ctx->arena, row, ANALYTICS_EVENTS_EVENT_NAME, code);
    return 0;
}

const ob_hooks ob_analytics_event_hooks = {.before_create = event_before_create};

/* achievement_rate = current / target * 100, rounded half away from zero to
 * the column's 2 decimals; both values are in minor units of scale 2. */
static void kpi_rate(ob_row *row)
{
    const ob_value *cur = ob_row_get(row, KPI_TARGETS_CURRENT_VALUE), *tgt = ob_row_get(row, KPI_TARGETS_TARGET_VALUE);
    int64_t rate = 0;
    if (cur->t == OB_V_DEC && tgt->t == OB_V_DEC && tgt->i != 0) {
        __int128 num = (__int128)cur->i * 10000, den = tgt->i;
        bool neg = (num < 0) != (den < 0);
        if (num < 0) num = -num;
        if (den < 0) den = -den;
        __int128 q = (num + den / 2) / den;
        if (q > INT64_MAX) q = INT64_MAX;
        rate = neg ? -(int64_t)q : (int64_t)q;
    }
    ob_row_set_int(row, KPI_TARGETS_ACHIEVEMENT_RATE, rate);
}

int ob_kpi_refresh(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_kpi_measure(ctx, row, err) != 0) return -1;
    kpi_rate(row);
    return 0;
}

static int kpi_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_kpi_refresh(ctx, row, err) != 0) return -1;
    return ob_rule_stamp_user(ctx, row, KPI_TARGETS_CREATED_BY, true, err);
}

static int kpi_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    return ob_kpi_refresh(ctx, row, err);
}

/* A target read alone shows its figures as of now (lists: as last saved). */
static int kpi_on_read(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (!ob_row_int(row, KPI_TARGETS_IS_ACTIVE, 0)) return 0;
    return ob_kpi_refresh(ctx, row, err);
}

const ob_hooks ob_kpi_target_hooks = {
    .before_create = kpi_before_create, .before_update = kpi_before_update, .on_read = kpi_on_read};

static int widget_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_widget_check_config(ctx, row, err) != 0) return -1;
    return ob_rule_stamp_user(ctx, row, DASHBOARD_WIDGETS_USER_ID, true, err);
}

static int widget_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    return ob_widget_check_config(ctx, row, err);
}

const ob_hooks ob_dashboard_widget_hooks = {.before_create = widget_before_create,
                                            .before_update = widget_before_update};

static int report_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_report_check_config(ctx, row, err) != 0) return -1;
    return ob_rule_stamp_user(ctx, row, CUSTOM_REPORTS_CREATED_BY, true, err);
}

static int report_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    return ob_report_check_config(ctx, row, err);
}

const ob_hooks ob_custom_report_hooks = {.before_create = report_before_create,
                                         .before_update = report_before_update};

static int rule_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_automation_check(ctx, row, err) != 0) return -1;
    return ob_rule_stamp_user(ctx, row, AUTOMATION_RULES_CREATED_BY, true, err);
}

static int rule_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    return ob_automation_check(ctx, row, err);
}

const ob_hooks ob_automation_rule_hooks = {.before_create = rule_before_create, .before_update = rule_before_update};
