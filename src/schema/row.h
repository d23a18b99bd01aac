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

/* Domain code names a column by its handle (gen/columns.h: TICKETS_STATUS),
 * never by a string: a misspelt handle does not compile, and a handle of
 * another table aborts with both names on first use (a programming error any
 * test reaching the line catches). The check is a pointer or string compare
 * of table names; the index is the handle's, verified against the registry
 * at start-up (ob_registry_use_handles). */
const ob_value *ob_row_get(const ob_row *r, ob_colh c);
/* Text of a text-like column, or NULL when null/unset. */
const char *ob_row_text(const ob_row *r, ob_colh c);
/* int, bool or decimal (minor units); dflt when null/unset. */
int64_t ob_row_int(const ob_row *r, ob_colh c, int64_t dflt);
bool ob_row_is_null(const ob_row *r, ob_colh c);
/* Whether the column holds a value at all, null included (given in a body,
 * defaulted or loaded), e.g. an optional field of an action's input. */
bool ob_row_is_set(const ob_row *r, ob_colh c);

/* The implicit id of a row of any table (NULL for an action's input). */
const char *ob_row_id(const ob_row *r);

void ob_row_set_text(ob_arena *a, ob_row *r, ob_colh c, const char *s); /* copies; NULL sets null */
void ob_row_set_int(ob_row *r, ob_colh c, int64_t v);                    /* decimals: minor units */
void ob_row_set_bool(ob_row *r, ob_colh c, bool v);
void ob_row_set_null(ob_row *r, ob_colh c);

/* The engine's own access, by column index (ob_table.id_col, a column found
 * by iterating the table, a name taken from a declaration through
 * ob_row_col). Indexes are trusted: they come from the row's own table. */
int ob_row_col(const ob_row *r, const char *name); /* index; aborts on an unknown name */
const char *ob_row_text_at(const ob_row *r, int i);
void ob_row_set_text_at(ob_arena *a, ob_row *r, int i, const char *s);
void ob_row_set_int_at(ob_row *r, int i, int64_t v);
void ob_row_set_null_at(ob_row *r, int i);

/* Load every column from the current result row of st, which selected the
 * table's columns in declaration order (see ob_sql_select_cols). */
void ob_row_load(ob_arena *a, ob_row *r, ob_stmt *st);
/* The same, with sealed (OB_ENCRYPTED) values left sealed as stored: for
 * copies that must never hold a secret in clear (backups, exports). */
void ob_row_load_stored(ob_arena *a, ob_row *r, ob_stmt *st);

/* Compare one column of two rows (same table). */
bool ob_row_col_equal(const ob_row *a, const ob_row *b, int col);

#endif
