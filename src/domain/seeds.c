/* seeds.c - runs the areas' seed functions. */
#include "domain/seeds.h"
#include "base/banned.h"

typedef struct seed {
    ob_scope scope;
    ob_seed_fn fn;
} seed;

static const seed seeds[] = {
#define OB_SEED(scope, fn) {scope, fn},
#include "domain/seeds.def"
#undef OB_SEED
    {OB_SCOPE_TENANT, NULL},
};

int ob_seeds_run(ob_ctx *ctx, ob_scope scope, ob_err *err)
{
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        if (seeds[i].fn && seeds[i].scope == scope && seeds[i].fn(ctx, err) != 0) return -1;
    return 0;
}
