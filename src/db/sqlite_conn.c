/* sqlite_conn.c - one SQLite connection: opening with the connection pragmas,
 * error mapping, exec, transactions and the small per-connection queries. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db/sqlite_int.h"
#include "base/banned.h"

/* Page cache per connection, in KiB (negative pragma value). Threads each keep
 * up to readers_per_thread readers, so this stays small; the OS page cache
 * does the heavy lifting. */
#define OB_SQLITE_CACHE_KIB 1024

int ob_sqlite_err(ob_err *err, ob_errcode code, const char *fmt, ...)
{
    if (!err)
        return -1;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ob_err_set(err, code, "%s", buf);
}

void *ob_sqlite_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort();
    return p;
}

char *ob_sqlite_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

int ob_sqlite_path(const ob_store *s, const char *slug, char *out, size_t n)
{
    int len;
    if (!slug || !*slug)
        len = snprintf(out, n, "%s/control.db", s->data_dir);
    else
        len = snprintf(out, n, "%s/tenants/%s.db", s->data_dir, slug);
    return (len < 0 || (size_t)len >= n) ? -1 : 0;
}

uint64_t ob_sqlite_epoch_get(const ob_store *s, const char *slug)
{
    for (const ob_sqlite_epoch *e = s->epochs; e; e = e->next)
        if (strcmp(e->slug, slug) == 0)
            return e->epoch;
    return 0;
}

