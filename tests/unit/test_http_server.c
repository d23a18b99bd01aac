/* test_http_server.c - the HTTP server over raw sockets.
 *
 * A server on 127.0.0.1 with an ephemeral port and a small handler that echoes
 * what it saw as JSON; the client side is hand-written HTTP/1.1 so keep-alive,
 * pipelining, chunked bodies and malformed requests are under the test's
 * control. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "http/http.h"
#include "base/banned.h"

#define MAX_BODY 1024

static ob_http *g_srv;
static int g_port;
static atomic_int g_calls;
static atomic_int g_slow_entered;

/* ---- the application under test ----------------------------------------- */

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void echo_handler(ob_req *req, ob_resp *resp, void *app)
{
    (void)app;
    atomic_fetch_add(&g_calls, 1);
    if (ob_streq(req->path, "/empty"))
        return; /* status 200, no body: a handler bug */
    if (ob_streq(req->path, "/nostatus")) {
        resp->status = 0;
        ob_sb_adds(&resp->body, "{}");
        return;
    }
    if (ob_streq(req->path, "/nocontent")) {
        resp->status = 204;
        return;
    }
    if (ob_streq(req->path, "/conflict")) {
        ob_err e;
        ob_err_clear(&e);
        ob_err_set(&e, OB_E_CONFLICT, "email \"%s\" is taken", "a@b.test");
        snprintf(e.field, sizeof e.field, "email");
        ob_resp_error(resp, &e);
        ob_resp_header(resp, "X-Extra", "1");
        return;
    }
    if (ob_streq(req->path, "/slow")) {
        atomic_store(&g_slow_entered, 1);
        sleep_ms(300);
    }
    if (ob_streq(req->path, "/tenant"))
        req->tenant = "acme";
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "method", req->method);
    ob_jw_kstr(&w, "path", req->path);
    ob_jw_kstr(&w, "raw_path", req->raw_path);
    ob_jw_key(&w, "seg");
    ob_jw_arr_open(&w);
    for (int i = 0; i < req->nseg; i++)
        ob_jw_str(&w, req->seg[i]);
    ob_jw_arr_close(&w);
    ob_jw_key(&w, "query");
    ob_jw_arr_open(&w);
    for (int i = 0; i < req->nquery; i++) {
        ob_jw_arr_open(&w);
        ob_jw_str(&w, req->query[i].key);
        ob_jw_str(&w, req->query[i].val);
        ob_jw_arr_close(&w);
    }
    ob_jw_arr_close(&w);
    ob_jw_kbool(&w, "query_bad", req->query_bad);
    ob_jw_ki64(&w, "body_len", (int64_t)req->body_len);
    ob_jw_kbool(&w, "body_nul", req->body[req->body_len] == '\0');
    ob_jw_key(&w, "body");
    ob_jw_strn(&w, req->body, req->body_len);
    ob_jw_kstr(&w, "request_id", req->request_id);
    ob_jw_kstr(&w, "ip", req->ip);
    ob_jw_kstr(&w, "x_test", req->header(req, "x-TEST"));
    ob_jw_obj_close(&w);
    ob_resp_header(resp, "X-Handler", "echo");
}

static ob_http *start_server(size_t max_body, ob_http_opts *extra)
{
    ob_http_opts o = { 0 };
    if (extra)
        o = *extra;
    o.listen = "127.0.0.1:0";
    if (!o.threads)
        o.threads = 2;
    o.max_body = max_body;
    ob_err err;
    ob_http *h = NULL;
    int rc = ob_http_start(&h, &o, echo_handler, NULL, &err);
    if (rc != 0)
        fprintf(stderr, "start: %s\n", err.message);
    assert_int_equal(rc, 0);
    assert_true(ob_http_port(h) > 0);
    return h;
}

static int setup(void **state)
{
    (void)state;
    ob_log_set_level(OB_LOG_OFF);
    g_srv = start_server(MAX_BODY, NULL);
    g_port = ob_http_port(g_srv);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ob_http_stop(g_srv);
    return 0;
}

/* ---- a raw HTTP/1.1 client ---------------------------------------------- */

typedef struct client {
    int fd;
    char buf[256 * 1024];
    size_t len;
} client;

typedef struct reply {
    int status;
    char head[16 * 1024]; /* status line and headers */
    char *body;           /* malloc'd, NUL-terminated */
    size_t body_len;
} reply;

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static client *cl_open(void)
{
    client *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->fd = tcp_connect(g_port);
    assert_true(c->fd >= 0);
    return c;
}

static void cl_close(client *c)
{
    close(c->fd);
    free(c);
}

static int cl_send(client *c, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t k = send(c->fd, data, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        data += k;
        n -= (size_t)k;
    }
    return 0;
}

static int cl_sends(client *c, const char *s)
{
    return cl_send(c, s, strlen(s));
}

