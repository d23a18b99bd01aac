/* report_crm.c - the gold shop's customer views (issue #16):
 *
 * GET /api/v1/customers/{id}/timeline?limit=&cursor=&order=desc|asc: the
 * customer's invoices, payments, communications, documents and tickets as
 * one list in time order (newest first unless order=asc), ties by kind and
 * id. The customer is read with the caller's scope (another customer's or
 * another tenant's id is 404); each kind is shown only to a caller who may
 * view its table, and a customer user never sees internal notes.
 *
 * GET /api/v1/reports/follow_ups?due=today|overdue: communications whose
 * follow-up is required and not cancelled, due today in the tenant's time
 * zone (company_settings.timezone) or before now.
 *
 * GET /api/v1/reports/occasions?month=M: birthdays, anniversaries and the
 * other dates of customer_preferences.special_occasions falling in month M
 * (1-12), by day of the month. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/base.h"
#include "base/clock.h"
#include "base/jsonw.h"
#include "jobs/tz.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* A page of the timeline holds at most this many entries. */
#define TIMELINE_MAX 100
/* Offsets beyond this are refused: a timeline is read a page at a time. */
#define OFFSET_MAX 100000
/* Rows a follow-up or occasion report lists. */
#define REPORT_MAX 1000

static void refuse(ob_resp *resp, const char *msg)
{
    ob_err err;
    ob_err_set(&err, OB_E_BAD_QUERY, "%s", msg);
    ob_resp_error(resp, &err);
}

