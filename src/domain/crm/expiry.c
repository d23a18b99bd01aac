/* expiry.c - 003's loyalty points expire (the job kind loyalty.expire, run
 * daily by each tenant's schedule). A positive entry with an expiry_date
 * counts until that day; redemptions, earlier expiries and other negative
 * entries are taken from the points that expire first. So on a day D what
 * has expired unspent is, per customer,
 *     (positive points with expiry_date before D) - (all negative points),
 * when above 0 and at most the balance; it leaves through one "expired"
 * entry of the points ledger, which moves customers.loyalty_points like any
 * other, so the ledger still sums to the balance. Running the job again on
 * the same day finds nothing: its own entry counts as spent. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/analytics/analytics.h"
#include "domain/crm/crm.h"
#include "domain/seeds.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"

/* Customers expired in one run; the next run takes the rest. */
#define EXPIRE_BATCH 1000

int ob_loyalty_expire_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    /* payload.date (YYYY-MM-DD): the day to expire as of, default today in
     * the tenant's zone (a point valid until D is spent or gone on D + 1 there) */
    const char *p = ob_row_text(job, JOBS_PAYLOAD);
    int64_t day;
    if (ob_kpi_today(ctx, &day, err) != 0) return -1;
    json_t *pj = json_loads(p ? p : "{}", 0, NULL);
    const char *given = json_string_value(json_object_get(pj, "date"));
    int bad = given && ob_date_parse(given, &day) != 0;
    json_decref(pj);
    if (bad) return ob_err_set(err, OB_E_UNPROCESSABLE, "date must be YYYY-MM-DD");
    char date[11];
    ob_date_format(day, date);

    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT l.\"customer_id\", "
                      "SUM(CASE WHEN l.\"points\" > 0 AND l.\"expiry_date\" < ? THEN l.\"points\" ELSE 0 END) "
                      "+ SUM(CASE WHEN l.\"points\" < 0 THEN l.\"points\" ELSE 0 END), MIN(c.\"loyalty_points\") "
                      "FROM \"customer_loyalty_points\" l JOIN \"customers\" c ON c.\"id\" = l.\"customer_id\" "
                      "GROUP BY l.\"customer_id\" HAVING SUM(CASE WHEN l.\"points\" > 0 AND l.\"expiry_date\" < ? "
                      "THEN l.\"points\" ELSE 0 END) + SUM(CASE WHEN l.\"points\" < 0 THEN l.\"points\" ELSE 0 END) > 0 "
                      "ORDER BY l.\"customer_id\" LIMIT 1000",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, date, err);
    ob_stmt_bind_text(st, 2, date, err);
    struct {
        const char *customer_id;
        int64_t points;
    } *due = ob_arena_alloc(ctx->arena, EXPIRE_BATCH * sizeof *due);
    int n = 0, rc;
    while ((rc = ob_stmt_step(st, err)) == 1 && n < EXPIRE_BATCH) {
        int64_t lapsed = ob_stmt_col_i64(st, 1), balance = ob_stmt_col_i64(st, 2);
        if (lapsed > balance) lapsed = balance; /* a ledger corrected by hand: never below 0 */
        if (lapsed <= 0) continue;
        due[n].customer_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        due[n++].points = lapsed;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        ob_row *e = ob_row_with_defaults(ctx, OB_TABLE_CUSTOMER_LOYALTY_POINTS);
        ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_CUSTOMER_ID, due[i].customer_id);
        ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_TRANSACTION_TYPE, "expired");
        ob_row_set_int(e, CUSTOMER_LOYALTY_POINTS_POINTS, -due[i].points);
        ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_DESCRIPTION,
                        ob_arena_printf(ctx->arena, "points whose expiry date is before %s", date));
        if (ob_crud_insert_row(ctx, e, err) != 0) return -1;
        total += due[i].points;
    }
    ob_sb_addf(result, "{\"date\":\"%s\",\"customers\":%d,\"points\":%lld}", date, n, (long long)total);
    return 0;
}

/* ---- seed ---- */

/* The daily schedule, one per tenant (a tenant may change its time or
 * disable it; one that deletes it gets it back from the next migration's
 * seeding). */
int ob_seed_crm(ob_ctx *ctx, ob_err *err)
{
    if (ob_crm_seed_follow_ups(ctx, err) != 0) return -1;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT 1 FROM \"schedules\" WHERE \"kind\" = 'loyalty.expire' LIMIT 1", &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc != 0) return rc < 0 ? -1 : 0;
    const ob_tz *utc;
    char next[OB_TS_LEN];
    if (ob_tz_get("UTC", &utc, err) != 0 || ob_schedule_next(utc, "10 0 * * *", ctx->now_ms, next, err) != 0)
        return -1;
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(next)};
    return ob_sql_run(ctx->db,
                      "INSERT INTO \"schedules\" (\"id\", \"created_at\", \"updated_at\", \"version\", \"name\", "
                      "\"cron\", \"kind\", \"payload\", \"enabled\", \"next_run_at\") VALUES (?, ?, ?, 1, "
                      "'expire loyalty points', '10 0 * * *', 'loyalty.expire', '{}', TRUE, ?) "
                      "ON CONFLICT DO NOTHING",
                      v, 4, err);
}
