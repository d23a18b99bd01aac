/* http.h - the request and response as the rest of the server sees them.
 *
 * server.c (libmicrohttpd) fills an ob_req, calls the application handler
 * once the whole request is in, and sends the ob_resp it got back. Everything
 * in ob_req and ob_resp lives in the request's arena, which the server
 * creates when the request starts and releases after the response is sent.
 * The handler never sees libmicrohttpd.
 */
#ifndef OB_HTTP_H
#define OB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/arena.h"
#include "../base/err.h"
#include "../base/kv.h"
#include "../base/strbuf.h"

#define OB_MAX_QUERY_PARAMS 64
#define OB_MAX_PATH_SEGS 16
#define OB_MAX_RESP_HEADERS 8

#define OB_MAX_FORM_FIELDS 8

/* A request body the server wrote to a spool file instead of memory (see
 * ob_http_opts.spool): raw, or the part named "file" of a
 * multipart/form-data body. The file is removed after the response; an
 * application that keeps the content moves (renames) it first. */
typedef struct ob_upload {
    const char *path;        /* the spool file */
    int64_t size;            /* bytes of content */
    char sha256[65];         /* hex, computed while the body streamed in */
    bool multipart;          /* the body was multipart/form-data */
    bool has_file;           /* multipart: a part named "file" came */
    const char *filename;    /* multipart: the file part's filename, or NULL */
    const char *part_type;   /* multipart: the file part's Content-Type, or NULL */
    ob_kv form[OB_MAX_FORM_FIELDS]; /* multipart: the other (small) fields */
    int nform;
} ob_upload;

typedef struct ob_req {
    ob_arena *arena;
    const char *method;      /* "GET", "POST", ... as sent */
    /* Percent-decoded path without the query, except that an encoded '/'
     * stays "%2F": decoding never adds a separator the client did not send.
     * For exact matches and logs; route on seg. */
    const char *path;
    const char *raw_path;    /* as sent, without the query */
    /* The path split at the '/' the client sent, each segment decoded on its
     * own, so "%2F" is data inside a segment, never a separator: "/a/b%2Fc"
     * is {"a", "b/c"}. "/" is one empty segment; nseg is -1 when there are
     * more than OB_MAX_PATH_SEGS (no route has that many). */
    const char *seg[OB_MAX_PATH_SEGS];
    int nseg;
    ob_kv query[OB_MAX_QUERY_PARAMS];
    int nquery;
    bool query_bad;          /* bad escape, NUL or too many parameters */
    const char *body;        /* NUL-terminated copy of the body (may be "") */
    size_t body_len;
    const ob_upload *upload; /* a spooled body, or NULL (then body holds it) */
    char request_id[40];     /* from a valid X-Request-Id or generated */
    char ip[64];             /* peer address text */
    /* Header lookup (case-insensitive); NULL when absent. */
    const char *(*header)(const struct ob_req *r, const char *name);
    void *server_ctx;        /* for header() */
    int64_t start_us;
    /* Filled by the application for the access log. */
    const char *tenant;
} ob_req;

/* A response without end (Server-Sent Events). The server asks read()
 * whenever the client can take bytes: it copies up to max bytes of pending
 * output into buf and returns how many, 0 when it has none now (the server
 * then parks the connection, holding no thread, until ob_http_stream_wake),
 * or -1 to end the response. attach() hands the application the handle to
 * wake, before read() is first called; done() says the connection is over,
 * and once it has returned the handle must not be woken again. All three
 * run on server threads; src and ctx must outlive done(). */
typedef struct ob_http_stream ob_http_stream;
typedef struct ob_stream_src {
    void (*attach)(void *ctx, ob_http_stream *hs);
    long (*read)(void *ctx, char *buf, size_t max);
    void (*done)(void *ctx);
    void *ctx;
} ob_stream_src;

typedef struct ob_resp {
    int status;
    ob_sb body;              /* JSON text; arena-backed */
    const char *content_type; /* default application/json */
    ob_kv headers[OB_MAX_RESP_HEADERS];
    int nheaders;
    /* A file's bytes instead of body (downloads): file_len bytes from
     * file_off of file_fd, which the server closes. -1: none. */
    int file_fd;
    int64_t file_off, file_len;
    /* A streamed body instead (status 200, no Content-Length), or NULL. */
    const ob_stream_src *stream;
} ob_resp;

/* The application: called once per complete request. Must set resp->status
 * and a JSON body. */
typedef void (*ob_handler_fn)(ob_req *req, ob_resp *resp, void *app);

typedef struct ob_http_opts {
    const char *listen;        /* "HOST:PORT" */
    unsigned threads;          /* worker threads; 0 = number of cores */
    size_t max_body;           /* 413 past it; default 1 MiB */
    size_t max_header;         /* bytes of request line + headers; default 16 KiB */
    unsigned conn_timeout_s;   /* idle timeout, and the most a kept-alive connection
                                  waits for its next request line; default 30 */
    unsigned header_timeout_s; /* deadline for a whole request head (request line
                                  and headers), from the connection's opening or,
                                  when kept alive, from the request line; default 10 */
    unsigned max_conns;        /* default 1024 */
    unsigned max_conns_per_ip; /* connections from one address; default 256 */
    /* Bodies to spool to a file (uploads) instead of memory: asked once the
     * request head is in (req has method, path and headers, no body yet).
     * Such a body may be up to max_upload bytes and is hashed as it comes;
     * NULL: every body is kept in memory under max_body. */
    bool (*spool)(const ob_req *r, void *app);
    const char *spool_dir;     /* where spool files are made; must exist */
    size_t max_upload;         /* 413 past it; default 100 MiB */
} ob_http_opts;

typedef struct ob_http ob_http;

int ob_http_start(ob_http **out, const ob_http_opts *opts, ob_handler_fn fn, void *app, ob_err *err);
/* Stop accepting, end streamed responses, finish in-flight requests, free. */
void ob_http_stop(ob_http *h);
/* The port actually bound (useful with port 0). */
int ob_http_port(const ob_http *h);
/* A streamed response has output (or should end): have the server ask its
 * read() again. Any thread; cheap when the connection is not parked. */
void ob_http_stream_wake(ob_http_stream *hs);
/* Client connections open now, across the process's servers (/metrics). */
long ob_http_open_connections(void);

/* Response helpers (resp.c). */
void ob_resp_init(ob_resp *resp, ob_arena *a);
void ob_resp_header(ob_resp *resp, const char *key, const char *val);
/* Write the standard error body {"error":{"code","message","fields"...}} and
 * the status from the error table. The only place an ob_err becomes JSON. */
void ob_resp_error(ob_resp *resp, const ob_err *err);
/* Shorthand: an error with just a code and message (NULL: default message). */
void ob_resp_errorf(ob_resp *resp, ob_errcode code, const char *msg);

#endif
