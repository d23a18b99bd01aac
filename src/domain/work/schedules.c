/* Schedules: a job enqueued at every slot of a cron spec, in the tenant's
 * time zone. The workers fire due slots (src/jobs/schedule.c); here the spec
 * and the kind are checked when saved, and next_run_at is set from them. */
#include <string.h>

#include "base/base.h"
#include "domain/domains.h"
#include "domain/work/work.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "gen/columns.h"
#include "base/banned.h"

static const ob_column schedule_cols[] = {
    {"name", OB_F_TEXT, .max = 200, .flags = OB_REQUIRED | OB_UNIQUE | OB_SORT | OB_SEARCH},
    {"cron", OB_F_TEXT, .max = 200, .flags = OB_REQUIRED,
     .doc = "minute hour day-of-month month day-of-week (*, lists, ranges, steps, JAN, MON), an optional "
            "seconds field first, or @hourly/@daily/@weekly/@monthly/@yearly; in the tenant's time zone"},
    {"kind", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_INDEXED,
     .doc = "the kind of job enqueued at each slot (see GET /api/v1/jobs)"},
    {"payload", OB_F_JSON, .flags = OB_REQUIRED, .dflt = "{}", .doc = "the job's input, an object"},
    {"enabled", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true",
     .doc = "a disabled schedule fires nothing; enabling it again starts from the next slot after now"},
    {"next_run_at", OB_F_TIMESTAMP, .flags = OB_SERVER | OB_SORT,
     .doc = "the next slot, in UTC; fired exactly once, then moved to the slot after it (missed slots fire once)"},
    {"last_run_at", OB_F_TIMESTAMP, .flags = OB_SERVER | OB_SORT, .doc = "the slot fired last"},
};
static const ob_index schedule_idx[] = {{"enabled,next_run_at"}};

/* Check the spec, the kind and the payload; set next_run_at when the spec
 * changed or the schedule was switched on. */
static int check(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const char *kind = ob_row_text(row, SCHEDULES_KIND), *payload = ob_row_text(row, SCHEDULES_PAYLOAD);
    /* a missing field is the validator's to refuse (400), after the hooks */
    if (!kind || !ob_row_text(row, SCHEDULES_CRON)) return 0;
    if (!ob_jobs_kind(kind))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "kind: no worker knows jobs of kind \"%.60s\"", kind);
    if (payload && payload[strspn(payload, " \t\r\n")] != '{')
        return ob_err_set(err, OB_E_UNPROCESSABLE, "payload: must be a JSON object");
    bool on = ob_row_int(row, SCHEDULES_ENABLED, 1) != 0;
    bool spec_changed = !old || strcmp(ob_row_text(old, SCHEDULES_CRON), ob_row_text(row, SCHEDULES_CRON)) != 0;
    bool switched_on = old && on && ob_row_int(old, SCHEDULES_ENABLED, 1) == 0;
    if (!spec_changed && !switched_on) return 0;
    const ob_tz *z;
    char next[OB_TS_LEN];
    if (ob_jobs_tenant_zone(ctx->store, ctx->tenant->slug, &z, err) != 0) return -1;
    if (ob_schedule_next(z, ob_row_text(row, SCHEDULES_CRON), ctx->now_ms, next, err) != 0) {
        err->code = OB_E_UNPROCESSABLE;
        return -1;
    }
    ob_row_set_text(ctx->arena, row, SCHEDULES_NEXT_RUN_AT, next);
    return 0;
}

static int schedule_before_create(ob_ctx *ctx, ob_row *row, ob_err *err) { return check(ctx, NULL, row, err); }

static int schedule_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    return check(ctx, old, row, err);
}

static const ob_hooks schedule_hooks = {.before_create = schedule_before_create,
                                        .before_update = schedule_before_update};

const ob_resource ob_res_schedules = {
    .table = "schedules", .doc = "jobs enqueued on a cron spec in the tenant's time zone, each slot exactly once",
    OB_COLS(schedule_cols), OB_INDEXES(schedule_idx), OB_CONFIG_PERMS("schedules"), .hooks = &schedule_hooks,
    .default_sort = "name", .since = 3,
};
