/* tracking.c - courier scans become tracking history: each scan a courier
 * reports is appended to tracking_events with its status normalized to one
 * vocabulary (created, manifested, picked, in_transit, out_for_delivery,
 * delivered, ndr, rto_initiated, rto_in_transit, rto_delivered, cancelled)
 * and the courier's payload kept; a scan already stored is ignored; scans
 * may arrive out of order, and the shipment's status follows the event with
 * the latest time, not the last to arrive. A delivered shipment delivers its
 * order; one on its way back makes the order rto, and back at the origin
 * (rto_delivered) the order is rto_delivered and its units restocked. The job kind couriers.track polls each open courier shipment
 * through its courier's adapter (courier.h). */
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "domain/logistics/courier.h"
#include "domain/logistics/logistics.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* Courier codes -> the vocabulary. The vocabulary's own words map to
 * themselves; the short codes are those couriers commonly send. */
static const struct {
    const char *code, *status;
} code_map[] = {
    {"created", "created"},       {"manifested", "manifested"},   {"picked", "picked"},
    {"in_transit", "in_transit"}, {"out_for_delivery", "out_for_delivery"},
    {"delivered", "delivered"},   {"ndr", "ndr"},                 {"rto_initiated", "rto_initiated"},
    {"rto_in_transit", "rto_in_transit"}, {"rto_delivered", "rto_delivered"}, {"cancelled", "cancelled"},
    {"mf", "manifested"},         {"pu", "picked"},               {"pp", "picked"},
    {"it", "in_transit"},         {"ofd", "out_for_delivery"},    {"dl", "delivered"},
    {"ud", "ndr"},                {"undelivered", "ndr"},         {"rt", "rto_initiated"},
    {"rto", "rto_initiated"},     {"rt-it", "rto_in_transit"},    {"rt-dl", "rto_delivered"},
    {"can", "cancelled"},
};

/* Each HTTP courier's own codes, as its adapter reports them (the adapter
 * files say how a code is made from the courier's answer). Looked up before
 * the common codes above, so "UD" means what Delhivery means by it. */
static const struct {
    const char *courier, *code, *status;
} courier_map[] = {
    /* Shiprocket: the label of its sr-status */
    {"shiprocket", "NEW", "created"}, {"shiprocket", "AWB ASSIGNED", "created"},
    {"shiprocket", "MANIFEST GENERATED", "manifested"}, {"shiprocket", "PICKUP SCHEDULED", "manifested"},
    {"shiprocket", "OUT FOR PICKUP", "manifested"}, {"shiprocket", "PICKED UP", "picked"},
    {"shiprocket", "SHIPPED", "in_transit"}, {"shiprocket", "IN TRANSIT", "in_transit"},
    {"shiprocket", "REACHED AT DESTINATION HUB", "in_transit"},
    {"shiprocket", "OUT FOR DELIVERY", "out_for_delivery"}, {"shiprocket", "DELIVERED", "delivered"},
    {"shiprocket", "UNDELIVERED", "ndr"}, {"shiprocket", "RTO INITIATED", "rto_initiated"},
    {"shiprocket", "RTO IN TRANSIT", "rto_in_transit"}, {"shiprocket", "RTO DELIVERED", "rto_delivered"},
    {"shiprocket", "CANCELED", "cancelled"}, {"shiprocket", "CANCELLED", "cancelled"},
    /* Delhivery: "<ScanType>:<Scan>" (UD forward, DL delivered, RT return, CN cancelled) */
    {"delhivery", "UD:Not Picked", "created"}, {"delhivery", "UD:Manifested", "manifested"},
    {"delhivery", "UD:In Transit", "in_transit"}, {"delhivery", "UD:Pending", "ndr"},
    {"delhivery", "UD:Dispatched", "out_for_delivery"}, {"delhivery", "DL:Delivered", "delivered"},
    {"delhivery", "RT:In Transit", "rto_in_transit"}, {"delhivery", "RT:Pending", "rto_in_transit"},
    {"delhivery", "RT:Dispatched", "rto_in_transit"}, {"delhivery", "DL:RTO", "rto_delivered"},
    {"delhivery", "CN:Canceled", "cancelled"}, {"delhivery", "CN:Cancelled", "cancelled"},
    /* BlueDart: its ScanType */
    {"bluedart", "PU", "picked"}, {"bluedart", "IT", "in_transit"}, {"bluedart", "OD", "out_for_delivery"},
    {"bluedart", "DL", "delivered"}, {"bluedart", "UD", "ndr"}, {"bluedart", "RT", "rto_initiated"},
    {"bluedart", "RI", "rto_in_transit"}, {"bluedart", "RD", "rto_delivered"}, {"bluedart", "CN", "cancelled"},
    /* DTDC: its strCode */
    {"dtdc", "BKD", "created"}, {"dtdc", "PCUP", "picked"}, {"dtdc", "OBMN", "in_transit"},
    {"dtdc", "OBMD", "in_transit"}, {"dtdc", "IBMN", "in_transit"}, {"dtdc", "IBMD", "in_transit"},
    {"dtdc", "CDOUT", "in_transit"}, {"dtdc", "CDIN", "in_transit"}, {"dtdc", "OUTDLV", "out_for_delivery"},
    {"dtdc", "DLV", "delivered"}, {"dtdc", "NONDLV", "ndr"}, {"dtdc", "RTO", "rto_initiated"},
    {"dtdc", "RTOOBMN", "rto_in_transit"}, {"dtdc", "RTOIBMN", "rto_in_transit"},
    {"dtdc", "RTODLV", "rto_delivered"}, {"dtdc", "CNCL", "cancelled"},
};

