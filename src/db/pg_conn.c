/* pg_conn.c - the PostgreSQL driver's connections: connecting with timeouts,
 * the session settings, the core's driver table, classification of SQLSTATEs,
 * search_path, exec and transactions. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg_int.h"
#include "base/banned.h"

/* Session settings. Timestamps in UTC and ISO style so pg_stmt.c can rewrite
 * them to RFC 3339; a statement or a lock wait never hangs a request; a
 * client that died inside a transaction does not hold locks for long. */
#define OB_PG_STATEMENT_TIMEOUT_MS 30000
#define OB_PG_IDLE_TXN_TIMEOUT_MS 60000

void ob_pg_schema_name(const char *slug, char out[OB_PG_SCHEMA_MAX])
{
    if (!slug || !*slug) {
        snprintf(out, OB_PG_SCHEMA_MAX, "public");
        return;
    }
    int n = snprintf(out, OB_PG_SCHEMA_MAX, "tenant_%s", slug);
    for (int i = 7; i < n && i < OB_PG_SCHEMA_MAX; i++)
        if (out[i] == '-')
            out[i] = '_';
}

/* The first line of a libpq message, without the "FATAL:  " noise. */
static void first_line(const char *msg, char *out, size_t n)
{
    if (!msg)
        msg = "";
    size_t len = strcspn(msg, "\n");
    if (len >= n)
        len = n - 1;
    memcpy(out, msg, len);
    out[len] = '\0';
}

PGconn *ob_pg_connect(ob_store *s, const char *url, ob_err *err)
{
    char busy[16];
    snprintf(busy, sizeof busy, "%d", s->base.busy_timeout_ms);
    /* Our defaults first, the URL last: libpq keeps the last value of a
     * repeated keyword, so settings in the URL win. */
    const char *const keys[] = { "connect_timeout", "keepalives", "keepalives_idle",
                                 "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                                 "application_name", "client_encoding", "dbname", NULL };
    const char *const vals[] = { "5", "1", "10", "5", "3", "15000", "opsbase", "UTF8", url ? url : s->url, NULL };
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (!pg)
        abort();
    if (PQstatus(pg) != CONNECTION_OK) {
        char line[200];
        first_line(PQerrorMessage(pg), line, sizeof line);
        PQfinish(pg);
        ob_db_err(err, OB_E_STORAGE, "storage error: cannot connect to PostgreSQL: %s", line);
        return NULL;
    }
    return pg;
}

/* A pooled session to url (NULL: the main server). */
static int conn_open(ob_store *s, const char *url, ob_conn **out, ob_err *err)
{
    *out = NULL;
    PGconn *pg = ob_pg_connect(s, url, err);
    if (!pg)
        return -1;
    ob_conn *c = ob_db_xcalloc(1, sizeof *c);
    c->base.ops = &ob_pg_ops;
    c->base.drv = &ob_pg_ops.driver;
    c->pg = pg;
    c->server = url ? ob_db_xstrdup(url) : NULL;
    char setup[512];
    snprintf(setup, sizeof setup,
             "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3;"
             " SET statement_timeout = %d; SET lock_timeout = %d;"
             " SET idle_in_transaction_session_timeout = %d; SET client_min_messages = warning;"
             " SET synchronous_commit = %s; SET search_path = public",
             OB_PG_STATEMENT_TIMEOUT_MS, s->base.busy_timeout_ms, OB_PG_IDLE_TXN_TIMEOUT_MS,
             strcmp(s->sync_name, "off") == 0 ? "off" : "on");
    if (ob_pg_run(c, setup, err)) {
        PQfinish(c->pg);
        free(c->server);
        free(c);
        return -1;
    }
    c->schema[0] = '\0'; /* public, but attach checks it once (attached) */
    *out = c;
    return 0;
}

/* ------------------------------------------------------------ errors */

/* 23505 unique_violation. The detail names the key columns:
 * "Key (a, b)=(x, y) already exists."; a key over an expression names only
 * the index. */
static int map_unique(ob_err *err, const PGresult *res)
{
    ob_db_fault f = { .kind = OB_DBF_UNIQUE };
    const char *cname = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *p = detail ? strstr(detail, "Key (") : NULL;
    const char *end = p ? strstr(p, ")=(") : NULL;
    if (!p || !end || memchr(p + 5, '(', (size_t)(end - p - 5))) {
        f.name = cname ? cname : "unique";
        return ob_db_fault_set(err, &f);
    }
    f.table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
    f.columns = p + 5;
    f.columns_len = (size_t)(end - p - 5);
    return ob_db_fault_set(err, &f);
}

static bool conn_lost(const ob_conn *c)
{
    return PQstatus(c->pg) != CONNECTION_OK;
}

/* SQLSTATE classes that mean the storage, not the request: connection
 * exceptions, operator intervention (shutdown, cancel, statement timeout),
 * insufficient resources, system errors, lock timeouts, serialization
 * failures and deadlocks. */
static bool storage_state(const char *state)
{
    return strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
           strncmp(state, "53", 2) == 0 || strncmp(state, "58", 2) == 0 ||
           strcmp(state, "55P03") == 0 || strncmp(state, "40", 2) == 0 ||
           strcmp(state, "55006") == 0 || strcmp(state, "25006") == 0;
}

int ob_pg_fail(ob_conn *c, const PGresult *res, ob_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* After any failure the next acquire sets search_path again (attached). */
    c->schema[0] = '\0';
    if (!res || conn_lost(c))
        c->base.broken = true;
    if (!err)
        return -1;
    char msg[200], text[240];
    first_line(res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL, msg, sizeof msg);
    if (!msg[0])
        first_line(PQerrorMessage(c->pg), msg, sizeof msg);
    ob_db_fault f = { .kind = OB_DBF_INTERNAL, .message = msg };
    if (!state || c->base.broken) {
        snprintf(text, sizeof text, "the database connection was lost: %s", msg);
        f.kind = OB_DBF_STORAGE;
        f.message = text;
    } else if (strcmp(state, "42P01") == 0 && c->base.slug[0] && c->owner) {
        /* Every table a tenant connection names is declared, so a missing
         * one means its schema left this server (a move renamed it) after
         * the connection was attached: retryable, and the retry goes to
         * the tenant's new server. */
        ob_pg_place_invalidate(c->owner);
        return ob_db_err(err, OB_E_UNAVAILABLE, "tenant '%s' moved to another server; retry", c->base.slug);
    } else if (strcmp(state, "23505") == 0) {
        return map_unique(err, res);
    } else if (strcmp(state, "23503") == 0) {
        f.kind = OB_DBF_FOREIGN_KEY;
    } else if (strcmp(state, "23514") == 0) {
        f.kind = OB_DBF_CHECK;
        f.name = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    } else if (strcmp(state, "23502") == 0) {
        f.kind = OB_DBF_NOT_NULL;
        f.table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
        f.column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
    } else if (strcmp(state, "P0001") == 0) {
        f.kind = OB_DBF_RULE; /* RAISE EXCEPTION in a trigger */
    } else if (storage_state(state)) {
        f.kind = OB_DBF_STORAGE;
    } else {
        snprintf(text, sizeof text, "%s (%s)", msg, state);
        f.message = text;
    }
    return ob_db_fault_set(err, &f);
}

/* --------------------------------------------------------- commands */

int ob_pg_run(ob_conn *c, const char *sql, ob_err *err)
{
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = 0;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        const char *n = PQcmdTuples(res);
        c->changes = n && *n ? strtoll(n, NULL, 10) : 0;
    } else {
        rc = ob_pg_fail(c, res, err);
    }
    PQclear(res);
    return rc;
}

