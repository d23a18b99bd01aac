/* channel_inbound.c - a sales channel's order webhooks applied to the unified
 * orders: the job kind inbound.process (domain/notify/inbound.c queues it
 * for every stored delivery).
 *
 * Each provider's payload is first put in one form, the body a client would
 * POST to /api/v1/orders plus its items, with amounts as the decimal strings
 * the provider sent; the engine then validates and writes it exactly as a
 * client create or PATCH, so amounts stay exact and every rule of the table
 * holds. One order per (channel, external_order_id): a delivery for an order
 * that exists updates it while it is pending, and leaves it alone after
 * (the order has moved on here); the order's own state machine is not
 * touched but for cancel, run as the declared event. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "base/clock.h"
#include "domain/commerce/commerce.h"
#include "domain/notify/notify.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

typedef enum { T_UPSERT, T_CANCEL, T_OTHER } topic_kind;

/* What a provider's payload says, in the orders table's terms. */
typedef struct norm {
    json_t *order; /* the orders body (owned) */
    json_t *items; /* [{the order_items body but order_id, "_pid", "_vid"}] (owned) */
} norm;

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && json_string_length(v) ? json_string_value(v) : NULL;
}

/* An id the provider sends as a number or a string, as text. */
static const char *jid(ob_arena *a, json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) return ob_arena_printf(a, "%lld", (long long)json_integer_value(v));
    return json_is_string(v) && json_string_length(v) ? ob_arena_strdup(a, json_string_value(v)) : NULL;
}

static void put_str(json_t *o, const char *k, const char *v)
{
    if (v) json_object_set_new(o, k, json_string(v));
}

/* amount * quantity - discount, as a decimal string; NULL when an amount is
 * not a decimal of at most 2 places (the engine refuses the order then). */
static const char *line_total(ob_arena *a, const char *price, int64_t qty, const char *discount)
{
    int64_t p, d = 0;
    if (!price || ob_parse_decimal(price, 2, &p) != 0 || (discount && ob_parse_decimal(discount, 2, &d) != 0))
        return NULL;
    if (qty < 0 || qty > 1000000 || p < 0 || p > OB_MONEY_MAX) return NULL; /* no overflow below */
    int64_t t = p * qty - d;
    char buf[32];
    ob_format_decimal(t < 0 ? 0 : t, 2, buf, sizeof buf);
    return ob_arena_strdup(a, buf);
}

/* A provider's address object in the orders table's shape. */
static json_t *address(json_t *src, const char *const keys[8])
{
    static const char *const ours[8] = {"name", "phone", "line1", "line2", "city", "state", "postal_code", "country"};
    if (!json_is_object(src)) return NULL;
    json_t *a = json_object();
    for (int i = 0; i < 8; i++) put_str(a, ours[i], jstr(src, keys[i]));
    if (!json_object_get(a, "name")) {
        const char *f = jstr(src, "first_name"), *l = jstr(src, "last_name");
        if (f || l) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s%s%s", f ? f : "", f && l ? " " : "", l ? l : "");
            json_object_set_new(a, "name", json_string(buf));
        }
    }
    return a;
}

/* A provider's timestamp (any offset) as ours in UTC; NULL when absent or bad. */
static const char *utc(ob_arena *a, const char *ts)
{
    int64_t ms;
    if (!ts || ob_ts_parse(ts, &ms) != 0) return NULL;
    char *out = ob_arena_alloc(a, OB_TS_LEN);
    ob_ts_format(ms, out);
    return out;
}

static void item(ob_arena *a, json_t *items, const char *pid, const char *vid, const char *sku, const char *name,
                 int64_t qty, const char *price, const char *discount)
{
    json_t *it = json_object();
    put_str(it, "external_product_id", pid);
    put_str(it, "external_variant_id", vid);
    put_str(it, "sku", sku);
    put_str(it, "name", name ? name : (sku ? sku : "item"));
    json_object_set_new(it, "quantity", json_integer(qty));
    put_str(it, "unit_price", price);
    put_str(it, "discount_amount", discount);
    put_str(it, "total_amount", line_total(a, price, qty, discount));
    json_array_append_new(items, it);
}

