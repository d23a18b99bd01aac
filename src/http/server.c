/* server.c - libmicrohttpd under the ob_req/ob_resp contract of http.h.
 *
 * One request, as libmicrohttpd 0.9.75 drives it:
 *   uri callback   request line read: allocate the request state in the
 *                  connection's arena, keep the raw URL, start the clock;
 *   first call     headers read: fill ob_req, decide on early answers (bad
 *                  path, headers or declared body too large) and return;
 *   middle calls   body chunks: accumulate up to max_body, discard past it,
 *                  and past DRAIN_FACTOR times max_body answer and close;
 *   last call      (*upload_data_size == 0): run the handler or the early
 *                  answer and queue the response;
 *   completed      response sent or connection gone: access log line, the
 *                  arena is cleared for the connection's next request.
 * 0.9.75 closes the connection after a response queued on the first call,
 * which would kill keep-alive; so the first call answers only when the
 * connection must close anyway (framing we refuse, a declared body over the
 * limit). Requests libmicrohttpd refuses itself (bad request line, bad
 * Content-Length, header block past its memory pool) never reach us and get
 * its HTML answer (test_malformed_requests in tests/unit/test_http_server.c
 * pins which ones).
 *
 * Slow request heads: libmicrohttpd's timeout is an idle timeout, reset by
 * every byte. A watchdog thread gives each request head (request line and
 * headers) a deadline and shuts the socket of a connection that misses it
 * (see watchdog_main); the per-address connection cap is libmicrohttpd's.
 *
 * Each connection owns one arena (created when the connection opens, freed
 * when it closes) and clears it between requests, so a keep-alive client
 * costs no malloc per request in the common case.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "http/http.h"
#include "http/query.h"
#include "base/banned.h"

#define DEFAULT_MAX_BODY ((size_t)1024 * 1024)
#define DEFAULT_MAX_HEADER ((size_t)16 * 1024)
#define DEFAULT_TIMEOUT_S 30u
#define DEFAULT_HEADER_TIMEOUT_S 10u
#define WATCHDOG_TICK_MS 100 /* how late a head deadline may be enforced */
#define STREAM_REAP_TICKS 5  /* watchdog ticks between looks at parked streams' sockets */
#define DEFAULT_MAX_CONNS 1024u
#define DEFAULT_MAX_CONNS_PER_IP 256u
#define DEFAULT_MAX_UPLOAD ((size_t)100 * 1024 * 1024)
#define FORM_VALUE_MAX 1000 /* bytes of a multipart field other than the file */
#define REQUEST_ID_MAX 39 /* what fits in ob_req.request_id */
#define LOG_PATH_MAX 2048 /* bytes of path in a log line: one client cannot write megabytes */

/* Per TCP connection (MHD socket context). */
typedef struct conn_ctx {
    ob_arena arena;
    struct conn_ctx *prev, *next; /* ob_http.conns, under conns_lock */
    int fd;
    bool served;                  /* a request on it has completed */
    /* When the request head now awaited must be in (monotonic us); 0 while
     * no head is awaited (reading a body, running the handler, sending). */
    _Atomic int64_t head_deadline_us;
    atomic_bool cut;              /* the watchdog shut it at the deadline */
} conn_ctx;

struct ob_http {
    struct MHD_Daemon *daemon;
    struct sockaddr_in addr;
    ob_handler_fn fn;
    void *app;
    size_t max_body;
    size_t max_header;
    bool (*spool)(const ob_req *r, void *app);
    const char *spool_dir;
    size_t max_upload;
    int64_t idle_us;
    int64_t head_us;
    unsigned stop_wait_s;
    atomic_int inflight; /* requests between uri callback and completion */
    int port;
    /* Every open connection, for the head-deadline watchdog. */
    pthread_mutex_t conns_lock;
    conn_ctx *conns;
    pthread_t watchdog;
    bool watchdog_running;
    atomic_bool stopping;
    /* Streamed responses open now, so that stopping can end them. */
    pthread_mutex_t streams_lock;
    struct ob_http_stream *streams;
    atomic_bool ending_streams;
};

/* Per request, allocated from the connection's arena. */
typedef struct req_state {
    ob_http *h;
    conn_ctx *cc;
    struct MHD_Connection *conn;
    ob_arena *arena;
    const char *raw_url;
    ob_req req;
    ob_sb body;
    bool started;        /* the first access-handler call has happened */
    bool discard;        /* body no longer kept (too large, or early answer) */
    bool answer_now;     /* answer on the first call and close (see request_begin) */
    ob_errcode early;    /* answer this error instead of calling the handler */
    const char *early_msg;
    unsigned long long received; /* body bytes seen, kept or not */
    size_t limit;        /* the body's limit: max_body, or max_upload when spooled */
    /* A spooled body (upload): the file, its hash, the multipart parser. */
    bool spooling;
    int spool_fd;        /* -1 when closed */
    ob_sha256 hash;
    struct MHD_PostProcessor *pp;
    ob_upload upload;
    const char *closed_why; /* for the access log when we dropped the connection */
    int status;          /* status queued; 0 while none */
} req_state;

