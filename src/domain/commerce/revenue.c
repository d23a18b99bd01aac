/* revenue.c - what a delivered order earned: one revenue_records row, written
 * in the transaction that delivers it, with the gross (the order's total),
 * the channel's fees, what the couriers charged to carry it and what the
 * goods cost; net_revenue is the table's generated difference.
 *
 * Fees come from the channel's settings as percentages of the gross, exact
 * decimals with up to two places: {"platform_fee_percent": "2.50",
 * "payment_gateway_fee_percent": "1.80"}; the gateway's applies only to
 * orders not paid cash on delivery. Amounts round half up to the minor
 * unit. Product cost is each line's sent units at its variant's cost_price,
 * else its product's (a line without either costs 0).
 *
 * An order returned to origin writes its courier charges as expenses
 * instead (rto_costs below). */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* pct (a decimal string, two places) of gross minor units, half up. */
static int64_t percent_of(int64_t gross, const json_t *pct)
{
    int64_t p = 0;
    if (!json_is_string(pct) || ob_parse_decimal(json_string_value(pct), 2, &p) != 0 || p < 0 || p > 10000) return 0;
    return (gross * p + 5000) / 10000;
}

/* One SUM over the order's rows; decimals come back as minor units on
 * SQLite and as numeric text on PostgreSQL. */
static int sum_minor(ob_ctx *ctx, const char *sql, const char *order_id, int64_t *out, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, order_id, err);
    int rc = ob_stmt_step(st, err);
    *out = 0;
    if (rc == 1) {
        const char *text = ob_stmt_col_text(st, 0, NULL);
        if (text && strchr(text, '.')) ob_parse_decimal(text, 2, out);
        else *out = ob_stmt_col_i64(st, 0);
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

OB_EFFECT_FN(ob_order_delivered)
{
    (void)old;
    const char *id = ob_row_id(row);
    int64_t gross = ob_row_int(row, ORDERS_TOTAL_AMOUNT, 0), shipping, goods;
    ob_row *channel;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_SALES_CHANNELS), ob_row_text(row, ORDERS_CHANNEL_ID),
                             &channel, err) != 0)
        return -1;
    const char *settings_text = ob_row_text(channel, SALES_CHANNELS_SETTINGS);
    json_t *settings = settings_text ? json_loads(settings_text, 0, NULL) : NULL;
    const char *pm = ob_row_text(row, ORDERS_PAYMENT_METHOD);
    int64_t platform = percent_of(gross, json_object_get(settings, "platform_fee_percent"));
    int64_t gateway = pm && strcmp(pm, "cod") == 0
                          ? 0
                          : percent_of(gross, json_object_get(settings, "payment_gateway_fee_percent"));
    json_decref(settings);
    if (sum_minor(ctx,
                  "SELECT COALESCE(SUM(\"shipping_charges\"), 0) FROM \"shipments\" WHERE \"order_id\" = ? "
                  "AND \"shipping_charges\" IS NOT NULL",
                  id, &shipping, err) != 0 ||
        sum_minor(ctx,
                  "SELECT COALESCE(SUM(i.\"fulfilled_quantity\" * COALESCE(v.\"cost_price\", p.\"cost_price\", 0)), 0) "
                  "FROM \"order_items\" i LEFT JOIN \"products\" p ON p.\"id\" = i.\"product_id\" "
                  "LEFT JOIN \"product_variants\" v ON v.\"id\" = i.\"variant_id\" WHERE i.\"order_id\" = ?",
                  id, &goods, err) != 0)
        return -1;
    ob_row *r = ob_row_with_defaults(ctx, OB_TABLE_REVENUE_RECORDS);
    ob_row_set_text(ctx->arena, r, REVENUE_RECORDS_ORDER_ID, id);
    ob_row_set_text(ctx->arena, r, REVENUE_RECORDS_CHANNEL_ID, ob_row_text(row, ORDERS_CHANNEL_ID));
    ob_row_set_int(r, REVENUE_RECORDS_GROSS_REVENUE, gross);
    ob_row_set_int(r, REVENUE_RECORDS_PLATFORM_FEE, platform);
    ob_row_set_int(r, REVENUE_RECORDS_PAYMENT_GATEWAY_FEE, gateway);
    ob_row_set_int(r, REVENUE_RECORDS_SHIPPING_COST, shipping);
    ob_row_set_int(r, REVENUE_RECORDS_PRODUCT_COST, goods);
    ob_row_set_int(r, REVENUE_RECORDS_OTHER_COSTS, 0);
    ob_row_set_text(ctx->arena, r, REVENUE_RECORDS_REVENUE_DATE, ob_arena_strndup(ctx->arena, ctx->now, 10));
    return ob_crud_insert_row(ctx, r, err);
}

