/* hooks.c - security area: the settings row stays, templates record their
 * author (who closed an alert is a declared stamp, tables.c). */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/security/rules.h"
#include "domain/security/security.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "jobs/jobs.h"
#include "domain/notify/notify.h"
#include "schema/sql.h"
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

static int template_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    return ob_rule_stamp_user(ctx, row, PERMISSION_TEMPLATES_CREATED_BY, false, err);
}

const ob_hooks ob_permission_template_hooks = {.before_create = template_before_create};

/* An approved export is written by a job (the API's exports.produce) in this
 * transaction's outbox, so the file exists exactly when the approval does. */
OB_EFFECT_FN(ob_export_approved)
{
    (void)old;
    char payload[80];
    snprintf(payload, sizeof payload, "{\"export_id\":\"%s\"}", ob_row_id(row));
    return ob_job_enqueue(ctx, "exports.produce", payload, 3, err);
}

/* A new-device or new-address sign-in is told to the user as well, through
 * the tenant's "security_alert" template ({{alert_type}}, {{description}},
 * {{ip_address}}, {{created_at}}); without one the alert is only listed. */
static int alert_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    const char *type = ob_row_text(row, SECURITY_ALERTS_ALERT_TYPE), *uid = ob_row_text(row, SECURITY_ALERTS_USER_ID);
    if (!uid || !type || strncmp(type, "new_", 4) != 0) return 0;
    ob_row *u;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_USERS), uid, &u, err) != 0) return -1;
    json_t *vars = json_pack("{s:s, s:s, s:s?, s:s}", "alert_type", type, "description",
                             ob_row_text(row, SECURITY_ALERTS_DESCRIPTION), "ip_address",
                             ob_row_text(row, SECURITY_ALERTS_IP_ADDRESS), "created_at", ctx->now);
    int rc = ob_notify_vars(ctx, "security_alert", ob_row_text(u, USERS_EMAIL), vars, "security_alerts", ob_row_id(row),
                            NULL, err);
    json_decref(vars);
    if (rc != 0 && err->code == OB_E_UNPROCESSABLE) return 0; /* no such template */
    return rc;
}

const ob_hooks ob_security_alert_hooks = {.after_create = alert_after_create};
