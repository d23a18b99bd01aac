/* pieces.c - 003's jewellery pieces are products with weights: the net
 * (metal) weight is the gross less the stones, kept by the server so that
 * pricing by weight never trusts a typed figure. */
#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "gen/columns.h"
#include "base/banned.h"

extern const ob_hooks ob_piece_hooks;

static int net_weight(ob_row *row, ob_err *err)
{
    if (ob_row_is_null(row, PRODUCTS_GROSS_WEIGHT)) {
        if (!ob_row_is_null(row, PRODUCTS_STONE_WEIGHT)) {
            ob_err_set(err, OB_E_VALIDATION, NULL);
            ob_err_field_add(err, PRODUCTS_STONE_WEIGHT.name, "needs gross_weight");
            return -1;
        }
        ob_row_set_null(row, PRODUCTS_NET_WEIGHT);
        return 0;
    }
    int64_t gross = ob_row_int(row, PRODUCTS_GROSS_WEIGHT, 0), stone = ob_row_int(row, PRODUCTS_STONE_WEIGHT, 0);
    if (stone > gross) {
        ob_err_set(err, OB_E_VALIDATION, NULL);
        ob_err_field_add(err, PRODUCTS_STONE_WEIGHT.name, "is more than gross_weight");
        return -1;
    }
    ob_row_set_int(row, PRODUCTS_NET_WEIGHT, gross - stone);
    return 0;
}

static int piece_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_product_hooks.before_create(ctx, row, err) != 0) return -1;
    return net_weight(row, err);
}

static int piece_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (ob_product_hooks.before_update(ctx, old, row, err) != 0) return -1;
    return net_weight(row, err);
}

/* The catalogue's hooks plus the weights (declared in catalog.c). */
const ob_hooks ob_piece_hooks = {.before_create = piece_before_create, .before_update = piece_before_update};
