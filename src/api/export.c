/* export.c - GET /api/v1/<table>/export?format=csv|xlsx|json&<list filters>&columns=a,b
 *
 * The rows are those the caller's list would give (the same filters, sort
 * and customer scope), serialized as the caller sees them (rowjson: masking,
 * staff-only and secret columns withheld), one page at a time into an
 * unlinked temporary file that the server then sends from disk, so memory
 * stays that of one page whatever the row count (XLSX: libxlsxwriter in
 * constant memory mode, export_xlsx.c). Governed by the tenant's
 * security_settings: exports disabled (403), max_export_rows (403 and a
 * security_violations row), max_exports_per_day (403), require_watermark
 * (who, which tenant and when: a first row of CSV, the page header of
 * XLSX; JSON, read by programs, carries none). Every export writes an
 * export_logs row, with the watermark's text. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/export_xlsx.h"
#include "base/base.h"
#include "schema/crud.h"
#include "schema/list.h"
#include "schema/rowjson.h"
#include "gen/columns.h"
#include "base/banned.h"

#define EXPORT_PAGE 200

typedef struct export_rules {
    bool enabled, watermark;
    int64_t max_rows, max_per_day;
} export_rules;

static int read_rules(ob_ctx *ctx, export_rules *r, ob_err *err)
{
    r->enabled = true;
    r->watermark = true;
    r->max_rows = 10000;
    r->max_per_day = 10;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT export_enabled, max_export_rows, max_exports_per_day, require_watermark FROM security_settings "
                      "WHERE scope = 'tenant'",
                      &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        r->enabled = ob_stmt_col_i64(st, 0) != 0;
        r->max_rows = ob_stmt_col_i64(st, 1);
        r->max_per_day = ob_stmt_col_i64(st, 2);
        r->watermark = ob_stmt_col_i64(st, 3) != 0;
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Exports the caller made since the start of the UTC day. */
static int exports_today(ob_ctx *ctx, int64_t *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT COUNT(*) FROM export_logs WHERE user_id = ? AND created_at >= ?", &st, err) != 0)
        return -1;
    char day[32];
    snprintf(day, sizeof day, "%.10sT00:00:00.000Z", ctx->now);
    ob_stmt_bind_text(st, 1, ctx->who->user_id, err);
    ob_stmt_bind_text(st, 2, day, err);
    int rc = ob_stmt_step(st, err);
    *n = rc == 1 ? ob_stmt_col_i64(st, 0) : 0;
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

typedef struct exporter {
    ob_ctx *ctx;
    const ob_table *t;
    bool csv;
    ob_xlsx *xlsx;   /* format=xlsx: the workbook rows go to instead of buf */
    int cols[256];   /* column indexes exported */
    int ncols;
    int fd;
    ob_sb buf;       /* one page of output, flushed to fd */
    int64_t rows, bytes;
} exporter;

/* A cell that a spreadsheet would run as a formula gets a leading quote
 * (cells starting = + - @, tab or CR), then RFC 4180 quoting. */
static void csv_cell(ob_sb *sb, const char *s, size_t n, bool text)
{
    bool formula = text && n > 0 && strchr("=+-@\t\r", s[0]);
    bool quote = formula || memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n) ||
                 (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));
    if (!quote) {
        ob_sb_add(sb, s, n);
        return;
    }
    ob_sb_addc(sb, '"');
    if (formula) ob_sb_addc(sb, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') ob_sb_addc(sb, '"');
        ob_sb_addc(sb, s[i]);
    }
    ob_sb_addc(sb, '"');
}

static void csv_value(ob_sb *sb, json_t *v, bool text)
{
    if (!v || json_is_null(v)) return;
    if (json_is_string(v)) return csv_cell(sb, json_string_value(v), json_string_length(v), text);
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s) csv_cell(sb, s, strlen(s), !json_is_number(v) && !json_is_boolean(v));
    free(s);
}

