/* receiving.c - purchase orders after the draft: the submit and approve
 * guards, items frozen once the order left draft, and receiving goods into a
 * warehouse through the stock ledger, with the supplier's on-time and fill
 * rates updated by every receipt.
 *
 * Tenant settings are keys of company_settings.settings:
 *   "purchase_approval_by_other": true   the creator may not approve
 *   "over_receipt_tolerance_percent": n  receive up to n% beyond the order (0) */
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

/* The tenant's purchasing settings, or an empty object (the caller frees). */
static json_t *settings(ob_ctx *ctx, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT \"settings\" FROM \"company_settings\" ORDER BY \"created_at\" LIMIT 1", &st,
                      err) != 0)
        return NULL;
    int rc = ob_stmt_step(st, err);
    json_t *s = rc == 1 && ob_stmt_col_text(st, 0, NULL) ? json_loads(ob_stmt_col_text(st, 0, NULL), 0, NULL) : NULL;
    ob_stmt_done(st);
    if (rc < 0) return NULL;
    if (!json_is_object(s)) {
        json_decref(s);
        s = json_object();
    }
    return s;
}

/* The over-receipt tolerance in hundredths of a percent (250 = 2.5%). */
static int64_t tolerance(json_t *s)
{
    json_t *v = json_object_get(s, "over_receipt_tolerance_percent");
    int64_t t = 0;
    if (json_is_integer(v)) t = json_integer_value(v) * 100;
    else if (json_is_string(v) && ob_parse_decimal(json_string_value(v), 2, &t) != 0) t = 0;
    /* a float cannot be trusted to two places: written as a string it can */
    return t > 0 && t <= 1000000 ? t : 0;
}

static int po_items(ob_ctx *ctx, const char *po_id, int64_t *count, int64_t *short_lines, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT COUNT(*), COALESCE(SUM(CASE WHEN \"quantity_received\" < \"quantity_ordered\" THEN 1 "
                      "ELSE 0 END), 0) FROM \"purchase_order_items\" WHERE \"purchase_order_id\" = ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, po_id, err);
    int rc = ob_stmt_step(st, err);
    *count = rc == 1 ? ob_stmt_col_i64(st, 0) : 0;
    *short_lines = rc == 1 ? ob_stmt_col_i64(st, 1) : 0;
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

int ob_po_approve_guard(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    json_t *s = settings(ctx, err);
    if (!s) return -1;
    bool other = json_is_true(json_object_get(s, "purchase_approval_by_other"));
    json_decref(s);
    const char *creator = ob_row_text(row, PURCHASE_ORDERS_CREATED_BY), *me = ctx->who ? ctx->who->user_id : NULL;
    if (other && creator && me && strcmp(creator, me) == 0)
        return ob_err_set(err, OB_E_FORBIDDEN, "the tenant requires someone other than its creator to approve a "
                                               "purchase order");
    return 0;
}

/* Items follow their order: once it left draft they are what was sent to
 * the supplier. Receiving changes only the server's quantity_received. */
static int require_draft(ob_ctx *ctx, const char *po_id, ob_err *err)
{
    ob_row *po;
    if (!po_id) return 0;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_PURCHASE_ORDERS), po_id, &po, err) != 0) {
        if (err->code != OB_E_NOT_FOUND) return -1;
        ob_err_clear(err); /* the reference check names the field */
        return 0;
    }
    if (strcmp(ob_row_text(po, PURCHASE_ORDERS_STATUS), "draft") == 0) return 0;
    return ob_err_set(err, OB_E_BAD_STATE, "the items of a purchase order that is \"%s\" cannot change",
                      ob_row_text(po, PURCHASE_ORDERS_STATUS));
}

static int item_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    return require_draft(ctx, ob_row_text(row, PURCHASE_ORDER_ITEMS_PURCHASE_ORDER_ID), err);
}

static int item_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const int ordered[] = {PURCHASE_ORDER_ITEMS_PRODUCT_ID.idx, PURCHASE_ORDER_ITEMS_QUANTITY_ORDERED.idx,
                           PURCHASE_ORDER_ITEMS_UNIT_PRICE.idx};
    for (size_t i = 0; i < sizeof ordered / sizeof ordered[0]; i++)
        if (!ob_row_col_equal(old, row, ordered[i]))
            return require_draft(ctx, ob_row_text(old, PURCHASE_ORDER_ITEMS_PURCHASE_ORDER_ID), err);
    return 0;
}

static int item_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    if (require_draft(ctx, ob_row_text(old, PURCHASE_ORDER_ITEMS_PURCHASE_ORDER_ID), err) != 0) return -1;
    return ob_po_item_hooks.before_delete(ctx, old, err);
}

/* the order's total follows its items (hooks.c) */
static int item_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    return ob_po_item_hooks.after_create(ctx, row, err);
}

static int item_after_update(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err)
{
    return ob_po_item_hooks.after_update(ctx, old, row, err);
}

const ob_hooks ob_po_item_draft_hooks = {
    .before_create = item_before_create,
    .after_create = item_after_create,
    .before_update = item_before_update,
    .after_update = item_after_update,
    .before_delete = item_before_delete,
};

