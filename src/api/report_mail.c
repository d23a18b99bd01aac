/* report_mail.c - the job reports.mail: a scheduled report run's message
 * sent with the result as three attachments, CSV, XLSX and PDF.
 *
 * The analytics area runs the report and queues the message as a
 * notification (a pending notification_logs row rendered from the template
 * report.delivered, its metadata naming the run) with this job rather than
 * notify.send, because the writers of the files live here, in the layer
 * above the domain. The job reads the run's stored result
 * ({"columns": [...], "rows": [[...], ...]}), writes the three files in
 * memory, sends them over SMTP (jobs/smtp.h) and settles the message as
 * notify.send does: sent, retried after its back-off, or failed after its
 * last attempt. The files are the run's numbers as stored: decimals stay
 * exact text in CSV and PDF and become numbers at their scale in XLSX. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/export_int.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/validate.h"
#include "base/base.h"
#include "jobs/smtp.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define ATTACHMENTS 3 /* at most: CSV, XLSX, PDF in this order */

/* The result as columns the writers take: group keys as text, measures
 * typed by their values (whole numbers, decimals at their scale). Each
 * column's name is its position (c0, c1...), the key of the row objects,
 * so two measures of one name cannot collide. */
typedef struct table_out {
    int n;
    const char **names;
    const ob_column **cols;
    json_t *rows; /* array of objects keyed c0, c1... */
} table_out;

/* "-12.50": a decimal as the run writes one; its scale, else -1. */
static int decimal_scale(const char *s)
{
    if (!s) return -1;
    if (*s == '-') s++;
    const char *p = s;
    while (*p >= '0' && *p <= '9') p++;
    if (p == s || *p != '.') return -1;
    const char *f = ++p;
    while (*p >= '0' && *p <= '9') p++;
    return *p || p == f || p - f > 9 ? -1 : (int)(p - f);
}

static int table_of(ob_ctx *ctx, const char *result, table_out *t, ob_err *err)
{
    json_t *doc = json_loads(result ? result : "", 0, NULL);
    json_t *cols = json_object_get(doc, "columns"), *rows = json_object_get(doc, "rows");
    if (!json_is_array(cols) || !json_is_array(rows)) {
        json_decref(doc);
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the report run has no result to send");
    }
    t->n = (int)json_array_size(cols);
    t->names = ob_arena_alloc(ctx->arena, (size_t)(t->n + 1) * sizeof *t->names);
    t->cols = ob_arena_alloc(ctx->arena, (size_t)(t->n + 1) * sizeof *t->cols);
    t->rows = json_array();
    for (int k = 0; k < t->n; k++) {
        ob_column *c = ob_arena_alloc(ctx->arena, sizeof *c);
        memset(c, 0, sizeof *c);
        c->name = ob_arena_printf(ctx->arena, "c%d", k);
        c->type = OB_F_TEXT;
        /* a column's type from its first value: every row of a column has the same kind */
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            json_t *v = json_array_get(row, (size_t)k);
            if (json_is_integer(v)) c->type = OB_F_INT;
            else if (decimal_scale(json_string_value(v)) >= 0)
                c->type = OB_F_DECIMAL, c->scale = decimal_scale(json_string_value(v));
            if (v && !json_is_null(v)) break;
        }
        t->names[k] = ob_arena_strdup(ctx->arena, json_string_value(json_array_get(cols, (size_t)k)) ?
                                                      json_string_value(json_array_get(cols, (size_t)k)) : "");
        t->cols[k] = c;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_t *o = json_object();
        for (int k = 0; k < t->n; k++) json_object_set(o, t->cols[k]->name, json_array_get(row, (size_t)k));
        json_array_append_new(t->rows, o);
    }
    json_decref(doc);
    return 0;
}

/* A CSV field: quoted when it holds a comma, quote or line break; a text
 * that a spreadsheet would take for a formula is prefixed with '. */
