/* dialect.c - the two engines' SQL dialects (dialect.h). */
#include "db/dialect.h"
#include "base/banned.h"

/* Decimals are integer minor units, booleans 0/1 and timestamps RFC 3339
 * text: SQLite has no such types, and these compare and sort correctly. */
static const ob_dialect sqlite_dialect = {
    .engine = OB_DB_SQLITE,
    .t_int = "INTEGER", .t_decimal = "INTEGER", .t_real = "REAL", .t_bool = "INTEGER",
    .t_timestamp = "TEXT", .t_date = "TEXT", .t_json = "TEXT",
    .decimal_as_minor = true, .bool_as_int = true, .json_check = true,
    .text_length = "length", .inline_refs = true, .fts5 = true, .version_stamp = true,
    .ilike = "LIKE", /* SQLite's LIKE ignores ASCII case already */
};

/* PostgreSQL reads timestamps back in opsbase's RFC 3339 form
 * (db/pg_stmt.c). json, not jsonb: it keeps the stored text, so both engines
 * return the same bytes (jsonb reorders keys and respaces); opsbase never
 * queries inside JSON. */
static const ob_dialect pg_dialect = {
    .engine = OB_DB_POSTGRES,
    .t_int = "BIGINT", .t_decimal = "NUMERIC", .t_real = "DOUBLE PRECISION", .t_bool = "BOOLEAN",
    .t_timestamp = "TIMESTAMPTZ", .t_date = "DATE", .t_json = "JSON",
    .decimal_as_minor = false, .bool_as_int = false, .json_check = false,
    .text_length = "char_length", .inline_refs = false, .fts5 = false, .version_stamp = false,
    .ilike = "ILIKE",
};

const ob_dialect *ob_dialect_of(ob_db_engine e)
{
    return e == OB_DB_POSTGRES ? &pg_dialect : &sqlite_dialect;
}
