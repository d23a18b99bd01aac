/* metal_rates.c - GET /api/v1/metal_rates/current?metal=&purity=[&at=]: the
 * metal_rates row in force at a time (now when `at` is absent): the latest
 * effective_from not after it, for that metal and purity. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/base.h"
#include "base/clock.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

static void refuse(ob_resp *resp, ob_errcode code, const char *msg)
{
    ob_err err;
    ob_err_set(&err, code, "%s", msg);
    ob_resp_error(resp, &err);
}

void ob_api_metal_rate_current(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)call;
    const char *metal = NULL, *purity_s = NULL, *at_s = NULL;
    for (int i = 0; i < req->nquery; i++) {
        const ob_kv *q = &req->query[i];
        if (!strcmp(q->key, "metal")) metal = q->val;
        else if (!strcmp(q->key, "purity")) purity_s = q->val;
        else if (!strcmp(q->key, "at")) at_s = q->val;
        else {
            refuse(resp, OB_E_BAD_QUERY, "unknown parameter: the rate takes metal, purity and at");
            return;
        }
    }
    if (!metal || !*metal || !purity_s) {
            refuse(resp, OB_E_BAD_QUERY, "metal and purity are required");
            return;
        }
    char *end;
    long purity = strtol(purity_s, &end, 10);
    if (!*purity_s || *end || purity < 1 || purity > 999)
        {
            refuse(resp, OB_E_BAD_QUERY, "purity is the fineness in parts per thousand, 1 to 999 (22K = 916)");
            return;
        }
    /* `at` in the stored form, so that text and timestamp comparisons agree */
    char at[OB_TS_LEN];
    if (at_s) {
        int64_t ms;
        if (ob_ts_parse(at_s, &ms) != 0) {
            refuse(resp, OB_E_BAD_QUERY, "at must be an RFC 3339 time");
            return;
        }
        ob_ts_format(ms, at);
    } else {
        memcpy(at, ctx->now, sizeof at);
    }
    const ob_table *t = ob_registry_find(OB_TABLE_METAL_RATES);
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"metal_rates\" WHERE \"metal\" = ? AND \"purity\" = ? "
                                      "AND \"effective_from\" <= ? ORDER BY \"effective_from\" DESC, \"id\" DESC LIMIT 1",
                                      ob_sql_cols(t));
    ob_err err;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, &err) != 0) {
        ob_resp_error(resp, &err);
        return;
    }
    /* the enum is stored lower case */
    ob_stmt_bind_text(st, 1, ob_text_lower(ctx->arena, metal, strlen(metal), NULL), &err);
    ob_stmt_bind_i64(st, 2, purity, &err);
    ob_stmt_bind_text(st, 3, at, &err);
    int rc = ob_stmt_step(st, &err);
    ob_row *row = NULL;
    if (rc == 1) {
        row = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, row, st);
    }
    ob_stmt_done(st);
    if (rc < 0) {
        ob_resp_error(resp, &err);
        return;
    }
    if (!row) {
            refuse(resp, OB_E_NOT_FOUND, "no rate of that metal and purity is in force at that time");
            return;
        }
    ob_api_row_resp(ctx, resp, row, 200);
}
