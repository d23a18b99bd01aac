/* one_record.c - an air-cargo shipment as an IATA ONE Record logistics
 * object (JSON-LD in the cargo ontology), and ONE Record LogisticsEvents
 * taken in as tracking_events milestones.
 *
 * The read is the shipment as the shipments GET sees it (the shipments view
 * permission, a portal user's customer scope): another customer's, another
 * tenant's or a non-air-cargo shipment is 404. The intake builds the
 * tracking_events create body from the event and runs it through that
 * table's own create route, so Cargo-iQ validation, dedupe by
 * external_event_id (the event's @id) and the status following the latest
 * event are the ones POST /api/v1/tracking_events applies. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/api_int.h"
#include "base/base.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define CARGO_NS "https://onerecord.iata.org/ns/cargo#"
/* UN/ECE Rec. 20 kilogram in the model's code lists (MeasurementUnitCode) */
#define KGM_IRI "https://onerecord.iata.org/ns/code-lists/MeasurementUnitCode#KGM"
#define XSD_NS "http://www.w3.org/2001/XMLSchema#"

/* An object property whose value is a named individual or code: {"@id": iri}.
 * The model declares waybillType, eventTimeType and unit as object
 * properties, so a plain string there would be a different (literal) value. */
static void iri_value(ob_jsonw *w, const char *key, const char *iri)
{
    ob_jw_key(w, key);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "@id", iri);
    ob_jw_obj_close(w);
}

static void refuse(ob_resp *resp, ob_errcode code, const char *msg)
{
    ob_err err;
    ob_err_set(&err, code, "%s", msg);
    ob_resp_error(resp, &err);
}

/* The shipment if the caller may see it and it is air cargo; else the
 * refusal is written. */
static ob_row *cargo_shipment(ob_ctx *ctx, ob_resp *resp, const char *id)
{
    ob_err err;
    ob_row *ship;
    if (ob_crud_get(ctx, ob_registry_find(OB_TABLE_SHIPMENTS), id, &ship, &err) != 0) {
        ob_resp_error(resp, &err);
        return NULL;
    }
    if (strcmp(ob_row_text(ship, SHIPMENTS_SHIPMENT_TYPE), "air_cargo") != 0) {
        refuse(resp, OB_E_NOT_FOUND, "no air-cargo shipment has that id");
        return NULL;
    }
    return ship;
}

/* The object's URL: ONE Record identifies objects by dereferenceable IRIs,
 * so the host the client reached us by. */
static const char *object_url(ob_ctx *ctx, ob_req *req, const char *id)
{
    const char *host = req->header(req, "Host");
    const char *proto = req->header(req, "X-Forwarded-Proto");
    if (!host || !*host) host = "localhost";
    if (!proto || strcmp(proto, "https") != 0) proto = "http";
    return ob_arena_printf(ctx->arena, "%s://%s/api/v1/one-record/logistics-objects/%s", proto, host, id);
}

static void location(ob_jsonw *w, const char *key, const char *code)
{
    if (!code) return;
    ob_jw_key(w, key);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "@type", "cargo:Location");
    ob_jw_key(w, "locationCodes");
    ob_jw_arr_open(w);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "@type", "cargo:CodeListElement");
    ob_jw_kstr(w, "code", code);
    ob_jw_obj_close(w);
    ob_jw_arr_close(w);
    ob_jw_obj_close(w);
}

/* The shipment's events, oldest first, as cargo:LogisticsEvent objects;
 * loaded as rows so that times read the same on both engines. */
