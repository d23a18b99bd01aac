/* orders.c - the order state machine, cancellation and the status history
 * every change leaves behind. */
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "gen/columns.h"
#include "base/banned.h"

/* Append the order's current status to order_status_history. */
static int add_history(ob_ctx *ctx, const ob_row *order, ob_err *err)
{
    ob_row *h = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_ORDER_STATUS_HISTORY));
    ob_row_set_text(ctx->arena, h, ORDER_STATUS_HISTORY_ORDER_ID, ob_row_text(order, ORDERS_ID));
    ob_row_set_text(ctx->arena, h, ORDER_STATUS_HISTORY_STATUS, ob_row_text(order, ORDERS_STATUS));
    return ob_crud_insert_row(ctx, h, err);
}

static int order_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    return add_history(ctx, row, err);
}

static int order_after_update(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err)
{
    if (strcmp(ob_row_text(old, ORDERS_STATUS), ob_row_text(row, ORDERS_STATUS)) == 0) return 0;
    return add_history(ctx, row, err);
}

const ob_hooks ob_order_hooks = {
    .after_create = order_after_create,
    .after_update = order_after_update,
};

/* The time columns are stamped on entering their state (sales.c). cancel is
 * an event of its own permission: 001 grants orders.cancel apart from
 * orders.edit. The effects move stock (fulfil.c): confirm reserves every
 * mapped line or refuses with 409 insufficient_stock, cancel releases what
 * the order holds, return puts the sold units back on the shelves, deliver
 * writes its revenue record (revenue.c). ship is an action that is also a transition (sales.c).
 * rto: the courier is bringing the parcel back (its rto_initiated scan or the
 * NDR case's rto); rto_receive: it is back at the origin, and its units go
 * back on the shelves as return does (the rto_delivered scan, tracking.c).
 * Both write the courier's charges the order will not earn back as expenses
 * (revenue.c). */
OB_EFFECT_FN(ob_order_confirm);
OB_EFFECT_FN(ob_order_cancel);
OB_EFFECT_FN(ob_order_delivered);
OB_EFFECT_FN(ob_order_returned);
OB_EFFECT_FN(ob_order_rto);
OB_EFFECT_FN(ob_order_rto_received);
static const ob_transition order_transitions[] = {
    /* event     from                              to            guard effect            perm */
    {"confirm",  "pending",                        "confirmed",  NULL, ob_order_confirm},
    {"process",  "confirmed",                      "processing", NULL, NULL},
    {"deliver",  "shipped",                        "delivered",  NULL, ob_order_delivered},
    {"return",   "shipped,delivered",              "returned",   NULL, ob_order_returned},
    {"rto",      "shipped",                        "rto",        NULL, ob_order_rto},
    {"rto_receive", "shipped,rto",                 "rto_delivered", NULL, ob_order_rto_received},
    {"cancel",   "pending,confirmed,processing",   "cancelled",  NULL, ob_order_cancel, "cancel"},
};
const ob_fsm ob_order_fsm = {"status", order_transitions, (int)OB_ARRAY_LEN(order_transitions), "edit"};