/* ---- request ---------------------------------------------------------- */

static const char *req_header(const ob_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->server_ctx, MHD_HEADER_KIND, name);
}

static bool request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok || n >= REQUEST_ID_MAX)
            return false;
    }
    return n > 0;
}

static void peer_ip(struct MHD_Connection *c, char *out, size_t outsz)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)outsz);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)outsz);
}

/* Header sizes as the client sent them: "Name: value\r\n" each. */
static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    *(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* Content-Length as a number; -1 when absent (chunked or no body). MHD has
 * already refused malformed values, with its own HTML answer. */
static long long content_length(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!v || !*v)
        return -1;
    unsigned long long n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (n > (unsigned long long)INT64_MAX / 10)
            return INT64_MAX;
        n = n * 10 + (unsigned long long)(*p - '0');
    }
    return n > (unsigned long long)INT64_MAX ? INT64_MAX : (long long)n;
}

struct header_count {
    const char *name;
    int n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    struct header_count *hc = cls;
    if (strcasecmp(key, hc->name) == 0)
        hc->n++;
    return MHD_YES;
}

static int header_count(struct MHD_Connection *c, const char *name)
{
    struct header_count hc = { name, 0 };
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &hc);
    return hc.n;
}

/* RFC 9110 section 5.6.2: a field name is a token of these characters. */
static bool token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static enum MHD_Result check_name(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    bool *bad = cls;
    const unsigned char *p = (const unsigned char *)key;
    if (!*p)
        *bad = true;
    for (; *p && !*bad; p++)
        *bad = !token_char(*p);
    return *bad ? MHD_NO : MHD_YES;
}

/* True when a field name of this kind is not a token. libmicrohttpd 0.9.75
 * keeps whitespace before the colon as part of the name ("Content-Length "),
 * so such a header is silently not the one its name resembles, while a
 * front proxy may read it as that header and frame the request differently.
 * RFC 9112 section 5.1 requires a 400. (Its strict modes do not help: only
 * level -1, documented as the most tolerant, refuses such names.) */
static bool bad_field_name(struct MHD_Connection *c, enum MHD_ValueKind kind)
{
    bool bad = false;
    MHD_get_connection_values(c, kind, check_name, &bad);
    return bad;
}

/* Message framing libmicrohttpd 0.9.75 accepts but we must not: it frames by
 * the first of several Content-Length headers, ignores Content-Length next to
 * Transfer-Encoding, and reads a body of unknown coding until the client
 * closes. A front proxy may frame such a request differently (request
 * smuggling), so refuse it. NULL when the framing is sound. */