static int flush(exporter *x, ob_err *err)
{
    const char *p = x->buf.buf;
    size_t n = x->buf.len;
    while (n > 0) {
        ssize_t w = write(x->fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return ob_err_set(err, OB_E_UNAVAILABLE, "the export could not be written");
        p += w;
        n -= (size_t)w;
    }
    x->bytes += (int64_t)x->buf.len;
    ob_sb_reset(&x->buf);
    return 0;
}

/* One page of rows (the list's JSON) into the output. */
static int write_rows(exporter *x, json_t *data, ob_err *err)
{
    size_t i;
    json_t *row;
    const ob_column *cols[OB_ARRAY_LEN(x->cols)];
    for (int k = 0; k < x->ncols; k++) cols[k] = x->t->cols[x->cols[k]];
    json_array_foreach(data, i, row) {
        if (x->xlsx) {
            if (ob_xlsx_row(x->xlsx, cols, x->ncols, row, err) != 0) return -1;
        } else if (x->csv) {
            for (int k = 0; k < x->ncols; k++) {
                const ob_column *c = x->t->cols[x->cols[k]];
                if (k) ob_sb_addc(&x->buf, ',');
                csv_value(&x->buf, json_object_get(row, c->name), c->type == OB_F_TEXT || c->type == OB_F_ENUM);
            }
            ob_sb_adds(&x->buf, "\r\n");
        } else {
            json_t *o = json_object();
            for (int k = 0; k < x->ncols; k++) {
                const char *name = x->t->cols[x->cols[k]]->name;
                json_t *v = json_object_get(row, name);
                if (v) json_object_set(o, name, v);
            }
            char *s = json_dumps(o, JSON_COMPACT);
            ob_sb_adds(&x->buf, x->rows ? ",\n" : "\n");
            if (s) ob_sb_adds(&x->buf, s);
            free(s);
            json_decref(o);
        }
        x->rows++;
    }
    return 0;
}

/* columns=a,b: declared, visible to the caller, not secret; default: all of those. */
static int pick_columns(exporter *x, const char *spec, ob_err *err)
{
    const ob_table *t = x->t;
    x->ncols = 0;
    for (int i = 0; i < t->ncols && !spec; i++) {
        const ob_column *c = t->cols[i];
        if ((c->flags & OB_SECRET) || ob_col_withheld(x->ctx, c)) continue;
        if (x->ncols < (int)OB_ARRAY_LEN(x->cols)) x->cols[x->ncols++] = i;
    }
    for (const char *p = spec; p && *p;) {
        size_t n = strcspn(p, ",");
        char name[128];
        if (n == 0 || n >= sizeof name) return ob_err_set(err, OB_E_BAD_QUERY, "columns names an unknown field");
        memcpy(name, p, n);
        name[n] = 0;
        int i = ob_table_col(t, name);
        if (i < 0 || (t->cols[i]->flags & OB_SECRET) || ob_col_withheld(x->ctx, t->cols[i]))
            return ob_err_set(err, OB_E_BAD_QUERY, "columns names an unknown field \"%.60s\"", name);
        if (x->ncols == (int)OB_ARRAY_LEN(x->cols)) return ob_err_set(err, OB_E_BAD_QUERY, "too many columns");
        x->cols[x->ncols++] = i;
        p += n;
        if (*p) p++;
    }
    if (x->ncols == 0) return ob_err_set(err, OB_E_BAD_QUERY, "columns is empty");
    return 0;
}

/* The export_logs row, or a security_violations row when refused; in
 * their own write transaction. */
static int record(ob_ctx *ctx, const ob_req *req, const ob_table *lt, ob_row *row, ob_err *err)
{
    ob_conn *writer, *reader = ctx->db;
    if (ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &writer, err) != 0) return -1;
    ctx->db = writer;
    (void)req;
    (void)lt;
    int rc = ob_db_begin(writer, err);
    if (rc == 0) rc = ob_crud_insert_row(ctx, row, err);
    if (rc == 0) rc = ob_db_commit(writer, err);
    if (rc != 0) ob_db_rollback(writer);
    ob_db_release(writer);
    ctx->db = reader;
    return rc;
}

static int violation(ob_ctx *ctx, const ob_req *req, const char *what, ob_err *err)
{
    const ob_table *vt = ob_registry_find(OB_TABLE_SECURITY_VIOLATIONS);
    ob_row *v = ob_row_new(ctx->arena, vt);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_USER_ID, ctx->who->user_id);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_VIOLATION_TYPE, "export_row_limit");
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_DESCRIPTION, what);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_SEVERITY, "medium");
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_IP_ADDRESS, req->ip);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_REQUEST_PATH, ob_arena_strndup(ctx->arena, req->raw_path, 500));
    ob_row_set_bool(v, SECURITY_VIOLATIONS_BLOCKED, true);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_METADATA, "{}");
    return record(ctx, req, vt, v, err);
}

