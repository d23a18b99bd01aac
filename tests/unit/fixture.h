/* fixture.h - helpers shared by the unit tests of the schema and domain
 * layers. Every test file is its own binary, so everything here is static
 * inline: a file that does not use a helper pays nothing for it.
 *
 * Include after <cmocka.h> (the helpers assert) and before base/banned.h. */
#ifndef OB_TEST_FIXTURE_H
#define OB_TEST_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "platform/tenants.h"
#include "schema/ctx.h"
#include "schema/registry.h"
#include "schema/row.h"

/* A system context without a database: enough for parsing and validation,
 * where masking is skipped for system principals. */
typedef struct ob_fx_ctx {
    ob_arena arena;
    ob_ctx ctx;
} ob_fx_ctx;

static inline void ob_fx_ctx_init(ob_fx_ctx *f)
{
    ob_arena_init(&f->arena, 0);
    ob_ctx_system(&f->ctx, &f->arena, NULL, NULL, NULL);
}

static inline void ob_fx_ctx_release(ob_fx_ctx *f)
{
    ob_arena_release(&f->arena);
}

/* The runtime table by name; fails the test when it is not declared. */
static inline const ob_table *ob_fx_table(const char *name)
{
    const ob_table *t = ob_registry_find(name);
    assert_non_null(t);
    return t;
}

/* The declared column by name; fails the test when it is not there. */
static inline const ob_column *ob_fx_col(const char *table, const char *col)
{
    const ob_table *t = ob_fx_table(table);
    int i = ob_table_col(t, col);
    assert_true(i >= 0);
    return t->cols[i];
}

/* The problem text recorded for one field of a validation error, or NULL. */
static inline const char *ob_fx_field_problem(const ob_err *err, const char *field)
{
    for (int i = 0; i < err->nfields; i++)
        if (strcmp(err->fields[i].name, field) == 0) return err->fields[i].problem;
    return NULL;
}

static inline int ob_fx_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Make a fresh temporary directory (under $TMPDIR when set) into dir. */
static inline void ob_fx_tmpdir(char *dir, size_t n, const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, n, "%s/%s_XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
    assert_non_null(mkdtemp(dir));
}

/* Remove a directory tree made by ob_fx_tmpdir. */
static inline void ob_fx_rm_rf(const char *dir)
{
    nftw(dir, ob_fx_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
