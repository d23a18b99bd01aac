/* seed.c - the security area's seed rows: the tenant's settings row. */
#include "base/base.h"
#include "domain/seeds.h"
#include "schema/sql.h"
#include "base/banned.h"

int ob_seed_security(ob_ctx *ctx, ob_err *err)
{
    /* every other column takes its declared default (001's values), so the
     * defaults live in the registry only */
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(ctx->now)};
    return ob_sql_run(ctx->db,
                      "INSERT INTO security_settings (id, created_at, updated_at, version, scope) "
                      "VALUES (?, ?, ?, 1, 'tenant') ON CONFLICT (scope) DO NOTHING",
                      v, 3, err);
}
