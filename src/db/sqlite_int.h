/* sqlite_int.h - private to the SQLite implementation of db.h (src/db/sqlite*.c).
 *
 * Pieces and who owns what:
 *  - ob_store: paths, settings, the writer table and the per-slug drop epochs,
 *    all guarded by store->mu. Lives from ob_store_open to ob_store_close.
 *  - ob_conn: one sqlite3 handle plus its statement cache. A READ connection
 *    lives in the acquiring thread's cache (sqlite_pool.c) and is touched only
 *    by that thread. A WRITE connection belongs to a writer slot
 *    (ob_sqlite_writer) and is touched only by the thread holding the slot's
 *    lock. Either way a connection is used by one thread at a time, which is
 *    why every handle is opened with SQLITE_OPEN_NOMUTEX.
 *  - ob_stmt: one prepared statement, owned by its connection's cache (or, when
 *    the cached one is busy, a one-off statement freed by ob_stmt_done).
 */
#ifndef OB_SQLITE_INT_H
#define OB_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db_int.h"

#define OB_SQLITE_SLUG_MAX 64      /* 63 characters + NUL */
#define OB_SQLITE_STMT_BUCKETS 512 /* power of two */
#define OB_SQLITE_STMT_CAP 256     /* cached statements per connection */
#define OB_SQLITE_PATH_MAX 4096

struct ob_stmt {
    const ob_db_ops *ops; /* first: db.c dispatches on it */
    sqlite3_stmt *st;
    ob_conn *conn;
    char *sql;          /* key of the cache (malloc) */
    uint64_t hash;
    bool busy;          /* handed out and not yet ob_stmt_done */
    bool cached;        /* false: one-off, finalized by ob_stmt_done */
    ob_stmt *hnext;     /* bucket chain (cached only) */
    ob_stmt *prev, *next; /* LRU list (cached) or one-off list */
};

typedef struct ob_sqlite_writer ob_sqlite_writer;

struct ob_conn {
    const ob_db_ops *ops; /* first: db.c dispatches on it */
    sqlite3 *db;
    ob_db_mode mode;
    ob_store *store;          /* set while acquired, NULL while idle in a cache */
    uint64_t store_serial;    /* which store opened it (pointers get reused) */
    char slug[OB_SQLITE_SLUG_MAX]; /* "" for the control database */
    char *generation;         /* malloc, NULL when opened without one */
    uint64_t epoch;           /* the slug's drop epoch when opened */
    uint64_t seen_drop_seq;   /* store->drop_seq when the epoch was last checked */
    bool in_use;
    bool in_txn;              /* begun by ob_db_begin and not yet ended */
    char sync_name[8];        /* answer of ob_db_synchronous */

    ob_stmt *buckets[OB_SQLITE_STMT_BUCKETS];
    ob_stmt *lru_head, *lru_tail; /* cached statements, most recent first */
    ob_stmt *oneoff;              /* statements outside the cache */
    int nstmts;

    ob_conn *prev, *next;         /* thread reader list (READ only) */
    ob_sqlite_writer *writer;     /* WRITE only */
};

/* One writer per database. refs counts threads between looking the slot up
 * and releasing it, so a slot with refs == 0 is neither held nor awaited and
 * may be closed and freed (under store->mu). */
struct ob_sqlite_writer {
    char slug[OB_SQLITE_SLUG_MAX];
    pthread_mutex_t lock;     /* the database's write lock */
    ob_conn *conn;            /* NULL until opened (or after a drop) */
    int refs;
    ob_sqlite_writer *hnext;
    ob_sqlite_writer *prev, *next; /* LRU, most recently released first */
};

typedef struct ob_sqlite_epoch {
    char slug[OB_SQLITE_SLUG_MAX];
    uint64_t epoch;
    struct ob_sqlite_epoch *next;
} ob_sqlite_epoch;

#define OB_SQLITE_WRITER_BUCKETS 256

struct ob_store {
    const ob_db_ops *ops; /* first: db.c dispatches on it */
    uint64_t serial;
    char *data_dir;
    int sync_level;           /* 0 off, 1 normal, 2 full, 3 extra */
    int busy_timeout_ms;
    int max_open_tenants;
    int readers_per_thread;

    pthread_mutex_t mu;       /* guards everything below */
    ob_sqlite_writer *wbuckets[OB_SQLITE_WRITER_BUCKETS];
    ob_sqlite_writer *wlru_head, *wlru_tail;
    int open_tenant_writers;
    ob_sqlite_epoch *epochs;  /* only slugs that were ever dropped */
    _Atomic uint64_t drop_seq; /* bumped on every drop: cheap staleness test */
};

