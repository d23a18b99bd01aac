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

static int load_log(ob_ctx *ctx, const ob_row *job, ob_row **out, ob_err *err)
{
    json_t *pl = json_loads(ob_row_text(job, JOBS_PAYLOAD) ? ob_row_text(job, JOBS_PAYLOAD) : "{}", 0, NULL);
    const char *id = ob_arena_strdup(ctx->arena, json_string_value(json_object_get(pl, "log_id")) ?
                                                     json_string_value(json_object_get(pl, "log_id")) : "");
    json_decref(pl);
    return ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_NOTIFICATION_LOGS), id, out, err);
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

int ob_report_mail_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    const ob_file_store *files = ob_api_file_store();
    if (!files) return ob_err_set(err, OB_E_UNAVAILABLE, "this process has no file store");
    ob_row *log, *run, *report;
    if (load_log(ctx, job, &log, err) != 0) return -1;
    const char *status = ob_row_text(log, NOTIFICATION_LOGS_STATUS);
    if (strcmp(status, "pending") != 0) { /* sent by an earlier run: at least once, not twice */
        ob_sb_addf(result, "{\"status\":\"%s\"}", status);
        return 0;
    }
    if (load_run(ctx, log, &run, &report, err) != 0) return -1;
    table_out t = {0};
    if (table_of(ctx, ob_row_text(run, REPORT_RUNS_RESULT), &t, err) != 0) return -1;
    const char *name = ob_row_text(report, CUSTOM_REPORTS_NAME), *base = base_name(ctx, name);
    const char *spool = ob_arena_printf(ctx->arena, "%s/spool", files->root);
    bool want[ATTACHMENTS];
    wanted(report, want);
    ob_smtp_file f[ATTACHMENTS];
    int n = 0, rc = 0;
    if (want[0]) {
        ob_sb csv;
        ob_sb_init_arena(&csv, ctx->arena, 1024);
        write_csv(&t, &csv);
        f[n++] = (ob_smtp_file){ob_arena_printf(ctx->arena, "%s.csv", base), ob_export_mime("csv"), csv.buf, csv.len};
    }
    if (want[1]) {
        f[n] = (ob_smtp_file){ob_arena_printf(ctx->arena, "%s.xlsx", base), ob_export_mime("xlsx"), NULL, 0};
        rc = write_xlsx(ctx, &t, spool, &f[n++], err);
    }
    if (rc == 0 && want[2]) {
        f[n] = (ob_smtp_file){ob_arena_printf(ctx->arena, "%s.pdf", base), ob_export_mime("pdf"), NULL, 0};
        rc = write_pdf(ctx, &t, name, ob_row_text(run, REPORT_RUNS_FINISHED_AT), spool, &f[n++], err);
    }
    json_decref(t.rows);
    if (rc != 0) return -1;
    const char *subject = ob_row_text(log, NOTIFICATION_LOGS_SUBJECT);
    if (ob_smtp_send_files(ob_row_text(log, NOTIFICATION_LOGS_RECIPIENT), subject ? subject : "",
                           ob_row_text(log, NOTIFICATION_LOGS_BODY), f, n, err) != 0)
        return -1;
    ob_sb_addf(result, "{\"status\":\"sent\",\"attachments\":%d}", n);
    return 0;
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
    ob_row *log;
    if (load_log(ctx, job, &log, err) != 0) return -1;
    if (rc == 0) return set_status(ctx, ob_row_id(log), "sent", NULL, err);
    if (ob_row_int(job, JOBS_ATTEMPTS, 0) < ob_row_int(job, JOBS_MAX_ATTEMPTS, 5)) {
        *err = *rerr; /* retried after its back-off; the message stays pending */
        return -1;
    }
    ob_sb_reset(result);
    ob_sb_adds(result, "{\"status\":\"failed\"}");
    return set_status(ctx, ob_row_id(log), "failed", rerr->message, err);
}
