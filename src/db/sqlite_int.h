/* sqlite_int.h - private to the SQLite driver (src/db/sqlite*.c, the only
 * files that include <sqlite3.h>).
 *
 * The pool, the write locks, the statement cache and error mapping are the
 * core's (core.h); the driver holds what only SQLite has: the data directory
 * layout, one sqlite3 handle per connection with its pragmas, one
 * sqlite3_stmt per statement, and the classification of SQLite's result codes.
 *
 * Every handle is opened with SQLITE_OPEN_NOMUTEX: the core hands a
 * connection to one thread at a time (see core.h).
 */
#ifndef OB_SQLITE_INT_H
#define OB_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/core.h"

#define OB_SQLITE_STMT_CAP 256     /* cached statements per connection */
#define OB_SQLITE_PATH_MAX 4096

struct ob_stmt {
    ob_db_stmt base;       /* first: the core's part */
    sqlite3_stmt *st;
};

struct ob_conn {
    ob_db_conn base;       /* first: the core's part */
    sqlite3 *db;
    size_t schema_bytes;   /* its parsed schema, as last measured */
};

struct ob_store {
    ob_db_store base;      /* first: the core's part */
    char *data_dir;
    int sync_level;        /* 0 off, 1 normal, 2 full, 3 extra */
};

OB_DB_DRIVER_DECLS(sqlite);
int ob_sqlite_peek_version(ob_store *s, const char *slug, int *version, ob_err *err);

/* --- sqlite_conn.c --- */
/* Path of the control database (slug "" or NULL) or of a tenant database.
 * The slug must already be valid. -1 when the path would not fit. */
int ob_sqlite_path(const ob_store *s, const char *slug, char *out, size_t n);
/* Open a handle on an existing file (or create it when create is true) and
 * apply the connection pragmas. A missing file is OB_E_NOT_FOUND. The
 * connection is outside the pool (store open, tenant create) until the core
 * opens it through the driver. */
int ob_sqlite_conn_open(ob_store *s, const char *slug, ob_db_mode mode, bool create,
                        ob_conn **out, ob_err *err);
/* Close a connection opened with ob_sqlite_conn_open outside the pool. */
void ob_sqlite_conn_close(ob_conn *c);
/* Fill err from the handle's last error (rc is the code the call returned). */
int ob_sqlite_fail(ob_err *err, sqlite3 *db, int rc);

#endif
