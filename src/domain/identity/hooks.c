/* hooks.c - rules of the identity area: owners and system roles are
 * protected, the owner role is given only by an owner, and the agent role
 * obeys the plan's agent limit. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/identity/identity.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "schema/ctx.h"
#include "base/banned.h"

static int user_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    if (ob_row_int(old, "is_owner", 0)) return ob_err_set(err, OB_E_UNPROCESSABLE, "the tenant owner cannot be deleted");
    if (ctx->who && ctx->who->user_id && strcmp(ctx->who->user_id, ob_row_text(old, "id")) == 0)
        return ob_err_set(err, OB_E_UNPROCESSABLE, "you cannot delete your own account");
    return 0;
}

static int user_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)ctx;
    if (ob_row_int(old, "is_owner", 0) && !ob_row_int(row, "is_active", 1))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the tenant owner cannot be deactivated");
    return 0;
}

const ob_hooks ob_user_hooks = {
    .before_update = user_before_update,
    .before_delete = user_before_delete,
};

static int role_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    (void)ctx;
    if (ob_row_int(old, "is_system", 0))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the system role \"%s\" cannot be deleted", ob_row_text(old, "code"));
    return 0;
}

const ob_hooks ob_role_hooks = {.before_delete = role_before_delete};

static int role_code(ob_ctx *ctx, const char *role_id, char out[101], ob_err *err)
{
    ob_row *r;
    if (ob_sql_load_internal(ctx, ob_registry_find("roles"), role_id, &r, err) != 0) return -1;
    snprintf(out, 101, "%s", ob_row_text(r, "code"));
    return 0;
}

static int user_role_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    char code[101];
    const char *role_id = ob_row_text(row, "role_id"), *user_id = ob_row_text(row, "user_id");
    if (!role_id || !user_id) return 0; /* validation reports the missing field */
    if (role_code(ctx, role_id, code, err) != 0) {
        if (err->code != OB_E_NOT_FOUND) return -1;
        ob_err_set(err, OB_E_UNPROCESSABLE, "\"role_id\" refers to a roles record that does not exist");
        ob_err_field_add(err, "role_id", "refers to a record that does not exist");
        err->code = OB_E_UNPROCESSABLE;
        return -1;
    }
    ob_row_set_text(ctx->arena, row, "assigned_by", ctx->who ? ctx->who->user_id : NULL);
    if (strcmp(code, "owner") == 0 && ctx->who && !ctx->who->is_owner && !ctx->who->is_system)
        return ob_err_set(err, OB_E_FORBIDDEN, "only an owner can give the owner role");
    if (strcmp(code, "agent") != 0 || !ctx->tenant || ctx->tenant->agent_limit < 0) return 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT COUNT(DISTINCT ur.user_id) FROM user_roles ur JOIN roles r ON r.id = ur.role_id "
                      "JOIN users u ON u.id = ur.user_id WHERE r.code = 'agent' AND ur.status = 'active' "
                      "AND u.deleted_at IS NULL AND u.is_active AND ur.user_id <> ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, user_id, err);
    int64_t n = 0;
    int rc = ob_stmt_step(st, err);
    if (rc == 1) n = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (n >= ctx->tenant->agent_limit)
        return ob_err_set(err, OB_E_PLAN_LIMIT, "agent limit reached: the plan allows %lld agents",
                          (long long)ctx->tenant->agent_limit);
    return 0;
}

const ob_hooks ob_user_role_hooks = {.before_create = user_role_before_create};