/* Shopify's order resource (orders/create, orders/updated, orders/cancelled). */
static int from_shopify(ob_arena *a, json_t *p, norm *n)
{
    static const char *const addr[8] = {"name", "phone", "address1", "address2", "city", "province", "zip", "country_code"};
    json_t *o = n->order;
    put_str(o, "external_order_id", jid(a, p, "id"));
    put_str(o, "external_order_number", jstr(p, "name") ? jstr(p, "name") : jid(a, p, "order_number"));
    json_t *ship = address(json_object_get(p, "shipping_address"), addr);
    json_t *bill = address(json_object_get(p, "billing_address"), addr);
    json_t *cust = json_object_get(p, "customer");
    const char *name = ship ? jstr(ship, "name") : NULL;
    if (!name && bill) name = jstr(bill, "name");
    if (!name && json_is_object(cust)) {
        json_t *c = address(cust, addr);
        name = ob_arena_strdup(a, jstr(c, "name") ? jstr(c, "name") : "");
        json_decref(c);
    }
    put_str(o, "customer_name", name && *name ? name : "unknown");
    put_str(o, "customer_email", jstr(p, "email") ? jstr(p, "email") : jstr(p, "contact_email"));
    put_str(o, "customer_phone", jstr(p, "phone") ? jstr(p, "phone") : (ship ? jstr(ship, "phone") : NULL));
    json_object_set_new(o, "shipping_address", ship ? ship : json_object());
    if (bill) json_object_set_new(o, "billing_address", bill);
    put_str(o, "subtotal", jstr(p, "subtotal_price"));
    put_str(o, "discount_amount", jstr(p, "total_discounts"));
    put_str(o, "tax_amount", jstr(p, "total_tax"));
    json_t *sh = json_object_get(json_object_get(json_object_get(p, "total_shipping_price_set"), "shop_money"), "amount");
    if (json_is_string(sh)) put_str(o, "shipping_amount", json_string_value(sh));
    put_str(o, "total_amount", jstr(p, "total_price"));
    put_str(o, "currency", jstr(p, "currency"));
    put_str(o, "order_date", utc(a, jstr(p, "created_at")));
    /* cash on delivery is a manual gateway whose name says so */
    const char *gw = jstr(p, "gateway");
    json_t *names = json_object_get(p, "payment_gateway_names");
    if (!gw && json_is_array(names) && json_array_size(names)) gw = json_string_value(json_array_get(names, 0));
    const char *lgw = gw ? ob_ascii_lower(a, gw) : NULL;
    bool cod = lgw && (strstr(lgw, "cash on delivery") || strstr(lgw, "cod"));
    const char *fin = jstr(p, "financial_status");
    put_str(o, "payment_method", cod ? "cod" : "prepaid");
    put_str(o, "payment_status", cod ? "cod" : fin && !strcmp(fin, "paid") ? "paid"
                                           : fin && !strcmp(fin, "refunded") ? "refunded" : "pending");
    put_str(o, "payment_gateway", gw ? ob_arena_strndup(a, gw, 50) : NULL);
    size_t i;
    json_t *li;
    json_array_foreach(json_object_get(p, "line_items"), i, li) {
        json_t *q = json_object_get(li, "quantity");
        item(a, n->items, jid(a, li, "product_id"), jid(a, li, "variant_id"), jstr(li, "sku"),
             jstr(li, "name") ? jstr(li, "name") : jstr(li, "title"), json_is_integer(q) ? json_integer_value(q) : 0,
             jstr(li, "price"), jstr(li, "total_discount"));
    }
    return 0;
}

