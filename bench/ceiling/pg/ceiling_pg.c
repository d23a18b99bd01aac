/* ceiling_pg.c - the machine's ceiling for an HTTP + PostgreSQL JSON API,
 * measured beside opsbase on PostgreSQL in the same benchmark run (bench/pg.sh).
 * Not part of opsbase: built by the benchmark into its work directory and never
 * linked into the server. The PostgreSQL twin of ../ceiling.c: the same routes,
 * the same daemon flags, the same minimal JSON writer, libpq instead of SQLite.
 *
 * Each libmicrohttpd worker thread owns one connection, opened on its first
 * request and kept (the pool: as many connections as threads, never one per
 * request), with its three statements prepared once on the server. No auth,
 * no permission check, no audit, no validation beyond parsing the JSON body;
 * durability is the server's (synchronous_commit as configured).
 *
 *   GET  /fixed                      a fixed 200-byte JSON body
 *   GET  /api/v1/customers/ID        one primary-key lookup, the row as JSON
 *   GET  /api/v1/customers?status=S  one indexed 50-row list (newest first)
 *   POST /api/v1/customers           one insert (body: JSON object), the row back
 *
 * usage: ceiling-pg --port P --pg URL --table SCHEMA.TABLE [--threads N]
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (1024 * 1024)

/* type oids of pg_type.h that are written as JSON numbers or booleans */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701

static const char *g_url;
static const char *g_table;
static atomic_uint_fast64_t g_inserts;
static volatile sig_atomic_t g_stop;

/* Per worker thread: its connection, its statements prepared on it. */
static _Thread_local PGconn *t_conn;

static const char FIXED_BODY[] =
    "{\"id\":\"01a20128-4a7f-755f-b540-8f32c3804edf\",\"status\":\"ok\",\"name\":\"ceiling\","
    "\"message\":\"a fixed JSON body of exactly two hundred bytes for the HTTP ceiling case\","
    "\"padding\":\"xxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
_Static_assert(sizeof FIXED_BODY - 1 == 200, "the fixed body is 200 bytes");

/* A heap buffer that grows; buf is handed to libmicrohttpd, which frees it. */
struct cbuf {
    char *buf;
    size_t len, cap;
};

struct req {
    char *body;
    size_t len;
    int too_large;
};

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Aborts when memory runs out: a benchmark tool, not a server. */
static void cb_add(struct cbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) abort();
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = 0;
}

static void cb_str(struct cbuf *b, const char *s)
{
    char esc[8];
    cb_add(b, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        cb_add(b, run, (size_t)(p - run));
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            cb_add(b, esc, 2);
        } else {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            cb_add(b, esc, 6);
        }
        run = p + 1;
    }
    cb_add(b, run, strlen(run));
    cb_add(b, "\"", 1);
}

/* Row r of res as a JSON object keyed by column name: integers and floats as
 * numbers, booleans as true/false, NULL as null, everything else as a string. */
static void cb_row_json(struct cbuf *b, const PGresult *res, int r)
{
    int n = PQnfields(res);
    cb_add(b, "{", 1);
    for (int c = 0; c < n; c++) {
        if (c) cb_add(b, ",", 1);
        cb_str(b, PQfname(res, c));
        cb_add(b, ":", 1);
        if (PQgetisnull(res, r, c)) {
            cb_add(b, "null", 4);
            continue;
        }
        const char *v = PQgetvalue(res, r, c);
        switch (PQftype(res, c)) {
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
        case OID_FLOAT4:
        case OID_FLOAT8:
            cb_add(b, v, strlen(v));
            break;
        case OID_BOOL:
            if (v[0] == 't') cb_add(b, "true", 4);
            else cb_add(b, "false", 5);
            break;
        default:
            cb_str(b, v);
        }
    }
    cb_add(b, "}", 1);
}

