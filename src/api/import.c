/* import.c - bulk import (import.h) and POST /api/v1/<table>/import. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "api/import.h"
#include "base/base.h"
#include "schema/crud.h"
#include "base/banned.h"

#define IMPORT_MAX_COLS 256

/* One CSV record (RFC 4180: quoted fields, "" inside quotes, CRLF or LF)
 * from *p, cells into the arena. 0 at the end of the data, 1 with a
 * record, -1 on an unterminated quote. */
static int csv_record(ob_arena *a, const char **p, const char *end, const char **cells, int max, int *n)
{
    const char *s = *p;
    *n = 0;
    if (s >= end) return 0;
    ob_sb cell;
    for (;;) {
        ob_sb_init_arena(&cell, a, 32);
        if (s < end && *s == '"') {
            s++;
            for (;;) {
                if (s >= end) return -1;
                if (*s == '"') {
                    if (s + 1 < end && s[1] == '"') {
                        ob_sb_addc(&cell, '"');
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                ob_sb_addc(&cell, *s++);
            }
        }
        while (s < end && *s != ',' && *s != '\n' && *s != '\r') ob_sb_addc(&cell, *s++);
        if (*n < max) cells[*n] = cell.len ? cell.buf : "";
        (*n)++;
        if (s < end && *s == ',') {
            s++;
            continue;
        }
        if (s < end && *s == '\r') s++;
        if (s < end && *s == '\n') s++;
        break;
    }
    *p = s;
    return 1;
}

/* A CSV cell as the JSON value the column takes; an empty cell is absent
 * (the column's default, or null). What does not parse stays a string for
 * the validator to refuse by name. */
static json_t *cell_json(const ob_column *c, const char *s)
{
    char *endp;
    switch (c->type) {
    case OB_F_INT: {
        long long v = strtoll(s, &endp, 10);
        if (*s && !*endp) return json_integer(v);
        break;
    }
    case OB_F_REAL: {
        double v = strtod(s, &endp);
        if (*s && !*endp) return json_real(v);
        break;
    }
    case OB_F_BOOL:
        if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes")) return json_true();
        if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no")) return json_false();
        break;
    case OB_F_JSON: {
        json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
        if (j) return j;
        break;
    }
    default:
        break;
    }
    return json_string(s);
}

static void add_error(json_t *errors, int64_t row, const char *field, const char *code, const char *message)
{
    json_t *e = json_object();
    json_object_set_new(e, "row", json_integer(row));
    json_object_set_new(e, "field", field && *field ? json_string(field) : json_null());
    json_object_set_new(e, "code", json_string(code));
    if (message && *message) json_object_set_new(e, "message", json_string(message));
    json_array_append_new(errors, e);
}

/* A failed row's errors: one per failed field when the error names them. */
static void row_errors(json_t *errors, int64_t row, const ob_err *e)
{
    const char *code = ob_err_code_str(e->code);
    if (e->nfields == 0) return add_error(errors, row, e->field, code, e->message);
    for (int i = 0; i < e->nfields && i < OB_ERR_MAX_FIELDS; i++)
        add_error(errors, row, e->fields[i].name, code, e->fields[i].problem);
}

/* One row through the create path under a savepoint: 0 created, 1 refused
 * (reported), -1 when the database itself failed. */
static int one_row(ob_ctx *ctx, const ob_table *t, json_t *body, int64_t rowno, json_t *errors, ob_err *err)
{
    ob_err e;
    ob_err_clear(&e);
    ob_row *row, *out;
    if (ob_crud_body(ctx, t, body, true, &row, &e) != 0) {
        row_errors(errors, rowno, &e);
        return 1;
    }
    if (ob_db_exec(ctx->db, "SAVEPOINT ob_import_row", err) != 0) return -1;
    if (ob_crud_create_row(ctx, t, row, &out, &e) != 0) {
        if (e.code == OB_E_STORAGE || e.code == OB_E_INTERNAL) {
            *err = e;
            return -1;
        }
        if (ob_db_exec(ctx->db, "ROLLBACK TO SAVEPOINT ob_import_row", err) != 0) return -1;
        row_errors(errors, rowno, &e);
        return ob_db_exec(ctx->db, "RELEASE SAVEPOINT ob_import_row", err) != 0 ? -1 : 1;
    }
    return ob_db_exec(ctx->db, "RELEASE SAVEPOINT ob_import_row", err) != 0 ? -1 : 0;
}

/* Every row of the file, in the open transaction. */
static int run_rows(ob_ctx *ctx, const ob_table *t, const char *data, size_t len, bool ndjson,
                    ob_import_progress progress, void *arg, ob_import_result *out, ob_err *err)
{
    const char *p = data, *end = data + len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3; /* a spreadsheet's byte order mark */
    int cols[IMPORT_MAX_COLS], ncols = 0;
    ob_arena scratch;
    ob_arena_init(&scratch, 0);
    ob_arena *outer = ctx->arena;
    int rc = 0;
    if (!ndjson) {
        const char *names[IMPORT_MAX_COLS];
        int n;
        int r = csv_record(&scratch, &p, end, names, IMPORT_MAX_COLS, &n);
        if (r <= 0) rc = ob_err_set(err, OB_E_BAD_REQUEST, "the CSV has no header row of column names");
        if (rc == 0 && n > IMPORT_MAX_COLS) rc = ob_err_set(err, OB_E_BAD_REQUEST, "the CSV has too many columns");
        for (int i = 0; rc == 0 && i < n; i++) {
            cols[i] = ob_table_col(t, names[i]);
            if (cols[i] < 0) {
                rc = ob_err_set(err, OB_E_UNKNOWN_FIELD, "the header names no field \"%.60s\" of %s", names[i], t->name);
                snprintf(err->field, sizeof err->field, "%.60s", names[i]);
            }
        }
        ncols = n;
        ob_arena_clear(&scratch);
    }
    int64_t rowno = 0;
    while (rc == 0 && p < end) {
        json_t *body = NULL;
        ctx->arena = &scratch; /* a row's allocations, cleared after it */
        if (ndjson) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *stop = nl ? nl : end;
            size_t n = (size_t)(stop - p);
            const char *line = p;
            p = nl ? nl + 1 : end;
            while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) n--;
            if (n == 0) {
                ctx->arena = outer;
                continue; /* blank lines, a trailing newline */
            }
            rowno++;
            json_error_t je;
            body = json_loadb(line, n, 0, &je);
            if (!json_is_object(body)) {
                add_error(out->errors, rowno, NULL, "invalid_json", "the line is not a JSON object");
                json_decref(body);
                ctx->arena = outer;
                ob_arena_clear(&scratch);
                continue;
            }
        } else {
            const char *cells[IMPORT_MAX_COLS];
            int n;
            int r = csv_record(&scratch, &p, end, cells, IMPORT_MAX_COLS, &n);
            if (r < 0) {
                ctx->arena = outer;
                rc = ob_err_set(err, OB_E_BAD_REQUEST, "row %lld: a quoted field is not closed", (long long)rowno + 1);
                break;
            }
            if (n == 1 && !cells[0][0]) {
                ctx->arena = outer;
                ob_arena_clear(&scratch);
                continue; /* an empty line */
            }
            rowno++;
            if (n != ncols) {
                add_error(out->errors, rowno, NULL, "bad_request", "the row has another number of cells than the header");
                ctx->arena = outer;
                ob_arena_clear(&scratch);
                continue;
            }
            body = json_object();
            for (int i = 0; i < n; i++)
                if (cells[i][0]) json_object_set_new(body, t->cols[cols[i]]->name, cell_json(t->cols[cols[i]], cells[i]));
        }
        int r = one_row(ctx, t, body, rowno, out->errors, err);
        json_decref(body);
        ctx->arena = outer;
        ob_arena_clear(&scratch);
        if (r < 0) rc = -1;
        else if (r == 0) out->valid++;
        if (progress && rowno % 1000 == 0) progress(arg, rowno);
    }
    ctx->arena = outer;
    ob_arena_release(&scratch);
    out->rows = rowno;
    if (rc == 0 && progress) progress(arg, rowno);
    return rc;
}

