/* milestones.c - what a tracking event does to its shipment. The Cargo-iQ
 * codes of air cargo (000) are an enum of tracking_events (milestone_code,
 * shipments.c); event_code of an air-cargo event must be one of them. The
 * shipment's status follows its latest event by event_datetime: an event
 * posted late, with an earlier time, is stored and moves nothing. Each
 * shipment type maps codes to statuses with its own function (status_maps
 * below), so courier scans (001) plug in their own mapping. */
#include <ctype.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/base.h"
#include "domain/logistics/logistics.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"


const char *ob_cargo_status_of(const char *code)
{
    /* codes that record a fact without moving the shipment (BKD, FOH, RCS,
     * FWB, and the exception DIS) are absent: the status stays */
    static const struct {
        const char *code, *status;
    } map[] = {
        {"PRE", "manifested"}, {"MAN", "manifested"}, {"DEP", "departed"},  {"TFD", "in_transit"},
        {"RCT", "in_transit"}, {"ARR", "arrived"},    {"RCF", "arrived"},   {"NFD", "arrived"},
        {"AWD", "arrived"},    {"CRC", "customs_clearance"}, {"CCD", "arrived"}, {"DLV", "delivered"},
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(map); i++)
        if (strcmp(map[i].code, code) == 0) return map[i].status;
    return NULL;
}

/* One row per shipment type whose events move its status. */
static const struct {
    const char *type;
    ob_status_of_event_fn status_of;
} status_maps[] = {
    {"air_cargo", ob_cargo_status_of},
};

static ob_status_of_event_fn status_map(const char *type)
{
    for (size_t i = 0; type && i < OB_ARRAY_LEN(status_maps); i++)
        if (strcmp(status_maps[i].type, type) == 0) return status_maps[i].status_of;
    return NULL;
}

static int bad_code(ob_err *err, const char *why)
{
    ob_err_set(err, OB_E_VALIDATION, "event_code %s", why);
    snprintf(err->field, sizeof err->field, "%s", TRACKING_EVENTS_EVENT_CODE.name);
    ob_err_field_add(err, TRACKING_EVENTS_EVENT_CODE.name, why);
    err->code = OB_E_VALIDATION;
    return -1;
}

static int load_shipment(ob_ctx *ctx, const ob_row *ev, ob_row **out, ob_err *err)
{
    const char *id = ob_row_text(ev, TRACKING_EVENTS_SHIPMENT_ID);
    if (!id) {
        *out = NULL;
        return 0; /* validation reports it */
    }
    if (ob_sql_load(ctx, ob_registry_find(OB_TABLE_SHIPMENTS), id, out, err) == 0) return 0;
    if (err->code != OB_E_NOT_FOUND) return -1;
    ob_err_set(err, OB_E_UNPROCESSABLE, "\"shipment_id\" refers to a shipments record that does not exist");
    snprintf(err->field, sizeof err->field, "%s", TRACKING_EVENTS_SHIPMENT_ID.name);
    ob_err_field_add(err, TRACKING_EVENTS_SHIPMENT_ID.name, "refers to a record that does not exist");
    err->code = OB_E_UNPROCESSABLE;
    return -1;
}

int ob_milestone_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    /* the customer hears of a milestone in this transaction (the
     * tracking_events.milestone event), so it is sent once the row exists */
    ob_row_set_bool(row, TRACKING_EVENTS_NOTIFICATION_SENT, ob_row_int(row, TRACKING_EVENTS_MILESTONE_FLAG, 0) != 0);
    ob_row *ship;
    if (load_shipment(ctx, row, &ship, err) != 0) return -1;
    if (!ship || strcmp(ob_row_text(ship, SHIPMENTS_SHIPMENT_TYPE), "air_cargo") != 0) return 0;
    const char *code = ob_row_text(row, TRACKING_EVENTS_EVENT_CODE);
    /* a position report (004) carries coordinates, not a milestone */
    if (!code && !ob_row_is_null(row, TRACKING_EVENTS_LATITUDE)) return 0;
    if (!code) return bad_code(err, "is required for an air-cargo shipment (a Cargo-iQ code)");
    const ob_enum *codes = row->t->cols[TRACKING_EVENTS_MILESTONE_CODE.idx]->enm;
    for (int i = 0; i < codes->n; i++) {
        if (strcasecmp(codes->values[i], code) != 0) continue;
        char up[8] = {0};
        for (size_t k = 0; k < sizeof up - 1 && codes->values[i][k]; k++)
            up[k] = (char)toupper((unsigned char)codes->values[i][k]);
        ob_row_set_text(ctx->arena, row, TRACKING_EVENTS_EVENT_CODE, up);
        ob_row_set_text(ctx->arena, row, TRACKING_EVENTS_MILESTONE_CODE, codes->values[i]);
        return 0;
    }
    return bad_code(err, "is not a Cargo-iQ milestone code (see milestone_code)");
}

/* Whether another event of the shipment happened after this one. */
static int later_event(ob_ctx *ctx, const ob_row *ev, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT 1 FROM \"tracking_events\" WHERE \"shipment_id\" = ? AND \"id\" <> ? "
                      "AND \"event_datetime\" > ? LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ob_row_text(ev, TRACKING_EVENTS_SHIPMENT_ID), err);
    ob_stmt_bind_text(st, 2, ob_row_id(ev), err);
    ob_stmt_bind_text(st, 3, ob_row_text(ev, TRACKING_EVENTS_EVENT_DATETIME), err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    return rc;
}

int ob_milestone_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    const char *sid = ob_row_text(row, TRACKING_EVENTS_SHIPMENT_ID);
    ob_row *ship;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_SHIPMENTS), sid, &ship, err) != 0) return -1;
    ob_status_of_event_fn status_of = status_map(ob_row_text(ship, SHIPMENTS_SHIPMENT_TYPE));
    const char *to = status_of ? status_of(ob_row_text(row, TRACKING_EVENTS_EVENT_CODE)) : NULL;
    if (!to || strcmp(to, ob_row_text(ship, SHIPMENTS_STATUS)) == 0) return 0;
    int rc = later_event(ctx, row, err);
    if (rc != 0) return rc < 0 ? -1 : 0;
    ob_row *next = ob_row_copy(ctx->arena, ship);
    ob_row_set_text(ctx->arena, next, SHIPMENTS_STATUS, to);
    if (strcmp(to, "delivered") == 0 && ob_row_is_null(next, SHIPMENTS_DELIVERED_AT))
        ob_row_set_text(ctx->arena, next, SHIPMENTS_DELIVERED_AT, ob_row_text(row, TRACKING_EVENTS_EVENT_DATETIME));
    return ob_crud_save(ctx, ship, next, "track", err);
}
