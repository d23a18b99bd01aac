/* sqlite_pool.c - where connections live between uses.
 *
 * Why this shape: opening a tenant database parses its whole schema (several
 * hundred tables, indexes and triggers: tens of millions of instructions and
 * about a megabyte per handle), and closing the last handle of a WAL database
 * checkpoints it and fsyncs. So connections are kept open as long as memory
 * allows, and memory, not a count, decides how many stay: the budget is in
 * bytes (store->mem_budget), compared with what SQLite holds (mem_now), and
 * every connection carries its measured size (to choose how many to close).
 *
 * Slots: one per database in a hash table under store->mu, holding the
 * database's write lock (an error-checking mutex, taken with the busy
 * timeout), its writer connection and its idle readers. Readers are shared by
 * all threads: a thread takes an idle reader of the tenant from the slot and
 * puts it back on release, so N threads over T tenants need about T readers,
 * not N x T.
 *
 * Idle list: every idle connection, reader or writer, is also in one store-wide
 * list, most recently released first. Whenever SQLite holds more than the
 * budget, idle ones are closed from the cold end (outside the lock),
 * never one that is acquired: a burst may exceed the budget until its
 * connections come back. The control database's connections are not evicted
 * (every request reads it).
 *
 * Dropped tenants: ob_db_drop_tenant holds the slug's write lock while it
 * unlinks the files, then bumps the slug's drop epoch and closes its idle
 * readers under store->mu (ob_sqlite_slug_dropped). A reader acquired before
 * that remembers the old epoch and is closed, not pooled, when released. A
 * generation string passed by the caller is compared on every acquire as well,
 * which also catches a tenant recreated by another process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/sqlite_int.h"
#include "db/dlist.h"
#include "base/banned.h"

/* Re-measure a connection's memory when its statement cache changed, and
 * otherwise every this many releases (its page cache moves a little): measuring
 * walks its schema and statements, too dear for every request. */
#define REMEASURE_EVERY 256

static uint64_t slug_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static ob_sqlite_slot **slot_bucket(ob_store *s, const char *slug)
{
    return &s->slots[slug_hash(slug) & (OB_SQLITE_SLOT_BUCKETS - 1)];
}

/* The slot of slug or NULL; caller holds s->mu. */
static ob_sqlite_slot *slot_find(ob_store *s, const char *slug)
{
    for (ob_sqlite_slot *w = *slot_bucket(s, slug); w; w = w->hnext)
        if (strcmp(w->slug, slug) == 0)
            return w;
    return NULL;
}

/* Find or make the slot for slug; caller holds s->mu. */
static ob_sqlite_slot *slot_get(ob_store *s, const char *slug)
{
    ob_sqlite_slot *w = slot_find(s, slug);
    if (w)
        return w;
    ob_sqlite_slot **bucket = slot_bucket(s, slug);
    w = ob_sqlite_xcalloc(1, sizeof *w);
    snprintf(w->slug, sizeof w->slug, "%s", slug);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    /* Error-checking: a thread acquiring a writer it already holds gets an
     * error instead of deadlocking forever. */
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&w->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    w->hnext = *bucket;
    *bucket = w;
    return w;
}

/* Unhash a slot that is unused and empty, so the caller may free it after
 * dropping s->mu. Returns w when it was unhashed, NULL when it stays. */
static ob_sqlite_slot *slot_unhash_if_empty(ob_store *s, ob_sqlite_slot *w)
{
    if (w->refs || w->conn || w->readers)
        return NULL;
    ob_sqlite_slot **pp = slot_bucket(s, w->slug);
    while (*pp != w)
        pp = &(*pp)->hnext;
    *pp = w->hnext;
    w->hnext = NULL;
    return w;
}