static const char *framing_problem(struct MHD_Connection *c)
{
    if (bad_field_name(c, MHD_HEADER_KIND))
        return "a header name contains whitespace or a character a name cannot have";
    int ncl = header_count(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int nte = header_count(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (ncl > 1)
        return "the request has several Content-Length headers";
    if (nte > 1)
        return "the request has several Transfer-Encoding headers";
    if (nte == 1 && ncl == 1)
        return "the request has both Content-Length and Transfer-Encoding";
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (te && strcasecmp(te, "chunked") != 0)
        return "only the chunked transfer coding is supported";
    return NULL;
}

#define DRAIN_FACTOR 16

static void set_early(req_state *st, ob_errcode code, const char *msg)
{
    if (st->early == OB_E_OK) {
        st->early = code;
        st->early_msg = msg;
    }
    st->discard = true;
}

/* ---- spooled bodies (uploads) ---------------------------------------- */

static void spool_write(req_state *st, const char *data, size_t n)
{
    if (st->discard)
        return;
    if ((size_t)st->upload.size + n > st->limit) {
        set_early(st, OB_E_TOO_LARGE, NULL);
        return;
    }
    ob_sha256_update(&st->hash, data, n);
    st->upload.size += (int64_t)n;
    while (n > 0) {
        ssize_t w = write(st->spool_fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ob_log(OB_LOG_ERROR, "upload spool write failed", "error", strerror(errno), NULL);
            set_early(st, OB_E_UNAVAILABLE, "the upload could not be stored");
            return;
        }
        data += w;
        n -= (size_t)w;
    }
}

/* The multipart parser's callback: the part named "file" goes to the spool
 * file, other fields (small) are kept as text. */
static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                               const char *content_type, const char *transfer_encoding, const char *data,
                               uint64_t off, size_t size)
{
    (void)kind;
    (void)transfer_encoding;
    req_state *st = cls;
    ob_upload *u = &st->upload;
    if (strcmp(key, "file") == 0) {
        if (off == 0 && u->has_file) {
            set_early(st, OB_E_BAD_REQUEST, "one file per upload");
            return MHD_YES;
        }
        if (off == 0) {
            u->has_file = true;
            u->filename = filename ? ob_arena_strdup(st->arena, filename) : NULL;
            u->part_type = content_type ? ob_arena_strdup(st->arena, content_type) : NULL;
        }
        spool_write(st, data, size);
        return MHD_YES;
    }
    ob_kv *f = NULL;
    for (int i = 0; i < u->nform; i++)
        if (strcmp(u->form[i].key, key) == 0)
            f = &u->form[i];
    if (!f) {
        if (u->nform == OB_MAX_FORM_FIELDS) {
            set_early(st, OB_E_BAD_REQUEST, "too many form fields");
            return MHD_YES;
        }
        f = &u->form[u->nform++];
        f->key = ob_arena_strdup(st->arena, key);
        f->val = "";
    }
    size_t have = strlen(f->val);
    if (have + size > FORM_VALUE_MAX) {
        set_early(st, OB_E_BAD_REQUEST, "a form field is too long");
        return MHD_YES;
    }
    char *v = ob_arena_alloc(st->arena, have + size + 1);
    memcpy(v, f->val, have);
    memcpy(v + have, data, size);
    v[have + size] = 0;
    f->val = v;
    return MHD_YES;
}

static bool is_multipart(const char *ct)
{
    return ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

/* Open the spool file, and the multipart parser when the body is one. */
static void spool_begin(req_state *st)
{
    const char *ct = MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    ob_upload *u = &st->upload;
    if (is_multipart(ct)) {
        u->multipart = true;
        st->pp = MHD_create_post_processor(st->conn, 16 * 1024, on_part, st);
        if (!st->pp) {
            set_early(st, OB_E_BAD_REQUEST, "the multipart body has no usable boundary");
            return;
        }
    }
    char *path = ob_arena_printf(st->arena, "%s/up-XXXXXX", st->h->spool_dir);
    st->spool_fd = mkstemp(path);
    if (st->spool_fd < 0) {
        ob_log(OB_LOG_ERROR, "upload spool file", "error", strerror(errno), "dir", st->h->spool_dir, NULL);
        set_early(st, OB_E_UNAVAILABLE, "the upload could not be stored");
        return;
    }
    u->path = path;
    ob_sha256_init(&st->hash);
}

static void spool_body(req_state *st, const char *data, size_t n)
{
    st->received += n;
    if (st->discard)
        return;
    if (st->pp) {
        if (MHD_post_process(st->pp, data, n) != MHD_YES)
            set_early(st, OB_E_BAD_REQUEST, "the multipart body is malformed");
    } else {
        spool_write(st, data, n);
    }
}

/* The whole body is in: finish the hash and hand the upload over. */
static void spool_end(req_state *st)
{
    if (st->pp) {
        MHD_destroy_post_processor(st->pp);
        st->pp = NULL;
    }
    /* durable before the application links it to a record */
    if (!st->discard && st->spool_fd >= 0 && fsync(st->spool_fd) != 0)
        set_early(st, OB_E_UNAVAILABLE, "the upload could not be stored");
    if (st->spool_fd >= 0)
        close(st->spool_fd);
    st->spool_fd = -1;
    if (st->discard)
        return;
    ob_sha256_final(&st->hash, st->upload.sha256);
    st->req.upload = &st->upload;
}

/* After the response: the spool file goes unless the application moved it. */
static void spool_cleanup(req_state *st)
{
    if (st->pp)
        MHD_destroy_post_processor(st->pp);
    st->pp = NULL;
    if (st->spool_fd >= 0)
        close(st->spool_fd);
    st->spool_fd = -1;
    if (st->upload.path)
        unlink(st->upload.path);
}

/* First access-handler call: the headers are in. */
static void request_begin(req_state *st, const char *method)
{
    ob_http *h = st->h;
    ob_req *r = &st->req;
    r->arena = st->arena;
    r->method = method; /* MHD keeps it until the request completes */
    r->header = req_header;
    r->server_ctx = st->conn;
    r->body = "";
    peer_ip(st->conn, r->ip, sizeof r->ip);

    const char *rid = req_header(r, "X-Request-Id");
    if (rid && request_id_ok(rid))
        snprintf(r->request_id, sizeof r->request_id, "%s", rid);
    else
        ob_uuid7(r->request_id);

    /* Checks in order of precedence: set_early keeps the first problem.
     * Framing and a declared body over the limit are answered at once and
     * the connection closed: libmicrohttpd 0.9.75 refuses a response queued
     * while body data is still coming (it drops the connection without an
     * answer), and reading a body we refuse, or one we cannot frame, would
     * only waste time or desynchronise the connection. */
    long long cl = content_length(st->conn);
    const char *framing = framing_problem(st->conn);
    /* The target first: whether the body is spooled depends on the route. */
    bool target_bad = ob_http_parse_target(r, st->arena, st->raw_url) != 0;
    st->spool_fd = -1;
    st->limit = h->max_body;
    if (!framing && !target_bad && h->spool && h->spool(r, h->app)) {
        st->spooling = true;
        st->limit = h->max_upload;
    }
    if (framing)
        set_early(st, OB_E_BAD_REQUEST, framing);
    else if (cl > 0 && (unsigned long long)cl > st->limit)
        set_early(st, OB_E_TOO_LARGE, NULL);
    st->answer_now = st->early != OB_E_OK;
    /* A body up to DRAIN_FACTOR times the limit is read and dropped, and the
     * 413 sent after it: clients that send the whole body before reading
     * (most do) would otherwise see a reset connection instead of the answer. */
    /* With Expect: 100-continue nothing has been sent yet: answer at once. */
    if (st->early == OB_E_TOO_LARGE && (unsigned long long)cl <= (unsigned long long)h->max_body * DRAIN_FACTOR &&
        !MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT))
        st->answer_now = false;

    /* The target is parsed even when refused: the access log wants raw_path. */
    if (target_bad)
        set_early(st, OB_E_BAD_REQUEST, "the request path is malformed");

    size_t url_len = strlen(st->raw_url);
    size_t hdr_len = strlen(method) + url_len + 12; /* " HTTP/1.1\r\n" */
    MHD_get_connection_values(st->conn, MHD_HEADER_KIND, add_header_size, &hdr_len);
    if (url_len > h->max_header)
        set_early(st, OB_E_URI_TOO_LONG, NULL);
    else if (hdr_len > h->max_header)
        set_early(st, OB_E_HEADERS_TOO_LARGE, NULL);
    ob_sb_init_arena(&st->body, st->arena, (cl > 0 && !st->discard && !st->spooling) ? (size_t)cl + 1 : 0);
    if (st->spooling && !st->discard)
        spool_begin(st);
}

static void request_body(req_state *st, const char *data, size_t n)
{
    st->received += n;
    if (st->discard)
        return;
    if (st->spooling) {
        spool_body(st, data, n);
        return;
    }
    if (n > st->h->max_body - st->body.len) {
        set_early(st, OB_E_TOO_LARGE, NULL);
        return;
    }
    ob_sb_add(&st->body, data, n);
}

/* A body we refuse is read and dropped so the client can read the answer,
 * but only up to this: a chunked body has no declared size to refuse at
 * once, and would otherwise be read for as long as the client sends. */
static bool drain_exhausted(const req_state *st)
{
    return st->discard && st->received > (unsigned long long)st->limit * DRAIN_FACTOR;
}

/* ---- streamed responses (Server-Sent Events) --------------------------- */

/* A streamed response's connection. While the application has nothing to
 * send, the connection is suspended: libmicrohttpd drops it from its event
 * loop, so an idle stream costs no thread and no wake-ups; wake resumes it.
 * `pending` closes the race between the application's read() finding
 * nothing and the suspension: a wake in that window is remembered and the
 * read retried instead of parking. */
struct ob_http_stream {
    ob_http *h;
    struct MHD_Connection *conn;
    ob_stream_src src;
    pthread_mutex_t lock;
    int fd;
    bool suspended;
    bool pending;
    atomic_bool peer_gone; /* the client closed its end (seen by the watchdog) */
    struct ob_http_stream *prev, *next; /* h->streams, under streams_lock */
};

void ob_http_stream_wake(ob_http_stream *hs)
{
    pthread_mutex_lock(&hs->lock);
    if (hs->suspended) {
        hs->suspended = false;
        MHD_resume_connection(hs->conn);
    } else {
        hs->pending = true;
    }
    pthread_mutex_unlock(&hs->lock);
}

/* libmicrohttpd's content reader. The application's read() runs without
 * hs->lock held, so the application may wake under its own locks. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    ob_http_stream *hs = cls;
    for (;;) {
        if (atomic_load(&hs->h->ending_streams) || atomic_load(&hs->peer_gone))
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&hs->lock);
        hs->pending = false;
        pthread_mutex_unlock(&hs->lock);
        long n = hs->src.read(hs->src.ctx, buf, max);
        if (n < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (n > 0)
            return (ssize_t)n;
        pthread_mutex_lock(&hs->lock);
        bool again = hs->pending || atomic_load(&hs->h->ending_streams);
        if (!again) {
            hs->suspended = true;
            MHD_suspend_connection(hs->conn);
        }
        pthread_mutex_unlock(&hs->lock);
        if (!again)
            return 0; /* parked until ob_http_stream_wake */
    }
}

