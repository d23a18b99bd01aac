/* commerce.h - hooks, actions and the order state machine of the commerce
 * area: catalogue, stock, sales channels, orders and purchasing. */
#ifndef OB_DOMAIN_COMMERCE_H
#define OB_DOMAIN_COMMERCE_H

#include "base/strbuf.h"
#include "schema/validate.h"
#include "schema/registry.h"

/* Largest amount of the seeds' DECIMAL(12,2) money columns, in minor units. */
#define OB_MONEY_MAX 999999999999LL

/* Fill col with PREFIX-000001 from the per-tenant counter seq when the
 * client left it out (OB_GENERATED numbers). */

/* Orders: order_number (ORD-000001) when not given, and one
 * order_status_history row for the first status and for every change. */
extern const ob_hooks ob_order_hooks;
/* Orders: confirm, process, ship, deliver, return (permission orders.edit).
 * confirm reserves the mapped lines' stock, all or nothing; cancel releases
 * it; ship turns it into sale entries (fulfil.c). */
extern const ob_fsm ob_order_fsm;
/* The cancel action (orders.cancel): from pending, confirmed or processing. */

/* Sales channels: connect stores {"credentials": {...}, "webhook_secret": ...}
 * (both write-only) and marks the channel active; disconnect removes them. */
int ob_channel_connect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_channel_disconnect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);

/* Products (inventory.c): sku_key follows sku, lower-cased, so the unique
 * index on it among live rows makes the SKU unique whatever its case. */
extern const ob_hooks ob_product_hooks;
/* Reorder suggestions: approve raises a draft purchase order from the
 * suggestion (purchasing.create needed too) and marks it ordered. */
int ob_suggestion_approve(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);

/* Stock (inventory.c). Post one inventory_transactions entry; the ledger
 * moves the row's balances or refuses with 409 insufficient_stock. */
int ob_stock_post(ob_ctx *ctx, const char *inventory_id, const char *kind, int64_t quantity, const char *ref_type,
                  const char *ref_id, const char *notes, ob_err *err);
/* The stock row of a product (no variant) in a warehouse; *out NULL when
 * there is none and create is false, else a new row at zero. */
int ob_stock_row(ob_ctx *ctx, const char *warehouse_id, const char *product_id, bool create, ob_row **out,
                 ob_err *err);
/* 403 when the principal holds perm only through grants limited to the
 * warehouses they manage (user_roles.warehouse_scope) and does not manage
 * this one (NULL: no warehouse, refused to a scoped principal). */
int ob_stock_scope(ob_ctx *ctx, const char *warehouse_id, const char *perm, ob_err *err);
/* Inventory actions: adjust {quantity, reason}, count {counted}, reserve and
 * release {quantity, reference_type, reference_id}. */
int ob_inventory_adjust(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_inventory_count(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_inventory_reserve(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_inventory_release(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
/* Stock ledger entries: the sign each kind takes, the warehouse scope, and
 * the reorder check after each entry. */
extern const ob_hooks ob_inventory_txn_hooks;
/* Transfers (transfers.c), actions on shipments of type transfer: dispatch
 * (transfer_out at the origin, in_transit at the destination), receive
 * {quantity?} (transfer_in, and a variance entry, alert and notification for
 * a shortfall), track {latitude, longitude, event_datetime?} in time order. */
int ob_transfer_dispatch(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_transfer_receive(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_transfer_track(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
/* Reorder (reorder.c): a pending reorder_suggestions row when the row's
 * available stock is at or below its reorder_point and none is pending. */
int ob_reorder_check(ob_ctx *ctx, const char *inventory_id, ob_err *err);
/* Reorder suggestions: stamps reviewed_by/at when a suggestion leaves pending. */
extern const ob_hooks ob_suggestion_hooks;
/* Purchase orders: po_number (PO-000001) when not given, created_by. */
/* Purchase order items: keep the order's total_amount equal to the sum of
 * the line totals. */
extern const ob_hooks ob_po_item_hooks;
/* Purchasing (receiving.c): the same, and items change only while their
 * order is a draft. */
extern const ob_hooks ob_po_item_draft_hooks;
/* approve needs someone other than the creator when the tenant's
 * company_settings.settings say "purchase_approval_by_other". */
int ob_po_approve_guard(ob_ctx *ctx, const ob_row *row, ob_err *err);
/* receive {warehouse_id, lines: [{purchase_order_item_id, quantity}]}. */
int ob_po_receive(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);

/* The job kind inbound.process (channel_inbound.c): one stored inbound
 * webhook (its id in the payload) applied to the unified orders, once. */
int ob_channel_inbound_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);

/* The job kind inventory.metrics (metrics.c). */
int ob_inventory_metrics_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);

#endif
