/* reports.c - GET /api/v1/reports/inventory?from=&to=&warehouse_id=: the
 * daily inventory metrics (the job kind inventory.metrics writes them into
 * analytics_metrics), one entry per day that has them, in date order; with
 * format=pdf the same days as a PDF table (export_pdf.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/export_int.h"
#include "base/base.h"
#include "base/clock.h"
#include "base/jsonw.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define MAX_DAYS 366

bool ob_api_report_date(const char *s, int64_t *ms)
{
    char ts[32];
    if (!s || strlen(s) != 10) return false;
    snprintf(ts, sizeof ts, "%sT00:00:00Z", s);
    return ob_ts_parse(ts, ms) == 0;
}

int ob_api_bad_query(ob_resp *resp, const char *msg)
{
    ob_err err;
    ob_err_set(&err, OB_E_BAD_QUERY, "%s", msg);
    ob_resp_error(resp, &err);
    return -1;
}

int ob_api_report_period(const ob_req *req, const char *group, ob_report_period *p, ob_resp *resp)
{
    memset(p, 0, sizeof *p);
    p->group = group;
    for (int i = 0; i < req->nquery; i++) {
        const ob_kv *q = &req->query[i];
        if (!strcmp(q->key, "from")) p->from = q->val;
        else if (!strcmp(q->key, "to")) p->to = q->val;
        else if (!strcmp(q->key, "group")) p->group = q->val;
        else return ob_api_bad_query(resp, "unknown parameter: the report takes from, to and group");
    }
    if (!ob_api_report_date(p->from, &p->from_ms) || !ob_api_report_date(p->to, &p->to_ms) || p->to_ms < p->from_ms)
        return ob_api_bad_query(resp, "from and to are required dates, YYYY-MM-DD, to on or after from");
    if (!p->group) return ob_api_bad_query(resp, "group needs a value");
    return 0;
}

/* One day's figures as it accumulates them from the rows of the query. */
typedef struct day {
    char date[11];
    int64_t sold, received, outs, value4, turnover4;
} day;

static void write_day(ob_jsonw *w, const day *d)
{
    char value[48], turnover[48];
    ob_format_decimal(d->value4 / 100, 2, value, sizeof value); /* money: 2 places */
    ob_format_decimal(d->turnover4, 4, turnover, sizeof turnover);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "date", d->date);
    ob_jw_ki64(w, "units_sold", d->sold / 10000);
    ob_jw_ki64(w, "units_received", d->received / 10000);
    ob_jw_ki64(w, "stock_outs", d->outs / 10000);
    ob_jw_kstr(w, "inventory_value", value);
    ob_jw_kstr(w, "turnover", turnover);
    ob_jw_obj_close(w);
}

/* The report's JSON (resp->body) as a PDF table, with the tenant's
 * watermark when it asks for one. */
static void as_pdf(ob_app *app, ob_resp *resp, ob_ctx *ctx, const char *filters)
{
    static const ob_column cols[] = {{"date", OB_F_TEXT},        {"units_sold", OB_F_INT},
                                     {"units_received", OB_F_INT}, {"stock_outs", OB_F_INT},
                                     {"inventory_value", OB_F_DECIMAL}, {"turnover", OB_F_DECIMAL}};
    const ob_column *cp[OB_ARRAY_LEN(cols)];
    const char *names[OB_ARRAY_LEN(cols)];
    for (size_t k = 0; k < OB_ARRAY_LEN(cols); k++) cp[k] = &cols[k], names[k] = cols[k].name;
    ob_err err;
    ob_export_rules rules;
    if (!app->files) {
        ob_err_set(&err, OB_E_UNAVAILABLE, "PDF reports are not available");
        goto fail;
    }
    if (ob_export_rules_read(ctx, &rules, &err) != 0) goto fail;
    const char *mark = rules.watermark ? ob_arena_printf(ctx->arena, "Exported by %s (user %s) from tenant %s at %s",
                                                         ctx->who->email ? ctx->who->email : "-", ctx->who->user_id,
                                                         ctx->tenant->slug, ctx->now)
                                       : NULL;
    json_t *doc = json_loadb(resp->body.buf, resp->body.len, 0, NULL);
    ob_pdf *p = ob_pdf_new(ob_arena_printf(ctx->arena, "Inventory report, tenant %s", ctx->tenant->slug), filters,
                           ob_arena_printf(ctx->arena, "%s UTC", ctx->now), mark, names, (int)OB_ARRAY_LEN(cols), &err);
    int rc = p ? 0 : -1;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(doc, "days"), i, d) if (rc == 0) rc = ob_pdf_row(p, cp, (int)OB_ARRAY_LEN(cols), d, &err);
    json_decref(doc);
    int fd = -1;
    int64_t bytes = 0;
    if (p && rc != 0) ob_pdf_abort(p);
    else if (p) rc = ob_pdf_close(p, ob_arena_printf(ctx->arena, "%s/spool", app->files->root), &fd, &bytes, &err);
    if (rc != 0) goto fail;
    ob_sb_reset(&resp->body);
    ob_resp_header(resp, "Content-Type", "application/pdf");
    ob_resp_header(resp, "Content-Disposition", "attachment; filename=\"inventory-report.pdf\"");
    resp->status = 200;
    resp->file_fd = fd;
    resp->file_off = 0;
    resp->file_len = bytes;
    return;