static void csv_field(ob_sb *out, json_t *v)
{
    if (!v || json_is_null(v)) return;
    if (json_is_integer(v)) {
        ob_sb_addf(out, "%lld", (long long)json_integer_value(v));
        return;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    bool formula = strchr("=+-@", s[0]) && s[0] && !(s[0] == '-' && s[1] >= '0' && s[1] <= '9');
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        ob_sb_adds(out, s);
        return;
    }
    ob_sb_addc(out, '"');
    if (formula) ob_sb_addc(out, '\'');
    for (; *s; s++) {
        if (*s == '"') ob_sb_addc(out, '"');
        ob_sb_addc(out, *s);
    }
    ob_sb_addc(out, '"');
}

static void write_csv(const table_out *t, ob_sb *out)
{
    for (int k = 0; k < t->n; k++) {
        json_t *name = json_string(t->names[k]);
        if (k) ob_sb_addc(out, ',');
        csv_field(out, name);
        json_decref(name);
    }
    ob_sb_adds(out, "\r\n");
    size_t i;
    json_t *row;
    json_array_foreach(t->rows, i, row) {
        for (int k = 0; k < t->n; k++) {
            if (k) ob_sb_addc(out, ',');
            csv_field(out, json_object_get(row, t->cols[k]->name));
        }
        ob_sb_adds(out, "\r\n");
    }
}

/* The finished file behind fd into the arena; fd is closed. */
static int slurp(ob_ctx *ctx, int fd, int64_t size, ob_smtp_file *f, ob_err *err)
{
    char *buf = ob_arena_alloc(ctx->arena, (size_t)size + 1);
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t n = pread(fd, buf + got, (size_t)size - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (got != (size_t)size) return ob_err_set(err, OB_E_UNAVAILABLE, "the report's file could not be read back");
    f->data = buf;
    f->len = got;
    return 0;
}

static int write_xlsx(ob_ctx *ctx, const table_out *t, const char *spool, ob_smtp_file *f, ob_err *err)
{
    ob_xlsx *x = ob_xlsx_new(spool, "Report", err);
    if (!x) return -1;
    size_t i;
    json_t *row;
    int rc = ob_xlsx_text_row(x, t->names, t->n, err);
    json_array_foreach(t->rows, i, row) if (rc == 0) rc = ob_xlsx_row(x, t->cols, t->n, row, err);
    if (rc != 0) {
        ob_xlsx_abort(x);
        return -1;
    }
    int fd;
    int64_t size;
    if (ob_xlsx_close(x, &fd, &size, err) != 0) return -1;
    return slurp(ctx, fd, size, f, err);
}

static int write_pdf(ob_ctx *ctx, const table_out *t, const char *title, const char *when, const char *spool,
                     ob_smtp_file *f, ob_err *err)
{
    ob_pdf *p = ob_pdf_new(title, "", when, NULL, t->names, t->n, err);
    if (!p) return -1;
    size_t i;
    json_t *row;
    int rc = 0;
    json_array_foreach(t->rows, i, row) if (rc == 0) rc = ob_pdf_row(p, t->cols, t->n, row, err);
    if (rc != 0) {
        ob_pdf_abort(p);
        return -1;
    }
    int fd;
    int64_t size;
    if (ob_pdf_close(p, spool, &fd, &size, err) != 0) return -1;
    return slurp(ctx, fd, size, f, err);
}

/* A file name from the report's name: letters, digits, '-' and '_'. */
static const char *base_name(ob_ctx *ctx, const char *name)
{
    char *s = ob_arena_strndup(ctx->arena, name && *name ? name : "report", 60);
    for (char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
            *p = '_';
    return s;
}

/* The files the report asks for in export_formats (csv, excel, pdf; kept
 * lower case by the column's enum): all three when it names none. */
static void wanted(const ob_row *report, bool want[ATTACHMENTS])
{
    static const char *const names[ATTACHMENTS] = {"csv", "excel", "pdf"};
    const char *text = ob_row_text(report, CUSTOM_REPORTS_EXPORT_FORMATS);
    json_t *arr = json_loads(text ? text : "[]", JSON_DECODE_ANY, NULL), *v;
    bool any = false;
    for (int k = 0; k < ATTACHMENTS; k++) {
        want[k] = false;
        size_t i;
        json_array_foreach(arr, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), names[k])) want[k] = true;
        any |= want[k];
    }
    json_decref(arr);
    for (int k = 0; !any && k < ATTACHMENTS; k++) want[k] = true;
}

