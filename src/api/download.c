/* download.c - GET /api/v1/<t>/{id}/content of an upload table, or of a
 * record made from an upload, and GET /api/v1/<t>/{id}/<variant> of a file
 * derived from it (ob_resource.variants): the stored bytes, sent from the
 * file (never read into memory).
 *
 * The row is read like GET of the record (ob_crud_get: the same
 * permission, and for customer users only their customer's rows, else
 * 404), so the content is exactly as visible as its row. ETag is the
 * SHA-256 (content never changes under an id), single byte ranges are
 * answered with 206, and the name comes back as an attachment so a browser
 * never renders an upload inline. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "base/base.h"
#include "files/files.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* "bytes=a-b", "bytes=a-", "bytes=-n" against size: 1 with [*off, *off+*len),
 * 0 when there is no usable Range (send all: several ranges or another unit
 * are allowed to be ignored), -1 when unsatisfiable. */
static int parse_range(const char *h, int64_t size, int64_t *off, int64_t *len)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',')) return 0;
    const char *p = h + 6;
    int64_t a = -1, b = -1;
    const char *dash = strchr(p, '-');
    if (!dash) return 0;
    char buf[24];
    size_t n = (size_t)(dash - p);
    if (n > 0) {
        if (n >= sizeof buf) return 0;
        memcpy(buf, p, n);
        buf[n] = 0;
        if (ob_parse_i64(buf, &a) != 0 || a < 0) return 0;
    }
    if (dash[1]) {
        if (strlen(dash + 1) >= sizeof buf) return 0;
        if (ob_parse_i64(dash + 1, &b) != 0 || b < 0) return 0;
    }
    if (a < 0 && b < 0) return 0;
    if (a < 0) { /* the last b bytes */
        if (b == 0 || size == 0) return -1;
        *off = b > size ? 0 : size - b;
        *len = size - *off;
        return 1;
    }
    if (b >= 0 && b < a) return 0;
    if (a >= size) return -1;
    *off = a;
    *len = (b < 0 || b >= size ? size - 1 : b) - a + 1;
    return 1;
}

/* Content-Disposition with an ASCII fallback name and the UTF-8 one. */
static const char *disposition(ob_arena *a, const char *name)
{
    ob_sb ascii, pct;
    ob_sb_init_arena(&ascii, a, strlen(name) + 1);
    ob_sb_init_arena(&pct, a, 3 * strlen(name) + 1);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                     strchr("-._~", *p);
        ob_sb_addc(&ascii, (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ? (char)*p : '_');
        if (plain) ob_sb_addc(&pct, (char)*p);
        else ob_sb_addf(&pct, "%%%02X", *p);
    }
    return ob_arena_printf(a, "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii.buf, pct.buf);
}

static bool etag_matches(const char *h, const char *etag)
{
    if (!h) return false;
    if (strcmp(h, "*") == 0) return true;
    return strstr(h, etag) != NULL;
}

void ob_api_download(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    ob_err err;
    ob_row *row;
    if (!app->files) {
        ob_err_set(&err, OB_E_UNAVAILABLE, "downloads are not available");
        return ob_resp_error(resp, &err);
    }
    /* the record with the caller's scope: its file is exactly as visible */
    const ob_table *t = call->route->t, *ft = ob_registry_content_of(t);
    /* a variant's route names its reference (ob_resource.variants) */
    const char *ref = call->route->verb;
    if (ref) ft = ob_registry_find(t->cols[ob_table_col(t, ref)]->ref);
    if (ob_crud_get(ctx, t, call->id, &row, &err) != 0) return ob_resp_error(resp, &err);
    if (ft != t) {
        int ri = ob_table_col(t, ref ? ref : t->res->copy->ref);
        if (!row->set[ri] || row->v[ri].t != OB_V_TEXT) {
            ob_err_set(&err, OB_E_NOT_FOUND, "the record has no file");
            return ob_resp_error(resp, &err);
        }
        if (ob_sql_load_internal(ctx, ft, row->v[ri].s, &row, &err) != 0) return ob_resp_error(resp, &err);
    }
    const char *sha = ob_row_text(row, FILES_SHA256);
    const char *etag = ob_arena_printf(ctx->arena, "\"%s\"", sha);
    int fd;
    int64_t size;
    if (app->files->open(app->files, ctx->arena, ctx->tenant->slug, ob_row_text(row, FILES_STORAGE_KEY), &fd, &size,
                         &err) != 0)
        return ob_resp_error(resp, &err);
    ob_resp_header(resp, "ETag", etag);
    ob_resp_header(resp, "Accept-Ranges", "bytes");
    ob_resp_header(resp, "Cache-Control", "private, no-cache");
    if (etag_matches(req->header(req, "If-None-Match"), etag)) {
        close(fd);
        resp->status = 304;
        return;
    }
    int64_t off = 0, len = size;
    int rng = parse_range(req->header(req, "Range"), size, &off, &len);
    /* If-Range with another validator: the whole file, as if no Range */
    const char *if_range = req->header(req, "If-Range");
    if (rng != 0 && if_range && strcmp(if_range, etag) != 0) rng = 0, off = 0, len = size;
    if (rng < 0) {
        close(fd);
        ob_err_set(&err, OB_E_RANGE, "the file has %lld bytes", (long long)size);
        ob_resp_error(resp, &err);
        ob_resp_header(resp, "Content-Range", ob_arena_printf(ctx->arena, "bytes */%lld", (long long)size));
        return;
    }
    ob_resp_header(resp, "Content-Type", ob_row_text(row, FILES_MIME_TYPE));
    ob_resp_header(resp, "Content-Disposition", disposition(ctx->arena, ob_row_text(row, FILES_FILE_NAME)));
    if (rng > 0)
        ob_resp_header(resp, "Content-Range", ob_arena_printf(ctx->arena, "bytes %lld-%lld/%lld", (long long)off,
                                                              (long long)(off + len - 1), (long long)size));
    resp->status = rng > 0 ? 206 : 200;
    resp->file_fd = fd;
    resp->file_off = off;
    resp->file_len = len;
}
