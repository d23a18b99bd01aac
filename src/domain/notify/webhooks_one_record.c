/* ONE Record subscriptions (issue #15, seed 002): a subscriber's callback
 * gets an api:Notification when an air-cargo shipment it follows changes
 * (LOGISTICS_OBJECT_UPDATED) or receives a milestone (LOGISTICS_EVENT_RECEIVED).
 *
 * The topic is either the type (every cargo:Shipment of the tenant) or one
 * shipment's identifier, as the ONE Record API's TopicType says. Delivery is
 * the outgoing-webhook outbox's: each subscription owns a webhook
 * subscription (its callback URL and secret, sealed; SSRF-checked when saved)
 * that names the event one_record.notification, which no table change emits,
 * so it receives exactly the notifications written here: signed, retried with
 * back-off, replayable, in webhook_deliveries. The owned endpoint follows the
 * subscription's URL, secret and active flag and is deleted with it. */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "domain/domains.h"
#include "domain/notify/notify.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define CARGO_NS "https://onerecord.iata.org/ns/cargo#"
#define API_NS "https://onerecord.iata.org/ns/api#"
#define UPDATED "LOGISTICS_OBJECT_UPDATED"
#define RECEIVED "LOGISTICS_EVENT_RECEIVED"

/* the API's TopicType names, in the engine's lower case (input in any case) */
OB_ENUM(topic_type, "one_record_topic_type", "logistics_object_type", "logistics_object_identifier");

static const ob_column sub_cols[] = {
    {"callback_url", OB_F_TEXT, .max = 2000, .flags = OB_REQUIRED,
     .doc = "where notifications are POSTed (the subscriber's ONE Record server); checked like a webhook URL"},
    {"secret", OB_F_TEXT, .max = 200, .flags = OB_REQUIRED | OB_SECRET | OB_ENCRYPTED,
     .doc = "at least 16 characters; signs every notification (Opsbase-Signature, as webhooks), never shown"},
    {"topic_type", OB_F_ENUM, .enm = &topic_type, .flags = OB_REQUIRED | OB_IMMUTABLE,
     .doc = "logistics_object_type: every object of the type in topic; logistics_object_identifier: the one "
            "object topic names (ONE Record's LOGISTICS_OBJECT_TYPE and LOGISTICS_OBJECT_IDENTIFIER)"},
    {"topic", OB_F_TEXT, .max = 2000, .flags = OB_REQUIRED | OB_IMMUTABLE,
     .doc = "for a type: https://onerecord.iata.org/ns/cargo#Shipment (or cargo:Shipment), the type served; for "
            "an identifier: a shipment's logistics-object IRI or its id"},
    {"shipment_id", OB_F_REF, .ref = "shipments", .on_delete = OB_DEL_CASCADE, .flags = OB_SERVER | OB_INDEXED,
     .doc = "the air-cargo shipment an identifier topic names"},
    {"event_types", OB_F_JSON, .flags = OB_REQUIRED, .dflt = "[\"" UPDATED "\",\"" RECEIVED "\"]",
     .doc = "which notifications: [\"" UPDATED "\", \"" RECEIVED "\"] or one of them "
            "(the API's includeSubscriptionEventType)"},
    {"active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true", .doc = "an inactive subscription is not notified"},
    {"description", OB_F_TEXT, .max = 500},
    {"webhook_subscription_id", OB_F_REF, .ref = "webhook_subscriptions", .on_delete = OB_DEL_SET_NULL,
     .flags = OB_SERVER,
     .doc = "the endpoint the notifications are delivered through (its webhook_deliveries); made and kept by "
            "the server"},
};

/* The shipment id in an identifier topic: the id itself, or the last path
 * segment of a logistics-objects IRI. */
static const char *topic_id(const char *topic)
{
    const char *mark = strstr(topic, "/logistics-objects/");
    if (!mark) return topic;
    const char *id = mark + strlen("/logistics-objects/");
    return strchr(id, '/') ? NULL : id;
}

