/* reorder.c - reorder suggestions: raised after a stock entry leaves a row's
 * available units at or below its reorder point (once: not while one is
 * pending for the same product and warehouse), shaped by the reorder action
 * of an active automation rule of the event inventory.low that matches the
 * row, and approved into a draft purchase order. Such an entry is the event
 * inventory.low: every matching rule then runs (analytics/automation.c). */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "domain/analytics/analytics.h"
#include "domain/commerce/commerce.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* Run a one-row query of text parameters; *found is whether a row came back;
 * the caller reads it through st and finishes it. */
static int query(ob_ctx *ctx, const char *sql, const char *const *params, int n, ob_stmt **st, bool *found,
                 ob_err *err)
{
    if (ob_db_prepare(ctx->db, sql, st, err) != 0) return -1;
    for (int i = 0; i < n; i++) ob_stmt_bind_text(*st, i + 1, params[i], err);
    int rc = ob_stmt_step(*st, err);
    if (rc < 0) {
        ob_stmt_done(*st);
        return -1;
    }
    *found = rc == 1;
    return 0;
}

static int pending_exists(ob_ctx *ctx, const ob_row *inv, bool *yes, ob_err *err)
{
    const char *p[] = {ob_row_text(inv, INVENTORY_PRODUCT_ID), ob_row_text(inv, INVENTORY_WAREHOUSE_ID)};
    ob_stmt *st;
    if (query(ctx,
              p[1] ? "SELECT 1 FROM \"reorder_suggestions\" WHERE \"product_id\" = ? AND \"status\" = 'pending' "
                     "AND \"warehouse_id\" = ?"
                   : "SELECT 1 FROM \"reorder_suggestions\" WHERE \"product_id\" = ? AND \"status\" = 'pending' "
                     "AND \"warehouse_id\" IS NULL",
              p, p[1] ? 2 : 1, &st, yes, err) != 0)
        return -1;
    ob_stmt_done(st);
    return 0;
}

/* Units that left the row by sale or transfer in the 30 days before now. */
static int consumed_30d(ob_ctx *ctx, const char *inv_id, int64_t *out, ob_err *err)
{
    char since[OB_TS_LEN];
    ob_ts_format(ctx->now_ms - 30LL * 86400 * 1000, since);
    ob_stmt *st;
    bool found;
    if (query(ctx,
              "SELECT COALESCE(-SUM(\"quantity\"), 0) FROM \"inventory_transactions\" WHERE \"inventory_id\" = ? "
              "AND \"transaction_type\" IN ('sale', 'transfer_out') AND \"created_at\" >= ?",
              (const char *const[]){inv_id, since}, 2, &st, &found, err) != 0)
        return -1;
    *out = found ? ob_stmt_col_i64(st, 0) : 0;
    ob_stmt_done(st);
    return 0;
}

/* The supplier and unit price of the latest live purchase order line for the
 * product: the preferred supplier and the cost estimate. */
static int last_supply(ob_ctx *ctx, const char *product_id, const char **supplier, int64_t *price, ob_err *err)
{
    ob_stmt *st;
    bool found;
    if (query(ctx,
              "SELECT po.\"supplier_id\", i.\"unit_price\" FROM \"purchase_order_items\" i "
              "JOIN \"purchase_orders\" po ON po.\"id\" = i.\"purchase_order_id\" "
              "WHERE i.\"product_id\" = ? AND po.\"status\" <> 'cancelled' ORDER BY po.\"created_at\" DESC, "
              "po.\"id\" DESC LIMIT 1",
              (const char *const[]){product_id}, 1, &st, &found, err) != 0)
        return -1;
    *supplier = NULL;
    *price = -1;
    if (found) {
        *supplier = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        int64_t v = 0;
        if (ob_stmt_col_type(st, 1) == OB_V_TEXT) ob_parse_decimal(ob_stmt_col_text(st, 1, NULL), 2, &v);
        else v = ob_stmt_col_i64(st, 1);
        *price = v;
    }
    ob_stmt_done(st);
    return 0;
}

