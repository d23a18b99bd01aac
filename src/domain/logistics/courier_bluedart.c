/* courier_bluedart.c - BlueDart's REST API gateway. Credentials {"client_id",
 * "client_secret"} buy a JWT at GET /in/transportation/token/v1/login (sent
 * as the ClientID and clientSecret headers, the token returned as
 * JWTToken and sent back in the JWTToken header), and {"login_id",
 * "license_key"} are the Profile BlueDart wants in every body. Booking:
 * POST /in/transportation/waybill/v1/GenerateWayBill, answered with
 * GenerateWayBillResult.AWBNo (IsError and Status[].StatusInformation on a
 * refusal). BlueDart returns the label as PDF bytes, not a link, and no
 * charges: label_url is settings.label_page followed by the AWB when set,
 * and the charges settings.rate (a decimal, the contracted price per
 * parcel; 0 when unset). Settings: base_url, customer_code, origin_area,
 * product_code (default "A"), weight_kg (default 0.5), tracking_page
 * (default https://www.bluedart.com/web/guest/trackdartresult?trackFor=0&trackNo=).
 * Scans: GET /in/transportation/tracking/v1/shipment (handler tnt, one AWB);
 * the code is a scan's ScanType, its time ScanDate ("06-Dec-2026") and
 * ScanTime ("10:15") in India time. BlueDart takes no reattempt requests by
 * API: reattempt is refused with that reason. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/logistics/courier_http.h"
#include "base/banned.h"

static int token(ob_ctx *ctx, const ob_courier_config *cfg, const char **line, ob_err *err)
{
    const char *id, *secret;
    if (ob_courier_secret(ctx, cfg, "client_id", &id, err) != 0 ||
        ob_courier_secret(ctx, cfg, "client_secret", &secret, err) != 0)
        return -1;
    const char *hd[] = {ob_arena_printf(ctx->arena, "ClientID: %s", id),
                        ob_arena_printf(ctx->arena, "clientSecret: %s", secret), NULL};
    json_t *a;
    if (ob_courier_call(ctx, cfg, NULL, "/in/transportation/token/v1/login", hd, NULL, &a, NULL, err) != 0) return -1;
    const json_t *t = json_object_get(a, "JWTToken");
    *line = json_is_string(t) ? ob_arena_printf(ctx->arena, "JWTToken: %s", json_string_value(t)) : NULL;
    json_decref(a);
    return *line ? 0 : ob_courier_refuse(cfg, "sign in", "no JWTToken in its answer", err);
}

static int call(ob_ctx *ctx, const ob_courier_config *cfg, const char *path, json_t *body, json_t **answer,
                ob_err *err)
{
    const char *line;
    if (token(ctx, cfg, &line, err) != 0) {
        json_decref(body);
        return -1;
    }
    const char *hd[] = {"Content-Type: application/json", line, NULL};
    return ob_courier_call(ctx, cfg, NULL, path, hd, body ? ob_courier_dump(ctx, body) : NULL, answer, NULL, err);
}

static json_t *profile(ob_ctx *ctx, const ob_courier_config *cfg, ob_err *err)
{
    const char *login, *key;
    if (ob_courier_secret(ctx, cfg, "login_id", &login, err) != 0 ||
        ob_courier_secret(ctx, cfg, "license_key", &key, err) != 0)
        return NULL;
    return json_pack("{s:s, s:s, s:s}", "LoginID", login, "LicenceKey", key, "Api_type", "S");
}

static const char *opt(const ob_courier_config *cfg, const char *key, const char *dflt)
{
    const char *v = ob_courier_setting(cfg, key);
    return v ? v : dflt;
}

/* A result object's refusal: IsError with its Status texts. */
static const char *result_error(ob_ctx *ctx, const json_t *res)
{
    if (!json_is_true(json_object_get(res, "IsError"))) return NULL;
    static const char *const why[] = {"Status.0.StatusInformation", "Status.0.StatusCode", NULL};
    const char *m = ob_courier_find(res, why);
    return ob_arena_strdup(ctx->arena, m ? m : "IsError without a reason");
}