static int prepare(PGconn *c, const char *name, const char *sql, int nparams)
{
    PGresult *r = PQprepare(c, name, sql, nparams, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "ceiling-pg: prepare %s: %s", name, PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

/* This thread's connection, opened and prepared on first use; a connection
 * the server dropped is opened again. NULL when the server cannot be reached. */
static PGconn *conn_get(void)
{
    if (t_conn && PQstatus(t_conn) == CONNECTION_OK) return t_conn;
    if (t_conn) PQfinish(t_conn);
    t_conn = PQconnectdb(g_url);
    if (PQstatus(t_conn) != CONNECTION_OK) {
        fprintf(stderr, "ceiling-pg: connect: %s", PQerrorMessage(t_conn));
        PQfinish(t_conn);
        t_conn = NULL;
        return NULL;
    }
    char get[256], list[256], ins[512];
    snprintf(get, sizeof get, "SELECT * FROM %s WHERE id = $1", g_table);
    snprintf(list, sizeof list, "SELECT * FROM %s WHERE status = $1 ORDER BY created_at DESC LIMIT 50", g_table);
    snprintf(ins, sizeof ins,
             "INSERT INTO %s (id, created_at, updated_at, version, customer_code, name, email, company_name, "
             "status) VALUES ($1, $2, $2, 1, $3, $4, $5, $6, 'active') RETURNING *",
             g_table);
    if (prepare(t_conn, "get", get, 1) || prepare(t_conn, "list", list, 1) || prepare(t_conn, "ins", ins, 6)) {
        PQfinish(t_conn);
        t_conn = NULL;
    }
    return t_conn;
}

/* A UUIDv7-shaped id and an RFC 3339 timestamp with milliseconds. */
static void make_id(char id[37], char ts[32])
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    unsigned char r[10];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) memset(r, 0x5a, sizeof r);
    snprintf(id, 37, "%08x-%04x-7%03x-%04x-%02x%02x%02x%02x%02x%02x", (unsigned)(ms >> 16), (unsigned)(ms & 0xffff),
             (unsigned)((r[0] << 4 | r[1] >> 4) & 0xfff), (unsigned)(0x8000 | ((r[2] << 8 | r[3]) & 0x3fff)), r[4],
             r[5], r[6], r[7], r[8], r[9]);
    struct tm tm;
    time_t s = now.tv_sec;
    gmtime_r(&s, &tm);
    size_t n = strftime(ts, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, 32 - n, ".%03uZ", (unsigned)(now.tv_nsec / 1000000) % 1000u);
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, struct cbuf *b)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->buf, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(b->buf);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *json)
{
    struct cbuf b = {0};
    cb_add(&b, json, strlen(json));
    return send_buf(c, status, &b);
}

/* Run a prepared statement; the result, or NULL (logged) when it failed. */
static PGresult *run(PGconn *pc, const char *name, int n, const char *const *params)
{
    PGresult *res = PQexecPrepared(pc, name, n, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "ceiling-pg: %s: %s", name, PQerrorMessage(pc));
        PQclear(res);
        return NULL;
    }
    return res;
}

static enum MHD_Result do_get(struct MHD_Connection *c, const char *id)
{
    PGconn *pc = conn_get();
    if (!pc) return send_text(c, 500, "{\"error\":\"no database\"}");
    const char *params[1] = {id};
    PGresult *res = run(pc, "get", 1, params);
    if (!res) return send_text(c, 500, "{\"error\":\"get failed\"}");
    struct cbuf b = {0};
    unsigned status = 200;
    if (PQntuples(res) == 1) {
        cb_row_json(&b, res, 0);
    } else {
        status = 404;
        cb_add(&b, "{\"error\":\"not found\"}", 21);
    }
    PQclear(res);
    return send_buf(c, status, &b);
}

static enum MHD_Result do_list(struct MHD_Connection *c)
{
    PGconn *pc = conn_get();
    if (!pc) return send_text(c, 500, "{\"error\":\"no database\"}");
    const char *status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    const char *params[1] = {status ? status : "active"};
    PGresult *res = run(pc, "list", 1, params);
    if (!res) return send_text(c, 500, "{\"error\":\"list failed\"}");
    struct cbuf b = {0};
    cb_add(&b, "{\"data\":[", 9);
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        if (i) cb_add(&b, ",", 1);
        cb_row_json(&b, res, i);
    }
    cb_add(&b, "],\"next_cursor\":null}", 21);
    PQclear(res);
    return send_buf(c, 200, &b);
}

