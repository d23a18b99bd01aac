/* core.h - private to src/db: the engine-neutral storage core and the driver
 * interface the two engines implement.
 *
 * The core owns everything that does not depend on the engine: the pool of
 * connections (slots per database, idle readers shared by all threads, the
 * idle list and its budget), the per-database write locks, the per-connection
 * statement cache, value binding checks and the mapping of engine faults to
 * ob_err. A driver (sqlite*.c, pg*.c) only opens, attaches, settles and closes
 * its connections, prepares, runs and frees its statements and classifies its
 * errors as an ob_db_fault.
 *
 * Layout: each engine's ob_store, ob_conn and ob_stmt begin with the core's
 * ob_db_store, ob_db_conn and ob_db_stmt (whose first member is the ops
 * pointer db.c dispatches on), so the core and the driver convert between the
 * two by a cast.
 *
 * Ownership and threads:
 *  - ob_db_store.mu guards the slot table, the idle list, the accounting and
 *    the drop epochs. Lock order: a slot's write lock, then store.mu.
 *  - A slot exists per database with connections, a holder or a waiter of
 *    its write lock; refs counts threads between taking the slot and giving
 *    it back. A slot with refs == 0, no writer and no idle readers is freed.
 *  - An acquired connection is touched only by the acquiring thread; an idle
 *    one is in its slot and in the store's idle list and belongs to the store.
 *    A WRITE connection is the slot's writer and is used only by the holder
 *    of the slot's lock.
 *  - Statements belong to their connection's cache (or are one-off handles
 *    made while the cached statement of the same text is busy, freed by
 *    ob_stmt_done).
 */
#ifndef OB_DB_CORE_H
#define OB_DB_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db_int.h"

#define OB_DB_SLUG_MAX 64          /* 63 characters + NUL */
#define OB_DB_STMT_BUCKETS 512     /* power of two */
#define OB_DB_SLOT_BUCKETS 1024    /* power of two */
/* A SQLite connection's page cache, KiB (ob_db_bulk raises it for a load). */
#define OB_SQLITE_CACHE_KIB 1024
#define OB_SQLITE_CACHE_KIB_STR "1024"

typedef struct ob_db_slot ob_db_slot;
typedef struct ob_db_stmt ob_db_stmt;
typedef struct ob_db_conn ob_db_conn;
typedef struct ob_db_store ob_db_store;

/* The start of every engine's ob_stmt. */
struct ob_db_stmt {
    const ob_db_ops *ops;  /* first: db.c dispatches on it */
    ob_db_conn *conn;
    char *sql;             /* cache key (malloc), cached only */
    uint64_t hash;
    bool busy;             /* handed out and not yet ob_stmt_done */
    bool cached;           /* false: one-off, freed by ob_stmt_done */
    int nparams;           /* placeholders, for the bind check */
    int bind_errors;       /* failed binds since the last reset: step refuses to run */
    int oneoffs;           /* one-off handles made while this one was busy */
    ob_db_stmt *parent;    /* one-off: the cached statement of the same text */
    ob_db_stmt *hnext;     /* bucket chain (cached only) */
    ob_db_stmt *prev, *next; /* LRU, most recent first (one-off: the one-off list) */
    int64_t run_us;        /* time spent in step since the last done (core_timing.c) */
    int64_t rows;          /* rows stepped since the last done */
    int steps;             /* steps since the last done; 0: nothing ran, nothing timed */
};