/* Copy at most len bytes of src into dst[n] and terminate. */
static void copy_part(char *dst, size_t n, const char *src, size_t len)
{
    if (len >= n)
        len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static const char *after_prefix(const char *msg, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(msg, prefix, n) == 0 ? msg + n : NULL;
}

/* Append s[0..len) to buf[n] (holding *used bytes), truncating. */
static void append(char *buf, size_t n, size_t *used, const char *s, size_t len)
{
    if (*used + len >= n)
        len = n - 1 - *used;
    memcpy(buf + *used, s, len);
    *used += len;
    buf[*used] = '\0';
}

/* "UNIQUE constraint failed: t.a, t.b" -> constraint "t.a,b", field "a";
 * "UNIQUE constraint failed: index 'ix'" (expression index) -> constraint "ix". */
static int map_unique(ob_err *err, const char *msg)
{
    const char *p = after_prefix(msg, "UNIQUE constraint failed: ");
    if (!p)
        return ob_err_set(err, OB_E_CONFLICT, NULL);
    const char *ix = after_prefix(p, "index '");
    if (ix) {
        char name[96];
        const char *q = strchr(ix, '\'');
        copy_part(name, sizeof name, ix, q ? (size_t)(q - ix) : strlen(ix));
        ob_err_set(err, OB_E_CONFLICT, "a record with the same values exists ('%s')", name);
        snprintf(err->constraint, sizeof err->constraint, "%s", name);
        return -1;
    }
    char constraint[sizeof err->constraint] = "", cols[96] = "", field[sizeof err->field] = "";
    size_t clen = 0, colen = 0;
    for (bool first = true; *p; first = false) {
        size_t tok = strcspn(p, ",");
        const char *dot = memchr(p, '.', tok);
        const char *col = dot ? dot + 1 : p;
        size_t collen = tok - (size_t)(col - p);
        if (first) {
            /* only the first column keeps its table: "table.column[,column]" */
            append(constraint, sizeof constraint, &clen, p, tok);
            copy_part(field, sizeof field, col, collen);
        } else {
            append(constraint, sizeof constraint, &clen, ",", 1);
            append(constraint, sizeof constraint, &clen, col, collen);
            append(cols, sizeof cols, &colen, ",", 1);
        }
        append(cols, sizeof cols, &colen, col, collen);
        p += tok;
        while (*p == ',' || *p == ' ')
            p++;
    }
    ob_err_set(err, OB_E_CONFLICT, "a record with the same '%s' exists", cols);
    snprintf(err->constraint, sizeof err->constraint, "%s", constraint);
    snprintf(err->field, sizeof err->field, "%s", field);
    return -1;
}

/* "NOT NULL constraint failed: t.col" -> field "col", constraint "t.col". */
static int map_notnull(ob_err *err, const char *msg)
{
    const char *p = after_prefix(msg, "NOT NULL constraint failed: ");
    if (!p)
        return ob_err_set(err, OB_E_VALIDATION, "a required value is missing");
    const char *dot = strchr(p, '.');
    const char *col = dot ? dot + 1 : p;
    char field[64];
    copy_part(field, sizeof field, col, strlen(col));
    ob_err_set(err, OB_E_VALIDATION, "'%s' is required", field);
    snprintf(err->constraint, sizeof err->constraint, "%s", p);
    snprintf(err->field, sizeof err->field, "%s", field);
    ob_err_field_add(err, field, "required");
    return -1;
}

int ob_sqlite_fail(ob_err *err, sqlite3 *db, int rc)
{
    if (!err)
        return -1;
    int ext = db ? sqlite3_extended_errcode(db) : rc;
    /* The handle may hold an older error when rc came from elsewhere. */
    if ((ext & 0xff) != (rc & 0xff))
        ext = rc;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return map_unique(err, msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        ob_err_set(err, OB_E_UNPROCESSABLE,
                   "a referenced record does not exist, or the record is still referenced");
        snprintf(err->constraint, sizeof err->constraint, "foreign_key");
        return -1;
    case SQLITE_CONSTRAINT_CHECK: {
        const char *p = after_prefix(msg, "CHECK constraint failed: ");
        char name[96];
        copy_part(name, sizeof name, p ? p : "check", strlen(p ? p : "check"));
        ob_err_set(err, OB_E_VALIDATION, "check '%s' failed", name);
        snprintf(err->constraint, sizeof err->constraint, "%s", name);
        return -1;
    }
    case SQLITE_CONSTRAINT_NOTNULL:
        return map_notnull(err, msg);
    case SQLITE_CONSTRAINT_TRIGGER:
        /* RAISE(ABORT, '...') in a trigger: a rule the schema enforces, so
         * the caller sent something the rule refuses, not a server fault. */
        return ob_err_set(err, OB_E_UNPROCESSABLE, "%s", msg);
    default:
        break;
    }
    switch (ext & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
    case SQLITE_PERM:
        return ob_err_set(err, OB_E_STORAGE, "storage error: %s", msg);
    default:
        return ob_err_set(err, OB_E_INTERNAL, "database error: %s", msg);
    }
}

static int set_pragmas(ob_store *s, sqlite3 *db, ob_err *err)
{
    sqlite3_extended_result_codes(db, 1);
    /* busy_timeout first: switching to WAL needs a lock another connection
     * may hold for a moment. */
    int rc = sqlite3_busy_timeout(db, s->busy_timeout_ms);
    if (rc != SQLITE_OK)
        return ob_sqlite_fail(err, db, rc);

    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return ob_sqlite_fail(err, db, rc);
    }
    const char *jm = (const char *)sqlite3_column_text(st, 0);
    bool wal = jm && strcmp(jm, "wal") == 0;
    sqlite3_finalize(st);
    if (!wal)
        return ob_sqlite_err(err, OB_E_STORAGE, "storage error: the database refused WAL mode");

    /* The last statement reads the schema now rather than on the first
     * prepare, so the connection's size can be measured once it is known. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "PRAGMA synchronous=%d; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
             " PRAGMA cache_size=-%d; SELECT 1 FROM sqlite_schema LIMIT 0;",
             s->sync_level, OB_SQLITE_CACHE_KIB);
    rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return ob_sqlite_fail(err, db, rc);
    return 0;
}

static int not_found(ob_err *err, const char *slug)
{
    if (*slug)
        return ob_sqlite_err(err, OB_E_NOT_FOUND, "no tenant '%s'", slug);
    return ob_sqlite_err(err, OB_E_NOT_FOUND, "the control database is missing");
}

int ob_sqlite_conn_open(ob_store *s, const char *slug, const char *generation,
                        ob_db_mode mode, bool create, ob_conn **out, ob_err *err)
{
    *out = NULL;
    if (!slug)
        slug = "";
    char path[OB_SQLITE_PATH_MAX];
    if (ob_sqlite_path(s, slug, path, sizeof path))
        return ob_sqlite_err(err, OB_E_STORAGE, "storage error: the database path is too long");
    struct stat sb;
    if (!create && stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return not_found(err, slug);
        return ob_sqlite_err(err, OB_E_STORAGE, "storage error: %s", strerror(errno));
    }

    /* CREATE only on explicit creation: a request must never make a file. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (!create && stat(path, &sb) != 0 && errno == ENOENT)
            not_found(err, slug); /* dropped between stat and open */
        else if (db)
            ob_sqlite_fail(err, db, rc);
        else
            ob_sqlite_err(err, OB_E_STORAGE, "storage error: %s", sqlite3_errstr(rc));
        sqlite3_close(db);
        return -1;
    }
    if (set_pragmas(s, db, err)) {
        sqlite3_close(db);
        return -1;
    }
    /* A drop that unlinked the file while we were opening it would leave us
     * reading a dead file through the new tenant's -wal/-shm names. SQLite
     * tells us when the file we hold is no longer at its path. */
    int moved = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved) {
        sqlite3_close(db);
        return not_found(err, slug);
    }

    /* Reading the schema filled the page cache with sqlite_schema's pages
     * (a quarter of a megabyte for the full registry), which no query needs
     * again: give them back before the connection joins the pool. */
    sqlite3_db_release_memory(db);

    ob_conn *c = ob_sqlite_xcalloc(1, sizeof *c);
    c->ops = &ob_sqlite_ops;
    c->db = db;
    c->mode = mode;
    snprintf(c->slug, sizeof c->slug, "%s", slug);
    c->generation = generation ? ob_sqlite_xstrdup(generation) : NULL;
    c->bytes = ob_sqlite_conn_bytes(c);
    *out = c;
    return 0;
}

