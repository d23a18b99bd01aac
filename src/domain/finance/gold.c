/* gold.c - the gold shop's money and metal: the rate in force, and the
 * company profile's rate columns, which only follow the metal_rates table. */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "domain/finance/finance.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"


int ob_metal_rate_at(ob_ctx *ctx, const char *metal, int64_t purity, const char *at, int64_t *rate, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_METAL_RATES);
    /* the latest effective_from not after `at`; two rates of one instant: the later entered */
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"metal_rates\" WHERE \"metal\" = ? AND \"purity\" = ? "
                                      "AND \"effective_from\" <= ? ORDER BY \"effective_from\" DESC, \"id\" DESC LIMIT 1",
                                      ob_sql_cols(t));
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, metal, err);
    ob_stmt_bind_i64(st, 2, purity, err);
    ob_stmt_bind_text(st, 3, at, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        /* through a row: decimals are minor units on SQLite, NUMERIC on PostgreSQL */
        ob_row *r = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, r, st);
        *rate = ob_row_int(r, METAL_RATES_RATE_PER_GRAM, 0);
    }
    ob_stmt_done(st);
    return rc;
}

/* The company profile's columns and the metal and purity each shows. */
static const struct {
    const char *metal;
    int64_t purity;
} shown[] = {{"gold", 999}, {"gold", 916}, {"gold", 750}, {"silver", 999}};

/* After a rate is entered, the profile shows the rates in force now (a rate
 * dated in the future shows from the next rate entered after it starts). */
static int rate_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_COMPANY_SETTINGS);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT \"id\" FROM \"company_settings\" ORDER BY \"created_at\" LIMIT 1", &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    const char *id = rc == 1 ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)) : NULL;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (!id) return 0;
    ob_row *old;
    if (ob_sql_load_internal(ctx, t, id, &old, err) != 0) return -1;
    ob_row *cs = ob_row_copy(ctx->arena, old);
    const ob_colh cols[] = {COMPANY_SETTINGS_GOLD_RATE_24K_PER_GRAM, COMPANY_SETTINGS_GOLD_RATE_22K_PER_GRAM,
                            COMPANY_SETTINGS_GOLD_RATE_18K_PER_GRAM, COMPANY_SETTINGS_SILVER_RATE_PER_GRAM};
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        int64_t rate;
        int found = ob_metal_rate_at(ctx, shown[i].metal, shown[i].purity, ctx->now, &rate, err);
        if (found < 0) return -1;
        if (found) ob_row_set_int(cs, cols[i], rate);
    }
    ob_row_set_text(ctx->arena, cs, COMPANY_SETTINGS_GOLD_RATE_SOURCE, ob_row_text(row, METAL_RATES_SOURCE));
    ob_row_set_text(ctx->arena, cs, COMPANY_SETTINGS_GOLD_RATE_UPDATED_AT, ctx->now);
    return ob_crud_save(ctx, old, cs, "update", err);
}

const ob_hooks ob_metal_rate_hooks = {.after_create = rate_after_create};
