/* commerce.h - hooks, actions and the order state machine of the commerce
 * area: catalogue, stock, sales channels, orders and purchasing. */
#ifndef OB_DOMAIN_COMMERCE_H
#define OB_DOMAIN_COMMERCE_H

#include "schema/registry.h"

/* Largest amount of the seeds' DECIMAL(12,2) money columns, in minor units. */
#define OB_MONEY_MAX 999999999999LL

/* Fill col with PREFIX-000001 from the per-tenant counter seq when the
 * client left it out (OB_GENERATED numbers). */

/* Orders: order_number (ORD-000001) when not given, and one
 * order_status_history row for the first status and for every change. */
extern const ob_hooks ob_order_hooks;
/* Orders: confirm, process, ship, deliver, return (permission orders.edit). */
extern const ob_fsm ob_order_fsm;
/* The cancel action (orders.cancel): from pending, confirmed or processing. */

/* Sales channels: connect stores {"credentials": {...}, "webhook_secret": ...}
 * (both write-only) and marks the channel active; disconnect removes them. */
int ob_channel_connect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_channel_disconnect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);

/* Stock ledger: records who posted an entry and refuses deletion. */
/* Reorder suggestions: stamps reviewed_by/at when a suggestion leaves pending. */
extern const ob_hooks ob_suggestion_hooks;
/* Purchase orders: po_number (PO-000001) when not given, created_by. */
/* Purchase order items: keep the order's total_amount equal to the sum of
 * the line totals. */
extern const ob_hooks ob_po_item_hooks;

#endif