const char *ob_courier_status_for(const char *courier, const char *code)
{
    for (size_t i = 0; courier && code && i < OB_ARRAY_LEN(courier_map); i++)
        if (strcmp(courier_map[i].courier, courier) == 0 && strcasecmp(courier_map[i].code, code) == 0)
            return courier_map[i].status;
    return ob_courier_status(code);
}

const char *ob_courier_status(const char *code)
{
    for (size_t i = 0; code && i < OB_ARRAY_LEN(code_map); i++)
        if (strcasecmp(code_map[i].code, code) == 0) return code_map[i].status;
    return NULL;
}

/* ndr is a moment in a delivery, not a place a shipment stays in: the
 * shipment status ignores it (the NDR case records it). */
static bool moves_shipment(const char *status)
{
    return status && strcmp(status, "ndr") != 0;
}

static int exists(ob_ctx *ctx, const char *shipment_id, const char *key, bool *found, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT 1 FROM \"tracking_events\" WHERE \"shipment_id\" = ? AND \"external_event_id\" = ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, shipment_id, err);
    ob_stmt_bind_text(st, 2, key, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    *found = rc == 1;
    return rc < 0 ? -1 : 0;
}

/* The normalized status of the shipment's latest event that moves it. */
static int latest_status(ob_ctx *ctx, const char *shipment_id, const char **out, const char **at, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"status\", \"event_datetime\" FROM \"tracking_events\" WHERE \"shipment_id\" = ? "
                      "AND \"status\" IN "
                      "('created', 'manifested', 'picked', 'in_transit', 'out_for_delivery', 'delivered', "
                      "'rto_initiated', 'rto_in_transit', 'rto_delivered', 'cancelled') "
                      "ORDER BY \"event_datetime\" DESC, \"created_at\" DESC, \"id\" DESC LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, shipment_id, err);
    int rc = ob_stmt_step(st, err);
    *out = rc == 1 ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)) : NULL;
    *at = rc == 1 ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 1, NULL)) : NULL;
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* The shipment takes the status of its latest event, with that event's
 * time (the courier's, not ours) stamped where the table keeps one; delivery
 * delivers the order. */
static int follow(ob_ctx *ctx, const char *shipment_id, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_SHIPMENTS);
    ob_row *old;
    const char *status, *at;
    if (latest_status(ctx, shipment_id, &status, &at, err) != 0) return -1;
    if (!status || ob_sql_load_internal(ctx, t, shipment_id, &old, err) != 0) return status ? -1 : 0;
    if (strcmp(ob_row_text(old, SHIPMENTS_STATUS), status) == 0) return 0;
    ob_row *row = ob_row_copy(ctx->arena, old);
    ob_row_set_text(ctx->arena, row, SHIPMENTS_STATUS, status);
    if (!strcmp(status, "picked")) ob_row_set_text(ctx->arena, row, SHIPMENTS_PICKED_AT, at);
    if (!strcmp(status, "delivered")) ob_row_set_text(ctx->arena, row, SHIPMENTS_DELIVERED_AT, at);
    if (!strcmp(status, "rto_initiated")) ob_row_set_text(ctx->arena, row, SHIPMENTS_RTO_INITIATED_AT, at);
    if (!strcmp(status, "rto_delivered")) ob_row_set_text(ctx->arena, row, SHIPMENTS_RTO_DELIVERED_AT, at);
    if (ob_crud_save(ctx, old, row, "track", err) != 0) return -1;
    return ob_shipment_moves_order(ctx, ob_row_text(old, SHIPMENTS_ORDER_ID), status, err);
}