static bool int_in(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    if (!s || !*s) return false;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* A stored time as RFC 3339 UTC whatever the engine gave. */
static void kts(ob_jsonw *w, const char *key, const char *stored)
{
    int64_t ms;
    if (!stored || ob_ts_parse(stored, &ms) != 0) {
        ob_jw_kstr(w, key, stored);
        return;
    }
    char out[OB_TS_LEN];
    ob_ts_format(ms, out);
    ob_jw_kstr(w, key, out);
}

/* One SELECT of the union per kind the caller may see. */
typedef struct kind {
    const char *perm, *sql;
} kind;

static const kind kinds[] = {
    {"finance.view", "SELECT 'invoice' AS k, \"id\", \"created_at\" AS at, \"invoice_number\" AS title, "
                     "CAST(\"status\" AS TEXT) AS st FROM \"invoices\" WHERE \"customer_id\" = ?"},
    {"payments.view", "SELECT 'payment' AS k, \"id\", COALESCE(\"payment_date\", \"created_at\") AS at, "
                      "COALESCE(\"description\", \"payment_method\", 'payment') AS title, "
                      "CAST(\"payment_status\" AS TEXT) AS st "
                      "FROM \"payments\" WHERE \"customer_id\" = ?"},
    {"crm.view", "SELECT 'communication' AS k, \"id\", \"communication_date\" AS at, COALESCE(\"subject\", "
                 "CAST(\"communication_type\" AS TEXT)) AS title, CAST(\"status\" AS TEXT) AS st FROM \"customer_communication_history\" "
                 "WHERE \"customer_id\" = ?%s"},
    {"crm.view", "SELECT 'document' AS k, \"id\", \"created_at\" AS at, \"document_name\" AS title, "
                 "\"document_type\" AS st "
                 "FROM \"customer_documents\" WHERE \"customer_id\" = ?"},
    {"tickets.view", "SELECT 'ticket' AS k, \"id\", \"created_at\" AS at, \"title\", CAST(\"status\" AS TEXT) AS st "
                     "FROM \"tickets\" "
                     "WHERE \"customer_id\" = ?"},
};

void ob_api_customer_timeline(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    long limit = 50, offset = 0;
    bool asc = false;
    for (int i = 0; i < req->nquery; i++) {
        const ob_kv *q = &req->query[i];
        if (!strcmp(q->key, "limit")) {
            if (!int_in(q->val, 1, TIMELINE_MAX, &limit)) { refuse(resp, "limit is 1 to 100"); return; }
        } else if (!strcmp(q->key, "cursor")) {
            if (!int_in(q->val, 0, OFFSET_MAX, &offset)) { refuse(resp, "cursor is a next_cursor of this list"); return; }
        } else if (!strcmp(q->key, "order")) {
            if (!q->val || (strcmp(q->val, "asc") && strcmp(q->val, "desc")))
                { refuse(resp, "order is asc or desc"); return; }
            asc = !strcmp(q->val, "asc");
        } else {
            { refuse(resp, "unknown parameter: the timeline takes limit, cursor and order"); return; }
        }
    }
    ob_err err;
    ob_row *cust;
    if (ob_crud_get(ctx, ob_registry_find(OB_TABLE_CUSTOMERS), call->id, &cust, &err) != 0) {
        ob_resp_error(resp, &err);
        return;
    }
    bool confined = ob_ctx_confined(ctx);
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 2048);
    int parts = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (!ob_ctx_can(ctx, kinds[i].perm)) continue;
        ob_sb_adds(&sql, parts++ ? " UNION ALL " : "SELECT k, id, at, title, st FROM (");
        ob_sb_addf(&sql, kinds[i].sql, confined ? " AND \"direction\" <> 'internal'" : "");
    }
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "customer_id", ob_row_id(cust));
    ob_jw_key(&w, "data");
    ob_jw_arr_open(&w);
    int n = 0;
    if (parts) {
        ob_sb_addf(&sql, ") t ORDER BY at %s, k %s, id %s LIMIT %ld OFFSET %ld", asc ? "ASC" : "DESC",
                   asc ? "ASC" : "DESC", asc ? "ASC" : "DESC", limit + 1, offset);
        ob_stmt *st;
        if (ob_db_prepare(ctx->db, sql.buf, &st, &err) != 0) {
            ob_sb_reset(&resp->body);
            ob_resp_error(resp, &err);
            return;
        }
        for (int i = 1; i <= parts; i++) ob_stmt_bind_text(st, i, ob_row_id(cust), &err);
        int rc;
        while ((rc = ob_stmt_step(st, &err)) == 1) {
            if (++n > limit) continue;
            ob_jw_obj_open(&w);
            ob_jw_kstr(&w, "kind", ob_stmt_col_text(st, 0, NULL));
            ob_jw_kstr(&w, "id", ob_stmt_col_text(st, 1, NULL));
            kts(&w, "at", ob_stmt_col_text(st, 2, NULL));
            ob_jw_kstr(&w, "title", ob_stmt_col_text(st, 3, NULL));
            ob_jw_kstr(&w, "status", ob_stmt_col_text(st, 4, NULL));
            ob_jw_obj_close(&w);
        }
        ob_stmt_done(st);
        if (rc < 0) {
            ob_sb_reset(&resp->body);
            ob_resp_error(resp, &err);
            return;
        }
    }
    ob_jw_arr_close(&w);
    if (n > limit) {
        char next[24];
        snprintf(next, sizeof next, "%ld", offset + limit);
        ob_jw_kstr(&w, "next_cursor", next);
    } else {
        ob_jw_knull(&w, "next_cursor");
    }
    ob_jw_obj_close(&w);
}

/* The tenant's zone (company_settings.timezone; UTC when unset or unknown). */
static const ob_tz *tenant_zone(ob_ctx *ctx, const char **name)
{
    ob_err err;
    ob_stmt *st;
    *name = "UTC";
    if (ob_db_prepare(ctx->db, "SELECT \"timezone\" FROM \"company_settings\" ORDER BY \"created_at\" LIMIT 1", &st,
                      &err) == 0) {
        if (ob_stmt_step(st, &err) == 1) {
            const char *z = ob_stmt_col_text(st, 0, NULL);
            if (z && *z) *name = ob_arena_strdup(ctx->arena, z);
        }
        ob_stmt_done(st);
    }
    const ob_tz *tz;
    if (ob_tz_get(*name, &tz, &err) != 0) {
        *name = "UTC";
        if (ob_tz_get("UTC", &tz, &err) != 0) return NULL;
    }
    return tz;
}