static bool same_server(const ob_conn *c, const char *url)
{
    return (!c->server && !url) || (c->server && url && strcmp(c->server, url) == 0);
}

/* The connection is to another server than slug's placement: mark it
 * broken, so the core closes it and opens one to the right server. */
static int elsewhere(ob_conn *c, const char *slug, ob_err *err)
{
    c->base.broken = true;
    return ob_db_err(err, OB_E_STORAGE, "storage error: tenant '%s' is on another server", slug);
}

/* Whether c already stands on schema, so that attach may skip its round
 * trip (a get by id then costs the session check and the select, not a third
 * exchange before them). Tenant isolation rests on search_path, so this is
 * the reasoning for trusting c->schema:
 *  - c->schema is written only by attach, after the server answered that the
 *    path is set and the schema exists, and cleared before every attach's
 *    round trip and on every failed command (ob_pg_fail), so after any error,
 *    lost connection or rolled-back transaction the next acquire sets the
 *    path again. Nothing else in opsbase sets search_path on a pooled
 *    connection (pg_move.c and the placement cache use their own sessions).
 *  - set_config(..., false) outside a transaction is a session setting that
 *    was committed with its own statement; a later ROLLBACK restores a
 *    setting only to its value at that transaction's start, which is this one.
 *    An idle connection is never inside a transaction (the core's settle rolls
 *    back on release), and the skip also requires the session to be idle.
 *  - The path holds the schema's name, not its oid: the server resolves it
 *    again whenever pg_namespace changes, and re-analyzes a prepared statement
 *    whose resolved path changed. So a schema dropped, renamed by a move or
 *    dropped and made again by a restore is never reached through an old oid:
 *    the next statement sees the schema now named tenant_<slug> (the same
 *    tenant, by construction of the name) or none (42P01: the tenant moved or
 *    went, answered as retryable, and the path is checked again next time).
 *  - What the skipped EXISTS told the caller (the tenant is gone: 404) is
 *    known without it in this process: a drop here bumps the drop epoch and
 *    closes the tenant's idle readers and its writer, so no connection that
 *    served the old tenant is handed out for it. A drop by another process
 *    removes the tenant's control row, which every request reads first (and a
 *    tenant made again under the slug has another id, the pool's generation,
 *    so the old connections are retired). Writes check again under the
 *    tenant's advisory lock (ob_pg_begin: current_schema() IS NOT NULL).
 *  - The placement check above still runs on every acquire (from the
 *    in-process cache, no round trip), so a connection to a server that no
 *    longer holds the tenant, and a writer while the tenant is moving, are
 *    refused exactly as before.
 *  - An idle session the server has ended (a restart, a terminated backend)
 *    has something to read: the server's last message or the end of the
 *    stream. Then the attach runs, fails on the dead session, and the core
 *    replaces the connection within the same acquire, as it did when every
 *    acquire made the round trip; the check is one poll() with no wait. */
