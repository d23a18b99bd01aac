/* sqlite_conn.c - the SQLite driver's connections: opening with the
 * connection pragmas, the core's driver table, classification of SQLite's
 * result codes, exec, transactions and the small per-connection queries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db/sqlite_int.h"
#include "base/banned.h"

/* Page cache per connection, in KiB (negative pragma value). Idle connections
 * are kept within a memory budget (core_pool.c), so this stays small; the OS
 * page cache does the heavy lifting. */

int ob_sqlite_path(const ob_store *s, const char *slug, char *out, size_t n)
{
    int len;
    if (!slug || !*slug)
        len = snprintf(out, n, "%s/control.db", s->data_dir);
    else
        len = snprintf(out, n, "%s/tenants/%s.db", s->data_dir, slug);
    return (len < 0 || (size_t)len >= n) ? -1 : 0;
}

static const char *after_prefix(const char *msg, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(msg, prefix, n) == 0 ? msg + n : NULL;
}

/* "UNIQUE constraint failed: t.a, t.b" -> table "t", columns "a,b";
 * "UNIQUE constraint failed: index 'ix'" (expression index) -> name "ix". */
static int map_unique(ob_err *err, const char *msg)
{
    ob_db_fault f = { .kind = OB_DBF_UNIQUE };
    const char *p = after_prefix(msg, "UNIQUE constraint failed: ");
    if (!p)
        return ob_db_fault_set(err, &f);
    char name[96], table[64] = "", cols[96] = "";
    const char *ix = after_prefix(p, "index '");
    if (ix) {
        const char *q = strchr(ix, '\'');
        ob_db_copy_part(name, sizeof name, ix, q ? (size_t)(q - ix) : strlen(ix));
        f.name = name;
        return ob_db_fault_set(err, &f);
    }
    size_t used = 0;
    for (bool first = true; *p; first = false) {
        size_t tok = strcspn(p, ",");
        const char *dot = memchr(p, '.', tok);
        const char *col = dot ? dot + 1 : p;
        size_t collen = tok - (size_t)(col - p);
        if (first && dot)
            ob_db_copy_part(table, sizeof table, p, (size_t)(dot - p));
        if (!first && used + 1 < sizeof cols)
            cols[used++] = ',';
        if (used + collen >= sizeof cols)
            collen = sizeof cols - 1 - used;
        memcpy(cols + used, col, collen);
        used += collen;
        cols[used] = '\0';
        p += tok;
        while (*p == ',' || *p == ' ')
            p++;
    }
    f.table = table;
    f.columns = cols;
    f.columns_len = used;
    return ob_db_fault_set(err, &f);
}

/* "NOT NULL constraint failed: t.col" -> table "t", column "col". */
static int map_notnull(ob_err *err, const char *msg)
{
    ob_db_fault f = { .kind = OB_DBF_NOT_NULL };
    char table[64] = "", col[64] = "";
    const char *p = after_prefix(msg, "NOT NULL constraint failed: ");
    if (p) {
        const char *dot = strchr(p, '.');
        if (dot)
            ob_db_copy_part(table, sizeof table, p, (size_t)(dot - p));
        const char *c = dot ? dot + 1 : p;
        ob_db_copy_part(col, sizeof col, c, strlen(c));
        f.table = table;
        f.column = col;
    }
    return ob_db_fault_set(err, &f);
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
    ob_db_fault f = { .kind = OB_DBF_INTERNAL, .message = msg };
    switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return map_unique(err, msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        f.kind = OB_DBF_FOREIGN_KEY;
        return ob_db_fault_set(err, &f);
    case SQLITE_CONSTRAINT_CHECK:
        f.kind = OB_DBF_CHECK;
        f.name = after_prefix(msg, "CHECK constraint failed: ");
        return ob_db_fault_set(err, &f);
    case SQLITE_CONSTRAINT_NOTNULL:
        return map_notnull(err, msg);
    case SQLITE_CONSTRAINT_TRIGGER:
        f.kind = OB_DBF_RULE; /* RAISE(ABORT, '...') in a trigger */
        return ob_db_fault_set(err, &f);
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
        f.kind = OB_DBF_STORAGE;
        break;
    default:
        break;
    }
    return ob_db_fault_set(err, &f);
}

static int set_pragmas(ob_store *s, sqlite3 *db, ob_err *err)
{
    sqlite3_extended_result_codes(db, 1);
    /* busy_timeout first: switching to WAL needs a lock another connection
     * may hold for a moment. */
    int rc = sqlite3_busy_timeout(db, s->base.busy_timeout_ms);
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
        return ob_db_err(err, OB_E_STORAGE, "storage error: the database refused WAL mode");

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
        return ob_db_err(err, OB_E_NOT_FOUND, "no tenant '%s'", slug);
    return ob_db_err(err, OB_E_NOT_FOUND, "the control database is missing");
}

