/* seeds.c - finance seed rows: every tenant starts with its one company
 * profile, named after the tenant, so clients read and PATCH it rather than
 * having to create it first. */
#include "base/base.h"
#include "domain/seeds.h"
#include "base/banned.h"

int ob_seed_finance(ob_ctx *ctx, ob_err *err)
{
    const char *name = "Company";
    if (ctx->tenant && ctx->tenant->name && *ctx->tenant->name) name = ctx->tenant->name;
    else if (ctx->tenant && ctx->tenant->slug && *ctx->tenant->slug) name = ctx->tenant->slug;
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_stmt *st;
    /* idempotent without a unique key: insert only into an empty table */
    if (ob_db_prepare(ctx->db,
                      "INSERT INTO company_settings (id, created_at, updated_at, version, company_name) "
                      "SELECT ?, ?, ?, 1, ? WHERE NOT EXISTS (SELECT 1 FROM company_settings)",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, id, err);
    ob_stmt_bind_text(st, 2, ctx->now, err);
    ob_stmt_bind_text(st, 3, ctx->now, err);
    ob_stmt_bind_text(st, 4, name, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}
