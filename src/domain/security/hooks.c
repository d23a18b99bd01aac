/* hooks.c - security area: the settings row stays, alerts record who closed
 * them, templates their author. */
#include <string.h>

#include "base/base.h"
#include "domain/security/rules.h"
#include "domain/security/security.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "gen/columns.h"
#include "base/banned.h"

static int settings_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    (void)ctx;
    (void)old;
    /* every check of the security settings reads this one row */
    return ob_err_set(err, OB_E_UNPROCESSABLE, "the tenant's security settings cannot be deleted; change them instead");
}

const ob_hooks ob_security_settings_hooks = {.before_delete = settings_before_delete};

static bool is_closed(const char *status)
{
    return ob_streq(status, "resolved") || ob_streq(status, "false_positive");
}

/* resolved_by/resolved_at describe the current closure: set on closing,
 * cleared when an alert is reopened. */
static void stamp_resolution(ob_ctx *ctx, const char *old_status, ob_row *row)
{
    const char *status = ob_row_text(row, SECURITY_ALERTS_STATUS);
    if (is_closed(status) && !is_closed(old_status)) {
        ob_row_set_text(ctx->arena, row, SECURITY_ALERTS_RESOLVED_BY, ctx->who ? ctx->who->user_id : NULL);
        ob_row_set_text(ctx->arena, row, SECURITY_ALERTS_RESOLVED_AT, ctx->now);
    } else if (!is_closed(status)) {
        ob_row_set_null(row, SECURITY_ALERTS_RESOLVED_BY);
        ob_row_set_null(row, SECURITY_ALERTS_RESOLVED_AT);
    }
}

static int alert_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)err;
    stamp_resolution(ctx, NULL, row);
    return 0;
}

static int alert_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)err;
    stamp_resolution(ctx, ob_row_text(old, SECURITY_ALERTS_STATUS), row);
    return 0;
}

const ob_hooks ob_security_alert_hooks = {
    .before_create = alert_before_create,
    .before_update = alert_before_update,
};

static int template_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    return ob_rule_stamp_user(ctx, row, PERMISSION_TEMPLATES_CREATED_BY, false, err);
}

const ob_hooks ob_permission_template_hooks = {.before_create = template_before_create};