/* The automation rules of inventory.low that match the row (automation.c):
 * the newest with a reorder action sets the point and quantity, which
 * replace the row's. */
typedef struct rules {
    ob_automation_rule *list;
    int n;
    int64_t point, quantity; /* -1: keep the row's */
} rules;

static int find_rules(ob_ctx *ctx, const ob_row *inv, rules *out, ob_err *err)
{
    out->point = out->quantity = -1;
    if (ob_automation_match(ctx, "inventory.low", inv, &out->list, &out->n, err) != 0) return -1;
    for (int i = 0; i < out->n; i++) {
        json_t *acts = json_loads(out->list[i].actions, 0, NULL), *a;
        size_t k;
        bool found = false;
        json_array_foreach(acts, k, a) {
            const char *type = json_string_value(json_object_get(a, "type"));
            if (!type || strcmp(type, "reorder") != 0) continue;
            json_t *p = json_object_get(a, "reorder_point"), *q = json_object_get(a, "reorder_quantity");
            if (json_is_integer(p)) out->point = json_integer_value(p);
            if (json_is_integer(q)) out->quantity = json_integer_value(q);
            found = true;
            break;
        }
        json_decref(acts);
        if (found) break;
    }
    return 0;
}

int ob_reorder_check(ob_ctx *ctx, const char *inventory_id, ob_err *err)
{
    ob_row *inv;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_INVENTORY), inventory_id, &inv, err) != 0) return -1;
    rules r;
    if (find_rules(ctx, inv, &r, err) != 0) return -1;
    int64_t point = r.point >= 0 ? r.point : ob_row_int(inv, INVENTORY_REORDER_POINT, -1);
    if (point < 0) return 0; /* no reorder point: nothing to watch */
    int64_t on_hand = ob_row_int(inv, INVENTORY_QUANTITY_ON_HAND, 0);
    int64_t reserved = ob_row_int(inv, INVENTORY_QUANTITY_RESERVED, 0);
    int64_t available = on_hand - reserved;
    int64_t qty = r.quantity > 0 ? r.quantity : ob_row_int(inv, INVENTORY_REORDER_QUANTITY, 0);
    /* without a reorder quantity, bring the row back to twice its point */
    if (qty <= 0) qty = 2 * point - available > 0 ? 2 * point - available : 1;
    if (available > point) return 0; /* not low: no suggestion, no rule runs */
    const char *made = NULL;
    bool pending = false;
    if (pending_exists(ctx, inv, &pending, err) != 0) return -1;
    if (!pending) {
        int64_t used;
        const char *supplier;
        int64_t price;
        if (consumed_30d(ctx, inventory_id, &used, err) != 0 ||
            last_supply(ctx, ob_row_text(inv, INVENTORY_PRODUCT_ID), &supplier, &price, err) != 0)
            return -1;
        ob_row *s = ob_row_with_defaults(ctx, OB_TABLE_REORDER_SUGGESTIONS);
        ob_row_set_text(ctx->arena, s, REORDER_SUGGESTIONS_PRODUCT_ID, ob_row_text(inv, INVENTORY_PRODUCT_ID));
        ob_row_set_text(ctx->arena, s, REORDER_SUGGESTIONS_WAREHOUSE_ID, ob_row_text(inv, INVENTORY_WAREHOUSE_ID));
        ob_row_set_int(s, REORDER_SUGGESTIONS_SUGGESTED_QUANTITY, qty);
        ob_row_set_text(ctx->arena, s, REORDER_SUGGESTIONS_REASON,
                        ob_arena_printf(ctx->arena,
                                        "available %lld at or below the reorder point %lld; %lld used in 30 days",
                                        (long long)available, (long long)point, (long long)used));
        /* confidence: how much of the suggested quantity the last 30 days'
         * consumption accounts for, 0.00 to 1.00 */
        int64_t conf = used >= qty ? 100 : used * 100 / qty;
        ob_row_set_int(s, REORDER_SUGGESTIONS_CONFIDENCE_SCORE, conf);
        if (supplier) ob_row_set_text(ctx->arena, s, REORDER_SUGGESTIONS_SUPPLIER_ID, supplier);
        if (price >= 0 && price <= OB_MONEY_MAX / (qty > 0 ? qty : 1)) {
            ob_row_set_int(s, REORDER_SUGGESTIONS_ESTIMATED_COST, price * qty);
        }
        if (ob_crud_insert_row(ctx, s, err) != 0) return -1;
        made = ob_row_id(s);
    }
    /* the event inventory.low: the matching rules run in a job queued here,
     * on the row as this entry leaves it, never inside the entry */
    if (r.n == 0) return 0;
    json_t *d = json_pack("{s:s, s:I, s:I, s:I, s:s?}", "inventory_id", ob_row_id(inv), "available",
                          (json_int_t)available, "reorder_point", (json_int_t)point, "reorder_quantity",
                          (json_int_t)qty, "suggestion_id", made);
    int rc = ob_automation_raise_row(ctx, "inventory.low", inv, d, err);
    json_decref(d);
    return rc;
}