static int bd_create(ob_ctx *ctx, const ob_courier_config *cfg, const ob_courier_parcel *p, ob_courier_booking *out,
                     ob_err *err)
{
    static const char *const k_name[] = {"name", "first_name", NULL}, *const k_l1[] = {"line1", "address1", NULL},
                             *const k_l2[] = {"line2", "address2", NULL},
                             *const k_pin[] = {"pincode", "zip", "postal_code", NULL},
                             *const k_phone[] = {"phone", NULL};
    json_t *prof = profile(ctx, cfg, err);
    if (!prof) return -1;
    json_t *a = ob_courier_address(p);
    char cod[32];
    ob_format_decimal(p->cod_amount, 2, cod, sizeof cod);
    json_t *req = json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:I, s:s, s:s}}", "Consignee",
        "ConsigneeName", ob_courier_addr_field(a, k_name), "ConsigneeAddress1", ob_courier_addr_field(a, k_l1),
        "ConsigneeAddress2", ob_courier_addr_field(a, k_l2), "ConsigneePincode", ob_courier_addr_field(a, k_pin),
        "ConsigneeMobile", ob_courier_addr_field(a, k_phone), "Shipper", "CustomerCode",
        opt(cfg, "customer_code", ""), "OriginArea", opt(cfg, "origin_area", ""), "Services", "ProductCode",
        opt(cfg, "product_code", "A"), "SubProductCode", p->cod_amount ? "C" : "P", "CollectableAmount", cod,
        "CreditReferenceNo", p->shipment_number, "PieceCount", (json_int_t)p->units, "ActualWeight",
        opt(cfg, "weight_kg", "0.5"), "InvoiceNo", p->order_number);
    json_decref(a);
    json_t *r;
    if (call(ctx, cfg, "/in/transportation/waybill/v1/GenerateWayBill",
             json_pack("{s:o, s:o}", "Request", req, "Profile", prof), &r, err) != 0)
        return -1;
    const json_t *res = json_object_get(r, "GenerateWayBillResult");
    const char *refusal = result_error(ctx, res);
    const char *awb = ob_courier_text(ctx, json_object_get(res, "AWBNo"));
    json_decref(r);
    if (refusal || !awb || !*awb) return ob_courier_refuse(cfg, "book the shipment", refusal, err);
    int64_t rate = 0;
    const char *r_text = ob_courier_setting(cfg, "rate");
    if (r_text && ob_parse_decimal(r_text, 2, &rate) != 0)
        return ob_err_set(err, OB_E_COURIER, "the bluedart courier config's \"rate\" setting is not a decimal");
    const char *label = ob_courier_setting(cfg, "label_page");
    out->awb = awb;
    out->external_id = awb;
    out->label_url = label ? ob_arena_printf(ctx->arena, "%s%s", label, awb) : NULL;
    out->tracking_url = ob_arena_printf(
        ctx->arena, "%s%s", opt(cfg, "tracking_page", "https://www.bluedart.com/web/guest/trackdartresult?trackFor=0&trackNo="),
        awb);
    out->charges = rate;
    return 0;
}

static int bd_cancel(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_err *err)
{
    json_t *prof = profile(ctx, cfg, err), *r;
    if (!prof) return -1;
    if (call(ctx, cfg, "/in/transportation/waybill/v1/CancelWaybill",
             json_pack("{s:{s:s}, s:o}", "Request", "AWBNo", awb, "Profile", prof), &r, err) != 0)
        return -1;
    const char *refusal = result_error(ctx, json_object_get(r, "CancelWaybillResult"));
    json_decref(r);
    return refusal ? ob_courier_refuse(cfg, "cancel the shipment", refusal, err) : 0;
}

/* "06-Dec-2026" and "10:15" -> "2026-12-06 10:15:00" (India time unless
 * settings.utc_offset says otherwise). */
