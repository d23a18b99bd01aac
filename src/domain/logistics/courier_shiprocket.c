/* courier_shiprocket.c - Shiprocket's external API. Credentials {"email",
 * "password"} (an API user of the account) buy a bearer token at
 * POST /v1/external/auth/login, asked for once per call, so no token
 * outlives the request that used it. Booking is three steps, as Shiprocket
 * splits it: the order (POST /v1/external/orders/create/adhoc, which answers
 * with its shipment_id), the AWB (POST /v1/external/courier/assign/awb,
 * which names the courier and, on accounts that show it, the freight
 * charges) and the label (POST /v1/external/courier/generate/label).
 * Settings: base_url, pickup_location (the account's pickup address name,
 * default "Primary"), courier_id (a courier company to assign; Shiprocket
 * picks one without it), weight_kg / length_cm / breadth_cm / height_cm of a
 * parcel (default 0.5 / 10 / 10 / 10), tracking_page (default
 * https://shiprocket.co/tracking/). Scans: GET
 * /v1/external/courier/track/awb/{awb}, each activity's sr-status-label is
 * the code (tracking.c maps it). */
#include <string.h>

#include "base/base.h"
#include "domain/logistics/courier_http.h"
#include "base/banned.h"

static int login(ob_ctx *ctx, const ob_courier_config *cfg, const char **auth, ob_err *err)
{
    const char *email, *password;
    if (ob_courier_secret(ctx, cfg, "email", &email, err) != 0 ||
        ob_courier_secret(ctx, cfg, "password", &password, err) != 0)
        return -1;
    static const char *const hd[] = {"Content-Type: application/json", NULL};
    json_t *a;
    if (ob_courier_call(ctx, cfg, NULL, "/v1/external/auth/login", hd,
                        ob_courier_dump(ctx, json_pack("{s:s, s:s}", "email", email, "password", password)), &a,
                        NULL, err) != 0)
        return -1;
    const json_t *tok = json_object_get(a, "token");
    *auth = json_is_string(tok) ? ob_arena_printf(ctx->arena, "Authorization: Bearer %s", json_string_value(tok))
                                : NULL;
    json_decref(a);
    return *auth ? 0 : ob_courier_refuse(cfg, "sign in", "no token in its answer", err);
}

/* One authenticated JSON call. */
static int call(ob_ctx *ctx, const ob_courier_config *cfg, const char *path, json_t *body, json_t **answer,
                ob_err *err)
{
    const char *auth;
    if (login(ctx, cfg, &auth, err) != 0) {
        json_decref(body);
        return -1;
    }
    const char *hd[] = {"Content-Type: application/json", auth, NULL};
    return ob_courier_call(ctx, cfg, NULL, path, hd, body ? ob_courier_dump(ctx, body) : NULL, answer, NULL, err);
}

static const char *num_setting(const ob_courier_config *cfg, const char *key, const char *dflt)
{
    const char *v = ob_courier_setting(cfg, key);
    return v ? v : dflt;
}

static int sr_create(ob_ctx *ctx, const ob_courier_config *cfg, const ob_courier_parcel *p, ob_courier_booking *out,
                     ob_err *err)
{
    static const char *const k_name[] = {"name", "first_name", NULL}, *const k_l1[] = {"line1", "address1", NULL},
                             *const k_l2[] = {"line2", "address2", NULL}, *const k_city[] = {"city", NULL},
                             *const k_state[] = {"state", "province", NULL},
                             *const k_pin[] = {"pincode", "zip", "postal_code", NULL},
                             *const k_country[] = {"country", NULL}, *const k_phone[] = {"phone", NULL};
    json_t *a = ob_courier_address(p);
    char cod[32], today[11];
    ob_format_decimal(p->cod_amount, 2, cod, sizeof cod);
    ob_date_format(ob_now_ms() / 86400000, today);
    json_t *item = json_pack("{s:s, s:s, s:I, s:s}", "name", ob_arena_printf(ctx->arena, "Order %s", p->order_number),
                             "sku", p->order_number, "units", (json_int_t)p->units, "selling_price", cod);
    json_t *body = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:[o], s:s, s:s, s:s, s:s, s:s, s:s}",
        "order_id", p->shipment_number, "order_date", today, "pickup_location",
        num_setting(cfg, "pickup_location", "Primary"), "billing_customer_name", ob_courier_addr_field(a, k_name),
        "billing_address", ob_courier_addr_field(a, k_l1), "billing_address_2", ob_courier_addr_field(a, k_l2),
        "billing_city", ob_courier_addr_field(a, k_city), "billing_state", ob_courier_addr_field(a, k_state),
        "billing_pincode", ob_courier_addr_field(a, k_pin), "billing_country", ob_courier_addr_field(a, k_country),
        "billing_phone", ob_courier_addr_field(a, k_phone), "shipping_is_billing", 1, "order_items", item,
        "payment_method", p->cod_amount ? "COD" : "Prepaid", "sub_total", cod, "length",
        num_setting(cfg, "length_cm", "10"), "breadth", num_setting(cfg, "breadth_cm", "10"), "height",
        num_setting(cfg, "height_cm", "10"), "weight", num_setting(cfg, "weight_kg", "0.5"));
    json_decref(a);
    json_t *order;
    if (call(ctx, cfg, "/v1/external/orders/create/adhoc", body, &order, err) != 0) return -1;
    const char *shipment_id = ob_courier_text(ctx, json_object_get(order, "shipment_id"));
    json_decref(order);
    if (!shipment_id) return ob_courier_refuse(cfg, "create the order", "no shipment_id in its answer", err);
    json_int_t sid = (json_int_t)strtoll(shipment_id, NULL, 10);

    json_t *assign = json_pack("{s:I}", "shipment_id", sid);
    const char *courier_id = ob_courier_setting(cfg, "courier_id");
    if (courier_id) json_object_set_new(assign, "courier_id", json_string(courier_id));
    json_t *awb;
    if (call(ctx, cfg, "/v1/external/courier/assign/awb", assign, &awb, err) != 0) return -1;
    const json_t *data = ob_courier_at(awb, "response.data");
    const char *code = ob_courier_text(ctx, json_object_get(data, "awb_code"));
    int64_t charges = ob_courier_money(json_object_get(data, "freight_charges"));
    static const char *const why[] = {"response.data.awb_assign_error", "message", NULL};
    const char *reason = ob_courier_find(awb, why);
    reason = reason ? ob_arena_strdup(ctx->arena, reason) : NULL;
    json_decref(awb);
    if (!code || !*code) return ob_courier_refuse(cfg, "assign an AWB", reason, err);

    /* the AWB is Shiprocket's from here on: a label it cannot make now is
     * left empty (Shiprocket's panel makes it later), not a failed booking
     * that would leave the AWB orphaned at the courier */
    json_t *label;
    if (call(ctx, cfg, "/v1/external/courier/generate/label", json_pack("{s:[I]}", "shipment_id", sid), &label,
             err) != 0) {
        if (err->code != OB_E_COURIER) return -1;
        ob_err_clear(err);
        label = NULL;
    }
    out->label_url = ob_courier_text(ctx, json_object_get(label, "label_url"));
    json_decref(label);
    out->awb = code;
    out->external_id = shipment_id;
    out->tracking_url =
        ob_arena_printf(ctx->arena, "%s%s", num_setting(cfg, "tracking_page", "https://shiprocket.co/tracking/"), code);
    out->charges = charges;
    return 0;
}

