/* pg_int.h - private to the PostgreSQL implementation of db.h (src/db/pg*.c,
 * the only files that include <libpq-fe.h>).
 *
 * Layout in the database: schema `public` holds the control tables, schema
 * `tenant_<slug>` (dashes become underscores; slugs have no underscores, so
 * the mapping is one to one) holds one tenant's tables. Every acquire sets
 * the connection's search_path to exactly one of these schemas (and checks
 * that it exists) in the same round trip, before the connection is handed
 * out, so a statement can only name tables of the tenant it was acquired for.
 *
 * Pieces and who owns what:
 *  - ob_store: the URL, settings and the per-tenant write locks, guarded by
 *    store->mu. Lives from ob_store_open to ob_store_close.
 *  - ob_conn: one libpq connection plus its prepared-statement cache. It
 *    lives in the cache of the thread that opened it (pg.c) and is used only
 *    by that thread, for any tenant. A thread holds as many connections as it
 *    has acquired at once (typically a control and a tenant reader, and a
 *    writer), and keeps a few idle ones for the next request.
 *  - WRITE: acquiring takes the tenant's in-process write lock (a mutex,
 *    waited for up to the busy timeout), and ob_db_begin on a WRITE
 *    connection takes a transaction-scoped advisory lock on the tenant, so
 *    writes to one tenant are serialized across processes as well, like
 *    SQLite's BEGIN IMMEDIATE.
 *  - ob_stmt: one server-side prepared statement (named "s<n>"), owned by its
 *    connection's cache, or a one-off handle on a cached statement that is
 *    busy (freed by ob_stmt_done). A step runs the statement and keeps the
 *    whole result; later steps walk its rows.
 *  - A connection whose server went away is marked broken and closed on
 *    release; the next acquire opens a new one. Connection failures and
 *    server shutdowns are OB_E_STORAGE.
 */
#ifndef OB_PG_INT_H
#define OB_PG_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db_int.h"

#define OB_PG_SLUG_MAX 64        /* 63 characters + NUL */
#define OB_PG_SCHEMA_MAX 72      /* "tenant_" + slug + NUL */
#define OB_PG_STMT_BUCKETS 256   /* power of two */
#define OB_PG_STMT_CAP 512       /* cached statements per connection */
#define OB_PG_LOCK_BUCKETS 256
#define OB_PG_IDLE_PER_THREAD 4  /* idle connections a thread keeps */

struct ob_stmt {
    const ob_db_ops *ops; /* first: db.c dispatches on it */
    ob_conn *conn;
    char name[16];        /* server-side prepared statement name */
    int nparams;
    char **vals;          /* bound values as text (malloc each), NULL = SQL null */
    PGresult *res;        /* result of the last step's execution */
    PGresult *desc;       /* describe result, for column names before a step */
    int row, nrows;       /* current row in res (-1 before the first step) */
    char (*tsbuf)[32];    /* per-column timestamp text rewritten to RFC 3339 */
    int ntsbuf;

    char *sql;            /* cache key (malloc), cached only */
    uint64_t hash;
    bool busy;            /* handed out and not yet ob_stmt_done */
    bool cached;          /* false: one-off, freed by ob_stmt_done */
    int oneoffs;          /* one-off handles using this statement's name */
    ob_stmt *parent;      /* one-off: the cached statement it uses */
    ob_stmt *hnext;       /* bucket chain */
    ob_stmt *prev, *next; /* LRU, most recent first (one-off: the oneoff list) */
};

typedef struct ob_pg_lock ob_pg_lock;

struct ob_conn {
    const ob_db_ops *ops; /* first: db.c dispatches on it */
    PGconn *pg;
    uint64_t store_serial; /* which store opened it (pointers get reused) */
    ob_store *store;      /* set while acquired */
    ob_db_mode mode;
    char schema[OB_PG_SCHEMA_MAX]; /* search_path set on it ("" unknown) */
    char slug[OB_PG_SLUG_MAX];     /* acquired for ("" control) */
    ob_pg_lock *lock;     /* WRITE: the held tenant write lock */
    bool in_use;
    bool in_txn;
    bool broken;          /* the server connection is gone: close on release */
    int64_t changes;