static const char *str_field(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static enum MHD_Result do_insert(struct MHD_Connection *c, struct req *q)
{
    json_error_t jerr;
    json_t *o = q->body ? json_loadb(q->body, q->len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        return send_text(c, 400, "{\"error\":\"invalid json\"}");
    }
    PGconn *pc = conn_get();
    if (!pc) {
        json_decref(o);
        return send_text(c, 500, "{\"error\":\"no database\"}");
    }
    char id[37], ts[32], code[48];
    make_id(id, ts);
    snprintf(code, sizeof code, "CEIL-%s", id);
    const char *params[6] = {id, ts, code, str_field(o, "name"), str_field(o, "email"), str_field(o, "company_name")};
    /* one statement in autocommit: its commit waits for the WAL flush */
    PGresult *res = run(pc, "ins", 6, params);
    json_decref(o);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        return send_text(c, 500, "{\"error\":\"insert failed\"}");
    }
    struct cbuf b = {0};
    cb_row_json(&b, res, 0);
    PQclear(res);
    atomic_fetch_add(&g_inserts, 1);
    return send_buf(c, 201, &b);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct req *q = *con_cls;
    if (!q) {
        /* libmicrohttpd 0.9.75 drops keep-alive when the response is queued
         * on the first call: only remember the request here. */
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_size) {
        if (q->len + *upload_size > MAX_BODY) {
            q->too_large = 1;
        } else {
            char *nb = realloc(q->body, q->len + *upload_size + 1);
            if (!nb) return MHD_NO;
            memcpy(nb + q->len, upload, *upload_size);
            q->body = nb;
            q->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->too_large) return send_text(c, 413, "{\"error\":\"too large\"}");
    static const char prefix[] = "/api/v1/customers";
    bool get = strcmp(method, "GET") == 0;
    if (get && strcmp(url, "/fixed") == 0) {
        struct MHD_Response *r =
            MHD_create_response_from_buffer(sizeof FIXED_BODY - 1, (void *)FIXED_BODY, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "application/json");
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strncmp(url, prefix, sizeof prefix - 1) != 0) return send_text(c, 404, "{\"error\":\"no route\"}");
    const char *rest = url + sizeof prefix - 1;
    if (get && rest[0] == '/' && rest[1]) return do_get(c, rest + 1);
    if (get && rest[0] == 0) return do_list(c);
    if (strcmp(method, "POST") == 0 && rest[0] == 0) return do_insert(c, q);
    return send_text(c, 405, "{\"error\":\"method not allowed\"}");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct req *q = *con_cls;
    if (q) {
        free(q->body);
        free(q);
    }
    *con_cls = NULL;
}

/* The table name goes into SQL text: letters, digits, '_' and one '.' only. */
static bool plain_name(const char *s)
{
    int dots = 0;
    if (!*s) return false;
    for (; *s; s++) {
        if (*s == '.') dots++;
        else if (!isalnum((unsigned char)*s) && *s != '_') return false;
    }
    return dots <= 1;
}

int main(int argc, char **argv)
{
    unsigned port = 0, threads = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0) port = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0) threads = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--pg") == 0) g_url = argv[i + 1];
        else if (strcmp(argv[i], "--table") == 0) g_table = argv[i + 1];
        else {
            fprintf(stderr, "usage: ceiling-pg --port P --pg URL --table SCHEMA.TABLE [--threads N]\n");
            return 2;
        }
    }
    if (!port || port > 65535 || !threads || !g_url || !g_table || !plain_name(g_table)) {
        fprintf(stderr, "ceiling-pg: --port, --threads, --pg and --table (SCHEMA.TABLE) are required\n");
        return 2;
    }
    /* fail at start, not on the first request, when the server or table is missing */
    PGconn *probe = PQconnectdb(g_url);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s LIMIT 1", g_table);
    PGresult *pr = PQstatus(probe) == CONNECTION_OK ? PQexec(probe, sql) : NULL;
    if (PQresultStatus(pr) != PGRES_TUPLES_OK) {
        fprintf(stderr, "ceiling-pg: %s", PQerrorMessage(probe));
        PQclear(pr);
        PQfinish(probe);
        return 1;
    }
    PQclear(pr);
    PQfinish(probe);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
        NULL, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "ceiling-pg: cannot listen on 127.0.0.1:%u: %s\n", port, strerror(errno));
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    fprintf(stderr, "ceiling-pg: listening on 127.0.0.1:%u, %u threads, one connection each\n", port, threads);
    while (!g_stop) pause();
    /* the workers' connections end with the process: the server sees them close */
    MHD_stop_daemon(d);
    fprintf(stderr, "ceiling-pg: stopped after %llu inserts\n", (unsigned long long)atomic_load(&g_inserts));
    return 0;
}