static int bad(ob_err *err, const char *field, const char *msg)
{
    ob_err_set(err, OB_E_UNPROCESSABLE, "%s: %s", field, msg);
    snprintf(err->field, sizeof err->field, "%s", field);
    return -1;
}

static int check_event_types(const char *text, ob_err *err)
{
    json_t *j = json_loads(text, 0, NULL);
    bool ok = json_is_array(j) && json_array_size(j) > 0 && json_array_size(j) <= 2;
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || (strcmp(s, UPDATED) != 0 && strcmp(s, RECEIVED) != 0)) ok = false;
    }
    json_decref(j);
    return ok ? 0 : bad(err, "event_types", "a non-empty array of " UPDATED " and " RECEIVED);
}

static int check(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const char *url = ob_row_text(row, ONE_RECORD_SUBSCRIPTIONS_CALLBACK_URL);
    const char *secret = ob_row_text(row, ONE_RECORD_SUBSCRIPTIONS_SECRET);
    const char *type = ob_row_text(row, ONE_RECORD_SUBSCRIPTIONS_TOPIC_TYPE);
    const char *topic = ob_row_text(row, ONE_RECORD_SUBSCRIPTIONS_TOPIC);
    const char *events = ob_row_text(row, ONE_RECORD_SUBSCRIPTIONS_EVENT_TYPES);
    /* missing required fields are the validator's to refuse (400) */
    if (!url || !secret || !type || !topic || !events) return 0;
    if (strlen(secret) < 16) return bad(err, "secret", "at least 16 characters");
    if (check_event_types(events, err) != 0) return -1;
    if (strcmp(type, "logistics_object_type") == 0) {
        if (strcmp(topic, CARGO_NS "Shipment") != 0 && strcmp(topic, "cargo:Shipment") != 0)
            return bad(err, "topic", "the logistics objects served here are of type " CARGO_NS "Shipment");
        return 0;
    }
    /* an identifier: an air-cargo shipment the caller can see, else 404 */
    const char *id = topic_id(topic);
    ob_row *ship;
    if (ob_sql_load(ctx, ob_registry_find(OB_TABLE_SHIPMENTS), id, &ship, err) != 0) return -1;
    if (strcmp(ob_row_text(ship, SHIPMENTS_SHIPMENT_TYPE), "air_cargo") != 0)
        return ob_err_set(err, OB_E_NOT_FOUND, "no air-cargo shipment has that id");
    ob_row_set_text(ctx->arena, row, ONE_RECORD_SUBSCRIPTIONS_SHIPMENT_ID, ob_row_id(ship));
    return 0;
}

/* The owned endpoint's columns from the subscription's. */
static void endpoint_of(ob_ctx *ctx, const ob_row *sub, ob_row *ep)
{
    ob_row_set_text(ctx->arena, ep, WEBHOOK_SUBSCRIPTIONS_URL, ob_row_text(sub, ONE_RECORD_SUBSCRIPTIONS_CALLBACK_URL));
    ob_row_set_text(ctx->arena, ep, WEBHOOK_SUBSCRIPTIONS_SECRET, ob_row_text(sub, ONE_RECORD_SUBSCRIPTIONS_SECRET));
    ob_row_set_int(ep, WEBHOOK_SUBSCRIPTIONS_ACTIVE, ob_row_int(sub, ONE_RECORD_SUBSCRIPTIONS_ACTIVE, 1));
}

