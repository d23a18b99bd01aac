/* courier_dtdc.c - DTDC's two APIs. Booking, labels and cancelling go to its
 * customer integration API (settings.base_url) with credentials {"api_key"}
 * in the api-key header and {"customer_code"}: POST
 * /api/customer/integration/consignment/softdata with a consignments list,
 * answered with data[].reference_number (the AWB) or data[].success false
 * and a message; cancel is POST .../consignment/cancel. The label is
 * streamed by GET .../consignment/shippinglabel/stream?reference_number=<awb>
 * (it needs the api-key header too): that address is the label_url. DTDC
 * returns no charges: they are settings.rate (a decimal per parcel; 0 when
 * unset). Tracking is a second service (settings.tracking_base_url, default
 * base_url) with its own sign-in {"tracking_user", "tracking_password"}: GET
 * /dtdc-api/api/dtdc/authenticate answers a token for the X-Access-Token
 * header of POST /dtdc-api/rest/JSONCnTrk/getTrackDetails; each of
 * trackDetails is a scan whose strCode is the code and strActionDate
 * (DDMMYYYY) with strActionTime (HHMM) its India time. Settings also:
 * service_type_id (default "B2C PRIORITY"), weight_kg (default 0.5), origin
 * (an object: name, phone, address_line_1, pincode, city, state),
 * tracking_page (default https://www.dtdc.in/tracking.asp?cnno=). DTDC
 * collects booked consignments on its pickup run (pickup asks nothing of it)
 * and takes no reattempt requests by API (refused with that reason). */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/logistics/courier_http.h"
#include "base/banned.h"

static const char *opt(const ob_courier_config *cfg, const char *key, const char *dflt)
{
    const char *v = ob_courier_setting(cfg, key);
    return v ? v : dflt;
}

static int call(ob_ctx *ctx, const ob_courier_config *cfg, const char *path, json_t *body, json_t **answer,
                ob_err *err)
{
    const char *key;
    if (ob_courier_secret(ctx, cfg, "api_key", &key, err) != 0) {
        json_decref(body);
        return -1;
    }
    const char *hd[] = {"Content-Type: application/json", ob_arena_printf(ctx->arena, "api-key: %s", key), NULL};
    return ob_courier_call(ctx, cfg, NULL, path, hd, body ? ob_courier_dump(ctx, body) : NULL, answer, NULL, err);
}

static json_t *origin(const ob_courier_config *cfg)
{
    const json_t *o = cfg->settings ? json_object_get(cfg->settings, "origin") : NULL;
    return json_is_object(o) ? json_deep_copy(o) : json_object();
}

static int dt_create(ob_ctx *ctx, const ob_courier_config *cfg, const ob_courier_parcel *p, ob_courier_booking *out,
                     ob_err *err)
{
    static const char *const k_name[] = {"name", "first_name", NULL}, *const k_l1[] = {"line1", "address1", NULL},
                             *const k_l2[] = {"line2", "address2", NULL}, *const k_city[] = {"city", NULL},
                             *const k_state[] = {"state", "province", NULL},
                             *const k_pin[] = {"pincode", "zip", "postal_code", NULL},
                             *const k_phone[] = {"phone", NULL};
    const char *code;
    if (ob_courier_secret(ctx, cfg, "customer_code", &code, err) != 0) return -1;
    int64_t rate = 0;
    const char *r_text = ob_courier_setting(cfg, "rate");
    if (r_text && ob_parse_decimal(r_text, 2, &rate) != 0)
        return ob_err_set(err, OB_E_COURIER, "the dtdc courier config's \"rate\" setting is not a decimal");
    json_t *a = ob_courier_address(p);
    char cod[32];
    ob_format_decimal(p->cod_amount, 2, cod, sizeof cod);
    json_t *dest = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name", ob_courier_addr_field(a, k_name), "phone",
                             ob_courier_addr_field(a, k_phone), "address_line_1", ob_courier_addr_field(a, k_l1),
                             "address_line_2", ob_courier_addr_field(a, k_l2), "pincode",
                             ob_courier_addr_field(a, k_pin), "city", ob_courier_addr_field(a, k_city), "state",
                             ob_courier_addr_field(a, k_state));
    json_decref(a);
    json_t *one = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:o}", "customer_code", code,
                            "service_type_id", opt(cfg, "service_type_id", "B2C PRIORITY"), "load_type",
                            "NON-DOCUMENT", "consignment_type", "Forward", "weight_unit", "kg", "weight",
                            opt(cfg, "weight_kg", "0.5"), "num_pieces", (json_int_t)p->units,
                            "customer_reference_number", p->shipment_number, "cod_amount", cod,
                            "cod_collection_mode", p->cod_amount ? "cash" : "", "origin_details", origin(cfg),
                            "destination_details", dest);
    json_t *r;
    if (call(ctx, cfg, "/api/customer/integration/consignment/softdata", json_pack("{s:[o]}", "consignments", one),
             &r, err) != 0)
        return -1;
    const json_t *d = ob_courier_at(r, "data.0");
    const char *awb = ob_courier_text(ctx, json_object_get(d, "reference_number"));
    bool ok = json_is_true(json_object_get(d, "success")) && awb && *awb;
    static const char *const why[] = {"data.0.message", "data.0.reason", "message", NULL};
    const char *reason = ok ? NULL : ob_courier_find(r, why);
    reason = reason ? ob_arena_strdup(ctx->arena, reason) : NULL;
    json_decref(r);
    if (!ok) return ob_courier_refuse(cfg, "book the shipment", reason, err);
    const char *base = ob_courier_setting(cfg, "base_url");
    size_t bl = strlen(base);
    out->awb = awb;
    out->external_id = awb;
    out->label_url = ob_arena_printf(ctx->arena,
                                     "%.*s/api/customer/integration/consignment/shippinglabel/stream?"
                                     "reference_number=%s&label_code=SHIP_LABEL_4X6&label_format=pdf",
                                     (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base,
                                     ob_courier_urlencode(ctx, awb));
    out->tracking_url =
        ob_arena_printf(ctx->arena, "%s%s", opt(cfg, "tracking_page", "https://www.dtdc.in/tracking.asp?cnno="), awb);
    out->charges = rate;
    return 0;
}