/* One line of a receipt, as given. */
typedef struct line {
    const char *item_id;
    int64_t quantity;
} line;

static int bad_lines(ob_err *err, const char *problem)
{
    ob_err_set(err, OB_E_VALIDATION, "one or more fields are invalid");
    return ob_err_field_add(err, PURCHASE_ORDERS_RECEIVE_IN_LINES.name, problem);
}

static int parse_lines(ob_ctx *ctx, line **out, size_t *n, ob_err *err)
{
    json_t *arr = json_loads(ob_row_text(ctx->input, PURCHASE_ORDERS_RECEIVE_IN_LINES), 0, NULL);
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 1000) {
        json_decref(arr);
        return bad_lines(err, "must be an array of 1 to 1000 lines");
    }
    *n = json_array_size(arr);
    *out = ob_arena_alloc(ctx->arena, *n * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        json_t *l = json_array_get(arr, i);
        json_t *id = json_object_get(l, "purchase_order_item_id"), *q = json_object_get(l, "quantity");
        if (!json_is_object(l) || json_object_size(l) != 2 || !json_is_string(id) || !json_is_integer(q) ||
            json_integer_value(q) <= 0 || json_integer_value(q) > 1000000 || strlen(json_string_value(id)) > 36) {
            json_decref(arr);
            return bad_lines(err, "each line is {\"purchase_order_item_id\": id, \"quantity\": 1 to 1000000}");
        }
        (*out)[i].item_id = ob_arena_strdup(ctx->arena, json_string_value(id));
        (*out)[i].quantity = json_integer_value(q);
    }
    json_decref(arr);
    return 0;
}

/* Add to an item's quantity_received within the tolerance, and post the
 * units into the warehouse's stock. */
static int receive_line(ob_ctx *ctx, const ob_row *po, const char *wh, const line *l, int64_t tol, ob_err *err)
{
    ob_row *item;
    const ob_table *it = ob_registry_find(OB_TABLE_PURCHASE_ORDER_ITEMS);
    if (ob_sql_load_internal(ctx, it, l->item_id, &item, err) != 0 ||
        strcmp(ob_row_text(item, PURCHASE_ORDER_ITEMS_PURCHASE_ORDER_ID), ob_row_id(po)) != 0) {
        ob_err_set(err, OB_E_UNPROCESSABLE, "%s is not an item of this purchase order", l->item_id);
        return ob_err_field_add(err, PURCHASE_ORDERS_RECEIVE_IN_LINES.name, "names an item of another purchase order");
    }
    int64_t ordered = ob_row_int(item, PURCHASE_ORDER_ITEMS_QUANTITY_ORDERED, 0);
    int64_t had = ob_row_int(item, PURCHASE_ORDER_ITEMS_QUANTITY_RECEIVED, 0);
    /* exact: ordered x (100% + tolerance), rounded down to whole units */
    int64_t allowed = ordered * (10000 + tol) / 10000;
    if (had + l->quantity > allowed)
        return ob_err_set(err, OB_E_OVER_RECEIPT,
                          "item %s: %lld received of %lld ordered would pass the %lld allowed", l->item_id,
                          (long long)(had + l->quantity), (long long)ordered, (long long)allowed);
    ob_row *next = ob_row_copy(ctx->arena, item);
    ob_row_set_int(next, PURCHASE_ORDER_ITEMS_QUANTITY_RECEIVED, had + l->quantity);
    if (ob_crud_save(ctx, item, next, "receive", err) != 0) return -1;
    ob_row *stock;
    if (ob_stock_row(ctx, wh, ob_row_text(item, PURCHASE_ORDER_ITEMS_PRODUCT_ID), true, &stock, err) != 0) return -1;
    return ob_stock_post(ctx, ob_row_id(stock), "purchase", l->quantity, "purchase_order",
                         ob_row_id(po), ob_row_text(po, PURCHASE_ORDERS_PO_NUMBER), err);
}

/* A percent with two decimals of part / whole (whole > 0), in minor units. */
static int64_t percent(int64_t part, int64_t whole)
{
    return whole > 0 ? part * 10000 / whole : 0;
}

static int history(ob_ctx *ctx, const char *supplier_id, const char *name, int64_t pct_minor, const char *po_id,
                   bool late, ob_err *err)
{
    ob_row *d = ob_row_with_defaults(ctx, OB_TABLE_ANALYTICS_DATA);
    ob_row_set_text(ctx->arena, d, ANALYTICS_DATA_DATA_TYPE, "supplier_performance");
    ob_row_set_text(ctx->arena, d, ANALYTICS_DATA_ENTITY_TYPE, "supplier");
    ob_row_set_text(ctx->arena, d, ANALYTICS_DATA_ENTITY_ID, supplier_id);
    ob_row_set_text(ctx->arena, d, ANALYTICS_DATA_METRIC_NAME, name);
    ob_row_set_int(d, ANALYTICS_DATA_METRIC_VALUE, pct_minor * 100); /* scale 2 -> the column's 4 */
    ob_row_set_text(ctx->arena, d, ANALYTICS_DATA_ADDITIONAL_DATA,
                    ob_arena_printf(ctx->arena, "{\"purchase_order_id\":\"%s\",\"late\":%s}", po_id,
                                    late ? "true" : "false"));
    char today[11];
    memcpy(today, ctx->now, 10);
    today[10] = 0;
    ob_row_set_text(ctx->arena, d, ANALYTICS_DATA_CALCULATION_DATE, today);
    ob_row_set_text(ctx->arena, d, ANALYTICS_DATA_CALCULATED_AT, ctx->now);
    return ob_crud_insert_row(ctx, d, err);
}

