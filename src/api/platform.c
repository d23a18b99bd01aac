/* platform.c - the super admins' sign-in and session
 * (/api/v1/platform/auth/...; platform/admins.h does the work), and the
 * monitoring figures (GET /api/v1/platform/stats). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api_int.h"
#include "audit/audit.h"
#include "base/base.h"
#include "files/files.h"
#include "ops/backup.h"
#include "ops/stats.h"
#include "platform/admins.h"
#include "base/banned.h"

/* A refused sign-in step; a lockout tells when to try again. */
static void locked_error(ob_ctx *ctx, ob_resp *resp, const ob_err *err, int64_t retry_after_s)
{
    ob_resp_error(resp, err);
    if (err->code == OB_E_LOCKED)
        ob_resp_header(resp, "Retry-After", ob_arena_printf(ctx->arena, "%lld", (long long)retry_after_s));
}

/* call->fields: email, password. */
void ob_api_platform_login(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req;
    ob_err err;
    ob_platform_login out;
    if (ob_platform_login_start(ctx, call->fields[0], call->fields[1], &out, &err) != 0)
        return locked_error(ctx, resp, &err, out.retry_after_s);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kbool(&w, "mfa_required", true);
    ob_jw_kstr(&w, "challenge", out.challenge);
    ob_jw_kstr(&w, "expires_at", out.expires_at);
    /* the secret is shown this once; a code from it confirms the enrolment */
    ob_jw_kbool(&w, "mfa_enrolment", out.enrol_secret != NULL);
    if (out.enrol_secret) {
        ob_jw_kstr(&w, "secret", out.enrol_secret);
        ob_jw_kstr(&w, "otpauth_uri", out.enrol_uri);
    }
    ob_jw_obj_close(&w);
    resp->status = 200;
}

/* call->fields: challenge, code. */
void ob_api_platform_verify(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req;
    ob_err err;
    ob_platform_token out;
    if (ob_platform_mfa_verify(ctx, call->fields[0], call->fields[1], &out, &err) != 0)
        return locked_error(ctx, resp, &err, out.retry_after_s);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "token", out.token);
    ob_jw_kstr(&w, "token_type", "Bearer");
    ob_jw_kstr(&w, "expires_at", out.expires_at);
    ob_jw_key(&w, "super_admin");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "id", out.admin_id);
    ob_jw_kstr(&w, "email", out.email);
    ob_jw_obj_close(&w);
    ob_jw_obj_close(&w);
    resp->status = 200;
}

void ob_api_platform_me(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req, (void)call;
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_key(&w, "super_admin");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "id", ctx->who->user_id);
    ob_jw_kstr(&w, "email", ctx->who->email);
    ob_jw_kstr(&w, "name", ctx->who->name);
    ob_jw_obj_close(&w);
    ob_jw_obj_close(&w);
    resp->status = 200;
}

void ob_api_platform_logout(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req, (void)call;
    ob_err err;
    if (ob_platform_logout(ctx, &err) != 0) return ob_resp_error(resp, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "status", "logged_out");
    ob_jw_obj_close(&w);
    resp->status = 200;
}

/* Seed 000's monitoring queries (ops/stats.h); read-only, super admins only
 * (the route's OB_AUTH_PLATFORM: tenant tokens never reach here). */
void ob_api_platform_stats(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)req, (void)call;
    ob_err err;
    ob_sb out;
    ob_sb_init_arena(&out, ctx->arena, 4096);
    ob_jsonw w;
    ob_jw_init(&w, &out);
    if (ob_stats_write(app->store, ctx->arena, &w, &err) != 0) return ob_resp_error(resp, &err);
    ob_sb_add(&resp->body, out.buf, out.len);
    resp->status = 200;
}
