/* hooks.c - what the logistics constraints need at write time: readable
 * numbers when none is given, the signed-in user in NOT NULL "by" columns,
 * texts kept from their references, and the columns each shipment type
 * requires in the merged shipments table. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/logistics/logistics.h"
#include "domain/notify/notify.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* A reference the hook needs is missing: the same 422 validation gives. */
static int missing_ref(ob_err *err, const char *col, const char *table)
{
    ob_err_set(err, OB_E_UNPROCESSABLE, "\"%s\" refers to a %s record that does not exist", col, table);
    snprintf(err->field, sizeof err->field, "%s", col);
    ob_err_field_add(err, col, "refers to a record that does not exist");
    err->code = OB_E_UNPROCESSABLE;
    return -1;
}

/* Load the row a reference column points at; 1 when loaded, 0 when the
 * column is null, -1 on error (a missing row is reported on the column).
 * Scoped reads keep a customer user to its own rows. */
static int load_ref(ob_ctx *ctx, const ob_row *row, ob_colh col, bool scoped, ob_row **out, ob_err *err)
{
    const char *id = ob_row_text(row, col);
    if (!id) return 0;
    const ob_column *c = row->t->cols[col.idx];
    const ob_table *t = ob_registry_find(c->ref);
    int rc = scoped ? ob_sql_load(ctx, t, id, out, err) : ob_sql_load_internal(ctx, t, id, out, err);
    if (rc == 0) return 1;
    if (err->code != OB_E_NOT_FOUND) return -1;
    return missing_ref(err, col.name, c->ref);
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Copy `from` of the row `ref_col` points at into `text_col`, when the
 * client did not give the text (or changed the reference but not the text).
 * `from` is a handle of the referenced table: the accessor checks it is. */
static int follow_ref_text(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_colh ref_col, ob_colh text_col, ob_colh from,
                           ob_err *err)
{
    if (old && same_text(ob_row_text(old, ref_col), ob_row_text(row, ref_col))) return 0;
    if (old ? !same_text(ob_row_text(old, text_col), ob_row_text(row, text_col)) : !ob_row_is_null(row, text_col))
        return 0;
    ob_row *ref;
    int rc = load_ref(ctx, row, ref_col, false, &ref, err);
    if (rc <= 0) return rc;
    ob_row_set_text(ctx->arena, row, text_col, ob_row_text(ref, from));
    return 0;
}

static int queue_number_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (follow_ref_text(ctx, NULL, row, QUEUE_NUMBERS_SERVICE_CENTER_ID, QUEUE_NUMBERS_SERVICE_CENTER,
                        SERVICE_CENTERS_NAME, err) != 0)
        return -1;
    return follow_ref_text(ctx, NULL, row, QUEUE_NUMBERS_SERVICE_TYPE_ID, QUEUE_NUMBERS_SERVICE_TYPE,
                           SERVICE_TYPES_SERVICE_CODE, err);
}

static int queue_number_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (follow_ref_text(ctx, old, row, QUEUE_NUMBERS_SERVICE_CENTER_ID, QUEUE_NUMBERS_SERVICE_CENTER,
                        SERVICE_CENTERS_NAME, err) != 0)
        return -1;
    return follow_ref_text(ctx, old, row, QUEUE_NUMBERS_SERVICE_TYPE_ID, QUEUE_NUMBERS_SERVICE_TYPE,
                           SERVICE_TYPES_SERVICE_CODE, err);
}

const ob_hooks ob_queue_number_hooks = {
    .before_create = queue_number_before_create,
    .before_update = queue_number_before_update,
};

static const char *infer_shipment_type(const ob_row *row)
{
    if (!ob_row_is_null(row, SHIPMENTS_ORDER_ID) || !ob_row_is_null(row, SHIPMENTS_COURIER_CONFIG_ID)) return "courier";
    bool from = !ob_row_is_null(row, SHIPMENTS_ORIGIN_WAREHOUSE_ID),
         to = !ob_row_is_null(row, SHIPMENTS_DESTINATION_WAREHOUSE_ID);
    if (from && to) return "transfer";
    if (to) return "inbound";
    if (from) return "outbound";
    return "air_cargo";
}

/* The NOT NULL columns of each source document, for rows of its kind. */
static int check_shipment_needs(const ob_row *row, ob_err *err)
{
    const struct {
        const char *type;
        ob_colh col;
    } needs[] = {
        {"air_cargo", SHIPMENTS_CUSTOMER_ID},
        {"courier", SHIPMENTS_ORDER_ID},
        {"courier", SHIPMENTS_COURIER_CONFIG_ID},
        {"courier", SHIPMENTS_DELIVERY_ADDRESS},
        {"inbound", SHIPMENTS_DESTINATION_WAREHOUSE_ID},
        {"outbound", SHIPMENTS_ORIGIN_WAREHOUSE_ID},
        {"transfer", SHIPMENTS_ORIGIN_WAREHOUSE_ID},
        {"transfer", SHIPMENTS_DESTINATION_WAREHOUSE_ID},
    };
    const char *type = ob_row_text(row, SHIPMENTS_SHIPMENT_TYPE);
    if (!type) return 0; /* validation reports it */
    ob_err_clear(err);
    for (size_t i = 0; i < OB_ARRAY_LEN(needs); i++)
        if (strcmp(type, needs[i].type) == 0 && ob_row_is_null(row, needs[i].col))
            ob_err_field_add(err, needs[i].col.name, "is required for this shipment_type");
    return err->nfields > 0 ? -1 : 0;
}

