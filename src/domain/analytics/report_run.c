/* report_run.c - custom reports: report_config checked on save, and the run
 * (POST /api/v1/custom_reports/{id}/run) that aggregates its source table
 * into a report_runs row.
 *
 * report_config = {
 *   "source":   a table the caller may read (its view permission),
 *   "filters":  {column: value, ...}  equality, at most 10; text, enum,
 *               reference and date columns take a string, integers a whole
 *               number, booleans true/false, decimals a string ("12.50"),
 *   "group_by": [column, ...]         at most 3,
 *   "measures": [{"fn": "sum"|"avg"|"count", "column": c}, ...]  1 to 10;
 *               sum and avg of integer or decimal columns, count of rows
 *               (no column) or of a column's non-null values
 * }
 * Columns are the source's, neither secret nor masked. Sums are exact; an
 * average is the sum over the count, half up at the column's scale. Groups
 * come in the order of their keys, at most 1000.
 * The job kind reports.scheduled runs the scheduled ones whose slot has come
 * (as the system: the config was checked against its author on save); a
 * config that no longer holds is recorded as a failed run, and the report
 * is tried again at its next slot. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "base/jsonw.h"
#include "base/uuid.h"
#include "domain/analytics/analytics.h"
#include "domain/notify/notify.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"

#define MAX_FILTERS 10
#define MAX_GROUPS 3
#define MAX_MEASURES 10
#define MAX_RESULT_ROWS 1000

typedef struct measure {
    const char *fn;
    const ob_column *col; /* NULL: count of rows */
} measure;

typedef struct plan {
    const ob_table *t;
    const ob_column *filter_cols[MAX_FILTERS];
    ob_value filter_vals[MAX_FILTERS];
    int nfilters;
    const ob_column *groups[MAX_GROUPS];
    int ngroups;
    measure measures[MAX_MEASURES];
    int nmeasures;
} plan;

static int bad(ob_err *err, ob_arena *a, const char *fmt, const char *part)
{
    ob_err_set(err, OB_E_VALIDATION, NULL);
    return ob_err_field_add(err, CUSTOM_REPORTS_REPORT_CONFIG.name, ob_arena_printf(a, fmt, part));
}

static const ob_column *column_of(const ob_table *t, const char *name)
{
    for (int i = 0; name && i < t->ncols; i++)
        if (!strcmp(t->cols[i]->name, name)) {
            const ob_column *c = t->cols[i];
            return (c->flags & (OB_SECRET | OB_MASKED)) ? NULL : c;
        }
    return NULL;
}

static bool numeric(const ob_column *c)
{
    return c->type == OB_F_INT || c->type == OB_F_DECIMAL;
}

static const char *view_perm(ob_ctx *ctx, const ob_table *t)
{
    if (t->res->perm_view) return t->res->perm_view;
    return ob_arena_printf(ctx->arena, "%s.view", t->res->perm ? t->res->perm : t->name);
}

/* A filter's JSON value as the column's stored value; false when it does not fit. */
static bool filter_value(ob_ctx *ctx, const ob_column *c, json_t *v, ob_value *out)
{
    switch (c->type) {
    case OB_F_TEXT:
    case OB_F_REF:
    case OB_F_DATE:
    case OB_F_ENUM:
        if (!json_is_string(v)) return false;
        *out = ob_v_text(c->type == OB_F_ENUM ? ob_text_lower(ctx->arena, json_string_value(v),
                                                              strlen(json_string_value(v)), NULL)
                                              : ob_arena_strdup(ctx->arena, json_string_value(v)));
        return true;
    case OB_F_INT:
        if (!json_is_integer(v)) return false;
        *out = ob_v_int((int64_t)json_integer_value(v));
        return true;
    case OB_F_BOOL:
        if (!json_is_boolean(v)) return false;
        *out = ob_v_bool(json_is_true(v));
        return true;
    case OB_F_DECIMAL: {
        int64_t minor;
        if (!json_is_string(v) || ob_parse_decimal(json_string_value(v), c->scale, &minor) != 0) return false;
        *out = ob_v_dec(minor, c->scale);
        return true;
    }
    default:
        return false;
    }
}