/* The run's files in memory, in the order CSV, XLSX, PDF, those the report
 * asks for: f[k] with data NULL for one it does not. */
static int render(ob_ctx *ctx, const ob_row *run, const ob_row *report, ob_smtp_file f[ATTACHMENTS], ob_err *err)
{
    const ob_file_store *files = ob_api_file_store();
    if (!files) return ob_err_set(err, OB_E_UNAVAILABLE, "this process has no file store");
    table_out t = {0};
    if (table_of(ctx, ob_row_text(run, REPORT_RUNS_RESULT), &t, err) != 0) return -1;
    const char *name = ob_row_text(report, CUSTOM_REPORTS_NAME), *base = base_name(ctx, name);
    const char *spool = ob_arena_printf(ctx->arena, "%s/spool", files->root);
    bool want[ATTACHMENTS];
    wanted(report, want);
    memset(f, 0, ATTACHMENTS * sizeof *f);
    int rc = 0;
    if (want[0]) {
        ob_sb csv;
        ob_sb_init_arena(&csv, ctx->arena, 1024);
        write_csv(&t, &csv);
        f[0] = (ob_smtp_file){ob_arena_printf(ctx->arena, "%s.csv", base), ob_export_mime("csv"), csv.buf, csv.len};
    }
    if (want[1]) {
        f[1] = (ob_smtp_file){ob_arena_printf(ctx->arena, "%s.xlsx", base), ob_export_mime("xlsx"), NULL, 0};
        rc = write_xlsx(ctx, &t, spool, &f[1], err);
    }
    if (rc == 0 && want[2]) {
        f[2] = (ob_smtp_file){ob_arena_printf(ctx->arena, "%s.pdf", base), ob_export_mime("pdf"), NULL, 0};
        rc = write_pdf(ctx, &t, name, ob_row_text(run, REPORT_RUNS_FINISHED_AT), spool, &f[2], err);
    }
    json_decref(t.rows);
    return rc;
}

static const char *payload_text(ob_ctx *ctx, const ob_row *job, const char *key)
{
    json_t *pl = json_loads(ob_row_text(job, JOBS_PAYLOAD) ? ob_row_text(job, JOBS_PAYLOAD) : "{}", 0, NULL);
    const char *v = json_string_value(json_object_get(pl, key));
    const char *out = ob_arena_strdup(ctx->arena, v ? v : "");
    json_decref(pl);
    return out;
}

static int load_log(ob_ctx *ctx, const ob_row *job, ob_row **out, ob_err *err)
{
    return ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_NOTIFICATION_LOGS), payload_text(ctx, job, "log_id"),
                                out, err);
}

/* The run the message names, and its report. */
static int load_run(ob_ctx *ctx, const ob_row *log, ob_row **run, ob_row **report, ob_err *err)
{
    const char *meta = ob_row_text(log, NOTIFICATION_LOGS_METADATA);
    json_t *m = json_loads(meta ? meta : "{}", 0, NULL);
    const char *id = ob_arena_strdup(ctx->arena, json_string_value(json_object_get(m, "report_run_id")) ?
                                                     json_string_value(json_object_get(m, "report_run_id")) : "");
    json_decref(m);
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_REPORT_RUNS), id, run, err) != 0) return -1;
    return ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_CUSTOM_REPORTS),
                                ob_row_text(*run, REPORT_RUNS_REPORT_ID), report, err);
}

