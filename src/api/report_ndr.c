/* report_ndr.c - GET /api/v1/reports/ndr?from=&to=: the NDR workbench's
 * figures for a period of UTC days.
 *
 * - open_cases: the cases reported in the period (ndr_date) that are still
 *   being worked (open, in_progress, reattempt_scheduled), by age in whole
 *   days since ndr_date as of now (0-1, 2-3, 4-7, 8 and more) and by reason.
 * - delivery: courier shipments delivered in the period (delivered_at) and,
 *   of those, the ones delivered at the first attempt (no NDR case ever).
 * - rto_by_courier: per courier configuration, the courier shipments that
 *   ended in the period, delivered (delivered_at, never returned) or
 *   returned to origin (rto_initiated_at), and the share returned.
 * - failed_reattempts: the reattempt requests made in the period
 *   (performed_at) that the courier refused or never took after their 3
 *   tries (request_status failed), with their case, newest first.
 * Rates are exact decimals with 2 places, as strings, rounded half up; null
 * when nothing was measured. Everything is computed here from the rows, so
 * both engines give the same answer. */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "base/base.h"
#include "base/clock.h"
#include "base/jsonw.h"
#include "schema/sql.h"
#include "base/banned.h"

#define DAY_MS 86400000LL

/* num / den as a percentage with 2 places, rounded half up, as text. */
static void kpct(ob_jsonw *w, const char *key, int64_t num, int64_t den)
{
    if (den <= 0) {
        ob_jw_knull(w, key);
        return;
    }
    char buf[48];
    ob_format_decimal((2 * num * 10000 + den) / (2 * den), 2, buf, sizeof buf);
    ob_jw_kstr(w, key, buf);
}

static int prepare2(ob_ctx *ctx, const char *sql, const char *lo, const char *hi, ob_stmt **st, ob_err *err)
{
    if (ob_db_prepare(ctx->db, sql, st, err) != 0) return -1;
    ob_stmt_bind_text(*st, 1, lo, err);
    ob_stmt_bind_text(*st, 2, hi, err);
    return 0;
}

static int open_cases(ob_ctx *ctx, ob_jsonw *w, const char *lo, const char *hi, ob_err *err)
{
    static const char *const bucket[] = {"0-1", "2-3", "4-7", "8+"};
    int64_t by_age[4] = {0}, total = 0;
    ob_stmt *st;
    if (prepare2(ctx,
                 "SELECT \"ndr_date\", \"reason_code\" FROM \"ndr_records\" WHERE \"ndr_date\" >= ? AND "
                 "\"ndr_date\" < ? AND \"status\" IN ('open', 'in_progress', 'reattempt_scheduled') "
                 "ORDER BY \"reason_code\", \"id\"",
                 lo, hi, &st, err) != 0)
        return -1;
    ob_jw_key(w, "open_cases");
    ob_jw_obj_open(w);
    ob_jw_key(w, "by_reason");
    ob_jw_arr_open(w);
    const char *reason = NULL;
    int64_t n = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        int64_t at = 0;
        const char *ts = ob_stmt_col_text(st, 0, NULL), *r = ob_stmt_col_text(st, 1, NULL);
        if (!ts || !r || ob_ts_parse(ts, &at) != 0) continue;
        int64_t age = ctx->now_ms > at ? (ctx->now_ms - at) / DAY_MS : 0;
        by_age[age <= 1 ? 0 : age <= 3 ? 1 : age <= 7 ? 2 : 3]++;
        total++;
        if (reason && strcmp(reason, r) != 0) {
            ob_jw_obj_open(w);
            ob_jw_kstr(w, "reason_code", reason);
            ob_jw_ki64(w, "cases", n);
            ob_jw_obj_close(w);
            n = 0;
        }
        if (!reason || strcmp(reason, r) != 0) reason = ob_arena_strdup(ctx->arena, r);
        n++;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (reason) {
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "reason_code", reason);
        ob_jw_ki64(w, "cases", n);
        ob_jw_obj_close(w);
    }
    ob_jw_arr_close(w);
    ob_jw_key(w, "by_age_days");
    ob_jw_arr_open(w);
    for (int i = 0; i < 4; i++) {
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "age_days", bucket[i]);
        ob_jw_ki64(w, "cases", by_age[i]);
        ob_jw_obj_close(w);
    }
    ob_jw_arr_close(w);
    ob_jw_ki64(w, "total", total);
    ob_jw_obj_close(w);
    return 0;
}

