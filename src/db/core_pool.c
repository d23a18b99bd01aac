/* core_pool.c - where connections live between uses, and the write locks;
 * the same for both engines (the driver opens, attaches and closes).
 *
 * Why this shape: opening a connection is dear on both engines (SQLite
 * parses the tenant's whole schema: several hundred tables, indexes and
 * triggers, about a megabyte per handle, and closing the last handle of a WAL
 * database checkpoints it; PostgreSQL forks a backend and authenticates). So
 * connections are kept open as long as the budget allows: SQLite's is memory
 * in bytes (store.mem_budget, compared with what the engine holds), and a
 * driver may also bound the number of idle connections (PostgreSQL: a server
 * has a connection limit).
 *
 * Slots: one per database in a hash table under store.mu, holding the
 * database's write lock (an error-checking mutex, taken with the busy
 * timeout), its writer connection and its idle readers. Readers are shared by
 * all threads: a thread takes an idle reader of the database from the slot
 * and puts it back on release, so N threads over T tenants need about T
 * readers, not N x T. When the driver can point a connection at another
 * database (PostgreSQL: search_path), a miss borrows the coldest idle reader
 * of any database before opening a new connection.
 *
 * Idle list: every idle connection, reader or writer, is also in one
 * store-wide list, most recently released first. Over the budget, idle ones
 * are first slimmed (caches given back) and then closed from the cold end,
 * outside the lock; never one that is acquired, so a burst may exceed the
 * budget until its connections come back.
 *
 * Dropped tenants: a drop holds the slug's write lock while it removes the
 * database, then bumps the slug's drop epoch and closes its idle readers
 * under store.mu (ob_db_core_dropped). A reader acquired before that
 * remembers the old epoch and is closed, not pooled, when released. A
 * generation string passed by the caller is compared on every acquire as
 * well, which also catches a tenant recreated by another process.
 *
 * Replaced files: a generation cannot catch a tenant that another process
 * deleted and restored from a backup (`opsbase tenant delete` then `restore
 * --tenant`: the tenant keeps its id), and a SQLite handle goes on reading the
 * unlinked old file for as long as it is open. So every acquire of a pooled
 * tenant connection asks the driver whether its database was replaced under
 * its name (drv->replaced; SQLite compares the inode it holds with a stat of
 * the path, one or two microseconds) and closes it if so, taking the next idle
 * one or opening anew. Only acquires check: a request that acquires after the
 * other process has finished never reads the old file; one that holds its
 * connection across the swap finishes on the old file, as if it had run just
 * before the delete. That includes a writer in mid-transaction: its commit
 * lands in the deleted file and is lost with it, which is what the delete
 * asked for (the restored data is the backup's, taken before that write).
 * Closing a connection to a replaced file is safe: SQLite sees the inode has
 * moved and skips the checkpoint and the removal of the -wal and -shm by
 * name, which would otherwise hit the new file's. The tenant's first-use
 * check is forgotten too, so the new file's schema stamp is checked again (a
 * restore by an older binary leaves it behind). The control database is not
 * checked: no opsbase command replaces its file (a whole-store restore needs
 * an empty store and writes rows into it), and every request reads it.
 * The job workers need nothing more: their acquires are checked the same way,
 * and the tenant file stamp that tells them of another process's writes
 * (idle.c) includes the inode, so a restored tenant is visited again.
 *
 * A GET never takes the write lock: every write lock taken is counted
 * (stats.write_locks) and logged at debug level with its database, which is
 * what the end-to-end test of read-only requests watches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/core.h"
#include "db/dlist.h"
#include "base/log.h"
#include "base/banned.h"

/* Re-measure a connection's memory when its statement cache changed, and
 * otherwise every this many releases (its page cache moves a little): measuring
 * walks its schema and statements, too dear for every request. */
#define REMEASURE_EVERY 256

static ob_db_slot **slot_bucket(ob_db_store *s, const char *slug)
{
    return &s->slots[ob_db_hash(slug) & (OB_DB_SLOT_BUCKETS - 1)];
}

/* The slot of slug or NULL; caller holds s->mu. */
static ob_db_slot *slot_find(ob_db_store *s, const char *slug)
{
    for (ob_db_slot *w = *slot_bucket(s, slug); w; w = w->hnext)
        if (strcmp(w->slug, slug) == 0)
            return w;
    return NULL;
}

