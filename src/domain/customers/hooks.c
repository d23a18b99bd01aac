/* hooks.c - customers: a readable code when none is given. */
#include "base/base.h"
#include "domain/customers/customers.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "base/banned.h"

static int customer_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (!ob_row_is_null(row, "customer_code")) return 0;
    int64_t seq;
    if (ob_sql_seq_next(ctx, "customers", &seq, err) != 0) return -1;
    ob_row_set_text(ctx->arena, row, "customer_code", ob_arena_printf(ctx->arena, "CUS-%06lld", (long long)seq));
    return 0;
}

const ob_hooks ob_customer_hooks = {.before_create = customer_before_create};
