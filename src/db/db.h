/* db.h - the one storage interface. Nothing above src/db/ includes an engine
 * header or speaks an engine's API.
 *
 * A store is opened once per process (ob_store_open) and knows where the
 * control database and the tenant databases live. Code obtains a connection
 * for the control database (tenant NULL) or one tenant with ob_db_acquire and
 * gives it back with ob_db_release. A READ connection is private to the
 * calling thread until released; idle ones are shared by all threads and kept
 * open within a memory budget (ob_store_opts.conn_memory). A WRITE
 * connection is the tenant's single writer: acquiring it takes the tenant's
 * write lock, so writes to one tenant are serialized while writes to
 * different tenants run in parallel; a READ connection never takes it (each
 * write lock granted is counted and logged at debug level). Acquire never creates a database: a
 * missing tenant is OB_E_NOT_FOUND; ob_db_create_tenant creates one.
 *
 * SQL uses `?` placeholders only; every value is bound (ob_value). SQL text is
 * built only from registry identifiers. Prepared statements are cached per
 * connection by their text, so callers may prepare the same SQL every request.
 * A statement obtained from ob_db_prepare belongs to the connection; call
 * ob_stmt_done when finished with it (resets it for reuse).
 *
 * Errors from the engine are mapped: a unique violation is OB_E_CONFLICT with
 * err->constraint naming "table.column[,column]"; a foreign key violation is
 * OB_E_UNPROCESSABLE (constraint "foreign_key"); a check violation is
 * OB_E_VALIDATION (constraint = the check's text); busy/locked, I/O errors and
 * a full disk are OB_E_STORAGE.
 */
#ifndef OB_DB_H
#define OB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

typedef enum ob_db_engine { OB_DB_SQLITE, OB_DB_POSTGRES } ob_db_engine;
typedef enum ob_db_mode { OB_DB_READ, OB_DB_WRITE } ob_db_mode;

typedef enum ob_vtype { OB_V_NULL, OB_V_INT, OB_V_REAL, OB_V_TEXT, OB_V_BOOL, OB_V_DEC } ob_vtype;

/* A bound value or a column value. Text is not owned and need not be
 * NUL-terminated (n is its length). OB_V_DEC is an exact decimal: i minor units
 * with `scale` fraction digits (sqlite stores the integer, postgres numeric). */
typedef struct ob_value {
    ob_vtype t;
    int scale;
    int64_t i;
    double r;
    const char *s;
    size_t n;
} ob_value;

static inline ob_value ob_v_null(void) { ob_value v = {0}; v.t = OB_V_NULL; return v; }
static inline ob_value ob_v_int(int64_t i) { ob_value v = {0}; v.t = OB_V_INT; v.i = i; return v; }
static inline ob_value ob_v_bool(bool b) { ob_value v = {0}; v.t = OB_V_BOOL; v.i = b; return v; }
static inline ob_value ob_v_real(double r) { ob_value v = {0}; v.t = OB_V_REAL; v.r = r; return v; }
static inline ob_value ob_v_dec(int64_t minor, int scale) { ob_value v = {0}; v.t = OB_V_DEC; v.i = minor; v.scale = scale; return v; }
ob_value ob_v_text(const char *s); /* NULL -> null value */
static inline ob_value ob_v_textn(const char *s, size_t n) { ob_value v = {0}; v.t = OB_V_TEXT; v.s = s; v.n = n; return v; }

typedef struct ob_store ob_store;
typedef struct ob_conn ob_conn;
typedef struct ob_stmt ob_stmt;

typedef struct ob_store_opts {
    const char *data_dir;     /* SQLite: DATA/control.db and DATA/tenants/<slug>.db */
    const char *url;          /* postgres://... (NULL: embedded SQLite) */
    const char *synchronous;  /* "full" (default), "normal", "off" */
    int busy_timeout_ms;      /* default 5000 */
    size_t conn_memory;       /* SQLite: memory in bytes above which idle connections are
                                 slimmed, then closed (0: 256 MiB); see src/db/README.md */
    bool create;              /* create the data directory and control db if missing */
} ob_store_opts;

int ob_store_open(ob_store **out, const ob_store_opts *opts, ob_err *err);
void ob_store_close(ob_store *s);
ob_db_engine ob_store_engine(const ob_store *s);

/* The pool's figures now, for /metrics. */
typedef struct ob_store_stats {
    int conns_open, conns_idle; /* connections open (in use or idle), of which idle */
    int tenants_open;           /* tenant databases with a connection open or in use */
    int64_t bytes;              /* memory the open connections hold, as last measured */
    int64_t opens, evictions, write_locks; /* since the store opened */
} ob_store_stats;
void ob_store_stats_get(ob_store *s, ob_store_stats *out);

/* What statements cost (core_timing.c), process-wide. An execution is a
 * prepared statement's steps up to ob_stmt_done, timed inside the engine.
 * ms >= 0: every execution at least that slow is logged once (warn: engine,
 * tenant, the SQL text with its placeholders, never the bound values,
 * duration and rows); -1 (the default) turns the log off. */
