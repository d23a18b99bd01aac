/* dialect.h - every difference in SQL text between the engines, in one
 * place. The schema layer (DDL, list queries) renders SQL from the registry
 * and asks here instead of testing the engine, so a third engine would be
 * one more table in dialect.c. Only SQL text lives here; how values are
 * bound and read back is each driver's business (src/db/README.md). */
#ifndef OB_DB_DIALECT_H
#define OB_DB_DIALECT_H

#include <stdbool.h>

#include "db/db.h"

typedef struct ob_dialect {
    ob_db_engine engine;
    /* column types of the registry's field kinds */
    const char *t_int, *t_decimal, *t_real, *t_bool, *t_timestamp, *t_date, *t_json;
    /* decimals are integer minor units (defaults and bounds are written as
     * integers), not NUMERIC literals */
    bool decimal_as_minor;
    /* booleans are integers 0/1 (with a CHECK), not true/false */
    bool bool_as_int;
    /* JSON columns need a CHECK that the text is JSON */
    bool json_check;
    const char *text_length;  /* the function counting a text's characters */
    /* a reference is declared with its column; otherwise foreign keys come
     * after every table exists */
    bool inline_refs;
    /* full text: FTS5 external-content tables kept by triggers; otherwise a
     * tsvector expression index */
    bool fts5;
    /* the schema version is also stamped in the database header, where
     * ob_db_peek_version reads it */
    bool version_stamp;
    const char *ilike;        /* case-insensitive LIKE with ESCAPE */
} ob_dialect;

const ob_dialect *ob_dialect_of(ob_db_engine e);
static inline const ob_dialect *ob_conn_dialect(const ob_conn *c)
{
    return ob_dialect_of(ob_conn_engine(c));
}

#endif
