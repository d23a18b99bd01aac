/* report_support.c - GET /api/v1/reports/support?from=&to=&group=category|agent:
 * the support desk's figures over the tickets created in [from, to] (UTC
 * days), per category or assigned agent ("none" for tickets without one).
 *
 * SLA compliance counts the tickets whose clock has run out or stopped:
 * response, the answered ones plus the unanswered past response_due_at, met
 * when answered by it; resolution, the resolved ones (resolved_at) plus the
 * active ones past sla_due_date, met when resolved by it; cancelled tickets
 * count for neither. First-response minutes run from created_at to
 * first_response_at (paused time included). Percentages, minutes and the CSAT
 * average are exact decimals with 2 places, as strings, rounded half up; null
 * when nothing was measured. The figures are computed here from the rows, so
 * both engines give the same answer to the last digit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/base.h"
#include "base/clock.h"
#include "base/jsonw.h"
#include "schema/sql.h"
#include "base/banned.h"

typedef struct figures {
    int64_t tickets, resp_due, resp_met, resol_due, resol_met, csat_n, csat_sum;
    int64_t *fr_ms; /* first-response times of the answered tickets, ms */
    int64_t fr_n, fr_cap, fr_sum;
} figures;

static int64_t ts_of(ob_stmt *st, int i, bool *set)
{
    const char *s = ob_stmt_col_text(st, i, NULL);
    int64_t ms = 0;
    *set = s && ob_ts_parse(s, &ms) == 0;
    return ms;
}