void ob_db_slow_query_ms(int64_t ms);
/* Executions since start, and of them those logged as slow. */
void ob_db_timing_counts(int64_t *statements, int64_t *slow_statements);
/* Totals per SQL text (bounded: at most 768 texts, then one "(other
 * statements)" row); the max with the largest total time first. */
typedef struct ob_db_stmt_stat {
    char sql[512]; /* the text, cut at 511 bytes */
    int64_t calls, total_us, max_us, rows;
} ob_db_stmt_stat;
int ob_db_stmt_stats_top(ob_db_stmt_stat *out, int max);
/* Forget the totals and counts (tests). */
void ob_db_timing_reset(void);

/* True when slug is a valid tenant slug: [a-z0-9][a-z0-9-]{0,62}, no "--" at
 * the ends. Checked before any file or schema name is formed. */
bool ob_db_slug_valid(const char *slug);

/* Create an empty tenant database; OB_E_CONFLICT if it exists. */
int ob_db_create_tenant(ob_store *s, const char *slug, ob_err *err);
/* Remove a tenant database entirely (closes cached connections first). */
int ob_db_drop_tenant(ob_store *s, const char *slug, ob_err *err);
/* Whether a tenant database exists. A caller about to read a tenant need not
 * ask first: a read of a tenant that another process has deleted fails by
 * itself on every engine, so a failed read means "maybe gone". PostgreSQL:
 * the schema is gone, no table is reached. SQLite: the acquire fails, since a
 * pooled connection whose file was deleted or replaced is closed on acquire
 * (core_pool.c "Replaced files") and opening a missing file fails. */
bool ob_db_tenant_exists(ob_store *s, const char *slug);
/* The schema version a tenant database was last migrated to, read without a
 * full open (SQLite: the user_version stamp), so a server with many tenants
 * starts fast. -1 in *version when the engine cannot tell cheaply. */
int ob_db_peek_version(ob_store *s, const char *slug, int *version, ob_err *err);

/* A check run before a tenant database's first connection of this store is
 * handed out (serve: the tenant's schema stamp, migrating it when behind), so
 * a start does not visit every tenant. Runs once per tenant and store while it
 * succeeds (two threads meeting a tenant first may both run it: it must be
 * safe to repeat); a failure fails that acquire and is tried again on the
 * next. fn may acquire connections of the same tenant: the check is not
 * re-entered by its own thread. A dropped tenant is checked again. Set it
 * before connections are acquired by more than one thread. */
typedef int (*ob_db_first_use_fn)(ob_store *s, const char *slug, const char *generation, void *arg,
                                  ob_err *err);
void ob_store_on_first_use(ob_store *s, ob_db_first_use_fn fn, void *arg);
/* Run fn(arg, err) in place of tenant slug's first-use check: this thread's
 * acquires of the tenant inside fn skip the check, and when fn succeeds the
 * tenant counts as checked. For the code that makes a tenant's database
 * current itself (a new tenant's provisioning migrates and seeds it): the
 * check would migrate and seed it first, the work done twice. */
int ob_db_first_use_by(ob_store *s, const char *slug, int (*fn)(void *arg, ob_err *err), void *arg, ob_err *err);

/* Told, after a tenant's WRITE connection is given back (its transaction
 * committed or rolled back), that the tenant may have changed: the job
 * workers trust "nothing due" only while nothing was written since. Called on
 * the releasing thread with no lock of the store held; it must be quick. NULL
 * turns it off. May be set while other threads use the store. */
typedef void (*ob_db_write_fn)(const char *slug, void *arg);
void ob_store_on_write(ob_store *s, ob_db_write_fn fn, void *arg);

/* A cheap stamp of a tenant database's state as another process could have
 * changed it, without opening it: SQLite stats the database file and its
 * non-empty -wal (inode, size, modification time), so a commit
 * by any process changes the stamp (short of two commits in one clock tick
 * leaving the same sizes). 1 with *stamp; 0 when the engine has no such stamp
 * (PostgreSQL) or the file cannot be read. */
int ob_db_tenant_stamp(ob_store *s, const char *slug, uint64_t *stamp);

/* Move a tenant's schema to another PostgreSQL server (tenant_placements;
 * see docs/scaling.md). Writes to the tenant answer 503 while it is copied;
 * the copy's row counts are checked before the placement is switched; the
 * old schema is kept renamed (old_schema names it) unless drop_old. SQLite
 * refuses (OB_E_UNPROCESSABLE): its tenants live in the data directory. */