/* WooCommerce's order (order.created, order.updated; status cancelled). */
static int from_woocommerce(ob_arena *a, json_t *p, norm *n)
{
    static const char *const addr[8] = {"name", "phone", "address_1", "address_2", "city", "state", "postcode", "country"};
    json_t *o = n->order;
    put_str(o, "external_order_id", jid(a, p, "id"));
    put_str(o, "external_order_number", jid(a, p, "number"));
    json_t *bsrc = json_object_get(p, "billing");
    json_t *ship = address(json_object_get(p, "shipping"), addr), *bill = address(bsrc, addr);
    if (ship && !jstr(ship, "line1") && bill) { /* Woo sends an empty shipping block for billing-only orders */
        json_decref(ship);
        ship = json_deep_copy(bill);
    }
    const char *name = ship ? jstr(ship, "name") : NULL;
    if (!name && bill) name = jstr(bill, "name");
    put_str(o, "customer_name", name ? name : "unknown");
    put_str(o, "customer_email", jstr(bsrc, "email"));
    put_str(o, "customer_phone", jstr(bsrc, "phone"));
    json_object_set_new(o, "shipping_address", ship ? ship : json_object());
    if (bill) json_object_set_new(o, "billing_address", bill);
    put_str(o, "discount_amount", jstr(p, "discount_total"));
    put_str(o, "tax_amount", jstr(p, "total_tax"));
    put_str(o, "shipping_amount", jstr(p, "shipping_total"));
    put_str(o, "total_amount", jstr(p, "total"));
    put_str(o, "currency", jstr(p, "currency"));
    const char *gmt = jstr(p, "date_created_gmt");
    put_str(o, "order_date", gmt ? utc(a, ob_arena_printf(a, "%sZ", gmt)) : NULL);
    const char *pm = jstr(p, "payment_method");
    bool cod = pm && !strcmp(pm, "cod");
    put_str(o, "payment_method", cod ? "cod" : "prepaid");
    put_str(o, "payment_status", cod ? "cod" : jstr(p, "date_paid_gmt") || json_is_true(json_object_get(p, "set_paid"))
                                                   ? "paid" : "pending");
    put_str(o, "payment_gateway", pm ? ob_arena_strndup(a, pm, 50) : NULL);
    /* Woo gives the line's subtotal and total as strings and its unit price
     * as a JSON number; the subtotal over the quantity is exact when it divides */
    int64_t sub = 0;
    size_t i;
    json_t *li;
    json_array_foreach(json_object_get(p, "line_items"), i, li) {
        json_t *q = json_object_get(li, "quantity");
        int64_t qty = json_is_integer(q) ? json_integer_value(q) : 0, ls = 0, lt = 0;
        const char *price = NULL, *disc = NULL;
        if (qty > 0 && jstr(li, "subtotal") && ob_parse_decimal(jstr(li, "subtotal"), 2, &ls) == 0 && ls % qty == 0) {
            char b[32];
            ob_format_decimal(ls / qty, 2, b, sizeof b);
            price = ob_arena_strdup(a, b);
            sub += ls;
            if (jstr(li, "total") && ob_parse_decimal(jstr(li, "total"), 2, &lt) == 0 && lt <= ls) {
                ob_format_decimal(ls - lt, 2, b, sizeof b);
                disc = ob_arena_strdup(a, b);
            }
        }
        item(a, n->items, jid(a, li, "product_id"), jid(a, li, "variation_id"), jstr(li, "sku"), jstr(li, "name"), qty,
             price, disc);
    }
    char b[32];
    ob_format_decimal(sub, 2, b, sizeof b);
    put_str(o, "subtotal", b);
    return 0;
}

/* The generic form (docs/api.md, "Inbound webhooks"): {"order": {the orders
 * body's fields, "items": [{sku, external_product_id, external_variant_id,
 * name, quantity, unit_price, discount_amount}]}}. */
static int from_generic(ob_arena *a, json_t *p, norm *n, ob_err *err)
{
    json_t *src = json_object_get(p, "order");
    if (!json_is_object(src)) return ob_err_set(err, OB_E_UNPROCESSABLE, "the generic form carries {\"order\": {...}}");
    static const char *const keys[] = {"external_order_id", "external_order_number", "customer_name", "customer_email",
                                       "customer_phone", "subtotal", "discount_amount", "tax_amount",
                                       "shipping_amount", "total_amount", "currency", "payment_method",
                                       "payment_status", "payment_gateway", "payment_reference", "order_date", "notes"};
    for (size_t i = 0; i < OB_ARRAY_LEN(keys); i++) {
        json_t *v = json_object_get(src, keys[i]);
        if (v) json_object_set(n->order, keys[i], v);
    }
    json_t *ship = json_object_get(src, "shipping_address");
    json_object_set(n->order, "shipping_address", ship ? ship : json_object_get(src, "billing_address"));
    if (json_object_get(src, "billing_address")) json_object_set(n->order, "billing_address", json_object_get(src, "billing_address"));
    size_t i;
    json_t *li;
    json_array_foreach(json_object_get(src, "items"), i, li) {
        json_t *q = json_object_get(li, "quantity");
        item(a, n->items, jid(a, li, "external_product_id"), jid(a, li, "external_variant_id"), jstr(li, "sku"),
             jstr(li, "name"), json_is_integer(q) ? json_integer_value(q) : 0, jstr(li, "unit_price"),
             jstr(li, "discount_amount"));
    }
    return 0;
}