static const char *scan_time(ob_ctx *ctx, const ob_courier_config *cfg, const char *date, const char *time)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int d, y, hh = 0, mi = 0;
    char mon[4];
    if (!date || sscanf(date, "%2d-%3s-%4d", &d, mon, &y) != 3) return NULL;
    const char *m = strstr(months, mon);
    if (!m || (m - months) % 3) return NULL;
    if (time) sscanf(time, "%2d:%2d", &hh, &mi);
    return ob_courier_local_time(
        ctx, cfg, ob_arena_printf(ctx->arena, "%04d-%02d-%02d %02d:%02d:00", y, (int)(m - months) / 3 + 1, d, hh, mi));
}

static int bd_track(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_courier_scan **out, int *n,
                    ob_err *err)
{
    *out = NULL;
    *n = 0;
    const char *login, *key;
    if (ob_courier_secret(ctx, cfg, "login_id", &login, err) != 0 ||
        ob_courier_secret(ctx, cfg, "license_key", &key, err) != 0)
        return -1;
    json_t *r;
    const char *path = ob_arena_printf(
        ctx->arena,
        "/in/transportation/tracking/v1/shipment?handler=tnt&action=custawbquery&loginid=%s&awb=awb&numbers=%s"
        "&format=json&lickey=%s&verno=1&scan=1",
        ob_courier_urlencode(ctx, login), ob_courier_urlencode(ctx, awb), ob_courier_urlencode(ctx, key));
    if (call(ctx, cfg, path, NULL, &r, err) != 0) return -1;
    const json_t *scans = ob_courier_at(r, "ShipmentData.Shipment.0.Scans");
    size_t len = json_array_size(scans);
    *out = ob_arena_alloc(ctx->arena, (len ? len : 1) * sizeof **out);
    for (size_t i = 0; i < len; i++) {
        const json_t *d = json_object_get(json_array_get(scans, i), "ScanDetail");
        ob_courier_scan *o = &(*out)[(*n)++];
        o->code = ob_courier_text(ctx, json_object_get(d, "ScanType"));
        o->at = scan_time(ctx, cfg, ob_courier_text(ctx, json_object_get(d, "ScanDate")),
                          ob_courier_text(ctx, json_object_get(d, "ScanTime")));
        o->location = ob_courier_text(ctx, json_object_get(d, "ScannedLocation"));
        o->reason = ob_courier_text(ctx, json_object_get(d, "Scan"));
        char *raw = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        o->raw = ob_arena_strdup(ctx->arena, raw ? raw : "{}");
        free(raw);
    }
    json_decref(r);
    return 0;
}

static int bd_pickup(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date, ob_err *err)
{
    json_t *prof = profile(ctx, cfg, err), *r;
    if (!prof) return -1;
    if (call(ctx, cfg, "/in/transportation/pickup/v1/RegisterPickup",
             json_pack("{s:{s:[s], s:s, s:s, s:s}, s:o}", "request", "AWBNo", awb, "CustomerCode",
                       opt(cfg, "customer_code", ""), "AreaCode", opt(cfg, "origin_area", ""), "ShipmentPickupDate",
                       date ? date : "", "profile", prof),
             &r, err) != 0)
        return -1;
    const char *refusal = result_error(ctx, json_object_get(r, "RegisterPickupResult"));
    json_decref(r);
    return refusal ? ob_courier_refuse(cfg, "schedule a pickup", refusal, err) : 0;
}

static int bd_reattempt(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date,
                        const char *new_address, const char *new_phone, ob_err *err)
{
    (void)ctx;
    (void)awb;
    (void)date;
    (void)new_address;
    (void)new_phone;
    return ob_courier_refuse(cfg, "reattempt the delivery",
                             "BlueDart takes reattempt requests through its customer service, not its API", err);
}

const ob_courier_adapter ob_courier_bluedart = {
    .type_code = "bluedart",
    .create = bd_create,
    .cancel = bd_cancel,
    .track = bd_track,
    .pickup = bd_pickup,
    .reattempt = bd_reattempt,
};
