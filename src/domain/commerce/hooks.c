/* hooks.c - commerce: readable numbers when none are given. */
#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "base/banned.h"

/* Fill col with PREFIX-000001 from the per-tenant counter seq when absent. */
static int fill_number(ob_ctx *ctx, ob_row *row, const char *col, const char *seq, const char *prefix, ob_err *err)
{
    if (!ob_row_is_null(row, col)) return 0;
    int64_t n;
    if (ob_sql_seq_next(ctx, seq, &n, err) != 0) return -1;
    ob_row_set_text(ctx->arena, row, col, ob_arena_printf(ctx->arena, "%s-%06lld", prefix, (long long)n));
    return 0;
}

static int order_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    return fill_number(ctx, row, "order_number", "orders", "ORD", err);
}

const ob_hooks ob_order_hooks = {.before_create = order_before_create};
