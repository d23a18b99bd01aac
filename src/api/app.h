/* app.h - the application behind the HTTP server: one entry point that
 * finds the request's row in the route table (route.h), runs the one gate of
 * generic checks (authentication, tenant binding, feature, permission, rate
 * limit, input) and then the row's handler, which never repeats them. */
#ifndef OB_APP_H
#define OB_APP_H

#include <pthread.h>

#include "ops/ready.h"
#include "api/ratelimit.h"
#include "db/db.h"
#include "files/files.h"
#include "http/http.h"

typedef struct ob_app {
    ob_store *store;
    const char *version;
    int max_json_depth;
    char *openapi;        /* the OpenAPI document, built at its first request */
    size_t openapi_len;
    pthread_mutex_t openapi_lock; /* guards the build of openapi */
    ob_ratelimit *rate;   /* the gate's buckets */
    const char *metrics_token; /* GET /metrics needs "Bearer <this>"; NULL: /metrics is off (404) */
    const ob_file_store *files; /* where uploads are kept; NULL: uploads and downloads answer 503 */
    ob_ready_cfg ready;   /* what /readyz checks against (serve's --ready-* flags) */
} ob_app;

/* Requests per minute of each rate class (serve's --rate-* flags); NULL: the
 * defaults of ratelimit.h. Builds the route table (the document waits for
 * its first request). */
int ob_app_init(ob_app *app, ob_store *store, const char *version, const int64_t *rate_per_minute, ob_err *err);
void ob_app_release(ob_app *app);
/* The server's ob_http_opts.spool: whether the request's route takes an
 * upload, so its body goes to a spool file rather than memory. */
bool ob_app_spool(const ob_req *req, void *app);
/* The ob_handler_fn given to the server. */
void ob_app_handle(ob_req *req, ob_resp *resp, void *app);
/* The job kinds of the API (exports.produce: an approved export written
 * into files), for this process's workers; once, before they start. */
void ob_api_jobs_use(const ob_file_store *files);

#endif
