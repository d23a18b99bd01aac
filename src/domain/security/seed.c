/* seed.c - the security area's seed rows: the tenant's settings row. */
#include "base/base.h"
#include "domain/seeds.h"
#include "base/banned.h"

int ob_seed_security(ob_ctx *ctx, ob_err *err)
{
    /* every other column takes its declared default (001's values), so the
     * defaults live in the registry only */
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "INSERT INTO security_settings (id, created_at, updated_at, version, scope) "
                      "VALUES (?, ?, ?, 1, 'tenant') ON CONFLICT (scope) DO NOTHING",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, id, err);
    ob_stmt_bind_text(st, 2, ctx->now, err);
    ob_stmt_bind_text(st, 3, ctx->now, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}