static int sr_cancel(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_err *err)
{
    json_t *a;
    if (call(ctx, cfg, "/v1/external/orders/cancel/shipment/awbs", json_pack("{s:[s]}", "awbs", awb), &a, err) != 0)
        return -1;
    json_decref(a);
    return 0;
}

static int sr_track(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_courier_scan **out, int *n,
                    ob_err *err)
{
    *out = NULL;
    *n = 0;
    json_t *a;
    if (call(ctx, cfg, ob_arena_printf(ctx->arena, "/v1/external/courier/track/awb/%s", ob_courier_urlencode(ctx, awb)),
             NULL, &a, err) != 0)
        return -1;
    const json_t *acts = ob_courier_at(a, "tracking_data.shipment_track_activities");
    size_t len = json_array_size(acts);
    *out = ob_arena_alloc(ctx->arena, (len ? len : 1) * sizeof **out);
    for (size_t i = 0; i < len; i++) {
        const json_t *s = json_array_get(acts, i);
        ob_courier_scan *o = &(*out)[(*n)++];
        o->code = ob_courier_text(ctx, json_object_get(s, "sr-status-label"));
        o->at = ob_courier_local_time(ctx, cfg, ob_courier_text(ctx, json_object_get(s, "date")));
        o->location = ob_courier_text(ctx, json_object_get(s, "location"));
        o->reason = ob_courier_text(ctx, json_object_get(s, "activity"));
        char *raw = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
        o->raw = ob_arena_strdup(ctx->arena, raw ? raw : "{}");
        free(raw);
    }
    json_decref(a);
    return 0;
}

static int sr_pickup(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date, ob_err *err)
{
    (void)date; /* Shiprocket schedules the next pickup slot of the pickup location */
    const char *sid = ob_courier_external_id(ctx, awb, err);
    if (!sid) return err->code ? -1 : ob_courier_refuse(cfg, "schedule a pickup", "no booking has this AWB", err);
    json_t *a;
    if (call(ctx, cfg, "/v1/external/courier/generate/pickup",
             json_pack("{s:[I]}", "shipment_id", (json_int_t)strtoll(sid, NULL, 10)), &a, err) != 0)
        return -1;
    json_decref(a);
    return 0;
}

/* NDR action re-attempt; the new date, address and phone go with it. */
static int sr_reattempt(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date,
                        const char *new_address, const char *new_phone, ob_err *err)
{
    new_address = ob_courier_address_line(ctx, new_address);
    json_t *body = json_pack("{s:s, s:s}", "action", "re-attempt", "comments",
                             ob_arena_printf(ctx->arena, "reattempt requested%s%s", date ? " for " : "",
                                             date ? date : ""));
    if (date) json_object_set_new(body, "deferred_date", json_string(date));
    if (new_address) json_object_set_new(body, "address1", json_string(new_address));
    if (new_phone) json_object_set_new(body, "phone", json_string(new_phone));
    json_t *a;
    if (call(ctx, cfg, ob_arena_printf(ctx->arena, "/v1/external/ndr/%s/action", ob_courier_urlencode(ctx, awb)), body,
             &a, err) != 0)
        return -1;
    json_decref(a);
    return 0;
}

const ob_courier_adapter ob_courier_shiprocket = {
    .type_code = "shiprocket",
    .create = sr_create,
    .cancel = sr_cancel,
    .track = sr_track,
    .pickup = sr_pickup,
    .reattempt = sr_reattempt,
};
