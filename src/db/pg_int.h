/* pg_int.h - private to the PostgreSQL driver (src/db/pg*.c, the only files
 * that include <libpq-fe.h>).
 *
 * Layout in the database: schema `public` holds the control tables, schema
 * `tenant_<slug>` (dashes become underscores; slugs have no underscores, so
 * the mapping is one to one) holds one tenant's tables. Every acquire sets
 * the connection's search_path to exactly one of these schemas (and checks
 * that it exists) in the same round trip, before the connection is handed
 * out (the driver's attach), so a statement can only name tables of the
 * tenant it was acquired for; a connection already standing on that schema
 * keeps it without the round trip (pg_conn.c, attached, says why that is safe).
 *
 * The pool, the in-process write locks, the statement cache and the error
 * mapping are the core's (core.h). Because a connection is not tied to one
 * schema, the core may point an idle reader of one tenant at another
 * (retarget) and bounds the idle connections by count (a server has a
 * connection limit). What is PostgreSQL's own:
 *  - WRITE: ob_db_begin on a WRITE connection takes a transaction-scoped
 *    advisory lock on the tenant, so writes to one tenant are serialized
 *    across processes as well, like SQLite's BEGIN IMMEDIATE.
 *  - ob_stmt: one server-side prepared statement (named "s<n>"), or a one-off
 *    handle on a cached statement that is busy (sharing its name). A step
 *    runs the statement and keeps the whole result; later steps walk its rows.
 *  - A connection whose server went away is marked broken and closed on
 *    release; the next acquire opens a new one. Connection failures and
 *    server shutdowns are OB_E_STORAGE.
 */
#ifndef OB_PG_INT_H
#define OB_PG_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/core.h"

#define OB_PG_SCHEMA_MAX 72      /* "tenant_" + slug + NUL */
#define OB_PG_STMT_CAP 512       /* cached statements per connection */
#define OB_PG_IDLE_MAX 16        /* idle connections the pool keeps */

struct ob_stmt {
    ob_db_stmt base;      /* first: the core's part */
    char name[16];        /* server-side prepared statement name */
    char **vals;          /* bound values as text (malloc each), NULL = SQL null */
    PGresult *res;        /* result of the last step's execution */
    PGresult *desc;       /* describe result, for column names before a step */
    int row, nrows;       /* current row in res (-1 before the first step) */
    char (*tsbuf)[32];    /* per-column timestamp text rewritten to RFC 3339 */
    int ntsbuf;
};

struct ob_conn {
    ob_db_conn base;      /* first: the core's part */
    PGconn *pg;
    char schema[OB_PG_SCHEMA_MAX]; /* search_path set on it ("" unknown) */
    ob_store *owner;      /* the store that opened it (base.store is set only while acquired) */
    char *server;         /* URL it was opened to when not the main server (malloc) */
    int64_t changes;
    unsigned next_name;
};

struct ob_store {
    ob_db_store base;     /* first: the core's part */
    char *url;
    char sync_name[8];    /* "full", "normal" or "off" as configured */
    struct ob_pg_place *place; /* the placements cache (pg_place.c) */
};

OB_DB_DRIVER_DECLS(pg);

/* --- pg_conn.c --- */
/* The schema of a slug ("" or NULL: "public"). The slug must be valid. */
void ob_pg_schema_name(const char *slug, char out[OB_PG_SCHEMA_MAX]);
/* Fill err from a failed result (or from the connection when res is NULL),
 * marking the connection broken when the server went away. Returns -1. */
int ob_pg_fail(ob_conn *c, const PGresult *res, ob_err *err);
/* Run a parameterless command; -1 with err filled on failure. */
int ob_pg_run(ob_conn *c, const char *sql, ob_err *err);
/* The advisory lock key of a tenant's writes (class 0x0b5e). */
int32_t ob_pg_lock_key(const char *slug);
/* --- pg_place.c --- */
void ob_pg_place_init(ob_store *s);
void ob_pg_place_free(ob_store *s);
/* The server of slug's schema: *url NULL for the main server, else a malloc'd
 * URL; *moving while a move copies it. fresh: read the table again first. */
int ob_pg_place_get(ob_store *s, const char *slug, bool fresh, char **url, bool *moving, ob_err *err);
void ob_pg_place_invalidate(ob_store *s);
/* fn for each tenant placed on a server other than the main one. */
int ob_pg_place_each(ob_store *s, int (*fn)(const char *slug, void *ctx), void *ctx, ob_err *err);
/* Open a plain session (our settings, no pool) to url (NULL: the main one). */
PGconn *ob_pg_connect(ob_store *s, const char *url, ob_err *err);
/* --- pg_stmt.c --- */
/* Rewrite `?` placeholders to $1..$n outside quotes; *nparams gets n. */
char *ob_pg_rewrite_params(const char *sql, int *nparams);

/* pg.c: ob_db_peek_version for PostgreSQL (the driver's peek_version). */
int ob_pg_peek_version(ob_store *s, const char *slug, int *version, ob_err *err);

#endif