/* Read more bytes into the buffer; 0 on EOF or timeout. */
static size_t cl_fill(client *c)
{
    if (c->len == sizeof c->buf)
        return 0;
    ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (k <= 0)
        return 0;
    c->len += (size_t)k;
    return (size_t)k;
}

static void reply_free(reply *r)
{
    free(r->body);
    r->body = NULL;
}

/* Value of a header in r->head (case-insensitive name) into out; NULL if absent. */
static const char *reply_header(const reply *r, const char *name, char *out, size_t outsz)
{
    size_t nlen = strlen(name);
    const char *p = strstr(r->head, "\r\n");
    while (p && p[2]) {
        p += 2;
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outsz, "%.*s", (int)(eol - v), v);
            return out;
        }
        p = eol;
    }
    return NULL;
}

/* Read one response (Content-Length framed, or up to EOF). 0 on success. */
static int cl_read(client *c, reply *r)
{
    memset(r, 0, sizeof *r);
    char *end;
    for (;;) {
        c->buf[c->len < sizeof c->buf ? c->len : sizeof c->buf - 1] = '\0';
        end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (end)
            break;
        if (!cl_fill(c))
            return -1;
    }
    size_t hlen = (size_t)(end - c->buf) + 4;
    if (hlen >= sizeof r->head)
        return -1;
    memcpy(r->head, c->buf, hlen);
    r->head[hlen] = '\0';
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    char v[64];
    long long clen = -1;
    if (reply_header(r, "Content-Length", v, sizeof v))
        clen = strtoll(v, NULL, 10);
    if (clen < 0) {
        while (cl_fill(c))
            ;
        clen = (long long)(c->len - hlen);
    }
    while (c->len < hlen + (size_t)clen)
        if (!cl_fill(c))
            return -1;
    r->body_len = (size_t)clen;
    r->body = malloc(r->body_len + 1);
    memcpy(r->body, c->buf + hlen, r->body_len);
    r->body[r->body_len] = '\0';
    memmove(c->buf, c->buf + hlen + r->body_len, c->len - hlen - r->body_len);
    c->len -= hlen + r->body_len;
    return 0;
}

/* True when the server closed the connection (EOF or reset) within the
 * timeout. */
static bool cl_closed_within(client *c, int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b[64];
    ssize_t k = recv(c->fd, b, sizeof b, 0);
    return k == 0 || (k < 0 && errno == ECONNRESET);
}

static bool cl_closed(client *c)
{
    return cl_closed_within(c, 2000);
}

static json_t *reply_json(const reply *r)
{
    json_error_t je;
    json_t *j = json_loadb(r->body, r->body_len, 0, &je);
    if (!j)
        fprintf(stderr, "not JSON (%d): %s\n", r->status, r->body);
    assert_non_null(j);
    return j;
}

static const char *jstr(json_t *j, const char *path1, const char *path2)
{
    json_t *v = json_object_get(j, path1);
    if (v && path2)
        v = json_object_get(v, path2);
    return json_string_value(v);
}

/* GET path on the client; returns the parsed JSON body. */
static json_t *get_json(client *c, const char *path, int want_status)
{
    char req[4096];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    assert_int_equal(cl_sends(c, req), 0);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, want_status);
    json_t *j = reply_json(&r);
    reply_free(&r);
    return j;
}

static void assert_error_code(json_t *j, const char *code)
{
    assert_string_equal(jstr(j, "error", "code"), code);
    assert_non_null(jstr(j, "error", "message"));
}

/* ---- tests -------------------------------------------------------------- */

static void test_keepalive_three_requests(void **state)
{
    (void)state;
    client *c = cl_open();
    for (int i = 0; i < 3; i++) {
        char path[32];
        snprintf(path, sizeof path, "/ka/%d", i);
        char req[128];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
        assert_int_equal(cl_sends(c, req), 0);
        reply r;
        assert_int_equal(cl_read(c, &r), 0);
        assert_int_equal(r.status, 200);
        char v[128];
        assert_string_equal(reply_header(&r, "Content-Type", v, sizeof v), "application/json");
        assert_string_equal(reply_header(&r, "Cache-Control", v, sizeof v), "no-store");
        assert_string_equal(reply_header(&r, "X-Content-Type-Options", v, sizeof v), "nosniff");
        assert_string_equal(reply_header(&r, "X-Handler", v, sizeof v), "echo");
        assert_null(reply_header(&r, "Connection", v, sizeof v));
        json_t *j = reply_json(&r);
        assert_string_equal(jstr(j, "path", NULL), path);
        assert_string_equal(jstr(j, "method", NULL), "GET");
        assert_string_equal(jstr(j, "ip", NULL), "127.0.0.1");
        assert_string_equal(reply_header(&r, "X-Request-Id", v, sizeof v), jstr(j, "request_id", NULL));
        json_decref(j);
        reply_free(&r);
    }
    cl_close(c);
}