/* The run's columns naming its stored files, in the order CSV, XLSX, PDF. */
static ob_colh file_col(int k)
{
    return k == 0 ? REPORT_RUNS_CSV_FILE_ID : k == 1 ? REPORT_RUNS_XLSX_FILE_ID : REPORT_RUNS_PDF_FILE_ID;
}

/* The run's stored files read back from the file store, with the names and
 * types their files rows keep. */
static int stored(ob_ctx *ctx, const ob_row *run, ob_smtp_file f[ATTACHMENTS], ob_err *err)
{
    const ob_file_store *files = ob_api_file_store();
    if (!files) return ob_err_set(err, OB_E_UNAVAILABLE, "this process has no file store");
    memset(f, 0, ATTACHMENTS * sizeof *f);
    for (int k = 0; k < ATTACHMENTS; k++) {
        const char *id = ob_row_text(run, file_col(k));
        if (!id) continue;
        ob_row *file;
        if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_FILES), id, &file, err) != 0) return -1;
        int fd;
        int64_t size;
        if (files->open(files, ctx->arena, ctx->tenant->slug, ob_row_text(file, FILES_STORAGE_KEY), &fd, &size, err) != 0)
            return -1;
        f[k].name = ob_row_text(file, FILES_FILE_NAME);
        f[k].mime = ob_row_text(file, FILES_MIME_TYPE);
        if (slurp(ctx, fd, size, &f[k], err) != 0) return -1;
    }
    return 0;
}

int ob_report_mail_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    ob_row *log, *run, *report;
    if (load_log(ctx, job, &log, err) != 0) return -1;
    const char *status = ob_row_text(log, NOTIFICATION_LOGS_STATUS);
    if (strcmp(status, "pending") != 0) { /* sent by an earlier run: at least once, not twice */
        ob_sb_addf(result, "{\"status\":\"%s\"}", status);
        return 0;
    }
    if (load_run(ctx, log, &run, &report, err) != 0) return -1;
    /* the files stored with the run; a run from before they were kept is rendered here */
    const char *fs = ob_row_text(run, REPORT_RUNS_FILES_STATUS);
    ob_smtp_file f[ATTACHMENTS];
    if ((fs && !strcmp(fs, "stored") ? stored(ctx, run, f, err) : render(ctx, run, report, f, err)) != 0) return -1;
    int n = 0;
    for (int k = 0; k < ATTACHMENTS; k++)
        if (f[k].data) f[n++] = f[k];
    const char *subject = ob_row_text(log, NOTIFICATION_LOGS_SUBJECT);
    if (ob_smtp_send_files(ob_row_text(log, NOTIFICATION_LOGS_RECIPIENT), subject ? subject : "",
                           ob_row_text(log, NOTIFICATION_LOGS_BODY), f, n, err) != 0)
        return -1;
    ob_sb_addf(result, "{\"status\":\"sent\",\"attachments\":%d}", n);
    return 0;
}

/* A failed attempt at the run's files or message, logged on the run: its
 * attempts counted and error_message the latest reason. After the job's
 * last attempt the run is failed (and its files too when they were never
 * written); before it, 1: the job system retries after its back-off. */
static int log_failure(ob_ctx *ctx, const ob_row *job, const char *run_id, const char *what, const ob_err *rerr,
                       bool files, ob_err *err)
{
    int64_t attempt = ob_row_int(job, JOBS_ATTEMPTS, 0), max = ob_row_int(job, JOBS_MAX_ATTEMPTS, 5);
    bool last = attempt >= max;
    const char *why = ob_arena_printf(ctx->arena, "%s, attempt %lld of %lld%s: %.1000s", what, (long long)attempt,
                                      (long long)max, last ? ", given up" : "", rerr->message);
    ob_value v[] = {ob_v_text(why), ob_v_text(run_id)};
    const char *sql = !last ? "UPDATE report_runs SET attempts = attempts + 1, error_message = ? WHERE id = ?"
                      : files ? "UPDATE report_runs SET attempts = attempts + 1, error_message = ?, status = 'failed', "
                                "files_status = 'failed' WHERE id = ?"
                              : "UPDATE report_runs SET attempts = attempts + 1, error_message = ?, status = 'failed' "
                                "WHERE id = ?";
    if (ob_sql_run(ctx->db, sql, v, 2, err) != 0) return -1;
    return last ? 0 : 1;
}

