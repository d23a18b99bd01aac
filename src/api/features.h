/* features.h - which features a tenant has, for the gate's feature step.
 *
 * Routes of a table carry the feature of the table's permission module (the
 * map in features.c: "ndr" -> "ndr_management", ...); a tenant has a feature
 * when its plan includes it or a super admin's tenant_features row turns it
 * on, and not when such a row turns it off (platform/tenants.h). The answer
 * is cached per tenant for OB_FEATURES_TTL_MS, so a change made by another
 * process takes effect within that time.
 */
#ifndef OB_API_FEATURES_H
#define OB_API_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"
#include "schema/ctx.h"

#define OB_FEATURES_TTL_MS 5000

/* The feature code the routes of a permission module need, or NULL. */
const char *ob_feature_of_module(const char *module);
/* The i-th entry of the map (module and its feature), or NULL past its end:
 * for /auth/me, which tells the console which areas the plan leaves out. */
const char *ob_feature_module_at(size_t i, const char **feature);
/* Whether tenant t has feature code (one of the map's). */
int ob_feature_enabled(ob_store *s, const ob_tenant_info *t, const char *code, int64_t now_ms, bool *on,
                       ob_err *err);
/* Forget every cached answer (tests). */
void ob_features_clear(void);

#endif