static int delivery(ob_ctx *ctx, ob_jsonw *w, const char *lo, const char *hi, ob_err *err)
{
    ob_stmt *st;
    if (prepare2(ctx,
                 "SELECT COUNT(*), SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM \"ndr_records\" n WHERE "
                 "n.\"shipment_id\" = s.\"id\") THEN 1 ELSE 0 END) FROM \"shipments\" s WHERE "
                 "s.\"shipment_type\" = 'courier' AND s.\"delivered_at\" >= ? AND s.\"delivered_at\" < ? AND "
                 "s.\"rto_initiated_at\" IS NULL",
                 lo, hi, &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    int64_t delivered = rc == 1 ? ob_stmt_col_i64(st, 0) : 0, first = rc == 1 ? ob_stmt_col_i64(st, 1) : 0;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    ob_jw_key(w, "delivery");
    ob_jw_obj_open(w);
    ob_jw_ki64(w, "delivered", delivered);
    ob_jw_ki64(w, "first_attempt", first);
    kpct(w, "first_attempt_rate_pct", first, delivered);
    ob_jw_obj_close(w);
    return 0;
}

static int rto_by_courier(ob_ctx *ctx, ob_jsonw *w, const char *lo, const char *hi, ob_err *err)
{
    /* one row per shipment that ended in the period: 1 when it was returned */
    const char *sql =
        "SELECT s.\"courier_config_id\", c.\"name\", CASE WHEN s.\"rto_initiated_at\" IS NULL THEN 0 ELSE 1 END "
        "FROM \"shipments\" s LEFT JOIN \"courier_configs\" c ON c.\"id\" = s.\"courier_config_id\" "
        "WHERE s.\"shipment_type\" = 'courier' AND ((s.\"rto_initiated_at\" IS NULL AND s.\"delivered_at\" >= ? "
        "AND s.\"delivered_at\" < ?) OR (s.\"rto_initiated_at\" >= ? AND s.\"rto_initiated_at\" < ?)) "
        "ORDER BY c.\"name\", s.\"courier_config_id\"";
    ob_stmt *st;
    if (prepare2(ctx, sql, lo, hi, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 3, lo, err);
    ob_stmt_bind_text(st, 4, hi, err);
    ob_jw_key(w, "rto_by_courier");
    ob_jw_arr_open(w);
    const char *cur = NULL, *name = NULL;
    int64_t ended = 0, rto = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        const char *id = ob_stmt_col_text(st, 0, NULL);
        if (!id) continue; /* courier shipments always name their courier; a deleted one's rows stay out */
        if (cur && strcmp(cur, id) != 0) {
            ob_jw_obj_open(w);
            ob_jw_kstr(w, "courier_config_id", cur);
            ob_jw_kstr(w, "name", name);
            ob_jw_ki64(w, "ended", ended);
            ob_jw_ki64(w, "rto", rto);
            kpct(w, "rto_rate_pct", rto, ended);
            ob_jw_obj_close(w);
            ended = rto = 0;
        }
        if (!cur || strcmp(cur, id) != 0) {
            cur = ob_arena_strdup(ctx->arena, id);
            const char *nm = ob_stmt_col_text(st, 1, NULL);
            name = nm ? ob_arena_strdup(ctx->arena, nm) : NULL;
        }
        ended++;
        rto += ob_stmt_col_i64(st, 2);
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (cur) {
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "courier_config_id", cur);
        ob_jw_kstr(w, "name", name);
        ob_jw_ki64(w, "ended", ended);
        ob_jw_ki64(w, "rto", rto);
        kpct(w, "rto_rate_pct", rto, ended);
        ob_jw_obj_close(w);
    }
    ob_jw_arr_close(w);
    return 0;
}

static void kstr_or_null(ob_jsonw *w, const char *key, const char *v)
{
    if (v) ob_jw_kstr(w, key, v);
    else ob_jw_knull(w, key);
}

static int failed_reattempts(ob_ctx *ctx, ob_jsonw *w, const char *lo, const char *hi, ob_err *err)
{
    ob_stmt *st;
    if (prepare2(ctx,
                 "SELECT n.\"id\", n.\"ndr_number\", n.\"shipment_id\", n.\"status\", a.\"id\", "
                 "a.\"reattempt_date\", a.\"request_attempts\", a.\"request_error\", a.\"performed_at\" "
                 "FROM \"ndr_actions\" a JOIN \"ndr_records\" n ON n.\"id\" = a.\"ndr_id\" "
                 "WHERE a.\"request_status\" = 'failed' AND a.\"performed_at\" >= ? AND a.\"performed_at\" < ? "
                 "ORDER BY a.\"performed_at\" DESC, a.\"id\" DESC LIMIT 1000",
                 lo, hi, &st, err) != 0)
        return -1;
    ob_jw_key(w, "failed_reattempts");
    ob_jw_arr_open(w);
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        ob_jw_obj_open(w);
        kstr_or_null(w, "ndr_id", ob_stmt_col_text(st, 0, NULL));
        kstr_or_null(w, "ndr_number", ob_stmt_col_text(st, 1, NULL));
        kstr_or_null(w, "shipment_id", ob_stmt_col_text(st, 2, NULL));
        kstr_or_null(w, "status", ob_stmt_col_text(st, 3, NULL));
        kstr_or_null(w, "action_id", ob_stmt_col_text(st, 4, NULL));
        kstr_or_null(w, "reattempt_date", ob_stmt_col_text(st, 5, NULL));
        ob_jw_ki64(w, "attempts", ob_stmt_col_i64(st, 6));
        kstr_or_null(w, "error", ob_stmt_col_text(st, 7, NULL));
        int64_t at;
        const char *ts = ob_stmt_col_text(st, 8, NULL);
        char norm[OB_TS_LEN];
        if (ts && ob_ts_parse(ts, &at) == 0) {
            ob_ts_format(at, norm);
            ob_jw_kstr(w, "requested_at", norm);
        } else {
            ob_jw_knull(w, "requested_at");
        }
        ob_jw_obj_close(w);
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    ob_jw_arr_close(w);
    return 0;
}

void ob_api_report_ndr(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)call;
    ob_report_period per;
    if (ob_api_report_period(req, "none", &per, resp) != 0) return;
    if (strcmp(per.group, "none") != 0) {
        ob_api_bad_query(resp, "the NDR report has no grouping: it takes from and to");
        return;
    }
    char lo[OB_TS_LEN], hi[OB_TS_LEN];
    ob_ts_format(per.from_ms, lo);
    ob_ts_format(per.to_ms + DAY_MS, hi);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "report", "ndr");
    ob_jw_kstr(&w, "from", per.from);
    ob_jw_kstr(&w, "to", per.to);
    ob_jw_kstr(&w, "as_of", ctx->now);
    ob_err err;
    if (open_cases(ctx, &w, lo, hi, &err) != 0 || delivery(ctx, &w, lo, hi, &err) != 0 ||
        rto_by_courier(ctx, &w, lo, hi, &err) != 0 || failed_reattempts(ctx, &w, lo, hi, &err) != 0) {
        ob_sb_reset(&resp->body);
        ob_resp_error(resp, &err);
        return;
    }
    ob_jw_obj_close(&w);
    resp->status = 200;
}