static int write_events(ob_ctx *ctx, ob_jsonw *w, const char *url, const char *sid, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_TRACKING_EVENTS);
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"tracking_events\" WHERE \"shipment_id\" = ? "
                                      "ORDER BY \"event_datetime\", \"id\"",
                                      ob_sql_cols(t));
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, sid, err);
    ob_jw_key(w, "events");
    ob_jw_arr_open(w);
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        ob_row *ev = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, ev, st);
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "@id", ob_arena_printf(ctx->arena, "%s/logistics-events/%s", url, ob_row_id(ev)));
        ob_jw_kstr(w, "@type", "cargo:LogisticsEvent");
        ob_jw_key(w, "eventCode");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "@type", "cargo:CodeListElement");
        ob_jw_kstr(w, "code", ob_row_text(ev, TRACKING_EVENTS_EVENT_CODE));
        ob_jw_obj_close(w);
        if (ob_row_text(ev, TRACKING_EVENTS_EVENT_DESCRIPTION))
            ob_jw_kstr(w, "eventName", ob_row_text(ev, TRACKING_EVENTS_EVENT_DESCRIPTION));
        /* eventDate is an xsd:dateTime datatype property: a typed literal */
        ob_jw_key(w, "eventDate");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "@type", "xsd:dateTime");
        ob_jw_kstr(w, "@value", ob_row_text(ev, TRACKING_EVENTS_EVENT_DATETIME));
        ob_jw_obj_close(w);
        iri_value(w, "eventTimeType", "cargo:ACTUAL");
        location(w, "eventLocation", ob_row_text(ev, TRACKING_EVENTS_EVENT_LOCATION));
        ob_jw_obj_close(w);
    }
    ob_stmt_done(st);
    ob_jw_arr_close(w);
    return rc < 0 ? -1 : 0;
}

void ob_api_one_record_get(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    ob_row *ship = cargo_shipment(ctx, resp, call->id);
    if (!ship) return;
    const char *url = object_url(ctx, req, ob_row_id(ship));
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_key(&w, "@context");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "cargo", CARGO_NS);
    ob_jw_kstr(&w, "@vocab", CARGO_NS);
    ob_jw_kstr(&w, "xsd", XSD_NS);
    ob_jw_obj_close(&w);
    ob_jw_kstr(&w, "@id", url);
    ob_jw_kstr(&w, "@type", "cargo:Shipment");
    /* awb_number is stored PPP-SSSSSSSC (awb.c): prefix and serial with check digit */
    const char *awb = ob_row_text(ship, SHIPMENTS_AWB_NUMBER);
    ob_jw_key(&w, "waybill");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "@type", "cargo:Waybill");
    iri_value(&w, "waybillType", "cargo:MASTER");
    if (awb && strlen(awb) == 12 && awb[3] == '-') {
        ob_jw_kstr(&w, "waybillPrefix", ob_arena_strndup(ctx->arena, awb, 3));
        ob_jw_kstr(&w, "waybillNumber", awb + 4);
    }
    location(&w, "departureLocation", ob_row_text(ship, SHIPMENTS_ORIGIN_AIRPORT));
    location(&w, "arrivalLocation", ob_row_text(ship, SHIPMENTS_DESTINATION_AIRPORT));
    ob_jw_obj_close(&w);
    /* The model has no piece count on a Shipment: its pieces are Piece
     * objects (Shipment.pieces). The portal keeps a count, not the pieces,
     * so each is an embedded Piece named by a fragment of the shipment's
     * IRI; a client counts them. */
    int64_t npieces = ob_row_int(ship, SHIPMENTS_PIECES, 0);
    if (npieces > 0) {
        ob_jw_key(&w, "pieces");
        ob_jw_arr_open(&w);
        size_t idcap = strlen(url) + 32;
        char *pid = ob_arena_alloc(ctx->arena, idcap); /* one buffer for every piece's id */
        for (int64_t k = 1; k <= npieces; k++) {
            snprintf(pid, idcap, "%s#piece-%lld", url, (long long)k);
            ob_jw_obj_open(&w);
            ob_jw_kstr(&w, "@id", pid);
            ob_jw_kstr(&w, "@type", "cargo:Piece");
            ob_jw_obj_close(&w);
        }
        ob_jw_arr_close(&w);
    }
    if (!ob_row_is_null(ship, SHIPMENTS_WEIGHT_KG)) {
        char kg[40];
        ob_format_decimal(ob_row_int(ship, SHIPMENTS_WEIGHT_KG, 0), 3, kg, sizeof kg);
        ob_jw_key(&w, "totalGrossWeight");
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "@type", "cargo:Value");
        /* exact: the stored decimal as a JSON number, never through a double */
        ob_jw_key(&w, "numericalValue");
        ob_jw_raw(&w, kg, strlen(kg));
        iri_value(&w, "unit", KGM_IRI);
        ob_jw_obj_close(&w);
    }
    ob_err err;
    if (write_events(ctx, &w, url, ob_row_id(ship), &err) != 0) {
        ob_sb_reset(&resp->body);
        ob_resp_error(resp, &err);
        return;
    }
    ob_jw_obj_close(&w);
    resp->content_type = "application/ld+json";
    resp->status = 200;
}

