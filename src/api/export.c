/* export.c - GET /api/v1/<table>/export?format=csv|xlsx|json&<list filters>&columns=a,b
 *
 * The rows are those the caller's list would give (the same filters, sort
 * and customer scope), serialized as the caller sees them (rowjson: masking,
 * staff-only and secret columns withheld), one page at a time into an
 * unlinked temporary file that the server then sends from disk, so memory
 * stays that of one page whatever the row count (XLSX: libxlsxwriter in
 * constant memory mode, export_xlsx.c). Governed by the tenant's
 * security_settings: exports disabled (403), max_export_rows (403 and a
 * security_violations row), max_exports_per_day or the caller's role's
 * custom_export_limit (403 naming the limit and the day's use), the role's
 * allowed_exports (403; the kind of each table below), require_watermark
 * (who, which tenant and when: a first row of CSV, the page header of
 * XLSX; JSON, read by programs, carries none), require_approval_threshold
 * (more rows: 202 and a pending export_logs row; export_approval.c). Every
 * export writes an export_logs row, with the watermark's text. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/export_int.h"
#include "api/export_xlsx.h"
#include "base/base.h"
#include "schema/crud.h"
#include "schema/list.h"
#include "schema/rowjson.h"
#include "gen/columns.h"
#include "base/banned.h"

#define EXPORT_PAGE 200

int ob_export_rules_read(ob_ctx *ctx, ob_export_rules *r, ob_err *err)
{
    *r = (ob_export_rules){.enabled = true, .watermark = true, .max_rows = 10000, .max_per_day = 10,
                           .approval_above = 1000, .link_hours = 24};
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT export_enabled, max_export_rows, max_exports_per_day, require_watermark, "
                      "require_approval_threshold, export_link_expiry_hours FROM security_settings "
                      "WHERE scope = 'tenant'",
                      &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        r->enabled = ob_stmt_col_i64(st, 0) != 0;
        r->max_rows = ob_stmt_col_i64(st, 1);
        r->max_per_day = ob_stmt_col_i64(st, 2);
        r->watermark = ob_stmt_col_i64(st, 3) != 0;
        r->approval_above = ob_stmt_col_type(st, 4) == OB_V_NULL ? -1 : ob_stmt_col_i64(st, 4);
        r->link_hours = ob_stmt_col_i64(st, 5);
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* A role's custom_export_limit replaces the tenant's day limit; a user
 * holding several roles with one gets the largest. */
static int role_day_limit(ob_ctx *ctx, int64_t *limit, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT MAX(rs.custom_export_limit) FROM role_security_settings rs "
                      "JOIN user_roles ur ON ur.role_id = rs.role_id "
                      "WHERE ur.user_id = ? AND ur.status = 'active' AND rs.custom_export_limit IS NOT NULL",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ctx->who->user_id, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1 && ob_stmt_col_type(st, 0) != OB_V_NULL) *limit = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Exports the caller made since the start of the UTC day (pending and
 * refused approvals count: each asked for the data). */
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

/* 001's export kinds (role_security_settings.allowed_exports) by table:
 * orders in a spreadsheet (xlsx, pdf) are orders_excel, otherwise
 * orders_csv. A table not listed has no kind: its module's export
 * permission alone decides. docs/api.md carries this table. */
static const struct {
    const char *table, *kind;
} export_kinds[] = {
    {"orders", "orders_csv"},
    {"order_items", "orders_csv"},
    {"order_status_history", "orders_csv"},
    {"customers", "customers"},
    {"customer_contacts", "customers"},
    {"customer_documents", "customers"},
    {"invoices", "financial"},
    {"invoice_items", "financial"},
    {"payments", "financial"},
    {"payment_transactions", "financial"},
    {"expenses", "financial"},
    {"revenue_records", "financial"},
    {"accounting_entries", "financial"},
    {"ndr_records", "ndr"},
    {"ndr_actions", "ndr"},
    {"ndr_remarks", "ndr"},
    {"inventory", "inventory"},
    {"inventory_transactions", "inventory"},
    {"analytics_events", "analytics"},
    {"analytics_metrics", "analytics"},
    {"analytics_data", "analytics"},
};

static const char *export_kind(const char *table, const char *format)
{
    for (size_t i = 0; i < OB_ARRAY_LEN(export_kinds); i++) {
        if (strcmp(export_kinds[i].table, table) != 0) continue;
        bool sheet = !strcmp(format, "xlsx") || !strcmp(format, "pdf");
        return !strcmp(export_kinds[i].kind, "orders_csv") && sheet ? "orders_excel" : export_kinds[i].kind;
    }
    return NULL;
}