int ob_sqlite_conn_open(ob_store *s, const char *slug, ob_db_mode mode, bool create,
                        ob_conn **out, ob_err *err)
{
    *out = NULL;
    if (!slug)
        slug = "";
    char path[OB_SQLITE_PATH_MAX];
    if (ob_sqlite_path(s, slug, path, sizeof path))
        return ob_db_err(err, OB_E_STORAGE, "storage error: the database path is too long");
    struct stat sb;
    if (!create && stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return not_found(err, slug);
        return ob_db_err(err, OB_E_STORAGE, "storage error: %s", strerror(errno));
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
            ob_db_err(err, OB_E_STORAGE, "storage error: %s", sqlite3_errstr(rc));
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

    ob_conn *c = ob_db_xcalloc(1, sizeof *c);
    c->base.ops = &ob_sqlite_ops;
    c->base.drv = &ob_sqlite_ops.driver;
    c->base.mode = mode;
    c->db = db;
    *out = c;
    return 0;
}

/* Memory a connection holds now: its parsed schema, page cache and prepared
 * statements. */
static size_t conn_measure(ob_conn *c)
{
    int v = 0, hi = 0;
    /* The schema walk is the dear part (every table, index and trigger), and
     * the schema changes only through DDL, which runs through ob_sqlite_exec
     * (migrations) and sets remeasure. */
    if (c->base.remeasure || !c->schema_bytes) {
        sqlite3_db_status(c->db, SQLITE_DBSTATUS_SCHEMA_USED, &v, &hi, 0);
        c->schema_bytes = (size_t)v;
    }
    size_t bytes = c->schema_bytes;
    sqlite3_db_status(c->db, SQLITE_DBSTATUS_CACHE_USED, &v, &hi, 0);
    bytes += (size_t)v;
    sqlite3_db_status(c->db, SQLITE_DBSTATUS_STMT_USED, &v, &hi, 0);
    bytes += (size_t)v;
    return bytes;
}

void ob_sqlite_conn_close(ob_conn *c)
{
    if (!c)
        return;
    ob_db_core_stmts_free(c, false);
    /* Every statement is finalized, so close cannot be refused; _v2 still
     * keeps us safe if one escaped. */
    sqlite3_close_v2(c->db);
    free(c);
}

/* ------------------------------------------------------ the core's driver */

int ob_sqlite_drv_open(ob_store *s, const char *slug, ob_db_mode mode, ob_conn **out, ob_err *err)
{
    return ob_sqlite_conn_open(s, slug, mode, false, out, err);
}

/* The core has freed the statements. */
void ob_sqlite_drv_close(ob_conn *c)
{
    sqlite3_close_v2(c->db);
    free(c);
}

bool ob_sqlite_drv_settle(ob_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    /* Could not roll back: never hand this connection out again. */
    return sqlite3_get_autocommit(c->db);
}

/* The process-wide counter is exact: it also covers what a connection's own
 * figures leave out (full-text index state, lookaside, sorts under way).
 * Several stores in one process (tests) share it, which only makes each
 * evict sooner. 0 (no memory statistics): the core sums the connections. */
static size_t drv_mem_now(ob_store *s)
{
    (void)s;
    sqlite3_int64 used = sqlite3_memory_used();
    return used > 0 ? (size_t)used : 0;
}

/* Give back the page cache (a page costs a pread to fetch again). */
static void drv_slim(ob_conn *c)
{
    sqlite3_db_release_memory(c->db);
}

/* SQLite's own answer: its unix VFS stats the file's name and compares the
 * inode with the one it holds open (taken from the descriptor when the
 * connection opened). The open handle pins its inode, so a file made since
 * under the same name cannot carry the same number: a match means it is
 * still the same file. One stat(2), one or two microseconds. A connection whose
 * VFS cannot tell is taken as unmoved. */
static bool drv_replaced(ob_conn *c)
{
    int moved = 0;
    return sqlite3_file_control(c->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved;
}

const ob_db_ops ob_sqlite_ops = OB_DB_OPS_TABLE(sqlite, OB_DB_SQLITE,
    .measure = conn_measure, .mem_now = drv_mem_now, .slim = drv_slim, .replaced = drv_replaced,
    .peek_version = ob_sqlite_peek_version, .stmt_cap = OB_SQLITE_STMT_CAP,
    /* a handle belongs to one database file; every request reads the control
     * database, so its connections are never evicted */
    .keep_control = true);

int ob_sqlite_exec(ob_conn *c, const char *sql, ob_err *err)
{
    c->base.remeasure = true; /* DDL (a migration) may have grown the schema */
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
    if (ob_db_core_prepare(c, sql, &st, err))
        return -1;
    int rc = sqlite3_step(st->st);
    int ret = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        *sqlite_rc = rc;
        ret = ob_sqlite_fail(err, c->db, rc);
    }
    ob_db_core_stmt_done(st);
    return ret;
}

int ob_sqlite_begin(ob_conn *c, ob_err *err)
{
    int rc;
    /* IMMEDIATE takes the database's write lock now, so a write transaction
     * never fails half-way with SQLITE_BUSY on upgrade. */
    if (run_cached(c, c->base.mode == OB_DB_WRITE ? "BEGIN IMMEDIATE" : "BEGIN", err, &rc))
        return -1;
    c->base.in_txn = true;
    return 0;
}

int ob_sqlite_commit(ob_conn *c, ob_err *err)
{
    int rc;
    if (run_cached(c, "COMMIT", err, &rc) == 0) {
        c->base.in_txn = false;
        return 0;
    }
    /* A failed COMMIT may leave the transaction open (busy, deferred
     * constraint): end it so the connection is clean. A deferred constraint
     * keeps its mapped error; anything else means it is not durable. */
    ob_sqlite_rollback(c);
    if (err && rc != SQLITE_OK && (rc & 0xff) != SQLITE_CONSTRAINT && err->code != OB_E_STORAGE)
        ob_db_err(err, OB_E_STORAGE, "storage error: commit failed: %s", sqlite3_errstr(rc));
    return -1;
}

void ob_sqlite_rollback(ob_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    c->base.in_txn = false;
}

bool ob_sqlite_txn_open(const ob_conn *c)
{
    return !sqlite3_get_autocommit(c->db);
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