/* Check cfg and resolve it against the registry, as the caller may read it. */
static int plan_of(ob_ctx *ctx, json_t *cfg, plan *p, ob_err *err)
{
    ob_arena *a = ctx->arena;
    memset(p, 0, sizeof *p);
    if (!json_is_object(cfg)) return bad(err, a, "must be an object%s", "");
    const char *key;
    json_t *v;
    json_object_foreach(cfg, key, v) if (strcmp(key, "source") && strcmp(key, "filters") && strcmp(key, "group_by") &&
                                         strcmp(key, "measures"))
        return bad(err, a, "%s: unknown part (source, filters, group_by, measures)", key);
    const char *source = json_string_value(json_object_get(cfg, "source"));
    p->t = source ? ob_registry_find(source) : NULL;
    if (!p->t || p->t->res->scope != OB_SCOPE_TENANT || (p->t->res->flags & OB_RES_NO_API))
        return bad(err, a, "%s: must name a table of the tenant", "source");
    if (!ob_ctx_can(ctx, view_perm(ctx, p->t)))
        return bad(err, a, "%s: names a table the caller may not read", "source");
    json_t *filters = json_object_get(cfg, "filters");
    if (filters && (!json_is_object(filters) || json_object_size(filters) > MAX_FILTERS))
        return bad(err, a, "%s: must be an object of at most 10 columns", "filters");
    json_object_foreach(filters, key, v) {
        const char *part = ob_arena_printf(a, "filters.%s", key);
        const ob_column *c = column_of(p->t, key);
        if (!c) return bad(err, a, "%s: not a column of the source the caller may read", part);
        if (!filter_value(ctx, c, v, &p->filter_vals[p->nfilters]))
            return bad(err, a, "%s: not a value of the column's type", part);
        p->filter_cols[p->nfilters++] = c;
    }
    json_t *groups = json_object_get(cfg, "group_by");
    if (groups && (!json_is_array(groups) || json_array_size(groups) > MAX_GROUPS))
        return bad(err, a, "%s: must be an array of at most 3 columns", "group_by");
    size_t i;
    json_array_foreach(groups, i, v) {
        const ob_column *c = column_of(p->t, json_string_value(v));
        /* kinds whose text form is the same on both engines */
        if (!c || !(c->type == OB_F_TEXT || c->type == OB_F_ENUM || c->type == OB_F_REF || c->type == OB_F_DATE ||
                    c->type == OB_F_INT))
            return bad(err, a, "%s: not a column of the source the caller may read",
                       ob_arena_printf(a, "group_by[%zu]", i));
        p->groups[p->ngroups++] = c;
    }
    json_t *ms = json_object_get(cfg, "measures");
    if (!json_is_array(ms) || json_array_size(ms) < 1 || json_array_size(ms) > MAX_MEASURES)
        return bad(err, a, "%s: must be an array of 1 to 10 measures", "measures");
    json_array_foreach(ms, i, v) {
        const char *part = ob_arena_printf(a, "measures[%zu]", i);
        const char *fn = json_string_value(json_object_get(v, "fn"));
        json_t *colj = json_object_get(v, "column");
        if (!json_is_object(v) || !fn || (strcmp(fn, "sum") && strcmp(fn, "avg") && strcmp(fn, "count")))
            return bad(err, a, "%s.fn: must be sum, avg or count", part);
        const ob_column *c = NULL;
        if (colj || strcmp(fn, "count") != 0) {
            c = column_of(p->t, json_string_value(colj));
            if (!c) return bad(err, a, "%s.column: not a column of the source the caller may read", part);
            if (strcmp(fn, "count") != 0 && !numeric(c))
                return bad(err, a, "%s.column: sum and avg take an integer or decimal column", part);
        }
        p->measures[p->nmeasures++] = (measure){ob_arena_strdup(a, fn), c};
    }
    return 0;
}

static int check_text(ob_ctx *ctx, const char *text, plan *p, ob_err *err)
{
    json_t *cfg = json_loads(text ? text : "null", JSON_DECODE_ANY, NULL);
    int rc = plan_of(ctx, cfg, p, err);
    json_decref(cfg);
    return rc;
}

int ob_report_check_config(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    plan p;
    return check_text(ctx, ob_row_text(row, CUSTOM_REPORTS_REPORT_CONFIG), &p, err);
}

/* A decimal aggregate: minor units on SQLite, numeric text on PostgreSQL. */
static int64_t dec_col(ob_stmt *st, int i, int scale)
{
    const char *text = ob_stmt_col_text(st, i, NULL);
    int64_t v = 0;
    if (text && strchr(text, '.')) ob_parse_decimal(text, scale, &v);
    else v = ob_stmt_col_i64(st, i);
    return v;
}

