/* pg.c - the store for PostgreSQL: opening, tenant schemas (create, drop,
 * list), the per-thread connection cache and the per-tenant write locks.
 * Connections are in pg_conn.c, statements in pg_stmt.c; pg_int.h explains
 * the model. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/pg_int.h"
#include "db/dlist.h"
#include "base/banned.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000

static _Atomic uint64_t g_store_serial;

/* ------------------------------------------------- per-thread connections */

typedef struct conn_cache {
    ob_conn *head, *tail; /* most recently used first */
    int n;
} conn_cache;

static _Thread_local conn_cache *t_cache;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;
static bool cache_key_ok;

static void cache_unlink(conn_cache *cc, ob_conn *c)
{
    OB_DLIST_UNLINK(cc->head, cc->tail, c);
    cc->n--;
}

static void cache_push(conn_cache *cc, ob_conn *c)
{
    OB_DLIST_PUSH(cc->head, cc->tail, c);
    cc->n++;
}

/* Thread exit: the thread's connections can no longer be used. */
static void cache_destroy(void *p)
{
    conn_cache *cc = p;
    while (cc->head) {
        ob_conn *c = cc->head;
        cache_unlink(cc, c);
        ob_pg_conn_close(c);
    }
    free(cc);
    t_cache = NULL;
}

static void cache_key_init(void)
{
    cache_key_ok = pthread_key_create(&cache_key, cache_destroy) == 0;
}

static conn_cache *cache_get(void)
{
    if (t_cache)
        return t_cache;
    pthread_once(&cache_key_once, cache_key_init);
    t_cache = ob_pg_xcalloc(1, sizeof *t_cache);
    if (cache_key_ok)
        pthread_setspecific(cache_key, t_cache);
    return t_cache;
}

static void cache_drop_if_empty(void)
{
    if (!t_cache || t_cache->n)
        return;
    if (cache_key_ok)
        pthread_setspecific(cache_key, NULL);
    free(t_cache);
    t_cache = NULL;
}

/* Close the calling thread's idle connections of store s. */
static void close_idle(ob_store *s)
{
    if (!t_cache)
        return;
    ob_conn *c, *next;
    for (c = t_cache->head; c; c = next) {
        next = c->next;
        if (!c->in_use && c->store_serial == s->serial) {
            cache_unlink(t_cache, c);
            ob_pg_conn_close(c);
        }
    }
    cache_drop_if_empty();
}

/* An idle connection of this thread pointed at `slug` (any idle one when
 * none is), or a new one; then the search_path is set and checked. A cached
 * connection whose server went away is replaced once, so the first request
 * after a database restart succeeds. */
static int conn_take(ob_store *s, const char *slug, ob_db_mode mode, ob_conn **out, ob_err *err)
{
    conn_cache *cc = cache_get();
    char schema[OB_PG_SCHEMA_MAX];
    ob_pg_schema_name(slug, schema);
    ob_conn *pick = NULL, *c, *next;
    for (c = cc->head; c; c = next) {
        next = c->next;
        if (c->in_use)
            continue;
        if (c->store_serial != s->serial || c->broken) {
            cache_unlink(cc, c);
            ob_pg_conn_close(c);
            continue;
        }
        if (!pick || (strcmp(c->schema, schema) == 0 && strcmp(pick->schema, schema) != 0))
            pick = c;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        c = pick;
        pick = NULL;
        if (c) {
            cache_unlink(cc, c);
        } else if (ob_pg_conn_open(s, &c, err)) {
            cache_drop_if_empty();
            return -1;
        }
        c->store = s;
        c->mode = mode;
        snprintf(c->slug, sizeof c->slug, "%s", slug);
        if (ob_pg_conn_use(c, slug, err) == 0) {
            cache_push(cc, c);
            c->in_use = true;
            *out = c;
            return 0;
        }
        bool retry = c->broken && attempt == 0;
        if (!c->broken) {
            /* a missing schema: the connection is fine, keep it */
            c->store = NULL;
            cache_push(cc, c);
            return -1;
        }
        ob_pg_conn_close(c);
        if (!retry)
            break;
    }
    cache_drop_if_empty();
    return -1;
}

static void conn_give_back(ob_conn *c)
{
    ob_pg_stmts_reset(c);
    if (!c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        ob_pg_rollback(c);
    c->in_txn = false;
    c->in_use = false;
    c->store = NULL;
    c->lock = NULL;
    conn_cache *cc = t_cache;
    if (!cc)
        return;
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK) {
        cache_unlink(cc, c);
        ob_pg_conn_close(c);
    } else {
        /* most recently used first, so the cold end is closed */
        cache_unlink(cc, c);
        cache_push(cc, c);
        int idle = 0;
        for (ob_conn *v = cc->head, *next; v; v = next) {
            next = v->next;
            if (v->in_use)
                continue;
            if (++idle > OB_PG_IDLE_PER_THREAD) {
                cache_unlink(cc, v);
                ob_pg_conn_close(v);
            }
        }
    }
    cache_drop_if_empty();
}

/* --------------------------------------------------------- write locks */