static int sub_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (check(ctx, row, err) != 0) return -1;
    if (!ob_row_text(row, ONE_RECORD_SUBSCRIPTIONS_CALLBACK_URL) || !ob_row_text(row, ONE_RECORD_SUBSCRIPTIONS_SECRET))
        return 0;
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_row *ep = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_WEBHOOK_SUBSCRIPTIONS));
    ob_row_set_text(ctx->arena, ep, WEBHOOK_SUBSCRIPTIONS_ID, id);
    endpoint_of(ctx, row, ep);
    ob_row_set_text(ctx->arena, ep, WEBHOOK_SUBSCRIPTIONS_EVENTS, "[\"" OB_ONE_RECORD_WEBHOOK_EVENT "\"]");
    ob_row_set_text(ctx->arena, ep, WEBHOOK_SUBSCRIPTIONS_DESCRIPTION, "the endpoint of a ONE Record subscription");
    if (ob_crud_insert_row(ctx, ep, err) != 0) return -1;
    ob_row_set_text(ctx->arena, row, ONE_RECORD_SUBSCRIPTIONS_WEBHOOK_SUBSCRIPTION_ID, id);
    return 0;
}

static int sub_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    if (check(ctx, row, err) != 0) return -1;
    const char *eid = ob_row_text(row, ONE_RECORD_SUBSCRIPTIONS_WEBHOOK_SUBSCRIPTION_ID);
    if (!eid) return 0;
    ob_row *ep;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_WEBHOOK_SUBSCRIPTIONS), eid, &ep, err) != 0)
        return err->code == OB_E_NOT_FOUND ? (ob_err_clear(err), 0) : -1;
    ob_row *next = ob_row_copy(ctx->arena, ep);
    endpoint_of(ctx, row, next);
    return ob_crud_save(ctx, ep, next, "update", err);
}

static int sub_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    const char *eid = ob_row_text(old, ONE_RECORD_SUBSCRIPTIONS_WEBHOOK_SUBSCRIPTION_ID);
    if (!eid) return 0;
    if (ob_crud_delete(ctx, ob_registry_find(OB_TABLE_WEBHOOK_SUBSCRIPTIONS), eid, -1, err) != 0)
        return err->code == OB_E_NOT_FOUND ? (ob_err_clear(err), 0) : -1;
    return 0;
}

static const ob_hooks sub_hooks = {.before_create = sub_before_create,
                                   .before_update = sub_before_update,
                                   .before_delete = sub_before_delete};

const ob_resource ob_res_one_record_subscriptions = {
    .table = "one_record_subscriptions",
    .doc = "ONE Record subscribers notified of changes to air-cargo shipments (api:Notification, 002)",
    OB_COLS(sub_cols), OB_CONFIG_PERMS("webhooks"), .hooks = &sub_hooks, .default_sort = "created_at", .since = 7,
};

/* --- notifications -------------------------------------------------------- */

/* The IRIs of logistics objects: the tenant's public_url setting (the
 * address subscribers reach this server by), else localhost. */
static const char *object_iri(ob_ctx *ctx, const char *id, ob_err *err)
{
    json_t *set;
    if (ob_jobs_tenant_settings(ctx->store, ctx->tenant->slug, &set, err) != 0) return NULL;
    const char *base = json_string_value(json_object_get(set, "public_url"));
    size_t n = base ? strlen(base) : 0;
    while (n && base[n - 1] == '/') n--;
    const char *iri = ob_arena_printf(ctx->arena, "%.*s/api/v1/one-record/logistics-objects/%s", base ? (int)n : 16,
                                      base ? base : "http://localhost", id);
    json_decref(set);
    return iri;
}

