/* fulfil.c - what the order events do to stock: confirm reserves every
 * mapped line through the stock ledger (all or nothing), cancel gives the
 * held units back, ship sends lines (all that is left, or the units named):
 * their held units become sale entries, the lines count as fulfilled and,
 * given a courier, the parcel is booked through its adapter (courier.h).
 *
 * Nothing here moves a balance: every movement is an inventory_transactions
 * entry posted by ob_stock_post (inventory.c), whose bounded ledger refuses
 * what would oversell. What an order holds is read back from its own
 * entries (reference_type "order"), so no second record of it can drift. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "domain/logistics/courier.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* An order is a basket, not a catalogue: lines beyond this are refused. */
#define MAX_LINES 500

typedef struct line {
    const char *id;
    const char *product_id; /* NULL: the channel's product is not mapped */
    const char *variant_id;
    const char *label;      /* sku, else name: how a refusal names the line */
    int64_t quantity;
    int64_t fulfilled;
    int64_t shipping;       /* units of this line the ship action sends */
} line;

static int lines_of(ob_ctx *ctx, const char *order_id, line **out, int *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\", \"product_id\", \"variant_id\", COALESCE(\"sku\", \"name\"), \"quantity\", "
                      "\"fulfilled_quantity\" "
                      "FROM \"order_items\" WHERE \"order_id\" = ? ORDER BY \"created_at\", \"id\"",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, order_id, err);
    *out = ob_arena_alloc(ctx->arena, MAX_LINES * sizeof **out);
    *n = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (*n == MAX_LINES) {
            ob_stmt_done(st);
            return ob_err_set(err, OB_E_UNPROCESSABLE, "an order of more than %d lines cannot be fulfilled",
                              MAX_LINES);
        }
        line *l = &(*out)[(*n)++];
        const char *p = ob_stmt_col_text(st, 1, NULL), *v = ob_stmt_col_text(st, 2, NULL);
        l->id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        l->product_id = p ? ob_arena_strdup(ctx->arena, p) : NULL;
        l->variant_id = v ? ob_arena_strdup(ctx->arena, v) : NULL;
        l->label = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 3, NULL));
        l->quantity = ob_stmt_col_i64(st, 4);
        l->fulfilled = ob_stmt_col_i64(st, 5);
        l->shipping = 0;
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

typedef struct lot {
    const char *inventory_id;
    int64_t units;
} lot;

/* The stock rows of a line's product (its variant, or no variant), most
 * available first, and what each has available now. */
static int lots_of(ob_ctx *ctx, const line *l, lot **out, int *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      l->variant_id
                          ? "SELECT \"id\", \"quantity_on_hand\" - \"quantity_reserved\" FROM \"inventory\" "
                            "WHERE \"product_id\" = ? AND \"variant_id\" = ? "
                            "ORDER BY 2 DESC, \"id\" LIMIT 50"
                          : "SELECT \"id\", \"quantity_on_hand\" - \"quantity_reserved\" FROM \"inventory\" "
                            "WHERE \"product_id\" = ? AND \"variant_id\" IS NULL "
                            "ORDER BY 2 DESC, \"id\" LIMIT 50",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, l->product_id, err);
    if (l->variant_id) ob_stmt_bind_text(st, 2, l->variant_id, err);
    *out = ob_arena_alloc(ctx->arena, 50 * sizeof **out);
    *n = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        (*out)[*n].inventory_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        (*out)[*n].units = ob_stmt_col_i64(st, 1);
        (*n)++;
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Reserve one line from its rows, fullest first. *short_by is what could
 * not be held (0: all of it); a reserve the ledger refuses (a racing order
 * took the units since they were read) counts as short, not as a fault. */
static int reserve_line(ob_ctx *ctx, const char *order_id, const char *number, const line *l, int64_t *short_by,
                        ob_err *err)
{
    lot *lots;
    int n;
    if (lots_of(ctx, l, &lots, &n, err) != 0) return -1;
    int64_t left = l->quantity;
    for (int i = 0; i < n && left > 0; i++) {
        int64_t take = lots[i].units < left ? lots[i].units : left;
        if (take <= 0) break;
        if (ob_stock_post(ctx, lots[i].inventory_id, "reserve", take, "order", order_id, number, err) != 0) {
            if (err->code != OB_E_INSUFFICIENT_STOCK) return -1;
            ob_err_clear(err);
            break;
        }
        left -= take;
    }
    *short_by = left;
    return 0;
}