/* Whether one of the caller's roles lets it export this kind: a role
 * without a settings row, or whose allowed_exports is empty (the default),
 * does not restrict; a non-empty list allows just its kinds. */
static int kind_allowed(ob_ctx *ctx, const char *kind, bool *ok, ob_err *err)
{
    *ok = true;
    if (!kind || ctx->who->is_owner || ctx->who->is_system) return 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT rs.allowed_exports FROM user_roles ur "
                      "LEFT JOIN role_security_settings rs ON rs.role_id = ur.role_id "
                      "WHERE ur.user_id = ? AND ur.status = 'active'",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ctx->who->user_id, err);
    int rc, roles = 0;
    bool allowed = false;
    while (!allowed && (rc = ob_stmt_step(st, err)) == 1) {
        roles++;
        const char *list = ob_stmt_col_type(st, 0) == OB_V_NULL ? NULL : ob_stmt_col_text(st, 0, NULL);
        json_t *a = list ? json_loads(list, 0, NULL) : NULL;
        if (!json_is_array(a) || json_array_size(a) == 0) allowed = true;
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) allowed |= json_is_string(v) && !strcmp(json_string_value(v), kind);
        json_decref(a);
    }
    ob_stmt_done(st);
    if (rc < 0 && !allowed) return -1;
    *ok = allowed || roles == 0;
    return 0;
}

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