/* --- sqlite_conn.c --- */
/* ob_err_set that tolerates a NULL err. Returns -1. */
int ob_sqlite_err(ob_err *err, ob_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* calloc/strdup that abort on failure, like the arena (no sane recovery). */
void *ob_sqlite_xcalloc(size_t n, size_t size);
char *ob_sqlite_xstrdup(const char *s);
/* Path of the control database (slug "" or NULL) or of a tenant database.
 * The slug must already be valid. -1 when the path would not fit. */
int ob_sqlite_path(const ob_store *s, const char *slug, char *out, size_t n);
/* Open a handle on an existing file (or create it when create is true) and
 * apply the connection pragmas. A missing file is OB_E_NOT_FOUND. */
int ob_sqlite_conn_open(ob_store *s, const char *slug, const char *generation,
                        ob_db_mode mode, bool create, ob_conn **out, ob_err *err);
/* Finalize every statement and close the handle; NULL is a no-op. */
void ob_sqlite_conn_close(ob_conn *c);
/* Reset handed-out statements and roll back an open transaction: the state a
 * connection must be in before it goes back to a cache. */
void ob_sqlite_conn_quiesce(ob_conn *c);
/* Fill err from the handle's last error (rc is the code the call returned). */
int ob_sqlite_fail(ob_err *err, sqlite3 *db, int rc);
/* The slug's drop epoch (0 if never dropped); caller holds s->mu. */
uint64_t ob_sqlite_epoch_get(const ob_store *s, const char *slug);

/* --- sqlite_pool.c --- */
int ob_sqlite_reader_acquire(ob_store *s, const char *slug, const char *generation,
                             ob_conn **out, ob_err *err);
void ob_sqlite_reader_release(ob_conn *c);
/* Close the calling thread's idle readers of store s (of one slug, or all when
 * slug is NULL). */
void ob_sqlite_readers_close(ob_store *s, const char *slug);
int ob_sqlite_writer_acquire(ob_store *s, const char *slug, const char *generation,
                             ob_conn **out, ob_err *err);
void ob_sqlite_writer_release(ob_conn *c);
/* Take a slug's write lock without opening a connection, close its writer
 * connection if open, and return the held slot (for drop). */
int ob_sqlite_writer_lock_closed(ob_store *s, const char *slug, ob_sqlite_writer **out,
                                 ob_err *err);
/* Release a slot taken with ob_sqlite_writer_lock_closed. */
void ob_sqlite_writer_unlock(ob_store *s, ob_sqlite_writer *w);
/* Close and free every writer slot (store close). */
void ob_sqlite_writers_free(ob_store *s);

/* --- sqlite_conn.c: the db.h connection calls (see db.h) --- */
int ob_sqlite_exec(ob_conn *c, const char *sql, ob_err *err);
int ob_sqlite_begin(ob_conn *c, ob_err *err);
int ob_sqlite_commit(ob_conn *c, ob_err *err);
void ob_sqlite_rollback(ob_conn *c);
bool ob_sqlite_in_txn(const ob_conn *c);
int64_t ob_sqlite_changes(ob_conn *c);
const char *ob_sqlite_synchronous(ob_conn *c);
int ob_sqlite_check(ob_conn *c, char *result, size_t n, ob_err *err);

/* --- sqlite_stmt.c: the db.h statement calls (see db.h) --- */
int ob_sqlite_prepare(ob_conn *c, const char *sql, ob_stmt **out, ob_err *err);
int ob_sqlite_stmt_bind(ob_stmt *st, int idx, const ob_value *v, ob_err *err);
int ob_sqlite_stmt_step(ob_stmt *st, ob_err *err);
int ob_sqlite_stmt_ncols(ob_stmt *st);
const char *ob_sqlite_stmt_col_name(ob_stmt *st, int i);
ob_vtype ob_sqlite_stmt_col_type(ob_stmt *st, int i);
int64_t ob_sqlite_stmt_col_i64(ob_stmt *st, int i);
double ob_sqlite_stmt_col_f64(ob_stmt *st, int i);
const char *ob_sqlite_stmt_col_text(ob_stmt *st, int i, size_t *n);
void ob_sqlite_stmt_done(ob_stmt *st);
/* Reset busy cached statements and free one-off ones. */
void ob_sqlite_stmts_reset(ob_conn *c);
/* Finalize and free every statement of the connection. */
void ob_sqlite_stmts_free(ob_conn *c);

#endif
