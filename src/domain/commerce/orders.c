/* orders.c - the order state machine, cancellation and the status history
 * every change leaves behind. */
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "base/banned.h"

/* Append the order's current status to order_status_history. */
static int add_history(ob_ctx *ctx, const ob_row *order, ob_err *err)
{
    ob_row *h = ob_row_new(ctx->arena, ob_registry_find("order_status_history"));
    ob_row_set_text(ctx->arena, h, "order_id", ob_row_text(order, "id"));
    ob_row_set_text(ctx->arena, h, "status", ob_row_text(order, "status"));
    ob_row_set_text(ctx->arena, h, "created_by", ctx->who ? ctx->who->user_id : NULL);
    return ob_crud_insert_row(ctx, h, err);
}

static int order_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    return ob_commerce_number(ctx, row, "order_number", "orders", "ORD", err);
}

static int order_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    return add_history(ctx, row, err);
}

static int order_after_update(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err)
{
    if (strcmp(ob_row_text(old, "status"), ob_row_text(row, "status")) == 0) return 0;
    return add_history(ctx, row, err);
}

const ob_hooks ob_order_hooks = {
    .before_create = order_before_create,
    .after_create = order_after_create,
    .after_update = order_after_update,
};

static int stamp(ob_ctx *ctx, ob_row *row, const char *col)
{
    ob_row_set_text(ctx->arena, row, col, ctx->now);
    return 0;
}

static int stamp_confirmed(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    (void)err;
    return stamp(ctx, row, "confirmed_at");
}

static int stamp_shipped(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    (void)err;
    return stamp(ctx, row, "shipped_at");
}

static int stamp_delivered(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    (void)err;
    return stamp(ctx, row, "delivered_at");
}

static const ob_transition order_transitions[] = {
    /* event     from                    to            guard effect */
    {"confirm",  "pending",              "confirmed",  NULL, stamp_confirmed},
    {"process",  "confirmed",            "processing", NULL, NULL},
    {"ship",     "confirmed,processing", "shipped",    NULL, stamp_shipped},
    {"deliver",  "shipped",              "delivered",  NULL, stamp_delivered},
    {"return",   "shipped,delivered",    "returned",   NULL, NULL},
};
const ob_fsm ob_order_fsm = {"status", order_transitions, (int)OB_ARRAY_LEN(order_transitions), "edit"};

/* An action that takes no fields refuses any it is given. */
static int refuse_fields(ob_ctx *ctx, ob_err *err)
{
    const char *key;
    json_t *val;
    if (!ctx->body) return 0;
    json_object_foreach(ctx->body, key, val) {
        ob_err_set(err, OB_E_UNKNOWN_FIELD, "unknown field \"%.60s\"", key);
        snprintf(err->field, sizeof err->field, "%s", key);
        return -1;
    }
    return 0;
}

/* A separate action rather than an event: 001 grants orders.cancel apart
 * from orders.edit. */
int ob_order_cancel(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (refuse_fields(ctx, err) != 0) return -1;
    const char *st = ob_row_text(old, "status");
    if (strcmp(st, "pending") && strcmp(st, "confirmed") && strcmp(st, "processing"))
        return ob_err_set(err, OB_E_BAD_STATE, "cannot cancel an order that is \"%s\"", st);
    ob_row_set_text(ctx->arena, row, "status", "cancelled");
    return stamp(ctx, row, "cancelled_at");
}