static int flush(ob_exporter *x, ob_err *err)
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
static int write_rows(ob_exporter *x, json_t *data, ob_err *err)
{
    size_t i;
    json_t *row;
    const ob_column *cols[OB_ARRAY_LEN(x->cols)];
    for (int k = 0; k < x->ncols; k++) cols[k] = x->t->cols[x->cols[k]];
    json_array_foreach(data, i, row) {
        if (x->xlsx) {
            if (ob_xlsx_row(x->xlsx, cols, x->ncols, row, err) != 0) return -1;
        } else if (x->pdf) {
            if (ob_pdf_row(x->pdf, cols, x->ncols, row, err) != 0) return -1;
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

int ob_export_pick_columns(ob_exporter *x, const char *spec, ob_err *err)
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

const char *ob_export_mime(const char *format)
{
    if (!strcmp(format, "xlsx")) return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    if (!strcmp(format, "csv")) return "text/csv; charset=utf-8";
    if (!strcmp(format, "pdf")) return "application/pdf";
    return "application/json";
}

int ob_export_write(ob_exporter *x, const char *spool, const ob_kv *params, int np, const char *mark,
                    int64_t max_rows, ob_err *err)
{
    ob_ctx *ctx = x->ctx;
    const ob_table *t = x->t;
    bool xlsx = !strcmp(x->format, "xlsx"), pdf = !strcmp(x->format, "pdf");
    x->csv = !strcmp(x->format, "csv");
    x->fd = -1;
    x->rows = x->bytes = 0;
    x->over = false;
    ob_listq q;
    ob_kv first[OB_MAX_QUERY_PARAMS + 2];
    memcpy(first, params, (size_t)np * sizeof *first);
    first[np] = (ob_kv){"limit", "200"};
    if (ob_listq_parse(ctx, t, first, np + 1, &q, err) != 0) return -1;
    if (xlsx) {
        x->xlsx = ob_xlsx_new(spool, t->name, err);
        if (!x->xlsx) return -1;
    } else if (pdf) {
        /* a document for people: what was asked (the filters) and when, on every page */
        ob_sb f;
        ob_sb_init_arena(&f, ctx->arena, 256);
        for (int i = 0; i < np; i++)
            ob_sb_addf(&f, "%s%s=%s", i ? " & " : "", params[i].key, params[i].val ? params[i].val : "");
        const char *names[OB_ARRAY_LEN(x->cols)];
        for (int k = 0; k < x->ncols; k++) names[k] = t->cols[x->cols[k]]->name;
        const char *title = ob_arena_printf(ctx->arena, "Export of %s, tenant %s", t->name, ctx->tenant->slug);
        x->pdf = ob_pdf_new(title, f.len ? f.buf : "", ob_arena_printf(ctx->arena, "%s UTC", ctx->now), mark, names,
                            x->ncols, err);
        if (!x->pdf) return -1;
    } else {
        char *path = ob_arena_printf(ctx->arena, "%s/ex-XXXXXX", spool);
        x->fd = mkstemp(path);
        if (x->fd < 0) return ob_err_set(err, OB_E_UNAVAILABLE, "the export could not be written");
        unlink(path); /* the open descriptor is the only name: nothing is left behind */
    }
    /* each page in its own arena, cleared after it: memory is one page's */
    ob_arena page;
    ob_arena_init(&page, 0);
    ob_arena *req_arena = ctx->arena;
    ob_sb_init(&x->buf, 1 << 16);
    int rc = 0;
    if (!x->csv && !xlsx && !pdf) mark = NULL; /* JSON is read by programs */
    if (xlsx) {
        const char *names[OB_ARRAY_LEN(x->cols)];
        for (int k = 0; k < x->ncols; k++) names[k] = t->cols[x->cols[k]]->name;
        if (mark) rc = ob_xlsx_watermark(x->xlsx, mark, err);
        if (rc == 0) rc = ob_xlsx_text_row(x->xlsx, names, x->ncols, err);
    } else if (x->csv) {
        if (mark) {
            csv_cell(&x->buf, mark, strlen(mark), true);
            ob_sb_adds(&x->buf, "\r\n");
        }
        for (int k = 0; k < x->ncols; k++) {
            if (k) ob_sb_addc(&x->buf, ',');
            ob_sb_adds(&x->buf, t->cols[x->cols[k]]->name);
        }
        ob_sb_adds(&x->buf, "\r\n");
    } else if (!pdf) {
        ob_sb_adds(&x->buf, "[");
    }
    for (; rc == 0;) {
        ctx->arena = &page;
        ob_sb out;
        ob_sb_init_arena(&out, &page, 1 << 16);
        ob_jsonw w;
        ob_jw_init(&w, &out);
        rc = ob_list_run(ctx, t, &q, &w, err);
        json_t *doc = rc == 0 ? json_loadb(out.buf, out.len, 0, NULL) : NULL;
        if (rc == 0 && !doc) rc = ob_err_set(err, OB_E_INTERNAL, NULL);
        if (rc == 0) {
            rc = write_rows(x, json_object_get(doc, "data"), err);
            x->over = max_rows >= 0 && x->rows > max_rows;
            if (rc == 0) rc = flush(x, err);
        }
        const char *next = doc ? json_string_value(json_object_get(doc, "next_cursor")) : NULL;
        ctx->arena = req_arena;
        if (rc == 0 && next && !x->over) {
            ob_kv more[OB_MAX_QUERY_PARAMS + 2];
            memcpy(more, params, (size_t)np * sizeof *more);
            more[np] = (ob_kv){"limit", "200"};
            more[np + 1] = (ob_kv){"cursor", ob_arena_strdup(&page, next)};
            ob_listq nq;
            rc = ob_listq_parse(ctx, t, more, np + 2, &nq, err);
            /* the cursor's values live in the request arena from here */
            if (rc == 0) q = nq;
        }
        json_decref(doc);
        ob_arena_clear(&page);
        if (rc != 0 || !next || x->over) break;
    }
    if (rc == 0 && !x->csv && !xlsx && !pdf) {
        ob_sb_adds(&x->buf, x->rows ? "\n]\n" : "]\n");
        rc = flush(x, err);
    }
    if (xlsx) {
        /* refused or failed: no file; else the finished workbook is the file sent */
        if (rc != 0 || x->over) ob_xlsx_abort(x->xlsx);
        else rc = ob_xlsx_close(x->xlsx, &x->fd, &x->bytes, err);
        x->xlsx = NULL;
    }
    if (pdf) {
        if (rc != 0 || x->over) ob_pdf_abort(x->pdf);
        else rc = ob_pdf_close(x->pdf, spool, &x->fd, &x->bytes, err);
        x->pdf = NULL;
    }
    ob_sb_release(&x->buf);
    ob_arena_release(&page);
    if ((rc != 0 || x->over) && x->fd >= 0) {
        close(x->fd);
        x->fd = -1;
    }
    if (rc == 0 && x->fd >= 0 && lseek(x->fd, 0, SEEK_SET) < 0)
        rc = ob_err_set(err, OB_E_UNAVAILABLE, "the export could not be read back");
    return rc;
}

int ob_export_record(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    ob_conn *writer, *reader = ctx->db;
    if (ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &writer, err) != 0) return -1;
    ctx->db = writer;
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
    return ob_export_record(ctx, v, err);
}

/* The refusals that come before any row is read: disabled, the day's
 * limit (403 with fields limit and used), the role's allowed kinds. */
static int check_rules(ob_ctx *ctx, const ob_table *t, const char *format, const ob_export_rules *rules, ob_err *err)
{
    if (!rules->enabled) return ob_err_set(err, OB_E_FORBIDDEN, "exports are disabled for this tenant");
    int64_t limit = rules->max_per_day, today;
    if (role_day_limit(ctx, &limit, err) != 0 || exports_today(ctx, &today, err) != 0) return -1;
    if (today >= limit) {
        ob_err_set(err, OB_E_FORBIDDEN, "the limit of %lld exports a day is reached (%lld made today)",
                   (long long)limit, (long long)today);
        char l[24], u[24];
        snprintf(l, sizeof l, "%lld", (long long)limit);
        snprintf(u, sizeof u, "%lld", (long long)today);
        ob_err_field_add(err, "limit", l);
        ob_err_field_add(err, "used", u);
        return -1;
    }
    const char *kind = export_kind(t->name, format);
    bool ok;
    if (kind_allowed(ctx, kind, &ok, err) != 0) return -1;
    if (!ok) return ob_err_set(err, OB_E_FORBIDDEN, "your role may not export %s (kind \"%s\")", t->name, kind);
    return 0;
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
    if (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0 && strcmp(format, "xlsx") != 0 &&
        strcmp(format, "pdf") != 0) {
        ob_err_set(&err, OB_E_BAD_QUERY, "format must be csv, xlsx, pdf or json");
        return ob_resp_error(resp, &err);
    }
    ob_exporter x = {.ctx = ctx, .t = t, .format = format, .fd = -1};
    if (ob_export_pick_columns(&x, columns, &err) != 0) return ob_resp_error(resp, &err);
    ob_listq q; /* the query is checked before the rules: a bad filter is 400 whatever they say */
    params[np] = (ob_kv){"limit", "200"};
    if (ob_listq_parse(ctx, t, params, np + 1, &q, &err) != 0) return ob_resp_error(resp, &err);

    ob_export_rules rules;
    if (ob_export_rules_read(ctx, &rules, &err) != 0 || check_rules(ctx, t, format, &rules, &err) != 0)
        return ob_resp_error(resp, &err);
    /* the watermark: whoever gets the file can tell whose export it was */
    const char *mark = NULL;
    if (rules.watermark)
        mark = ob_arena_printf(ctx->arena, "Exported by %s (user %s) from tenant %s at %s",
                               ctx->who->email ? ctx->who->email : "-", ctx->who->user_id, ctx->tenant->slug,
                               ctx->now);
    const char *spool = ob_arena_printf(ctx->arena, "%s/spool", app->files->root);
    if (ob_export_write(&x, spool, params, np, mark, rules.max_rows, &err) != 0) return ob_resp_error(resp, &err);
    if (x.over) {
        const char *what = ob_arena_printf(ctx->arena, "an export of %s over the limit of %lld rows", t->name,
                                           (long long)rules.max_rows);
        if (violation(ctx, req, what, &err) != 0) return ob_resp_error(resp, &err);
        ob_err_set(&err, OB_E_FORBIDDEN, "the export has more than %lld rows, the tenant's limit",
                   (long long)rules.max_rows);
        return ob_resp_error(resp, &err);
    }
    bool pending = rules.approval_above >= 0 && x.rows > rules.approval_above;
    if (pending) { /* the file is made again, once approved, by exports.produce */
        close(x.fd);
        x.fd = -1;
    }
    /* the log row, then the file */
    const ob_table *lt = ob_registry_find(OB_TABLE_EXPORT_LOGS);
    ob_row *log = ob_row_new(ctx->arena, lt);
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_USER_ID, ctx->who->user_id);
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_EXPORT_TYPE, t->name);
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_FILE_FORMAT, format);
    ob_row_set_int(log, EXPORT_LOGS_ROW_COUNT, x.rows);
    if (!pending) ob_row_set_int(log, EXPORT_LOGS_FILE_SIZE_BYTES, x.bytes);
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
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_STATUS, pending ? "pending_approval" : "completed");
    ob_row_set_bool(log, EXPORT_LOGS_APPROVAL_REQUIRED, pending);
    if (mark && strcmp(format, "json") != 0) ob_row_set_text(ctx->arena, log, EXPORT_LOGS_WATERMARK_TEXT, mark);
    ob_row_set_int(log, EXPORT_LOGS_DOWNLOAD_COUNT, 0);
    if (pending) return ob_export_pending(req, resp, ctx, log);
    if (ob_export_record(ctx, log, &err) != 0) {
        close(x.fd);
        return ob_resp_error(resp, &err);
    }
    ob_resp_header(resp, "Content-Type", ob_export_mime(format));
    ob_resp_header(resp, "Content-Disposition",
                   ob_arena_printf(ctx->arena, "attachment; filename=\"%s.%s\"", t->name, format));
    ob_resp_header(resp, "X-Export-Rows", ob_arena_printf(ctx->arena, "%lld", (long long)x.rows));
    resp->status = 200;
    resp->file_fd = x.fd;
    resp->file_off = 0;
    resp->file_len = x.bytes;
}
