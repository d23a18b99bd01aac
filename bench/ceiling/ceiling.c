/* ceiling.c - the machine's ceiling for an HTTP + SQLite JSON API, measured
 * beside opsbase in the same benchmark run. Not part of opsbase: it is built
 * by bench/run.sh into the build tree and never linked into the server.
 *
 * libmicrohttpd with the same daemon flags as opsbase (internal thread pool,
 * epoll) and, with --db, one SQLite database in WAL mode: no auth, no
 * permission check, no audit, no validation beyond parsing the JSON body.
 *
 *   GET  /fixed                      a fixed 200-byte JSON body
 *   GET  /api/v1/customers/ID        one primary-key lookup, the row as JSON
 *   GET  /api/v1/customers?status=S  one indexed 50-row list (newest first)
 *   POST /api/v1/customers           one insert (body: JSON object), the row back
 *
 * usage: ceiling --port P [--threads N] [--db FILE --synchronous full|normal]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ceiling.h"

#define MAX_BODY (1024 * 1024)
#define LIST_LIMIT 50

/* The selected columns of the list and get: the table's every column. */
static const char *g_db_path;
static int g_sync_full = 1;
static pthread_mutex_t g_write_lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 *g_writer;
static sqlite3_stmt *g_insert;
static atomic_uint_fast64_t g_seq;
static volatile sig_atomic_t g_stop;

/* Per worker thread: its own read connection and statements. */
struct reader {
    sqlite3 *db;
    sqlite3_stmt *get;
    sqlite3_stmt *list;
};
static _Thread_local struct reader *t_reader;

static const char FIXED_BODY[] =
    "{\"id\":\"01a20128-4a7f-755f-b540-8f32c3804edf\",\"status\":\"ok\",\"name\":\"ceiling\","
    "\"message\":\"a fixed JSON body of exactly two hundred bytes for the HTTP ceiling case\","
    "\"padding\":\"xxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
_Static_assert(sizeof FIXED_BODY - 1 == 200, "the fixed body is 200 bytes");

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