static void put_number(ob_jsonw *w, const ob_column *c, int64_t v)
{
    if (c->type == OB_F_INT) {
        ob_jw_i64(w, v);
        return;
    }
    char buf[48];
    ob_format_decimal(v, c->scale, buf, sizeof buf);
    ob_jw_str(w, buf);
}

/* Run the plan: {"columns": [...], "rows": [[...], ...]}; *n the rows. */
static int run_plan(ob_ctx *ctx, const plan *p, ob_sb *out, int64_t *n, ob_err *err)
{
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 512);
    ob_sb_addf(&sql, "SELECT ");
    for (int i = 0; i < p->ngroups; i++) ob_sb_addf(&sql, "CAST(\"%s\" AS TEXT), ", p->groups[i]->name);
    for (int i = 0; i < p->nmeasures; i++) {
        const measure *m = &p->measures[i];
        if (!m->col) ob_sb_addf(&sql, "COUNT(*)");
        else if (!strcmp(m->fn, "count")) ob_sb_addf(&sql, "COUNT(\"%s\")", m->col->name);
        else ob_sb_addf(&sql, "COALESCE(SUM(\"%s\"), 0), COUNT(\"%s\")", m->col->name, m->col->name);
        ob_sb_addf(&sql, "%s", i + 1 < p->nmeasures ? ", " : "");
    }
    ob_sb_addf(&sql, " FROM \"%s\" WHERE 1 = 1", p->t->name);
    if (p->t->deleted_col >= 0) ob_sb_addf(&sql, " AND \"deleted_at\" IS NULL");
    for (int i = 0; i < p->nfilters; i++) ob_sb_addf(&sql, " AND \"%s\" = ?", p->filter_cols[i]->name);
    if (p->ngroups) {
        ob_sb_addf(&sql, " GROUP BY ");
        for (int i = 0; i < p->ngroups; i++) ob_sb_addf(&sql, "%s%d", i ? ", " : "", i + 1);
        ob_sb_addf(&sql, " ORDER BY ");
        for (int i = 0; i < p->ngroups; i++) ob_sb_addf(&sql, "%s%d", i ? ", " : "", i + 1);
    }
    ob_sb_addf(&sql, " LIMIT %d", MAX_RESULT_ROWS);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
    for (int i = 0; i < p->nfilters; i++)
        if (ob_sql_bind_value(st, i + 1, &p->filter_vals[i], err) != 0) {
            ob_stmt_done(st);
            return -1;
        }
    ob_jsonw w;
    ob_jw_init(&w, out);
    ob_jw_obj_open(&w);
    ob_jw_key(&w, "columns");
    ob_jw_arr_open(&w);
    for (int i = 0; i < p->ngroups; i++) ob_jw_str(&w, p->groups[i]->name);
    for (int i = 0; i < p->nmeasures; i++)
        ob_jw_str(&w, ob_arena_printf(ctx->arena, "%s_%s", p->measures[i].fn,
                                      p->measures[i].col ? p->measures[i].col->name : "rows"));
    ob_jw_arr_close(&w);
    ob_jw_key(&w, "rows");
    ob_jw_arr_open(&w);
    int rc;
    *n = 0;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        ob_jw_arr_open(&w);
        int k = 0;
        for (; k < p->ngroups; k++) ob_jw_str(&w, ob_stmt_col_text(st, k, NULL));
        for (int i = 0; i < p->nmeasures; i++) {
            const measure *m = &p->measures[i];
            if (!m->col || !strcmp(m->fn, "count")) {
                ob_jw_i64(&w, ob_stmt_col_i64(st, k++));
                continue;
            }
            int scale = m->col->type == OB_F_DECIMAL ? m->col->scale : 0;
            int64_t sum = dec_col(st, k, scale), cnt = ob_stmt_col_i64(st, k + 1);
            k += 2;
            if (!strcmp(m->fn, "sum")) {
                put_number(&w, m->col, sum);
            } else if (cnt == 0) {
                ob_jw_null(&w);
            } else {
                /* half away from zero at the column's scale (an integer column: 0 places) */
                __int128 q = ((__int128)(sum < 0 ? -sum : sum) * 2 + cnt) / (2 * cnt);
                int64_t avg = sum < 0 ? -(int64_t)q : (int64_t)q;
                put_number(&w, m->col, avg);
            }
        }
        ob_jw_arr_close(&w);
        (*n)++;
    }
    ob_stmt_done(st);
    ob_jw_arr_close(&w);
    ob_jw_obj_close(&w);
    return rc < 0 ? -1 : 0;
}

