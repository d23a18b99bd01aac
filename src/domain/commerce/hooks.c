/* hooks.c - commerce: the review stamp of reorder suggestions and purchase
 * order totals (numbers, stamps and the ledger are declarations). */
#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

static const char *who(const ob_ctx *ctx)
{
    return ctx->who ? ctx->who->user_id : NULL;
}

/* A ledger that lost entries would no longer explain the stock it led to;
 * being append-only, it is never routed a DELETE (schema/methods.h), and its
 * created_by is a declared stamp. */

static int suggestion_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)err;
    const char *was = ob_row_text(old, REORDER_SUGGESTIONS_STATUS), *now = ob_row_text(row, REORDER_SUGGESTIONS_STATUS);
    if (strcmp(was, now) == 0 || strcmp(was, "pending") != 0) return 0;
    ob_row_set_text(ctx->arena, row, REORDER_SUGGESTIONS_REVIEWED_BY, who(ctx));
    ob_row_set_text(ctx->arena, row, REORDER_SUGGESTIONS_REVIEWED_AT, ctx->now);
    return 0;
}

const ob_hooks ob_suggestion_hooks = {.before_update = suggestion_before_update};

/* quantity_ordered x unit_price in minor units; the column limits (10^6 x
 * DECIMAL(12,2)) keep it inside int64. */
static int64_t line_total(const ob_row *item)
{
    return ob_row_int(item, PURCHASE_ORDER_ITEMS_QUANTITY_ORDERED, 0) *
           ob_row_int(item, PURCHASE_ORDER_ITEMS_UNIT_PRICE, 0);
}

/* Add delta (minor units) to the purchase order's total_amount. */
static int po_add_total(ob_ctx *ctx, const char *po_id, int64_t delta, ob_err *err)
{
    if (delta == 0) return 0;
    ob_row *old;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_PURCHASE_ORDERS), po_id, &old, err) != 0) return -1;
    int64_t total;
    if (__builtin_add_overflow(ob_row_int(old, PURCHASE_ORDERS_TOTAL_AMOUNT, 0), delta, &total)) {
        ob_err_set(err, OB_E_VALIDATION, "the purchase order total would be too large");
        return ob_err_field_add(err, PURCHASE_ORDER_ITEMS_UNIT_PRICE.name, "makes the order total too large");
    }
    ob_row *po = ob_row_copy(ctx->arena, old);
    ob_row_set_int(po, PURCHASE_ORDERS_TOTAL_AMOUNT, total);
    return ob_crud_save(ctx, old, po, "recalculate", err);
}

static int item_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    return po_add_total(ctx, ob_row_text(row, PURCHASE_ORDER_ITEMS_PURCHASE_ORDER_ID), line_total(row), err);
}

static int item_after_update(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err)
{
    return po_add_total(ctx, ob_row_text(row, PURCHASE_ORDER_ITEMS_PURCHASE_ORDER_ID),
                        line_total(row) - line_total(old), err);
}

static int item_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    return po_add_total(ctx, ob_row_text(old, PURCHASE_ORDER_ITEMS_PURCHASE_ORDER_ID), -line_total(old), err);
}

const ob_hooks ob_po_item_hooks = {
    .after_create = item_after_create,
    .after_update = item_after_update,
    .before_delete = item_before_delete,
};
