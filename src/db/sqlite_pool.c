/* sqlite_pool.c - where connections live between uses.
 *
 * Readers: each thread keeps its own LRU list of READ connections (a
 * _Thread_local pointer), bounded by the store's readers_per_thread; evicted
 * connections are closed. A pthread key destructor closes the list when the
 * thread ends (libmicrohttpd workers), so nothing leaks. A READ connection must
 * be released on the thread that acquired it.
 *
 * Staleness of readers: ob_db_drop_tenant runs on one thread and cannot close
 * connections cached by other threads (they may be in use, and only their
 * owner may touch them). Instead the store keeps a per-slug drop epoch, bumped
 * after the files are unlinked, and an atomic drop_seq bumped with it. Each
 * cached reader remembers the epoch it was opened under and the drop_seq it
 * last checked; on acquire, an unchanged drop_seq proves nothing was dropped
 * (one atomic load, no lock), otherwise the epoch is compared under the lock
 * and a stale reader is closed and reopened. A generation string passed by
 * the caller is compared as well, which also catches a tenant recreated by
 * another process.
 *
 * Writers: one slot per database in a hash table under store->mu, each with
 * the database's write lock (an error-checking mutex, taken with the busy
 * timeout). Open tenant writers are bounded by max_open_tenants: when a writer
 * is released and the bound is exceeded, the least recently used idle slots
 * (refs == 0) are closed and freed. The control writer is never evicted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/sqlite_int.h"
#include "db/dlist.h"
#include "base/banned.h"

/* ---------------------------------------------------------------- readers */

typedef struct reader_cache {
    ob_conn *head, *tail; /* most recently used first */
    int n;
} reader_cache;

static _Thread_local reader_cache *t_cache;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;
static bool cache_key_ok;

static void cache_unlink(reader_cache *rc, ob_conn *c)
{
    OB_DLIST_UNLINK(rc->head, rc->tail, c);
    rc->n--;
}

static void cache_push(reader_cache *rc, ob_conn *c)
{
    OB_DLIST_PUSH(rc->head, rc->tail, c);
    rc->n++;
}

/* Thread exit: the thread can no longer use its readers, in use or not. */
static void cache_destroy(void *p)
{
    reader_cache *rc = p;
    while (rc->head) {
        ob_conn *c = rc->head;
        cache_unlink(rc, c);
        ob_sqlite_conn_close(c);
    }
    free(rc);
    t_cache = NULL;
}

static void cache_key_init(void)
{
    cache_key_ok = pthread_key_create(&cache_key, cache_destroy) == 0;
}

static reader_cache *cache_get(void)
{
    if (t_cache)
        return t_cache;
    pthread_once(&cache_key_once, cache_key_init);
    t_cache = ob_sqlite_xcalloc(1, sizeof *t_cache);
    if (cache_key_ok)
        pthread_setspecific(cache_key, t_cache);
    return t_cache;
}

/* Free the list once empty (store close on the main thread, whose key
 * destructor never runs). */
static void cache_drop_if_empty(void)
{
    if (!t_cache || t_cache->n)
        return;
    if (cache_key_ok)
        pthread_setspecific(cache_key, NULL);
    free(t_cache);
    t_cache = NULL;
}

/* Is a cached reader still the right file for this acquire? */
static bool reader_fresh(ob_store *s, ob_conn *c, const char *generation, uint64_t seq)
{
    if (generation && (!c->generation || strcmp(c->generation, generation) != 0))
        return false;
    if (c->seen_drop_seq == seq)
        return true;
    pthread_mutex_lock(&s->mu);
    uint64_t e = ob_sqlite_epoch_get(s, c->slug);
    pthread_mutex_unlock(&s->mu);
    if (e != c->epoch)
        return false;
    c->seen_drop_seq = seq;
    return true;
}

int ob_sqlite_reader_acquire(ob_store *s, const char *slug, const char *generation,
                             ob_conn **out, ob_err *err)
{
    reader_cache *rc = cache_get();
    /* Read drop_seq before the epoch: a drop in between shows up as a changed
     * drop_seq next time and costs one re-check, never a stale read. */
    uint64_t seq = atomic_load(&s->drop_seq);
    ob_conn *c, *next;
    for (c = rc->head; c; c = next) {
        next = c->next;
        if (c->in_use || c->store_serial != s->serial || strcmp(c->slug, slug) != 0)
            continue;
        if (!reader_fresh(s, c, generation, seq)) {
            cache_unlink(rc, c);
            ob_sqlite_conn_close(c);
            continue;
        }
        cache_unlink(rc, c);
        cache_push(rc, c);
        c->in_use = true;
        c->store = s;
        *out = c;
        return 0;
    }

    pthread_mutex_lock(&s->mu);
    uint64_t epoch = ob_sqlite_epoch_get(s, slug);
    pthread_mutex_unlock(&s->mu);
    if (ob_sqlite_conn_open(s, slug, generation, OB_DB_READ, false, &c, err)) {
        cache_drop_if_empty();
        return -1;
    }
    c->epoch = epoch;
    c->seen_drop_seq = seq;
    cache_push(rc, c);
    /* Over the bound: close idle readers from the cold end (of any store). */
    for (ob_conn *v = rc->tail; v && rc->n > s->readers_per_thread; v = next) {
        next = v->prev;
        if (!v->in_use && v != c) {
            cache_unlink(rc, v);
            ob_sqlite_conn_close(v);
        }
    }
    c->in_use = true;
    c->store = s;
    *out = c;
    return 0;
}

void ob_sqlite_reader_release(ob_conn *c)
{
    ob_sqlite_conn_quiesce(c);
    c->in_use = false;
    c->store = NULL;
    if (!sqlite3_get_autocommit(c->db) && t_cache) {
        /* Could not roll back: never hand this connection out again. */
        cache_unlink(t_cache, c);
        ob_sqlite_conn_close(c);
        cache_drop_if_empty();
    }
}

