/* ndr_auto.c - the job ndr.rules: one failed attempt of an NDR case meets
 * the tenant's ndr_rules (declared in ndr_rules.c). It runs after the scan's
 * transaction, on the writer, so what the matched rule does (a reattempt
 * request, a message, an escalation, RTO) and the ndr_rule_runs row that
 * logs it commit with the job. A courier's refusal or a missing template is
 * the rule's outcome (failed, with the reason), not the job's failure. */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "domain/logistics/courier.h"
#include "domain/logistics/logistics.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* The attempt that starts RTO when no rule says otherwise. */
#define RTO_ATTEMPT 3

#define TEMPLATE_FOLLOW_UP "ndr_follow_up"

int ob_ndr_rules_queue(ob_ctx *ctx, const char *ndr_id, int64_t attempt, ob_err *err)
{
    const char *payload = ob_arena_printf(ctx->arena, "{\"ndr_id\":\"%s\",\"attempt\":%lld}", ndr_id, (long long)attempt);
    return ob_job_enqueue(ctx, "ndr.rules", payload, 5, err);
}

typedef struct rule {
    const char *id, *name, *action, *created_by;
} rule;

/* The first active rule, by position, matching the attempt. An order
 * without a payment method matches only rules for any mode. */
static int first_rule(ob_ctx *ctx, const char *reason, const char *mode, int64_t attempt, rule *r, bool *found,
                      ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\", \"name\", \"action\", \"created_by\" FROM \"ndr_rules\" WHERE \"is_active\" = ? "
                      "AND (\"reason_code\" IS NULL OR \"reason_code\" = ?) "
                      "AND (\"payment_mode\" IS NULL OR \"payment_mode\" = ?) "
                      "AND (\"min_attempt\" IS NULL OR \"min_attempt\" <= ?) "
                      "AND (\"max_attempt\" IS NULL OR \"max_attempt\" >= ?) "
                      "ORDER BY \"position\", \"created_at\", \"id\" LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_value on = ob_v_bool(true);
    ob_stmt_bind(st, 1, &on, err);
    ob_stmt_bind_text(st, 2, reason, err);
    ob_stmt_bind_text(st, 3, mode, err);
    ob_stmt_bind_i64(st, 4, attempt, err);
    ob_stmt_bind_i64(st, 5, attempt, err);
    int rc = ob_stmt_step(st, err);
    *found = rc == 1;
    if (rc == 1) {
        r->id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        r->name = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 1, NULL));
        r->action = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 2, NULL));
        r->created_by = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 3, NULL));
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

static int log_run(ob_ctx *ctx, const char *ndr_id, int64_t attempt, const rule *r, const char *action,
                   const char *outcome, const char *detail, ob_err *err)
{
    ob_row *l = ob_row_with_defaults(ctx, OB_TABLE_NDR_RULE_RUNS);
    ob_row_set_text(ctx->arena, l, NDR_RULE_RUNS_NDR_ID, ndr_id);
    ob_row_set_int(l, NDR_RULE_RUNS_ATTEMPT, attempt);
    ob_row_set_text(ctx->arena, l, NDR_RULE_RUNS_RULE_ID, r ? r->id : NULL);
    ob_row_set_text(ctx->arena, l, NDR_RULE_RUNS_RULE_NAME, r ? r->name : "default");
    ob_row_set_text(ctx->arena, l, NDR_RULE_RUNS_ACTION, action);
    ob_row_set_text(ctx->arena, l, NDR_RULE_RUNS_OUTCOME, outcome);
    ob_row_set_text(ctx->arena, l, NDR_RULE_RUNS_DETAIL, detail);
    ob_row_set_text(ctx->arena, l, NDR_RULE_RUNS_RAN_AT, ctx->now);
    return ob_crud_insert_row(ctx, l, err);
}

/* Ask the courier for another attempt the next day (UTC), through the
 * case's reattempt action as a person would, recorded as the rule's
 * author's request. */
static int reattempt_next_day(ob_ctx *ctx, const ob_table *t, const char *id, const rule *r, const char **detail,
                              ob_err *err)
{
    char day[11];
    ob_date_format(ctx->now_ms / 86400000 + 1, day);
    json_t *body = json_pack("{ss}", "date", day);
    ob_row *in, *out;
    int rc = ob_crud_verb_body(ctx, t, "reattempt", body, &in, err);
    json_decref(body);
    if (rc != 0) return -1;
    ob_principal as = *ctx->who;
    as.user_id = r->created_by;
    const ob_principal *was = ctx->who;
    ctx->who = &as;
    rc = ob_crud_run_verb(ctx, t, id, "reattempt", in, &out, err);
    ctx->who = was;
    if (rc == 0) *detail = ob_arena_printf(ctx->arena, "reattempt requested for %s", day);
    return rc;
}

