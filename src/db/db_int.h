/* db_int.h - private to src/db: the table of engine functions behind db.h.
 *
 * db.c implements db.h: acquiring, releasing, preparing, binding and
 * finishing statements go to the engine-neutral core (core.h); everything
 * else is dispatched through the engine's ob_db_ops table. Each engine's
 * ob_store, ob_conn and ob_stmt begin with a pointer to the engine's table
 * (the first member, so db.c can read it without knowing the rest of the
 * struct). ob_store_open picks the engine from opts->url.
 */
#ifndef OB_DB_INT_H
#define OB_DB_INT_H

#include <stdint.h>

#include "db/db.h"

typedef struct ob_db_ops {
    ob_db_engine engine;
    /* store */
    int (*store_open)(ob_store **out, const ob_store_opts *opts, ob_err *err);
    void (*store_close)(ob_store *s);
    int (*create_tenant)(ob_store *s, const char *slug, ob_err *err);
    int (*drop_tenant)(ob_store *s, const char *slug, ob_err *err);
    bool (*tenant_exists)(ob_store *s, const char *slug);
    /* Optional: the schema version stamp of a tenant without a full open. */
    int (*peek_version)(ob_store *s, const char *slug, int *version, ob_err *err);
    int (*each_tenant)(ob_store *s, int (*fn)(const char *slug, void *ctx), void *ctx, ob_err *err);
    /* connection */
    int (*exec)(ob_conn *c, const char *sql, ob_err *err);
    int (*begin)(ob_conn *c, ob_err *err);
    int (*commit)(ob_conn *c, ob_err *err);
    void (*rollback)(ob_conn *c);
    bool (*in_txn)(const ob_conn *c);
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
} ob_db_ops;

/* The engines' tables (sqlite.c, pg.c). */
extern const ob_db_ops ob_sqlite_ops;
extern const ob_db_ops ob_pg_ops;

/* ob_err_set that tolerates a NULL err, for both engines. Returns -1. */
int ob_db_err(ob_err *err, ob_errcode code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
