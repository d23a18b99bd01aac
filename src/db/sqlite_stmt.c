/* sqlite_stmt.c - the per-connection statement cache, binding, stepping and
 * column access.
 *
 * Cache: a fixed hash table keyed by the SQL text (FNV-1a, then strcmp) plus
 * an LRU list. At OB_SQLITE_STMT_CAP statements the least recently used idle
 * one is finalized. A statement is "busy" from ob_db_prepare to ob_stmt_done;
 * preparing the same text while its cached statement is busy (a nested loop
 * over the same query) yields a one-off statement that ob_stmt_done finalizes,
 * so a running statement is never reset under its user. */
#include <stdlib.h>
#include <string.h>

#include "db/sqlite_int.h"
#include "db/dlist.h"
#include "base/banned.h"


static void lru_unlink(ob_conn *c, ob_stmt *p)
{
    OB_DLIST_UNLINK(c->lru_head, c->lru_tail, p);
}

static void lru_push(ob_conn *c, ob_stmt *p)
{
    OB_DLIST_PUSH(c->lru_head, c->lru_tail, p);
}

static void oneoff_unlink(ob_conn *c, ob_stmt *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        c->oneoff = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void stmt_free(ob_stmt *p)
{
    sqlite3_finalize(p->st);
    free(p->sql);
    free(p);
}

/* Drop a cached statement from bucket and LRU, and free it. */
static void cache_remove(ob_conn *c, ob_stmt *p)
{
    ob_stmt **pp = &c->buckets[p->hash & (OB_SQLITE_STMT_BUCKETS - 1)];
    while (*pp != p)
        pp = &(*pp)->hnext;
    *pp = p->hnext;
    lru_unlink(c, p);
    c->nstmts--;
    stmt_free(p);
}

static void cache_evict_one(ob_conn *c)
{
    for (ob_stmt *p = c->lru_tail; p; p = p->prev)
        if (!p->busy) {
            cache_remove(c, p);
            return;
        }
    /* All busy: let the cache grow past its bound rather than fail. */
}

/* True when only whitespace and semicolons remain. */
static bool sql_rest_empty(const char *s)
{
    for (; s && *s; s++)
        if (*s != ';' && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

int ob_sqlite_prepare(ob_conn *c, const char *sql, ob_stmt **out, ob_err *err)
{
    *out = NULL;
    uint64_t h = ob_db_sql_hash(sql);
    ob_stmt **bucket = &c->buckets[h & (OB_SQLITE_STMT_BUCKETS - 1)];
    ob_stmt *hit = NULL;
    for (ob_stmt *p = *bucket; p; p = p->hnext)
        if (p->hash == h && strcmp(p->sql, sql) == 0) {
            hit = p;
            break;
        }
    if (hit && !hit->busy) {
        hit->busy = true;
        lru_unlink(c, hit);
        lru_push(c, hit);
        *out = hit;
        return 0;
    }
    if (!hit && c->nstmts >= OB_SQLITE_STMT_CAP)
        cache_evict_one(c);

    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    unsigned flags = hit ? 0 : SQLITE_PREPARE_PERSISTENT;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, flags, &st, &tail);
    if (rc != SQLITE_OK)
        return ob_sqlite_fail(err, c->db, rc);
    if (!st)
        return ob_sqlite_err(err, OB_E_INTERNAL, "database error: empty statement");
    if (!sql_rest_empty(tail)) {
        sqlite3_finalize(st);
        return ob_sqlite_err(err, OB_E_INTERNAL,
                             "database error: one statement per prepare (use ob_db_exec for several)");
    }

    ob_stmt *p = ob_sqlite_xcalloc(1, sizeof *p);
    p->ops = &ob_sqlite_ops;
    p->st = st;
    p->conn = c;
    p->busy = true;
    if (hit) {
        p->next = c->oneoff;
        if (c->oneoff)
            c->oneoff->prev = p;
        c->oneoff = p;
    } else {
        p->cached = true;
        p->sql = ob_sqlite_xstrdup(sql);
        p->hash = h;
        p->hnext = *bucket;
        *bucket = p;
        lru_push(c, p);
        c->nstmts++;
    }
    *out = p;
    return 0;
}

void ob_sqlite_stmt_done(ob_stmt *st)
{
    if (!st)
        return;
    if (!st->cached) {
        oneoff_unlink(st->conn, st);
        stmt_free(st);
        return;
    }
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
    st->busy = false;
}

void ob_sqlite_stmts_reset(ob_conn *c)
{
    for (ob_stmt *p = c->lru_head; p; p = p->next)
        if (p->busy) {
            sqlite3_reset(p->st);
            sqlite3_clear_bindings(p->st);
            p->busy = false;
        }
    while (c->oneoff) {
        ob_stmt *p = c->oneoff;
        oneoff_unlink(c, p);
        stmt_free(p);
    }
}

void ob_sqlite_stmts_free(ob_conn *c)
{
    ob_sqlite_stmts_reset(c);
    while (c->lru_head)
        cache_remove(c, c->lru_head);
}

int ob_sqlite_stmt_bind(ob_stmt *st, int idx, const ob_value *v, ob_err *err)
{
    int rc;
    switch (v->t) {
    case OB_V_NULL:
        rc = sqlite3_bind_null(st->st, idx);
        break;
    case OB_V_INT:
        rc = sqlite3_bind_int64(st->st, idx, v->i);
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
    case OB_V_DEC:
        /* SQLite stores exact decimals as integer minor units; the schema
         * layer knows the scale and formats them. */
        rc = sqlite3_bind_int64(st->st, idx, v->i);
        break;
    default:
        return ob_sqlite_err(err, OB_E_INTERNAL, "database error: unknown value type %d", (int)v->t);
    }
    return rc == SQLITE_OK ? 0 : ob_sqlite_fail(err, st->conn->db, rc);
}

int ob_sqlite_stmt_step(ob_stmt *st, ob_err *err)
{
    int rc = sqlite3_step(st->st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return ob_sqlite_fail(err, st->conn->db, rc);
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