OB_EFFECT_FN(ob_order_confirm)
{
    (void)old;
    const char *id = ob_row_id(row), *number = ob_row_text(row, ORDERS_ORDER_NUMBER);
    line *lines;
    int n;
    if (lines_of(ctx, id, &lines, &n, err) != 0) return -1;
    /* every line is tried, so the refusal names all that are short; the
     * request's transaction then rolls back what the others held */
    int shorts = 0;
    ob_err refusal;
    ob_err_clear(&refusal);
    for (int i = 0; i < n; i++) {
        if (!lines[i].product_id) continue;
        int64_t short_by;
        if (reserve_line(ctx, id, number, &lines[i], &short_by, err) != 0) return -1;
        if (short_by == 0) continue;
        if (shorts++ == 0)
            ob_err_set(&refusal, OB_E_INSUFFICIENT_STOCK, "there is not enough stock to confirm order %s", number);
        ob_err_field_add(&refusal, lines[i].label,
                         ob_arena_printf(ctx->arena, "%lld of %lld units are not available",
                                         (long long)short_by, (long long)lines[i].quantity));
    }
    if (shorts == 0) return 0;
    *err = refusal;
    return -1;
}

/* What the order holds on each stock row: its reserve entries less its
 * release entries; only the rows of one line's product when l is given. */
static int held(ob_ctx *ctx, const char *order_id, const line *l, lot **out, int *n, ob_err *err)
{
    ob_stmt *st;
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 512);
    ob_sb_adds(&sql, "SELECT t.\"inventory_id\", SUM(CASE WHEN t.\"transaction_type\" = 'reserve' THEN t.\"quantity\" "
                     "ELSE -t.\"quantity\" END) FROM \"inventory_transactions\" t JOIN \"inventory\" i "
                     "ON i.\"id\" = t.\"inventory_id\" WHERE t.\"reference_type\" = 'order' "
                     "AND t.\"reference_id\" = ? AND t.\"transaction_type\" IN ('reserve', 'release')");
    if (l) ob_sb_adds(&sql, l->variant_id ? " AND i.\"product_id\" = ? AND i.\"variant_id\" = ?"
                                          : " AND i.\"product_id\" = ? AND i.\"variant_id\" IS NULL");
    ob_sb_adds(&sql, " GROUP BY t.\"inventory_id\" ORDER BY t.\"inventory_id\"");
    if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, order_id, err);
    if (l) ob_stmt_bind_text(st, 2, l->product_id, err);
    if (l && l->variant_id) ob_stmt_bind_text(st, 3, l->variant_id, err);
    *out = ob_arena_alloc(ctx->arena, MAX_LINES * sizeof **out);
    *n = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1 && *n < MAX_LINES) {
        int64_t units = ob_stmt_col_i64(st, 1);
        if (units <= 0) continue;
        (*out)[*n].inventory_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        (*out)[(*n)++].units = units;
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

OB_EFFECT_FN(ob_order_cancel)
{
    (void)old;
    const char *id = ob_row_id(row), *number = ob_row_text(row, ORDERS_ORDER_NUMBER);
    lot *lots;
    int n;
    if (held(ctx, id, NULL, &lots, &n, err) != 0) return -1;
    for (int i = 0; i < n; i++)
        if (ob_stock_post(ctx, lots[i].inventory_id, "release", lots[i].units, "order", id, number, err) != 0)
            return -1;
    return 0;
}

/* The units of each line to send: the body's {"order_item_id", "quantity"}
 * list, or everything not yet fulfilled. A line of another order is 404 (it
 * is not this order's), more than remains 409, a malformed entry 400. */
static int choose(line *lines, int n, const char *items_json, int64_t *total, ob_err *err)
{
    *total = 0;
    if (!items_json) {
        for (int i = 0; i < n; i++) *total += lines[i].shipping = lines[i].quantity - lines[i].fulfilled;
        return 0;
    }
    json_t *items = json_loads(items_json, 0, NULL);
    int rc = 0;
    if (!json_is_array(items) || json_array_size(items) == 0 || json_array_size(items) > MAX_LINES) {
        rc = ob_err_set(err, OB_E_VALIDATION, "one or more fields are invalid");
        ob_err_field_add(err, "items", "must be a list of {\"order_item_id\", \"quantity\"}");
    }
    for (size_t k = 0; rc == 0 && k < json_array_size(items); k++) {
        const json_t *it = json_array_get(items, k);
        const json_t *id = json_object_get(it, "order_item_id"), *q = json_object_get(it, "quantity");
        if (!json_is_object(it) || !json_is_string(id) || !json_is_integer(q) || json_integer_value(q) <= 0 ||
            json_object_size(it) != 2) {
            rc = ob_err_set(err, OB_E_VALIDATION, "one or more fields are invalid");
            ob_err_field_add(err, "items", "each entry is {\"order_item_id\": id, \"quantity\": units above 0}");
            break;
        }
        line *l = NULL;
        for (int i = 0; i < n && !l; i++)
            if (strcmp(lines[i].id, json_string_value(id)) == 0) l = &lines[i];
        if (!l) {
            rc = ob_err_set(err, OB_E_NOT_FOUND, "the order has no line %.40s", json_string_value(id));
            snprintf(err->field, sizeof err->field, "items");
            break;
        }
        l->shipping += json_integer_value(q);
        if (l->shipping > l->quantity - l->fulfilled) {
            rc = ob_err_set(err, OB_E_CONFLICT, "line %.60s has %lld units left to ship", l->label,
                            (long long)(l->quantity - l->fulfilled));
            snprintf(err->field, sizeof err->field, "items");
            break;
        }
        *total += json_integer_value(q);
    }
    json_decref(items);
    return rc;
}

/* The sent units of one line: its held units become a release and a sale on
 * the rows that hold them, and the line's fulfilled count grows. */
static int send_line(ob_ctx *ctx, const char *order_id, const char *number, const line *l, ob_err *err)
{
    if (l->shipping == 0) return 0;
    if (l->product_id) {
        lot *lots;
        int n;
        if (held(ctx, order_id, l, &lots, &n, err) != 0) return -1;
        int64_t left = l->shipping;
        for (int i = 0; i < n && left > 0; i++) {
            int64_t q = lots[i].units < left ? lots[i].units : left;
            if (ob_stock_post(ctx, lots[i].inventory_id, "release", q, "order", order_id, number, err) != 0 ||
                ob_stock_post(ctx, lots[i].inventory_id, "sale", -q, "order", order_id, number, err) != 0)
                return -1;
            left -= q;
        }
    }
    ob_row *item;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_ORDER_ITEMS), l->id, &item, err) != 0) return -1;
    ob_row *to = ob_row_copy(ctx->arena, item);
    ob_row_set_int(to, ORDER_ITEMS_FULFILLED_QUANTITY, l->fulfilled + l->shipping);
    return ob_crud_save(ctx, item, to, "fulfil", err);
}