/* The message's status is the server's, set in the transaction that
 * completes the job, as notify.send sets it. */
static int set_status(ob_ctx *ctx, const char *id, const char *status, const char *error, ob_err *err)
{
    ob_value v[4] = {ob_v_text(status), status[0] == 's' ? ob_v_text(ctx->now) : ob_v_null(),
                     error ? ob_v_text(error) : ob_v_null(), ob_v_text(id)};
    return ob_sql_run(ctx->db,
                      "UPDATE notification_logs SET status = ?, sent_at = ?, error_message = ? "
                      "WHERE id = ? AND status = 'pending'",
                      v, 4, err);
}

int ob_report_mail_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err)
{
    ob_row *log, *run, *report;
    if (load_log(ctx, job, &log, err) != 0) return -1;
    if (rc == 0) return set_status(ctx, ob_row_id(log), "sent", NULL, err);
    if (load_run(ctx, log, &run, &report, err) != 0) return -1;
    const char *what = ob_arena_printf(ctx->arena, "mail to %s", ob_row_text(log, NOTIFICATION_LOGS_RECIPIENT));
    int logged = log_failure(ctx, job, ob_row_id(run), what, rerr, false, err);
    if (logged != 0) return logged; /* retried after its back-off; the message stays pending */
    ob_sb_reset(result);
    ob_sb_adds(result, "{\"status\":\"failed\"}");
    return set_status(ctx, ob_row_id(log), "failed", rerr->message, err);
}

/* Bytes into a new spool file, then into the tenant's file store. */
static int store_bytes(ob_ctx *ctx, const ob_file_store *files, const ob_smtp_file *f, const char *ext,
                       json_t *out, ob_err *err)
{
    const char *path = ob_file_spool_name(files, ctx->arena, ext);
    FILE *fp = fopen(path, "wbx");
    if (!fp) return ob_err_set(err, OB_E_UNAVAILABLE, "the report's file could not be written");
    bool ok = fwrite(f->data, 1, f->len, fp) == f->len;
    if (fclose(fp) != 0 || !ok) {
        unlink(path);
        return ob_err_set(err, OB_E_UNAVAILABLE, "the report's file could not be written");
    }
    const char *sha, *key;
    int64_t size;
    if (ob_file_store_add(files, ctx->arena, ctx->tenant->slug, path, &sha, &size, &key, err) != 0) return -1;
    json_object_set_new(out, "name", json_string(f->name));
    json_object_set_new(out, "mime", json_string(f->mime));
    json_object_set_new(out, "sha256", json_string(sha));
    json_object_set_new(out, "size", json_integer(size));
    json_object_set_new(out, "key", json_string(key));
    return 0;
}

/* reports.render {"report_run_id"}: on a reader, the files written and put
 * into the store (content-addressed, so a retry stores nothing twice);
 * result {"files": [{k, name, mime, sha256, size, key}]} for the settle. */