static int dt_cancel(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_err *err)
{
    const char *code;
    if (ob_courier_secret(ctx, cfg, "customer_code", &code, err) != 0) return -1;
    json_t *r;
    if (call(ctx, cfg, "/api/customer/integration/consignment/cancel",
             json_pack("{s:[s], s:s}", "AWBNo", awb, "customerCode", code), &r, err) != 0)
        return -1;
    bool ok = json_is_true(json_object_get(r, "success"));
    static const char *const why[] = {"failures.0.message", "message", NULL};
    const char *reason = ok ? NULL : ob_courier_find(r, why);
    reason = reason ? ob_arena_strdup(ctx->arena, reason) : NULL;
    json_decref(r);
    return ok ? 0 : ob_courier_refuse(cfg, "cancel the shipment", reason, err);
}

/* "06122026" and "1015" -> "2026-12-06 10:15:00" in the courier's zone. */
static const char *scan_time(ob_ctx *ctx, const ob_courier_config *cfg, const char *date, const char *time)
{
    int d, m, y, hh = 0, mi = 0;
    if (!date || strlen(date) != 8 || sscanf(date, "%2d%2d%4d", &d, &m, &y) != 3) return NULL;
    if (time) sscanf(time, "%2d%2d", &hh, &mi);
    return ob_courier_local_time(ctx, cfg,
                                 ob_arena_printf(ctx->arena, "%04d-%02d-%02d %02d:%02d:00", y, m, d, hh, mi));
}

static int dt_track(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_courier_scan **out, int *n,
                    ob_err *err)
{
    *out = NULL;
    *n = 0;
    const char *user, *pass, *text;
    if (ob_courier_secret(ctx, cfg, "tracking_user", &user, err) != 0 ||
        ob_courier_secret(ctx, cfg, "tracking_password", &pass, err) != 0)
        return -1;
    json_t *r;
    /* the sign-in answers the token as plain text */
    if (ob_courier_call(ctx, cfg, "tracking_base_url",
                        ob_arena_printf(ctx->arena, "/dtdc-api/api/dtdc/authenticate?username=%s&password=%s",
                                        ob_courier_urlencode(ctx, user), ob_courier_urlencode(ctx, pass)),
                        NULL, NULL, &r, &text, err) != 0)
        return -1;
    const char *tok = json_is_string(r) ? ob_arena_strdup(ctx->arena, json_string_value(r)) : text;
    json_decref(r);
    if (!tok || !*tok || strpbrk(tok, "\r\n")) return ob_courier_refuse(cfg, "sign in", "no token in its answer", err);
    const char *hd[] = {"Content-Type: application/json", ob_arena_printf(ctx->arena, "X-Access-Token: %s", tok),
                        NULL};
    if (ob_courier_call(ctx, cfg, "tracking_base_url", "/dtdc-api/rest/JSONCnTrk/getTrackDetails", hd,
                        ob_courier_dump(ctx, json_pack("{s:s, s:s, s:s}", "trkType", "cnno", "strcnno", awb,
                                                       "addtnlDtl", "Y")),
                        &r, NULL, err) != 0)
        return -1;
    const json_t *scans = json_object_get(r, "trackDetails");
    size_t len = json_array_size(scans);
    *out = ob_arena_alloc(ctx->arena, (len ? len : 1) * sizeof **out);
    for (size_t i = 0; i < len; i++) {
        const json_t *d = json_array_get(scans, i);
        ob_courier_scan *o = &(*out)[(*n)++];
        o->code = ob_courier_text(ctx, json_object_get(d, "strCode"));
        o->at = scan_time(ctx, cfg, ob_courier_text(ctx, json_object_get(d, "strActionDate")),
                          ob_courier_text(ctx, json_object_get(d, "strActionTime")));
        o->location = ob_courier_text(ctx, json_object_get(d, "strOrigin"));
        o->reason = ob_courier_text(ctx, json_object_get(d, "sTrRemarks"));
        char *raw = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        o->raw = ob_arena_strdup(ctx->arena, raw ? raw : "{}");
        free(raw);
    }
    json_decref(r);
    return 0;
}

static int dt_pickup(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date, ob_err *err)
{
    (void)ctx;
    (void)cfg;
    (void)awb;
    (void)date;
    (void)err;
    return 0;
}

static int dt_reattempt(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date,
                        const char *new_address, const char *new_phone, ob_err *err)
{
    (void)ctx;
    (void)awb;
    (void)date;
    (void)new_address;
    (void)new_phone;
    return ob_courier_refuse(cfg, "reattempt the delivery",
                             "DTDC takes reattempt requests through its customer service, not its API", err);
}

const ob_courier_adapter ob_courier_dtdc = {
    .type_code = "dtdc",
    .create = dt_create,
    .cancel = dt_cancel,
    .track = dt_track,
    .pickup = dt_pickup,
    .reattempt = dt_reattempt,
};