/* The UTC instant (ms) a local day starts in a zone. */
static int64_t day_start(const ob_tz *tz, int64_t day)
{
    int64_t guess = day * 86400;
    int32_t off = ob_tz_offset(tz, guess);
    return (guess - ob_tz_offset(tz, guess - off)) * 1000;
}

void ob_api_report_follow_ups(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)call;
    const char *due = NULL;
    for (int i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].key, "due") != 0)
            { refuse(resp, "unknown parameter: follow-ups take due"); return; }
        due = req->query[i].val;
    }
    if (!due || (strcmp(due, "today") && strcmp(due, "overdue"))) { refuse(resp, "due is today or overdue"); return; }
    const char *zone;
    const ob_tz *tz = tenant_zone(ctx, &zone);
    char lo[OB_TS_LEN], hi[OB_TS_LEN], day[11];
    int64_t now_s = ctx->now_ms / 1000;
    int64_t local_day = (now_s + (tz ? ob_tz_offset(tz, now_s) : 0)) / 86400;
    ob_date_format(local_day, day);
    if (!strcmp(due, "today")) {
        ob_ts_format(tz ? day_start(tz, local_day) : local_day * 86400000, lo);
        ob_ts_format(tz ? day_start(tz, local_day + 1) : (local_day + 1) * 86400000, hi);
    } else {
        ob_ts_format(0, lo);
        memcpy(hi, ctx->now, sizeof hi);
    }
    ob_err err;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT h.\"id\", h.\"customer_id\", COALESCE(c.\"name\", c.\"company_name\"), h.\"subject\", "
                      "h.\"follow_up_date\", h.\"created_by\", CAST(h.\"communication_type\" AS TEXT) "
                      "FROM \"customer_communication_history\" h JOIN \"customers\" c ON c.\"id\" = h.\"customer_id\" "
                      "WHERE h.\"follow_up_required\" = ? AND h.\"status\" <> 'cancelled' "
                      "AND h.\"follow_up_date\" >= ? AND h.\"follow_up_date\" < ? "
                      "ORDER BY h.\"follow_up_date\", h.\"id\" LIMIT 1000",
                      &st, &err) != 0) {
        ob_resp_error(resp, &err);
        return;
    }
    ob_value yes = ob_v_bool(true);
    ob_sql_bind_value(st, 1, &yes, &err);
    ob_stmt_bind_text(st, 2, lo, &err);
    ob_stmt_bind_text(st, 3, hi, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "report", "follow_ups");
    ob_jw_kstr(&w, "due", due);
    ob_jw_kstr(&w, "timezone", zone);
    ob_jw_kstr(&w, "today", day);
    ob_jw_key(&w, "data");
    ob_jw_arr_open(&w);
    int rc;
    while ((rc = ob_stmt_step(st, &err)) == 1) {
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "communication_id", ob_stmt_col_text(st, 0, NULL));
        ob_jw_kstr(&w, "customer_id", ob_stmt_col_text(st, 1, NULL));
        ob_jw_kstr(&w, "customer_name", ob_stmt_col_text(st, 2, NULL));
        ob_jw_kstr(&w, "subject", ob_stmt_col_text(st, 3, NULL));
        kts(&w, "follow_up_date", ob_stmt_col_text(st, 4, NULL));
        ob_jw_kstr(&w, "created_by", ob_stmt_col_text(st, 5, NULL));
        ob_jw_kstr(&w, "communication_type", ob_stmt_col_text(st, 6, NULL));
        ob_jw_obj_close(&w);
    }
    ob_stmt_done(st);
    if (rc < 0) {
        ob_sb_reset(&resp->body);
        ob_resp_error(resp, &err);
        return;
    }
    ob_jw_arr_close(&w);
    ob_jw_obj_close(&w);
}

typedef struct occasion {
    const char *customer_id, *customer_name, *name, *date;
    int day;
} occasion;