/* The start of every engine's ob_conn. */
struct ob_db_conn {
    const ob_db_ops *ops;  /* first: db.c dispatches on it */
    const ob_db_driver *drv; /* its engine's, set by the driver when it opens it */
    ob_db_mode mode;
    ob_store *store;       /* set while acquired, NULL while idle */
    char slug[OB_DB_SLUG_MAX]; /* "" for the control database */
    char *generation;      /* malloc, NULL when opened without one */
    uint64_t epoch;        /* the slug's drop epoch when it was attached */
    bool in_use;
    bool in_txn;           /* begun by ob_db_begin and not yet ended */
    bool broken;           /* cannot be used again: closed on release */
    bool idle;             /* in the store's idle list (and, READ, its slot's) */
    bool trimmed;          /* idle, and its caches given back */
    size_t bytes;          /* memory it holds, as last measured */
    unsigned releases;     /* releases since opening, to re-measure now and then */
    bool remeasure;        /* measure again on release (after DDL) */
    int measured_nstmts;   /* nstmts when last measured */

    ob_db_stmt *buckets[OB_DB_STMT_BUCKETS];
    ob_db_stmt *lru_head, *lru_tail; /* cached statements, most recent first */
    ob_db_stmt *oneoff;    /* one-off handles not yet done */
    int nstmts;

    ob_db_conn *prev, *next; /* the store's idle list, most recent first */
    ob_db_conn *snext;       /* the slot's idle readers; a graveyard's chain */
    ob_db_slot *writer;      /* WRITE only: the slot whose writer it is */
};

/* One per database with connections or a pending acquire. */
struct ob_db_slot {
    char slug[OB_DB_SLUG_MAX];
    pthread_mutex_t lock;  /* the database's write lock (error-checking) */
    ob_db_conn *conn;      /* the writer; NULL until opened (or after a drop) */
    ob_db_conn *readers;   /* idle READ connections (linked by snext) */
    int refs;
    ob_db_slot *hnext;
};

/* A tenant database whose first-use check (ob_store_on_first_use) passed. */
typedef struct ob_db_seen {
    struct ob_db_seen *next;
    char slug[OB_DB_SLUG_MAX];
} ob_db_seen;

typedef struct ob_db_epoch {
    char slug[OB_DB_SLUG_MAX];
    uint64_t epoch;
    struct ob_db_epoch *next;
} ob_db_epoch;

/* Counters for tests and benchmarks (under store.mu). */
typedef struct ob_db_pool_stats {
    int open;            /* connections open, acquired or idle */
    int idle;            /* of which idle */
    size_t bytes;        /* memory they hold, as last measured */
    uint64_t opens;      /* connections opened by acquire since the store opened */
    uint64_t evictions;  /* idle connections closed to stay within the budget */
    uint64_t write_locks; /* write locks taken (acquire WRITE, tenant create and drop) */
    int databases;       /* tenant databases with a connection open or in use (ob_db_core_stats) */
} ob_db_pool_stats;

/* The start of every engine's ob_store. */
struct ob_db_store {
    const ob_db_ops *ops;  /* first: db.c dispatches on it */
    const ob_db_driver *drv;
    int busy_timeout_ms;
    size_t mem_budget;     /* bound on memory while connections are idle (0: none) */

    pthread_mutex_t mu;    /* guards everything below */
    ob_db_slot *slots[OB_DB_SLOT_BUCKETS];
    ob_db_conn *idle_head, *idle_tail; /* idle connections, most recently released first */
    size_t mem;            /* sum of bytes of every open connection */
    ob_db_pool_stats stats;
    ob_db_epoch *epochs;   /* only slugs that were ever dropped */
    /* the first-use check and the tenants that passed it (db.c) */
    ob_db_first_use_fn first_use;
    void *first_use_arg;
    ob_db_seen *seen[OB_DB_SLOT_BUCKETS];
    /* told of each tenant writer given back (db.c); set while other threads
     * run, so read and written atomically */
    _Atomic(ob_db_write_fn) on_write;
    void *_Atomic on_write_arg;
};

#define OB_DB_CORE(s) ((ob_db_store *)(void *)(s))
#define OB_DB_CONN(c) ((ob_db_conn *)(void *)(c))
#define OB_DB_STMT(st) ((ob_db_stmt *)(void *)(st))

/* --- core.c: helpers --- */
/* FNV-1a: the key of the slot table, the statement caches and PostgreSQL's
 * advisory locks; the only copy of this hash in src/db. */