/* The supplier's rates after one more receipt: on time when it came on or
 * before the expected date; fill over the orders that have received goods. */
static int supplier_metrics(ob_ctx *ctx, const ob_row *po, ob_err *err)
{
    const char *sid = ob_row_text(po, PURCHASE_ORDERS_SUPPLIER_ID);
    const char *expected = ob_row_text(po, PURCHASE_ORDERS_EXPECTED_DATE);
    bool late = expected && strncmp(ctx->now, expected, 10) > 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT COALESCE(SUM(i.\"quantity_received\"), 0), COALESCE(SUM(i.\"quantity_ordered\"), 0) "
                      "FROM \"purchase_order_items\" i JOIN \"purchase_orders\" po ON po.\"id\" = i.\"purchase_order_id\" "
                      "WHERE po.\"supplier_id\" = ? AND (po.\"status\" IN ('partially_received', 'received', "
                      "'closed') OR po.\"id\" = ?)",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, sid, err);
    ob_stmt_bind_text(st, 2, ob_row_id(po), err);
    int rc = ob_stmt_step(st, err);
    int64_t got = rc == 1 ? ob_stmt_col_i64(st, 0) : 0, asked = rc == 1 ? ob_stmt_col_i64(st, 1) : 0;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    ob_row *old;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_SUPPLIERS), sid, &old, err) != 0) return -1;
    ob_row *s = ob_row_copy(ctx->arena, old);
    int64_t receipts = ob_row_int(old, SUPPLIERS_RECEIPTS_COUNT, 0) + 1;
    int64_t on_time = ob_row_int(old, SUPPLIERS_ON_TIME_RECEIPTS, 0) + (late ? 0 : 1);
    int64_t on_time_pct = percent(on_time, receipts), fill_pct = percent(got, asked);
    if (fill_pct > 10000) fill_pct = 10000; /* an over-receipt within tolerance fills the order, no more */
    ob_row_set_int(s, SUPPLIERS_RECEIPTS_COUNT, receipts);
    ob_row_set_int(s, SUPPLIERS_ON_TIME_RECEIPTS, on_time);
    ob_row_set_int(s, SUPPLIERS_ON_TIME_RATE, on_time_pct);
    ob_row_set_int(s, SUPPLIERS_FILL_RATE, fill_pct);
    /* 5.00 for 100% on both: the mean percent / 20 */
    ob_row_set_int(s, SUPPLIERS_RATING, (on_time_pct + fill_pct) / 40);
    if (ob_crud_save(ctx, old, s, "receipt", err) != 0) return -1;
    const char *po_id = ob_row_id(po);
    if (history(ctx, sid, "on_time_rate", on_time_pct, po_id, late, err) != 0 ||
        history(ctx, sid, "fill_rate", fill_pct, po_id, late, err) != 0)
        return -1;
    return history(ctx, sid, "rating", (on_time_pct + fill_pct) / 40, po_id, late, err);
}

int ob_po_receive(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const char *state = ob_row_text(old, PURCHASE_ORDERS_STATUS);
    if (strcmp(state, "approved") != 0 && strcmp(state, "partially_received") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "cannot receive a purchase order that is \"%s\"", state);
    const char *wh = ob_row_text(ctx->input, PURCHASE_ORDERS_RECEIVE_IN_WAREHOUSE_ID);
    if (!wh) wh = ob_row_text(old, PURCHASE_ORDERS_WAREHOUSE_ID);
    if (!wh) {
        ob_err_set(err, OB_E_UNPROCESSABLE, "name the warehouse the goods arrived in");
        return ob_err_field_add(err, PURCHASE_ORDERS_RECEIVE_IN_WAREHOUSE_ID.name,
                                "is required when the order names none");
    }
    if (ob_stock_scope(ctx, wh, "purchasing.receive", err) != 0) return -1;
    line *lines = NULL;
    size_t n = 0;
    if (parse_lines(ctx, &lines, &n, err) != 0) return -1;
    json_t *s = settings(ctx, err);
    if (!s) return -1;
    int64_t tol = tolerance(s);
    json_decref(s);
    for (size_t i = 0; i < n; i++)
        if (receive_line(ctx, old, wh, &lines[i], tol, err) != 0) return -1;
    int64_t count, open;
    if (po_items(ctx, ob_row_id(old), &count, &open, err) != 0) return -1;
    ob_row_set_text(ctx->arena, row, PURCHASE_ORDERS_STATUS, open == 0 ? "received" : "partially_received");
    return supplier_metrics(ctx, old, err);
}