int ob_import_run(ob_ctx *ctx, const ob_table *t, const char *data, size_t len, bool ndjson, bool dry_run,
                  ob_import_progress progress, void *arg, ob_import_result *out, ob_err *err)
{
    *out = (ob_import_result){.errors = json_array()};
    ob_conn *writer, *reader = ctx->db;
    if (ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &writer, err) != 0) return -1;
    ctx->db = writer;
    int rc = ob_db_begin(writer, err);
    if (rc == 0) rc = run_rows(ctx, t, data, len, ndjson, progress, arg, out, err);
    bool commit = rc == 0 && !dry_run && json_array_size(out->errors) == 0;
    if (commit) rc = ob_db_commit(writer, err);
    else ob_db_rollback(writer);
    out->written = commit && rc == 0;
    ob_db_release(writer);
    ctx->db = reader;
    return rc;
}

/* The import's file, spooled to disk as it came (the server streams an
 * import's body like an upload's, so a file may be larger than a JSON body):
 * read whole, within the tenant's upload limit, since every row is checked
 * and written in one transaction anyway. */
static int read_spooled(ob_ctx *ctx, const ob_upload *u, const char **data, size_t *len, ob_err *err)
{
    int64_t limit;
    if (ob_api_tenant_upload_limit(ctx, &limit, err) != 0) return -1;
    if (u->size > limit)
        return ob_err_set(err, OB_E_TOO_LARGE, "the file is %lld bytes; this tenant accepts at most %lld",
                          (long long)u->size, (long long)limit);
    FILE *f = fopen(u->path, "rb");
    if (!f) return ob_err_set(err, OB_E_INTERNAL, "the import's spooled body cannot be read");
    char *buf = ob_arena_alloc(ctx->arena, (size_t)u->size + 1);
    size_t got = fread(buf, 1, (size_t)u->size, f);
    fclose(f);
    if (got != (size_t)u->size) return ob_err_set(err, OB_E_INTERNAL, "the import's spooled body cannot be read");
    buf[got] = 0;
    *data = buf;
    *len = got;
    return 0;
}

