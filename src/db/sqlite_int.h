/* sqlite_int.h - private to the SQLite implementation of db.h (src/db/sqlite*.c).
 *
 * Pieces and who owns what:
 *  - ob_store: paths, settings, the table of database slots, the idle
 *    connection list and the per-slug drop epochs, all guarded by store->mu.
 *    Lives from ob_store_open to ob_store_close.
 *  - ob_sqlite_slot: one per database that has open connections or a pending
 *    acquire: its write lock, its writer connection and its idle readers.
 *  - ob_conn: one sqlite3 handle plus its statement cache. While acquired it
 *    is touched only by the acquiring thread; while idle it sits in its slot
 *    and in the store's idle list, owned by the store (sqlite_pool.c). A READ
 *    connection may be handed to another thread on its next acquire, a WRITE
 *    connection is touched only by the thread holding its slot's lock. Either
 *    way a connection is used by one thread at a time, which is why every
 *    handle is opened with SQLITE_OPEN_NOMUTEX.
 *  - ob_stmt: one prepared statement, owned by its connection's cache (or, when
 *    the cached one is busy, a one-off statement freed by ob_stmt_done).
 */
#ifndef OB_SQLITE_INT_H
#define OB_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
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

typedef struct ob_sqlite_slot ob_sqlite_slot;

struct ob_conn {
    const ob_db_ops *ops; /* first: db.c dispatches on it */
    sqlite3 *db;
    ob_db_mode mode;
    ob_store *store;          /* set while acquired, NULL while idle */
    char slug[OB_SQLITE_SLUG_MAX]; /* "" for the control database */
    char *generation;         /* malloc, NULL when opened without one */
    uint64_t epoch;           /* the slug's drop epoch when opened */
    bool in_use;
    bool in_txn;              /* begun by ob_db_begin and not yet ended */
    bool idle;                /* in the store's idle list (and, READ, its slot's) */
    bool trimmed;             /* idle, and its page and statement caches given back */
    size_t bytes;             /* memory it holds, as last measured (store->mem) */
    size_t schema_bytes;      /* its parsed schema, as last measured */
    unsigned releases;        /* counts releases between re-measurements */
    bool remeasure;           /* measure again on release (after ob_db_exec) */
    int measured_nstmts;      /* nstmts when last measured */

    ob_stmt *buckets[OB_SQLITE_STMT_BUCKETS];
    ob_stmt *lru_head, *lru_tail; /* cached statements, most recent first */
    ob_stmt *oneoff;              /* statements outside the cache */
    int nstmts;

    ob_conn *prev, *next;         /* the store's idle list, most recent first */
    ob_conn *snext;               /* the slot's idle readers (READ only) */
    ob_sqlite_slot *writer;       /* WRITE only: the slot whose writer it is */
};

/* One slot per database with connections. refs counts threads between
 * taking the write lock's slot and releasing it, so a slot with refs == 0 is
 * neither held nor awaited; such a slot with no writer connection and no idle
 * readers is freed (under store->mu). */
struct ob_sqlite_slot {
    char slug[OB_SQLITE_SLUG_MAX];
    pthread_mutex_t lock;     /* the database's write lock */
    ob_conn *conn;            /* the writer; NULL until opened (or after a drop) */
    ob_conn *readers;         /* idle READ connections (linked by snext) */
    int refs;
    ob_sqlite_slot *hnext;
};

typedef struct ob_sqlite_epoch {
    char slug[OB_SQLITE_SLUG_MAX];
    uint64_t epoch;
    struct ob_sqlite_epoch *next;
} ob_sqlite_epoch;

#define OB_SQLITE_SLOT_BUCKETS 1024 /* power of two */

/* Counters for tests and benchmarks (under store->mu). */
typedef struct ob_sqlite_pool_stats {
    int open;        /* connections open, acquired or idle */
    int idle;        /* of which idle */
    size_t bytes;    /* memory they hold, as last measured */
    uint64_t opens;  /* connections opened by acquire since the store opened */
    uint64_t evictions; /* idle connections closed to stay within the budget */
} ob_sqlite_pool_stats;

struct ob_store {
    const ob_db_ops *ops; /* first: db.c dispatches on it */
    char *data_dir;
    int sync_level;           /* 0 off, 1 normal, 2 full, 3 extra */
    int busy_timeout_ms;
    size_t mem_budget;        /* bound on store->mem while connections are idle */

    pthread_mutex_t mu;       /* guards everything below */
    ob_sqlite_slot *slots[OB_SQLITE_SLOT_BUCKETS];
    ob_conn *idle_head, *idle_tail; /* idle connections, most recently released first */
    size_t mem;               /* sum of bytes of every open connection */
    ob_sqlite_pool_stats stats;
    ob_sqlite_epoch *epochs;  /* only slugs that were ever dropped */
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

/* Memory a connection holds now: its parsed schema, page cache and prepared
 * statements. Walks the schema and the statements: call it now and then, not
 * on every use. */
size_t ob_sqlite_conn_bytes(ob_conn *c);

/* --- sqlite_pool.c --- */
int ob_sqlite_reader_acquire(ob_store *s, const char *slug, const char *generation,
                             ob_conn **out, ob_err *err);
void ob_sqlite_reader_release(ob_conn *c);
int ob_sqlite_writer_acquire(ob_store *s, const char *slug, const char *generation,
                             ob_conn **out, ob_err *err);
void ob_sqlite_writer_release(ob_conn *c);
/* Take a slug's write lock without opening a connection, close its writer
 * connection if open, and return the held slot (for create and drop). */
int ob_sqlite_writer_lock_closed(ob_store *s, const char *slug, ob_sqlite_slot **out,
                                 ob_err *err);
/* Release a slot taken with ob_sqlite_writer_lock_closed. */
void ob_sqlite_writer_unlock(ob_store *s, ob_sqlite_slot *w);
/* After the slug's files are gone (drop, under its write lock): bump its drop
 * epoch and close its idle readers. Readers acquired before are closed when
 * they are released, since their epoch no longer matches. */
void ob_sqlite_slug_dropped(ob_store *s, const char *slug);
/* Close every connection and free every slot (store close; nothing may be
 * acquired). */
void ob_sqlite_pool_free(ob_store *s);
/* A copy of the pool's counters. */
void ob_sqlite_pool_stats_get(ob_store *s, ob_sqlite_pool_stats *out);

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
