/* resource.c - the generic routes of every declared table:
 * GET/POST /api/v1/<t>, GET/PATCH/DELETE /api/v1/<t>/<id>, POST .../<verb>.
 * Writes run on the tenant's writer in one transaction with their audit row
 * and, when an Idempotency-Key is sent, the stored first response. */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "base/base.h"
#include "schema/crud.h"
#include "schema/list.h"
#include "schema/methods.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "base/banned.h"

typedef enum { OP_CREATE, OP_UPDATE, OP_DELETE, OP_ACTION } write_op;

typedef struct write_req {
    write_op op;
    const ob_table *t;
    const char *id, *verb;
    json_t *body;
    int64_t if_match;
} write_req;

static const char *perm_code(ob_ctx *ctx, const ob_table *t, const char *verb)
{
    const ob_resource *r = t->res;
    if (!strcmp(verb, "view") && r->perm_view) return r->perm_view;
    if (!strcmp(verb, "create") && r->perm_create) return r->perm_create;
    if (!strcmp(verb, "edit") && r->perm_edit) return r->perm_edit;
    if (!strcmp(verb, "delete") && r->perm_delete) return r->perm_delete;
    return ob_arena_printf(ctx->arena, "%s.%s", r->perm, verb);
}

static bool allowed(ob_ctx *ctx, ob_resp *resp, const char *code)
{
    if (ob_ctx_can(ctx, code)) return true;
    ob_err err;
    ob_err_set(&err, OB_E_FORBIDDEN, "the permission \"%s\" is required", code);
    ob_resp_error(resp, &err);
    return false;
}

/* If-Match: "3", 3, W/"3" or *; -1 for none or *, -2 when malformed. */
static int64_t parse_if_match(const char *h)
{
    if (!h) return -1;
    while (*h == ' ') h++;
    if (strcmp(h, "*") == 0) return -1;
    if (strncmp(h, "W/", 2) == 0) h += 2;
    char buf[24];
    size_t n = strlen(h);
    if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof buf) return -2;
    memcpy(buf, h, n);
    buf[n] = 0;
    int64_t v;
    if (ob_parse_i64(buf, &v) != 0 || v < 0) return -2;
    return v;
}

static bool idem_key_valid(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 200) return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e) return false;
    return true;
}

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
                      "SELECT request_hash, status, response, headers FROM idempotency_keys WHERE user_id = ? AND "
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
        ob_sb_add(&resp->body, body, n);
        replay_headers(resp, ob_stmt_col_text(st, 3, NULL));
        ob_resp_header(resp, "Idempotent-Replayed", "true");
    }
    ob_stmt_done(st);
    return rc;
}

static int idem_store(ob_ctx *ctx, ob_req *req, const char *key, const char *hash, const ob_resp *resp, ob_err *err)
{
    ob_row *row = ob_row_new(ctx->arena, ob_registry_find("idempotency_keys"));
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_row_set_text(ctx->arena, row, "id", id);
    ob_row_set_text(ctx->arena, row, "created_at", ctx->now);
    ob_row_set_text(ctx->arena, row, "idem_key", key);
    ob_row_set_text(ctx->arena, row, "user_id", ctx->who->user_id);
    ob_row_set_text(ctx->arena, row, "method", req->method);
    ob_row_set_text(ctx->arena, row, "path", ob_arena_strndup(ctx->arena, req->raw_path, 2000));
    ob_row_set_text(ctx->arena, row, "request_hash", hash);
    ob_row_set_int(row, "status", resp->status);
    ob_row_set_text(ctx->arena, row, "response", resp->body.buf);
    ob_row_set_text(ctx->arena, row, "headers", headers_json(ctx, resp));
    return ob_sql_insert(ctx, row, err);
}

static int perform(ob_ctx *ctx, ob_resp *resp, write_req *w, ob_err *err)
{
    ob_row *row = NULL;
    switch (w->op) {
    case OP_CREATE:
        if (ob_crud_create(ctx, w->t, w->body, &row, err) != 0) return -1;
        ob_api_row_resp(ctx, resp, row, 201);
        ob_resp_header(resp, "Location", ob_arena_printf(ctx->arena, "/api/v1/%s/%s", w->t->name, ob_row_text(row, "id")));
        return 0;
    case OP_UPDATE:
        if (ob_crud_update(ctx, w->t, w->id, w->body, w->if_match, &row, err) != 0) return -1;
        ob_api_row_resp(ctx, resp, row, 200);
        return 0;
    case OP_ACTION:
        if (ob_crud_action(ctx, w->t, w->id, w->verb, w->body, &row, err) != 0) return -1;
        ob_api_row_resp(ctx, resp, row, 200);
        return 0;
    case OP_DELETE: {
        if (ob_crud_delete(ctx, w->t, w->id, w->if_match, err) != 0) return -1;
        ob_jsonw jw;
        ob_jw_init(&jw, &resp->body);
        ob_jw_obj_open(&jw);
        ob_jw_kstr(&jw, "id", ob_ascii_lower(ctx->arena, w->id));
        ob_jw_kbool(&jw, "deleted", true);
        ob_jw_obj_close(&jw);
        resp->status = 200;
        return 0;
    }
    }
    return ob_err_set(err, OB_E_INTERNAL, NULL);
}

