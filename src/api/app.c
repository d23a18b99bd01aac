/* app.c - dispatch: the route table's row for a request, the gate, then the
 * row's handler; and the handlers of the probes and the document. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/api_int.h"
#include "api/console.h"
#include "audit/readlog.h"
#include "base/clock.h"
#include "ops/metrics.h"
#include "api/openapi.h"
#include "base/base.h"
#include "base/jsonr.h"
#include "schema/reads.h"
#include "schema/rowjson.h"
#include "base/banned.h"

int ob_app_init(ob_app *app, ob_store *store, const char *version, const int64_t *rate_per_minute, ob_err *err)
{
    memset(app, 0, sizeof *app);
    app->store = store;
    app->version = version;
    app->max_json_depth = OB_JSON_MAX_DEPTH_DEFAULT;
    app->ready.min_free_bytes = 64 << 20;
    app->ready.max_job_age_s = 600;
    ob_routes_get(); /* built here, before the server's threads read it */
    int64_t rates[OB_RATE__COUNT] = {0, OB_RATE_AUTH_DEFAULT, OB_RATE_READ_DEFAULT, OB_RATE_WRITE_DEFAULT};
    if (rate_per_minute) memcpy(rates, rate_per_minute, sizeof rates);
    app->rate = ob_ratelimit_new(rates);
    if (!app->rate) return ob_err_set(err, OB_E_INTERNAL, "out of memory");
    /* the document is built at its first request, not here: it is a third
     * of a start's work and most servers are never asked for it */
    pthread_mutex_init(&app->openapi_lock, NULL);
    return 0;
}

void ob_app_release(ob_app *app)
{
    free(app->openapi);
    app->openapi = NULL;
    pthread_mutex_destroy(&app->openapi_lock);
    ob_ratelimit_free(app->rate);
    app->rate = NULL;
}

void ob_api_row_resp(ob_ctx *ctx, ob_resp *resp, const ob_row *row, int status)
{
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_row_json(ctx, &w, row);
    /* the members of ctx->reveal join the row's object: "{row...}" + "{k: v}" */
    if (ctx->reveal && resp->body.len && resp->body.buf[resp->body.len - 1] == '}' && strcmp(ctx->reveal, "{}") != 0) {
        resp->body.len--;
        ob_sb_addc(&resp->body, ',');
        ob_sb_adds(&resp->body, ctx->reveal + 1);
    }
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

void ob_api_healthz(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req, (void)ctx, (void)call;
    simple(resp, 200, "status", "ok");
}

/* 200 when the database, the job queues and the disk all pass; 503 naming
 * the failed checks. Every check's figures are in the body either way. */
void ob_api_readyz(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)req, (void)ctx, (void)call;
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    resp->status = ob_ready_check(app->store, &app->ready, &w) ? 200 : 503;
}

/* Prometheus scrapes with a token of its own, not a user's session: the
 * figures span every tenant. Without a configured token the route is off. */
void ob_api_metrics(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)call;
    ob_err err;
    if (!app->metrics_token) {
        ob_err_set(&err, OB_E_NOT_FOUND, "metrics are off: serve them with --metrics-token");
        ob_resp_error(resp, &err);
        return;
    }
    const char *auth = req->header(req, "Authorization");
    size_t want = strlen(app->metrics_token);
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) != want ||
        sodium_memcmp(auth + 7, app->metrics_token, want) != 0) {
        ob_err_set(&err, OB_E_UNAUTHENTICATED, "the metrics token is required");
        ob_resp_error(resp, &err);
        return;
    }
    ob_metrics_gauges g;
    memset(&g, 0, sizeof g);
    ob_metrics_gather(app->store, &g);
    g.http_connections = ob_http_open_connections();
    g.rate_counter_writes = ob_ratelimit_writes();
    (void)ctx;
    ob_metrics_render(&resp->body, &g);
    resp->status = 200;
    ob_resp_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
}

void ob_api_openapi(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)req, (void)ctx, (void)call;
    pthread_mutex_lock(&app->openapi_lock);
    if (!app->openapi) {
        ob_sb sb;
        ob_sb_init(&sb, 1 << 16);
        ob_openapi_write(&sb, app->version);
        app->openapi = ob_sb_detach(&sb, &app->openapi_len);
    }
    pthread_mutex_unlock(&app->openapi_lock);
    ob_sb_add(&resp->body, app->openapi, app->openapi_len);
    resp->status = 200;
}

bool ob_app_spool(const ob_req *req, void *arg)
{
    (void)arg;
    ob_err err;
    const ob_route_row *r;
    const char *id, *allow;
    if (ob_routes_match(req->method, req->seg, req->nseg, &r, &id, &allow, &err) != 0) return false;
    /* an import's file may be far larger than a JSON body: it comes like an upload */
    return r->input == OB_IN_UPLOAD || r->kind == OB_RK_IMPORT;
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
    ob_err err;
    const ob_route_row *r;
    const char *id, *allow;
    /* the server split the path at the '/' sent and decoded each segment,
     * so an encoded '/' never separates; nseg -1: deeper than any route */
    if (ob_routes_match(req->method, req->seg, req->nseg, &r, &id, &allow, &err) != 0) {
        ob_resp_error(resp, &err);
        ob_metrics_request(req->method, NULL, resp->status, NULL, 0);
        if (allow) ob_resp_header(resp, "Allow", allow);
        return;
    }
    ob_call call;
    int64_t t0 = ob_mono_us();
    ob_metrics_inflight(1);
    if (ob_gate(app, req, resp, &ctx, r, &call) == 0) {
        call.id = id;
        /* a read's personal rows are audited after the response (audit/readlog.h) */
        bool reading = strcmp(req->method, "GET") == 0;
        if (reading) ob_reads_begin(&ctx);
        r->handler(app, req, resp, &ctx, &call);
        json_decref(call.body);
        if (reading && resp->status < 300) ob_readlog_push(&ctx);
    }
    if (ctx.db) ob_db_release(ctx.db);
    ctx.db = NULL;
    ob_metrics_inflight(-1);
    ob_metrics_request(req->method, r->path, resp->status, ctx.tenant ? ctx.tenant->slug : NULL, ob_mono_us() - t0);
}