/* A property of the event by its plain or cargo:-prefixed name. */
static json_t *prop(json_t *ev, const char *name)
{
    json_t *v = json_object_get(ev, name);
    if (v) return v;
    char full[64];
    snprintf(full, sizeof full, "cargo:%s", name);
    return json_object_get(ev, full);
}

/* A code given as "DEP" or as a CodeListElement {"code": "DEP"}. */
static const char *code_of(json_t *v)
{
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_object(v)) return code_of(prop(v, "code"));
    return NULL;
}

/* A location given as a code, a Location with locationCodes, or its name. */
static const char *location_of(json_t *v)
{
    if (json_is_string(v)) return json_string_value(v);
    if (!json_is_object(v)) return NULL;
    json_t *codes = prop(v, "locationCodes");
    if (json_is_array(codes) && json_array_size(codes) > 0) return code_of(json_array_get(codes, 0));
    if (json_is_object(codes)) return code_of(codes);
    const char *name = code_of(prop(v, "locationName"));
    return name;
}

void ob_api_one_record_event(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    ob_row *ship = cargo_shipment(ctx, resp, call->id);
    if (!ship) return;
    ob_err err;
    json_t *ev;
    if (ob_api_body(app, req, false, &ev, &err) != 0) return ob_resp_error(resp, &err);
    json_t *type = json_object_get(ev, "@type");
    const char *ts = json_is_string(type) ? json_string_value(type) : NULL;
    if (ts && strcmp(ts, "cargo:LogisticsEvent") != 0 && strcmp(ts, "LogisticsEvent") != 0 &&
        strcmp(ts, CARGO_NS "LogisticsEvent") != 0) {
        json_decref(ev);
        return refuse(resp, OB_E_BAD_REQUEST, "@type must be cargo:LogisticsEvent");
    }
    /* the tracking_events create body; its validation names the fields */
    json_t *body = json_object();
    json_object_set_new(body, "shipment_id", json_string(ob_row_id(ship)));
    json_object_set_new(body, "milestone_flag", json_true());
    json_object_set_new(body, "source_system", json_string("one_record"));
    json_t *given = prop(ev, "eventCode");
    const char *code = code_of(given);
    /* a code of another shape is handed on as it is, for event_code's validation to refuse */
    if (code) json_object_set_new(body, "event_code", json_string(code));
    else if (given) json_object_set(body, "event_code", given);
    json_t *date = prop(ev, "eventDate");
    if (json_is_object(date)) date = json_object_get(date, "@value"); /* a typed literal */
    if (date) json_object_set(body, "event_datetime", date);
    const char *loc = location_of(prop(ev, "eventLocation"));
    if (loc) json_object_set_new(body, "event_location", json_string(loc));
    const char *name = code_of(prop(ev, "eventName"));
    if (name) json_object_set_new(body, "event_description", json_string(name));
    json_t *eid = json_object_get(ev, "@id");
    if (eid) json_object_set(body, "external_event_id", eid);
    json_decref(ev);
    if (!given) {
        json_decref(body);
        ob_err_set(&err, OB_E_VALIDATION, "eventCode is required: a Cargo-iQ code");
        snprintf(err.field, sizeof err.field, "eventCode");
        ob_err_field_add(&err, "eventCode", "is required: a Cargo-iQ code");
        return ob_resp_error(resp, &err);
    }
    /* the generic create route of tracking_events, as POST /api/v1/tracking_events runs it */
    static const char *const seg[] = {"api", "v1", OB_TABLE_TRACKING_EVENTS};
    const ob_route_row *create;
    const char *id, *allow;
    if (ob_routes_match("POST", seg, 3, &create, &id, &allow, &err) != 0) {
        json_decref(body);
        return ob_resp_error(resp, &err);
    }
    ob_call c = *call;
    c.route = create;
    c.id = NULL;
    c.body = body;
    c.input = NULL;
    /* the body outlives the create, as the gate's does */
    if (ob_crud_body(ctx, create->t, body, true, &c.input, &err) != 0) ob_resp_error(resp, &err);
    else ob_api_create(app, req, resp, ctx, &c);
    json_decref(body);
}