static uint64_t slug_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void lock_put(ob_store *s, ob_pg_lock *l)
{
    pthread_mutex_lock(&s->mu);
    if (--l->refs == 0) {
        ob_pg_lock **pp = &s->locks[slug_hash(l->slug) % OB_PG_LOCK_BUCKETS];
        while (*pp != l)
            pp = &(*pp)->next;
        *pp = l->next;
        pthread_mutex_destroy(&l->mu);
        free(l);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Take the write lock of slug ("" control), waiting up to the busy timeout. */
static int lock_take(ob_store *s, const char *slug, ob_pg_lock **out, ob_err *err)
{
    pthread_mutex_lock(&s->mu);
    ob_pg_lock **bucket = &s->locks[slug_hash(slug) % OB_PG_LOCK_BUCKETS];
    ob_pg_lock *l = *bucket;
    while (l && strcmp(l->slug, slug) != 0)
        l = l->next;
    if (!l) {
        l = ob_pg_xcalloc(1, sizeof *l);
        snprintf(l->slug, sizeof l->slug, "%s", slug);
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        /* a thread taking a lock it holds gets an error, not a deadlock */
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
        pthread_mutex_init(&l->mu, &attr);
        pthread_mutexattr_destroy(&attr);
        l->next = *bucket;
        *bucket = l;
    }
    l->refs++;
    pthread_mutex_unlock(&s->mu);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += s->busy_timeout_ms / 1000;
    ts.tv_nsec += (long)(s->busy_timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int rc = pthread_mutex_timedlock(&l->mu, &ts);
    if (rc == 0) {
        *out = l;
        return 0;
    }
    lock_put(s, l);
    if (rc == ETIMEDOUT)
        return ob_db_err(err, OB_E_STORAGE, "storage error: the database is busy");
    if (rc == EDEADLK)
        return ob_db_err(err, OB_E_INTERNAL, "this thread already holds the write connection of '%s'",
                         *slug ? slug : "control");
    return ob_db_err(err, OB_E_INTERNAL, "cannot take the write lock: %s", strerror(rc));
}

static void lock_release(ob_store *s, ob_pg_lock *l)
{
    pthread_mutex_unlock(&l->mu);
    lock_put(s, l);
}

/* --------------------------------------------------------------- store */

static int pg_store_open(ob_store **out, const ob_store_opts *opts, ob_err *err)
{
    *out = NULL;
    const char *sync = opts->synchronous && *opts->synchronous ? opts->synchronous : "full";
    if (strcasecmp(sync, "full") && strcasecmp(sync, "normal") && strcasecmp(sync, "off") &&
        strcasecmp(sync, "extra"))
        return ob_db_err(err, OB_E_BAD_REQUEST, "unknown synchronous mode '%s'", sync);
    ob_store *s = ob_pg_xcalloc(1, sizeof *s);
    s->ops = &ob_pg_ops;
    s->serial = atomic_fetch_add(&g_store_serial, 1) + 1;
    s->url = ob_pg_xstrdup(opts->url);
    for (size_t i = 0; sync[i] && i + 1 < sizeof s->sync_name; i++)
        s->sync_name[i] = (char)(sync[i] | 0x20);
    s->busy_timeout_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : DEFAULT_BUSY_TIMEOUT_MS;
    pthread_mutex_init(&s->mu, NULL);
    /* Prove the server answers before anyone relies on it. */
    ob_conn *c;
    if (conn_take(s, "", OB_DB_READ, &c, err)) {
        close_idle(s);
        pthread_mutex_destroy(&s->mu);
        free(s->url);
        free(s);
        return -1;
    }
    conn_give_back(c);
    *out = s;
    return 0;
}

static void pg_store_close(ob_store *s)
{
    close_idle(s);
    for (int i = 0; i < OB_PG_LOCK_BUCKETS; i++)
        while (s->locks[i]) {
            ob_pg_lock *l = s->locks[i];
            s->locks[i] = l->next;
            pthread_mutex_destroy(&l->mu);
            free(l);
        }
    pthread_mutex_destroy(&s->mu);
    free(s->url);
    free(s);
}

static int pg_acquire(ob_store *s, const char *tenant, const char *generation, ob_db_mode mode,
                      ob_conn **out, ob_err *err)
{
    /* A recreated tenant is a new schema under the same name, and no
     * connection is tied to a schema, so the generation needs no check. */
    (void)generation;
    const char *slug = tenant ? tenant : "";
    ob_pg_lock *l = NULL;
    if (mode == OB_DB_WRITE && lock_take(s, slug, &l, err))
        return -1;
    if (conn_take(s, slug, mode, out, err)) {
        if (l)
            lock_release(s, l);
        return -1;
    }
    (*out)->lock = l;
    return 0;
}

static void pg_release(ob_conn *c)
{
    ob_store *s = c->store;
    ob_pg_lock *l = c->lock;
    conn_give_back(c);
    if (l)
        lock_release(s, l);
}

/* Run one DDL command on a control connection under the tenant's write
 * lock, so it never overlaps a write to that tenant in this process. */
static int tenant_ddl(ob_store *s, const char *slug, const char *sql, ob_err *err,
                      const char **state_out)
{
    ob_pg_lock *l;
    if (lock_take(s, slug, &l, err))
        return -1;
    ob_conn *c;
    int rc = conn_take(s, "", OB_DB_WRITE, &c, err);
    if (rc == 0) {
        PGresult *res = PQexec(c->pg, sql);
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
            const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
            *state_out = state && strcmp(state, "42P06") == 0   ? "exists"
                         : state && strcmp(state, "3F000") == 0 ? "missing"
                                                                : NULL;
            rc = ob_pg_fail(c, res, err);
        }
        PQclear(res);
        conn_give_back(c);
    }
    lock_release(s, l);
    return rc;
}

static int pg_create_tenant(ob_store *s, const char *slug, ob_err *err)
{
    if (!ob_db_slug_valid(slug)) {
        ob_db_err(err, OB_E_VALIDATION, "the tenant slug is not valid");
        if (err)
            ob_err_field_add(err, "slug", "lower-case letters, digits and inner hyphens, 1-63");
        return -1;
    }
    char schema[OB_PG_SCHEMA_MAX], sql[128];
    ob_pg_schema_name(slug, schema);
    snprintf(sql, sizeof sql, "CREATE SCHEMA \"%s\"", schema);
    const char *state = NULL;
    if (tenant_ddl(s, slug, sql, err, &state) == 0)
        return 0;
    if (state && strcmp(state, "exists") == 0) {
        ob_db_err(err, OB_E_CONFLICT, "tenant '%s' exists", slug);
        if (err)
            snprintf(err->field, sizeof err->field, "slug");
    }
    return -1;
}

static int pg_drop_tenant(ob_store *s, const char *slug, ob_err *err)
{
    if (!ob_db_slug_valid(slug))
        return ob_db_err(err, OB_E_NOT_FOUND, "no such tenant");
    char schema[OB_PG_SCHEMA_MAX], sql[128];
    ob_pg_schema_name(slug, schema);
    snprintf(sql, sizeof sql, "DROP SCHEMA \"%s\" CASCADE", schema);
    const char *state = NULL;
    if (tenant_ddl(s, slug, sql, err, &state) == 0)
        return 0;
    if (state && strcmp(state, "missing") == 0)
        ob_db_err(err, OB_E_NOT_FOUND, "no tenant '%s'", slug);
    return -1;
}

static bool pg_tenant_exists(ob_store *s, const char *slug)
{
    if (!ob_db_slug_valid(slug))
        return false;
    ob_conn *c;
    ob_err err;
    if (conn_take(s, slug, OB_DB_READ, &c, &err))
        return false;
    conn_give_back(c);
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int pg_each_tenant(ob_store *s, int (*fn)(const char *slug, void *ctx), void *ctx, ob_err *err)
{
    ob_conn *c;
    if (conn_take(s, "", OB_DB_READ, &c, err))
        return -1;
    PGresult *res = PQexec(c->pg, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'");
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = ob_pg_fail(c, res, err);
        PQclear(res);
        conn_give_back(c);
        return rc;
    }
    int n = PQntuples(res);
    char **slugs = ob_pg_xcalloc((size_t)n + 1, sizeof *slugs);
    int k = 0;
    for (int i = 0; i < n; i++) {
        char *slug = ob_pg_xstrdup(PQgetvalue(res, i, 0) + 7);
        for (char *p = slug; *p; p++)
            if (*p == '_')
                *p = '-';
        if (ob_db_slug_valid(slug))
            slugs[k++] = slug;
        else
            free(slug);
    }
    PQclear(res);
    conn_give_back(c);
    if (k)
        qsort(slugs, (size_t)k, sizeof *slugs, cmp_str);
    int rc = 0;
    for (int i = 0; i < k; i++) {
        if (rc == 0)
            rc = fn(slugs[i], ctx);
        free(slugs[i]);
    }
    free(slugs);
    return rc;
}

const ob_db_ops ob_pg_ops = {
    .engine = OB_DB_POSTGRES,
    .store_open = pg_store_open,
    .store_close = pg_store_close,
    .create_tenant = pg_create_tenant,
    .drop_tenant = pg_drop_tenant,
    .tenant_exists = pg_tenant_exists,
    .acquire = pg_acquire,
    .each_tenant = pg_each_tenant,
    .release = pg_release,
    .exec = ob_pg_exec,
    .begin = ob_pg_begin,
    .commit = ob_pg_commit,
    .rollback = ob_pg_rollback,
    .in_txn = ob_pg_in_txn,
    .prepare = ob_pg_prepare,
    .changes = ob_pg_changes,
    .synchronous = ob_pg_synchronous,
    .check = ob_pg_check,
    .bind = ob_pg_stmt_bind,
    .step = ob_pg_stmt_step,
    .ncols = ob_pg_stmt_ncols,
    .col_name = ob_pg_stmt_col_name,
    .col_type = ob_pg_stmt_col_type,
    .col_i64 = ob_pg_stmt_col_i64,
    .col_f64 = ob_pg_stmt_col_f64,
    .col_text = ob_pg_stmt_col_text,
    .done = ob_pg_stmt_done,
};