int ob_suggestion_approve(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const char *state = ob_row_text(old, REORDER_SUGGESTIONS_STATUS);
    if (strcmp(state, "pending") != 0 && strcmp(state, "approved") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "cannot approve a reorder suggestion that is \"%s\"", state);
    if (!ob_ctx_can(ctx, "purchasing.create"))
        return ob_err_set(err, OB_E_FORBIDDEN, "the permission \"purchasing.create\" is required");
    const char *supplier = ob_row_text(old, REORDER_SUGGESTIONS_SUPPLIER_ID);
    if (!supplier) {
        ob_err_set(err, OB_E_UNPROCESSABLE, "the suggestion names no supplier to order from");
        return ob_err_field_add(err, REORDER_SUGGESTIONS_SUPPLIER_ID.name, "is required to raise a purchase order");
    }
    ob_row *po = ob_row_with_defaults(ctx, OB_TABLE_PURCHASE_ORDERS);
    ob_row_set_text(ctx->arena, po, PURCHASE_ORDERS_SUPPLIER_ID, supplier);
    ob_row_set_text(ctx->arena, po, PURCHASE_ORDERS_WAREHOUSE_ID, ob_row_text(old, REORDER_SUGGESTIONS_WAREHOUSE_ID));
    ob_row_set_text(ctx->arena, po, PURCHASE_ORDERS_NOTES,
                    ob_arena_printf(ctx->arena, "from reorder suggestion %s: %s", ob_row_id(old),
                                    ob_row_text(old, REORDER_SUGGESTIONS_REASON)));
    if (ob_crud_insert_row(ctx, po, err) != 0) return -1;
    int64_t qty = ob_row_int(old, REORDER_SUGGESTIONS_SUGGESTED_QUANTITY, 1);
    int64_t cost = ob_row_int(old, REORDER_SUGGESTIONS_ESTIMATED_COST, 0);
    ob_row *item = ob_row_with_defaults(ctx, OB_TABLE_PURCHASE_ORDER_ITEMS);
    ob_row_set_text(ctx->arena, item, PURCHASE_ORDER_ITEMS_PURCHASE_ORDER_ID, ob_row_id(po));
    ob_row_set_text(ctx->arena, item, PURCHASE_ORDER_ITEMS_PRODUCT_ID,
                    ob_row_text(old, REORDER_SUGGESTIONS_PRODUCT_ID));
    ob_row_set_int(item, PURCHASE_ORDER_ITEMS_QUANTITY_ORDERED, qty);
    ob_row_set_int(item, PURCHASE_ORDER_ITEMS_UNIT_PRICE, cost / qty);
    if (ob_crud_insert_row(ctx, item, err) != 0) return -1;
    ob_row_set_text(ctx->arena, row, REORDER_SUGGESTIONS_STATUS, "ordered");
    ob_row_set_text(ctx->arena, row, REORDER_SUGGESTIONS_PURCHASE_ORDER_ID, ob_row_id(po));
    return 0;
}
