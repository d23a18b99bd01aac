/* ndr_work.c - the NDR workbench: a failed-delivery scan opens the
 * shipment's case or records another attempt on it; people assign it, act
 * on it (calls and messages), ask the courier to reattempt, send it back
 * (RTO) or resolve it. The buyer is told by SMS (ndr_notify.c) when the
 * case opens and when the courier takes a reattempt. Each failed attempt queues the NDR rules (the job
 * ndr.rules, ndr_auto.c), which by default start RTO at the third.
 * The states and who may move them are declared in ndr.c. */
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "domain/logistics/courier.h"
#include "domain/logistics/logistics.h"
#include "domain/support/support.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* The courier's words for a failure -> reason codes. */
static const struct {
    const char *word, *code;
} reasons[] = {
    {"customer_unavailable", "customer_unavailable"}, {"not available", "customer_unavailable"},
    {"cna", "customer_unavailable"},                  {"wrong_address", "wrong_address"},
    {"wrong address", "wrong_address"},               {"incomplete_address", "incomplete_address"},
    {"incomplete address", "incomplete_address"},     {"refused", "refused"},
    {"cod_not_ready", "cod_not_ready"},               {"cod not ready", "cod_not_ready"},
};

static const char *reason_code(const char *said)
{
    for (size_t i = 0; said && i < OB_ARRAY_LEN(reasons); i++)
        if (strcasestr(said, reasons[i].word)) return reasons[i].code;
    return "other";
}

static int open_case(ob_ctx *ctx, const char *shipment_id, const char **id, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\" FROM \"ndr_records\" WHERE \"shipment_id\" = ? AND \"status\" IN "
                      "('open', 'in_progress', 'reattempt_scheduled') ORDER BY \"created_at\" DESC LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, shipment_id, err);
    int rc = ob_stmt_step(st, err);
    *id = rc == 1 ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)) : NULL;
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* A case is due one working day (NDR_DUE_MINUTES business minutes) after
 * the failure, counted in the tenant's business calendar (its oldest, when
 * it keeps several) by the support desk's calendar arithmetic, so nights,
 * closed days and holidays do not count; the UTC date of that moment. With
 * no calendar, the next calendar day. */
#define NDR_DUE_MINUTES 480

static int due_date(ob_ctx *ctx, int64_t failed_ms, char out[11], ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT \"id\" FROM \"business_calendars\" ORDER BY \"created_at\", \"id\" LIMIT 1",
                      &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    const char *cal = rc == 1 ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)) : NULL;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    int64_t due = failed_ms + 86400000LL;
    const int64_t minutes[] = {NDR_DUE_MINUTES};
    if (cal && ob_business_due(ctx, cal, failed_ms, minutes, &due, 1, err) != 0) return -1;
    ob_date_format(due / 86400000LL, out);
    return 0;
}

int ob_ndr_failed_attempt(ob_ctx *ctx, const char *shipment_id, const ob_courier_scan *s, const char *at,
                          ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_NDR_RECORDS);
    const char *id;
    ob_row *out;
    if (open_case(ctx, shipment_id, &id, err) != 0) return -1;
    if (id) {
        ob_row *in = ob_row_new(ctx->arena, t);
        ob_row_set_text(ctx->arena, in, NDR_RECORDS_REASON_CODE, reason_code(s->reason));
        ob_row_set_text(ctx->arena, in, NDR_RECORDS_REASON_DESCRIPTION, s->reason);
        ob_row_set_text(ctx->arena, in, NDR_RECORDS_NDR_DATE, at);
        if (ob_crud_run_verb(ctx, t, id, "fail", in, &out, err) != 0) return -1;
        return ob_ndr_rules_queue(ctx, id, ob_row_int(out, NDR_RECORDS_ATTEMPT_COUNT, 1), err);
    }
    ob_row *sh, *order = NULL;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_SHIPMENTS), shipment_id, &sh, err) != 0) return -1;
    const char *order_id = ob_row_text(sh, SHIPMENTS_ORDER_ID);
    if (!order_id) return 0; /* a case belongs to an order: a shipment without one has no workbench */
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_ORDERS), order_id, &order, err) != 0) return -1;
    ob_row *c = ob_row_with_defaults(ctx, OB_TABLE_NDR_RECORDS);
    ob_row_set_text(ctx->arena, c, NDR_RECORDS_SHIPMENT_ID, shipment_id);
    ob_row_set_text(ctx->arena, c, NDR_RECORDS_ORDER_ID, order_id);
    ob_row_set_text(ctx->arena, c, NDR_RECORDS_REASON_CODE, reason_code(s->reason));
    ob_row_set_text(ctx->arena, c, NDR_RECORDS_REASON_DESCRIPTION, s->reason);
    ob_row_set_text(ctx->arena, c, NDR_RECORDS_NDR_DATE, at);
    ob_row_set_text(ctx->arena, c, NDR_RECORDS_CUSTOMER_NAME, ob_row_text(order, ORDERS_CUSTOMER_NAME));
    ob_row_set_text(ctx->arena, c, NDR_RECORDS_CUSTOMER_PHONE, ob_row_text(order, ORDERS_CUSTOMER_PHONE));
    ob_row_set_text(ctx->arena, c, NDR_RECORDS_CUSTOMER_ADDRESS, ob_row_text(order, ORDERS_SHIPPING_ADDRESS));
    /* cash on delivery is money not yet collected: those cases go first */
    const char *pm = ob_row_text(order, ORDERS_PAYMENT_METHOD);
    ob_row_set_text(ctx->arena, c, NDR_RECORDS_PRIORITY, pm && !strcmp(pm, "cod") ? "high" : "medium");
    int64_t ms;
    char due[11];
    if (ob_ts_parse(at, &ms) == 0) {
        if (due_date(ctx, ms, due, err) != 0) return -1;
        ob_row_set_text(ctx->arena, c, NDR_RECORDS_DUE_DATE, due);
    }
    if (ob_crud_insert_row(ctx, c, err) != 0) return -1;
    ob_row *stored; /* numbered by the insert */
    if (ob_sql_load_internal(ctx, t, ob_row_id(c), &stored, err) != 0 ||
        ob_ndr_notify(ctx, "ndr_opened", stored, NULL, NULL, err) != 0)
        return -1;
    return ob_ndr_rules_queue(ctx, ob_row_id(c), 1, err);
}

