/* db_int.h - private to src/db: the table of engine functions behind db.h.
 *
 * db.c implements db.h: acquiring, releasing, preparing, binding and
 * finishing statements go to the engine-neutral core (core.h); everything
 * else is dispatched through the engine's ob_db_ops table, whose driver
 * member is what the core calls. Each engine's ob_store, ob_conn and ob_stmt
 * begin with a pointer to the engine's table (the first member, so db.c can
 * read it without knowing the rest of the struct). ob_store_open picks the
 * engine from opts->url.
 */
#ifndef OB_DB_INT_H
#define OB_DB_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* What a driver does for the core. Every function gets the engine's own
 * types; the core never looks past the ob_db_* prefix. */
typedef struct ob_db_driver {
    /* Open a connection to the database of slug ("" control), or fail with
     * OB_E_NOT_FOUND when it does not exist. */
    int (*open)(ob_store *s, const char *slug, ob_db_mode mode, ob_conn **out, ob_err *err);
    /* Close the connection; its statements are already freed. */
    void (*close)(ob_conn *c);
    /* Optional: run on every acquire before the connection is handed out
     * (PostgreSQL points the session at the slug's schema and checks that it
     * exists). Sets broken when the server went away. */
    int (*attach)(ob_conn *c, const char *slug, ob_err *err);
    /* End an open transaction; false when the connection must not be reused. */
    bool (*settle)(ob_conn *c);
    /* Optional: memory the connection holds now (NULL: it is not counted). */
    size_t (*measure)(ob_conn *c);
    /* Optional: memory the engine holds now, process-wide (NULL: the sum of
     * the connections' measured sizes). */
    size_t (*mem_now)(ob_store *s);
    /* Optional: give back an idle connection's caches (its statements are
     * freed by the core first). */
    void (*slim)(ob_conn *c);
    /* Optional: true when the database a pooled connection has open is no
     * longer the one under its name (SQLite: another process deleted the
     * tenant's file, or replaced it by a restore or a create of the same
     * slug). The core then closes it instead of handing it out; see
     * core_pool.c "Replaced files". */
    bool (*replaced)(ob_conn *c);
    /* Optional: the schema version stamp of a tenant without a full open. */
    int (*peek_version)(ob_store *s, const char *slug, int *version, ob_err *err);
    /* Make a statement for sql. parent is the busy cached statement of the
     * same text when the result will be a one-off, else NULL. Fills the
     * statement's nparams. */
    int (*stmt_make)(ob_conn *c, const char *sql, ob_stmt *parent, ob_stmt **out, ob_err *err);
    /* Reset a statement for its next use and clear its bindings. */
    void (*stmt_reset)(ob_stmt *st);
    /* Free a statement; server_side: also drop what the server holds for it
     * (false when the connection is closing anyway). */
    void (*stmt_free)(ob_stmt *st, bool server_side);
    int stmt_cap;        /* cached statements per connection */
    bool retarget;       /* an idle reader of one database may serve another
                            (attach switches it), so acquire borrows one */
    bool keep_control;   /* never evict the control database's connections */
    int idle_max;        /* idle connections kept (0: no bound by count) */
} ob_db_driver;

typedef struct ob_db_ops {
    ob_db_engine engine;
    /* store */
    int (*store_open)(ob_store **out, const ob_store_opts *opts, ob_err *err);
    void (*store_close)(ob_store *s);
    int (*create_tenant)(ob_store *s, const char *slug, ob_err *err);
    int (*drop_tenant)(ob_store *s, const char *slug, ob_err *err);
    bool (*tenant_exists)(ob_store *s, const char *slug);
    int (*each_tenant)(ob_store *s, int (*fn)(const char *slug, void *ctx), void *ctx, ob_err *err);
    /* connection */
    int (*exec)(ob_conn *c, const char *sql, ob_err *err);
    int (*begin)(ob_conn *c, ob_err *err);
    int (*commit)(ob_conn *c, ob_err *err);
    void (*rollback)(ob_conn *c);
    /* the engine has a transaction open (it may have ended one on its own) */
    bool (*txn_open)(const ob_conn *c);
    int64_t (*changes)(ob_conn *c);
    const char *(*synchronous)(ob_conn *c);
    int (*check)(ob_conn *c, char *result, size_t n, ob_err *err);
    /* statement (bind: the core has checked idx and the value's type) */
    int (*bind)(ob_stmt *st, int idx, const ob_value *v, ob_err *err);
    int (*step)(ob_stmt *st, ob_err *err);
    int (*ncols)(ob_stmt *st);
    const char *(*col_name)(ob_stmt *st, int i);
    ob_vtype (*col_type)(ob_stmt *st, int i);
    int64_t (*col_i64)(ob_stmt *st, int i);
    double (*col_f64)(ob_stmt *st, int i);
    const char *(*col_text)(ob_stmt *st, int i, size_t *n);
    /* what the core calls (pool, statement cache) */
    ob_db_driver driver;
} ob_db_ops;

/* One contract for both drivers: a driver names its functions
 * ob_<engine>_<what> and gets its prototypes and its table from these two
 * macros, so neither can drift from the other. The table's trailing
 * arguments are the driver's optional members and settings. */
