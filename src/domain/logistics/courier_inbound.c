/* courier_inbound.c - tracking a courier pushes instead of being polled.
 *
 * The webhook action gives a courier configuration its endpoint,
 * POST /api/v1/hooks/courier/{tenant}/{id}, and a signing secret, shown
 * once. api/hooks.c checks the signature (Opsbase-Signature: v1=hex of
 * HMAC-SHA256 of "<Opsbase-Timestamp>.<body>") and stores the body once per
 * Opsbase-Delivery in inbound_webhooks, which queues couriers.inbound; this
 * job applies it through the same scan path as polling (tracking.c), so a
 * pushed scan and a polled one are the same event: a replay or an old scan
 * adds nothing, an out-of-order scan is stored and the shipment follows the
 * latest time, a failed delivery opens or advances the NDR case.
 *
 * The body is one form for every courier (an integrator maps a courier's own
 * payload to it):
 *   {"awb": "...", "scans": [{"code", "at", "location", "reason"}, ...]}
 * or a single scan's fields beside "awb". Codes are the simulator's
 * vocabulary (ob_courier_status); an unknown code is kept as "unknown". */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "domain/logistics/courier.h"
#include "domain/logistics/logistics.h"
#include "domain/notify/notify.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

int ob_courier_webhook(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)err;
    const char *given = ob_row_is_set(ctx->input, COURIER_CONFIGS_WEBHOOK_IN_WEBHOOK_SECRET)
                            ? ob_row_text(ctx->input, COURIER_CONFIGS_WEBHOOK_IN_WEBHOOK_SECRET)
                            : NULL;
    ob_row_set_text(ctx->arena, row, COURIER_CONFIGS_WEBHOOK_SECRET, ob_inbound_secret(ctx, given));
    ob_row_set_text(ctx->arena, row, COURIER_CONFIGS_WEBHOOK_URL,
                    ob_arena_printf(ctx->arena, "/api/v1/hooks/courier/%s/%s", ctx->tenant->slug, ob_row_id(old)));
    return 0;
}

static const char *jtext(ob_arena *a, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? ob_arena_strdup(a, json_string_value(v)) : NULL;
}

/* The courier's shipment with this AWB, or NULL. */
static int shipment_of(ob_ctx *ctx, const char *config_id, const char *awb, const char **id, ob_err *err)
{
    ob_stmt *st;
    *id = NULL;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\" FROM \"shipments\" WHERE \"courier_config_id\" = ? AND \"awb_number\" = ? "
                      "AND \"shipment_type\" = 'courier'",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, config_id, err);
    ob_stmt_bind_text(st, 2, awb, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

typedef struct outcome {
    const char *status, *shipment_id, *note;
    int added, refused;
} outcome;

static int apply_scan(ob_ctx *ctx, const char *shipment_id, const char *source, const json_t *j, outcome *o,
                      ob_err *err)
{
    char *raw = json_dumps(j, JSON_COMPACT);
    ob_courier_scan s = {jtext(ctx->arena, j, "code"), jtext(ctx->arena, j, "at"), jtext(ctx->arena, j, "location"),
                         jtext(ctx->arena, j, "reason"), raw ? ob_arena_strdup(ctx->arena, raw) : NULL};
    free(raw);
    bool added;
    if (ob_courier_scan_apply(ctx, shipment_id, source, &s, &added, err) != 0) {
        if (err->code != OB_E_VALIDATION) return -1;
        ob_err_clear(err); /* a malformed scan is the courier's: counted, the others still apply */
        o->refused++;
        return 0;
    }
    o->added += added;
    return 0;
}

static int apply(ob_ctx *ctx, const ob_row *in, outcome *o, ob_err *err)
{
    const char *config_id = ob_row_text(in, INBOUND_WEBHOOKS_SOURCE_ID);
    json_t *p = json_loads(ob_row_text(in, INBOUND_WEBHOOKS_PAYLOAD), 0, NULL);
    int rc = 0;
    const char *awb = json_is_object(p) ? jtext(ctx->arena, p, "awb") : NULL;
    const json_t *scans = json_object_get(p, "scans");
    if (!awb || !*awb) {
        o->note = "the payload is not a JSON object with an awb";
        goto done;
    }
    if ((rc = shipment_of(ctx, config_id, awb, &o->shipment_id, err)) != 0) goto done;
    if (!o->shipment_id) {
        o->note = ob_arena_printf(ctx->arena, "no shipment of this courier has the AWB %.60s", awb);
        goto done;
    }
    const ob_table *cfgs = ob_registry_find(OB_TABLE_COURIER_CONFIGS);
    ob_row *cfg;
    if ((rc = ob_sql_load_internal(ctx, cfgs, config_id, &cfg, err)) != 0) goto done;
    const char *source = ob_row_text(cfg, COURIER_CONFIGS_COURIER_TYPE_CODE);
    if (json_is_array(scans)) {
        size_t i;
        const json_t *s;
        json_array_foreach(scans, i, s) if ((rc = apply_scan(ctx, o->shipment_id, source, s, o, err)) != 0) goto done;
    } else {
        rc = apply_scan(ctx, o->shipment_id, source, p, o, err);
    }
    if (rc == 0) {
        o->status = "processed";
        if (o->refused) o->note = ob_arena_printf(ctx->arena, "%d scan(s) without a code or a UTC time", o->refused);
    }
done:
    json_decref(p);
    return rc;
}

int ob_courier_inbound_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    ob_row *in;
    if (ob_inbound_take(ctx, job, &in, result, err) != 0) return -1;
    if (!in) return 0; /* settled by an earlier run */
    outcome o = {.status = "ignored"};
    if (apply(ctx, in, &o, err) != 0) return -1;
    if (ob_inbound_settle(ctx, in, o.status, o.shipment_id, o.note, err) != 0) return -1;
    ob_jsonw w;
    ob_jw_init(&w, result);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "status", o.status);
    if (o.shipment_id) ob_jw_kstr(&w, "shipment_id", o.shipment_id);
    else ob_jw_knull(&w, "shipment_id");
    ob_jw_ki64(&w, "events_added", o.added);
    ob_jw_ki64(&w, "scans_refused", o.refused);
    ob_jw_obj_close(&w);
    return 0;
}
