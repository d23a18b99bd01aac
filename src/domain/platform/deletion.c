/* A tenant's erasure, the super admin's side (issue 17): DELETE
 * /api/v1/platform/tenants/{id} suspends the tenant and sets the time after
 * which `opsbase tenant purge-due` (platform/deletion.c) removes it;
 * cancel_deletion restores it before then. */
#include <stdlib.h>

#include "base/base.h"
#include "domain/domains.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "gen/columns.h"
#include "base/banned.h"

#define DEFAULT_GRACE_DAYS 30

/* The grace period in days: OPSBASE_TENANT_DELETION_GRACE_DAYS (0 to 3650),
 * else 30. Read per request, so a test or an operator may change it. */
static int64_t grace_days(void)
{
    const char *v = getenv("OPSBASE_TENANT_DELETION_GRACE_DAYS");
    if (!v || !*v) return DEFAULT_GRACE_DAYS;
    char *end;
    long n = strtol(v, &end, 10);
    return (*end || n < 0 || n > 3650) ? DEFAULT_GRACE_DAYS : n;
}

OB_ACTION_FN(ob_tenant_schedule_deletion)
{
    (void)err;
    /* scheduling again keeps the first due time: the grace period never grows */
    if (!ob_row_is_null(old, TENANTS_DELETION_DUE_AT)) return 0;
    char due[OB_TS_LEN];
    ob_ts_format(ctx->now_ms + grace_days() * 86400000LL, due);
    ob_row_set_text(ctx->arena, row, TENANTS_DELETION_DUE_AT, due);
    return 0;
}

OB_ACTION_FN(ob_tenant_cancel_deletion)
{
    (void)ctx;
    if (ob_row_is_null(old, TENANTS_DELETION_DUE_AT))
        return ob_err_set(err, OB_E_BAD_STATE, "no erasure is scheduled for this tenant");
    ob_row_set_null(row, TENANTS_DELETION_DUE_AT);
    return 0;
}
