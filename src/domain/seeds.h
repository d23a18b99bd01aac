/* seeds.h - seed-row functions of the areas (listed in seeds.def). */
#ifndef OB_SEEDS_H
#define OB_SEEDS_H

#include "schema/ctx.h"
#include "schema/registry.h"

/* Insert the area's seed rows if missing. ctx->db is in a write transaction. */
typedef int (*ob_seed_fn)(ob_ctx *ctx, ob_err *err);

#define OB_SEED(scope, fn) int fn(ob_ctx *ctx, ob_err *err);
#include "domain/seeds.def"
#undef OB_SEED

/* Run every seed function of a scope. */
int ob_seeds_run(ob_ctx *ctx, ob_scope scope, ob_err *err);

#endif
