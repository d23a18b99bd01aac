/* app.c - routing and the gate every /api/v1 request passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/console.h"
#include "api/openapi.h"
#include "auth/session.h"
#include "base/base.h"
#include "base/jsonr.h"
#include "schema/rowjson.h"
#include "base/banned.h"

int ob_app_init(ob_app *app, ob_store *store, const char *version, ob_err *err)
{
    (void)err;
    memset(app, 0, sizeof *app);
    app->store = store;
    app->version = version;
    app->max_json_depth = OB_JSON_MAX_DEPTH_DEFAULT;
    ob_registry_init();
    ob_sb sb;
    ob_sb_init(&sb, 1 << 16);
    ob_openapi_write(&sb, version);
    app->openapi = ob_sb_detach(&sb, &app->openapi_len);
    return 0;
}

void ob_app_release(ob_app *app)
{
    free(app->openapi);
    app->openapi = NULL;
}

static bool is_json_type(const char *ct)
{
    if (!ct) return false;
    while (*ct == ' ') ct++;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

int ob_api_body(const ob_app *app, const ob_req *req, bool allow_empty, json_t **out, ob_err *err)
{
    *out = NULL;
    if (req->body_len == 0) {
        if (allow_empty) return 0;
        return ob_err_set(err, OB_E_BAD_JSON, "a JSON object body is required");
    }
    if (!is_json_type(req->header(req, "Content-Type")))
        return ob_err_set(err, OB_E_MEDIA_TYPE, "the body must be sent as Content-Type: application/json");
    *out = ob_json_parse_object(req->body, req->body_len, app->max_json_depth, err);
    return *out ? 0 : -1;
}

void ob_api_row_resp(ob_ctx *ctx, ob_resp *resp, const ob_row *row, int status)
{
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_row_json(ctx, &w, row);
    resp->status = status;
    if (row->t->version_col >= 0)
        ob_resp_header(resp, "ETag", ob_arena_printf(ctx->arena, "\"%lld\"", (long long)row->v[row->t->version_col].i));
}

static void simple(ob_resp *resp, int status, const char *key, const char *val)
{
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, key, val);
    ob_jw_obj_close(&w);
    resp->status = status;
}

static void readyz(ob_app *app, ob_resp *resp)
{
    ob_err err;
    ob_conn *c;
    if (ob_db_acquire(app->store, NULL, NULL, OB_DB_READ, &c, &err) != 0) {
        ob_resp_error(resp, &err);
        return;
    }
    ob_stmt *st;
    int rc = ob_db_prepare(c, "SELECT 1", &st, &err);
    if (rc == 0) {
        rc = ob_stmt_step(st, &err) == 1 ? 0 : -1;
        ob_stmt_done(st);
    }
    ob_db_release(c);
    if (rc != 0) ob_resp_error(resp, &err);
    else simple(resp, 200, "status", "ready");
}

/* The segments after /api/v1 (the server split and decoded them one by one,
 * so an encoded '/' never separates); -1 when more than max or one is empty
 * (a doubled or trailing '/'). */
static int api_v1_segs(const ob_req *req, const char **seg, int max)
{
    int n = req->nseg - 2;
    if (n > max) return -1;
    for (int i = 0; i < n; i++) {
        if (!req->seg[i + 2][0]) return -1;
        seg[i] = req->seg[i + 2];
    }
    return n;
}

static void method_not_allowed(ob_resp *resp, const char *allow)
{
    ob_resp_errorf(resp, OB_E_METHOD, NULL);
    ob_resp_header(resp, "Allow", allow);
}

static void api_v1(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, const char **seg, int n)
{
    ob_err err;
    const char *m = req->method;
    if (n >= 2 && strcmp(seg[0], "auth") == 0) {
        if (n == 2 && strcmp(seg[1], "login") == 0) {
            if (strcmp(m, "POST") != 0) return method_not_allowed(resp, "POST");
            return ob_api_login(app, req, resp, ctx);
        }
        bool logout = n == 2 && strcmp(seg[1], "logout") == 0, me = n == 2 && strcmp(seg[1], "me") == 0;
        /* only /auth/login, /auth/logout and /auth/me exist */
        if (!logout && !me) return ob_resp_errorf(resp, OB_E_NO_ROUTE, NULL);
        if (logout && strcmp(m, "POST") != 0) return method_not_allowed(resp, "POST");
        if (me && strcmp(m, "GET") != 0) return method_not_allowed(resp, "GET");
    }
    const ob_table *t = NULL;
    if (n >= 1 && strcmp(seg[0], "auth") != 0) {
        t = ob_registry_find(seg[0]);
        if (!t || t->res->scope != OB_SCOPE_TENANT || (t->res->flags & OB_RES_NO_API))
            return ob_resp_errorf(resp, OB_E_NO_ROUTE, NULL);
    }
    if (n < 1 || (!t && n != 2)) return ob_resp_errorf(resp, OB_E_NO_ROUTE, NULL);
    /* the gate: who is asking, for which tenant */
    if (ob_session_authenticate(ctx, req->header(req, "Authorization"), &err) != 0) {
        if (ctx->db) ob_db_release(ctx->db);
        ctx->db = NULL;
        ob_resp_error(resp, &err);
        if (err.code == OB_E_UNAUTHENTICATED) ob_resp_header(resp, "WWW-Authenticate", "Bearer");
        return;
    }
    req->tenant = ctx->tenant->slug;
    if (req->query_bad) {
        ob_resp_errorf(resp, OB_E_BAD_QUERY, "the query string is malformed");
    } else if (!t && strcmp(seg[1], "logout") == 0) {
        ob_api_logout(app, req, resp, ctx);
    } else if (!t) {
        ob_api_me(app, req, resp, ctx);
    } else {
        ob_api_resource(app, req, resp, ctx, t, n >= 2 ? seg[1] : NULL, n >= 3 ? seg[2] : NULL);
    }
    if (ctx->db) ob_db_release(ctx->db);
    ctx->db = NULL;
}

void ob_app_handle(ob_req *req, ob_resp *resp, void *arg)
{
    ob_app *app = arg;
    ob_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.arena = req->arena;
    ctx.store = app->store;
    ctx.ip = req->ip;
    ctx.user_agent = req->header(req, "User-Agent");
    ctx.request_id = req->request_id;
    ob_ctx_stamp(&ctx);
    if (ob_console_handle(app, req, resp, &ctx)) return; /* the web console (console.h) */
    const char *path = req->path;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (strcmp(path, "/healthz") == 0) {
        if (!get) return method_not_allowed(resp, "GET");
        return simple(resp, 200, "status", "ok");
    }
    if (strcmp(path, "/readyz") == 0) {
        if (!get) return method_not_allowed(resp, "GET");
        return readyz(app, resp);
    }
    if (strcmp(path, "/api/openapi.json") == 0) {
        if (!get) return method_not_allowed(resp, "GET");
        ob_sb_add(&resp->body, app->openapi, app->openapi_len);
        resp->status = 200;
        return;
    }
    if (req->nseg >= 3 && strcmp(req->seg[0], "api") == 0 && strcmp(req->seg[1], "v1") == 0) {
        const char *seg[3];
        int n = api_v1_segs(req, seg, 3);
        if (n < 1) return ob_resp_errorf(resp, OB_E_NO_ROUTE, NULL);
        return api_v1(app, req, resp, &ctx, seg, n);
    }
    ob_resp_errorf(resp, OB_E_NO_ROUTE, NULL);
}