void ob_api_export(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    ob_err err;
    const ob_table *t = call->route->t;
    /* the module's export permission (the route's) and the table's view */
    const char *view = ob_arena_printf(ctx->arena, "%s.view", t->res->perm ? t->res->perm : t->name);
    if (t->res->perm_view) view = t->res->perm_view;
    if (!ob_ctx_can(ctx, view)) {
        ob_err_set(&err, OB_E_FORBIDDEN, "the permission \"%s\" is required", view);
        return ob_resp_error(resp, &err);
    }
    if (!app->files) {
        ob_err_set(&err, OB_E_UNAVAILABLE, "exports are not available");
        return ob_resp_error(resp, &err);
    }
    /* format and columns are the export's; the rest is the list's query */
    const char *format = "csv", *columns = NULL;
    ob_kv params[OB_MAX_QUERY_PARAMS + 2];
    int np = 0;
    for (int i = 0; i < req->nquery; i++) {
        if (!strcmp(req->query[i].key, "format")) format = req->query[i].val ? req->query[i].val : "";
        else if (!strcmp(req->query[i].key, "columns")) columns = req->query[i].val ? req->query[i].val : "";
        else if (!strcmp(req->query[i].key, "cursor") || !strcmp(req->query[i].key, "limit")) {
            ob_err_set(&err, OB_E_BAD_QUERY, "an export takes every row: no %s", req->query[i].key);
            return ob_resp_error(resp, &err);
        } else params[np++] = req->query[i];
    }
    bool xlsx = !strcmp(format, "xlsx");
    if (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0 && !xlsx) {
        ob_err_set(&err, OB_E_BAD_QUERY, "format must be csv, xlsx or json");
        return ob_resp_error(resp, &err);
    }
    exporter x = {.ctx = ctx, .t = t, .csv = !strcmp(format, "csv"), .fd = -1};
    if (pick_columns(&x, columns, &err) != 0) return ob_resp_error(resp, &err);
    ob_listq q;
    params[np] = (ob_kv){"limit", "200"};
    if (ob_listq_parse(ctx, t, params, np + 1, &q, &err) != 0) return ob_resp_error(resp, &err);

    export_rules rules;
    int64_t today;
    if (read_rules(ctx, &rules, &err) != 0 || exports_today(ctx, &today, &err) != 0) return ob_resp_error(resp, &err);
    if (!rules.enabled) {
        ob_err_set(&err, OB_E_FORBIDDEN, "exports are disabled for this tenant");
        return ob_resp_error(resp, &err);
    }
    if (today >= rules.max_per_day) {
        ob_err_set(&err, OB_E_FORBIDDEN, "the limit of %lld exports a day is reached", (long long)rules.max_per_day);
        return ob_resp_error(resp, &err);
    }

    char *path = ob_arena_printf(ctx->arena, "%s/spool/ex-XXXXXX", app->files->root);
    if (xlsx) {
        x.xlsx = ob_xlsx_new(ob_arena_printf(ctx->arena, "%s/spool", app->files->root), t->name, &err);
        if (!x.xlsx) return ob_resp_error(resp, &err);
    } else {
        x.fd = mkstemp(path);
    }
    if (!xlsx && x.fd < 0) {
        ob_err_set(&err, OB_E_UNAVAILABLE, "the export could not be written");
        return ob_resp_error(resp, &err);
    }
    if (!xlsx) unlink(path); /* the open descriptor is the only name: nothing is left behind */
    /* each page in its own arena, cleared after it: memory is one page's */
    ob_arena page;
    ob_arena_init(&page, 0);
    ob_arena *req_arena = ctx->arena;
    ob_sb_init(&x.buf, 1 << 16);
    int rc = 0;
    /* the watermark: whoever gets the file can tell whose export it was */
    const char *mark = NULL;
    if (rules.watermark && (x.csv || xlsx))
        mark = ob_arena_printf(ctx->arena, "Exported by %s (user %s) from tenant %s at %s",
                               ctx->who->email ? ctx->who->email : "-", ctx->who->user_id, ctx->tenant->slug,
                               ctx->now);
    if (xlsx) {
        const char *names[OB_ARRAY_LEN(x.cols)];
        for (int k = 0; k < x.ncols; k++) names[k] = t->cols[x.cols[k]]->name;
        if (mark) rc = ob_xlsx_watermark(x.xlsx, mark, &err);
        if (rc == 0) rc = ob_xlsx_text_row(x.xlsx, names, x.ncols, &err);
    } else if (x.csv) {
        if (mark) {
            csv_cell(&x.buf, mark, strlen(mark), true);
            ob_sb_adds(&x.buf, "\r\n");
        }
        for (int k = 0; k < x.ncols; k++) {
            if (k) ob_sb_addc(&x.buf, ',');
            ob_sb_adds(&x.buf, t->cols[x.cols[k]]->name);
        }
        ob_sb_adds(&x.buf, "\r\n");
    } else {
        ob_sb_adds(&x.buf, "[");
    }
    bool over = false;
    for (; rc == 0;) {
        ctx->arena = &page;
        ob_sb out;
        ob_sb_init_arena(&out, &page, 1 << 16);
        ob_jsonw w;
        ob_jw_init(&w, &out);
        rc = ob_list_run(ctx, t, &q, &w, &err);
        json_t *doc = rc == 0 ? json_loadb(out.buf, out.len, 0, NULL) : NULL;
        if (rc == 0 && !doc) rc = ob_err_set(&err, OB_E_INTERNAL, NULL);
        if (rc == 0) {
            rc = write_rows(&x, json_object_get(doc, "data"), &err);
            over = x.rows > rules.max_rows;
            if (rc == 0) rc = flush(&x, &err);
        }
        const char *next = doc ? json_string_value(json_object_get(doc, "next_cursor")) : NULL;
        ctx->arena = req_arena;
        if (rc == 0 && next && !over) {
            ob_kv more[OB_MAX_QUERY_PARAMS + 2];
            memcpy(more, params, (size_t)np * sizeof *more);
            more[np] = (ob_kv){"limit", "200"};
            more[np + 1] = (ob_kv){"cursor", ob_arena_strdup(&page, next)};
            ob_listq nq;
            rc = ob_listq_parse(ctx, t, more, np + 2, &nq, &err);
            /* the cursor's values live in the request arena from here */
            if (rc == 0) q = nq;
        }
        json_decref(doc);
        ob_arena_clear(&page);
        if (rc != 0 || !next || over) break;
    }
    if (rc == 0 && !x.csv && !xlsx) {
        ob_sb_adds(&x.buf, x.rows ? "\n]\n" : "]\n");
        rc = flush(&x, &err);
    }
    if (xlsx) {
        /* refused or failed: no file; else the finished workbook is the file sent */
        if (rc != 0 || over) ob_xlsx_abort(x.xlsx);
        else rc = ob_xlsx_close(x.xlsx, &x.fd, &x.bytes, &err);
        x.xlsx = NULL;
    }
    ob_sb_release(&x.buf);
    ob_arena_release(&page);
    if (rc == 0 && over) {
        if (x.fd >= 0) close(x.fd);
        const char *what = ob_arena_printf(ctx->arena, "an export of %s over the limit of %lld rows", t->name,
                                           (long long)rules.max_rows);
        if (violation(ctx, req, what, &err) != 0) return ob_resp_error(resp, &err);
        ob_err_set(&err, OB_E_FORBIDDEN, "the export has more than %lld rows, the tenant's limit",
                   (long long)rules.max_rows);
        return ob_resp_error(resp, &err);
    }
    if (rc != 0) {
        if (x.fd >= 0) close(x.fd);
        return ob_resp_error(resp, &err);
    }
    /* the log row, then the file */
    const ob_table *lt = ob_registry_find(OB_TABLE_EXPORT_LOGS);
    ob_row *log = ob_row_new(ctx->arena, lt);
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_USER_ID, ctx->who->user_id);
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_EXPORT_TYPE, t->name);
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_FILE_FORMAT, format);
    ob_row_set_int(log, EXPORT_LOGS_ROW_COUNT, x.rows);
    ob_row_set_int(log, EXPORT_LOGS_FILE_SIZE_BYTES, x.bytes);
    json_t *filters = json_object(), *cols = json_array();
    for (int i = 0; i < np; i++) json_object_set_new(filters, params[i].key, json_string(params[i].val ? params[i].val : ""));
    for (int k = 0; k < x.ncols; k++) json_array_append_new(cols, json_string(t->cols[x.cols[k]]->name));
    char *fs = json_dumps(filters, JSON_COMPACT | JSON_SORT_KEYS), *cs = json_dumps(cols, JSON_COMPACT);
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_FILTERS_APPLIED, fs ? fs : "{}");
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_COLUMNS_EXPORTED, cs ? cs : "[]");
    free(fs);
    free(cs);
    json_decref(filters);
    json_decref(cols);
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_IP_ADDRESS, req->ip);
    if (ctx->user_agent) ob_row_set_text(ctx->arena, log, EXPORT_LOGS_USER_AGENT, ob_arena_strndup(ctx->arena, ctx->user_agent, 1000));
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_STATUS, "completed");
    ob_row_set_bool(log, EXPORT_LOGS_APPROVAL_REQUIRED, false);
    if (mark) ob_row_set_text(ctx->arena, log, EXPORT_LOGS_WATERMARK_TEXT, mark);
    ob_row_set_int(log, EXPORT_LOGS_DOWNLOAD_COUNT, 0);
    if (record(ctx, req, lt, log, &err) != 0) {
        close(x.fd);
        return ob_resp_error(resp, &err);
    }
    ob_resp_header(resp, "Content-Type", xlsx    ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                         : x.csv ? "text/csv; charset=utf-8"
                                                 : "application/json");
    ob_resp_header(resp, "Content-Disposition",
                   ob_arena_printf(ctx->arena, "attachment; filename=\"%s.%s\"", t->name, format));
    ob_resp_header(resp, "X-Export-Rows", ob_arena_printf(ctx->arena, "%lld", (long long)x.rows));
    resp->status = 200;
    resp->file_fd = x.fd;
    resp->file_off = 0;
    resp->file_len = x.bytes;
}
