/* seed.c - the analytics area's schedules in every tenant: KPI targets
 * measured daily (kpis.compute), the automation rules of customer.birthday
 * run daily at 09:00 (automation.run) and scheduled custom reports swept every
 * five minutes (reports.scheduled, which runs each report once per slot of
 * its own schedule, so the sweep only bounds how late a report may start);
 * and, on every migration, automation rules of the old shape rewritten in
 * the documented one (automation.c). */
#include "base/base.h"
#include "base/uuid.h"
#include "domain/analytics/analytics.h"
#include "domain/seeds.h"
#include "jobs/jobs.h"
#include "schema/sql.h"
#include "base/banned.h"

/* One schedule of kind, added once: a tenant may change its time or
 * disable it; one that deletes it gets it back from the next migration's
 * seeding. */
static int seed_schedule(ob_ctx *ctx, const char *name, const char *cron, const char *kind, const char *payload,
                         ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT 1 FROM \"schedules\" WHERE \"kind\" = ? LIMIT 1", &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, kind, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc != 0) return rc < 0 ? -1 : 0;
    const ob_tz *utc;
    char next[OB_TS_LEN];
    if (ob_tz_get("UTC", &utc, err) != 0 || ob_schedule_next(utc, cron, ctx->now_ms, next, err) != 0) return -1;
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_value v[] = {ob_v_text(id),   ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(name),
                    ob_v_text(cron), ob_v_text(kind),     ob_v_text(payload), ob_v_text(next)};
    return ob_sql_run(ctx->db,
                      "INSERT INTO \"schedules\" (\"id\", \"created_at\", \"updated_at\", \"version\", \"name\", "
                      "\"cron\", \"kind\", \"payload\", \"enabled\", \"next_run_at\") VALUES (?, ?, ?, 1, ?, ?, ?, ?, "
                      "TRUE, ?) ON CONFLICT DO NOTHING",
                      v, 8, err);
}

int ob_seed_analytics(ob_ctx *ctx, ob_err *err)
{
    if (seed_schedule(ctx, "measure KPI targets", "20 0 * * *", "kpis.compute", "{}", err) != 0 ||
        seed_schedule(ctx, "birthday greetings", "0 9 * * *", "automation.run", "{\"event\":\"customer.birthday\"}",
                      err) != 0)
        return -1;
    if (seed_schedule(ctx, "run scheduled reports", "*/5 * * * *", "reports.scheduled", "{}", err) != 0) return -1;
    /* automation rules of the old shape, rewritten once in the documented one */
    int fixed;
    return ob_automation_migrate(ctx, &fixed, err);
}
