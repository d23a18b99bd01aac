/* hooks.c - security area: the settings row stays, templates record their
 * author (who closed an alert is a declared stamp, tables.c). */
#include <stdio.h>

#include "base/base.h"
#include "domain/security/rules.h"
#include "domain/security/security.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "jobs/jobs.h"
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