static topic_kind topic_of(const char *provider, const char *topic, json_t *payload)
{
    if (!strcmp(provider, "shopify")) {
        if (!strcmp(topic, "orders/create") || !strcmp(topic, "orders/updated")) return T_UPSERT;
        return !strcmp(topic, "orders/cancelled") ? T_CANCEL : T_OTHER;
    }
    if (!strcmp(provider, "woocommerce")) {
        if (strcmp(topic, "order.created") != 0 && strcmp(topic, "order.updated") != 0) return T_OTHER;
        const char *st = jstr(payload, "status");
        return st && !strcmp(st, "cancelled") ? T_CANCEL : T_UPSERT;
    }
    if (!strcmp(topic, "order.created") || !strcmp(topic, "order.updated")) return T_UPSERT;
    return !strcmp(topic, "order.cancelled") ? T_CANCEL : T_OTHER;
}

/* One text column of the first row of sql with text parameters; NULL when none. */
static int one_text(ob_ctx *ctx, const char *sql, const char *const *params, int n, const char **out, ob_err *err)
{
    *out = NULL;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    for (int i = 0; i < n; i++) ob_stmt_bind_text(st, i + 1, params[i], err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        const char *v = ob_stmt_col_text(st, 0, NULL);
        *out = v ? ob_arena_strdup(ctx->arena, v) : NULL;
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* The product (and variant) of a line: the channel's listing of it, else its
 * SKU among our variants, then our products; unknown lines stay, flagged. */
static int map_item(ob_ctx *ctx, const char *channel_id, json_t *it, ob_err *err)
{
    const char *pid = jstr(it, "external_product_id"), *vid = jstr(it, "external_variant_id"), *sku = jstr(it, "sku");
    const char *product = NULL, *variant = NULL;
    if (pid) {
        const char *p[] = {channel_id, pid, vid ? vid : ""};
        if (one_text(ctx,
                     "SELECT product_id || '/' || COALESCE(variant_id, '') FROM channel_products WHERE channel_id = ? "
                     "AND external_product_id = ? AND (external_variant_id = ? OR external_variant_id IS NULL) "
                     "ORDER BY CASE WHEN external_variant_id IS NULL THEN 1 ELSE 0 END LIMIT 1",
                     p, 3, &product, err) != 0)
            return -1;
    }
    if (!product && sku) {
        const char *p[] = {sku};
        if (one_text(ctx, "SELECT product_id || '/' || id FROM product_variants WHERE sku = ? LIMIT 1", p, 1,
                     &product, err) != 0)
            return -1;
        if (!product) {
            const char *q[] = {ob_ascii_lower(ctx->arena, sku)};
            if (one_text(ctx, "SELECT id || '/' FROM products WHERE sku_key = ? AND deleted_at IS NULL", q, 1, &product,
                         err) != 0)
                return -1;
        }
    }
    if (product) {
        char *slash = strchr((char *)product, '/');
        *slash = 0;
        variant = slash[1] ? slash + 1 : NULL;
        json_object_set_new(it, "product_id", json_string(product));
        if (variant) json_object_set_new(it, "variant_id", json_string(variant));
    } else {
        json_object_set_new(it, "metadata", json_pack("{s:b}", "unmapped", 1));
    }
    return 0;
}

static int write_items(ob_ctx *ctx, const char *channel_id, const char *order_id, json_t *items, int *unmapped,
                       ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_ORDER_ITEMS);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        if (map_item(ctx, channel_id, it, err) != 0) return -1;
        *unmapped += json_object_get(it, "metadata") != NULL;
        json_object_set_new(it, "order_id", json_string(order_id));
        ob_row *row;
        if (ob_crud_create(ctx, t, it, &row, err) != 0) return -1;
    }
    return 0;
}

/* The order's items are the delivery's: the old lines go, the new ones come. */
static int drop_items(ob_ctx *ctx, const char *order_id, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_ORDER_ITEMS);
    for (;;) {
        const char *id, *p[] = {order_id};
        if (one_text(ctx, "SELECT id FROM order_items WHERE order_id = ? LIMIT 1", p, 1, &id, err) != 0) return -1;
        if (!id) return 0;
        if (ob_crud_delete(ctx, t, id, -1, err) != 0) return -1;
    }
}

typedef struct outcome {
    const char *status, *result_id, *note;
} outcome;