/* The response is gone (sent to its end, or the connection closed). */
static void stream_free(void *cls)
{
    ob_http_stream *hs = cls;
    hs->src.done(hs->src.ctx); /* no wake after this */
    ob_http *h = hs->h;
    pthread_mutex_lock(&h->streams_lock);
    if (hs->prev)
        hs->prev->next = hs->next;
    else
        h->streams = hs->next;
    if (hs->next)
        hs->next->prev = hs->prev;
    pthread_mutex_unlock(&h->streams_lock);
    pthread_mutex_destroy(&hs->lock);
    free(hs);
}

static struct MHD_Response *stream_response(req_state *st, const ob_stream_src *src)
{
    ob_http *h = st->h;
    ob_http_stream *hs = calloc(1, sizeof *hs);
    if (!hs)
        abort();
    hs->h = h;
    hs->conn = st->conn;
    hs->fd = st->cc->fd;
    atomic_init(&hs->peer_gone, false);
    hs->src = *src;
    pthread_mutex_init(&hs->lock, NULL);
    pthread_mutex_lock(&h->streams_lock);
    hs->next = h->streams;
    if (h->streams)
        h->streams->prev = hs;
    h->streams = hs;
    pthread_mutex_unlock(&h->streams_lock);
    src->attach(src->ctx, hs);
    struct MHD_Response *mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_reader, hs,
                                                                stream_free);
    if (!mr)
        stream_free(hs);
    return mr;
}