int ob_ndr_delivered(ob_ctx *ctx, const char *shipment_id, ob_err *err)
{
    const char *id;
    if (open_case(ctx, shipment_id, &id, err) != 0) return -1;
    if (!id) return 0;
    const ob_table *t = ob_registry_find(OB_TABLE_NDR_RECORDS);
    ob_row *in = ob_row_new(ctx->arena, t), *out;
    ob_row_set_text(ctx->arena, in, NDR_RECORDS_RESOLUTION, "delivered");
    return ob_crud_run_verb(ctx, t, id, "resolve", in, &out, err);
}

/* The case closes as RTO and the shipment starts its way back. */
static int start_rto(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    ob_row_set_text(ctx->arena, row, NDR_RECORDS_RESOLUTION, "rto");
    ob_row_set_text(ctx->arena, row, NDR_RECORDS_RESOLVED_AT, ctx->now);
    const ob_table *t = ob_registry_find(OB_TABLE_SHIPMENTS);
    ob_row *sh;
    if (ob_sql_load_internal(ctx, t, ob_row_text(row, NDR_RECORDS_SHIPMENT_ID), &sh, err) != 0) return -1;
    ob_row *to = ob_row_copy(ctx->arena, sh);
    ob_row_set_text(ctx->arena, to, SHIPMENTS_STATUS, "rto_initiated");
    ob_row_set_text(ctx->arena, to, SHIPMENTS_RTO_INITIATED_AT, ctx->now);
    if (ob_crud_save(ctx, sh, to, "rto", err) != 0) return -1;
    return ob_shipment_moves_order(ctx, ob_row_text(sh, SHIPMENTS_ORDER_ID), "rto_initiated", err);
}

OB_EFFECT_FN(ob_ndr_rto)
{
    (void)old;
    return start_rto(ctx, row, err);
}

/* Another failed attempt; what follows from it (RTO at the third by
 * default) is the NDR rules' to decide, after this transaction. */
OB_EFFECT_FN(ob_ndr_fail)
{
    (void)ctx;
    (void)err;
    ob_row_set_int(row, NDR_RECORDS_ATTEMPT_COUNT, ob_row_int(old, NDR_RECORDS_ATTEMPT_COUNT, 1) + 1);
    return 0;
}

OB_EFFECT_FN(ob_ndr_resolve)
{
    (void)old;
    (void)err;
    if (ob_row_is_null(row, NDR_RECORDS_RESOLUTION))
        ob_row_set_text(ctx->arena, row, NDR_RECORDS_RESOLUTION, "delivered");
    ob_row_set_text(ctx->arena, row, NDR_RECORDS_RESOLVED_AT, ctx->now);
    return 0;
}

OB_ACTION_FN(ob_ndr_assign)
{
    (void)old;
    (void)err;
    ob_row_set_text(ctx->arena, row, NDR_RECORDS_ASSIGNED_TO, ob_row_text(ctx->input, NDR_RECORDS_ASSIGN_IN_USER_ID));
    ob_row_set_text(ctx->arena, row, NDR_RECORDS_ASSIGNED_AT, ctx->now);
    return 0;
}

