/* resource.c - the handlers of the generic routes of every declared table:
 * GET/POST /api/v1/<t>, GET/PATCH/DELETE /api/v1/<t>/<id>, POST .../<verb>.
 * The gate has already checked who may call them and validated their input
 * (call->input, call->query); writes run on the tenant's writer in one
 * transaction with their audit row and, when an Idempotency-Key is sent, the
 * stored first response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "db/secrets.h"
#include "base/base.h"
#include "schema/crud.h"
#include "schema/list.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

typedef enum { OP_CREATE, OP_UPDATE, OP_DELETE, OP_ACTION } write_op;

/* The headers the write itself set (ETag, Location) as a JSON object; the
 * server adds its own (X-Request-Id, ...) later, fresh for every response. */
static const char *headers_json(ob_ctx *ctx, const ob_resp *resp)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, 128);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_jw_obj_open(&w);
    for (int i = 0; i < resp->nheaders; i++) ob_jw_kstr(&w, resp->headers[i].key, resp->headers[i].val);
    ob_jw_obj_close(&w);
    return sb.buf;
}

/* Set the stored headers of a first response; NULL for keys stored before
 * headers were kept, which replay the body and status only. */
static void replay_headers(ob_resp *resp, const char *stored)
{
    json_t *h = stored ? json_loads(stored, 0, NULL) : NULL;
    const char *k;
    json_t *v;
    json_object_foreach(h, k, v) {
        if (json_is_string(v)) ob_resp_header(resp, k, json_string_value(v));
    }
    json_decref(h);
}

/* 1 replayed (resp filled), 0 not seen, -1 error. */
static int idem_lookup(ob_ctx *ctx, const char *key, const char *hash, ob_resp *resp, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT request_hash, status, response, headers, id FROM idempotency_keys WHERE user_id = ? AND "
                      "idem_key = ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ctx->who->user_id, err);
    ob_stmt_bind_text(st, 2, key, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        if (strcmp(ob_stmt_col_text(st, 0, NULL), hash) != 0) {
            ob_stmt_done(st);
            return ob_err_set(err, OB_E_IDEMPOTENCY, NULL);
        }
        size_t n;
        resp->status = (int)ob_stmt_col_i64(st, 1);
        const char *body = ob_stmt_col_text(st, 2, &n);
        ob_sb_reset(&resp->body);
        /* stored sealed (idempotency_keys.response is OB_ENCRYPTED); rows
         * kept before it was are in clear */
        if (ob_secret_looks_sealed(body, n)) {
            if (ob_secret_open(&resp->body, ctx->tenant->slug, "idempotency_keys", ob_stmt_col_text(st, 4, NULL),
                               "response", body, n, err) != 0) {
                ob_stmt_done(st);
                return -1;
            }
        } else {
            ob_sb_add(&resp->body, body, n);
        }
        replay_headers(resp, ob_stmt_col_text(st, 3, NULL));
        ob_resp_header(resp, "Idempotent-Replayed", "true");
    }
    ob_stmt_done(st);
    return rc;
}

static int idem_store(ob_ctx *ctx, ob_req *req, const char *key, const char *hash, const ob_resp *resp, ob_err *err)
{
    ob_row *row = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_IDEMPOTENCY_KEYS));
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_row_set_text(ctx->arena, row, IDEMPOTENCY_KEYS_ID, id);
    ob_row_set_text(ctx->arena, row, IDEMPOTENCY_KEYS_CREATED_AT, ctx->now);
    ob_row_set_text(ctx->arena, row, IDEMPOTENCY_KEYS_IDEM_KEY, key);
    ob_row_set_text(ctx->arena, row, IDEMPOTENCY_KEYS_USER_ID, ctx->who->user_id);
    ob_row_set_text(ctx->arena, row, IDEMPOTENCY_KEYS_METHOD, req->method);
    ob_row_set_text(ctx->arena, row, IDEMPOTENCY_KEYS_PATH, ob_arena_strndup(ctx->arena, req->raw_path, 2000));
    ob_row_set_text(ctx->arena, row, IDEMPOTENCY_KEYS_REQUEST_HASH, hash);
    ob_row_set_int(row, IDEMPOTENCY_KEYS_STATUS, resp->status);
    ob_row_set_text(ctx->arena, row, IDEMPOTENCY_KEYS_RESPONSE, resp->body.buf);
    ob_row_set_text(ctx->arena, row, IDEMPOTENCY_KEYS_HEADERS, headers_json(ctx, resp));
    return ob_sql_insert(ctx, row, err);
}