/* A parked connection is out of libmicrohttpd's event loop, so a client
 * that goes away would hold its place (and its user's stream allowance)
 * until the next keep-alive. The watchdog asks the parked sockets, without
 * blocking, whether the peer has closed, and ends those streams. */
static void reap_closed_streams(ob_http *h)
{
    pthread_mutex_lock(&h->streams_lock);
    for (ob_http_stream *hs = h->streams; hs; hs = hs->next) {
        if (hs->fd < 0 || atomic_load(&hs->peer_gone))
            continue;
        struct pollfd p = { .fd = hs->fd, .events = POLLRDHUP };
        if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
            atomic_store(&hs->peer_gone, true);
            ob_http_stream_wake(hs);
        }
    }
    pthread_mutex_unlock(&h->streams_lock);
}

/* Stopping: every stream ends (parked ones are resumed to see that). */
static void end_streams(ob_http *h)
{
    atomic_store(&h->ending_streams, true);
    pthread_mutex_lock(&h->streams_lock);
    for (ob_http_stream *hs = h->streams; hs; hs = hs->next)
        ob_http_stream_wake(hs);
    pthread_mutex_unlock(&h->streams_lock);
}

/* ---- response --------------------------------------------------------- */

static bool has_header(const ob_resp *resp, const char *name)
{
    for (int i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].key, name) == 0)
            return true;
    return false;
}

static enum MHD_Result queue(req_state *st, ob_resp *resp)
{
    struct MHD_Response *mr;
    if (resp->stream) {
        mr = stream_response(st, resp->stream);
    } else if (resp->file_fd >= 0) {
        /* libmicrohttpd owns the descriptor from here and closes it */
        mr = MHD_create_response_from_fd_at_offset64((uint64_t)resp->file_len, resp->file_fd,
                                                     (uint64_t)resp->file_off);
        if (!mr)
            close(resp->file_fd);
        resp->file_fd = -1;
    } else {
        mr = MHD_create_response_from_buffer(resp->body.len, resp->body.buf, MHD_RESPMEM_PERSISTENT);
    }
    if (!mr)
        return MHD_NO;
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(mr, "X-Request-Id", st->req.request_id);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    if (!has_header(resp, "Cache-Control"))
        MHD_add_response_header(mr, "Cache-Control", "no-store");
    if (st->answer_now)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    for (int i = 0; i < resp->nheaders; i++) {
        if (MHD_add_response_header(mr, resp->headers[i].key, resp->headers[i].val) != MHD_YES)
            ob_log(OB_LOG_ERROR, "response header refused", "header", resp->headers[i].key,
                   "request_id", st->req.request_id, NULL);
    }
    enum MHD_Result ret = MHD_queue_response(st->conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    if (ret == MHD_YES)
        st->status = resp->status;
    return ret;
}

/* Past the drain limit: answer and drop the connection. libmicrohttpd 0.9.75
 * takes a response only before the body or after all of it (queued in
 * between, it drops the connection without a word), so the answer is written
 * to the socket here, where nothing else of this request has been sent, and
 * MHD_NO makes it close the connection. Best effort: a client still sending
 * may see the connection reset before it reads the answer. */
static enum MHD_Result refuse_rest_of_body(req_state *st)
{
    ob_resp resp;
    ob_resp_init(&resp, st->arena);
    ob_resp_errorf(&resp, st->early != OB_E_OK ? st->early : OB_E_TOO_LARGE, st->early_msg);
    const char *reason = MHD_get_reason_phrase_for((unsigned)resp.status);
    ob_sb out;
    ob_sb_init_arena(&out, st->arena, 512 + resp.body.len);
    ob_sb_addf(&out,
               "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: application/json\r\n"
               "X-Request-Id: %s\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"
               "Content-Length: %zu\r\n\r\n",
               resp.status, reason && *reason ? reason : "Error", st->req.request_id, resp.body.len);
    ob_sb_add(&out, resp.body.buf, resp.body.len);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci && send(ci->connect_fd, out.buf, out.len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)out.len)
        st->status = resp.status;
    st->closed_why = "body_past_drain_limit";
    return MHD_NO;
}

/* A handler must leave a status and a body (204 and 304 have none). */
static bool resp_usable(const ob_resp *resp)
{
    if (resp->status < 100 || resp->status > 599)
        return false;
    return resp->body.len > 0 || resp->file_fd >= 0 || resp->stream || resp->status == 204 || resp->status == 304;
}