typedef struct ob_move_opts {
    const char *to_url;       /* the target server's URL or conninfo */
    bool drop_old;            /* drop the old schema instead of keeping it renamed */
    const char *pg_bin;       /* directory of pg_dump and pg_restore (NULL: PATH) */
} ob_move_opts;
typedef struct ob_move_report {
    int64_t pause_ms;         /* writes refused or waiting: from 'moving' to the switch */
    int64_t copy_ms;          /* pg_dump | pg_restore of the schema */
    int64_t rows;             /* rows copied, as counted on both servers */
    int tables;
    char old_schema[96];      /* the renamed old schema ("" when dropped) */
    char from[512];           /* the server the tenant was on (cut if longer) */
} ob_move_report;
int ob_db_move_tenant(ob_store *s, const char *slug, const ob_move_opts *o, ob_move_report *rep, ob_err *err);

/* Get a connection. tenant NULL means the control database. generation, if not
 * NULL, identifies this incarnation of the tenant (its id): cached connections
 * opened under another generation are reopened, so a deleted and recreated
 * tenant never sees the old file. */
int ob_db_acquire(ob_store *s, const char *tenant, const char *generation, ob_db_mode mode,
                  ob_conn **out, ob_err *err);
/* Give the connection back (rolls back an open transaction, unlocks a writer). */
void ob_db_release(ob_conn *c);
ob_db_engine ob_conn_engine(const ob_conn *c);
/* The tenant slug a connection (or a statement's connection) belongs to, ""
 * for the control database: the key that seals its secrets (db/secrets.h). */
const char *ob_conn_tenant(const ob_conn *c);
const char *ob_stmt_tenant(const ob_stmt *st);

/* Run SQL without parameters (DDL, pragmas); several statements allowed. */
int ob_db_exec(ob_conn *c, const char *sql, ob_err *err);
/* Empty-database templates (SQLite): a database that has just been given its
 * whole schema is kept as templates/<key>.db in the data directory, and the
 * next database made from the same schema text (key: its hash) copies its
 * pages instead of running the DDL again, which is most of a tenant's
 * creation. *loaded false when there is no template of key (and always on
 * PostgreSQL, where a schema cannot be copied). Saving is best effort: a
 * failure leaves the next creation to run the DDL. c has no transaction open. */
int ob_db_template_load(ob_conn *c, const char *key, bool *loaded, ob_err *err);
void ob_db_template_save(ob_conn *c, const char *key);
/* A bulk load (a restore) on c: on SQLite a page cache large enough that a
 * transaction of many rows and indexes does not spill to disk page by page;
 * off gives the memory back. A no-op on PostgreSQL. */
int ob_db_bulk(ob_conn *c, bool on, ob_err *err);
/* Transactions: a WRITE connection begins IMMEDIATE (takes the write lock at
 * once); a READ connection begins a read snapshot. Commit returns 0 only when
 * the engine reported the commit durable per the configured synchronous mode. */
int ob_db_begin(ob_conn *c, ob_err *err);
int ob_db_commit(ob_conn *c, ob_err *err);
void ob_db_rollback(ob_conn *c);
bool ob_db_in_txn(const ob_conn *c);

int ob_db_prepare(ob_conn *c, const char *sql, ob_stmt **out, ob_err *err);
/* idx is 1-based. Values are copied by the engine where needed. An index
 * outside the statement's placeholders or an unknown value type is an error,
 * and a statement with a failed bind refuses to step (OB_E_INTERNAL) until
 * ob_stmt_done, so a value can never be silently missing. */
int ob_stmt_bind(ob_stmt *st, int idx, const ob_value *v, ob_err *err);
int ob_stmt_bind_text(ob_stmt *st, int idx, const char *s, ob_err *err); /* NULL binds null */
int ob_stmt_bind_i64(ob_stmt *st, int idx, int64_t v, ob_err *err);
/* 1: a row is available; 0: done; -1: error (err filled). */
int ob_stmt_step(ob_stmt *st, ob_err *err);
int ob_stmt_ncols(ob_stmt *st);
const char *ob_stmt_col_name(ob_stmt *st, int i);
/* Column i (0-based) of the current row. A text pointer is valid until the
 * next step or done. col_type reports what the engine holds (INT, REAL, TEXT
 * or NULL); the schema layer knows the declared type. */
ob_vtype ob_stmt_col_type(ob_stmt *st, int i);
int64_t ob_stmt_col_i64(ob_stmt *st, int i);
double ob_stmt_col_f64(ob_stmt *st, int i);
const char *ob_stmt_col_text(ob_stmt *st, int i, size_t *n);
/* Reset and clear bindings; the statement stays cached on its connection. */
void ob_stmt_done(ob_stmt *st);

/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t ob_db_changes(ob_conn *c);

/* Configured synchronous mode as the engine reports it ("full", "normal",
 * "off"); used to refuse starting when it differs from the configuration. */
const char *ob_db_synchronous(ob_conn *c);
/* Integrity check of one database ("ok" in *result when fine). */
int ob_db_check(ob_conn *c, char *result, size_t n, ob_err *err);
/* List tenant slugs present in storage, calling fn for each. */
int ob_db_each_tenant(ob_store *s, int (*fn)(const char *slug, void *ctx), void *ctx, ob_err *err);

#endif
