/* quota.c - plan quotas as counters: one per tenant, table and month in the
 * sequences table, bumped by one upsert in the creating transaction (a
 * refused or failed create rolls it back; on PostgreSQL the counter's row lock
 * orders concurrent creates, so two cannot take the last slot). The first
 * create of a month starts the counter from the rows created that month
 * before it existed, so an upgrade keeps counting what was there. */
#include <stdio.h>

#include "base/base.h"
#include "base/uuid.h"
#include "schema/quota.h"
#include "schema/sql.h"
#include "base/banned.h"

int64_t ob_quota_limit(const ob_tenant_info *ti, ob_tenant_limit l)
{
    if (!ti) return -1;
    switch (l) {
    case OB_LIMIT_TICKETS_MONTH: return ti->ticket_limit;
    case OB_LIMIT_ORDERS_MONTH: return ti->orders_month_limit;
    default: return -1;
    }
}

int ob_quota_take(ob_ctx *ctx, const ob_table *t, ob_err *err)
{
    const ob_quota *q = t->res->quota;
    if (!q) return 0;
    int64_t limit = ob_quota_limit(ctx->tenant, q->limit);
    if (limit < 0) return 0;
    char from[OB_TS_LEN];
    snprintf(from, sizeof from, "%.7s-01T00:00:00.000Z", ctx->now);
    /* the same name the support desk used before quotas were declared */
    const char *name = ob_arena_printf(ctx->arena, "%s_created:%.7s", t->name, ctx->now);
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    const char *sql = ob_arena_printf(ctx->arena,
                                      "INSERT INTO sequences (id, created_at, name, value) SELECT ?, ?, ?, COUNT(*) "
                                      "FROM \"%s\" WHERE created_at >= ? ON CONFLICT (name) DO NOTHING",
                                      t->name);
    ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(name), ob_v_text(from)};
    if (ob_sql_run(ctx->db, sql, v, 4, err) != 0) return -1;
    int64_t n;
    if (ob_sql_seq_next(ctx, name, &n, err) != 0) return -1;
    if (n > limit)
        return ob_err_set(err, OB_E_PLAN_LIMIT, "plan limit reached: the plan allows %lld %s a month, %lld used",
                          (long long)limit, q->what, (long long)(n - 1));
    return 0;
}