void ob_sqlite_readers_close(ob_store *s, const char *slug)
{
    if (!t_cache)
        return;
    ob_conn *c, *next;
    for (c = t_cache->head; c; c = next) {
        next = c->next;
        if (c->in_use || c->store_serial != s->serial || (slug && strcmp(c->slug, slug) != 0))
            continue;
        cache_unlink(t_cache, c);
        ob_sqlite_conn_close(c);
    }
    cache_drop_if_empty();
}

/* ---------------------------------------------------------------- writers */

static uint64_t slug_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void wlru_unlink(ob_store *s, ob_sqlite_writer *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        s->wlru_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->wlru_tail = w->prev;
    w->prev = w->next = NULL;
}

static void wlru_push(ob_store *s, ob_sqlite_writer *w)
{
    w->prev = NULL;
    w->next = s->wlru_head;
    if (s->wlru_head)
        s->wlru_head->prev = w;
    s->wlru_head = w;
    if (!s->wlru_tail)
        s->wlru_tail = w;
}

/* Find or make the slot for slug; caller holds s->mu. */
static ob_sqlite_writer *writer_get(ob_store *s, const char *slug)
{
    ob_sqlite_writer **bucket = &s->wbuckets[slug_hash(slug) % OB_SQLITE_WRITER_BUCKETS];
    for (ob_sqlite_writer *w = *bucket; w; w = w->hnext)
        if (strcmp(w->slug, slug) == 0)
            return w;
    ob_sqlite_writer *w = ob_sqlite_xcalloc(1, sizeof *w);
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
    wlru_push(s, w);
    return w;
}

/* Unhash and unlink a slot nobody references; caller holds s->mu. The
 * connection, if any, is left for the caller to close outside the lock. */
static void writer_remove(ob_store *s, ob_sqlite_writer *w)
{
    ob_sqlite_writer **pp = &s->wbuckets[slug_hash(w->slug) % OB_SQLITE_WRITER_BUCKETS];
    while (*pp != w)
        pp = &(*pp)->hnext;
    *pp = w->hnext;
    wlru_unlink(s, w);
}

static void writer_free(ob_sqlite_writer *w)
{
    ob_sqlite_conn_close(w->conn);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* Drop the caller's reference to a slot (its lock already released), then
 * enforce max_open_tenants. Closing happens outside s->mu. */
static void writer_put(ob_store *s, ob_sqlite_writer *w)
{
    ob_sqlite_writer *dead = NULL;
    pthread_mutex_lock(&s->mu);
    w->refs--;
    if (w->refs == 0 && !w->conn) {
        writer_remove(s, w);
        w->hnext = dead;
        dead = w;
    } else {
        wlru_unlink(s, w);
        wlru_push(s, w);
    }
    ob_sqlite_writer *v = s->wlru_tail, *prev;
    for (; v && s->open_tenant_writers > s->max_open_tenants; v = prev) {
        prev = v->prev;
        if (v->refs || !v->conn || !v->slug[0])
            continue;
        writer_remove(s, v);
        s->open_tenant_writers--;
        v->hnext = dead;
        dead = v;
    }
    pthread_mutex_unlock(&s->mu);
    while (dead) {
        ob_sqlite_writer *n = dead->hnext;
        writer_free(dead);
        dead = n;
    }
}

/* Look the slot up, take a reference and its lock (waiting up to the busy
 * timeout, as SQLite itself would). */
static int writer_take(ob_store *s, const char *slug, ob_sqlite_writer **out, ob_err *err)
{
    pthread_mutex_lock(&s->mu);
    ob_sqlite_writer *w = writer_get(s, slug);
    w->refs++;
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
static void writer_close_conn(ob_store *s, ob_sqlite_writer *w)
{
    if (!w->conn)
        return;
    ob_sqlite_conn_close(w->conn);
    w->conn = NULL;
    if (w->slug[0]) {
        pthread_mutex_lock(&s->mu);
        s->open_tenant_writers--;
        pthread_mutex_unlock(&s->mu);
    }
}

int ob_sqlite_writer_acquire(ob_store *s, const char *slug, const char *generation,
                             ob_conn **out, ob_err *err)
{
    ob_sqlite_writer *w;
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
        w->conn = c;
        if (slug[0]) {
            pthread_mutex_lock(&s->mu);
            s->open_tenant_writers++;
            pthread_mutex_unlock(&s->mu);
        }
    }
    c->in_use = true;
    c->store = s;
    *out = c;
    return 0;
}

void ob_sqlite_writer_release(ob_conn *c)
{
    ob_sqlite_writer *w = c->writer;
    ob_store *s = c->store;
    ob_sqlite_conn_quiesce(c);
    c->in_use = false;
    c->store = NULL;
    if (!sqlite3_get_autocommit(c->db))
        writer_close_conn(s, w); /* could not roll back: start afresh */
    pthread_mutex_unlock(&w->lock);
    writer_put(s, w);
}

int ob_sqlite_writer_lock_closed(ob_store *s, const char *slug, ob_sqlite_writer **out,
                                 ob_err *err)
{
    if (writer_take(s, slug, out, err))
        return -1;
    writer_close_conn(s, *out);
    return 0;
}

void ob_sqlite_writer_unlock(ob_store *s, ob_sqlite_writer *w)
{
    pthread_mutex_unlock(&w->lock);
    writer_put(s, w);
}

void ob_sqlite_writers_free(ob_store *s)
{
    while (s->wlru_head) {
        ob_sqlite_writer *w = s->wlru_head;
        writer_remove(s, w);
        writer_free(w);
    }
    s->open_tenant_writers = 0;
}
