/* metrics.c - the daily inventory metrics (004): the job kind
 * `inventory.metrics` rolls one UTC day of stock ledger entries and the stock
 * as it stands into analytics_metrics, per warehouse and for all of them
 * (warehouse_id empty). Re-running a day replaces its rows, so a schedule or
 * an operator may run it again. All sums are integers or exact decimals
 * computed here, so both engines store the same values.
 *
 *   inventory.units_sold      units leaving by sale entries that day
 *   inventory.units_received  units arriving by purchase and transfer_in entries
 *   inventory.stock_outs      inventory rows with nothing available when it runs
 *   inventory.value           on hand x the product's cost price, when it runs
 *   inventory.turnover        units sold / units on hand (0 with nothing on hand), 4 places
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/uuid.h"
#include "domain/commerce/commerce.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

typedef struct day_figures {
    int64_t sold, received, stock_outs, on_hand, value_minor; /* value: cost price minor units (scale 2) */
} day_figures;

static int sum_entries(ob_ctx *ctx, const char *types, const char *from, const char *to, const char *wh, int64_t *out,
                       ob_err *err)
{
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT COALESCE(SUM(t.quantity), 0) FROM inventory_transactions t "
                                      "JOIN inventory i ON i.id = t.inventory_id WHERE t.transaction_type IN (%s) "
                                      "AND t.created_at >= ? AND t.created_at < ?%s",
                                      types, wh ? " AND i.warehouse_id = ?" : "");
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, from, err);
    ob_stmt_bind_text(st, 2, to, err);
    if (wh) ob_stmt_bind_text(st, 3, wh, err);
    int rc = ob_stmt_step(st, err);
    *out = rc == 1 ? ob_stmt_col_i64(st, 0) : 0;
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Stock as it stands: on hand, stock-outs and value at cost. */
static int stock_now(ob_ctx *ctx, const char *wh, day_figures *f, ob_err *err)
{
    const ob_table *inv = ob_registry_find(OB_TABLE_INVENTORY), *prod = ob_registry_find(OB_TABLE_PRODUCTS);
    const char *sql = ob_arena_printf(ctx->arena, "SELECT %s FROM inventory%s", ob_sql_cols(inv),
                                      wh ? " WHERE warehouse_id = ?" : "");
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    if (wh) ob_stmt_bind_text(st, 1, wh, err);
    int on_col = INVENTORY_QUANTITY_ON_HAND.idx, res_col = INVENTORY_QUANTITY_RESERVED.idx;
    int prod_col = INVENTORY_PRODUCT_ID.idx, cost_col = PRODUCTS_COST_PRICE.idx;
    /* the product ids first: a product is loaded on this connection after the scan */
    typedef struct item {
        const char *product;
        int64_t on_hand;
    } item;
    item *items = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        ob_row *r = ob_row_new(ctx->arena, inv);
        ob_row_load(ctx->arena, r, st);
        int64_t on = r->v[on_col].i, reserved = r->v[res_col].i;
        if (on - reserved <= 0) f->stock_outs++;
        f->on_hand += on;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            item *ni = ob_arena_alloc(ctx->arena, cap * sizeof *ni);
            if (n) memcpy(ni, items, n * sizeof *ni);
            items = ni;
        }
        items[n++] = (item){r->set[prod_col] ? r->v[prod_col].s : NULL, on};
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (!items[i].product || items[i].on_hand <= 0) continue;
        ob_row *p;
        if (ob_sql_load_internal(ctx, prod, items[i].product, &p, err) != 0) return -1;
        if (p->set[cost_col] && p->v[cost_col].t != OB_V_NULL) f->value_minor += items[i].on_hand * p->v[cost_col].i;
    }
    return 0;
}