#define OB_DB_DRIVER_DECLS(eng)                                                                     \
    int ob_##eng##_store_open(ob_store **out, const ob_store_opts *opts, ob_err *err);              \
    void ob_##eng##_store_close(ob_store *s);                                                        \
    int ob_##eng##_create_tenant(ob_store *s, const char *slug, ob_err *err);                       \
    int ob_##eng##_drop_tenant(ob_store *s, const char *slug, ob_err *err);                         \
    bool ob_##eng##_tenant_exists(ob_store *s, const char *slug);                                   \
    int ob_##eng##_each_tenant(ob_store *s, int (*fn)(const char *, void *), void *ctx, ob_err *err); \
    int ob_##eng##_exec(ob_conn *c, const char *sql, ob_err *err);                                  \
    int ob_##eng##_begin(ob_conn *c, ob_err *err);                                                  \
    int ob_##eng##_commit(ob_conn *c, ob_err *err);                                                 \
    void ob_##eng##_rollback(ob_conn *c);                                                           \
    bool ob_##eng##_txn_open(const ob_conn *c);                                                     \
    int64_t ob_##eng##_changes(ob_conn *c);                                                         \
    const char *ob_##eng##_synchronous(ob_conn *c);                                                 \
    int ob_##eng##_check(ob_conn *c, char *result, size_t n, ob_err *err);                          \
    int ob_##eng##_stmt_bind(ob_stmt *st, int idx, const ob_value *v, ob_err *err);                 \
    int ob_##eng##_stmt_step(ob_stmt *st, ob_err *err);                                             \
    int ob_##eng##_stmt_ncols(ob_stmt *st);                                                         \
    const char *ob_##eng##_stmt_col_name(ob_stmt *st, int i);                                       \
    ob_vtype ob_##eng##_stmt_col_type(ob_stmt *st, int i);                                          \
    int64_t ob_##eng##_stmt_col_i64(ob_stmt *st, int i);                                            \
    double ob_##eng##_stmt_col_f64(ob_stmt *st, int i);                                             \
    const char *ob_##eng##_stmt_col_text(ob_stmt *st, int i, size_t *n);                            \
    int ob_##eng##_drv_open(ob_store *s, const char *slug, ob_db_mode mode, ob_conn **out, ob_err *err); \
    void ob_##eng##_drv_close(ob_conn *c);                                                          \
    bool ob_##eng##_drv_settle(ob_conn *c);                                                         \
    int ob_##eng##_stmt_make(ob_conn *c, const char *sql, ob_stmt *parent, ob_stmt **out, ob_err *err); \
    void ob_##eng##_stmt_reset(ob_stmt *st);                                                        \
    void ob_##eng##_stmt_free(ob_stmt *st, bool server_side)

#define OB_DB_OPS_TABLE(eng, id, ...)                                                               \
    {                                                                                               \
        .engine = id, .store_open = ob_##eng##_store_open, .store_close = ob_##eng##_store_close,   \
        .create_tenant = ob_##eng##_create_tenant, .drop_tenant = ob_##eng##_drop_tenant,           \
        .tenant_exists = ob_##eng##_tenant_exists, .each_tenant = ob_##eng##_each_tenant,           \
        .exec = ob_##eng##_exec, .begin = ob_##eng##_begin, .commit = ob_##eng##_commit,            \
        .rollback = ob_##eng##_rollback, .txn_open = ob_##eng##_txn_open,                           \
        .changes = ob_##eng##_changes, .synchronous = ob_##eng##_synchronous,                       \
        .check = ob_##eng##_check, .bind = ob_##eng##_stmt_bind, .step = ob_##eng##_stmt_step,      \
        .ncols = ob_##eng##_stmt_ncols, .col_name = ob_##eng##_stmt_col_name,                       \
        .col_type = ob_##eng##_stmt_col_type, .col_i64 = ob_##eng##_stmt_col_i64,                   \
        .col_f64 = ob_##eng##_stmt_col_f64, .col_text = ob_##eng##_stmt_col_text,                   \
        .driver = { .open = ob_##eng##_drv_open, .close = ob_##eng##_drv_close,                     \
                    .settle = ob_##eng##_drv_settle, .stmt_make = ob_##eng##_stmt_make,             \
                    .stmt_reset = ob_##eng##_stmt_reset, .stmt_free = ob_##eng##_stmt_free,         \
                    __VA_ARGS__ }                                                                   \
    }

/* The engines' tables (sqlite_conn.c, pg_conn.c). */
extern const ob_db_ops ob_sqlite_ops;
extern const ob_db_ops ob_pg_ops;

/* The SQLite driver's empty-database templates (sqlite.c), behind ob_db_template_*. */
int ob_sqlite_template_load(ob_conn *c, const char *key, bool *loaded, ob_err *err);
/* The stamp of a tenant's files (ob_db_tenant_stamp), stat() only. */
int ob_sqlite_tenant_stamp(ob_store *s, const char *slug, uint64_t *stamp);
void ob_sqlite_template_save(ob_conn *c, const char *key);

/* ob_err_set that tolerates a NULL err, for both engines. Returns -1. */
int ob_db_err(ob_err *err, ob_errcode code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The PostgreSQL driver's tenant move (pg_move.c), behind ob_db_move_tenant. */
int ob_pg_move_tenant(ob_store *s, const char *slug, const ob_move_opts *o, ob_move_report *rep, ob_err *err);

#endif
