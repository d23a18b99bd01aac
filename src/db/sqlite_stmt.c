/* sqlite_stmt.c - SQLite statements for the core's cache (core_stmt.c):
 * preparing, resetting, finalizing, binding, stepping and column access. */
#include <stdlib.h>
#include <string.h>

#include "db/sqlite_int.h"
#include "base/banned.h"

/* True when only whitespace and semicolons remain. */
static bool sql_rest_empty(const char *s)
{
    for (; s && *s; s++)
        if (*s != ';' && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

int ob_sqlite_stmt_make(ob_conn *c, const char *sql, ob_stmt *parent, ob_stmt **out, ob_err *err)
{
    /* A one-off is finalized at ob_stmt_done: not worth SQLite's long-lived
     * allocation. */
    unsigned flags = parent ? 0 : SQLITE_PREPARE_PERSISTENT;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, flags, &st, &tail);
    if (rc != SQLITE_OK)
        return ob_sqlite_fail(err, c->db, rc);
    if (!st)
        return ob_db_err(err, OB_E_INTERNAL, "database error: empty statement");
    if (!sql_rest_empty(tail)) {
        sqlite3_finalize(st);
        return ob_db_err(err, OB_E_INTERNAL,
                         "database error: one statement per prepare (use ob_db_exec for several)");
    }
    ob_stmt *p = ob_db_xcalloc(1, sizeof *p);
    p->base.ops = c->base.ops;
    p->base.nparams = sqlite3_bind_parameter_count(st);
    p->st = st;
    *out = p;
    return 0;
}

void ob_sqlite_stmt_reset(ob_stmt *st)
{
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
}

void ob_sqlite_stmt_free(ob_stmt *st, bool server_side)
{
    (void)server_side; /* everything is in this process */
    sqlite3_finalize(st->st);
    free(st->base.sql);
    free(st);
}

/* The core has checked idx and the type. */
int ob_sqlite_stmt_bind(ob_stmt *st, int idx, const ob_value *v, ob_err *err)
{
    int rc;
    switch (v->t) {
    case OB_V_NULL:
        rc = sqlite3_bind_null(st->st, idx);
        break;
    case OB_V_BOOL:
        rc = sqlite3_bind_int(st->st, idx, v->i != 0);
        break;
    case OB_V_REAL:
        rc = sqlite3_bind_double(st->st, idx, v->r);
        break;
    case OB_V_TEXT:
        /* TRANSIENT: sqlite copies, so the caller's buffer may be an arena
         * string that is reused before the step. A NULL pointer binds NULL. */
        rc = sqlite3_bind_text64(st->st, idx, v->s, v->n, SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
    case OB_V_INT:
    case OB_V_DEC:
    default:
        /* SQLite stores exact decimals as integer minor units; the schema
         * layer knows the scale and formats them. */
        rc = sqlite3_bind_int64(st->st, idx, v->i);
        break;
    }
    sqlite3 *db = ((ob_conn *)(void *)st->base.conn)->db;
    return rc == SQLITE_OK ? 0 : ob_sqlite_fail(err, db, rc);
}

int ob_sqlite_stmt_step(ob_stmt *st, ob_err *err)
{
    int rc = sqlite3_step(st->st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return ob_sqlite_fail(err, ((ob_conn *)(void *)st->base.conn)->db, rc);
}

int ob_sqlite_stmt_ncols(ob_stmt *st)
{
    return sqlite3_column_count(st->st);
}

const char *ob_sqlite_stmt_col_name(ob_stmt *st, int i)
{
    return sqlite3_column_name(st->st, i);
}

ob_vtype ob_sqlite_stmt_col_type(ob_stmt *st, int i)
{
    switch (sqlite3_column_type(st->st, i)) {
    case SQLITE_INTEGER:
        return OB_V_INT;
    case SQLITE_FLOAT:
        return OB_V_REAL;
    case SQLITE_NULL:
        return OB_V_NULL;
    default: /* TEXT, and BLOB which opsbase never stores */
        return OB_V_TEXT;
    }
}

int64_t ob_sqlite_stmt_col_i64(ob_stmt *st, int i)
{
    return sqlite3_column_int64(st->st, i);
}

double ob_sqlite_stmt_col_f64(ob_stmt *st, int i)
{
    return sqlite3_column_double(st->st, i);
}

const char *ob_sqlite_stmt_col_text(ob_stmt *st, int i, size_t *n)
{
    /* text first, then bytes: the documented safe order */
    const char *t = (const char *)sqlite3_column_text(st->st, i);
    if (n)
        *n = t ? (size_t)sqlite3_column_bytes(st->st, i) : 0;
    return t;
}