/* num / den to 2 places, rounded half up (both non-negative), as text. */
static void kdec(ob_jsonw *w, const char *key, int64_t num, int64_t den)
{
    if (den <= 0) {
        ob_jw_knull(w, key);
        return;
    }
    char buf[48];
    ob_format_decimal((2 * num + den) / (2 * den), 2, buf, sizeof buf);
    ob_jw_kstr(w, key, buf);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void write_figures(ob_jsonw *w, figures *f)
{
    ob_jw_ki64(w, "tickets", f->tickets);
    ob_jw_ki64(w, "response_measured", f->resp_due);
    ob_jw_ki64(w, "response_met", f->resp_met);
    kdec(w, "response_compliance_pct", f->resp_met * 10000, f->resp_due);
    ob_jw_ki64(w, "resolution_measured", f->resol_due);
    ob_jw_ki64(w, "resolution_met", f->resol_met);
    kdec(w, "resolution_compliance_pct", f->resol_met * 10000, f->resol_due);
    ob_jw_ki64(w, "responded", f->fr_n);
    /* minutes with 2 places: ms * 100 / 60000 */
    kdec(w, "first_response_mean_minutes", f->fr_sum, f->fr_n * 600);
    if (f->fr_n == 0) {
        ob_jw_knull(w, "first_response_median_minutes");
    } else {
        qsort(f->fr_ms, (size_t)f->fr_n, sizeof *f->fr_ms, cmp_i64);
        int64_t mid = f->fr_n / 2;
        int64_t twice = f->fr_n % 2 ? 2 * f->fr_ms[mid] : f->fr_ms[mid - 1] + f->fr_ms[mid];
        kdec(w, "first_response_median_minutes", twice, 1200);
    }
    ob_jw_ki64(w, "csat_count", f->csat_n);
    kdec(w, "csat_average", f->csat_sum * 100, f->csat_n);
}

static void add_ticket(ob_arena *a, figures *f, ob_stmt *st, int64_t now)
{
    bool c_set, fr_set, rd_set, rs_set, sd_set;
    int64_t created = ts_of(st, 3, &c_set), fr = ts_of(st, 4, &fr_set), rdue = ts_of(st, 5, &rd_set);
    int64_t resolved = ts_of(st, 6, &rs_set), sdue = ts_of(st, 7, &sd_set);
    const char *status = ob_stmt_col_text(st, 8, NULL);
    bool cancelled = status && !strcmp(status, "cancelled");
    f->tickets++;
    if (!cancelled && rd_set && (fr_set || rdue <= now)) {
        f->resp_due++;
        f->resp_met += fr_set && fr <= rdue;
    }
    if (!cancelled && sd_set && (rs_set || sdue <= now)) {
        f->resol_due++;
        f->resol_met += rs_set && resolved <= sdue;
    }
    if (fr_set && c_set) {
        if (f->fr_n == f->fr_cap) {
            int64_t cap = f->fr_cap ? 2 * f->fr_cap : 64;
            int64_t *v = ob_arena_alloc(a, (size_t)cap * sizeof *v);
            if (f->fr_n) memcpy(v, f->fr_ms, (size_t)f->fr_n * sizeof *v);
            f->fr_ms = v;
            f->fr_cap = cap;
        }
        int64_t d = fr > created ? fr - created : 0;
        f->fr_ms[f->fr_n++] = d;
        f->fr_sum += d;
    }
    const char *csat = ob_stmt_col_text(st, 9, NULL);
    if (csat) {
        f->csat_n++;
        f->csat_sum += atoll(csat);
    }
}

void ob_api_report_support(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)call;
    ob_report_period per;
    if (ob_api_report_period(req, "category", &per, resp) != 0) return;
    const char *from = per.from, *to = per.to, *by = per.group;
    int64_t f_ms = per.from_ms, t_ms = per.to_ms;
    const char *key, *name, *join;
    if (by && !strcmp(by, "category")) {
        key = "t.\"category_id\"";
        name = "g.\"name\"";
        join = "LEFT JOIN \"categories\" g ON g.\"id\" = t.\"category_id\"";
    } else if (by && !strcmp(by, "agent")) {
        key = "t.\"assigned_agent_id\"";
        name = "g.\"email\"";
        join = "LEFT JOIN \"users\" g ON g.\"id\" = t.\"assigned_agent_id\"";
    } else {
        ob_api_bad_query(resp, "group is category or agent");
        return;
    }
    char lo[OB_TS_LEN], hi[OB_TS_LEN];
    ob_ts_format(f_ms, lo);
    ob_ts_format(t_ms + 86400000LL, hi);
    const char *sql = ob_arena_printf(
        ctx->arena,
        "SELECT COALESCE(CAST(%s AS TEXT), 'none'), %s, 0, t.\"created_at\", t.\"first_response_at\", "
        "t.\"response_due_at\", t.\"resolved_at\", t.\"sla_due_date\", t.\"status\", "
        "CAST(t.\"customer_satisfaction\" AS TEXT) FROM \"tickets\" t %s "
        "WHERE t.\"created_at\" >= ? AND t.\"created_at\" < ? ORDER BY 1, t.\"id\"",
        key, name, join);
    ob_err err;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, &err) != 0) {
        ob_resp_error(resp, &err);
        return;
    }
    ob_stmt_bind_text(st, 1, lo, &err);
    ob_stmt_bind_text(st, 2, hi, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "report", "support");
    ob_jw_kstr(&w, "from", from);
    ob_jw_kstr(&w, "to", to);
    ob_jw_kstr(&w, "group", by);
    ob_jw_key(&w, "rows");
    ob_jw_arr_open(&w);
    figures total = {0}, g = {0};
    const char *cur = NULL, *cur_name = NULL;
    int rc;
    while ((rc = ob_stmt_step(st, &err)) == 1) {
        const char *k = ob_stmt_col_text(st, 0, NULL);
        if (!cur || strcmp(cur, k) != 0) {
            if (cur) {
                ob_jw_obj_open(&w);
                ob_jw_kstr(&w, "key", cur);
                ob_jw_kstr(&w, "name", cur_name);
                write_figures(&w, &g);
                ob_jw_obj_close(&w);
            }
            memset(&g, 0, sizeof g);
            cur = ob_arena_strdup(ctx->arena, k);
            const char *nm = ob_stmt_col_text(st, 1, NULL);
            cur_name = nm ? ob_arena_strdup(ctx->arena, nm) : NULL;
        }
        add_ticket(ctx->arena, &g, st, ctx->now_ms);
        add_ticket(ctx->arena, &total, st, ctx->now_ms);
    }
    ob_stmt_done(st);
    if (rc < 0) {
        ob_sb_reset(&resp->body);
        ob_resp_error(resp, &err);
        return;
    }
    if (cur) {
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "key", cur);
        ob_jw_kstr(&w, "name", cur_name);
        write_figures(&w, &g);
        ob_jw_obj_close(&w);
    }
    ob_jw_arr_close(&w);
    ob_jw_key(&w, "totals");
    ob_jw_obj_open(&w);
    write_figures(&w, &total);
    ob_jw_obj_close(&w);
    ob_jw_obj_close(&w);
    resp->status = 200;
}