/* delivered delivers the order; on its way back (rto_initiated,
 * rto_in_transit) the order is rto; back at the origin (rto_delivered) it
 * is rto_delivered and its units restocked (the order's rto_receive). An
 * order already past the step stays. */
int ob_shipment_moves_order(ob_ctx *ctx, const char *order_id, const char *status, ob_err *err)
{
    static const struct {
        const char *shipment, *from, *event;
    } steps[] = {
        {"delivered", "shipped", "deliver"},
        {"rto_initiated", "shipped", "rto"},
        {"rto_in_transit", "shipped", "rto"},
        {"rto_delivered", "shipped,rto", "rto_receive"},
    };
    if (!order_id || !status) return 0;
    const ob_table *orders = ob_registry_find(OB_TABLE_ORDERS);
    ob_row *order = NULL, *out;
    for (size_t i = 0; i < OB_ARRAY_LEN(steps); i++) {
        if (strcmp(steps[i].shipment, status) != 0) continue;
        if (!order && ob_sql_load_internal(ctx, orders, order_id, &order, err) != 0) return -1;
        const char *now = ob_row_text(order, ORDERS_STATUS);
        bool from = false;
        for (const char *p = steps[i].from; *p;) {
            size_t n = strcspn(p, ",");
            if (strlen(now) == n && strncmp(p, now, n) == 0) from = true;
            p += n + (p[n] == ',');
        }
        if (from) return ob_crud_run_verb(ctx, orders, order_id, steps[i].event, NULL, &out, err);
    }
    return 0;
}

int ob_courier_scan_apply(ob_ctx *ctx, const char *shipment_id, const char *source, const ob_courier_scan *s,
                          bool *added, ob_err *err)
{
    *added = false;
    int64_t ms;
    if (!s->code || !*s->code || !s->at || ob_ts_parse(s->at, &ms) != 0)
        return ob_err_set(err, OB_E_VALIDATION, "a scan needs a code and a UTC time");
    char at[OB_TS_LEN];
    ob_ts_format(ms, at);
    /* the courier's code and time identify a scan: a replay matches */
    const char *key = ob_arena_printf(ctx->arena, "%.40s@%s", s->code, at);
    bool found;
    if (exists(ctx, shipment_id, key, &found, err) != 0) return -1;
    if (found) return 0;
    const char *status = ob_courier_status_for(source, s->code);
    ob_row *e = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_TRACKING_EVENTS));
    ob_row_set_text(ctx->arena, e, TRACKING_EVENTS_SHIPMENT_ID, shipment_id);
    ob_row_set_text(ctx->arena, e, TRACKING_EVENTS_EVENT_CODE, s->code);
    ob_row_set_text(ctx->arena, e, TRACKING_EVENTS_STATUS, status ? status : "unknown");
    ob_row_set_text(ctx->arena, e, TRACKING_EVENTS_EVENT_DATETIME, at);
    ob_row_set_text(ctx->arena, e, TRACKING_EVENTS_EVENT_LOCATION, s->location);
    ob_row_set_bool(e, TRACKING_EVENTS_MILESTONE_FLAG, status && !strcmp(status, "delivered"));
    ob_row_set_bool(e, TRACKING_EVENTS_NOTIFICATION_SENT, false);
    ob_row_set_text(ctx->arena, e, TRACKING_EVENTS_SOURCE_SYSTEM, source);
    ob_row_set_text(ctx->arena, e, TRACKING_EVENTS_EXTERNAL_EVENT_ID, key);
    ob_row_set_text(ctx->arena, e, TRACKING_EVENTS_RAW_DATA, s->raw ? s->raw : "{}");
    if (ob_crud_insert_row(ctx, e, err) != 0) return -1;
    *added = true;
    if (status && strcmp(status, "ndr") == 0) return ob_ndr_failed_attempt(ctx, shipment_id, s, at, err);
    /* delivered after all: the case of its failed attempts is resolved */
    if (status && strcmp(status, "delivered") == 0 && ob_ndr_delivered(ctx, shipment_id, err) != 0) return -1;
    return moves_shipment(status) ? follow(ctx, shipment_id, err) : 0;
}

