/* audit_verify.c - GET /api/v1/audit_logs/verify: the tenant's audit hash
 * chain recomputed (audit/chain.h), the same check as `opsbase audit verify`,
 * for an auditor who has the API but not the server's shell. Read in one
 * snapshot so that rows written meanwhile cannot look like a break. */
#include <string.h>

#include "api/api_int.h"
#include "audit/chain.h"
#include "base/base.h"
#include "base/banned.h"

void ob_api_audit_verify(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)call;
    ob_err err;
    if (req->nquery > 0) {
        ob_err_set(&err, OB_E_BAD_QUERY, "the check takes no parameters");
        ob_resp_error(resp, &err);
        return;
    }
    ob_audit_verdict v;
    int rc = ob_db_begin(ctx->db, &err);
    if (rc == 0) {
        rc = ob_audit_verify(ctx, &v, &err);
        ob_db_rollback(ctx->db);
    }
    if (rc != 0) {
        ob_resp_error(resp, &err);
        return;
    }
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kbool(&w, "holds", v.broken_seq == 0);
    ob_jw_ki64(&w, "rows", v.rows);
    ob_jw_ki64(&w, "first_seq", v.first_seq);
    ob_jw_ki64(&w, "unchained", v.unchained);
    if (v.broken_seq) {
        ob_jw_key(&w, "broken");
        ob_jw_obj_open(&w);
        ob_jw_ki64(&w, "seq", v.broken_seq);
        ob_jw_kstr(&w, "id", v.broken_id);
        ob_jw_kstr(&w, "why", v.why);
        ob_jw_obj_close(&w);
    } else {
        ob_jw_knull(&w, "broken");
    }
    ob_jw_obj_close(&w);
    resp->status = 200;
}
