/* transfers.c - stock moved between warehouses by a shipment of type
 * transfer (004): dispatch takes the items' units out of the origin
 * (transfer_out) and counts them in transit at the destination
 * (in_transit, incoming_quantity); receive posts what arrived (transfer_in)
 * and a variance entry for a shortfall, which raises a stock_variance alert
 * and a notification. Positions are appended by track, in time order. */
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

typedef struct item {
    const char *product_id;
    int64_t quantity;
} item;

/* The transfer's product lines; at most 200 (a transfer is a truck, not a
 * catalogue). */
static int items_of(ob_ctx *ctx, const char *shipment_id, item **out, int *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"product_id\", \"quantity\" FROM \"shipment_items\" WHERE \"shipment_id\" = ? "
                      "AND \"product_id\" IS NOT NULL ORDER BY \"created_at\", \"id\"",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, shipment_id, err);
    *out = ob_arena_alloc(ctx->arena, 200 * sizeof **out);
    *n = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1 && *n < 200) {
        (*out)[*n].product_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        (*out)[*n].quantity = ob_stmt_col_i64(st, 1);
        (*n)++;
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

static int need_transfer(const ob_row *old, const char *verb, const char *states, ob_err *err)
{
    if (strcmp(ob_row_text(old, SHIPMENTS_SHIPMENT_TYPE), "transfer") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "only a transfer can be %s", verb);
    const char *st = ob_row_text(old, SHIPMENTS_STATUS);
    size_t n = strlen(st);
    for (const char *p = states; p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, st, n) == 0) return 0;
        p = end ? end + 1 : NULL;
    }
    return ob_err_set(err, OB_E_BAD_STATE, "a transfer that is \"%s\" cannot be %s", st, verb);
}

int ob_transfer_dispatch(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (need_transfer(old, "dispatched", "created,booked,manifested,picked", err) != 0) return -1;
    const char *from = ob_row_text(old, SHIPMENTS_ORIGIN_WAREHOUSE_ID);
    const char *to = ob_row_text(old, SHIPMENTS_DESTINATION_WAREHOUSE_ID);
    if (ob_stock_scope(ctx, from, "inventory.adjust", err) != 0) return -1;
    item *items;
    int n;
    if (items_of(ctx, ob_row_id(old), &items, &n, err) != 0) return -1;
    if (n == 0) return ob_err_set(err, OB_E_UNPROCESSABLE, "the transfer has no product lines (shipment_items)");
    const char *id = ob_row_id(old), *num = ob_row_text(old, SHIPMENTS_SHIPMENT_NUMBER);
    for (int i = 0; i < n; i++) {
        ob_row *src, *dst;
        if (ob_stock_row(ctx, from, items[i].product_id, false, &src, err) != 0) return -1;
        if (!src)
            return ob_err_set(err, OB_E_INSUFFICIENT_STOCK, "the origin warehouse holds no stock of product %s",
                              items[i].product_id);
        if (ob_stock_post(ctx, ob_row_id(src), "transfer_out", -items[i].quantity, "shipment", id, num, err) != 0 ||
            ob_stock_row(ctx, to, items[i].product_id, true, &dst, err) != 0 ||
            ob_stock_post(ctx, ob_row_id(dst), "in_transit", items[i].quantity, "shipment", id, num, err) != 0)
            return -1;
    }
    ob_row_set_text(ctx->arena, row, SHIPMENTS_STATUS, "in_transit");
    return 0;
}

/* The alert and the message a shortfall raises. */
static int raise_variance(ob_ctx *ctx, const ob_row *ship, const item *it, int64_t got, ob_err *err)
{
    int64_t short_by = it->quantity - got;
    const char *desc = ob_arena_printf(ctx->arena, "transfer %s: %lld of %lld units of product %s arrived, %lld short",
                                       ob_row_text(ship, SHIPMENTS_SHIPMENT_NUMBER), (long long)got,
                                       (long long)it->quantity, it->product_id, (long long)short_by);
    ob_row *a = ob_row_with_defaults(ctx, OB_TABLE_SECURITY_ALERTS);
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_ALERT_TYPE, "stock_variance");
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_SEVERITY, "medium");
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_DESCRIPTION, desc);
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_ADDITIONAL_DATA,
                    ob_arena_printf(ctx->arena,
                                    "{\"shipment_id\":\"%s\",\"product_id\":\"%s\",\"dispatched\":%lld,"
                                    "\"received\":%lld,\"short\":%lld}",
                                    ob_row_id(ship), it->product_id, (long long)it->quantity, (long long)got,
                                    (long long)short_by));
    if (ob_crud_insert_row(ctx, a, err) != 0) return -1;
    /* the destination's manager hears of it, else whoever received it */
    const char *to = NULL;
    ob_row *wh;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_WAREHOUSES),
                             ob_row_text(ship, SHIPMENTS_DESTINATION_WAREHOUSE_ID), &wh, err) != 0)
        return -1;
    const char *uid = ob_row_text(wh, WAREHOUSES_MANAGER_ID);
    if (!uid && ctx->who) uid = ctx->who->user_id;
    ob_row *u;
    if (uid && ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_USERS), uid, &u, err) == 0)
        to = ob_row_text(u, USERS_EMAIL);
    ob_err_clear(err);
    if (!to) return 0; /* the system received it and no one manages the warehouse: the alert stands alone */
    ob_row *msg = ob_row_with_defaults(ctx, OB_TABLE_NOTIFICATION_LOGS);
    ob_row_set_text(ctx->arena, msg, NOTIFICATION_LOGS_TYPE, "email");
    ob_row_set_text(ctx->arena, msg, NOTIFICATION_LOGS_RECIPIENT, to);
    ob_row_set_text(ctx->arena, msg, NOTIFICATION_LOGS_SUBJECT, "Stock variance on a transfer");
    ob_row_set_text(ctx->arena, msg, NOTIFICATION_LOGS_BODY, desc);
    ob_row_set_text(ctx->arena, msg, NOTIFICATION_LOGS_STATUS, "pending");
    ob_row_set_text(ctx->arena, msg, NOTIFICATION_LOGS_REFERENCE_TYPE, "shipment");
    ob_row_set_text(ctx->arena, msg, NOTIFICATION_LOGS_REFERENCE_ID, ob_row_id(ship));
    return ob_crud_insert_row(ctx, msg, err);
}

