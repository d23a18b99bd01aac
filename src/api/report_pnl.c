/* report_pnl.c - GET /api/v1/reports/pnl?from=&to=&group=day|month|channel:
 * profit and loss from what deliveries earned (revenue_records, written when
 * an order is delivered) and what was spent (expenses), by day, month or
 * sales channel, in exact minor units. By channel, expenses without one are
 * grouped under "unassigned". */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "base/base.h"
#include "base/clock.h"
#include "base/jsonw.h"
#include "schema/sql.h"
#include "base/banned.h"

#define MAX_GROUPS 1000

enum { GROSS, PLATFORM, GATEWAY, SHIPPING, PRODUCT, OTHER, EXPENSES, NFIGS };
static const char *const fig_names[NFIGS] = {"gross_revenue", "platform_fee", "payment_gateway_fee", "shipping_cost",
                                             "product_cost", "other_costs", "expenses"};

typedef struct group {
    const char *key;
    int64_t orders;
    int64_t fig[NFIGS];
} group;

/* A sum of a money column: minor units on SQLite, numeric text on PostgreSQL. */
static int64_t money(ob_stmt *st, int i)
{
    const char *text = ob_stmt_col_text(st, i, NULL);
    int64_t v = 0;
    if (text && strchr(text, '.')) ob_parse_decimal(text, 2, &v);
    else v = ob_stmt_col_i64(st, i);
    return v;
}

static group *group_of(ob_arena *a, group *gs, int *n, const char *key)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(gs[i].key, key)) return &gs[i];
    if (*n == MAX_GROUPS) return NULL;
    group *g = &gs[(*n)++];
    memset(g, 0, sizeof *g);
    g->key = ob_arena_strdup(a, key);
    return g;
}

static void write_figs(ob_jsonw *w, int64_t orders, const int64_t *fig)
{
    char buf[48];
    int64_t net = fig[GROSS];
    ob_jw_ki64(w, "orders", orders);
    for (int k = 0; k < NFIGS; k++) {
        ob_format_decimal(fig[k], 2, buf, sizeof buf);
        ob_jw_kstr(w, fig_names[k], buf);
        if (k != GROSS && k != EXPENSES) net -= fig[k];
    }
    ob_format_decimal(net, 2, buf, sizeof buf);
    ob_jw_kstr(w, "net_revenue", buf);
    ob_format_decimal(net - fig[EXPENSES], 2, buf, sizeof buf);
    ob_jw_kstr(w, "profit", buf);
}

void ob_api_report_pnl(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)call;
    ob_report_period per;
    if (ob_api_report_period(req, "day", &per, resp) != 0) return;
    const char *from = per.from, *to = per.to, *by = per.group;
    const char *rev_key, *exp_key; /* SQL of the group key of each table */
    if (!strcmp(by, "day")) {
        rev_key = "CAST(\"revenue_date\" AS TEXT)";
        exp_key = "CAST(\"expense_date\" AS TEXT)";
    } else if (!strcmp(by, "month")) {
        rev_key = "SUBSTR(CAST(\"revenue_date\" AS TEXT), 1, 7)";
        exp_key = "SUBSTR(CAST(\"expense_date\" AS TEXT), 1, 7)";
    } else if (!strcmp(by, "channel")) {
        rev_key = "CAST(\"channel_id\" AS TEXT)";
        exp_key = "COALESCE(CAST(\"channel_id\" AS TEXT), 'unassigned')";
    } else {
        ob_api_bad_query(resp, "group is day, month or channel");
        return;
    }
    group *gs = ob_arena_alloc(ctx->arena, MAX_GROUPS * sizeof *gs);
    int n = 0;
    int64_t total[NFIGS] = {0}, orders = 0;
    ob_err err;
    ob_stmt *st;
    const char *sql = ob_arena_printf(
        ctx->arena,
        "SELECT %s, COUNT(*), SUM(\"gross_revenue\"), SUM(\"platform_fee\"), SUM(\"payment_gateway_fee\"), "
        "SUM(\"shipping_cost\"), SUM(\"product_cost\"), SUM(\"other_costs\") FROM \"revenue_records\" "
        "WHERE \"revenue_date\" >= ? AND \"revenue_date\" <= ? GROUP BY 1 ORDER BY 1",
        rev_key);
    int rc = ob_db_prepare(ctx->db, sql, &st, &err);
    if (rc == 0) {
        ob_stmt_bind_text(st, 1, from, &err);
        ob_stmt_bind_text(st, 2, to, &err);
        while ((rc = ob_stmt_step(st, &err)) == 1) {
            group *g = group_of(ctx->arena, gs, &n, ob_stmt_col_text(st, 0, NULL));
            if (!g) break;
            g->orders = ob_stmt_col_i64(st, 1);
            orders += g->orders;
            for (int k = GROSS; k <= OTHER; k++) total[k] += g->fig[k] = money(st, 2 + k);
        }
        ob_stmt_done(st);
    }
    if (rc >= 0) {
        sql = ob_arena_printf(ctx->arena,
                              "SELECT %s, SUM(\"amount\") FROM \"expenses\" WHERE \"expense_date\" >= ? "
                              "AND \"expense_date\" <= ? GROUP BY 1 ORDER BY 1",
                              exp_key);
        rc = ob_db_prepare(ctx->db, sql, &st, &err);
        if (rc == 0) {
            ob_stmt_bind_text(st, 1, from, &err);
            ob_stmt_bind_text(st, 2, to, &err);
            while ((rc = ob_stmt_step(st, &err)) == 1) {
                int64_t spent = money(st, 1);
                total[EXPENSES] += spent;
                group *g = group_of(ctx->arena, gs, &n, ob_stmt_col_text(st, 0, NULL));
                if (g) g->fig[EXPENSES] = spent;
            }
            ob_stmt_done(st);
        }
    }
    if (rc < 0) {
        ob_resp_error(resp, &err);
        return;
    }
    /* day and month keys sort as text; expenses may have added keys late */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(gs[j - 1].key, gs[j].key) > 0; j--) {
            group tmp = gs[j];
            gs[j] = gs[j - 1];
            gs[j - 1] = tmp;
        }
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "report", "pnl");
    ob_jw_kstr(&w, "from", from);
    ob_jw_kstr(&w, "to", to);
    ob_jw_kstr(&w, "group", by);
    ob_jw_key(&w, "rows");
    ob_jw_arr_open(&w);
    for (int i = 0; i < n; i++) {
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "key", gs[i].key);
        write_figs(&w, gs[i].orders, gs[i].fig);
        ob_jw_obj_close(&w);
    }
    ob_jw_arr_close(&w);
    ob_jw_key(&w, "totals");
    ob_jw_obj_open(&w);
    write_figs(&w, orders, total);
    ob_jw_obj_close(&w);
    ob_jw_obj_close(&w);
    resp->status = 200;
}
