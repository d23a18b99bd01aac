/* upload.c - rows made by uploading content (OB_RES_UPLOAD tables, the
 * files table): the gate's input step for them and the handler.
 *
 * The server has already streamed the body to a spool file, hashing it as
 * it came (http.h ob_upload), so nothing here holds the content in memory.
 * The input step refuses what must not be stored (no file, over the tenant's
 * limit, a type outside the allow list) before anything is written; the
 * handler moves the spool file into the tenant's content-addressed store and
 * inserts the row through the generic create (audit, idempotency). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/base.h"
#include "base/codec.h"
#include "files/files.h"
#include "schema/crud.h"
#include "gen/columns.h"
#include "base/banned.h"

#define DEFAULT_TENANT_UPLOAD_LIMIT ((int64_t)25 * 1024 * 1024)

int ob_api_tenant_upload_limit(ob_ctx *ctx, int64_t *out, ob_err *err)
{
    *out = DEFAULT_TENANT_UPLOAD_LIMIT;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT max_upload_bytes FROM security_settings WHERE scope = 'tenant'", &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *out = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* filename="a b.pdf", filename=a.pdf or filename*=UTF-8''a%20b.pdf of a
 * Content-Disposition header; NULL when it names none. */
static const char *disposition_name(ob_arena *a, const char *h)
{
    if (!h) return NULL;
    const char *ext = strcasestr(h, "filename*=");
    if (ext) {
        const char *v = ext + 10;
        const char *q = strstr(v, "''");
        if (q && (size_t)(q - v) < 20 && strncasecmp(v, "utf-8", 5) == 0) {
            v = q + 2;
            size_t n = strcspn(v, "; ");
            ob_sb sb;
            ob_sb_init_arena(&sb, a, n + 1);
            if (ob_percent_decode(&sb, v, n, 0) == 0 && sb.len > 0) return sb.buf;
        }
    }
    const char *p = h;
    while ((p = strcasestr(p, "filename=")) != NULL) {
        if (p == h || p[-1] == ' ' || p[-1] == ';') break;
        p += 9;
    }
    if (!p) return NULL;
    p += 9;
    ob_sb sb;
    ob_sb_init_arena(&sb, a, 64);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1]) p++;
            ob_sb_addc(&sb, *p);
        }
    } else {
        ob_sb_add(&sb, p, strcspn(p, "; "));
    }
    return sb.len ? sb.buf : NULL;
}

/* The fields besides the content: the multipart form's, or for a raw body
 * the query's, as the JSON object the table's create validator takes. */
static json_t *other_fields(const ob_req *req)
{
    json_t *o = json_object();
    const ob_upload *u = req->upload;
    if (u->multipart) {
        for (int i = 0; i < u->nform; i++) json_object_set_new(o, u->form[i].key, json_string(u->form[i].val));
    } else {
        for (int i = 0; i < req->nquery; i++) json_object_set_new(o, req->query[i].key, json_string(req->query[i].val));
    }
    return o;
}

int ob_api_upload_input(ob_app *app, ob_req *req, ob_ctx *ctx, const ob_route_row *r, ob_call *call, ob_err *err)
{
    const ob_upload *u = req->upload;
    if (!app->files || !u) return ob_err_set(err, OB_E_UNAVAILABLE, "uploads are not available");
    const char *name;
    if (u->multipart) {
        if (!u->has_file) {
            ob_err_set(err, OB_E_VALIDATION, NULL);
            return ob_err_field_add(err, "file", "is required: a multipart part named \"file\"");
        }
        name = u->filename;
    } else {
        name = disposition_name(ctx->arena, req->header(req, "Content-Disposition"));
        if (!name)
            return ob_err_set(err, OB_E_BAD_REQUEST,
                              "a raw upload names its file: Content-Disposition: attachment; filename=\"...\"");
    }
    if (u->size == 0) {
        ob_err_set(err, OB_E_VALIDATION, NULL);
        return ob_err_field_add(err, "file", "is empty");
    }
    int64_t limit;
    if (ob_api_tenant_upload_limit(ctx, &limit, err) != 0) return -1;
    if (u->size > limit)
        return ob_err_set(err, OB_E_TOO_LARGE, "the file is %lld bytes; this tenant accepts at most %lld",
                          (long long)u->size, (long long)limit);
    const char *mime;
    if (ob_file_sniff(ctx->arena, u->path, &mime, err) != 0) return -1;
    if (!ob_file_mime_allowed(mime))
        return ob_err_set(err, OB_E_MEDIA_TYPE, "files of type \"%s\" are not accepted", mime);
    call->body = other_fields(req);
    if (ob_crud_body(ctx, r->t, call->body, true, &call->input, err) != 0) return -1;
    ob_row *row = call->input;
    ob_row_set_text(ctx->arena, row, FILES_FILE_NAME, ob_file_clean_name(ctx->arena, name));
    ob_row_set_text(ctx->arena, row, FILES_MIME_TYPE, mime);
    ob_row_set_int(row, FILES_FILE_SIZE, u->size);
    ob_row_set_text(ctx->arena, row, FILES_SHA256, u->sha256);
    return 0;
}

void ob_api_upload(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    ob_err err;
    const ob_upload *u = req->upload;
    const char *key;
    /* stored before the row: a row never points at missing content, and
     * content whose row did not commit is only an unreferenced blob */
    if (app->files->put(app->files, ctx->arena, ctx->tenant->slug, u->sha256, u->path, &key, &err) != 0)
        return ob_resp_error(resp, &err);
    ob_row_set_text(ctx->arena, call->input, FILES_STORAGE_KEY, key);
    /* an Idempotency-Key's request is the content and its fields, not the
     * (empty) in-memory body */
    char *fields = json_dumps(call->body, JSON_SORT_KEYS | JSON_COMPACT);
    req->body = ob_arena_printf(ctx->arena, "%s\n%s", u->sha256, fields ? fields : "");
    req->body_len = strlen(req->body);
    free(fields);
    ob_api_create(app, req, resp, ctx, call);
}