size_t ob_sqlite_conn_bytes(ob_conn *c)
{
    int v = 0, hi = 0;
    /* The schema walk is the dear part (every table, index and trigger), and
     * the schema changes only through DDL, which runs through ob_sqlite_exec
     * (migrations) and sets remeasure. */
    if (c->remeasure || !c->schema_bytes) {
        sqlite3_db_status(c->db, SQLITE_DBSTATUS_SCHEMA_USED, &v, &hi, 0);
        c->schema_bytes = (size_t)v;
    }
    size_t bytes = c->schema_bytes;
    sqlite3_db_status(c->db, SQLITE_DBSTATUS_CACHE_USED, &v, &hi, 0);
    bytes += (size_t)v;
    sqlite3_db_status(c->db, SQLITE_DBSTATUS_STMT_USED, &v, &hi, 0);
    bytes += (size_t)v;
    c->remeasure = false;
    c->measured_nstmts = c->nstmts;
    return bytes;
}

void ob_sqlite_conn_close(ob_conn *c)
{
    if (!c)
        return;
    ob_sqlite_stmts_free(c);
    /* Every statement is finalized, so close cannot be refused; _v2 still
     * keeps us safe if one escaped. */
    sqlite3_close_v2(c->db);
    free(c->generation);
    free(c);
}

void ob_sqlite_conn_quiesce(ob_conn *c)
{
    ob_sqlite_stmts_reset(c);
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    c->in_txn = false;
}

int ob_sqlite_exec(ob_conn *c, const char *sql, ob_err *err)
{
    c->remeasure = true; /* DDL (a migration) may have grown the schema */
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : ob_sqlite_fail(err, c->db, rc);
}

/* Run a parameterless statement through the statement cache (BEGIN and
 * COMMIT run on every write, so they are worth keeping prepared). The raw
 * sqlite result is returned so callers can treat failures their own way. */