static bool attached(const ob_conn *c, const char *schema)
{
    if (!c->schema[0] || strcmp(c->schema, schema) != 0 || PQstatus(c->pg) != CONNECTION_OK ||
        PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return false;
    struct pollfd pfd = { .fd = PQsocket(c->pg), .events = POLLIN };
    if (pfd.fd < 0)
        return false;
    return poll(&pfd, 1, 0) == 0;
}

static int conn_use(ob_conn *c, const char *slug, ob_err *err)
{
    ob_store *s = c->owner;
    char *url = NULL;
    bool moving = false;
    if (ob_pg_place_get(s, slug, false, &url, &moving, err))
        return -1;
    bool same = same_server(c, url);
    free(url);
    if (!same)
        return elsewhere(c, slug, err);
    if (moving && c->base.mode == OB_DB_WRITE)
        /* a move is copying the tenant: its writes wait for the switch */
        return ob_db_err(err, OB_E_UNAVAILABLE, "tenant '%s' is moving to another server; retry shortly", slug);
    char schema[OB_PG_SCHEMA_MAX];
    ob_pg_schema_name(slug, schema);
    if (attached(c, schema))
        return 0;
    const char *params[1] = { schema };
    /* One round trip: set the path (session-wide, outside any transaction)
     * and learn whether the schema exists. A path naming a missing schema
     * reaches no table at all. */
    PGresult *res = PQexecParams(c->pg,
                                 "SELECT set_config('search_path', $1, false),"
                                 " EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                                 1, NULL, params, NULL, NULL, 0);
    c->schema[0] = '\0';
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        int rc = ob_pg_fail(c, res, err);
        PQclear(res);
        return rc;
    }
    bool exists = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    /* Remembered only when the schema was there: a path naming a missing
     * schema is checked again on the next acquire, not trusted. */
    if (exists)
        snprintf(c->schema, sizeof c->schema, "%s", schema);
    if (!exists) {
        if (slug && *slug) {
            /* Moved away just now? Then the placement says so already. */
            if (ob_pg_place_get(s, slug, true, &url, &moving, err) == 0) {
                same = same_server(c, url);
                free(url);
                if (!same)
                    return elsewhere(c, slug, err);
            }
            return ob_db_err(err, OB_E_NOT_FOUND, "no tenant '%s'", slug);
        }
        return ob_db_err(err, OB_E_NOT_FOUND, "the control schema is missing");
    }
    return 0;
}

int ob_pg_exec(ob_conn *c, const char *sql, ob_err *err)
{
    return ob_pg_run(c, sql, err);
}

/* The advisory lock key of a tenant: a fixed class plus the core's hash of
 * the slug. A collision only serializes two tenants' writes. */
int32_t ob_pg_lock_key(const char *slug)
{
    return (int32_t)(uint32_t)ob_db_hash(slug);
}

int ob_pg_begin(ob_conn *c, ob_err *err)
{
    char sql[128];
    if (c->base.mode == OB_DB_WRITE) {
        /* Waits (up to lock_timeout) for another process writing this tenant,
         * or for a move (pg_move.c holds the same lock while it copies).
         * After a move the schema on this server has been renamed, so the
         * path reaches nothing (current_schema() is null): the write is
         * refused as retryable rather than failing on a missing table. */
        snprintf(sql, sizeof sql,
                 "BEGIN; SELECT pg_advisory_xact_lock(%d, %d); SELECT current_schema() IS NOT NULL",
                 0x0b5e, (int)ob_pg_lock_key(c->base.slug));
        PGresult *res = PQexec(c->pg, sql);
        bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
        bool here = ok && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        if (!ok)
            ob_pg_fail(c, res, err);
        PQclear(res);
        if (ok && !here && c->base.slug[0]) {
            ob_pg_place_invalidate(c->owner);
            ob_db_err(err, OB_E_UNAVAILABLE, "tenant '%s' moved to another server; retry", c->base.slug);
        }
        if (!ok || (!here && c->base.slug[0])) {
            ob_pg_rollback(c);
            return -1;
        }
        c->base.in_txn = true;
        return 0;
    } else
        snprintf(sql, sizeof sql, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    if (ob_pg_run(c, sql, err)) {
        ob_pg_rollback(c);
        return -1;
    }
    c->base.in_txn = true;
    return 0;
}

int ob_pg_commit(ob_conn *c, ob_err *err)
{
    if (PQtransactionStatus(c->pg) == PQTRANS_INERROR) {
        ob_pg_rollback(c);
        return ob_db_err(err, OB_E_STORAGE,
                         "storage error: the transaction failed and was rolled back");
    }
    PGresult *res = PQexec(c->pg, "COMMIT");
    int rc = 0;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = ob_pg_fail(c, res, err);
        /* a deferred constraint keeps its mapped error; anything else means
         * the commit is not known to be durable */
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (err && (!state || strncmp(state, "23", 2) != 0) && err->code != OB_E_STORAGE)
            ob_db_err(err, OB_E_STORAGE, "storage error: commit failed");
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        rc = ob_db_err(err, OB_E_STORAGE, "storage error: the transaction was rolled back by the database");
    }
    PQclear(res);
    if (rc)
        ob_pg_rollback(c);
    c->base.in_txn = false;
    return rc;
}

void ob_pg_rollback(ob_conn *c)
{
    if (!c->base.broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        PGresult *res = PQexec(c->pg, "ROLLBACK");
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
            c->base.broken = true;
        PQclear(res);
    }
    c->base.in_txn = false;
}

bool ob_pg_txn_open(const ob_conn *c)
{
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
}

int64_t ob_pg_changes(ob_conn *c)
{
    return c->changes;
}

/* PostgreSQL's synchronous_commit on is "full" or "normal" as configured (a
 * committed transaction is flushed to the WAL either way); off is "off". */
const char *ob_pg_synchronous(ob_conn *c)
{
    const char *v = PQparameterStatus(c->pg, "synchronous_commit");
    PGresult *res = NULL;
    if (!v) {
        res = PQexec(c->pg, "SHOW synchronous_commit");
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            v = PQgetvalue(res, 0, 0);
    }
    const char *out = !v ? "unknown" : strcmp(v, "off") == 0 ? "off" : c->base.store ? c->base.store->sync_name : "full";
    PQclear(res);
    return out;
}

/* PostgreSQL checks its pages itself (and amcheck is an extension we cannot
 * assume); what we can check is that the database answers. */
int ob_pg_check(ob_conn *c, char *result, size_t n, ob_err *err)
{
    if (n)
        result[0] = '\0';
    if (ob_pg_run(c, "SELECT 1", err))
        return -1;
    if (n)
        snprintf(result, n, "ok");
    return 0;
}

/* ------------------------------------------------------ the core's driver */

int ob_pg_drv_open(ob_store *s, const char *slug, ob_db_mode mode, ob_conn **out, ob_err *err)
{
    (void)mode; /* the core attaches it to the slug next */
    char *url = NULL;
    bool moving;
    if (ob_pg_place_get(s, slug, false, &url, &moving, err))
        return -1;
    int rc = conn_open(s, url, out, err);
    if (rc == 0)
        (*out)->owner = s;
    free(url);
    return rc;
}

/* The core has freed the statements; their server side goes with it. */
void ob_pg_drv_close(ob_conn *c)
{
    PQfinish(c->pg);
    free(c->server);
    free(c);
}

bool ob_pg_drv_settle(ob_conn *c)
{
    if (!c->base.broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        ob_pg_rollback(c);
    return !c->base.broken && PQstatus(c->pg) == CONNECTION_OK;
}

/* A session serves any schema (attach points it at the acquire's one), so
 * idle readers are lent across tenants and kept by count, not memory. */
const ob_db_ops ob_pg_ops = OB_DB_OPS_TABLE(pg, OB_DB_POSTGRES,
    .attach = conn_use, .stmt_cap = OB_PG_STMT_CAP, .retarget = true, .idle_max = OB_PG_IDLE_MAX,
    .peek_version = ob_pg_peek_version);