#define MAIL_TEMPLATE "report.delivered"

/* The result as text lines: the column names, then one line per group,
 * values separated by ", ". */
static const char *result_text(ob_ctx *ctx, const char *json)
{
    json_t *doc = json_loads(json ? json : "{}", 0, NULL), *row, *v;
    ob_sb out;
    ob_sb_init_arena(&out, ctx->arena, 512);
    size_t i, k;
    json_array_foreach(json_object_get(doc, "columns"), k, v) ob_sb_addf(&out, "%s%s", k ? ", " : "", json_string_value(v));
    json_array_foreach(json_object_get(doc, "rows"), i, row) {
        ob_sb_addf(&out, "\n");
        json_array_foreach(row, k, v) {
            char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
            ob_sb_addf(&out, "%s%s", k ? ", " : "", s ? s : json_string_value(v));
            free(s);
        }
    }
    json_decref(doc);
    return out.buf;
}

/* The API's job that sends a run's message with the result as CSV, XLSX and
 * PDF attachments (api/report_mail.c); a process without it (a bare
 * `opsbase worker`) sends the text alone through notify.send. */
#define MAIL_SENDER "reports.mail"
/* The API's job that writes a run's files into the file store. Its
 * attempts: the first and three retries after the job system's back-off
 * (doubling from its base, a second by default): minutes at most, so a
 * failed run is retried long before its report's next slot. */
#define RENDERER "reports.render"
#define RENDER_ATTEMPTS 4

/* Queue the run's e-mail to each of the report's email_recipients with the
 * tenant's notification template report.delivered (variables report_name,
 * finished_at, row_count, result), each message naming the run in its
 * metadata ({"report_run_id"}). *problem: why nothing was sent, or NULL. */
static int mail_run(ob_ctx *ctx, const ob_row *r, const ob_row *run, const char **problem, ob_err *err)
{
    *problem = NULL;
    const char *text = ob_row_text(r, CUSTOM_REPORTS_EMAIL_RECIPIENTS);
    json_t *to = json_loads(text ? text : "[]", JSON_DECODE_ANY, NULL);
    if (!json_is_array(to) || json_array_size(to) == 0) {
        json_decref(to);
        return 0;
    }
    json_t *vars = json_pack("{s:s, s:s, s:I, s:s}", "report_name", ob_row_text(r, CUSTOM_REPORTS_NAME), "finished_at",
                             ob_row_text(run, REPORT_RUNS_FINISHED_AT), "row_count",
                             (json_int_t)ob_row_int(run, REPORT_RUNS_ROW_COUNT, 0), "result",
                             result_text(ctx, ob_row_text(run, REPORT_RUNS_RESULT)));
    const char *meta = ob_arena_printf(ctx->arena, "{\"report_run_id\":\"%s\"}", ob_row_id(run));
    const char *sender = ob_jobs_kind(MAIL_SENDER) ? MAIL_SENDER : NULL;
    size_t i;
    json_t *a;
    int rc = 0;
    json_array_foreach(to, i, a) {
        if (!json_is_string(a)) continue;
        ob_err nerr;
        if (ob_notify_vars_by(ctx, MAIL_TEMPLATE, json_string_value(a), vars, "custom_reports", ob_row_id(r), meta,
                              sender, NULL, &nerr) == 0)
            continue;
        if (nerr.code != OB_E_UNPROCESSABLE) {
            *err = nerr;
            rc = -1;
        } else {
            *problem = ob_arena_printf(ctx->arena, "not e-mailed: %s", nerr.message);
        }
        break;
    }
    json_decref(vars);
    json_decref(to);
    return rc;
}