static int run_cached(ob_conn *c, const char *sql, ob_err *err, int *sqlite_rc)
{
    ob_stmt *st;
    *sqlite_rc = SQLITE_OK;
    if (ob_sqlite_prepare(c, sql, &st, err))
        return -1;
    int rc = sqlite3_step(st->st);
    int ret = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        *sqlite_rc = rc;
        ret = ob_sqlite_fail(err, c->db, rc);
    }
    ob_sqlite_stmt_done(st);
    return ret;
}

int ob_sqlite_begin(ob_conn *c, ob_err *err)
{
    if (c->in_txn || !sqlite3_get_autocommit(c->db))
        return ob_sqlite_err(err, OB_E_INTERNAL, "a transaction is already open");
    int rc;
    /* IMMEDIATE takes the database's write lock now, so a write transaction
     * never fails half-way with SQLITE_BUSY on upgrade. */
    if (run_cached(c, c->mode == OB_DB_WRITE ? "BEGIN IMMEDIATE" : "BEGIN", err, &rc))
        return -1;
    c->in_txn = true;
    return 0;
}

int ob_sqlite_commit(ob_conn *c, ob_err *err)
{
    if (sqlite3_get_autocommit(c->db)) {
        bool was = c->in_txn;
        c->in_txn = false;
        if (was)
            return ob_sqlite_err(err, OB_E_STORAGE,
                                 "storage error: the transaction was rolled back by the database");
        return ob_sqlite_err(err, OB_E_INTERNAL, "no transaction is open");
    }
    int rc;
    if (run_cached(c, "COMMIT", err, &rc) == 0) {
        c->in_txn = false;
        return 0;
    }
    /* A failed COMMIT may leave the transaction open (busy, deferred
     * constraint): end it so the connection is clean. A deferred constraint
     * keeps its mapped error; anything else means it is not durable. */
    ob_sqlite_rollback(c);
    if (err && rc != SQLITE_OK && (rc & 0xff) != SQLITE_CONSTRAINT && err->code != OB_E_STORAGE)
        ob_sqlite_err(err, OB_E_STORAGE, "storage error: commit failed: %s", sqlite3_errstr(rc));
    return -1;
}

void ob_sqlite_rollback(ob_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    c->in_txn = false;
}

bool ob_sqlite_in_txn(const ob_conn *c)
{
    /* True also when the engine already rolled back on its own, so the caller
     * still ends the transaction and learns from commit that it failed. */
    return c->in_txn || !sqlite3_get_autocommit(c->db);
}

int64_t ob_sqlite_changes(ob_conn *c)
{
    return (int64_t)sqlite3_changes64(c->db);
}

const char *ob_sqlite_synchronous(ob_conn *c)
{
    static const char *const names[] = { "off", "normal", "full", "extra" };
    sqlite3_stmt *st = NULL;
    const char *res = "unknown";
    if (sqlite3_prepare_v2(c->db, "PRAGMA synchronous", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        int v = sqlite3_column_int(st, 0);
        if (v >= 0 && v < (int)(sizeof names / sizeof names[0]))
            res = names[v];
    }
    sqlite3_finalize(st);
    return res;
}

int ob_sqlite_check(ob_conn *c, char *result, size_t n, ob_err *err)
{
    if (n)
        result[0] = '\0';
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return ob_sqlite_fail(err, c->db, rc);
    }
    const char *first = (const char *)sqlite3_column_text(st, 0);
    bool ok = first && strcmp(first, "ok") == 0;
    if (n)
        snprintf(result, n, "%s", first ? first : "");
    sqlite3_finalize(st);
    if (!ok)
        return 0;

    /* integrity_check does not look at foreign keys (they may have been off
     * while rows were written), so ask separately. */
    st = NULL;
    rc = sqlite3_prepare_v2(c->db, "PRAGMA foreign_key_check", -1, &st, NULL);
    long long rows = 0;
    if (rc == SQLITE_OK)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            rows++;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return ob_sqlite_fail(err, c->db, rc);
    if (rows > 0 && n)
        snprintf(result, n, "foreign_key_check: %lld rows", rows);
    return 0;
}