static ob_row *action_row(ob_ctx *ctx, const ob_row *ndr, const char *type)
{
    ob_row *a = ob_row_with_defaults(ctx, OB_TABLE_NDR_ACTIONS);
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_NDR_ID, ob_row_id(ndr));
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_ACTION_TYPE, type);
    return a;
}

OB_ACTION_FN(ob_ndr_act)
{
    (void)row;
    const ob_row *in = ctx->input;
    ob_row *a = action_row(ctx, old, ob_row_text(in, NDR_RECORDS_ACT_IN_ACTION_TYPE));
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_CALL_STATUS, ob_row_text(in, NDR_RECORDS_ACT_IN_CALL_STATUS));
    if (!ob_row_is_null(in, NDR_RECORDS_ACT_IN_CALL_DURATION_SECONDS))
        ob_row_set_int(a, NDR_ACTIONS_CALL_DURATION_SECONDS, ob_row_int(in, NDR_RECORDS_ACT_IN_CALL_DURATION_SECONDS, 0));
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_MESSAGE_CONTENT, ob_row_text(in, NDR_RECORDS_ACT_IN_MESSAGE_CONTENT));
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_MESSAGE_STATUS, ob_row_text(in, NDR_RECORDS_ACT_IN_MESSAGE_STATUS));
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_OUTCOME, ob_row_text(in, NDR_RECORDS_ACT_IN_OUTCOME));
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_OUTCOME_NOTES, ob_row_text(in, NDR_RECORDS_ACT_IN_OUTCOME_NOTES));
    return ob_crud_insert_row(ctx, a, err);
}

/* How many times a reattempt request is put to the courier (the job's
 * attempts, spaced by the queue's back-off) before it is given up. */
#define REATTEMPT_TRIES 3

/* The shipment's courier: its configuration (settings parsed; the caller
 * decrefs cfg->settings), adapter and AWB. 422 when the shipment was not
 * booked with a courier opsbase has an adapter for. */
static int courier_of(ob_ctx *ctx, const char *shipment_id, ob_courier_config *cfg, const ob_courier_adapter **ad,
                      const char **awb, ob_err *err)
{
    ob_row *sh, *cfg_row;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_SHIPMENTS), shipment_id, &sh, err) != 0) return -1;
    const char *cfg_id = ob_row_text(sh, SHIPMENTS_COURIER_CONFIG_ID);
    *awb = ob_row_text(sh, SHIPMENTS_AWB_NUMBER);
    if (!cfg_id || !*awb) return ob_err_set(err, OB_E_UNPROCESSABLE, "the shipment was not booked with a courier");
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_COURIER_CONFIGS), cfg_id, &cfg_row, err) != 0) return -1;
    const char *type = ob_row_text(cfg_row, COURIER_CONFIGS_COURIER_TYPE_CODE);
    *ad = ob_courier_adapter_for(type);
    if (!*ad) return ob_err_set(err, OB_E_UNPROCESSABLE, "opsbase has no adapter for courier type %.50s", type);
    const char *settings_text = ob_row_text(cfg_row, COURIER_CONFIGS_SETTINGS);
    *cfg = (ob_courier_config){cfg_id, type, settings_text ? json_loads(settings_text, 0, NULL) : NULL};
    return 0;
}

/* The request is recorded pending and the job ndr.reattempt puts it to the
 * courier after this transaction: a courier that refuses or is down is asked
 * again with back-off, and the case is not held up by it. A shipment with
 * no courier to ask is 422 at once. */
OB_ACTION_FN(ob_ndr_reattempt)
{
    (void)row;
    const ob_row *in = ctx->input;
    ob_courier_config cfg;
    const ob_courier_adapter *ad;
    const char *awb;
    if (courier_of(ctx, ob_row_text(old, NDR_RECORDS_SHIPMENT_ID), &cfg, &ad, &awb, err) != 0) return -1;
    json_decref((json_t *)cfg.settings);
    ob_row *a = action_row(ctx, old, "reattempt_request");
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_REATTEMPT_DATE, ob_row_text(in, NDR_RECORDS_REATTEMPT_IN_DATE));
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_NEW_ADDRESS, ob_row_text(in, NDR_RECORDS_REATTEMPT_IN_NEW_ADDRESS));
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_NEW_PHONE, ob_row_text(in, NDR_RECORDS_REATTEMPT_IN_NEW_PHONE));
    ob_row_set_text(ctx->arena, a, NDR_ACTIONS_REQUEST_STATUS, "pending");
    ob_row_set_int(a, NDR_ACTIONS_REQUEST_ATTEMPTS, 0);
    if (ob_crud_insert_row(ctx, a, err) != 0) return -1;
    const char *payload = ob_arena_printf(ctx->arena, "{\"action_id\":\"%s\"}", ob_row_id(a));
    return ob_job_enqueue(ctx, "ndr.reattempt", payload, REATTEMPT_TRIES, err);
}