static void slot_free(ob_sqlite_slot *w)
{
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* ------------------------------------------------------- the idle list */

/* Make c idle: at the head of the store's list and, for a reader, in its
 * slot. Caller holds s->mu. */
static void idle_push(ob_store *s, ob_sqlite_slot *w, ob_conn *c)
{
    OB_DLIST_PUSH(s->idle_head, s->idle_tail, c);
    c->idle = true;
    c->trimmed = false; /* used since: its caches may have grown */
    s->stats.idle++;
    if (c->mode == OB_DB_READ) {
        c->snext = w->readers;
        w->readers = c;
    }
}

/* Take c out of the idle list (and its slot's readers). Caller holds s->mu. */
static void idle_remove(ob_store *s, ob_sqlite_slot *w, ob_conn *c)
{
    OB_DLIST_UNLINK(s->idle_head, s->idle_tail, c);
    c->idle = false;
    s->stats.idle--;
    if (c->mode == OB_DB_READ) {
        ob_conn **pp = &w->readers;
        while (*pp != c)
            pp = &(*pp)->snext;
        *pp = c->snext;
        c->snext = NULL;
    }
}

/* Account for a connection that is being closed. Caller holds s->mu. */
static void forget(ob_store *s, ob_conn *c)
{
    s->mem -= c->bytes;
    s->stats.open--;
}

/* Closes gathered under s->mu and carried out after it is dropped: closing a
 * handle may checkpoint and fsync, which must not stall other threads. */
typedef struct graveyard {
    ob_conn *conns;       /* linked by snext */
    ob_sqlite_slot *slots; /* linked by hnext */
} graveyard;

static void bury_conn(graveyard *g, ob_conn *c)
{
    c->snext = g->conns;
    g->conns = c;
}

static void bury_slot_if_empty(ob_store *s, graveyard *g, ob_sqlite_slot *w)
{
    if (slot_unhash_if_empty(s, w)) {
        w->hnext = g->slots;
        g->slots = w;
    }
}

static void graveyard_close(graveyard *g)
{
    while (g->conns) {
        ob_conn *c = g->conns;
        g->conns = c->snext;
        ob_sqlite_conn_close(c);
    }
    while (g->slots) {
        ob_sqlite_slot *w = g->slots;
        g->slots = w->hnext;
        slot_free(w);
    }
}

/* Memory held by SQLite now. The process-wide counter is exact: it also
 * covers what a connection's own figures leave out (full-text index state,
 * lookaside, sorts under way). The sum of the connections' figures stands in
 * when SQLite was built without memory statistics. Several stores in one
 * process (tests) share the counter, which only makes each evict sooner. */
static size_t mem_now(const ob_store *s)
{
    sqlite3_int64 used = sqlite3_memory_used();
    return used > 0 ? (size_t)used : s->mem;
}

/* Apply a new size to the accounting; caller holds s->mu. */
static void resize(ob_store *s, ob_conn *c, size_t bytes)
{
    s->mem = s->mem - c->bytes + bytes;
    c->bytes = bytes;
}

/* Over the budget, first slim idle connections, coldest first: give back
 * their page caches (a page costs a pread to fetch again) and finalize their
 * cached statements (a statement costs a prepare, far less than a schema
 * parse); that leaves each with little more than its schema. Only if that is
 * not enough are idle connections closed from the cold end (a connection
 * costs a schema parse to open again). Never an acquired connection, nor a
 * control database connection (every request reads it). Caller holds s->mu:
 * an idle connection is touched by nobody else. */
static void evict(ob_store *s, graveyard *g)
{
    if (mem_now(s) <= s->mem_budget)
        return;
    ob_conn *c, *prev;
    for (c = s->idle_tail; c && mem_now(s) > s->mem_budget; c = c->prev) {
        if (!c->slug[0] || c->trimmed)
            continue;
        sqlite3_db_release_memory(c->db);
        ob_sqlite_stmts_free(c);
        c->trimmed = true;
        resize(s, c, ob_sqlite_conn_bytes(c));
    }
    if (mem_now(s) <= s->mem_budget)
        return;
    /* Closing happens after s->mu is dropped, so the counter does not fall
     * as victims are chosen: count down from it by their measured sizes. */
    size_t over = mem_now(s) - s->mem_budget;
    for (c = s->idle_tail; c && over > 0; c = prev) {
        prev = c->prev;
        if (!c->slug[0])
            continue;
        ob_sqlite_slot *w = slot_find(s, c->slug);
        idle_remove(s, w, c);
        if (c->mode == OB_DB_WRITE)
            w->conn = NULL; /* idle implies refs == 0: nobody holds or awaits it */
        over = c->bytes >= over ? 0 : over - c->bytes;
        forget(s, c);
        s->stats.evictions++;
        bury_conn(g, c);
        bury_slot_if_empty(s, g, w);
    }
}

/* A connection just opened joins the accounting; caller holds s->mu. */
static void count_open(ob_store *s, ob_conn *c)
{
    s->mem += c->bytes;
    s->stats.open++;
    s->stats.opens++;
}

/* Re-measure c now and then; called on release, without s->mu (c is still
 * acquired, so only this thread touches it). Returns the new size. */
static size_t measure(ob_conn *c)
{
    if (++c->releases % REMEASURE_EVERY == 0 || c->remeasure || c->nstmts != c->measured_nstmts)
        return ob_sqlite_conn_bytes(c);
    return c->bytes;
}

/* ---------------------------------------------------------------- readers */

int ob_sqlite_reader_acquire(ob_store *s, const char *slug, const char *generation,
                             ob_conn **out, ob_err *err)
{
    graveyard g = { 0 };
    ob_conn *c = NULL;
    pthread_mutex_lock(&s->mu);
    ob_sqlite_slot *w = slot_find(s, slug);
    while (w && w->readers) {
        ob_conn *r = w->readers;
        idle_remove(s, w, r);
        if (!generation || (r->generation && strcmp(r->generation, generation) == 0)) {
            c = r;
            break;
        }
        /* Opened for another incarnation of the tenant: never reuse it. */
        forget(s, r);
        bury_conn(&g, r);
    }
    if (w && !c)
        bury_slot_if_empty(s, &g, w);
    uint64_t epoch = ob_sqlite_epoch_get(s, slug);
    pthread_mutex_unlock(&s->mu);
    graveyard_close(&g);

    if (!c) {
        if (ob_sqlite_conn_open(s, slug, generation, OB_DB_READ, false, &c, err))
            return -1;
        c->epoch = epoch;
        pthread_mutex_lock(&s->mu);
        count_open(s, c);
        evict(s, &g);
        pthread_mutex_unlock(&s->mu);
        graveyard_close(&g);
    }
    c->in_use = true;
    c->store = s;
    *out = c;
    return 0;
}

void ob_sqlite_reader_release(ob_conn *c)
{
    ob_store *s = c->store;
    ob_sqlite_conn_quiesce(c);
    c->in_use = false;
    c->store = NULL;
    /* Could not roll back: never hand this connection out again. */
    bool broken = !sqlite3_get_autocommit(c->db);
    size_t bytes = broken ? c->bytes : measure(c);
    graveyard g = { 0 };
    pthread_mutex_lock(&s->mu);
    resize(s, c, bytes);
    if (broken || c->epoch != ob_sqlite_epoch_get(s, c->slug)) {
        /* broken, or its tenant was dropped while it was out */
        forget(s, c);
        bury_conn(&g, c);
    } else {
        idle_push(s, slot_get(s, c->slug), c);
        evict(s, &g);
    }
    pthread_mutex_unlock(&s->mu);
    graveyard_close(&g);
}

void ob_sqlite_slug_dropped(ob_store *s, const char *slug)
{
    graveyard g = { 0 };
    pthread_mutex_lock(&s->mu);
    ob_sqlite_epoch *e = s->epochs;
    while (e && strcmp(e->slug, slug) != 0)
        e = e->next;
    if (!e) {
        e = ob_sqlite_xcalloc(1, sizeof *e);
        snprintf(e->slug, sizeof e->slug, "%s", slug);
        e->next = s->epochs;
        s->epochs = e;
    }
    e->epoch++;
    ob_sqlite_slot *w = slot_find(s, slug);
    while (w && w->readers) {
        ob_conn *r = w->readers;
        idle_remove(s, w, r);
        forget(s, r);
        bury_conn(&g, r);
    }
    /* the caller holds the slot (refs > 0), so it is not freed here */
    pthread_mutex_unlock(&s->mu);
    graveyard_close(&g);
}

/* ---------------------------------------------------------------- writers */

/* Drop the caller's reference to a slot (its lock already released); the
 * writer connection, if open, becomes idle when nobody else awaits it. */
static void writer_put(ob_store *s, ob_sqlite_slot *w)
{
    graveyard g = { 0 };
    pthread_mutex_lock(&s->mu);
    w->refs--;
    if (w->refs == 0) {
        if (w->conn)
            idle_push(s, w, w->conn);
        else
            bury_slot_if_empty(s, &g, w);
    }
    evict(s, &g);
    pthread_mutex_unlock(&s->mu);
    graveyard_close(&g);
}

/* Look the slot up, take a reference and its lock (waiting up to the busy
 * timeout, as SQLite itself would). */
static int writer_take(ob_store *s, const char *slug, ob_sqlite_slot **out, ob_err *err)
{
    pthread_mutex_lock(&s->mu);
    ob_sqlite_slot *w = slot_get(s, slug);
    w->refs++;
    /* From now on nobody may evict the writer connection. */
    if (w->conn && w->conn->idle)
        idle_remove(s, w, w->conn);
    pthread_mutex_unlock(&s->mu);

    /* timedlock takes a CLOCK_REALTIME deadline. pthread_mutex_clocklock
     * (monotonic) would ignore wall-clock steps, but ThreadSanitizer does not
     * know it and then reports every unlock; a step only stretches or cuts
     * one wait. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += s->busy_timeout_ms / 1000;
    ts.tv_nsec += (long)(s->busy_timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int rc = pthread_mutex_timedlock(&w->lock, &ts);
    if (rc == 0) {
        *out = w;
        return 0;
    }
    writer_put(s, w);
    if (rc == ETIMEDOUT)
        return ob_sqlite_err(err, OB_E_STORAGE, "storage error: the database is busy");
    if (rc == EDEADLK)
        return ob_sqlite_err(err, OB_E_INTERNAL,
                             "this thread already holds the write connection of '%s'",
                             *slug ? slug : "control");
    return ob_sqlite_err(err, OB_E_INTERNAL, "cannot take the write lock: %s", strerror(rc));
}

/* Close the slot's connection; caller holds the slot's lock. */
static void writer_close_conn(ob_store *s, ob_sqlite_slot *w)
{
    ob_conn *c = w->conn;
    if (!c)
        return;
    pthread_mutex_lock(&s->mu);
    w->conn = NULL;
    forget(s, c);
    pthread_mutex_unlock(&s->mu);
    ob_sqlite_conn_close(c);
}

int ob_sqlite_writer_acquire(ob_store *s, const char *slug, const char *generation,
                             ob_conn **out, ob_err *err)
{
    ob_sqlite_slot *w;
    if (writer_take(s, slug, &w, err))
        return -1;
    ob_conn *c = w->conn;
    if (c && generation && (!c->generation || strcmp(c->generation, generation) != 0)) {
        writer_close_conn(s, w);
        c = NULL;
    }
    if (!c) {
        if (ob_sqlite_conn_open(s, slug, generation, OB_DB_WRITE, false, &c, err)) {
            pthread_mutex_unlock(&w->lock);
            writer_put(s, w);
            return -1;
        }
        c->writer = w;
        graveyard g = { 0 };
        pthread_mutex_lock(&s->mu);
        w->conn = c;
        count_open(s, c);
        evict(s, &g);
        pthread_mutex_unlock(&s->mu);
        graveyard_close(&g);
    }
    c->in_use = true;
    c->store = s;
    *out = c;
    return 0;
}

void ob_sqlite_writer_release(ob_conn *c)
{
    ob_sqlite_slot *w = c->writer;
    ob_store *s = c->store;
    ob_sqlite_conn_quiesce(c);
    c->in_use = false;
    c->store = NULL;
    if (!sqlite3_get_autocommit(c->db))
        writer_close_conn(s, w); /* could not roll back: start afresh */
    if (w->conn) {
        size_t bytes = measure(w->conn);
        if (bytes != w->conn->bytes) {
            /* still under the slot's lock, so w->conn cannot change meanwhile
             * (lock order: slot lock, then store->mu) */
            pthread_mutex_lock(&s->mu);
            resize(s, w->conn, bytes);
            pthread_mutex_unlock(&s->mu);
        }
    }
    pthread_mutex_unlock(&w->lock);
    writer_put(s, w);
}

int ob_sqlite_writer_lock_closed(ob_store *s, const char *slug, ob_sqlite_slot **out,
                                 ob_err *err)
{
    if (writer_take(s, slug, out, err))
        return -1;
    writer_close_conn(s, *out);
    return 0;
}

void ob_sqlite_writer_unlock(ob_store *s, ob_sqlite_slot *w)
{
    pthread_mutex_unlock(&w->lock);
    writer_put(s, w);
}

void ob_sqlite_pool_free(ob_store *s)
{
    graveyard g = { 0 };
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < OB_SQLITE_SLOT_BUCKETS; i++) {
        while (s->slots[i]) {
            ob_sqlite_slot *w = s->slots[i];
            s->slots[i] = w->hnext;
            while (w->readers) {
                ob_conn *r = w->readers;
                idle_remove(s, w, r);
                forget(s, r);
                bury_conn(&g, r);
            }
            if (w->conn) {
                if (w->conn->idle)
                    idle_remove(s, w, w->conn);
                forget(s, w->conn);
                bury_conn(&g, w->conn);
                w->conn = NULL;
            }
            w->hnext = g.slots;
            g.slots = w;
        }
    }
    pthread_mutex_unlock(&s->mu);
    graveyard_close(&g);
}

void ob_sqlite_pool_stats_get(ob_store *s, ob_sqlite_pool_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    out->bytes = s->mem;
    pthread_mutex_unlock(&s->mu);
}