static void test_pipelined_requests(void **state)
{
    (void)state;
    client *c = cl_open();
    assert_int_equal(cl_sends(c, "GET /p/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "POST /p/2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                                 "GET /p/3 HTTP/1.1\r\nHost: t\r\n\r\n"),
                     0);
    const char *want[] = { "/p/1", "/p/2", "/p/3" };
    for (int i = 0; i < 3; i++) {
        reply r;
        assert_int_equal(cl_read(c, &r), 0);
        assert_int_equal(r.status, 200);
        json_t *j = reply_json(&r);
        assert_string_equal(jstr(j, "path", NULL), want[i]);
        json_decref(j);
        reply_free(&r);
    }
    cl_close(c);
}

static void test_post_body(void **state)
{
    (void)state;
    client *c = cl_open();
    /* Sent in pieces so the body reaches the server over several calls. */
    assert_int_equal(cl_sends(c, "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello"), 0);
    sleep_ms(20);
    assert_int_equal(cl_sends(c, " world"), 0);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *j = reply_json(&r);
    assert_string_equal(jstr(j, "body", NULL), "hello world");
    assert_int_equal(json_integer_value(json_object_get(j, "body_len")), 11);
    assert_true(json_is_true(json_object_get(j, "body_nul")));
    json_decref(j);
    reply_free(&r);

    /* Chunked upload, then a GET with no body on the same connection. */
    assert_int_equal(cl_sends(c, "POST /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"),
                     0);
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 200);
    j = reply_json(&r);
    assert_string_equal(jstr(j, "body", NULL), "abcdefg");
    json_decref(j);
    reply_free(&r);

    j = get_json(c, "/after", 200);
    assert_string_equal(jstr(j, "body", NULL), "");
    assert_int_equal(json_integer_value(json_object_get(j, "body_len")), 0);
    json_decref(j);
    cl_close(c);
}

static void test_body_at_limit(void **state)
{
    (void)state;
    client *c = cl_open();
    char body[MAX_BODY];
    memset(body, 'x', sizeof body);
    char head[128];
    snprintf(head, sizeof head, "POST /limit HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n", MAX_BODY);
    assert_int_equal(cl_sends(c, head), 0);
    assert_int_equal(cl_send(c, body, sizeof body), 0);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *j = reply_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "body_len")), MAX_BODY);
    json_decref(j);
    reply_free(&r);
    cl_close(c);
}

static void test_body_too_large_chunked(void **state)
{
    (void)state;
    int calls = atomic_load(&g_calls);
    client *c = cl_open();
    assert_int_equal(cl_sends(c, "POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
    char chunk[600];
    memset(chunk, 'y', sizeof chunk);
    for (int i = 0; i < 4; i++) { /* 2400 bytes > MAX_BODY */
        assert_int_equal(cl_sends(c, "258\r\n"), 0);
        assert_int_equal(cl_send(c, chunk, sizeof chunk), 0);
        assert_int_equal(cl_sends(c, "\r\n"), 0);
    }
    assert_int_equal(cl_sends(c, "0\r\n\r\n"), 0);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 413);
    json_t *j = reply_json(&r);
    assert_error_code(j, "payload_too_large");
    json_decref(j);
    reply_free(&r);
    assert_int_equal(atomic_load(&g_calls), calls);

    /* The rest of the body was consumed: the connection still serves. */
    j = get_json(c, "/still-here", 200);
    json_decref(j);
    cl_close(c);
}

static void test_body_too_large_declared(void **state)
{
    (void)state;
    int calls = atomic_load(&g_calls);
    client *c = cl_open();
    assert_int_equal(cl_sends(c, "POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\nxxxx"),
                     0);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 413);
    json_t *j = reply_json(&r);
    assert_error_code(j, "payload_too_large");
    json_decref(j);
    reply_free(&r);
    /* The server will not read 100 MB to keep this connection: it closes. */
    assert_true(cl_closed(c));
    cl_close(c);
    assert_int_equal(atomic_load(&g_calls), calls);

    c = cl_open();
    j = get_json(c, "/next", 200);
    json_decref(j);
    cl_close(c);
}

static void test_body_too_large_expect_continue(void **state)
{
    (void)state;
    client *c = cl_open();
    /* Answered before any body is asked for: no 100 Continue. */
    assert_int_equal(cl_sends(c, "PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n"
                                 "Expect: 100-continue\r\n\r\n"),
                     0);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 413);
    json_t *j = reply_json(&r);
    assert_error_code(j, "payload_too_large");
    json_decref(j);
    reply_free(&r);
    assert_true(cl_closed(c));
    cl_close(c);
}

