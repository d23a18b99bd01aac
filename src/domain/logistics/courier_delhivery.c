/* courier_delhivery.c - Delhivery's B2C API. Credentials {"token"} go in
 * "Authorization: Token <token>". Booking: POST /api/cmu/create.json with a
 * form body format=json&data=<the manifest JSON> (Delhivery's own shape: a
 * pickup_location and a shipments list), answered with packages[].waybill;
 * the label is the packing slip (GET /api/p/packing_slip?wbns=<awb>&pdf=true,
 * its pdf_download_link) and the charges Delhivery's invoice calculation
 * (GET /api/kinko/v1/invoice/charges/.json, total_amount). Settings:
 * base_url, pickup_location (the registered warehouse name, required by
 * Delhivery), origin_pin (the warehouse pincode, for the charges),
 * weight_g (default 500), shipping_mode (Surface or Express, default
 * Express), tracking_page (default https://www.delhivery.com/track/package/).
 * Scans: GET /api/v1/packages/json/?waybill=<awb>; each ScanDetail's code is
 * "<ScanType>:<Scan>" ("UD:Dispatched", "DL:Delivered"), which tracking.c
 * maps; its times are India time unless they say otherwise. */
#include <string.h>

#include "base/base.h"
#include "domain/logistics/courier_http.h"
#include "base/banned.h"

static int auth(ob_ctx *ctx, const ob_courier_config *cfg, const char **line, ob_err *err)
{
    const char *token;
    if (ob_courier_secret(ctx, cfg, "token", &token, err) != 0) return -1;
    *line = ob_arena_printf(ctx->arena, "Authorization: Token %s", token);
    return 0;
}

/* One call; a JSON body unless form says it is a form. */
static int call(ob_ctx *ctx, const ob_courier_config *cfg, const char *path, const char *body, bool form,
                json_t **answer, ob_err *err)
{
    const char *line;
    if (auth(ctx, cfg, &line, err) != 0) return -1;
    const char *hd[] = {form ? "Content-Type: application/x-www-form-urlencoded" : "Content-Type: application/json",
                        "Accept: application/json", line, NULL};
    return ob_courier_call(ctx, cfg, NULL, path, hd, body, answer, NULL, err);
}

static const char *opt(const ob_courier_config *cfg, const char *key, const char *dflt)
{
    const char *v = ob_courier_setting(cfg, key);
    return v ? v : dflt;
}

static int dl_create(ob_ctx *ctx, const ob_courier_config *cfg, const ob_courier_parcel *p, ob_courier_booking *out,
                     ob_err *err)
{
    static const char *const k_name[] = {"name", "first_name", NULL}, *const k_l1[] = {"line1", "address1", NULL},
                             *const k_city[] = {"city", NULL}, *const k_state[] = {"state", "province", NULL},
                             *const k_pin[] = {"pincode", "zip", "postal_code", NULL},
                             *const k_country[] = {"country", NULL}, *const k_phone[] = {"phone", NULL};
    const char *warehouse = ob_courier_setting(cfg, "pickup_location");
    if (!warehouse) return ob_err_set(err, OB_E_COURIER, "the delhivery courier config has no pickup_location setting");
    json_t *a = ob_courier_address(p);
    char cod[32];
    ob_format_decimal(p->cod_amount, 2, cod, sizeof cod);
    const char *pin = ob_arena_strdup(ctx->arena, ob_courier_addr_field(a, k_pin));
    json_t *shipment = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "name",
        ob_courier_addr_field(a, k_name), "add", ob_courier_addr_field(a, k_l1), "pin", pin, "city",
        ob_courier_addr_field(a, k_city), "state", ob_courier_addr_field(a, k_state), "country",
        ob_courier_addr_field(a, k_country), "phone", ob_courier_addr_field(a, k_phone), "order", p->shipment_number,
        "payment_mode", p->cod_amount ? "COD" : "Prepaid", "cod_amount", cod, "total_amount", cod, "quantity",
        (json_int_t)p->units, "shipping_mode", opt(cfg, "shipping_mode", "Express"), "waybill", "");
    json_decref(a);
    const char *data = ob_courier_dump(
        ctx, json_pack("{s:{s:s}, s:[o]}", "pickup_location", "name", warehouse, "shipments", shipment));
    json_t *r;
    if (call(ctx, cfg, "/api/cmu/create.json",
             ob_arena_printf(ctx->arena, "format=json&data=%s", ob_courier_urlencode(ctx, data)), true, &r, err) != 0)
        return -1;
    const json_t *pkg = ob_courier_at(r, "packages.0");
    const char *awb = ob_courier_text(ctx, json_object_get(pkg, "waybill"));
    const char *status = ob_courier_text(ctx, json_object_get(pkg, "status"));
    bool ok = json_is_true(json_object_get(r, "success")) && awb && *awb && status && !strcmp(status, "Success");
    static const char *const why[] = {"packages.0.remarks.0", "rmk", NULL};
    const char *reason = ob_courier_find(r, why);
    reason = reason ? ob_arena_strdup(ctx->arena, reason) : NULL;
    json_decref(r);
    if (!ok) return ob_courier_refuse(cfg, "book the shipment", reason, err);

    /* the waybill is booked from here on: a packing slip or a price Delhivery
     * cannot give now is left empty rather than failing a booking that
     * would stay orphaned at the courier */
    json_t *slip;
    if (call(ctx, cfg,
             ob_arena_printf(ctx->arena, "/api/p/packing_slip?wbns=%s&pdf=true", ob_courier_urlencode(ctx, awb)), NULL,
             false, &slip, err) != 0) {
        if (err->code != OB_E_COURIER) return -1;
        ob_err_clear(err);
        slip = NULL;
    }
    out->label_url = ob_courier_text(ctx, ob_courier_at(slip, "packages.0.pdf_download_link"));
    json_decref(slip);

    json_t *fee;
    if (call(ctx, cfg,
             ob_arena_printf(ctx->arena, "/api/kinko/v1/invoice/charges/.json?md=%s&ss=Delivered&d_pin=%s&o_pin=%s"
                                         "&cgm=%s&pt=%s&cod=%s",
                             opt(cfg, "shipping_mode", "Express")[0] == 'S' ? "S" : "E",
                             ob_courier_urlencode(ctx, pin), ob_courier_urlencode(ctx, opt(cfg, "origin_pin", "")),
                             ob_courier_urlencode(ctx, opt(cfg, "weight_g", "500")),
                             p->cod_amount ? "COD" : "Pre-paid", cod),
             NULL, false, &fee, err) != 0) {
        if (err->code != OB_E_COURIER) return -1;
        ob_err_clear(err);
        fee = NULL;
    }
    out->charges = ob_courier_money(ob_courier_at(fee, "0.total_amount"));
    json_decref(fee);
    out->awb = awb;
    out->external_id = awb;
    out->tracking_url = ob_arena_printf(ctx->arena, "%s%s",
                                        opt(cfg, "tracking_page", "https://www.delhivery.com/track/package/"), awb);
    return 0;
}

