/* courier_sim.c - the simulator courier: no network, the same answer for
 * the same question, so tests and the demo can drive the whole fulfilment
 * loop. Its behaviour is scripted by the courier config's settings:
 *   "fail":    "message"   every call is refused with this message
 *   "charge":  "45.00"     shipping charges of a booking (default 50.00)
 *   "scans":   [{"code", "at", "location", "reason"}, ...]   what track reports
 *   "base_url": "https://..."   where label and tracking links point
 * The AWB is SIM followed by the shipment number's digits, so it is unique
 * in the tenant as the shipment number is. */
#include <string.h>

#include "base/base.h"
#include "domain/logistics/courier.h"
#include "base/banned.h"

static const char *setting(const ob_courier_config *cfg, const char *key)
{
    const json_t *v = cfg->settings ? json_object_get(cfg->settings, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int refused(const ob_courier_config *cfg, const char *what, ob_err *err)
{
    const char *fail = setting(cfg, "fail");
    if (!fail) return 0;
    return ob_err_set(err, OB_E_COURIER, "the courier refused to %s: %.180s", what, fail);
}

static int sim_create(ob_ctx *ctx, const ob_courier_config *cfg, const ob_courier_parcel *p, ob_courier_booking *out,
                      ob_err *err)
{
    if (refused(cfg, "book the shipment", err) != 0) return -1;
    ob_sb awb;
    ob_sb_init_arena(&awb, ctx->arena, 32);
    ob_sb_adds(&awb, "SIM");
    for (const char *c = p->shipment_number; *c; c++)
        if (*c >= '0' && *c <= '9') ob_sb_addc(&awb, *c);
    const char *base = setting(cfg, "base_url");
    if (!base) base = "https://courier-simulator.invalid";
    const char *charge = setting(cfg, "charge");
    int64_t charges = 5000;
    if (charge && ob_parse_decimal(charge, 2, &charges) != 0)
        return ob_err_set(err, OB_E_COURIER, "the simulator's \"charge\" setting is not a decimal");
    out->awb = awb.buf;
    out->external_id = ob_arena_printf(ctx->arena, "sim-%s", p->shipment_number);
    out->label_url = ob_arena_printf(ctx->arena, "%s/labels/%s.pdf", base, awb.buf);
    out->tracking_url = ob_arena_printf(ctx->arena, "%s/track/%s", base, awb.buf);
    out->charges = charges;
    return 0;
}

static int sim_cancel(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_err *err)
{
    (void)ctx;
    (void)awb;
    return refused(cfg, "cancel the shipment", err);
}

static int sim_track(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_courier_scan **out, int *n,
                     ob_err *err)
{
    (void)awb;
    *out = NULL;
    *n = 0;
    if (refused(cfg, "report scans", err) != 0) return -1;
    const json_t *scans = cfg->settings ? json_object_get(cfg->settings, "scans") : NULL;
    if (!json_is_array(scans)) return 0;
    size_t len = json_array_size(scans);
    *out = ob_arena_alloc(ctx->arena, (len ? len : 1) * sizeof **out);
    for (size_t i = 0; i < len; i++) {
        const json_t *s = json_array_get(scans, i);
        const json_t *code = json_object_get(s, "code"), *at = json_object_get(s, "at");
        if (!json_is_string(code) || !json_is_string(at)) continue;
        const json_t *loc = json_object_get(s, "location"), *why = json_object_get(s, "reason");
        ob_courier_scan *o = &(*out)[(*n)++];
        o->code = ob_arena_strdup(ctx->arena, json_string_value(code));
        o->at = ob_arena_strdup(ctx->arena, json_string_value(at));
        o->location = json_is_string(loc) ? ob_arena_strdup(ctx->arena, json_string_value(loc)) : NULL;
        o->reason = json_is_string(why) ? ob_arena_strdup(ctx->arena, json_string_value(why)) : NULL;
        char *raw = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
        o->raw = ob_arena_strdup(ctx->arena, raw ? raw : "{}");
        free(raw);
    }
    return 0;
}

static int sim_pickup(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date, ob_err *err)
{
    (void)ctx;
    (void)awb;
    (void)date;
    return refused(cfg, "schedule a pickup", err);
}

static int sim_reattempt(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date,
                         const char *new_address, const char *new_phone, ob_err *err)
{
    (void)ctx;
    (void)awb;
    (void)date;
    (void)new_address;
    (void)new_phone;
    return refused(cfg, "reattempt the delivery", err);
}

const ob_courier_adapter ob_courier_simulator = {
    .type_code = "simulator",
    .create = sim_create,
    .cancel = sim_cancel,
    .track = sim_track,
    .pickup = sim_pickup,
    .reattempt = sim_reattempt,
};