/* Run a report as ctx->who into a new report_runs row (*out). */
static int run_report(ob_ctx *ctx, const ob_row *report, const char *trigger, ob_row **out, ob_err *err)
{
    plan p;
    /* checked again as the runner: the source or a column may have become unreadable */
    if (check_text(ctx, ob_row_text(report, CUSTOM_REPORTS_REPORT_CONFIG), &p, err) != 0) {
        err->code = OB_E_UNPROCESSABLE;
        return -1;
    }
    ob_sb result;
    ob_sb_init_arena(&result, ctx->arena, 1024);
    int64_t n = 0;
    if (run_plan(ctx, &p, &result, &n, err) != 0) return -1;
    ob_row *run = ob_row_with_defaults(ctx, OB_TABLE_REPORT_RUNS);
    char id[OB_UUID_LEN]; /* known before the insert: the run's messages name it */
    ob_uuid7(id);
    ob_row_set_text(ctx->arena, run, REPORT_RUNS_ID, id);
    ob_row_set_text(ctx->arena, run, REPORT_RUNS_REPORT_ID, ob_row_id(report));
    ob_row_set_text(ctx->arena, run, REPORT_RUNS_TRIGGER, trigger);
    ob_row_set_text(ctx->arena, run, REPORT_RUNS_STATUS, "done");
    ob_row_set_int(run, REPORT_RUNS_ROW_COUNT, n);
    ob_row_set_text(ctx->arena, run, REPORT_RUNS_RESULT, result.buf);
    if (ctx->who && ctx->who->user_id) ob_row_set_text(ctx->arena, run, REPORT_RUNS_REQUESTED_BY, ctx->who->user_id);
    ob_row_set_text(ctx->arena, run, REPORT_RUNS_FINISHED_AT, ctx->now);
    if (ob_jobs_kind(RENDERER)) {
        /* the files are written and stored by the renderer, which then mails them */
        ob_row_set_text(ctx->arena, run, REPORT_RUNS_FILES_STATUS, "pending");
        if (ob_crud_insert_row(ctx, run, err) != 0) return -1;
        const char *payload = ob_arena_printf(ctx->arena, "{\"report_run_id\":\"%s\"}", id);
        if (ob_job_enqueue(ctx, RENDERER, payload, RENDER_ATTEMPTS, err) != 0) return -1;
        *out = run;
        return 0;
    }
    /* a scheduled run is mailed; why it could not be is kept on the run */
    const char *problem = NULL;
    if (!strcmp(trigger, "schedule") && mail_run(ctx, report, run, &problem, err) != 0) return -1;
    if (problem) ob_row_set_text(ctx->arena, run, REPORT_RUNS_ERROR_MESSAGE, problem);
    if (ob_crud_insert_row(ctx, run, err) != 0) return -1;
    *out = run;
    return 0;
}

int ob_reports_deliver_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    (void)result;
    json_t *pl = json_loads(ob_row_text(job, JOBS_PAYLOAD) ? ob_row_text(job, JOBS_PAYLOAD) : "{}", 0, NULL);
    const char *run_id = ob_arena_strdup(ctx->arena, json_string_value(json_object_get(pl, "report_run_id")) ?
                                                         json_string_value(json_object_get(pl, "report_run_id")) : "");
    json_decref(pl);
    ob_row *run, *report;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_REPORT_RUNS), run_id, &run, err) != 0 ||
        ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_CUSTOM_REPORTS), ob_row_text(run, REPORT_RUNS_REPORT_ID),
                             &report, err) != 0)
        return -1;
    if (strcmp(ob_row_text(run, REPORT_RUNS_TRIGGER), "schedule") != 0) return 0;
    const char *problem = NULL;
    if (mail_run(ctx, report, run, &problem, err) != 0) return -1;
    if (!problem) return 0;
    ob_value v[] = {ob_v_text(problem), ob_v_text(run_id)};
    return ob_sql_run(ctx->db, "UPDATE report_runs SET error_message = ? WHERE id = ?", v, 2, err);
}

OB_ACTION_FN(ob_custom_report_run)
{
    (void)row;
    ob_row *run;
    if (run_report(ctx, old, "manual", &run, err) != 0) return -1;
    ctx->reply = run;
    return 0;
}

/* The cron spec of a report's schedule: at schedule_time (00:00 when
 * unset) every day, on schedule_days of a weekly one (Monday when none),
 * on the 1st of a monthly one. */