static const char *body_of(ob_ctx *ctx, const char *event_type, const char *iri, const ob_row *old,
                           const ob_row *ship, const ob_row *ev)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, 512);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_jw_obj_open(&w);
    ob_jw_key(&w, "@context");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "api", API_NS);
    ob_jw_kstr(&w, "cargo", CARGO_NS);
    ob_jw_obj_close(&w);
    ob_jw_kstr(&w, "@type", "api:Notification");
    ob_jw_key(&w, "api:hasEventType");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "@id", ob_arena_printf(ctx->arena, "api:%s", event_type));
    ob_jw_obj_close(&w);
    ob_jw_key(&w, "api:hasLogisticsObject");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "@id", iri);
    ob_jw_obj_close(&w);
    ob_jw_key(&w, "api:hasLogisticsObjectType");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "@type", "http://www.w3.org/2001/XMLSchema#anyURI");
    ob_jw_kstr(&w, "@value", CARGO_NS "Shipment");
    ob_jw_obj_close(&w);
    if (old) {
        /* the columns the logistics object shows, with the property each is */
        const struct {
            ob_colh col;
            const char *property;
        } shown[] = {
            {SHIPMENTS_AWB_NUMBER, CARGO_NS "waybill"},
            {SHIPMENTS_ORIGIN_AIRPORT, CARGO_NS "departureLocation"},
            {SHIPMENTS_DESTINATION_AIRPORT, CARGO_NS "arrivalLocation"},
            {SHIPMENTS_PIECES, CARGO_NS "pieces"},
            {SHIPMENTS_WEIGHT_KG, CARGO_NS "totalGrossWeight"},
        };
        ob_jw_key(&w, "api:hasChangedProperty");
        ob_jw_arr_open(&w);
        for (size_t i = 0; i < OB_ARRAY_LEN(shown); i++) {
            if (ob_row_col_equal(old, ship, shown[i].col.idx)) continue;
            ob_jw_obj_open(&w);
            ob_jw_kstr(&w, "@type", "http://www.w3.org/2001/XMLSchema#anyURI");
            ob_jw_kstr(&w, "@value", shown[i].property);
            ob_jw_obj_close(&w);
        }
        ob_jw_arr_close(&w);
    }
    if (ev) {
        ob_jw_key(&w, "api:hasLogisticsEvent");
        ob_jw_arr_open(&w);
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "@id", ob_arena_printf(ctx->arena, "%s/logistics-events/%s", iri, ob_row_id(ev)));
        ob_jw_obj_close(&w);
        ob_jw_arr_close(&w);
    }
    ob_jw_obj_close(&w);
    return sb.buf;
}

static bool includes(const char *events_json, const char *name)
{
    json_t *j = json_loads(events_json ? events_json : "[]", 0, NULL);
    bool yes = false;
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strcmp(s, name) == 0) yes = true;
    }
    json_decref(j);
    return yes;
}

int ob_one_record_notify(ob_ctx *ctx, const char *event_type, const ob_row *old, const ob_row *ship,
                         const ob_row *ev, ob_err *err)
{
    if (strcmp(ob_row_text(ship, SHIPMENTS_SHIPMENT_TYPE), "air_cargo") != 0) return 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT webhook_subscription_id, event_types FROM one_record_subscriptions "
                      "WHERE active = ? AND webhook_subscription_id IS NOT NULL "
                      "AND (topic_type = 'logistics_object_type' OR shipment_id = ?) ORDER BY id",
                      &st, err) != 0)
        return -1;
    ob_value v[] = {ob_v_bool(true), ob_v_text(ob_row_id(ship))};
    int rc = 0;
    for (int i = 0; rc == 0 && i < 2; i++) rc = ob_stmt_bind(st, i + 1, &v[i], err);
    /* collect first: inserting while the statement is open is not portable */
    enum { MAX = 256 };
    const char *to[MAX];
    int n = 0;
    while (rc == 0 && n < MAX) {
        int got = ob_stmt_step(st, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        if (includes(ob_stmt_col_text(st, 1, NULL), event_type))
            to[n++] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    }
    ob_stmt_done(st);
    if (rc != 0 || n == 0) return rc;
    const char *iri = object_iri(ctx, ob_row_id(ship), err);
    if (!iri) return -1;
    const char *body = body_of(ctx, event_type, iri, old, ship, ev);
    const char *event = ob_arena_printf(ctx->arena, "one_record.%s", event_type);
    for (int i = 0; rc == 0 && i < n; i++) rc = ob_webhook_outbox(ctx, to[i], event, body, err);
    return rc;
}