/* Book the parcel with the courier of the config: a shipment of type
 * courier with one shipment_items row per line sent, then the courier's AWB,
 * label, tracking link and charges on it. A refusal fails the request, so
 * the order stays as it was. */
static int book(ob_ctx *ctx, const ob_row *order, const char *config_id, const line *lines, int n, int64_t units,
                ob_err *err)
{
    ob_row *cfg_row;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_COURIER_CONFIGS), config_id, &cfg_row, err) != 0)
        return -1;
    if (!ob_row_int(cfg_row, COURIER_CONFIGS_IS_ACTIVE, 0))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "courier %.60s is not active",
                          ob_row_text(cfg_row, COURIER_CONFIGS_NAME));
    const char *type = ob_row_text(cfg_row, COURIER_CONFIGS_COURIER_TYPE_CODE);
    const ob_courier_adapter *ad = ob_courier_adapter_for(type);
    if (!ad) return ob_err_set(err, OB_E_UNPROCESSABLE, "opsbase has no adapter for courier type %.50s", type);

    ob_row *sh = ob_row_with_defaults(ctx, OB_TABLE_SHIPMENTS);
    ob_row_set_text(ctx->arena, sh, SHIPMENTS_SHIPMENT_TYPE, "courier");
    ob_row_set_text(ctx->arena, sh, SHIPMENTS_ORDER_ID, ob_row_id(order));
    ob_row_set_text(ctx->arena, sh, SHIPMENTS_COURIER_CONFIG_ID, config_id);
    ob_row_set_text(ctx->arena, sh, SHIPMENTS_DELIVERY_ADDRESS, ob_row_text(order, ORDERS_SHIPPING_ADDRESS));
    ob_row_set_text(ctx->arena, sh, SHIPMENTS_CONSIGNEE_NAME, ob_row_text(order, ORDERS_CUSTOMER_NAME));
    ob_row_set_text(ctx->arena, sh, SHIPMENTS_CURRENCY, ob_row_text(order, ORDERS_CURRENCY));
    ob_row_set_text(ctx->arena, sh, SHIPMENTS_EXTERNAL_ORDER_ID, ob_row_text(order, ORDERS_EXTERNAL_ORDER_ID));
    const char *pm = ob_row_text(order, ORDERS_PAYMENT_METHOD);
    int64_t cod = pm && strcmp(pm, "cod") == 0 ? ob_row_int(order, ORDERS_TOTAL_AMOUNT, 0) : 0;
    if (cod) ob_row_set_int(sh, SHIPMENTS_COD_AMOUNT, cod);
    if (ob_crud_insert_row(ctx, sh, err) != 0) return -1;
    for (int i = 0; i < n; i++) {
        if (lines[i].shipping == 0) continue;
        ob_row *si = ob_row_with_defaults(ctx, OB_TABLE_SHIPMENT_ITEMS);
        ob_row_set_text(ctx->arena, si, SHIPMENT_ITEMS_SHIPMENT_ID, ob_row_id(sh));
        ob_row_set_text(ctx->arena, si, SHIPMENT_ITEMS_ORDER_ITEM_ID, lines[i].id);
        ob_row_set_text(ctx->arena, si, SHIPMENT_ITEMS_PRODUCT_ID, lines[i].product_id);
        ob_row_set_text(ctx->arena, si, SHIPMENT_ITEMS_DESCRIPTION, lines[i].label);
        ob_row_set_int(si, SHIPMENT_ITEMS_QUANTITY, lines[i].shipping);
        if (ob_crud_insert_row(ctx, si, err) != 0) return -1;
    }

    const char *settings_text = ob_row_text(cfg_row, COURIER_CONFIGS_SETTINGS);
    json_t *settings = settings_text ? json_loads(settings_text, 0, NULL) : NULL;
    ob_courier_config cfg = {config_id, type, settings};
    ob_courier_parcel p = {ob_row_text(sh, SHIPMENTS_SHIPMENT_NUMBER), ob_row_text(order, ORDERS_ORDER_NUMBER),
                           ob_row_text(order, ORDERS_SHIPPING_ADDRESS), cod, units};
    ob_courier_booking b = {0};
    int rc = ad->create(ctx, &cfg, &p, &b, err);
    json_decref(settings);
    if (rc != 0) return -1;
    ob_row *booked = ob_row_copy(ctx->arena, sh);
    ob_row_set_text(ctx->arena, booked, SHIPMENTS_AWB_NUMBER, b.awb);
    ob_row_set_text(ctx->arena, booked, SHIPMENTS_EXTERNAL_SHIPMENT_ID, b.external_id);
    ob_row_set_text(ctx->arena, booked, SHIPMENTS_LABEL_URL, b.label_url);
    ob_row_set_text(ctx->arena, booked, SHIPMENTS_TRACKING_URL, b.tracking_url);
    ob_row_set_int(booked, SHIPMENTS_SHIPPING_CHARGES, b.charges);
    ob_row_set_text(ctx->arena, booked, SHIPMENTS_STATUS, "manifested");
    return ob_crud_save(ctx, sh, booked, "book", err);
}

