/* fuzz_app.h - the whole application in process, for the request-level
 * fuzz targets (fuzz_handler, fuzz_headers).
 *
 * fz_app_init() makes a temporary data directory with one tenant ("fz",
 * owner and one agent), logs the owner in once through the handler and
 * creates a customer and a ticket the inputs can name. fz_app_run() turns a
 * request description into an ob_req exactly as server.c would (the target
 * goes through ob_http_parse_target), calls ob_app_handle and aborts when
 * the answer breaks the contract of docs/api.md: a status outside the
 * documented set, a body that is not one JSON object, an error without code
 * and message, or a response header carrying CR, LF or NUL. The data
 * directory is removed at exit. */
#ifndef FZ_APP_H
#define FZ_APP_H

#include <stddef.h>

#define FZ_MAX_HEADERS 24

typedef struct fz_request {
    const char *method;
    const char *target;             /* "/path?query"; $C $T $U are replaced by ids */
    const char *hk[FZ_MAX_HEADERS]; /* header names */
    const char *hv[FZ_MAX_HEADERS]; /* values; $TOK is replaced by the token */
    int nh;
    const char *body;
    size_t body_len;
    int anonymous;                  /* 1: no Authorization is added */
} fz_request;

/* Set up once (LLVMFuzzerInitialize). Aborts on failure. */
void fz_app_init(void);
/* Run one request through ob_app_handle; returns the status. */
int fz_app_run(const fz_request *r);

#endif