/* Find or make the slot for slug; caller holds s->mu. */
static ob_db_slot *slot_get(ob_db_store *s, const char *slug)
{
    ob_db_slot *w = slot_find(s, slug);
    if (w)
        return w;
    ob_db_slot **bucket = slot_bucket(s, slug);
    w = ob_db_xcalloc(1, sizeof *w);
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
static ob_db_slot *slot_unhash_if_empty(ob_db_store *s, ob_db_slot *w)
{
    if (w->refs || w->conn || w->readers)
        return NULL;
    ob_db_slot **pp = slot_bucket(s, w->slug);
    while (*pp != w)
        pp = &(*pp)->hnext;
    *pp = w->hnext;
    w->hnext = NULL;
    return w;
}

static void slot_free(ob_db_slot *w)
{
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* The slug's drop epoch (0 if never dropped); caller holds s->mu. */
static uint64_t epoch_get(const ob_db_store *s, const char *slug)
{
    for (const ob_db_epoch *e = s->epochs; e; e = e->next)
        if (strcmp(e->slug, slug) == 0)
            return e->epoch;
    return 0;
}

/* ------------------------------------------------------ opening, closing */

static void conn_close(ob_db_conn *c)
{
    ob_db_core_stmts_free((ob_conn *)c, false);
    free(c->generation);
    c->generation = NULL;
    c->drv->close((ob_conn *)c);
}

static size_t conn_measure(ob_db_conn *c)
{
    size_t bytes = c->drv->measure ? c->drv->measure((ob_conn *)c) : 0;
    c->remeasure = false;
    c->measured_nstmts = c->nstmts;
    return bytes;
}

/* Re-measure c now and then; called on release, without s->mu (c is still
 * acquired, so only this thread touches it). Returns the new size. */
static size_t measure_maybe(ob_db_conn *c)
{
    if (++c->releases % REMEASURE_EVERY == 0 || c->remeasure || c->nstmts != c->measured_nstmts)
        return conn_measure(c);
    return c->bytes;
}

static void set_generation(ob_db_conn *c, const char *generation)
{
    if (c->generation && generation && strcmp(c->generation, generation) == 0)
        return;
    free(c->generation);
    c->generation = generation ? ob_db_xstrdup(generation) : NULL;
}

static bool generation_fits(const ob_db_conn *c, const char *generation)
{
    return !generation || (c->generation && strcmp(c->generation, generation) == 0);
}

/* The pooled tenant connection c reads a database that another process has
 * since replaced under its name (see "Replaced files" above). Called without
 * s->mu: a stat must not hold up other threads, and c is out of every list. */
static bool replaced(ob_db_store *s, ob_db_conn *c)
{
    if (!s->drv->replaced || !c->slug[0] || !s->drv->replaced((ob_conn *)c))
        return false;
    ob_log(OB_LOG_INFO, "closing a pooled connection: its database was replaced by another process", "database",
           c->slug, NULL);
    ob_db_core_seen_forget((ob_store *)s, c->slug);
    return true;
}

static int conn_open(ob_db_store *s, const char *slug, const char *generation, ob_db_mode mode,
                     ob_db_conn **out, ob_err *err)
{
    ob_conn *made;
    if (s->drv->open((ob_store *)s, slug, mode, &made, err))
        return -1;
    ob_db_conn *c = OB_DB_CONN(made);
    c->drv = s->drv;
    c->mode = mode;
    snprintf(c->slug, sizeof c->slug, "%s", slug);
    set_generation(c, generation);
    c->bytes = conn_measure(c);
    *out = c;
    return 0;
}

/* ------------------------------------------------------- the idle list */

/* Make c idle: at the head of the store's list and, for a reader, in its
 * slot. Caller holds s->mu. */
static void idle_push(ob_db_store *s, ob_db_slot *w, ob_db_conn *c)
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
static void idle_remove(ob_db_store *s, ob_db_slot *w, ob_db_conn *c)
{
    OB_DLIST_UNLINK(s->idle_head, s->idle_tail, c);
    c->idle = false;
    s->stats.idle--;
    if (c->mode == OB_DB_READ) {
        ob_db_conn **pp = &w->readers;
        while (*pp != c)
            pp = &(*pp)->snext;
        *pp = c->snext;
        c->snext = NULL;
    }
}

/* Account for a connection that is being closed. Caller holds s->mu. */
static void forget(ob_db_store *s, ob_db_conn *c)
{
    s->mem -= c->bytes;
    s->stats.open--;
}

/* A connection just opened joins the accounting; caller holds s->mu. */
static void count_open(ob_db_store *s, ob_db_conn *c)
{
    s->mem += c->bytes;
    s->stats.open++;
    s->stats.opens++;
}

/* Apply a new size to the accounting; caller holds s->mu. */
static void resize(ob_db_store *s, ob_db_conn *c, size_t bytes)
{
    s->mem = s->mem - c->bytes + bytes;
    c->bytes = bytes;
}

/* Closes gathered under s->mu and carried out after it is dropped: closing a
 * connection may checkpoint and fsync or wait for a server, which must not
 * stall other threads. */
typedef struct graveyard {
    ob_db_conn *conns;   /* linked by snext */
    ob_db_slot *slots;   /* linked by hnext */
} graveyard;

static void bury_conn(graveyard *g, ob_db_conn *c)
{
    c->snext = g->conns;
    g->conns = c;
}

static void bury_slot_if_empty(ob_db_store *s, graveyard *g, ob_db_slot *w)
{
    if (slot_unhash_if_empty(s, w)) {
        w->hnext = g->slots;
        g->slots = w;
    }
}

static void graveyard_close(graveyard *g)
{
    while (g->conns) {
        ob_db_conn *c = g->conns;
        g->conns = c->snext;
        conn_close(c);
    }
    while (g->slots) {
        ob_db_slot *w = g->slots;
        g->slots = w->hnext;
        slot_free(w);
    }
}

/* Close a connection that is counted but in nobody's list. */
static void discard(ob_db_store *s, ob_db_conn *c)
{
    pthread_mutex_lock(&s->mu);
    forget(s, c);
    pthread_mutex_unlock(&s->mu);
    conn_close(c);
}

/* Memory held now: the engine's own process-wide figure when it has one (it
 * also covers what a connection's figures leave out), else the sum of the
 * connections' figures. */
static size_t mem_now(ob_db_store *s)
{
    size_t used = s->drv->mem_now ? s->drv->mem_now((ob_store *)s) : 0;
    return used > 0 ? used : s->mem;
}

/* The control database is read by every request: a driver may keep its
 * connections however cold they are. */
static bool kept(const ob_db_store *s, const ob_db_conn *c)
{
    return s->drv->keep_control && !c->slug[0];
}

static bool too_many_idle(const ob_db_store *s)
{
    return s->drv->idle_max > 0 && s->stats.idle > s->drv->idle_max;
}

/* Over the budget, first slim idle connections, coldest first (a page costs
 * a read to fetch again, a statement a prepare: far less than a reopen);
 * only if that is not enough, or there are more idle connections than the
 * driver keeps, are idle connections closed from the cold end. Caller holds
 * s->mu: an idle connection is touched by nobody else. */
static void evict(ob_db_store *s, graveyard *g)
{
    size_t over = 0;
    ob_db_conn *c, *prev;
    if (s->mem_budget && mem_now(s) > s->mem_budget) {
        for (c = s->idle_tail; c && mem_now(s) > s->mem_budget; c = c->prev) {
            if (kept(s, c) || c->trimmed)
                continue;
            ob_db_core_stmts_free((ob_conn *)c, true);
            if (s->drv->slim)
                s->drv->slim((ob_conn *)c);
            c->trimmed = true;
            resize(s, c, conn_measure(c));
        }
        /* Closing happens after s->mu is dropped, so the figure does not
         * fall as victims are chosen: count down by their measured sizes. */
        size_t now = mem_now(s);
        over = now > s->mem_budget ? now - s->mem_budget : 0;
    }
    for (c = s->idle_tail; c && (over > 0 || too_many_idle(s)); c = prev) {
        prev = c->prev;
        if (kept(s, c))
            continue;
        ob_db_slot *w = slot_find(s, c->slug);
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

/* Open a connection for an acquire and count it. */
static int open_counted(ob_db_store *s, const char *slug, const char *generation, ob_db_mode mode,
                        ob_db_conn **out, ob_err *err)
{
    if (conn_open(s, slug, generation, mode, out, err))
        return -1;
    graveyard g = { 0 };
    pthread_mutex_lock(&s->mu);
    count_open(s, *out);
    evict(s, &g);
    pthread_mutex_unlock(&s->mu);
    graveyard_close(&g);
    return 0;
}

/* ---------------------------------------------------------------- readers */

/* The coldest idle reader of another database, for a driver that can point
 * it elsewhere; caller holds s->mu. */
static ob_db_conn *borrow(ob_db_store *s, graveyard *g)
{
    for (ob_db_conn *c = s->idle_tail; c; c = c->prev) {
        if (c->mode != OB_DB_READ)
            continue;
        ob_db_slot *w = slot_find(s, c->slug);
        idle_remove(s, w, c);
        bury_slot_if_empty(s, g, w);
        return c;
    }
    return NULL;
}

/* Keep a connection whose attach found no database, as an idle reader of
 * the control database: a driver that attaches points it anew on its next
 * acquire anyway. */
static void park(ob_db_store *s, ob_db_conn *c)
{
    graveyard g = { 0 };
    c->slug[0] = '\0';
    set_generation(c, NULL);
    pthread_mutex_lock(&s->mu);
    c->epoch = epoch_get(s, "");
    idle_push(s, slot_get(s, ""), c);
    evict(s, &g);
    pthread_mutex_unlock(&s->mu);
    graveyard_close(&g);
}

static int reader_acquire(ob_db_store *s, const char *slug, const char *generation, ob_conn **out,
                          ob_err *err)
{
    graveyard g = { 0 };
    ob_db_conn *c;
    bool borrowed;
    uint64_t epoch;
again:
    c = NULL;
    borrowed = false;
    pthread_mutex_lock(&s->mu);
    ob_db_slot *w = slot_find(s, slug);
    while (w && w->readers) {
        ob_db_conn *r = w->readers;
        idle_remove(s, w, r);
        if (generation_fits(r, generation)) {
            c = r;
            break;
        }
        /* Opened for another incarnation of the tenant: never reuse it. */
        forget(s, r);
        bury_conn(&g, r);
    }
    if (w && !c)
        bury_slot_if_empty(s, &g, w);
    if (!c && s->drv->retarget)
        borrowed = (c = borrow(s, &g)) != NULL;
    epoch = epoch_get(s, slug);
    pthread_mutex_unlock(&s->mu);
    graveyard_close(&g);
    if (c && !borrowed && replaced(s, c)) {
        /* every reader opened before the swap is stale: each is found and
         * closed like this one, so the loop ends when the slot is empty */
        discard(s, c);
        goto again;
    }

    bool fresh = !c;
    if (fresh && open_counted(s, slug, generation, OB_DB_READ, &c, err))
        return -1;
    if (borrowed) {
        snprintf(c->slug, sizeof c->slug, "%s", slug);
        set_generation(c, generation);
    }
    c->epoch = epoch;
    if (s->drv->attach && s->drv->attach((ob_conn *)c, slug, err)) {
        if (!c->broken) {
            park(s, c); /* a missing database: the connection is fine */
            return -1;
        }
        /* A pooled connection whose server went away is replaced once, so the
         * first request after a database restart succeeds. */
        bool retry = !fresh;
        discard(s, c);
        if (!retry || open_counted(s, slug, generation, OB_DB_READ, &c, err))
            return -1;
        c->epoch = epoch;
        if (s->drv->attach((ob_conn *)c, slug, err)) {
            discard(s, c);
            return -1;
        }
    }
    c->in_use = true;
    c->store = (ob_store *)s;
    *out = (ob_conn *)c;
    return 0;
}

static void reader_release(ob_db_store *s, ob_db_conn *c, bool reusable)
{
    size_t bytes = reusable ? measure_maybe(c) : c->bytes;
    graveyard g = { 0 };
    pthread_mutex_lock(&s->mu);
    resize(s, c, bytes);
    if (!reusable || c->epoch != epoch_get(s, c->slug)) {
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

void ob_db_core_dropped(ob_store *store, const char *slug)
{
    ob_db_store *s = OB_DB_CORE(store);
    graveyard g = { 0 };
    pthread_mutex_lock(&s->mu);
    ob_db_epoch *e = s->epochs;
    while (e && strcmp(e->slug, slug) != 0)
        e = e->next;
    if (!e) {
        e = ob_db_xcalloc(1, sizeof *e);
        snprintf(e->slug, sizeof e->slug, "%s", slug);
        e->next = s->epochs;
        s->epochs = e;
    }
    e->epoch++;
    ob_db_slot *w = slot_find(s, slug);
    while (w && w->readers) {
        ob_db_conn *r = w->readers;
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
static void writer_put(ob_db_store *s, ob_db_slot *w)
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
 * timeout, as the engine itself would). */
static int writer_take(ob_db_store *s, const char *slug, ob_db_slot **out, ob_err *err)
{
    pthread_mutex_lock(&s->mu);
    ob_db_slot *w = slot_get(s, slug);
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
        pthread_mutex_lock(&s->mu);
        s->stats.write_locks++;
        pthread_mutex_unlock(&s->mu);
        ob_log(OB_LOG_DEBUG, "write lock", "database", *slug ? slug : "control", NULL);
        *out = w;
        return 0;
    }
    writer_put(s, w);
    if (rc == ETIMEDOUT)
        return ob_db_err(err, OB_E_STORAGE, "storage error: the database is busy");
    if (rc == EDEADLK)
        return ob_db_err(err, OB_E_INTERNAL, "this thread already holds the write connection of '%s'",
                         *slug ? slug : "control");
    return ob_db_err(err, OB_E_INTERNAL, "cannot take the write lock: %s", strerror(rc));
}

/* Close the slot's connection; caller holds the slot's lock. */
static void writer_close_conn(ob_db_store *s, ob_db_slot *w)
{
    ob_db_conn *c = w->conn;
    if (!c)
        return;
    pthread_mutex_lock(&s->mu);
    w->conn = NULL;
    forget(s, c);
    pthread_mutex_unlock(&s->mu);
    conn_close(c);
}

/* Open the slot's writer; caller holds the slot's lock. */
static int writer_open(ob_db_store *s, ob_db_slot *w, const char *generation, ob_err *err)
{
    ob_db_conn *c;
    if (open_counted(s, w->slug, generation, OB_DB_WRITE, &c, err))
        return -1;
    c->writer = w;
    pthread_mutex_lock(&s->mu);
    w->conn = c;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static int writer_acquire(ob_db_store *s, const char *slug, const char *generation, ob_conn **out,
                          ob_err *err)
{
    ob_db_slot *w;
    if (writer_take(s, slug, &w, err))
        return -1;
    /* under the slot's lock, so nobody else is using the writer */
    if (w->conn && (!generation_fits(w->conn, generation) || replaced(s, w->conn)))
        writer_close_conn(s, w);
    bool fresh = !w->conn;
    if (fresh && writer_open(s, w, generation, err))
        goto fail;
    if (s->drv->attach && s->drv->attach((ob_conn *)w->conn, slug, err)) {
        /* as for readers: a pooled connection whose server went away is
         * replaced once */
        bool retry = w->conn->broken && !fresh;
        if (w->conn->broken)
            writer_close_conn(s, w);
        if (!retry || writer_open(s, w, generation, err))
            goto fail;
        if (s->drv->attach((ob_conn *)w->conn, slug, err)) {
            if (w->conn->broken)
                writer_close_conn(s, w);
            goto fail;
        }
    }
    ob_db_conn *c = w->conn;
    c->in_use = true;
    c->store = (ob_store *)s;
    *out = (ob_conn *)c;
    return 0;
fail:
    pthread_mutex_unlock(&w->lock);
    writer_put(s, w);
    return -1;
}

static void writer_release(ob_db_store *s, ob_db_conn *c, bool reusable)
{
    ob_db_slot *w = c->writer;
    if (!reusable)
        writer_close_conn(s, w); /* could not roll back: start afresh */
    if (w->conn) {
        size_t bytes = measure_maybe(w->conn);
        if (bytes != w->conn->bytes) {
            /* still under the slot's lock, so w->conn cannot change meanwhile
             * (lock order: slot lock, then store.mu) */
            pthread_mutex_lock(&s->mu);
            resize(s, w->conn, bytes);
            pthread_mutex_unlock(&s->mu);
        }
    }
    pthread_mutex_unlock(&w->lock);
    writer_put(s, w);
}

int ob_db_core_lock(ob_store *store, const char *slug, ob_db_slot **out, ob_err *err)
{
    ob_db_store *s = OB_DB_CORE(store);
    if (writer_take(s, slug, out, err))
        return -1;
    writer_close_conn(s, *out);
    return 0;
}

void ob_db_core_unlock(ob_store *store, ob_db_slot *w)
{
    pthread_mutex_unlock(&w->lock);
    writer_put(OB_DB_CORE(store), w);
}

/* ------------------------------------------------------------- the API */

void ob_db_core_init(ob_store *store, const ob_db_ops *ops, int busy_timeout_ms, size_t mem_budget)
{
    ob_db_store *s = OB_DB_CORE(store);
    s->ops = ops;
    s->drv = &ops->driver;
    s->busy_timeout_ms = busy_timeout_ms;
    s->mem_budget = mem_budget;
    pthread_mutex_init(&s->mu, NULL);
}

int ob_db_core_acquire(ob_store *store, const char *slug, const char *generation, ob_db_mode mode,
                       ob_conn **out, ob_err *err)
{
    ob_db_store *s = OB_DB_CORE(store);
    *out = NULL;
    if (mode == OB_DB_WRITE)
        return writer_acquire(s, slug, generation, out, err);
    return reader_acquire(s, slug, generation, out, err);
}

void ob_db_core_release(ob_conn *conn)
{
    ob_db_conn *c = OB_DB_CONN(conn);
    ob_db_store *s = OB_DB_CORE(c->store);
    ob_db_core_stmts_reset(conn);
    bool reusable = c->drv->settle(conn) && !c->broken;
    c->in_txn = false;
    c->in_use = false;
    c->store = NULL;
    if (c->mode == OB_DB_WRITE)
        writer_release(s, c, reusable);
    else
        reader_release(s, c, reusable);
}

void ob_db_core_free(ob_store *store)
{
    ob_db_store *s = OB_DB_CORE(store);
    graveyard g = { 0 };
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < OB_DB_SLOT_BUCKETS; i++) {
        while (s->slots[i]) {
            ob_db_slot *w = s->slots[i];
            s->slots[i] = w->hnext;
            while (w->readers) {
                ob_db_conn *r = w->readers;
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
    while (s->epochs) {
        ob_db_epoch *e = s->epochs;
        s->epochs = e->next;
        free(e);
    }
    for (size_t i = 0; i < OB_DB_SLOT_BUCKETS; i++) {
        while (s->seen[i]) {
            ob_db_seen *e = s->seen[i];
            s->seen[i] = e->next;
            free(e);
        }
    }
    pthread_mutex_unlock(&s->mu);
    graveyard_close(&g);
    pthread_mutex_destroy(&s->mu);
}

/* ------------------------------------------- first-use checks passed */

bool ob_db_core_seen(ob_store *store, const char *slug)
{
    ob_db_store *s = OB_DB_CORE(store);
    bool found = false;
    pthread_mutex_lock(&s->mu);
    for (ob_db_seen *e = s->seen[ob_db_hash(slug) & (OB_DB_SLOT_BUCKETS - 1)]; e && !found; e = e->next)
        found = strcmp(e->slug, slug) == 0;
    pthread_mutex_unlock(&s->mu);
    return found;
}

void ob_db_core_seen_add(ob_store *store, const char *slug)
{
    ob_db_store *s = OB_DB_CORE(store);
    ob_db_seen **b = &s->seen[ob_db_hash(slug) & (OB_DB_SLOT_BUCKETS - 1)];
    ob_db_seen *n = ob_db_xcalloc(1, sizeof *n);
    snprintf(n->slug, sizeof n->slug, "%s", slug);
    pthread_mutex_lock(&s->mu);
    ob_db_seen *e = *b;
    while (e && strcmp(e->slug, slug) != 0)
        e = e->next;
    if (!e) {
        n->next = *b;
        *b = n;
        n = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    free(n); /* another thread's check passed first */
}

void ob_db_core_seen_forget(ob_store *store, const char *slug)
{
    ob_db_store *s = OB_DB_CORE(store);
    ob_db_seen *gone = NULL;
    pthread_mutex_lock(&s->mu);
    for (ob_db_seen **pp = &s->seen[ob_db_hash(slug) & (OB_DB_SLOT_BUCKETS - 1)]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->slug, slug) == 0) {
            gone = *pp;
            *pp = gone->next;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    free(gone);
}

void ob_db_core_stats(ob_store *store, ob_db_pool_stats *out)
{
    ob_db_store *s = OB_DB_CORE(store);
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    out->bytes = s->mem;
    out->databases = 0;
    for (size_t i = 0; i < OB_DB_SLOT_BUCKETS; i++)
        for (ob_db_slot *w = s->slots[i]; w; w = w->hnext)
            if (w->slug[0] && (w->conn || w->readers || w->refs))
                out->databases++;
    pthread_mutex_unlock(&s->mu);
}