/* ship {courier_config_id?, items?}: the engine has checked the state
 * (confirmed, processing, or shipped with lines left) and set it to shipped. */
OB_ACTION_FN(ob_order_ship)
{
    const char *id = ob_row_id(old), *number = ob_row_text(old, ORDERS_ORDER_NUMBER);
    line *lines;
    int n;
    int64_t units;
    if (lines_of(ctx, id, &lines, &n, err) != 0 ||
        choose(lines, n, ob_row_text(ctx->input, ORDERS_SHIP_IN_ITEMS), &units, err) != 0)
        return -1;
    /* an order without lines ships as a whole (as it always has); one whose
     * lines have all been sent has nothing left */
    if (units == 0 && n > 0) return ob_err_set(err, OB_E_BAD_STATE, "order %s has nothing left to ship", number);
    for (int i = 0; i < n; i++)
        if (send_line(ctx, id, number, &lines[i], err) != 0) return -1;
    const char *cfg = ob_row_text(ctx->input, ORDERS_SHIP_IN_COURIER_CONFIG_ID);
    if (cfg && book(ctx, old, cfg, lines, n, units, err) != 0) return -1;
    bool all = true;
    for (int i = 0; i < n; i++) all &= lines[i].fulfilled + lines[i].shipping == lines[i].quantity;
    ob_row_set_text(ctx->arena, row, ORDERS_FULFILLMENT_STATUS, all ? "fulfilled" : "partial");
    return 0;
}

/* A parcel that came back (RTO delivered, or a return) puts its units back
 * on the shelves they left: per stock row, what the order sold less what
 * has already come back, as return entries. */
OB_EFFECT_FN(ob_order_returned)
{
    (void)old;
    const char *id = ob_row_id(row), *number = ob_row_text(row, ORDERS_ORDER_NUMBER);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"inventory_id\", -SUM(\"quantity\") FROM \"inventory_transactions\" "
                      "WHERE \"reference_type\" = 'order' AND \"reference_id\" = ? "
                      "AND \"transaction_type\" IN ('sale', 'return') GROUP BY \"inventory_id\" ORDER BY \"inventory_id\"",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, id, err);
    lot *lots = ob_arena_alloc(ctx->arena, MAX_LINES * sizeof *lots);
    int n = 0, rc;
    while ((rc = ob_stmt_step(st, err)) == 1 && n < MAX_LINES) {
        int64_t units = ob_stmt_col_i64(st, 1);
        if (units <= 0) continue;
        lots[n].inventory_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        lots[n++].units = units;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    for (int i = 0; i < n; i++)
        if (ob_stock_post(ctx, lots[i].inventory_id, "return", lots[i].units, "order", id, number, err) != 0) return -1;
    return 0;
}