/* couriers.track {shipment_id?}: every open courier shipment with an AWB
 * (or the one named) asks its courier for its scans. A shipment whose
 * courier fails is skipped and counted; the others still move. */
int ob_courier_track_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    json_t *payload = json_loads(ob_row_text(job, JOBS_PAYLOAD) ? ob_row_text(job, JOBS_PAYLOAD) : "{}", 0, NULL);
    const json_t *only = json_object_get(payload, "shipment_id");
    const char *one = json_is_string(only) ? ob_arena_strdup(ctx->arena, json_string_value(only)) : NULL;
    json_decref(payload);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT s.\"id\", s.\"awb_number\", c.\"id\", c.\"courier_type_code\", c.\"settings\" "
                      "FROM \"shipments\" s JOIN \"courier_configs\" c ON c.\"id\" = s.\"courier_config_id\" "
                      "WHERE s.\"shipment_type\" = 'courier' AND s.\"awb_number\" IS NOT NULL "
                      "AND s.\"status\" NOT IN ('delivered', 'rto_delivered', 'cancelled') "
                      "AND s.\"id\" = COALESCE(?, s.\"id\") ORDER BY s.\"id\" LIMIT 500",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, one, err);
    struct open {
        const char *id, *awb, *cfg, *type, *settings;
    } *open = ob_arena_alloc(ctx->arena, 500 * sizeof *open);
    int n = 0, rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        const char *settings = ob_stmt_col_text(st, 4, NULL);
        open[n].id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        open[n].awb = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 1, NULL));
        open[n].cfg = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 2, NULL));
        open[n].type = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 3, NULL));
        open[n++].settings = settings ? ob_arena_strdup(ctx->arena, settings) : NULL;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    int added = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        const ob_courier_adapter *ad = ob_courier_adapter_for(open[i].type);
        if (!ad) {
            failed++;
            continue;
        }
        json_t *settings = open[i].settings ? json_loads(open[i].settings, 0, NULL) : NULL;
        ob_courier_config cfg = {open[i].cfg, open[i].type, settings};
        ob_courier_scan *scans;
        int ns;
        rc = ad->track(ctx, &cfg, open[i].awb, &scans, &ns, err);
        json_decref(settings);
        if (rc != 0) {
            if (err->code != OB_E_COURIER) return -1;
            ob_err_clear(err);
            failed++;
            continue;
        }
        for (int k = 0; k < ns; k++) {
            bool one_added;
            if (ob_courier_scan_apply(ctx, open[i].id, open[i].type, &scans[k], &one_added, err) != 0) {
                if (err->code != OB_E_VALIDATION) return -1;
                ob_err_clear(err); /* a malformed scan is the courier's, not ours */
                continue;
            }
            added += one_added;
        }
    }
    ob_sb_addf(result, "{\"shipments\":%d,\"events_added\":%d,\"couriers_failed\":%d}", n, added, failed);
    return 0;
}