static int dl_cancel(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_err *err)
{
    json_t *r;
    if (call(ctx, cfg, "/api/p/edit",
             ob_courier_dump(ctx, json_pack("{s:s, s:s}", "waybill", awb, "cancellation", "true")), false, &r,
             err) != 0)
        return -1;
    bool ok = json_is_true(json_object_get(r, "status"));
    static const char *const why[] = {"remark", "error", NULL};
    const char *reason = ob_courier_find(r, why);
    reason = reason ? ob_arena_strdup(ctx->arena, reason) : NULL;
    json_decref(r);
    return ok ? 0 : ob_courier_refuse(cfg, "cancel the shipment", reason, err);
}

static int dl_track(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_courier_scan **out, int *n,
                    ob_err *err)
{
    *out = NULL;
    *n = 0;
    json_t *r;
    if (call(ctx, cfg, ob_arena_printf(ctx->arena, "/api/v1/packages/json/?waybill=%s", ob_courier_urlencode(ctx, awb)),
             NULL, false, &r, err) != 0)
        return -1;
    const json_t *scans = ob_courier_at(r, "ShipmentData.0.Shipment.Scans");
    size_t len = json_array_size(scans);
    *out = ob_arena_alloc(ctx->arena, (len ? len : 1) * sizeof **out);
    for (size_t i = 0; i < len; i++) {
        const json_t *d = json_object_get(json_array_get(scans, i), "ScanDetail");
        const char *type = ob_courier_text(ctx, json_object_get(d, "ScanType"));
        const char *scan = ob_courier_text(ctx, json_object_get(d, "Scan"));
        ob_courier_scan *o = &(*out)[(*n)++];
        o->code = type && scan ? ob_arena_printf(ctx->arena, "%s:%s", type, scan) : NULL;
        o->at = ob_courier_local_time(ctx, cfg, ob_courier_text(ctx, json_object_get(d, "ScanDateTime")));
        o->location = ob_courier_text(ctx, json_object_get(d, "ScannedLocation"));
        o->reason = ob_courier_text(ctx, json_object_get(d, "Instructions"));
        char *raw = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        o->raw = ob_arena_strdup(ctx->arena, raw ? raw : "{}");
        free(raw);
    }
    json_decref(r);
    return 0;
}

static int dl_pickup(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date, ob_err *err)
{
    (void)awb; /* Delhivery collects every parcel of the warehouse in one pickup */
    const char *warehouse = ob_courier_setting(cfg, "pickup_location");
    if (!warehouse) return ob_err_set(err, OB_E_COURIER, "the delhivery courier config has no pickup_location setting");
    json_t *r;
    if (call(ctx, cfg, "/fm/request/new/",
             ob_courier_dump(ctx, json_pack("{s:s, s:s, s:s, s:i}", "pickup_time", opt(cfg, "pickup_time", "11:00:00"),
                                            "pickup_date", date ? date : "", "pickup_location", warehouse,
                                            "expected_package_count", 1)),
             false, &r, err) != 0)
        return -1;
    json_decref(r);
    return 0;
}

/* A new address or phone is edited onto the waybill first, then the NDR
 * action RE-ATTEMPT is asked for. */
static int dl_reattempt(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date,
                        const char *new_address, const char *new_phone, ob_err *err)
{
    new_address = ob_courier_address_line(ctx, new_address);
    (void)date; /* Delhivery attempts again on its next delivery run */
    json_t *r;
    if (new_address || new_phone) {
        json_t *edit = json_pack("{s:s}", "waybill", awb);
        if (new_address) json_object_set_new(edit, "add", json_string(new_address));
        if (new_phone) json_object_set_new(edit, "phone", json_string(new_phone));
        if (call(ctx, cfg, "/api/p/edit", ob_courier_dump(ctx, edit), false, &r, err) != 0) return -1;
        json_decref(r);
    }
    if (call(ctx, cfg, "/api/p/update",
             ob_courier_dump(ctx, json_pack("{s:[{s:s, s:s}]}", "data", "waybill", awb, "act", "RE-ATTEMPT")), false,
             &r, err) != 0)
        return -1;
    json_decref(r);
    return 0;
}

const ob_courier_adapter ob_courier_delhivery = {
    .type_code = "delhivery",
    .create = dl_create,
    .cancel = dl_cancel,
    .track = dl_track,
    .pickup = dl_pickup,
    .reattempt = dl_reattempt,
};