static int apply(ob_ctx *ctx, const ob_row *in, outcome *out, ob_err *err)
{
    const char *provider = ob_row_text(in, INBOUND_WEBHOOKS_PROVIDER), *topic = ob_row_text(in, INBOUND_WEBHOOKS_TOPIC);
    const char *channel_id = ob_row_text(in, INBOUND_WEBHOOKS_SOURCE_ID);
    json_error_t je;
    json_t *p = json_loads(ob_row_text(in, INBOUND_WEBHOOKS_PAYLOAD), 0, &je);
    if (!json_is_object(p)) {
        json_decref(p);
        out->note = "the payload is not a JSON object";
        return 0;
    }
    topic_kind k = topic_of(provider, topic, p);
    norm n = {json_object(), json_array()};
    int rc = 0;
    if (k == T_OTHER) out->note = ob_arena_printf(ctx->arena, "the topic %.80s is not applied", topic);
    else if (!strcmp(provider, "shopify")) rc = from_shopify(ctx->arena, p, &n);
    else if (!strcmp(provider, "woocommerce")) rc = from_woocommerce(ctx->arena, p, &n);
    else rc = from_generic(ctx->arena, p, &n, err);
    json_decref(p);
    const char *ext = rc == 0 ? jstr(n.order, "external_order_id") : NULL;
    if (rc == 0 && k != T_OTHER && !ext) out->note = "the payload names no order id";
    if (rc != 0 || out->note) goto done;

    const ob_table *orders = ob_registry_find(OB_TABLE_ORDERS);
    const char *order_id, *params[] = {channel_id, ext};
    if ((rc = one_text(ctx, "SELECT id FROM orders WHERE channel_id = ? AND external_order_id = ?", params, 2, &order_id,
                       err)) != 0)
        goto done;
    int unmapped = 0;
    if (!order_id) {
        if (k == T_CANCEL) {
            out->note = "a cancellation of an order never received";
            goto done;
        }
        json_object_set_new(n.order, "channel_id", json_string(channel_id));
        ob_row *row;
        if ((rc = ob_crud_create(ctx, orders, n.order, &row, err)) != 0) goto done;
        order_id = ob_row_id(row);
        if ((rc = write_items(ctx, channel_id, order_id, n.items, &unmapped, err)) != 0) goto done;
    } else {
        ob_row *cur;
        if ((rc = ob_sql_load_internal(ctx, orders, order_id, &cur, err)) != 0) goto done;
        const char *status = ob_row_text(cur, ORDERS_STATUS);
        out->result_id = order_id;
        if (strcmp(status, "pending") != 0) {
            out->note = ob_arena_printf(ctx->arena, "the order is %s: changes on the channel are not applied", status);
            goto done;
        }
        ob_row *row;
        if (k == T_CANCEL) {
            rc = ob_crud_action(ctx, orders, order_id, "cancel", NULL, &row, err);
            goto done_ok;
        }
        /* the key and the channel never change */
        json_object_del(n.order, "external_order_id");
        if ((rc = ob_crud_update(ctx, orders, order_id, n.order, -1, &row, err)) != 0) goto done;
        if ((rc = drop_items(ctx, order_id, err)) != 0) goto done;
        if ((rc = write_items(ctx, channel_id, order_id, n.items, &unmapped, err)) != 0) goto done;
    }
    if (unmapped) out->note = ob_arena_printf(ctx->arena, "%d item(s) not mapped to a product", unmapped);
done_ok:
    if (rc == 0) {
        out->status = "processed";
        out->result_id = order_id;
    }
done:
    /* the job's error is all an operator sees: name what the table refused */
    if (rc != 0 && err->nfields > 0) {
        size_t len = strlen(err->message);
        snprintf(err->message + len, sizeof err->message - len, " (%.60s: %.90s)", err->fields[0].name,
                 err->fields[0].problem);
    }
    json_decref(n.order);
    json_decref(n.items);
    return rc;
}

int ob_channel_inbound_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    ob_row *in;
    if (ob_inbound_take(ctx, job, &in, result, err) != 0) return -1;
    if (!in) return 0; /* settled by an earlier run */
    outcome o = {"ignored", NULL, NULL};
    if (apply(ctx, in, &o, err) != 0) return -1;
    if (ob_inbound_settle(ctx, in, o.status, o.result_id, o.note, err) != 0) return -1;
    ob_jsonw w;
    ob_jw_init(&w, result);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "status", o.status);
    if (o.result_id) ob_jw_kstr(&w, "order_id", o.result_id);
    else ob_jw_knull(&w, "order_id");
    ob_jw_obj_close(&w);
    return 0;
}