/* Framing libmicrohttpd would accept but a proxy might read differently. */
static void test_ambiguous_framing(void **state)
{
    (void)state;
    int calls = atomic_load(&g_calls);
    const char *reqs[] = {
        "POST /f HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "POST /f HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n",
        "POST /f HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        "POST /f HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n",
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(reqs); i++) {
        client *c = cl_open();
        assert_int_equal(cl_sends(c, reqs[i]), 0);
        reply r;
        assert_int_equal(cl_read(c, &r), 0);
        assert_int_equal(r.status, 400);
        json_t *j = reply_json(&r);
        assert_error_code(j, "bad_request");
        json_decref(j);
        reply_free(&r);
        assert_true(cl_closed(c));
        cl_close(c);
    }
    assert_int_equal(atomic_load(&g_calls), calls);
}

/* A chunked body has no size to refuse at once; past DRAIN_FACTOR (16) times
 * the limit the server stops reading, answers 413 and closes, instead of
 * reading for as long as the client sends. */
static void test_chunked_body_past_drain_limit_is_cut(void **state)
{
    (void)state;
    int calls = atomic_load(&g_calls);
    client *c = cl_open();
    assert_int_equal(cl_sends(c, "POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
    char chunk[1024];
    memset(chunk, 'z', sizeof chunk);
    size_t sent = 0;
    for (int i = 0; i < 4096; i++) { /* up to 4 MiB, 4096 times the limit */
        if (cl_sends(c, "400\r\n") != 0 || cl_send(c, chunk, sizeof chunk) != 0 || cl_sends(c, "\r\n") != 0)
            break;
        sent += sizeof chunk;
    }
    assert_true(sent < (size_t)4096 * 1024); /* the server stopped reading */
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 413);
    char v[64];
    assert_string_equal(reply_header(&r, "Connection", v, sizeof v), "close");
    json_t *j = reply_json(&r);
    assert_error_code(j, "payload_too_large");
    json_decref(j);
    reply_free(&r);
    assert_true(cl_closed(c));
    cl_close(c);
    assert_int_equal(atomic_load(&g_calls), calls);

    c = cl_open();
    j = get_json(c, "/after-drain", 200);
    json_decref(j);
    cl_close(c);
}

/* libmicrohttpd 0.9.75 keeps whitespace before the colon in the field name
 * ("Content-Length ") and served such requests; RFC 9112 section 5.1 wants a
 * 400, and the connection closed since its framing is in doubt. */
static void test_whitespace_before_header_colon(void **state)
{
    (void)state;
    int calls = atomic_load(&g_calls);
    const char *reqs[] = {
        "GET /w HTTP/1.1\r\nHost : t\r\n\r\n",
        "GET /w HTTP/1.1\r\nHost: t\r\nX-Test\t: v\r\n\r\n",
        "GET /w HTTP/1.1\r\nHost: t\r\nX Test: v\r\n\r\n",
        "GET /w HTTP/1.1\r\nHost: t\r\nX-(Test): v\r\n\r\n",
        /* without the check the body was read as a second request */
        "POST /w HTTP/1.1\r\nHost: t\r\nContent-Length : 30\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(reqs); i++) {
        client *c = cl_open();
        assert_int_equal(cl_sends(c, reqs[i]), 0);
        reply r;
        assert_int_equal(cl_read(c, &r), 0);
        assert_int_equal(r.status, 400);
        json_t *j = reply_json(&r);
        assert_error_code(j, "bad_request");
        json_decref(j);
        reply_free(&r);
        assert_true(cl_closed(c));
        cl_close(c);
    }
    assert_int_equal(atomic_load(&g_calls), calls);

    /* A trailer name is held to the same rule; the body was read to its end,
     * so the connection stays. */
    client *c = cl_open();
    assert_int_equal(cl_sends(c, "POST /w HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "1\r\na\r\n0\r\nX-Trailer : v\r\n\r\n"),
                     0);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 400);
    json_t *j = reply_json(&r);
    assert_error_code(j, "bad_request");
    json_decref(j);
    reply_free(&r);
    j = get_json(c, "/after-trailer", 200);
    json_decref(j);
    cl_close(c);
    assert_int_equal(atomic_load(&g_calls), calls + 1);
}

static void test_query_parsing(void **state)
{
    (void)state;
    client *c = cl_open();
    json_t *j = get_json(c, "/q?a=1&b=x+y&c=%41%42%2b&d=&e&a=2&&%66=%3D&sp=a%20b", 200);
    assert_false(json_is_true(json_object_get(j, "query_bad")));
    const char *want[][2] = { { "a", "1" }, { "b", "x y" }, { "c", "AB+" }, { "d", "" },
                              { "e", "" },  { "a", "2" },   { "f", "=" },   { "sp", "a b" } };
    json_t *q = json_object_get(j, "query");
    assert_int_equal(json_array_size(q), OB_ARRAY_LEN(want));
    for (size_t i = 0; i < OB_ARRAY_LEN(want); i++) {
        assert_string_equal(json_string_value(json_array_get(json_array_get(q, i), 0)), want[i][0]);
        assert_string_equal(json_string_value(json_array_get(json_array_get(q, i), 1)), want[i][1]);
    }
    assert_string_equal(jstr(j, "path", NULL), "/q");
    assert_string_equal(jstr(j, "raw_path", NULL), "/q");
    json_decref(j);

    j = get_json(c, "/q?a=%zz&b=1&n=%00", 200);
    assert_true(json_is_true(json_object_get(j, "query_bad")));
    q = json_object_get(j, "query");
    assert_int_equal(json_array_size(q), 1);
    assert_string_equal(json_string_value(json_array_get(json_array_get(q, 0), 0)), "b");
    json_decref(j);

    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_sb_adds(&sb, "/q?");
    for (int i = 0; i < OB_MAX_QUERY_PARAMS + 1; i++)
        ob_sb_addf(&sb, "k%d=%d&", i, i);
    j = get_json(c, sb.buf, 200);
    ob_sb_release(&sb);
    assert_true(json_is_true(json_object_get(j, "query_bad")));
    assert_int_equal(json_array_size(json_object_get(j, "query")), OB_MAX_QUERY_PARAMS);
    json_decref(j);
    cl_close(c);
}

static void test_path_decoding(void **state)
{
    (void)state;
    client *c = cl_open();
    json_t *j = get_json(c, "/a%20b/c+d%2Fe?x=1", 200);
    assert_string_equal(jstr(j, "path", NULL), "/a b/c+d%2Fe"); /* %2F never separates */
    assert_string_equal(jstr(j, "raw_path", NULL), "/a%20b/c+d%2Fe");
    json_t *seg = json_object_get(j, "seg");
    assert_int_equal(json_array_size(seg), 2);
    assert_string_equal(json_string_value(json_array_get(seg, 1)), "c+d/e");
    json_decref(j);

    int calls = atomic_load(&g_calls);
    const char *bad[] = { "/a%zz", "/a%0", "/a%00b", "/a%", "*", "http://h/x", "/a b", "/a\x01", "/q?a b" };
    for (size_t i = 0; i < OB_ARRAY_LEN(bad); i++) {
        j = get_json(c, bad[i], 400);
        assert_error_code(j, "bad_request");
        json_decref(j);
    }
    assert_int_equal(atomic_load(&g_calls), calls);
    j = get_json(c, "/fine", 200); /* keep-alive survived the 400s */
    json_decref(j);
    cl_close(c);
}

static void test_request_id(void **state)
{
    (void)state;
    client *c = cl_open();
    char v[128];
    reply r;

    assert_int_equal(cl_sends(c, "GET /id HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc-123._Z\r\n\r\n"), 0);
    assert_int_equal(cl_read(c, &r), 0);
    assert_string_equal(reply_header(&r, "X-Request-Id", v, sizeof v), "abc-123._Z");
    json_t *j = reply_json(&r);
    assert_string_equal(jstr(j, "request_id", NULL), "abc-123._Z");
    json_decref(j);
    reply_free(&r);

    const char *bad[] = { "has space", "semi;colon", "0123456789012345678901234567890123456789", "" };
    char prev[128] = "";
    for (size_t i = 0; i < OB_ARRAY_LEN(bad); i++) {
        char req[256];
        snprintf(req, sizeof req, "GET /id HTTP/1.1\r\nHost: t\r\nX-Request-Id: %s\r\n\r\n", bad[i]);
        assert_int_equal(cl_sends(c, req), 0);
        assert_int_equal(cl_read(c, &r), 0);
        assert_non_null(reply_header(&r, "X-Request-Id", v, sizeof v));
        assert_true(ob_uuid_valid(v));
        assert_int_equal(v[14], '7'); /* version nibble */
        assert_string_not_equal(v, prev);
        snprintf(prev, sizeof prev, "%s", v);
        reply_free(&r);
    }
    cl_close(c);
}

static void test_handler_errors(void **state)
{
    (void)state;
    client *c = cl_open();
    json_t *j = get_json(c, "/empty", 500);
    assert_error_code(j, "internal");
    json_decref(j);
    j = get_json(c, "/nostatus", 500);
    assert_error_code(j, "internal");
    json_decref(j);

    assert_int_equal(cl_sends(c, "GET /conflict HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 409);
    char v[64];
    assert_string_equal(reply_header(&r, "X-Extra", v, sizeof v), "1");
    j = reply_json(&r);
    assert_error_code(j, "conflict");
    assert_string_equal(jstr(j, "error", "message"), "email \"a@b.test\" is taken");
    assert_string_equal(jstr(j, "error", "field"), "email");
    json_decref(j);
    reply_free(&r);

    assert_int_equal(cl_sends(c, "GET /nocontent HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body_len, 0);
    reply_free(&r);
    j = get_json(c, "/after-204", 200);
    json_decref(j);
    cl_close(c);
}

static void test_headers(void **state)
{
    (void)state;
    client *c = cl_open();
    assert_int_equal(cl_sends(c, "GET /h HTTP/1.1\r\nHost: t\r\nX-Test: some value\r\n\r\n"), 0);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    json_t *j = reply_json(&r);
    assert_string_equal(jstr(j, "x_test", NULL), "some value");
    json_decref(j);
    reply_free(&r);

    j = get_json(c, "/h", 200);
    assert_true(json_is_null(json_object_get(j, "x_test")));
    json_decref(j);

    /* Headers over max_header (default 16 KiB) but within MHD's memory pool:
     * our JSON 431, and the connection still serves. */
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_sb_adds(&sb, "GET /h HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 20; i++) {
        ob_sb_addf(&sb, "X-Pad-%d: ", i);
        for (int k = 0; k < 1000; k++)
            ob_sb_addc(&sb, 'p');
        ob_sb_adds(&sb, "\r\n");
    }
    ob_sb_adds(&sb, "\r\n");
    assert_int_equal(cl_send(c, sb.buf, sb.len), 0);
    ob_sb_release(&sb);
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 431);
    j = reply_json(&r);
    assert_error_code(j, "headers_too_large");
    json_decref(j);
    reply_free(&r);
    j = get_json(c, "/after-431", 200);
    json_decref(j);
    cl_close(c);
}

typedef struct worker {
    int id;
    int ok;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    client *c = NULL;
    for (int i = 0; i < 200; i++) {
        if (i % 50 == 0) { /* some fresh connections, mostly keep-alive */
            if (c)
                cl_close(c);
            c = calloc(1, sizeof *c);
            c->fd = tcp_connect(g_port);
            if (c->fd < 0)
                break;
        }
        char req[128], want[64];
        snprintf(want, sizeof want, "/w/%d/%d", w->id, i);
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", want);
        reply r;
        if (cl_sends(c, req) != 0 || cl_read(c, &r) != 0)
            break;
        json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
        if (r.status == 200 && j && ob_streq(jstr(j, "path", NULL), want))
            w->ok++;
        json_decref(j);
        reply_free(&r);
    }
    if (c)
        cl_close(c);
    return NULL;
}

static void test_concurrent_clients(void **state)
{
    (void)state;
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ .id = i };
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].ok, 200);
    }
}

