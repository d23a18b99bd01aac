/* row.h - one row of a table as values aligned with the table's columns.
 *
 * Text-like values (text, enum, ref, id, timestamp, date, json) are
 * NUL-terminated strings in the arena; int and bool in v.i; decimals as minor
 * units in v.i with the column's scale; reals in v.r. `set` marks columns that
 * hold a value (given by the client, defaulted, or loaded).
 */
#ifndef OB_ROW_H
#define OB_ROW_H

#include <stdbool.h>

#include "base/arena.h"
#include "base/strbuf.h"
#include "db/db.h"
#include "schema/registry.h"

struct ob_row {
    const ob_table *t;
    ob_value *v;
    bool *set;
};

ob_row *ob_row_new(ob_arena *a, const ob_table *t);
ob_row *ob_row_copy(ob_arena *a, const ob_row *src);

/* By column name; aborts on an unknown name (a programming error). */
const ob_value *ob_row_get(const ob_row *r, const char *col);
/* Text of a text-like column, or NULL when null/unset. */
const char *ob_row_text(const ob_row *r, const char *col);
int64_t ob_row_int(const ob_row *r, const char *col, int64_t dflt);
bool ob_row_is_null(const ob_row *r, const char *col);

void ob_row_set_text(ob_arena *a, ob_row *r, const char *col, const char *s); /* copies; NULL sets null */
void ob_row_set_int(ob_row *r, const char *col, int64_t v);
void ob_row_set_bool(ob_row *r, const char *col, bool v);
void ob_row_set_null(ob_row *r, const char *col);

/* Load every column from the current result row of st, which selected the
 * table's columns in declaration order (see ob_sql_select_cols). */
void ob_row_load(ob_arena *a, ob_row *r, ob_stmt *st);

/* Compare one column of two rows (same table). */
bool ob_row_col_equal(const ob_row *a, const ob_row *b, int col);

#endif