/* An order sent back earns nothing, and its courier still bills: each of
 * its shipments with charges gets two expenses, linked to the order, the
 * shipment and the order's channel: the forward courier charge (shipping)
 * and the RTO charge (returns), billed at the forward rate as couriers do by
 * default. Written once per shipment and category, on whichever of rto and
 * rto_receive comes first. A delivered order's charges are in its revenue
 * record's shipping_cost instead, so the P&L counts them once. */
static int rto_costs(ob_ctx *ctx, const ob_row *order, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT s.\"id\", s.\"shipment_number\", s.\"shipping_charges\", "
                      "(SELECT COUNT(*) FROM \"expenses\" e WHERE e.\"shipment_id\" = s.\"id\" "
                      "AND e.\"category\" IN ('shipping', 'returns')) "
                      "FROM \"shipments\" s WHERE s.\"order_id\" = ? AND s.\"shipping_charges\" IS NOT NULL "
                      "ORDER BY s.\"id\" LIMIT 100",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ob_row_id(order), err);
    struct charge {
        const char *id, *number;
        int64_t amount;
    } *c = ob_arena_alloc(ctx->arena, 100 * sizeof *c);
    int n = 0, rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (ob_stmt_col_i64(st, 3) > 0) continue; /* written already */
        const char *text = ob_stmt_col_text(st, 2, NULL);
        int64_t amount = 0;
        if (text && strchr(text, '.')) ob_parse_decimal(text, 2, &amount);
        else amount = ob_stmt_col_i64(st, 2);
        if (amount <= 0) continue;
        c[n].id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        const char *num = ob_stmt_col_text(st, 1, NULL);
        c[n].number = num ? ob_arena_strdup(ctx->arena, num) : c[n].id;
        c[n++].amount = amount;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    static const struct {
        const char *category, *what;
    } kinds[] = {{"shipping", "courier charges"}, {"returns", "RTO charges"}};
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < OB_ARRAY_LEN(kinds); k++) {
            ob_row *e = ob_row_with_defaults(ctx, OB_TABLE_EXPENSES);
            ob_row_set_text(ctx->arena, e, EXPENSES_CATEGORY, kinds[k].category);
            ob_row_set_text(ctx->arena, e, EXPENSES_SUBCATEGORY, "rto");
            ob_row_set_text(ctx->arena, e, EXPENSES_DESCRIPTION,
                            ob_arena_printf(ctx->arena, "%s of %s, order %s returned to origin", kinds[k].what,
                                            c[i].number, ob_row_text(order, ORDERS_ORDER_NUMBER)));
            ob_row_set_int(e, EXPENSES_AMOUNT, c[i].amount);
            ob_row_set_text(ctx->arena, e, EXPENSES_CURRENCY, ob_row_text(order, ORDERS_CURRENCY));
            ob_row_set_text(ctx->arena, e, EXPENSES_EXPENSE_DATE, ob_arena_strndup(ctx->arena, ctx->now, 10));
            ob_row_set_text(ctx->arena, e, EXPENSES_CHANNEL_ID, ob_row_text(order, ORDERS_CHANNEL_ID));
            ob_row_set_text(ctx->arena, e, EXPENSES_ORDER_ID, ob_row_id(order));
            ob_row_set_text(ctx->arena, e, EXPENSES_SHIPMENT_ID, c[i].id);
            if (ob_crud_insert_row(ctx, e, err) != 0) return -1;
        }
    return 0;
}

OB_EFFECT_FN(ob_order_returned); /* fulfil.c: the units back on the shelves */

OB_EFFECT_FN(ob_order_rto)
{
    (void)old;
    return rto_costs(ctx, row, err);
}

OB_EFFECT_FN(ob_order_rto_received)
{
    if (rto_costs(ctx, row, err) != 0) return -1;
    return ob_order_returned(ctx, old, row, err);
}
