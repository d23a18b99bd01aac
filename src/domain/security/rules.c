/* rules.c - row rules shared by the insight areas' hooks. */
#include "base/base.h"
#include "domain/security/rules.h"
#include "base/banned.h"

int ob_rule_field_error(ob_err *err, const char *col, const char *problem)
{
    ob_err_set(err, OB_E_VALIDATION, NULL);
    return ob_err_field_add(err, col, problem);
}

int ob_rule_stamp_user(ob_ctx *ctx, ob_row *row, ob_colh col, bool required, ob_err *err)
{
    if (ob_row_is_null(row, col) && ctx->who && ctx->who->user_id)
        ob_row_set_text(ctx->arena, row, col, ctx->who->user_id);
    if (required && ob_row_is_null(row, col)) return ob_rule_field_error(err, col.name, "is required");
    return 0;
}