/* Malformed requests libmicrohttpd 0.9.75 answers itself, before any
 * callback of ours runs: these pin its behaviour (status, HTML body,
 * connection closed) so a library change shows up here. */
static void test_malformed_requests(void **state)
{
    (void)state;
    int calls = atomic_load(&g_calls);
    struct {
        const char *req;
        int status; /* 0: closed without an answer */
    } cases[] = {
        { "GARBAGE\r\n\r\n", 0 },
        { "FOO BAR BAZ QUX\r\n\r\n", 400 },
        { "GET /\r\n\r\n", 400 },
        { "GET / HTTX/1.1\r\nHost: t\r\n\r\n", 400 },
        { "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505 },
        { "GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413 },
        { "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400 },
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(cases); i++) {
        client *c = cl_open();
        assert_int_equal(cl_sends(c, cases[i].req), 0);
        reply r;
        int rc = cl_read(c, &r);
        if (cases[i].status == 0) {
            assert_int_equal(rc, -1);
            cl_close(c);
            continue;
        }
        assert_int_equal(rc, 0);
        if (r.status != cases[i].status)
            fprintf(stderr, "case %zu: got %d\n%s%s\n", i, r.status, r.head, r.body);
        assert_int_equal(r.status, cases[i].status);
        assert_true(strstr(r.body, "<html>") != NULL || strstr(r.body, "HTTP/1.1") != NULL);
        reply_free(&r);
        assert_true(cl_closed(c));
        cl_close(c);
    }
    /* A header block past MHD's memory pool (max_header + 16 KiB). */
    client *c = cl_open();
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_sb_adds(&sb, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
    for (int k = 0; k < 64 * 1024; k++)
        ob_sb_addc(&sb, 'b');
    ob_sb_adds(&sb, "\r\n\r\n");
    cl_send(c, sb.buf, sb.len);
    ob_sb_release(&sb);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    assert_int_equal(r.status, 431);
    reply_free(&r);
    cl_close(c);
    /* The chunked case reached our first call only; no handler ran. */
    assert_int_equal(atomic_load(&g_calls), calls);

    /* The server is unharmed. */
    c = cl_open();
    json_t *j = get_json(c, "/ok", 200);
    json_decref(j);
    cl_close(c);
}

static void test_access_log(void **state)
{
    (void)state;
    char path[] = "/tmp/ob_http_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    ob_log_set_level(OB_LOG_INFO);

    client *c = cl_open();
    assert_int_equal(cl_sends(c, "GET /tenant?x=%22 HTTP/1.1\r\nHost: t\r\nX-Request-Id: log-1\r\n\r\n"), 0);
    reply r;
    assert_int_equal(cl_read(c, &r), 0);
    reply_free(&r);
    cl_close(c);

    /* The line is written when MHD reports completion, just after the send. */
    char buf[8192] = "";
    for (int i = 0; i < 100 && !strstr(buf, "log-1"); i++) {
        sleep_ms(10);
        ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
        buf[k > 0 ? k : 0] = '\0';
    }
    ob_log_set_level(OB_LOG_OFF);
    dup2(saved, 2);
    close(saved);
    close(fd);
    unlink(path);

    char *line = strstr(buf, "log-1");
    assert_non_null(line);
    while (line > buf && line[-1] != '\n')
        line--;
    char *eol = strchr(line, '\n');
    if (eol)
        *eol = '\0';
    json_t *j = json_loads(line, 0, NULL);
    assert_non_null(j);
    assert_string_equal(jstr(j, "request_id", NULL), "log-1");
    assert_string_equal(jstr(j, "tenant", NULL), "acme");
    assert_string_equal(jstr(j, "method", NULL), "GET");
    assert_string_equal(jstr(j, "path", NULL), "/tenant");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    assert_true(json_is_real(json_object_get(j, "duration_ms")));
    assert_string_equal(jstr(j, "ip", NULL), "127.0.0.1");
    json_decref(j);
}

static void *slow_client(void *arg)
{
    int *status = arg;
    client *c = calloc(1, sizeof *c);
    c->fd = tcp_connect(*status);
    *status = -1;
    reply r;
    if (c->fd >= 0 && cl_sends(c, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n") == 0 && cl_read(c, &r) == 0) {
        json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
        *status = j && ob_streq(jstr(j, "path", NULL), "/slow") ? r.status : -2;
        json_decref(j);
        reply_free(&r);
    }
    cl_close(c);
    return NULL;
}

static void test_graceful_stop(void **state)
{
    (void)state;
    ob_http *h = start_server(MAX_BODY, NULL);
    int port = ob_http_port(h);
    int status = port;
    atomic_store(&g_slow_entered, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_client, &status), 0);
    for (int i = 0; i < 500 && !atomic_load(&g_slow_entered); i++)
        sleep_ms(2);
    assert_true(atomic_load(&g_slow_entered));
    int64_t t0 = ob_mono_us();
    ob_http_stop(h); /* must wait for /slow to be answered */
    pthread_join(t, NULL);
    assert_int_equal(status, 200);
    assert_true(ob_mono_us() - t0 < 5 * 1000000);
    int fd = tcp_connect(port);
    assert_true(fd < 0);
}

static void test_timeout_and_per_ip_limit(void **state)
{
    (void)state;
    /* margins wide enough for a loaded machine under ASan: the refusal must come
     * well before the 3 s timeout, the timeouts well before 3 x 3 s */
    ob_http_opts o = { .conn_timeout_s = 3, .max_conns_per_ip = 2 };
    ob_http *h = start_server(MAX_BODY, &o);
    int saved_port = g_port;
    g_port = ob_http_port(h);

    client *a = cl_open();
    client *b = cl_open();
    json_t *j = get_json(a, "/one", 200);
    json_decref(j);
    assert_int_equal(cl_sends(b, "GET /half"), 0); /* a slow client */
    client *c = cl_open(); /* the third from this address is refused, */
    assert_true(cl_closed_within(c, 1500)); /* well before the 3 s timeout */
    cl_close(c);

    /* Both the idle keep-alive and the half-sent request time out. */
    int64_t t0 = ob_mono_us();
    assert_true(cl_closed_within(a, 9000));
    assert_true(cl_closed_within(b, 9000));
    assert_true(ob_mono_us() - t0 < 9 * 1000000);
    cl_close(a);
    cl_close(b);

    /* Slots are free again. The server counts a slot free only when it reaps
     * the closed connection, a moment after the client saw the close; under
     * ASan on a busy machine that moment can be long enough for a connection
     * opened at once to be refused, so allow it two seconds. */
    int status = 0;
    for (int tries = 0; tries < 20 && status != 200; tries++) {
        if (tries)
            sleep_ms(100);
        c = cl_open();
        reply r;
        if (cl_sends(c, "GET /again HTTP/1.1\r\nHost: t\r\n\r\n") == 0 && cl_read(c, &r) == 0) {
            status = r.status;
            reply_free(&r);
        }
        cl_close(c);
    }
    assert_int_equal(status, 200);
    ob_http_stop(h);
    g_port = saved_port;
}

/* Send one byte every 200 ms until the server closes; microseconds taken,
 * or -1 if still open after max_ms. */
static int64_t trickle_until_closed(client *c, const char *text, int max_ms)
{
    int64_t t0 = ob_mono_us();
    struct timeval tv = { 0, 1000 };
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (size_t i = 0; ob_mono_us() - t0 < (int64_t)max_ms * 1000; i++) {
        char b[256];
        ssize_t k = recv(c->fd, b, sizeof b, 0);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return ob_mono_us() - t0;
        if (cl_send(c, &text[i % strlen(text)], 1) != 0)
            return ob_mono_us() - t0;
        sleep_ms(200);
    }
    return -1;
}

/* The idle timeout alone was reset by every byte: a head sent a byte at a
 * time held its connection forever. The whole head now has a deadline, on a
 * fresh connection header_timeout_s from the opening, on a kept-alive one
 * conn_timeout_s for its request line. */
static void test_slow_head_is_cut_at_deadline(void **state)
{
    (void)state;
    ob_http_opts o = { .conn_timeout_s = 30, .header_timeout_s = 1 };
    ob_http *h = start_server(MAX_BODY, &o);
    int saved_port = g_port;
    g_port = ob_http_port(h);

    client *c = cl_open();
    assert_int_equal(cl_sends(c, "GET /slow-head HTTP/1.1\r\n"), 0);
    int64_t took = trickle_until_closed(c, "X-A: b\r\n", 6000);
    cl_close(c);
    assert_true(took >= 800 * 1000 && took < 3 * 1000000);

    /* A prompt head on a kept-alive connection is not cut by the first
     * request's deadline. */
    c = cl_open();
    json_t *j = get_json(c, "/one", 200);
    json_decref(j);
    sleep_ms(1300);
    j = get_json(c, "/two", 200);
    json_decref(j);
    cl_close(c);
    ob_http_stop(h);

    /* Kept alive: the next request line trickled byte by byte. */
    o = (ob_http_opts){ .conn_timeout_s = 1, .header_timeout_s = 30 };
    h = start_server(MAX_BODY, &o);
    g_port = ob_http_port(h);
    c = cl_open();
    j = get_json(c, "/first", 200);
    json_decref(j);
    took = trickle_until_closed(c, "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 6000);
    cl_close(c);
    assert_true(took > 0 && took < 3 * 1000000);
    ob_http_stop(h);
    g_port = saved_port;
}

static void test_start_errors(void **state)
{
    (void)state;
    const char *bad[] = { "", "8080", ":8080", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80x",
                          "127.0.0.1:-1", "1.2.3:80", "example.com:80", "::1:80", "127.0.0.1:123456" };
    for (size_t i = 0; i < OB_ARRAY_LEN(bad); i++) {
        ob_http_opts o = { .listen = bad[i] };
        ob_err err;
        ob_http *h = (ob_http *)&err; /* must be reset to NULL */
        assert_int_equal(ob_http_start(&h, &o, echo_handler, NULL, &err), -1);
        assert_null(h);
        assert_int_equal(err.code, OB_E_BAD_REQUEST);
        assert_true(strstr(err.message, "listen") != NULL);
    }
    ob_http_opts o = { .listen = NULL };
    ob_err err;
    ob_http *h;
    assert_int_equal(ob_http_start(&h, &o, echo_handler, NULL, &err), -1);

    o.listen = "localhost:0";
    o.threads = 0; /* one per core, at least 2 */
    assert_int_equal(ob_http_start(&h, &o, echo_handler, NULL, &err), 0);
    assert_true(ob_http_port(h) > 0);
    ob_http_stop(h);
    ob_http_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalive_three_requests),
        cmocka_unit_test(test_pipelined_requests),
        cmocka_unit_test(test_post_body),
        cmocka_unit_test(test_body_at_limit),
        cmocka_unit_test(test_body_too_large_chunked),
        cmocka_unit_test(test_body_too_large_declared),
        cmocka_unit_test(test_body_too_large_expect_continue),
        cmocka_unit_test(test_chunked_body_past_drain_limit_is_cut),
        cmocka_unit_test(test_whitespace_before_header_colon),
        cmocka_unit_test(test_ambiguous_framing),
        cmocka_unit_test(test_query_parsing),
        cmocka_unit_test(test_path_decoding),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_handler_errors),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_concurrent_clients),
        cmocka_unit_test(test_malformed_requests),
        cmocka_unit_test(test_access_log),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_timeout_and_per_ip_limit),
        cmocka_unit_test(test_slow_head_is_cut_at_deadline),
        cmocka_unit_test(test_start_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