uint64_t ob_db_hash(const char *s);
/* calloc/strdup that abort on failure, like the arena (no sane recovery). */
void *ob_db_xcalloc(size_t n, size_t size);
char *ob_db_xstrdup(const char *s);
/* Copy at most len bytes of src into dst[n] and terminate. */
void ob_db_copy_part(char *dst, size_t n, const char *src, size_t len);

/* --- core_err.c: engine faults to ob_err --- */
typedef enum ob_db_fault_kind {
    OB_DBF_UNIQUE,     /* table, columns ("a,b") or index */
    OB_DBF_FOREIGN_KEY,
    OB_DBF_CHECK,      /* name: the check's text or name */
    OB_DBF_NOT_NULL,   /* table, column */
    OB_DBF_RULE,       /* a trigger refused the change (message) */
    OB_DBF_STORAGE,    /* busy, I/O, disk full, connection lost (message) */
    OB_DBF_INTERNAL,   /* anything else (message) */
} ob_db_fault_kind;

typedef struct ob_db_fault {
    ob_db_fault_kind kind;
    const char *table;   /* may be NULL */
    const char *columns; /* UNIQUE: the key's columns, "a,b" (spaces and quotes ignored) */
    size_t columns_len;  /* length of columns */
    const char *name;    /* UNIQUE over an expression: the index; CHECK: its name */
    const char *column;  /* NOT_NULL */
    const char *message; /* the engine's words */
} ob_db_fault;

/* Fill err (which may be NULL) from a classified fault. Returns -1. */
int ob_db_fault_set(ob_err *err, const ob_db_fault *f);

/* --- core_pool.c: the pool and the write locks --- */
/* ops->driver is what the core calls. */
void ob_db_core_init(ob_store *s, const ob_db_ops *ops, int busy_timeout_ms, size_t mem_budget);
/* Close every connection and free every slot (nothing may be acquired). */
void ob_db_core_free(ob_store *s);
int ob_db_core_acquire(ob_store *s, const char *slug, const char *generation, ob_db_mode mode,
                       ob_conn **out, ob_err *err);
void ob_db_core_release(ob_conn *c);
/* Take slug's write lock without a connection, closing its writer if open
 * (tenant create and drop). */
int ob_db_core_lock(ob_store *s, const char *slug, ob_db_slot **out, ob_err *err);
void ob_db_core_unlock(ob_store *s, ob_db_slot *w);
/* After slug's database is gone (under its write lock): bump its drop epoch
 * and close its idle readers; readers out now are closed on release. */
void ob_db_core_dropped(ob_store *s, const char *slug);
void ob_db_core_stats(ob_store *s, ob_db_pool_stats *out);
/* Whether slug passed its first-use check; mark it passed; forget it (drop). */
bool ob_db_core_seen(ob_store *s, const char *slug);
void ob_db_core_seen_add(ob_store *s, const char *slug);
void ob_db_core_seen_forget(ob_store *s, const char *slug);

/* --- core_stmt.c: the statement cache --- */
int ob_db_core_prepare(ob_conn *c, const char *sql, ob_stmt **out, ob_err *err);
void ob_db_core_stmt_done(ob_stmt *st);
/* One execution of p ended (core_timing.c): counted, added to its text's
 * totals, and logged when slower than the slow-query threshold. */
void ob_db_core_timing_record(ob_db_stmt *p);
/* Reset statements still handed out and free one-off handles (release). */
void ob_db_core_stmts_reset(ob_conn *c);
/* Free every statement (slimming, closing). */
void ob_db_core_stmts_free(ob_conn *c, bool server_side);
/* Checks a bind's index before the driver binds; a failed bind is counted
 * on the statement, and a step of a statement with a failed bind is refused. */
int ob_db_core_bind(ob_stmt *st, int idx, const ob_value *v, ob_err *err);
int ob_db_core_step(ob_stmt *st, ob_err *err);

#endif