static int put_metric(ob_ctx *ctx, const char *date, const char *wh, const char *name, int64_t value4, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_ANALYTICS_METRICS);
    ob_row *r = ob_row_new(ctx->arena, t);
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_row_set_text(ctx->arena, r, ANALYTICS_METRICS_ID, id);
    ob_row_set_text(ctx->arena, r, ANALYTICS_METRICS_CREATED_AT, ctx->now);
    ob_row_set_text(ctx->arena, r, ANALYTICS_METRICS_METRIC_NAME, name);
    ob_row_set_int(r, ANALYTICS_METRICS_METRIC_VALUE, value4); /* minor units of scale 4 */
    ob_row_set_text(ctx->arena, r, ANALYTICS_METRICS_DIMENSION_DATE, date);
    ob_row_set_text(ctx->arena, r, ANALYTICS_METRICS_WAREHOUSE_ID, wh);
    return ob_sql_insert(ctx, r, err);
}

static int one_scope(ob_ctx *ctx, const char *date, const char *from, const char *to, const char *wh, ob_err *err)
{
    day_figures f = {0};
    int64_t sold;
    if (sum_entries(ctx, "'sale'", from, to, wh, &sold, err) != 0 ||
        sum_entries(ctx, "'purchase', 'transfer_in'", from, to, wh, &f.received, err) != 0 ||
        stock_now(ctx, wh, &f, err) != 0)
        return -1;
    f.sold = -sold; /* sale entries are negative */
    /* turnover with 4 places, half up: sold / on hand */
    int64_t turnover = f.on_hand > 0 ? (f.sold * 10000 * 2 + f.on_hand) / (2 * f.on_hand) : 0;
    if (put_metric(ctx, date, wh, "inventory.units_sold", f.sold * 10000, err) != 0 ||
        put_metric(ctx, date, wh, "inventory.units_received", f.received * 10000, err) != 0 ||
        put_metric(ctx, date, wh, "inventory.stock_outs", f.stock_outs * 10000, err) != 0 ||
        put_metric(ctx, date, wh, "inventory.value", f.value_minor * 100, err) != 0 ||
        put_metric(ctx, date, wh, "inventory.turnover", turnover, err) != 0)
        return -1;
    return 0;
}

/* payload {"date": "YYYY-MM-DD"}; default: yesterday (UTC). */
int ob_inventory_metrics_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    json_t *p = json_loads(ob_row_text(job, JOBS_PAYLOAD) ? ob_row_text(job, JOBS_PAYLOAD) : "{}", 0, NULL);
    const char *given = json_string_value(json_object_get(p, "date"));
    char date[11];
    int64_t day_ms;
    if (given) {
        char ts[40];
        snprintf(ts, sizeof ts, "%.10sT00:00:00Z", given);
        if (strlen(given) != 10 || ob_ts_parse(ts, &day_ms) != 0) {
            json_decref(p);
            return ob_err_set(err, OB_E_UNPROCESSABLE, "date must be YYYY-MM-DD");
        }
    } else {
        day_ms = (ctx->now_ms / 86400000 - 1) * 86400000;
    }
    json_decref(p);
    char from[OB_TS_LEN], to[OB_TS_LEN];
    ob_ts_format(day_ms, from);
    ob_ts_format(day_ms + 86400000, to);
    snprintf(date, sizeof date, "%.10s", from);
    ob_value v = ob_v_text(date);
    if (ob_sql_run(ctx->db, "DELETE FROM analytics_metrics WHERE dimension_date = ? AND metric_name LIKE 'inventory.%'",
                   &v, 1, err) != 0)
        return -1;
    if (one_scope(ctx, date, from, to, NULL, err) != 0) return -1;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT id FROM warehouses ORDER BY id", &st, err) != 0)
        return -1;
    const char **whs = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            const char **nw = ob_arena_alloc(ctx->arena, cap * sizeof *nw);
            if (n) memcpy(nw, whs, n * sizeof *nw);
            whs = nw;
        }
        whs[n++] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (one_scope(ctx, date, from, to, whs[i], err) != 0) return -1;
    ob_sb_addf(result, "{\"date\":\"%s\",\"warehouses\":%zu}", date, n);
    return 0;
}
