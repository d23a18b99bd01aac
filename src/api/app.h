/* app.h - the application behind the HTTP server: one entry point that
 * routes a complete request and fills the response. It owns the one gate of
 * generic checks (authentication, tenant binding, permission, body limits)
 * so handlers never repeat them. */
#ifndef OB_APP_H
#define OB_APP_H

#include "db/db.h"
#include "http/http.h"

typedef struct ob_app {
    ob_store *store;
    const char *version;
    int max_json_depth;
    char *openapi;        /* the OpenAPI document, built once at start */
    size_t openapi_len;
} ob_app;

int ob_app_init(ob_app *app, ob_store *store, const char *version, ob_err *err);
void ob_app_release(ob_app *app);
/* The ob_handler_fn given to the server. */
void ob_app_handle(ob_req *req, ob_resp *resp, void *app);

#endif