void ob_api_import(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    ob_err err;
    const ob_table *t = call->route->t;
    bool dry_run = true;
    for (int i = 0; i < req->nquery; i++) {
        const char *k = req->query[i].key, *v = req->query[i].val ? req->query[i].val : "";
        if (strcmp(k, "dry_run") != 0 || (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)) {
            ob_err_set(&err, OB_E_BAD_QUERY, "an import takes only dry_run=true or dry_run=false");
            return ob_resp_error(resp, &err);
        }
        dry_run = !strcmp(v, "true");
    }
    const ob_upload *u = req->upload;
    if (u && u->multipart && !u->has_file) {
        ob_err_set(&err, OB_E_VALIDATION, NULL);
        ob_err_field_add(&err, "file", "is required: a multipart part named \"file\"");
        return ob_resp_error(resp, &err);
    }
    /* a multipart form's file part says its own type (or its name does) */
    const char *ct = u && u->multipart ? u->part_type : req->header(req, "Content-Type");
    size_t ctl = ct ? strcspn(ct, ";") : 0;
    bool csv = ct && ctl == 8 && !strncasecmp(ct, "text/csv", 8);
    bool ndjson = ct && ((ctl == 20 && !strncasecmp(ct, "application/x-ndjson", 20)) ||
                         (ctl == 20 && !strncasecmp(ct, "application/jsonlines", 20)));
    if (u && u->multipart && !csv && !ndjson && u->filename) {
        const char *dot = strrchr(u->filename, '.');
        csv = dot && !strcasecmp(dot, ".csv");
        ndjson = dot && (!strcasecmp(dot, ".ndjson") || !strcasecmp(dot, ".jsonl"));
    }
    if (!csv && !ndjson) {
        ob_err_set(&err, OB_E_MEDIA_TYPE,
                   "an import is sent as text/csv or application/x-ndjson, or as a multipart part \"file\" of "
                   "those types (or named .csv, .ndjson)");
        return ob_resp_error(resp, &err);
    }
    const char *data = req->body ? req->body : "";
    size_t len = req->body_len;
    if (u && read_spooled(ctx, u, &data, &len, &err) != 0) return ob_resp_error(resp, &err);
    ob_import_result r;
    int rc = ob_import_run(ctx, t, data, len, ndjson, dry_run, NULL, NULL, &r, &err);
    if (rc != 0) {
        json_decref(r.errors);
        return ob_resp_error(resp, &err);
    }
    size_t nerr = json_array_size(r.errors);
    json_t *doc = json_object();
    if (nerr && !dry_run) {
        json_t *e = json_object();
        json_object_set_new(e, "code", json_string(ob_err_code_str(OB_E_UNPROCESSABLE)));
        json_object_set_new(e, "message", json_string("rows have errors: nothing was imported"));
        json_object_set_new(doc, "error", e);
    }
    json_object_set_new(doc, "dry_run", json_boolean(dry_run));
    json_object_set_new(doc, "rows", json_integer(r.rows));
    json_object_set_new(doc, "valid", json_integer(r.valid));
    json_object_set_new(doc, "imported", json_integer(r.written ? r.valid : 0));
    json_object_set_new(doc, "errors", r.errors);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (s) ob_sb_adds(&resp->body, s);
    free(s);
    resp->status = nerr && !dry_run ? 422 : r.written ? 201 : 200;
}
