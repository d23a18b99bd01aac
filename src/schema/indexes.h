/* indexes.h - the indexes of a table at a schema version, as the DDL makes
 * them: each column's own list index (ddl.c column_index: a filtering,
 * sorting or reference column, with the list's order after it) and the
 * declared ob_index rows, named ix_<table>_<columns>.
 *
 * Up to version OB_INDEX_FIX_SINCE - 1 the list is what those versions made:
 * every candidate, and under a name taken twice only the first (CREATE INDEX
 * IF NOT EXISTS skipped the second, so the declared UNIQUE (seq) of
 * audit_logs lost to the column's non-unique (seq, id)). From that version:
 *   - a declared UNIQUE index over exactly one column, without a WHERE, takes
 *     the place of that column's own index (as an OB_UNIQUE column has none):
 *     an equality finds at most one row, and its order is the column's, so
 *     the list's tail columns add nothing but ties among NULLs;
 *   - a non-unique index whose columns lead another index of the table (same
 *     columns, same order, directions all the same or all reversed, the same
 *     WHERE) is not made: the longer index serves every query the shorter
 *     would, a reference's lookup included. Unique indexes are always made.
 * ob_index_check refuses, at start-up, a table whose declarations give two
 * indexes one name (which the database would again silently skip).
 */
#ifndef OB_INDEXES_H
#define OB_INDEXES_H

#include <stdbool.h>
#include <stddef.h>

#include "schema/registry.h"

/* PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1) */
#define OB_INDEX_NAME_SIGNIFICANT 63

typedef struct ob_index_def {
    char name[128];          /* ix_<table>_<cols>; empty for a constraint */
    char cols[256];          /* registry syntax: "a,-b" (a leading '-' descending) */
    const char *where;       /* partial index predicate (registry text), or NULL */
    bool unique;
    bool constraint;         /* the primary key or an OB_UNIQUE column's constraint: made by
                              * CREATE TABLE, listed only because it covers other indexes */
    int since;               /* the version that made it (>= 1) */
    const char *column;      /* a column's own index: that column; else NULL */
    int decl;                /* a declared index: its position in res->indexes; else -1 */
} ob_index_def;

#define OB_INDEX_MAX 64

/* The indexes of t at version v, constraints first, then in creation order
 * (column indexes in column order, then the declared ones): how many were
 * written to out (at most max; more aborts, a declaration error). */
int ob_index_plan(const ob_table *t, int v, ob_index_def *out, int max);

/* Whether two definitions are one index (name, columns, unique, WHERE). */
bool ob_index_same(const ob_index_def *a, const ob_index_def *b);

/* The start-up check of t's indexes at version v (ob_registry_init runs it
 * at the registry's version): two declared indexes under one name, or two
 * indexes the DDL would make under one name (unique or not), fail with a
 * message naming both. 0 when none, else -1 with the message in why. */
int ob_index_check(const ob_table *t, int v, char *why, size_t whylen);

#endif