static enum MHD_Result request_finish(req_state *st)
{
    ob_resp resp;
    ob_resp_init(&resp, st->arena);
    /* Trailer names are checked like header names, though they cannot
     * change the framing of a body already read. */
    if (st->early == OB_E_OK && bad_field_name(st->conn, MHD_FOOTER_KIND))
        set_early(st, OB_E_BAD_REQUEST, "a trailer name contains whitespace or a character a name cannot have");
    if (st->spooling)
        spool_end(st);
    if (st->early != OB_E_OK) {
        ob_resp_errorf(&resp, st->early, st->early_msg);
    } else {
        st->req.body = st->body.buf;
        st->req.body_len = st->body.len;
        st->h->fn(&st->req, &resp, st->h->app);
        if (!resp_usable(&resp)) {
            ob_log(OB_LOG_ERROR, "handler left no response", "request_id", st->req.request_id,
                   "path", st->req.raw_path, NULL);
            if (resp.file_fd >= 0)
                close(resp.file_fd);
            ob_resp_init(&resp, st->arena);
            ob_resp_errorf(&resp, OB_E_INTERNAL, NULL);
        }
    }
    return queue(st, &resp);
}

/* ---- libmicrohttpd callbacks ------------------------------------------ */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    ob_http *h = cls;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_ctx *cc = ci ? ci->socket_context : NULL;
    if (!cc)
        return NULL; /* on_request refuses the request */
    req_state *st = ob_arena_zalloc(&cc->arena, sizeof *st);
    st->h = h;
    st->cc = cc;
    st->conn = c;
    /* The head of a first request is due head_us after the connection
     * opened (set in on_connection); on a kept-alive connection, head_us
     * after its request line, which itself had idle_us (on_completed). */
    if (cc->served)
        atomic_store(&cc->head_deadline_us, ob_mono_us() + h->head_us);
    st->arena = &cc->arena;
    st->raw_url = ob_arena_strdup(&cc->arena, uri);
    st->req.start_us = ob_mono_us();
    atomic_fetch_add(&h->inflight, 1);
    return st;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)c;
    (void)url;
    (void)version;
    req_state *st = *con_cls;
    if (!st)
        return MHD_NO;
    if (!st->started) {
        st->started = true;
        atomic_store(&st->cc->head_deadline_us, 0); /* the head is in */
        request_begin(st, method);
        return st->answer_now ? request_finish(st) : MHD_YES;
    }
    if (*upload_size > 0) {
        if (st->status == 0)
            request_body(st, upload, *upload_size);
        *upload_size = 0;
        return drain_exhausted(st) ? refuse_rest_of_body(st) : MHD_YES;
    }
    if (st->status != 0)
        return MHD_YES;
    return request_finish(st);
}

static const char *termination_str(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK: return NULL;
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client_abort";
    case MHD_REQUEST_TERMINATED_READ_ERROR: return "read_error";
    default: return "error";
    }
}

static void access_log(req_state *st, enum MHD_RequestTerminationCode toe)
{
    if (ob_log_get_level() > OB_LOG_INFO)
        return;
    const ob_req *r = &st->req;
    ob_sb sb;
    ob_sb_init_arena(&sb, st->arena, 256);
    ob_sb_adds(&sb, "\"request_id\":\"");
    ob_json_escape(&sb, r->request_id, strlen(r->request_id));
    ob_sb_adds(&sb, "\",\"tenant\":");
    if (r->tenant) {
        ob_sb_addc(&sb, '"');
        ob_json_escape(&sb, r->tenant, strlen(r->tenant));
        ob_sb_addc(&sb, '"');
    } else {
        ob_sb_adds(&sb, "null");
    }
    ob_sb_adds(&sb, ",\"method\":");
    if (r->method) {
        ob_sb_addc(&sb, '"');
        ob_json_escape(&sb, r->method, strlen(r->method));
        ob_sb_addc(&sb, '"');
    } else {
        ob_sb_adds(&sb, "null");
    }
    const char *path = r->raw_path ? r->raw_path : st->raw_url;
    size_t plen = strlen(path);
    ob_sb_adds(&sb, ",\"path\":\"");
    ob_json_escape(&sb, path, plen < LOG_PATH_MAX ? plen : LOG_PATH_MAX);
    ob_sb_adds(&sb, "\",\"status\":");
    if (st->status)
        ob_sb_add_i64(&sb, st->status);
    else
        ob_sb_adds(&sb, "null");
    ob_sb_addf(&sb, ",\"duration_ms\":%.3f", (double)(ob_mono_us() - r->start_us) / 1000.0);
    ob_sb_adds(&sb, ",\"ip\":\"");
    ob_json_escape(&sb, r->ip, strlen(r->ip));
    ob_sb_addc(&sb, '"');
    const char *term = st->closed_why ? st->closed_why : termination_str(toe);
    if (st->cc && atomic_load(&st->cc->cut))
        term = "header_timeout";
    if (term)
        ob_sb_addf(&sb, ",\"termination\":\"%s\"", term);
    ob_log_raw(OB_LOG_INFO, sb.buf);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ob_http *h = cls;
    (void)c;
    req_state *st = *con_cls;
    if (!st)
        return;
    *con_cls = NULL;
    if (!st->started) { /* libmicrohttpd answered (or the client left) */
        peer_ip(st->conn, st->req.ip, sizeof st->req.ip);
        ob_uuid7(st->req.request_id);
    }
    if (st->spooling)
        spool_cleanup(st);
    access_log(st, toe);
    /* Waiting for the next request: the idle timeout, but as a deadline, so
     * trickling a request line byte by byte does not extend it. */
    st->cc->served = true;
    atomic_store(&st->cc->head_deadline_us, ob_mono_us() + h->idle_us);
    ob_arena_clear(st->arena); /* st lived in it */
    atomic_fetch_sub(&h->inflight, 1);
}