static void run_write(ob_req *req, ob_resp *resp, ob_ctx *ctx, write_req *w)
{
    ob_err err;
    const char *key = strcmp(req->method, "POST") == 0 ? req->header(req, "Idempotency-Key") : NULL;
    char hash[65] = {0};
    if (key) {
        if (!idem_key_valid(key)) {
            ob_resp_errorf(resp, OB_E_BAD_REQUEST, "the Idempotency-Key must be 1 to 200 printable characters");
            return;
        }
        ob_sb h;
        ob_sb_init_arena(&h, ctx->arena, req->body_len + 64);
        ob_sb_addf(&h, "%s\n%s\n", req->method, req->raw_path);
        ob_sb_add(&h, req->body, req->body_len);
        ob_token_hash(h.buf, h.len, hash);
    }
    ob_conn *writer;
    if (ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &writer, &err) != 0)
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
    if (rc == 0 && !replay) rc = perform(ctx, resp, w, &err);
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

static void list(ob_req *req, ob_resp *resp, ob_ctx *ctx, const ob_table *t)
{
    ob_err err;
    ob_listq q;
    if (ob_listq_parse(ctx, t, req->query, req->nquery, &q, &err) != 0) return ob_resp_error(resp, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    if (ob_list_run(ctx, t, &q, &w, &err) != 0) {
        ob_sb_reset(&resp->body);
        return ob_resp_error(resp, &err);
    }
    resp->status = 200;
}

/* A 405 whose Allow names exactly what the route answers (schema/methods.h). */
static void not_allowed(ob_resp *resp, unsigned methods)
{
    ob_resp_errorf(resp, OB_E_METHOD, NULL);
    ob_resp_header(resp, "Allow", ob_methods_allow(methods));
}

void ob_api_resource(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, const ob_table *t, const char *id,
                     const char *verb)
{
    ob_err err;
    ob_route route = !id ? OB_ROUTE_COLLECTION : verb ? OB_ROUTE_VERB : OB_ROUTE_RECORD;
    if (route == OB_ROUTE_VERB && !ob_crud_action_perm(t, verb)) return ob_resp_errorf(resp, OB_E_NO_ROUTE, NULL);
    unsigned methods = ob_methods(t, route), m = ob_method_bit(req->method) & methods;
    if (!m) return not_allowed(resp, methods);
    write_req w = {.t = t, .id = id, .verb = verb, .if_match = -1};
    if (m == OB_M_GET) {
        if (!allowed(ctx, resp, perm_code(ctx, t, "view"))) return;
        if (route == OB_ROUTE_COLLECTION) return list(req, resp, ctx, t);
        ob_row *row;
        if (ob_crud_get(ctx, t, id, &row, &err) != 0) return ob_resp_error(resp, &err);
        return ob_api_row_resp(ctx, resp, row, 200);
    }
    if (route == OB_ROUTE_VERB) {
        if (!allowed(ctx, resp, perm_code(ctx, t, ob_crud_action_perm(t, verb)))) return;
        w.op = OP_ACTION;
    } else if (m == OB_M_POST) {
        if (!allowed(ctx, resp, perm_code(ctx, t, "create"))) return;
        w.op = OP_CREATE;
    } else if (m == OB_M_PATCH) {
        if (!allowed(ctx, resp, perm_code(ctx, t, "edit"))) return;
        w.op = OP_UPDATE;
    } else if (t->res->delete_action) {
        /* the table keeps its rows: DELETE is the declared action that ends one */
        if (!allowed(ctx, resp, perm_code(ctx, t, ob_crud_action_perm(t, t->res->delete_action)))) return;
        w.op = OP_ACTION;
        w.verb = t->res->delete_action;
    } else {
        if (!allowed(ctx, resp, perm_code(ctx, t, "delete"))) return;
        w.op = OP_DELETE;
    }
    if (w.op == OP_UPDATE || w.op == OP_DELETE) {
        w.if_match = parse_if_match(req->header(req, "If-Match"));
        if (w.if_match == -2) return ob_resp_errorf(resp, OB_E_BAD_REQUEST, "the If-Match header is not a version");
    }
    bool del = m == OB_M_DELETE;
    if (!del && ob_api_body(app, req, w.op == OP_ACTION, &w.body, &err) != 0) return ob_resp_error(resp, &err);
    if (del && req->body_len > 0) return ob_resp_errorf(resp, OB_E_BAD_REQUEST, "DELETE takes no body");
    run_write(req, resp, ctx, &w);
    json_decref(w.body);
}