static int open_db(sqlite3 **db)
{
    if (sqlite3_open_v2(g_db_path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        fprintf(stderr, "ceiling: open %s: %s\n", g_db_path, sqlite3_errmsg(*db));
        return -1;
    }
    sqlite3_busy_timeout(*db, 5000);
    char *msg = NULL;
    const char *pragmas = g_sync_full ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                                      : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";
    if (sqlite3_exec(*db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "ceiling: pragmas: %s\n", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
        fprintf(stderr, "ceiling: prepare: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

static struct reader *reader_get(void)
{
    if (t_reader) return t_reader;
    struct reader *r = calloc(1, sizeof *r);
    if (!r || open_db(&r->db) != 0 ||
        prepare(r->db, "SELECT * FROM customers WHERE id = ?1", &r->get) != 0 ||
        prepare(r->db, "SELECT * FROM customers WHERE status = ?1 ORDER BY created_at DESC LIMIT 50", &r->list) != 0) {
        /* a worker without a connection answers 500; keep nothing half open */
        if (r) sqlite3_close_v2(r->db);
        free(r);
        return NULL;
    }
    t_reader = r;
    return r;
}

static int writer_open(void)
{
    if (open_db(&g_writer) != 0) return -1;
    return prepare(g_writer,
                   "INSERT INTO customers (id, created_at, updated_at, version, customer_code, name, email, "
                   "company_name, status) VALUES (?1, ?2, ?2, 1, ?3, ?4, ?5, ?6, 'active') RETURNING *",
                   &g_insert);
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

static struct MHD_Response *json_response(struct cbuf *b)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->buf, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(b->buf);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    return r;
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, struct cbuf *b)
{
    struct MHD_Response *r = json_response(b);
    if (!r) return MHD_NO;
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

static enum MHD_Result do_get(struct MHD_Connection *c, const char *id)
{
    struct reader *r = reader_get();
    if (!r) return send_text(c, 500, "{\"error\":\"no database\"}");
    sqlite3_bind_text(r->get, 1, id, -1, SQLITE_STATIC);
    struct cbuf b = {0};
    int rc = sqlite3_step(r->get);
    unsigned status = 200;
    if (rc == SQLITE_ROW) {
        cb_row_json(&b, r->get);
    } else {
        status = rc == SQLITE_DONE ? 404 : 500;
        cb_add(&b, "{\"error\":\"not found\"}", 21);
    }
    sqlite3_reset(r->get);
    sqlite3_clear_bindings(r->get);
    return send_buf(c, status, &b);
}

static enum MHD_Result do_list(struct MHD_Connection *c)
{
    struct reader *r = reader_get();
    if (!r) return send_text(c, 500, "{\"error\":\"no database\"}");
    const char *status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    sqlite3_bind_text(r->list, 1, status ? status : "active", -1, SQLITE_TRANSIENT);
    struct cbuf b = {0};
    cb_add(&b, "{\"data\":[", 9);
    int rc, n = 0;
    while ((rc = sqlite3_step(r->list)) == SQLITE_ROW) {
        if (n++) cb_add(&b, ",", 1);
        cb_row_json(&b, r->list);
    }
    cb_add(&b, "],\"next_cursor\":null}", 21);
    sqlite3_reset(r->list);
    sqlite3_clear_bindings(r->list);
    if (rc != SQLITE_DONE) {
        free(b.buf);
        return send_text(c, 500, "{\"error\":\"list failed\"}");
    }
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
    char id[37], ts[32], code[48];
    make_id(id, ts);
    snprintf(code, sizeof code, "CEIL-%s", id);
    struct cbuf b = {0};
    unsigned status = 201;
    pthread_mutex_lock(&g_write_lock);
    sqlite3_bind_text(g_insert, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(g_insert, 2, ts, -1, SQLITE_STATIC);
    sqlite3_bind_text(g_insert, 3, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(g_insert, 4, str_field(o, "name"), -1, SQLITE_STATIC);
    sqlite3_bind_text(g_insert, 5, str_field(o, "email"), -1, SQLITE_STATIC);
    sqlite3_bind_text(g_insert, 6, str_field(o, "company_name"), -1, SQLITE_STATIC);
    int rc = sqlite3_step(g_insert);
    if (rc == SQLITE_ROW) cb_row_json(&b, g_insert);
    /* RETURNING: the statement commits when it is run to completion */
    int rc2 = rc == SQLITE_ROW ? sqlite3_step(g_insert) : rc;
    if (rc != SQLITE_ROW || rc2 != SQLITE_DONE) {
        status = 500;
        b.len = 0;
        cb_add(&b, "{\"error\":\"insert failed\"}", 25);
    }
    sqlite3_reset(g_insert);
    sqlite3_clear_bindings(g_insert);
    pthread_mutex_unlock(&g_write_lock);
    json_decref(o);
    atomic_fetch_add(&g_seq, 1);
    return send_buf(c, status, &b);
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
    if (!g_db_path || strncmp(url, prefix, sizeof prefix - 1) != 0)
        return send_text(c, 404, "{\"error\":\"no route\"}");
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

int main(int argc, char **argv)
{
    unsigned port = 0, threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0) port = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0) threads = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--db") == 0) g_db_path = argv[i + 1];
        else if (strcmp(argv[i], "--synchronous") == 0) g_sync_full = strcmp(argv[i + 1], "normal") != 0;
        else {
            fprintf(stderr, "usage: ceiling --port P [--threads N] [--db FILE --synchronous full|normal]\n");
            return 2;
        }
    }
    if (!port || port > 65535 || !threads) {
        fprintf(stderr, "ceiling: --port and --threads must be positive\n");
        return 2;
    }
    if (g_db_path && writer_open() != 0) return 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
        NULL, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "ceiling: cannot listen on 127.0.0.1:%u: %s\n", port, strerror(errno));
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    fprintf(stderr, "ceiling: listening on 127.0.0.1:%u%s\n", port, g_db_path ? " with a database" : "");
    while (!g_stop) pause();
    MHD_stop_daemon(d);
    if (g_writer) {
        sqlite3_finalize(g_insert);
        sqlite3_close_v2(g_writer);
    }
    fprintf(stderr, "ceiling: stopped after %llu inserts\n", (unsigned long long)atomic_load(&g_seq));
    return 0;
}