/* Client connections open in this process, for /metrics. */
static atomic_long open_connections;

long ob_http_open_connections(void)
{
    return atomic_load(&open_connections);
}

/* libmicrohttpd calls this with CLOSED before it closes the socket, so an
 * fd on the list (changed under conns_lock) is always still this
 * connection's. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    ob_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_ctx *cc = calloc(1, sizeof *cc);
        if (!cc)
            abort(); /* as every allocation in opsbase */
        ob_arena_init(&cc->arena, 0);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        cc->fd = ci ? ci->connect_fd : -1;
        atomic_init(&cc->head_deadline_us, ob_mono_us() + h->head_us);
        atomic_init(&cc->cut, false);
        pthread_mutex_lock(&h->conns_lock);
        cc->next = h->conns;
        if (h->conns)
            h->conns->prev = cc;
        h->conns = cc;
        pthread_mutex_unlock(&h->conns_lock);
        atomic_fetch_add(&open_connections, 1);
        *socket_context = cc;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_ctx *cc = *socket_context;
        if (cc) {
            pthread_mutex_lock(&h->conns_lock);
            if (cc->prev)
                cc->prev->next = cc->next;
            else
                h->conns = cc->next;
            if (cc->next)
                cc->next->prev = cc->prev;
            pthread_mutex_unlock(&h->conns_lock);
            atomic_fetch_sub(&open_connections, 1);
            ob_arena_release(&cc->arena);
            free(cc);
            *socket_context = NULL;
        }
    }
}

/* libmicrohttpd 0.9.75 has only an idle timeout, which every byte resets: a
 * client sending its request head one byte at a time holds a connection as
 * long as it likes. This thread enforces a deadline for the whole head and
 * shuts down the socket of a connection that misses it; libmicrohttpd then
 * sees the end of input and closes the connection itself. */
static void *watchdog_main(void *arg)
{
    ob_http *h = arg;
    struct timespec tick = { 0, WATCHDOG_TICK_MS * 1000 * 1000 };
    unsigned n = 0;
    while (!atomic_load(&h->stopping)) {
        nanosleep(&tick, NULL);
        if (++n % STREAM_REAP_TICKS == 0)
            reap_closed_streams(h);
        int64_t now = ob_mono_us();
        pthread_mutex_lock(&h->conns_lock);
        for (conn_ctx *cc = h->conns; cc; cc = cc->next) {
            int64_t d = atomic_load(&cc->head_deadline_us);
            if (d == 0 || now < d || cc->fd < 0)
                continue;
            /* Not if the head came in (or a new deadline was set) meanwhile. */
            if (!atomic_compare_exchange_strong(&cc->head_deadline_us, &d, 0))
                continue;
            atomic_store(&cc->cut, true);
            shutdown(cc->fd, SHUT_RDWR);
        }
        pthread_mutex_unlock(&h->conns_lock);
    }
    return NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    ob_log(OB_LOG_WARN, "libmicrohttpd", "detail", msg, NULL);
}

/* ---- daemon ----------------------------------------------------------- */

/* "HOST:PORT" with HOST an IPv4 address or "localhost", PORT 0..65535. */
static int parse_listen(const char *s, struct sockaddr_in *sa, ob_err *err)
{
    if (!s || !*s)
        return ob_err_set(err, OB_E_BAD_REQUEST, "listen address is empty");
    const char *colon = strrchr(s, ':');
    if (!colon)
        return ob_err_set(err, OB_E_BAD_REQUEST, "listen address \"%s\" is not HOST:PORT", s);
    char host[INET_ADDRSTRLEN + 8];
    size_t hlen = (size_t)(colon - s);
    if (hlen == 0 || hlen >= sizeof host)
        return ob_err_set(err, OB_E_BAD_REQUEST, "listen address \"%s\" has no valid host", s);
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    const char *port = colon + 1;
    size_t plen = strlen(port);
    unsigned long p = 0;
    bool digits = plen > 0 && plen <= 5;
    for (size_t i = 0; digits && i < plen; i++) {
        digits = port[i] >= '0' && port[i] <= '9';
        p = p * 10 + (unsigned long)(port[i] - '0');
    }
    if (!digits || p > 65535)
        return ob_err_set(err, OB_E_BAD_REQUEST, "listen port \"%s\" is not a number from 0 to 65535", port);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)p);
    const char *ip = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
        return ob_err_set(err, OB_E_BAD_REQUEST, "listen host \"%s\" is not an IPv4 address or localhost",
                          host);
    return 0;
}