fail:
    ob_sb_reset(&resp->body);
    ob_resp_error(resp, &err);
}

void ob_api_report_inventory(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)call;
    const char *from = NULL, *to = NULL, *wh = NULL, *format = "json";
    for (int i = 0; i < req->nquery; i++) {
        const ob_kv *q = &req->query[i];
        if (!strcmp(q->key, "from")) from = q->val;
        else if (!strcmp(q->key, "to")) to = q->val;
        else if (!strcmp(q->key, "warehouse_id")) wh = q->val;
        else if (!strcmp(q->key, "format") && q->val && (!strcmp(q->val, "json") || !strcmp(q->val, "pdf")))
            format = q->val;
        else {
            ob_api_bad_query(resp, "unknown parameter: the report takes from, to, warehouse_id and format (json or pdf)");
            return;
        }
    }
    int64_t f_ms, t_ms;
    if (!ob_api_report_date(from, &f_ms) || !ob_api_report_date(to, &t_ms)) {
        ob_api_bad_query(resp, "from and to are required dates, YYYY-MM-DD");
        return;
    }
    if (t_ms < f_ms || (t_ms - f_ms) / 86400000 >= MAX_DAYS) {
        ob_api_bad_query(resp, "to must be on or after from, at most 366 days later");
        return;
    }
    ob_err err;
    if (wh) {
        int rc = ob_sql_exists(ctx, ob_registry_find(OB_TABLE_WAREHOUSES), wh, &err);
        if (rc != 1) {
            if (rc == 0) ob_err_set(&err, OB_E_NOT_FOUND, "no warehouse %.40s", wh);
            ob_resp_error(resp, &err);
            return;
        }
    }
    const ob_table *t = ob_registry_find(OB_TABLE_ANALYTICS_METRICS);
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM analytics_metrics WHERE metric_name LIKE 'inventory.%%' AND "
                                      "dimension_date >= ? AND dimension_date <= ? AND warehouse_id %s "
                                      "ORDER BY dimension_date, metric_name",
                                      ob_sql_cols(t), wh ? "= ?" : "IS NULL");
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, &err) != 0) {
        ob_resp_error(resp, &err);
        return;
    }
    ob_stmt_bind_text(st, 1, from, &err);
    ob_stmt_bind_text(st, 2, to, &err);
    if (wh) ob_stmt_bind_text(st, 3, wh, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "report", "inventory");
    ob_jw_kstr(&w, "from", from);
    ob_jw_kstr(&w, "to", to);
    ob_jw_kstr(&w, "warehouse_id", wh);
    ob_jw_key(&w, "days");
    ob_jw_arr_open(&w);
    day d = {{0}};
    int rc;
    while ((rc = ob_stmt_step(st, &err)) == 1) {
        ob_row *r = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, r, st);
        const char *date = ob_row_text(r, ANALYTICS_METRICS_DIMENSION_DATE), *name = ob_row_text(r, ANALYTICS_METRICS_METRIC_NAME);
        if (strcmp(d.date, date) != 0) {
            if (d.date[0]) write_day(&w, &d);
            memset(&d, 0, sizeof d);
            snprintf(d.date, sizeof d.date, "%s", date);
        }
        int64_t v = ob_row_int(r, ANALYTICS_METRICS_METRIC_VALUE, 0);
        if (!strcmp(name, "inventory.units_sold")) d.sold = v;
        else if (!strcmp(name, "inventory.units_received")) d.received = v;
        else if (!strcmp(name, "inventory.stock_outs")) d.outs = v;
        else if (!strcmp(name, "inventory.value")) d.value4 = v;
        else if (!strcmp(name, "inventory.turnover")) d.turnover4 = v;
    }
    ob_stmt_done(st);
    if (rc < 0) {
        ob_sb_reset(&resp->body);
        ob_resp_error(resp, &err);
        return;
    }
    if (d.date[0]) write_day(&w, &d);
    ob_jw_arr_close(&w);
    ob_jw_obj_close(&w);
    resp->status = 200;
    if (!strcmp(format, "pdf"))
        as_pdf(app, resp, ctx, ob_arena_printf(ctx->arena, "from=%s & to=%s%s%s", from, to, wh ? " & warehouse_id=" : "",
                                               wh ? wh : ""));
}
