/* quota.h - plan quotas declared on tables (ob_resource.quota). */
#ifndef OB_QUOTA_H
#define OB_QUOTA_H

#include "schema/ctx.h"
#include "schema/registry.h"

/* Take one slot of t's quota for this month in ctx's write transaction;
 * OB_E_PLAN_LIMIT (403) when the plan's limit is used up. No-op for a table
 * without a quota, a tenant without a limit, or no tenant (provisioning). */
int ob_quota_take(ob_ctx *ctx, const ob_table *t, ob_err *err);

/* The tenant's limit of kind l (-1: none). */
int64_t ob_quota_limit(const ob_tenant_info *ti, ob_tenant_limit l);

#endif
