/* core_stmt.c - the per-connection statement cache of both engines, and the
 * bind check.
 *
 * Cache: a fixed hash table keyed by the SQL text (ob_db_hash, then strcmp)
 * plus an LRU list. At the driver's stmt_cap the least recently used idle
 * statement is freed. A statement is "busy" from ob_db_prepare to
 * ob_stmt_done; preparing the same text while its cached statement is busy (a
 * nested loop over the same query) yields a one-off handle that ob_stmt_done
 * frees, so a running statement is never reset under its user. A cached
 * statement is not freed while one-off handles made from it live (PostgreSQL's
 * one-offs share its server-side statement).
 *
 * Binds: the index is checked against the statement's placeholders here, and
 * a statement with a failed bind refuses to step until it is done, so a
 * caller that overlooks a bind's result still cannot run the statement with
 * a value missing. */
#include <string.h>

#include "base/clock.h"
#include "db/core.h"
#include "db/dlist.h"
#include "base/banned.h"

static void oneoff_push(ob_db_conn *c, ob_db_stmt *p)
{
    p->prev = NULL;
    p->next = c->oneoff;
    if (c->oneoff)
        c->oneoff->prev = p;
    c->oneoff = p;
}

static void oneoff_free(ob_db_conn *c, ob_db_stmt *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        c->oneoff = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
    if (p->parent)
        p->parent->oneoffs--;
    c->drv->stmt_free((ob_stmt *)p, true);
}

static ob_db_stmt **bucket_of(ob_db_conn *c, uint64_t h)
{
    return &c->buckets[h & (OB_DB_STMT_BUCKETS - 1)];
}

/* Drop a cached statement from its bucket and the LRU, and free it. */
static void cache_remove(ob_db_conn *c, ob_db_stmt *p, bool server_side)
{
    ob_db_stmt **pp = bucket_of(c, p->hash);
    while (*pp != p)
        pp = &(*pp)->hnext;
    *pp = p->hnext;
    OB_DLIST_UNLINK(c->lru_head, c->lru_tail, p);
    c->nstmts--;
    c->drv->stmt_free((ob_stmt *)p, server_side);
}

static void cache_evict_one(ob_db_conn *c)
{
    for (ob_db_stmt *p = c->lru_tail; p; p = p->prev)
        if (!p->busy && !p->oneoffs) {
            cache_remove(c, p, true);
            return;
        }
    /* All busy: let the cache grow past its bound rather than fail. */
}

static void stmt_reset(ob_db_conn *c, ob_db_stmt *p)
{
    c->drv->stmt_reset((ob_stmt *)p);
    p->bind_errors = 0;
    p->busy = false;
    p->steps = 0;
    p->run_us = p->rows = 0;
}

int ob_db_core_prepare(ob_conn *conn, const char *sql, ob_stmt **out, ob_err *err)
{
    ob_db_conn *c = OB_DB_CONN(conn);
    *out = NULL;
    uint64_t h = ob_db_hash(sql);
    ob_db_stmt **bucket = bucket_of(c, h);
    ob_db_stmt *hit = NULL;
    for (ob_db_stmt *p = *bucket; p; p = p->hnext)
        if (p->hash == h && strcmp(p->sql, sql) == 0) {
            hit = p;
            break;
        }
    if (hit && !hit->busy) {
        hit->busy = true;
        OB_DLIST_UNLINK(c->lru_head, c->lru_tail, hit);
        OB_DLIST_PUSH(c->lru_head, c->lru_tail, hit);
        *out = (ob_stmt *)hit;
        return 0;
    }
    if (!hit && c->nstmts >= c->drv->stmt_cap)
        cache_evict_one(c);

    ob_stmt *made;
    if (c->drv->stmt_make(conn, sql, (ob_stmt *)hit, &made, err))
        return -1;
    ob_db_stmt *p = OB_DB_STMT(made);
    p->conn = c;
    p->busy = true;
    if (hit) {
        p->parent = hit;
        hit->oneoffs++;
        oneoff_push(c, p);
    } else {
        p->cached = true;
        p->sql = ob_db_xstrdup(sql);
        p->hash = h;
        p->hnext = *bucket;
        *bucket = p;
        OB_DLIST_PUSH(c->lru_head, c->lru_tail, p);
        c->nstmts++;
    }
    *out = made;
    return 0;
}

void ob_db_core_stmt_done(ob_stmt *st)
{
    ob_db_stmt *p = OB_DB_STMT(st);
    if (p->steps)
        ob_db_core_timing_record(p);
    p->steps = 0;
    p->run_us = p->rows = 0;
    if (!p->cached) {
        oneoff_free(p->conn, p);
        return;
    }
    stmt_reset(p->conn, p);
}

void ob_db_core_stmts_reset(ob_conn *conn)
{
    ob_db_conn *c = OB_DB_CONN(conn);
    for (ob_db_stmt *p = c->lru_head; p; p = p->next)
        if (p->busy)
            stmt_reset(c, p);
    while (c->oneoff)
        oneoff_free(c, c->oneoff);
}

void ob_db_core_stmts_free(ob_conn *conn, bool server_side)
{
    ob_db_conn *c = OB_DB_CONN(conn);
    ob_db_core_stmts_reset(conn);
    while (c->lru_head)
        cache_remove(c, c->lru_head, server_side);
}

int ob_db_core_bind(ob_stmt *st, int idx, const ob_value *v, ob_err *err)
{
    ob_db_stmt *p = OB_DB_STMT(st);
    int rc;
    if (idx < 1 || idx > p->nparams)
        rc = ob_db_err(err, OB_E_INTERNAL, "database error: parameter %d out of range (the statement has %d)",
                       idx, p->nparams);
    else if (v->t < OB_V_NULL || v->t > OB_V_DEC)
        rc = ob_db_err(err, OB_E_INTERNAL, "database error: unknown value type %d", (int)v->t);
    else
        rc = p->ops->bind(st, idx, v, err);
    if (rc)
        p->bind_errors++;
    return rc;
}

int ob_db_core_step(ob_stmt *st, ob_err *err)
{
    ob_db_stmt *p = OB_DB_STMT(st);
    if (p->bind_errors)
        return ob_db_err(err, OB_E_INTERNAL,
                         "database error: the statement has a value that could not be bound");
    /* only the time inside the engine counts, not the caller's work between rows */
    int64_t t0 = ob_mono_us();
    int rc = p->ops->step(st, err);
    p->run_us += ob_mono_us() - t0;
    p->steps++;
    if (rc == 1)
        p->rows++;
    return rc;
}