    ob_stmt *buckets[OB_PG_STMT_BUCKETS];
    ob_stmt *lru_head, *lru_tail;
    ob_stmt *oneoff;      /* one-off handles not yet done */
    int nstmts;
    unsigned next_name;

    ob_conn *prev, *next; /* the owning thread's list */
};

/* One tenant's (or the control database's) in-process write lock. refs
 * counts threads between looking it up and putting it back; at 0 it is
 * freed (under store->mu). */
struct ob_pg_lock {
    char slug[OB_PG_SLUG_MAX];
    pthread_mutex_t mu;
    int refs;
    ob_pg_lock *next;
};

struct ob_store {
    const ob_db_ops *ops; /* first: db.c dispatches on it */
    uint64_t serial;
    char *url;
    char sync_name[8];    /* "full", "normal" or "off" as configured */
    int busy_timeout_ms;
    pthread_mutex_t mu;   /* guards locks */
    ob_pg_lock *locks[OB_PG_LOCK_BUCKETS];
};

/* --- pg_conn.c --- */
void *ob_pg_xcalloc(size_t n, size_t size);
char *ob_pg_xstrdup(const char *s);
/* The schema of a slug ("" or NULL: "public"). The slug must be valid. */
void ob_pg_schema_name(const char *slug, char out[OB_PG_SCHEMA_MAX]);
/* Connect and configure a session (time zone, timeouts). OB_E_STORAGE when
 * the server cannot be reached. */
int ob_pg_conn_open(ob_store *s, ob_conn **out, ob_err *err);
/* Free every statement and close; NULL is a no-op. */
void ob_pg_conn_close(ob_conn *c);
/* Fill err from a failed result (or from the connection when res is NULL),
 * marking the connection broken when the server went away. Returns -1. */
int ob_pg_fail(ob_conn *c, const PGresult *res, ob_err *err);
/* Point the connection at one schema and check that the schema exists
 * (OB_E_NOT_FOUND when it does not). */
int ob_pg_conn_use(ob_conn *c, const char *slug, ob_err *err);
/* Run a parameterless command; -1 with err filled on failure. */
int ob_pg_run(ob_conn *c, const char *sql, ob_err *err);
int ob_pg_exec(ob_conn *c, const char *sql, ob_err *err);
int ob_pg_begin(ob_conn *c, ob_err *err);
int ob_pg_commit(ob_conn *c, ob_err *err);
void ob_pg_rollback(ob_conn *c);
bool ob_pg_in_txn(const ob_conn *c);
int64_t ob_pg_changes(ob_conn *c);
const char *ob_pg_synchronous(ob_conn *c);
int ob_pg_check(ob_conn *c, char *result, size_t n, ob_err *err);

/* --- pg_stmt.c --- */
/* Rewrite `?` placeholders to $1..$n outside quotes; *nparams gets n. */
char *ob_pg_rewrite_params(const char *sql, int *nparams);
int ob_pg_prepare(ob_conn *c, const char *sql, ob_stmt **out, ob_err *err);
int ob_pg_stmt_bind(ob_stmt *st, int idx, const ob_value *v, ob_err *err);
int ob_pg_stmt_step(ob_stmt *st, ob_err *err);
int ob_pg_stmt_ncols(ob_stmt *st);
const char *ob_pg_stmt_col_name(ob_stmt *st, int i);
ob_vtype ob_pg_stmt_col_type(ob_stmt *st, int i);
int64_t ob_pg_stmt_col_i64(ob_stmt *st, int i);
double ob_pg_stmt_col_f64(ob_stmt *st, int i);
const char *ob_pg_stmt_col_text(ob_stmt *st, int i, size_t *n);
void ob_pg_stmt_done(ob_stmt *st);
/* Reset statements still handed out (release). */
void ob_pg_stmts_reset(ob_conn *c);
/* Free every statement (close; the server side goes with the connection). */
void ob_pg_stmts_free(ob_conn *c);

#endif
