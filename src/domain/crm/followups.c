/* followups.c - 003's follow-ups: a communication with follow_up_required
 * and a follow_up_date that has passed (and is not cancelled) is overdue;
 * the job crm.follow_ups (scheduled every 15 minutes in every tenant) tells
 * the user who recorded it, once, by the notification template
 * crm_follow_up_overdue (seeded; a tenant may edit or deactivate it: while
 * it is inactive nothing is sent and nothing is marked, so the notice goes
 * out once it is active again). follow_up_notified_at records the notice;
 * moving the follow-up clears it (hooks.c). */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "domain/crm/crm.h"
#include "domain/notify/notify.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define TEMPLATE "crm_follow_up_overdue"
/* Follow-ups told in one run; the next run takes the rest. */
#define BATCH 200

static int template_active(ob_ctx *ctx, bool *active, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT COUNT(*) FROM \"notification_templates\" WHERE \"code\" = ? AND \"is_active\" = ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, TEMPLATE, err);
    ob_value yes = ob_v_bool(true);
    ob_sql_bind_value(st, 2, &yes, err);
    int rc = ob_stmt_step(st, err);
    *active = rc == 1 && ob_stmt_col_i64(st, 0) > 0;
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Tell the creator about one follow-up and mark it told. */
static int tell(ob_ctx *ctx, ob_row *comm, ob_err *err)
{
    ob_row *user, *cust;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_USERS),
                             ob_row_text(comm, CUSTOMER_COMMUNICATION_HISTORY_CREATED_BY), &user, err) != 0 ||
        ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_CUSTOMERS),
                             ob_row_text(comm, CUSTOMER_COMMUNICATION_HISTORY_CUSTOMER_ID), &cust, err) != 0)
        return -1;
    const char *name = ob_row_text(cust, CUSTOMERS_NAME);
    if (!name) name = ob_row_text(cust, CUSTOMERS_COMPANY_NAME);
    const char *subject = ob_row_text(comm, CUSTOMER_COMMUNICATION_HISTORY_SUBJECT);
    json_t *vars = json_pack("{s:s, s:s, s:s}", "customer_name", name ? name : "", "subject", subject ? subject : "",
                             "follow_up_date", ob_row_text(comm, CUSTOMER_COMMUNICATION_HISTORY_FOLLOW_UP_DATE));
    int rc = ob_notify_vars(ctx, TEMPLATE, ob_row_text(user, USERS_EMAIL), vars, "customer_communication_history",
                            ob_row_id(comm), NULL, err);
    json_decref(vars);
    if (rc != 0) return -1;
    ob_row *next = ob_row_copy(ctx->arena, comm);
    ob_row_set_text(ctx->arena, next, CUSTOMER_COMMUNICATION_HISTORY_FOLLOW_UP_NOTIFIED_AT, ctx->now);
    return ob_crud_save(ctx, comm, next, "update", err);
}

int ob_crm_follow_ups_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    (void)job;
    bool active;
    if (template_active(ctx, &active, err) != 0) return -1;
    if (!active) {
        ob_sb_adds(result, "{\"notified\":0,\"template\":\"inactive\"}");
        return 0;
    }
    const ob_table *t = ob_registry_find(OB_TABLE_CUSTOMER_COMMUNICATION_HISTORY);
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"customer_communication_history\" WHERE \"follow_up_required\" = ? "
                                      "AND \"follow_up_date\" < ? AND \"status\" <> 'cancelled' "
                                      "AND \"follow_up_notified_at\" IS NULL ORDER BY \"follow_up_date\", \"id\" LIMIT %d",
                                      ob_sql_cols(t), BATCH);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_value yes = ob_v_bool(true);
    ob_sql_bind_value(st, 1, &yes, err);
    ob_stmt_bind_text(st, 2, ctx->now, err);
    ob_row **due = ob_arena_alloc(ctx->arena, BATCH * sizeof *due);
    int n = 0, rc;
    while ((rc = ob_stmt_step(st, err)) == 1 && n < BATCH) {
        due[n] = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, due[n++], st);
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    for (int i = 0; i < n; i++)
        if (tell(ctx, due[i], err) != 0) return -1;
    ob_sb_addf(result, "{\"notified\":%d}", n);
    return 0;
}

/* The template and the schedule, once per tenant. */
int ob_crm_seed_follow_ups(ob_ctx *ctx, ob_err *err)
{
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(ctx->now)};
    /* variables as compact JSON, the engine's form: an export compares rows byte for byte */
    if (ob_sql_run(ctx->db,
                   "INSERT INTO \"notification_templates\" (\"id\", \"created_at\", \"updated_at\", \"version\", "
                   "\"name\", \"code\", \"type\", \"subject\", \"body\", \"variables\", \"is_active\") VALUES (?, ?, ?, 1, "
                   "'Follow-up overdue', '" TEMPLATE "', 'email', 'Follow-up overdue: {{customer_name}}', "
                   "'The follow-up \"{{subject}}\" with {{customer_name}} was due {{follow_up_date}}.', "
                   "'[\"customer_name\",\"subject\",\"follow_up_date\"]', TRUE) ON CONFLICT DO NOTHING",
                   v, 3, err) != 0)
        return -1;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT 1 FROM \"schedules\" WHERE \"kind\" = 'crm.follow_ups' LIMIT 1", &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc != 0) return rc < 0 ? -1 : 0;
    const ob_tz *utc;
    char next[OB_TS_LEN];
    if (ob_tz_get("UTC", &utc, err) != 0 || ob_schedule_next(utc, "*/15 * * * *", ctx->now_ms, next, err) != 0)
        return -1;
    ob_uuid7(id);
    ob_value s[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(next)};
    return ob_sql_run(ctx->db,
                      "INSERT INTO \"schedules\" (\"id\", \"created_at\", \"updated_at\", \"version\", \"name\", "
                      "\"cron\", \"kind\", \"payload\", \"enabled\", \"next_run_at\") VALUES (?, ?, ?, 1, "
                      "'tell users of overdue follow-ups', '*/15 * * * *', 'crm.follow_ups', '{}', TRUE, ?) "
                      "ON CONFLICT DO NOTHING",
                      s, 4, err);
}
