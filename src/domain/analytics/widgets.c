/* widgets.c - what a dashboard widget shows, GET /api/v1/dashboard_widgets/
 * {id}/data (a view of the table), from its widget_config, checked when the
 * widget is saved:
 *   metric {"kpi": name, "days": 1..366 (1), "title"}: the KPI measured over
 *          the last `days` days of the tenant's calendar (today included);
 *   chart  {"kpi": name, "days": 1..92 (7), "title"}: one point per day, the
 *          KPI measured with that day as its period;
 *   table  {"kpis": [names] (all), "title"}: the tenant's active KPI targets,
 *          measured now.
 * The names are those kpis.c measures (docs/kpis.md). A widget's data is its
 * owner's (user_id): another user's widget is 404, as another tenant's is. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "base/jsonw.h"
#include "domain/analytics/analytics.h"
#include "domain/security/rules.h"
#include "jobs/tz.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define MAX_TABLE_ROWS 100

static const char *type_of(const ob_row *row)
{
    const char *t = ob_row_text(row, DASHBOARD_WIDGETS_WIDGET_TYPE);
    return t ? t : "";
}

static int bad(ob_err *err, const char *problem)
{
    return ob_rule_field_error(err, DASHBOARD_WIDGETS_WIDGET_CONFIG.name, problem);
}

/* The config's days (dflt when absent), or -1 when out of 1..max. */
static int64_t days_of(json_t *cfg, int64_t dflt, int64_t max)
{
    json_t *d = json_object_get(cfg, "days");
    if (!d) return dflt;
    if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > max) return -1;
    return (int64_t)json_integer_value(d);
}

static int check(const char *type, json_t *cfg, ob_err *err)
{
    if (!json_is_object(cfg)) return bad(err, "must be an object");
    json_t *title = json_object_get(cfg, "title");
    if (title && !json_is_string(title)) return bad(err, "title must be a string");
    if (!strcmp(type, "metric") || !strcmp(type, "chart")) {
        bool chart = type[0] == 'c';
        const char *kpi = json_string_value(json_object_get(cfg, "kpi"));
        if (!ob_kpi_known(kpi))
            return bad(err, "kpi must be one of daily_sales, monthly_sales, average_invoice_value, "
                            "inventory_turnover, customer_acquisition, gold_sold_grams");
        if (days_of(cfg, 1, chart ? 92 : 366) < 0)
            return bad(err, chart ? "days must be a whole number from 1 to 92" : "days must be a whole number from 1 to 366");
    } else if (!strcmp(type, "table")) {
        json_t *kpis = json_object_get(cfg, "kpis"), *k;
        size_t i;
        if (kpis && !json_is_array(kpis)) return bad(err, "kpis must be an array of KPI names");
        json_array_foreach(kpis, i, k) if (!ob_kpi_known(json_string_value(k)))
            return bad(err, "kpis names a KPI that is not measured (docs/kpis.md)");
    }
    /* alert widgets keep a free-form config; they have no data */
    return 0;
}

int ob_widget_check_config(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    (void)ctx;
    const char *text = ob_row_text(row, DASHBOARD_WIDGETS_WIDGET_CONFIG);
    json_t *cfg = json_loads(text ? text : "null", JSON_DECODE_ANY, NULL);
    int rc = check(type_of(row), cfg, err);
    json_decref(cfg);
    return rc;
}

static void day_text(int64_t day, char out[11])
{
    int64_t y;
    int m, d;
    ob_civil_from_days(day, &y, &m, &d);
    snprintf(out, 11, "%04lld-%02d-%02d", (long long)y, m, d);
}

static void dec(ob_jsonw *w, const char *key, int64_t minor)
{
    char buf[48];
    ob_format_decimal(minor, 2, buf, sizeof buf);
    ob_jw_kstr(w, key, buf);
}

static int metric(ob_ctx *ctx, json_t *cfg, ob_jsonw *w, ob_err *err)
{
    const char *kpi = json_string_value(json_object_get(cfg, "kpi")), *trend = NULL;
    int64_t today, value = 0, days = days_of(cfg, 1, 366);
    if (ob_kpi_today(ctx, &today, err) != 0) return -1;
    if (ob_kpi_measure_days(ctx, kpi, today - days + 1, today, &value, &trend, err) != 0) return -1;
    char from[11], to[11];
    day_text(today - days + 1, from);
    day_text(today, to);
    ob_jw_kstr(w, "kpi", kpi);
    ob_jw_kstr(w, "from", from);
    ob_jw_kstr(w, "to", to);
    dec(w, "value", value);
    ob_jw_kstr(w, "trend", trend);
    return 0;
}