static unsigned pool_size(unsigned threads)
{
    if (threads)
        return threads;
    /* two per core: a worker waiting on a commit's fsync leaves its core to another */
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 4u : (unsigned)(2 * n);
}

int ob_http_start(ob_http **out, const ob_http_opts *opts, ob_handler_fn fn, void *app, ob_err *err)
{
    *out = NULL;
    if (!opts || !fn)
        return ob_err_set(err, OB_E_INTERNAL, "http server needs options and a handler");
    ob_http *h = calloc(1, sizeof *h);
    if (!h)
        abort();
    if (parse_listen(opts->listen, &h->addr, err) != 0) {
        free(h);
        return -1;
    }
    h->fn = fn;
    h->app = app;
    h->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
    h->max_header = opts->max_header ? opts->max_header : DEFAULT_MAX_HEADER;
    h->spool = opts->spool_dir ? opts->spool : NULL;
    h->spool_dir = opts->spool_dir;
    h->max_upload = opts->max_upload ? opts->max_upload : DEFAULT_MAX_UPLOAD;
    unsigned timeout = opts->conn_timeout_s ? opts->conn_timeout_s : DEFAULT_TIMEOUT_S;
    unsigned head_timeout = opts->header_timeout_s ? opts->header_timeout_s : DEFAULT_HEADER_TIMEOUT_S;
    h->idle_us = (int64_t)timeout * 1000000;
    h->head_us = (int64_t)head_timeout * 1000000;
    h->stop_wait_s = timeout;
    atomic_init(&h->inflight, 0);
    atomic_init(&h->stopping, false);
    atomic_init(&h->ending_streams, false);
    pthread_mutex_init(&h->conns_lock, NULL);
    pthread_mutex_init(&h->streams_lock, NULL);

    /* MHD keeps the request line, headers and read buffer in one pool per
     * connection. max_header + 16 KiB (32 KiB by default, MHD's own default)
     * lets header blocks up to about twice max_header reach request_begin and
     * get our JSON 431; past the pool MHD answers with its own HTML. Not
     * larger: 0.9.75 zeroes the whole pool between requests, so its size is
     * paid on every request (48 KiB measured at 13% of CPU in memset). */
    size_t mem = h->max_header + 16 * 1024;
    /* suspend/resume parks streamed responses (see ob_http_stream) */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    errno = 0;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, /* first, or MHD warns */
        MHD_OPTION_THREAD_POOL_SIZE, pool_size(opts->threads),
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&h->addr,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout,
        MHD_OPTION_CONNECTION_LIMIT, opts->max_conns ? opts->max_conns : DEFAULT_MAX_CONNS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        opts->max_conns_per_ip ? opts->max_conns_per_ip : DEFAULT_MAX_CONNS_PER_IP,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_END);
    if (!h->daemon) {
        int e = errno;
        pthread_mutex_destroy(&h->conns_lock);
        free(h);
        return ob_err_set(err, OB_E_UNAVAILABLE, "cannot listen on \"%s\"%s%s", opts->listen,
                          e ? ": " : "", e ? strerror(e) : "");
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : ntohs(h->addr.sin_port);
    if (pthread_create(&h->watchdog, NULL, watchdog_main, h) != 0) {
        MHD_stop_daemon(h->daemon);
        pthread_mutex_destroy(&h->conns_lock);
        free(h);
        return ob_err_set(err, OB_E_INTERNAL, "cannot start the connection watchdog");
    }
    h->watchdog_running = true;
    *out = h;
    return 0;
}

int ob_http_port(const ob_http *h)
{
    return h ? h->port : -1;
}

void ob_http_stop(ob_http *h)
{
    if (!h)
        return;
    /* Stop accepting, let requests already started finish, then close. */
    MHD_socket ls = MHD_quiesce_daemon(h->daemon);
    end_streams(h);
    struct timespec tick = { 0, 5 * 1000 * 1000 };
    int64_t deadline = ob_mono_us() + (int64_t)h->stop_wait_s * 1000000;
    while (atomic_load(&h->inflight) > 0 && ob_mono_us() < deadline)
        nanosleep(&tick, NULL);
    /* The watchdog keeps cutting slow heads while requests finish. */
    MHD_stop_daemon(h->daemon);
    atomic_store(&h->stopping, true);
    if (h->watchdog_running)
        pthread_join(h->watchdog, NULL);
    pthread_mutex_destroy(&h->conns_lock);
    pthread_mutex_destroy(&h->streams_lock);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    free(h);
}