static const char *cron_of(ob_ctx *ctx, const ob_row *r)
{
    static const char *const days[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
    const char *t = ob_row_text(r, CUSTOM_REPORTS_SCHEDULE_TIME), *freq = ob_row_text(r, CUSTOM_REPORTS_SCHEDULE_FREQUENCY);
    int hh = 0, mm = 0;
    if (t && strlen(t) >= 5) hh = (t[0] - '0') * 10 + (t[1] - '0'), mm = (t[3] - '0') * 10 + (t[4] - '0');
    if (freq && !strcmp(freq, "monthly")) return ob_arena_printf(ctx->arena, "%d %d 1 * *", mm, hh);
    if (!freq || strcmp(freq, "weekly") != 0) return ob_arena_printf(ctx->arena, "%d %d * * *", mm, hh);
    char list[32] = "";
    const char *text = ob_row_text(r, CUSTOM_REPORTS_SCHEDULE_DAYS);
    json_t *arr = json_loads(text ? text : "[]", JSON_DECODE_ANY, NULL), *d;
    size_t i;
    json_array_foreach(arr, i, d) for (int k = 0; k < 7; k++) {
        const char *s = json_string_value(d);
        if (s && !strcasecmp(s, days[k]) && !strchr(list, '0' + k) && strlen(list) < sizeof list - 3)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", *list ? "," : "", k);
    }
    json_decref(arr);
    return ob_arena_printf(ctx->arena, "%d %d * * %s", mm, hh, *list ? list : "1");
}

/* When the report last ran on its schedule, else when it was made (ms). */
static int last_slot_from(ob_ctx *ctx, const ob_row *r, int64_t *ms, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_REPORT_RUNS);
    ob_stmt *st;
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"report_runs\" WHERE \"report_id\" = ? AND \"trigger\" = "
                                      "'schedule' ORDER BY \"finished_at\" DESC LIMIT 1",
                                      ob_sql_cols(t));
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, ob_row_id(r), err);
    int rc = ob_stmt_step(st, err);
    const char *from = ob_row_text(r, CUSTOM_REPORTS_CREATED_AT);
    if (rc == 1) {
        ob_row *run = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, run, st);
        from = ob_row_text(run, REPORT_RUNS_FINISHED_AT);
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (!from || ob_ts_parse(from, ms) != 0) return ob_err_set(err, OB_E_INTERNAL, "unreadable time of a report");
    return 0;
}

int ob_reports_scheduled_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    (void)job;
    const ob_table *t = ob_registry_find(OB_TABLE_CUSTOM_REPORTS);
    const ob_tz *z;
    if (ob_jobs_tenant_zone(ctx->store, ctx->tenant->slug, &z, err) != 0) return -1;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\" FROM \"custom_reports\" WHERE \"is_scheduled\" AND \"is_active\" ORDER BY \"id\"",
                      &st, err) != 0)
        return -1;
    const char **ids;
    size_t n;
    if (ob_sql_texts(ctx, st, &ids, &n, err) != 0) return -1;
    int ran = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        ob_row *r, *run;
        int64_t from;
        char next[OB_TS_LEN];
        int64_t next_ms;
        if (ob_sql_load_internal(ctx, t, ids[i], &r, err) != 0 || last_slot_from(ctx, r, &from, err) != 0) return -1;
        if (ob_schedule_next(z, cron_of(ctx, r), from, next, err) != 0) return -1;
        if (ob_ts_parse(next, &next_ms) != 0 || next_ms > ctx->now_ms) continue; /* not due */
        /* one run per due slot, however many slots were missed */
        ob_err rerr;
        if (run_report(ctx, r, "schedule", &run, &rerr) == 0) {
            ran++;
            continue;
        }
        if (rerr.code != OB_E_UNPROCESSABLE && rerr.code != OB_E_VALIDATION) {
            *err = rerr;
            return -1;
        }
        /* a config that no longer holds: the failure is the run's record */
        failed++;
        run = ob_row_with_defaults(ctx, OB_TABLE_REPORT_RUNS);
        ob_row_set_text(ctx->arena, run, REPORT_RUNS_REPORT_ID, ob_row_id(r));
        ob_row_set_text(ctx->arena, run, REPORT_RUNS_TRIGGER, "schedule");
        ob_row_set_text(ctx->arena, run, REPORT_RUNS_STATUS, "failed");
        ob_row_set_text(ctx->arena, run, REPORT_RUNS_ERROR_MESSAGE,
                        ob_arena_printf(ctx->arena, "report_config: %s",
                                        rerr.nfields ? rerr.fields[0].problem : rerr.message));
        ob_row_set_text(ctx->arena, run, REPORT_RUNS_FINISHED_AT, ctx->now);
        if (ob_crud_insert_row(ctx, run, err) != 0) return -1;
    }
    ob_sb_addf(result, "{\"ran\":%d,\"failed\":%d}", ran, failed);
    return 0;
}