static int chart(ob_ctx *ctx, json_t *cfg, ob_jsonw *w, ob_err *err)
{
    const char *kpi = json_string_value(json_object_get(cfg, "kpi"));
    int64_t today, days = days_of(cfg, 7, 92);
    if (ob_kpi_today(ctx, &today, err) != 0) return -1;
    ob_jw_kstr(w, "kpi", kpi);
    ob_jw_key(w, "points");
    ob_jw_arr_open(w);
    for (int64_t d = today - days + 1; d <= today; d++) {
        int64_t value = 0;
        if (ob_kpi_measure_days(ctx, kpi, d, d, &value, NULL, err) != 0) return -1;
        char date[11];
        day_text(d, date);
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "date", date);
        dec(w, "value", value);
        ob_jw_obj_close(w);
    }
    ob_jw_arr_close(w);
    return 0;
}

static bool wanted(json_t *kpis, const char *name)
{
    if (!kpis) return true;
    size_t i;
    json_t *k;
    json_array_foreach(kpis, i, k) if (!strcmp(json_string_value(k), name)) return true;
    return false;
}

static int table(ob_ctx *ctx, json_t *cfg, ob_jsonw *w, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_KPI_TARGETS);
    json_t *kpis = json_object_get(cfg, "kpis");
    ob_stmt *st;
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"kpi_targets\" WHERE \"is_active\" ORDER BY \"kpi_name\", "
                                      "\"period_start\", \"id\" LIMIT %d",
                                      ob_sql_cols(t), MAX_TABLE_ROWS);
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_row *rows[MAX_TABLE_ROWS];
    int n = 0, rc;
    while (n < MAX_TABLE_ROWS && (rc = ob_stmt_step(st, err)) == 1) {
        rows[n] = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, rows[n], st);
        if (wanted(kpis, ob_row_text(rows[n], KPI_TARGETS_KPI_NAME))) n++;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    ob_jw_key(w, "rows");
    ob_jw_arr_open(w);
    for (int i = 0; i < n; i++) {
        ob_row *r = rows[i];
        if (ob_kpi_refresh(ctx, r, err) != 0) return -1;
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "id", ob_row_id(r));
        ob_jw_kstr(w, "kpi_name", ob_row_text(r, KPI_TARGETS_KPI_NAME));
        ob_jw_kstr(w, "period_start", ob_row_text(r, KPI_TARGETS_PERIOD_START));
        ob_jw_kstr(w, "period_end", ob_row_text(r, KPI_TARGETS_PERIOD_END));
        dec(w, "target_value", ob_row_int(r, KPI_TARGETS_TARGET_VALUE, 0));
        dec(w, "current_value", ob_row_int(r, KPI_TARGETS_CURRENT_VALUE, 0));
        dec(w, "achievement_rate", ob_row_int(r, KPI_TARGETS_ACHIEVEMENT_RATE, 0));
        ob_jw_kstr(w, "trend_direction", ob_row_text(r, KPI_TARGETS_TREND_DIRECTION));
        ob_jw_obj_close(w);
    }
    ob_jw_arr_close(w);
    return 0;
}

int ob_widget_data(ob_ctx *ctx, const ob_row *row, ob_sb *out, ob_err *err)
{
    const char *owner = ob_row_text(row, DASHBOARD_WIDGETS_USER_ID);
    const char *me = ctx->who ? ctx->who->user_id : NULL;
    if (!owner || !me || strcmp(owner, me) != 0)
        return ob_err_set(err, OB_E_NOT_FOUND, "dashboard_widgets record not found");
    const char *type = type_of(row), *text = ob_row_text(row, DASHBOARD_WIDGETS_WIDGET_CONFIG);
    json_t *cfg = json_loads(text ? text : "null", JSON_DECODE_ANY, NULL);
    /* a config stored before the check (or by hand) is refused as it would be on save */
    if (check(type, cfg, err) != 0) {
        json_decref(cfg);
        err->code = OB_E_UNPROCESSABLE;
        return -1;
    }
    ob_jsonw w;
    ob_jw_init(&w, out);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "widget_id", ob_row_id(row));
    ob_jw_kstr(&w, "widget_type", type);
    ob_jw_kstr(&w, "title", json_string_value(json_object_get(cfg, "title")));
    int rc;
    if (!strcmp(type, "metric")) rc = metric(ctx, cfg, &w, err);
    else if (!strcmp(type, "chart")) rc = chart(ctx, cfg, &w, err);
    else if (!strcmp(type, "table")) rc = table(ctx, cfg, &w, err);
    else rc = ob_err_set(err, OB_E_UNPROCESSABLE, "an alert widget has no data");
    json_decref(cfg);
    if (rc != 0) return -1;
    ob_jw_obj_close(&w);
    return 0;
}