int ob_transfer_receive(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (need_transfer(old, "received", "in_transit", err) != 0) return -1;
    const char *to = ob_row_text(old, SHIPMENTS_DESTINATION_WAREHOUSE_ID);
    if (ob_stock_scope(ctx, to, "inventory.adjust", err) != 0) return -1;
    item *items;
    int n;
    if (items_of(ctx, ob_row_id(old), &items, &n, err) != 0) return -1;
    bool given = !ob_row_is_null(ctx->input, SHIPMENTS_RECEIVE_IN_QUANTITY);
    if (given && n != 1) {
        ob_err_set(err, OB_E_UNPROCESSABLE, "quantity names the units of a transfer of one product line");
        return ob_err_field_add(err, SHIPMENTS_RECEIVE_IN_QUANTITY.name,
                                "is for a transfer of one product line; leave it out to receive all");
    }
    const char *id = ob_row_id(old), *num = ob_row_text(old, SHIPMENTS_SHIPMENT_NUMBER);
    for (int i = 0; i < n; i++) {
        int64_t got = given ? ob_row_int(ctx->input, SHIPMENTS_RECEIVE_IN_QUANTITY, 0) : items[i].quantity;
        if (got > items[i].quantity)
            return ob_err_set(err, OB_E_OVER_RECEIPT, "%lld units cannot arrive of %lld dispatched", (long long)got,
                              (long long)items[i].quantity);
        ob_row *dst;
        if (ob_stock_row(ctx, to, items[i].product_id, true, &dst, err) != 0) return -1;
        const char *inv = ob_row_id(dst);
        if (got > 0 && ob_stock_post(ctx, inv, "transfer_in", got, "shipment", id, num, err) != 0) return -1;
        if (got < items[i].quantity &&
            (ob_stock_post(ctx, inv, "variance", got - items[i].quantity, "shipment", id,
                           ob_arena_printf(ctx->arena, "%s: %lld short", num, (long long)(items[i].quantity - got)),
                           err) != 0 ||
             raise_variance(ctx, old, &items[i], got, err) != 0))
            return -1;
    }
    ob_row_set_text(ctx->arena, row, SHIPMENTS_STATUS, "delivered");
    ob_row_set_text(ctx->arena, row, SHIPMENTS_DELIVERED_AT, ctx->now);
    return 0;
}

int ob_transfer_track(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)row;
    if (strcmp(ob_row_text(old, SHIPMENTS_SHIPMENT_TYPE), "transfer") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "only a transfer takes tracking points here");
    const char *at = ob_row_text(ctx->input, SHIPMENTS_TRACK_IN_EVENT_DATETIME);
    if (!at) at = ctx->now;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT 1 FROM \"tracking_events\" WHERE \"shipment_id\" = ? AND \"event_datetime\" > ? LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ob_row_id(old), err);
    ob_stmt_bind_text(st, 2, at, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (rc == 1) {
        ob_err_set(err, OB_E_UNPROCESSABLE, "a tracking point is appended after the last one");
        return ob_err_field_add(err, SHIPMENTS_TRACK_IN_EVENT_DATETIME.name,
                                "is before the transfer's last tracking point");
    }
    ob_row *ev = ob_row_with_defaults(ctx, OB_TABLE_TRACKING_EVENTS);
    ob_row_set_text(ctx->arena, ev, TRACKING_EVENTS_SHIPMENT_ID, ob_row_id(old));
    ob_row_set_text(ctx->arena, ev, TRACKING_EVENTS_EVENT_CODE, "location_update");
    ob_row_set_text(ctx->arena, ev, TRACKING_EVENTS_EVENT_DATETIME, at);
    ob_row_set_text(ctx->arena, ev, TRACKING_EVENTS_EVENT_LOCATION,
                    ob_row_text(ctx->input, SHIPMENTS_TRACK_IN_EVENT_LOCATION));
    /* the coordinates as given, null included */
    ev->v[TRACKING_EVENTS_LATITUDE.idx] = *ob_row_get(ctx->input, SHIPMENTS_TRACK_IN_LATITUDE);
    ev->set[TRACKING_EVENTS_LATITUDE.idx] = true;
    ev->v[TRACKING_EVENTS_LONGITUDE.idx] = *ob_row_get(ctx->input, SHIPMENTS_TRACK_IN_LONGITUDE);
    ev->set[TRACKING_EVENTS_LONGITUDE.idx] = true;
    return ob_crud_insert_row(ctx, ev, err);
}