static int act(ob_ctx *ctx, const ob_table *t, const ob_row *c, const rule *r, const char *action,
               const char **detail, ob_err *err)
{
    const char *id = ob_row_id(c);
    ob_row *out;
    if (!strcmp(action, "rto")) return ob_crud_run_verb(ctx, t, id, "rto", NULL, &out, err);
    if (!strcmp(action, "reattempt_next_day")) return reattempt_next_day(ctx, t, id, r, detail, err);
    if (!strcmp(action, "escalate")) {
        ob_row *row = ob_row_copy(ctx->arena, c);
        ob_row_set_text(ctx->arena, row, NDR_RECORDS_PRIORITY, "urgent");
        return ob_crud_save(ctx, c, row, "escalate", err);
    }
    if (!strcmp(action, "notify")) {
        bool sent;
        if (ob_ndr_notify(ctx, TEMPLATE_FOLLOW_UP, c, NULL, &sent, err) != 0) return -1;
        if (!sent)
            return ob_err_set(err, OB_E_UNPROCESSABLE, "nothing sent: the case has no phone or the template %s is "
                              "not active", TEMPLATE_FOLLOW_UP);
        *detail = TEMPLATE_FOLLOW_UP " sent to the buyer";
        return 0;
    }
    return 0; /* hold */
}

/* ndr.rules {ndr_id, attempt} */
int ob_ndr_rules_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    const char *p = ob_row_text(job, JOBS_PAYLOAD);
    json_t *pl = json_loads(p ? p : "{}", 0, NULL);
    const char *ndr_id = json_string_value(json_object_get(pl, "ndr_id"));
    ndr_id = ndr_id ? ob_arena_strdup(ctx->arena, ndr_id) : NULL;
    int64_t attempt = json_is_integer(json_object_get(pl, "attempt")) ? json_integer_value(json_object_get(pl, "attempt")) : 0;
    json_decref(pl);
    if (!ndr_id || attempt < 1) return ob_err_set(err, OB_E_VALIDATION, "the payload needs ndr_id and attempt");
    const ob_table *t = ob_registry_find(OB_TABLE_NDR_RECORDS);
    ob_row *c, *order;
    if (ob_sql_load_internal(ctx, t, ndr_id, &c, err) != 0) {
        if (err->code != OB_E_NOT_FOUND) return -1;
        ob_err_clear(err); /* the case was deleted since: nothing to act on */
        ob_sb_adds(result, "{\"skipped\":\"no such case\"}");
        return 0;
    }
    const char *status = ob_row_text(c, NDR_RECORDS_STATUS);
    if (!strcmp(status, "rto") || !strcmp(status, "resolved")) {
        const char *why = ob_arena_printf(ctx->arena, "the case is %s already", status);
        ob_sb_addf(result, "{\"skipped\":\"%s\"}", why);
        return log_run(ctx, ndr_id, attempt, NULL, "none", "skipped", why, err);
    }
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_ORDERS), ob_row_text(c, NDR_RECORDS_ORDER_ID), &order,
                             err) != 0)
        return -1;
    const char *mode = ob_row_text(order, ORDERS_PAYMENT_METHOD);
    rule r;
    bool found;
    if (first_rule(ctx, ob_row_text(c, NDR_RECORDS_REASON_CODE), mode, attempt, &r, &found, err) != 0)
        return -1;
    const char *action = found ? r.action : attempt >= RTO_ATTEMPT ? "rto" : "none";
    const char *detail = NULL, *outcome = "done";
    if (!found && attempt >= RTO_ATTEMPT) detail = "no rule matched: the third failed attempt starts RTO";
    if (act(ctx, t, c, found ? &r : NULL, action, &detail, err) != 0) {
        /* the courier's or the template's refusal is what the rule met;
         * anything else (the database) fails the job, which runs again */
        if (err->code != OB_E_COURIER && err->code != OB_E_UNPROCESSABLE && err->code != OB_E_BAD_STATE) return -1;
        outcome = "failed";
        detail = ob_arena_strdup(ctx->arena, err->message);
        ob_err_clear(err);
    }
    ob_sb_addf(result, "{\"action\":\"%s\",\"outcome\":\"%s\"}", action, outcome);
    return log_run(ctx, ndr_id, attempt, found ? &r : NULL, action, outcome, detail, err);
}