static int by_day(const void *a, const void *b)
{
    const occasion *x = a, *y = b;
    if (x->day != y->day) return x->day - y->day;
    int c = strcmp(x->customer_name ? x->customer_name : "", y->customer_name ? y->customer_name : "");
    return c ? c : strcmp(x->name, y->name);
}

/* The month and day of "YYYY-MM-DD" or "MM-DD"; 0 when it is neither. */
static int month_day(const char *s, int *day)
{
    int m = 0, d = 0;
    size_t n = strlen(s);
    if (n == 10 && s[4] == '-' && s[7] == '-') s += 5;
    else if (n != 5) return 0;
    if (s[2] != '-' || sscanf(s, "%2d-%2d", &m, &d) != 2 || m < 1 || m > 12 || d < 1 || d > 31) return 0;
    *day = d;
    return m;
}

void ob_api_report_occasions(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)call;
    long month = 0;
    for (int i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].key, "month") != 0) { refuse(resp, "unknown parameter: occasions take month"); return; }
        if (!int_in(req->query[i].val, 1, 12, &month)) { refuse(resp, "month is 1 to 12"); return; }
    }
    if (!month) { refuse(resp, "month is required, 1 to 12"); return; }
    ob_err err;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT p.\"customer_id\", COALESCE(c.\"name\", c.\"company_name\"), "
                      "CAST(p.\"special_occasions\" AS TEXT) FROM \"customer_preferences\" p "
                      "JOIN \"customers\" c ON c.\"id\" = p.\"customer_id\" "
                      "WHERE p.\"special_occasions\" IS NOT NULL AND c.\"deleted_at\" IS NULL",
                      &st, &err) != 0) {
        ob_resp_error(resp, &err);
        return;
    }
    occasion *list = ob_arena_alloc(ctx->arena, REPORT_MAX * sizeof *list);
    int n = 0, rc;
    while ((rc = ob_stmt_step(st, &err)) == 1) {
        const char *text = ob_stmt_col_text(st, 2, NULL);
        json_t *j = text ? json_loads(text, 0, NULL) : NULL;
        /* {"birthday": "1985-03-14", ...} or [{"type": "birthday", "date": "..."}, ...] */
        size_t count = json_is_object(j) ? json_object_size(j) : json_array_size(j);
        void *it = json_is_object(j) ? json_object_iter(j) : NULL;
        for (size_t k = 0; k < count && n < REPORT_MAX; k++) {
            const char *name, *date;
            if (json_is_object(j)) {
                name = json_object_iter_key(it);
                date = json_string_value(json_object_iter_value(it));
                it = json_object_iter_next(j, it);
            } else {
                json_t *e = json_array_get(j, k);
                name = json_string_value(json_object_get(e, "type"));
                if (!name) name = json_string_value(json_object_get(e, "name"));
                date = json_string_value(json_object_get(e, "date"));
            }
            int day;
            if (!name || !date || month_day(date, &day) != month) continue;
            occasion *o = &list[n++];
            o->customer_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
            const char *cn = ob_stmt_col_text(st, 1, NULL);
            o->customer_name = cn ? ob_arena_strdup(ctx->arena, cn) : NULL;
            o->name = ob_arena_strdup(ctx->arena, name);
            o->date = ob_arena_strdup(ctx->arena, date);
            o->day = day;
        }
        json_decref(j);
    }
    ob_stmt_done(st);
    if (rc < 0) {
        ob_resp_error(resp, &err);
        return;
    }
    qsort(list, (size_t)n, sizeof *list, by_day);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "report", "occasions");
    ob_jw_ki64(&w, "month", month);
    ob_jw_key(&w, "data");
    ob_jw_arr_open(&w);
    for (int i = 0; i < n; i++) {
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "customer_id", list[i].customer_id);
        ob_jw_kstr(&w, "customer_name", list[i].customer_name);
        ob_jw_kstr(&w, "occasion", list[i].name);
        ob_jw_kstr(&w, "date", list[i].date);
        ob_jw_ki64(&w, "day", list[i].day);
        ob_jw_obj_close(&w);
    }
    ob_jw_arr_close(&w);
    ob_jw_obj_close(&w);
}