static int shipment_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_row_is_null(row, SHIPMENTS_SHIPMENT_TYPE))
        ob_row_set_text(ctx->arena, row, SHIPMENTS_SHIPMENT_TYPE, infer_shipment_type(row));
    if (ob_awb_normalize(ctx, NULL, row, err) != 0) return -1;
    return check_shipment_needs(row, err);
}

static int shipment_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (ob_awb_normalize(ctx, old, row, err) != 0) return -1;
    return check_shipment_needs(row, err);
}

/* ONE Record subscribers following the shipment hear of every change to it
 * (an air-cargo shipment's; others are not logistics objects here). */
static int shipment_after_update(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err)
{
    return ob_one_record_notify(ctx, "LOGISTICS_OBJECT_UPDATED", old, row, NULL, err);
}

const ob_hooks ob_shipment_hooks = {
    .before_create = shipment_before_create,
    .after_create = ob_awb_first_milestone,
    .before_update = shipment_before_update,
    .after_update = shipment_after_update,
};

/* The first n characters of UTF-8 text s. */
static const char *utf8_prefix(ob_arena *a, const char *s, int n)
{
    size_t i = 0;
    for (int chars = 0; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == n) break;
    }
    return ob_arena_strndup(a, s, i);
}

static int tracking_event_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_milestone_before_create(ctx, row, err) != 0) return -1;
    if (!ob_row_is_null(row, TRACKING_EVENTS_EVENT_CODE)) return 0;
    const char *status = ob_row_text(row, TRACKING_EVENTS_STATUS);
    const char *code = status && *status ? utf8_prefix(ctx->arena, status, 50) : "location_update";
    ob_row_set_text(ctx->arena, row, TRACKING_EVENTS_EVENT_CODE, code);
    return 0;
}

/* A milestone moves the shipment's status (notified as an update of the
 * shipment) and is itself a LogisticsEvent received for it. */
static int tracking_event_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    if (ob_milestone_after_create(ctx, row, err) != 0) return -1;
    ob_row *ship;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_SHIPMENTS), ob_row_text(row, TRACKING_EVENTS_SHIPMENT_ID),
                             &ship, err) != 0)
        return -1;
    return ob_one_record_notify(ctx, "LOGISTICS_EVENT_RECEIVED", NULL, ship, row, err);
}

const ob_hooks ob_tracking_event_hooks = {
    .before_create = tracking_event_before_create,
    .after_create = tracking_event_after_create,
};

static int ndr_record_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (!ob_row_is_null(row, NDR_RECORDS_ORDER_ID)) return 0;
    ob_row *shipment;
    int rc = load_ref(ctx, row, NDR_RECORDS_SHIPMENT_ID, true, &shipment, err);
    if (rc <= 0) return rc;
    ob_row_set_text(ctx->arena, row, NDR_RECORDS_ORDER_ID, ob_row_text(shipment, SHIPMENTS_ORDER_ID));
    return 0;
}

const ob_hooks ob_ndr_record_hooks = {.before_create = ndr_record_before_create};

/* A request document moves to uploaded whenever it is given a file: on
 * create, or a new file_id later (a replacement of a rejected one, which
 * also clears an earlier verification through the stamps' clear_on). */
static int request_document_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)err;
    if (!ob_row_is_null(row, REQUEST_DOCUMENTS_FILE_ID))
        ob_row_set_text(ctx->arena, row, REQUEST_DOCUMENTS_STATUS, "uploaded");
    return 0;
}

static int request_document_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)err;
    const char *was = ob_row_text(old, REQUEST_DOCUMENTS_FILE_ID), *now = ob_row_text(row, REQUEST_DOCUMENTS_FILE_ID);
    if (now && !same_text(was, now)) ob_row_set_text(ctx->arena, row, REQUEST_DOCUMENTS_STATUS, "uploaded");
    return 0;
}

/* The attach event (declared in services.c) gives a pending or rejected
 * document its file; the portal customer holds it for their own requests.
 * The file is one the caller can see (a customer user: their customer's
 * files; another tenant's never), and a file that names a customer names the
 * request's: anything else is "no such file", 404, as if it did not exist. */
OB_GUARD_FN(ob_request_document_attach_guard)
{
    const char *fid = ob_row_text(row, REQUEST_DOCUMENTS_FILE_ID);
    if (!fid) {
        ob_err_set(err, OB_E_VALIDATION, "file_id is required to attach a file");
        snprintf(err->field, sizeof err->field, "%s", REQUEST_DOCUMENTS_FILE_ID.name);
        ob_err_field_add(err, REQUEST_DOCUMENTS_FILE_ID.name, "is required");
        err->code = OB_E_VALIDATION;
        return -1;
    }
    ob_row *file, *req;
    if (ob_sql_load(ctx, ob_registry_find(OB_TABLE_FILES), fid, &file, err) != 0) return -1;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_SERVICE_REQUESTS),
                             ob_row_text(row, REQUEST_DOCUMENTS_SERVICE_REQUEST_ID), &req, err) != 0)
        return -1;
    const char *owner = ob_row_text(file, FILES_CUSTOMER_ID);
    if (owner && !same_text(owner, ob_row_text(req, SERVICE_REQUESTS_CUSTOMER_ID)))
        return ob_err_set(err, OB_E_NOT_FOUND, "no such files record");
    return 0;
}

const ob_hooks ob_request_document_hooks = {
    .before_create = request_document_before_create,
    .before_update = request_document_before_update,
};