static int perform(ob_ctx *ctx, ob_resp *resp, write_op op, const ob_call *call, ob_err *err)
{
    const ob_table *t = call->route->t;
    ob_row *row = NULL;
    switch (op) {
    case OP_CREATE: {
        bool found;
        if (ob_crud_create_or_find(ctx, t, call->input, &row, &found, err) != 0) return -1;
        ob_api_row_resp(ctx, resp, row, found ? 200 : 201);
        ob_resp_header(resp, "Location", ob_arena_printf(ctx->arena, "/api/v1/%s%s/%s",
                                                         t->res->scope == OB_SCOPE_CONTROL ? "platform/" : "",
                                                         t->name, ob_row_id(row)));
        return 0;
    }
    case OP_UPDATE:
        if (ob_crud_update_row(ctx, t, call->id, call->input, call->if_match, &row, err) != 0) return -1;
        ob_api_row_resp(ctx, resp, row, 200);
        return 0;
    case OP_ACTION:
        if (ob_crud_run_verb(ctx, t, call->id, call->route->verb, call->input, &row, err) != 0) return -1;
        ob_api_row_resp(ctx, resp, ctx->reply ? ctx->reply : row, 200);
        return 0;
    case OP_DELETE: {
        if (ob_crud_delete(ctx, t, call->id, call->if_match, err) != 0) return -1;
        ob_jsonw jw;
        ob_jw_init(&jw, &resp->body);
        ob_jw_obj_open(&jw);
        ob_jw_kstr(&jw, "id", ob_ascii_lower(ctx->arena, call->id));
        ob_jw_kbool(&jw, "deleted", true);
        ob_jw_obj_close(&jw);
        resp->status = 200;
        return 0;
    }
    }
    return ob_err_set(err, OB_E_INTERNAL, NULL);
}

static void run_write(ob_req *req, ob_resp *resp, ob_ctx *ctx, write_op op, const ob_call *call)
{
    ob_err err;
    const char *key = call->idem_key;
    char hash[65] = {0};
    if (key) {
        ob_sb h;
        ob_sb_init_arena(&h, ctx->arena, req->body_len + 64);
        ob_sb_addf(&h, "%s\n%s\n", req->method, req->raw_path);
        ob_sb_add(&h, req->body, req->body_len);
        ob_token_hash(h.buf, h.len, hash);
    }
    ob_conn *writer;
    /* no tenant: a platform route, on the control database */
    if (ob_db_acquire(ctx->store, ctx->tenant ? ctx->tenant->slug : NULL, ctx->tenant ? ctx->tenant->id : NULL,
                      OB_DB_WRITE, &writer, &err) != 0)
        return ob_resp_error(resp, &err);
    ob_conn *reader = ctx->db;
    ctx->db = writer;
    ob_ctx_stamp(ctx); /* the clock reading that orders this write */
    int rc = ob_db_begin(writer, &err);
    int replay = 0;
    if (rc == 0 && key) {
        replay = idem_lookup(ctx, key, hash, resp, &err);
        if (replay < 0) rc = -1;
    }
    if (rc == 0 && !replay) rc = perform(ctx, resp, op, call, &err);
    if (rc == 0 && !replay && key) rc = idem_store(ctx, req, key, hash, resp, &err);
    if (rc == 0 && !replay) {
        rc = ob_db_commit(writer, &err);
        /* An I/O error at COMMIT leaves the outcome unknown: the engine may have
         * written the transaction before the sync failed, and recovery after a
         * crash would then keep it. Say so, so that clients retry with the key. */
        if (rc != 0 && err.code == OB_E_STORAGE)
            snprintf(err.message, sizeof err.message,
                     "the write could not be confirmed and may or may not have been saved: retry with the same "
                     "Idempotency-Key");
    }
    if (rc != 0 || replay) ob_db_rollback(writer);
    ob_db_release(writer);
    ctx->db = reader;
    if (rc != 0) {
        resp->nheaders = 0;
        ob_sb_reset(&resp->body);
        ob_resp_error(resp, &err);
    }
}

void ob_api_list(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req;
    ob_err err;
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    if (ob_list_run(ctx, call->route->t, &call->query, &w, &err) != 0) {
        ob_sb_reset(&resp->body);
        return ob_resp_error(resp, &err);
    }
    resp->status = 200;
}

void ob_api_get(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req;
    ob_err err;
    ob_row *row;
    if (ob_crud_get(ctx, call->route->t, call->id, &row, &err) != 0) return ob_resp_error(resp, &err);
    ob_api_row_resp(ctx, resp, row, 200);
}

void ob_api_view(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req;
    const ob_table *t = call->route->t;
    const ob_view *v = NULL;
    for (int i = 0; i < t->res->nviews && !v; i++)
        if (!strcmp(t->res->views[i].name, call->route->verb)) v = &t->res->views[i];
    ob_err err;
    ob_row *row;
    if (!v) abort(); /* the route was made from the view */
    if (ob_crud_get(ctx, t, call->id, &row, &err) != 0) return ob_resp_error(resp, &err);
    ob_sb out;
    ob_sb_init_arena(&out, ctx->arena, 1024);
    if (v->run(ctx, row, &out, &err) != 0) return ob_resp_error(resp, &err);
    ob_sb_add(&resp->body, out.buf, out.len);
    ob_resp_header(resp, "Content-Type", "application/json");
    resp->status = 200;
}

void ob_api_create(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    run_write(req, resp, ctx, OP_CREATE, call);
}

void ob_api_update(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    run_write(req, resp, ctx, OP_UPDATE, call);
}

/* A table that keeps its rows ends one by its declared action (the row's verb). */
void ob_api_delete(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    run_write(req, resp, ctx, call->route->verb ? OP_ACTION : OP_DELETE, call);
}

void ob_api_verb(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    run_write(req, resp, ctx, OP_ACTION, call);
}