int ob_report_render_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    static const char *const ext[ATTACHMENTS] = {".csv", ".xlsx", ".pdf"};
    const ob_file_store *files = ob_api_file_store();
    if (!files) return ob_err_set(err, OB_E_UNAVAILABLE, "this process has no file store");
    ob_row *run, *report;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_REPORT_RUNS), payload_text(ctx, job, "report_run_id"),
                             &run, err) != 0)
        return -1;
    const char *fs = ob_row_text(run, REPORT_RUNS_FILES_STATUS);
    if (!fs || strcmp(fs, "pending") != 0) return 0; /* done by an earlier attempt: the settle skips it */
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_CUSTOM_REPORTS), ob_row_text(run, REPORT_RUNS_REPORT_ID),
                             &report, err) != 0)
        return -1;
    ob_smtp_file f[ATTACHMENTS];
    if (render(ctx, run, report, f, err) != 0) return -1;
    json_t *doc = json_object(), *arr = json_array();
    json_object_set_new(doc, "files", arr);
    int rc = 0;
    for (int k = 0; rc == 0 && k < ATTACHMENTS; k++) {
        if (!f[k].data) continue;
        json_t *o = json_pack("{s:i}", "k", k);
        json_array_append_new(arr, o);
        rc = store_bytes(ctx, files, &f[k], ext[k], o, err);
    }
    char *text = rc == 0 ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (text) ob_sb_adds(result, text);
    free(text);
    json_decref(doc);
    return rc;
}

/* One files row for a stored file, as an upload would make (no uploader:
 * the server wrote it); its id. */
static int file_row(ob_ctx *ctx, json_t *o, const char **id, ob_err *err)
{
    ob_row *row = ob_row_with_defaults(ctx, OB_TABLE_FILES);
    ob_row_set_text(ctx->arena, row, FILES_FILE_NAME, json_string_value(json_object_get(o, "name")));
    ob_row_set_text(ctx->arena, row, FILES_MIME_TYPE, json_string_value(json_object_get(o, "mime")));
    ob_row_set_int(row, FILES_FILE_SIZE, (int64_t)json_integer_value(json_object_get(o, "size")));
    ob_row_set_text(ctx->arena, row, FILES_SHA256, json_string_value(json_object_get(o, "sha256")));
    ob_row_set_text(ctx->arena, row, FILES_STORAGE_KEY, json_string_value(json_object_get(o, "key")));
    ob_row_set_text(ctx->arena, row, FILES_PURPOSE, "report");
    if (ob_crud_insert_row(ctx, row, err) != 0) return -1;
    *id = ob_row_id(row);
    return 0;
}

int ob_report_render_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err)
{
    const char *run_id = payload_text(ctx, job, "report_run_id");
    ob_row *run;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_REPORT_RUNS), run_id, &run, err) != 0) return -1;
    const char *fs = ob_row_text(run, REPORT_RUNS_FILES_STATUS);
    if (!fs || strcmp(fs, "pending") != 0) return 0; /* settled by an earlier attempt */
    if (rc != 0) {
        int logged = log_failure(ctx, job, run_id, "render", rerr, true, err);
        if (logged == 0) {
            ob_sb_reset(result);
            ob_sb_adds(result, "{\"status\":\"failed\"}");
        }
        return logged;
    }
    json_t *doc = json_loads(result->len ? result->buf : "{}", 0, NULL), *o;
    const char *ids[ATTACHMENTS] = {NULL, NULL, NULL};
    size_t i;
    int src = 0;
    json_array_foreach(json_object_get(doc, "files"), i, o) {
        int k = (int)json_integer_value(json_object_get(o, "k"));
        if (src == 0 && k >= 0 && k < ATTACHMENTS) src = file_row(ctx, o, &ids[k], err);
    }
    json_decref(doc);
    if (src != 0) return -1;
    ob_value v[] = {ob_v_text(ids[0]), ob_v_text(ids[1]), ob_v_text(ids[2]), ob_v_text(run_id)};
    if (ob_sql_run(ctx->db,
                   "UPDATE report_runs SET files_status = 'stored', csv_file_id = ?, xlsx_file_id = ?, pdf_file_id = ? "
                   "WHERE id = ?",
                   v, 4, err) != 0)
        return -1;
    /* the messages are the analytics area's: its job queues them */
    return ob_job_enqueue(ctx, "reports.deliver", ob_arena_printf(ctx->arena, "{\"report_run_id\":\"%s\"}", run_id),
                          5, err);
}