/* The request the job names, or NULL when it is not pending any more. */
static int pending_request(ob_ctx *ctx, const ob_row *job, ob_row **out, ob_err *err)
{
    *out = NULL;
    json_t *pl = json_loads(ob_row_text(job, JOBS_PAYLOAD) ? ob_row_text(job, JOBS_PAYLOAD) : "{}", 0, NULL);
    const char *id = json_string_value(json_object_get(pl, "action_id"));
    id = id ? ob_arena_strdup(ctx->arena, id) : NULL;
    json_decref(pl);
    if (!id) return ob_err_set(err, OB_E_VALIDATION, "the payload needs action_id");
    ob_row *a;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_NDR_ACTIONS), id, &a, err) != 0) {
        if (err->code != OB_E_NOT_FOUND) return -1;
        ob_err_clear(err); /* its case was deleted since */
        return 0;
    }
    const char *st = ob_row_text(a, NDR_ACTIONS_REQUEST_STATUS);
    if (st && !strcmp(st, "pending")) *out = a;
    return 0;
}

/* ndr.reattempt {action_id}: one try, on a reader, outside the tenant's
 * write lock (a courier's API may be slow). */
int ob_ndr_reattempt_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    ob_row *a, *ndr;
    if (pending_request(ctx, job, &a, err) != 0) return -1;
    if (!a) {
        ob_sb_adds(result, "{\"skipped\":true}");
        return 0;
    }
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_NDR_RECORDS), ob_row_text(a, NDR_ACTIONS_NDR_ID), &ndr,
                             err) != 0)
        return -1;
    ob_courier_config cfg;
    const ob_courier_adapter *ad;
    const char *awb;
    if (courier_of(ctx, ob_row_text(ndr, NDR_RECORDS_SHIPMENT_ID), &cfg, &ad, &awb, err) != 0) return -1;
    int rc = ad->reattempt(ctx, &cfg, awb, ob_row_text(a, NDR_ACTIONS_REATTEMPT_DATE),
                           ob_row_text(a, NDR_ACTIONS_NEW_ADDRESS), ob_row_text(a, NDR_ACTIONS_NEW_PHONE), err);
    json_decref((json_t *)cfg.settings);
    if (rc == 0) ob_sb_adds(result, "{\"sent\":true}");
    return rc;
}

/* The try's outcome on the request, in the transaction that records the
 * job: sent; or, refused before the last try, the job fails and the queue
 * tries again after its back-off; refused at the last, failed for good. */
int ob_ndr_reattempt_settle(ob_ctx *ctx, const ob_row *job, int jrc, const ob_err *jerr, ob_sb *result,
                            ob_err *err)
{
    (void)result;
    ob_row *a;
    if (pending_request(ctx, job, &a, err) != 0) return -1;
    if (!a) return jrc == 0 ? 0 : (*err = *jerr, -1);
    int64_t tries = ob_row_int(job, JOBS_ATTEMPTS, 1), max = ob_row_int(job, JOBS_MAX_ATTEMPTS, REATTEMPT_TRIES);
    if (jrc != 0 && tries < max) {
        *err = *jerr;
        return -1;
    }
    ob_row *na = ob_row_copy(ctx->arena, a);
    ob_row_set_int(na, NDR_ACTIONS_REQUEST_ATTEMPTS, tries);
    ob_row_set_text(ctx->arena, na, NDR_ACTIONS_REQUEST_STATUS, jrc == 0 ? "sent" : "failed");
    if (jrc != 0) ob_row_set_text(ctx->arena, na, NDR_ACTIONS_REQUEST_ERROR, ob_arena_printf(ctx->arena, "%.1900s", jerr->message));
    if (ob_crud_save(ctx, a, na, jrc == 0 ? "sent" : "failed", err) != 0) return -1;
    if (jrc != 0) return 0;
    /* the courier has it: the buyer hears of the new date */
    ob_row *ndr;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_NDR_RECORDS), ob_row_text(a, NDR_ACTIONS_NDR_ID), &ndr,
                             err) != 0)
        return -1;
    return ob_ndr_notify(ctx, "ndr_reattempt_scheduled", ndr, ob_row_text(a, NDR_ACTIONS_REATTEMPT_DATE), NULL, err);
}
