/* platform.c - the super admins' sign-in and session
 * (/api/v1/platform/auth/...; platform/admins.h does the work), and a
 * tenant's export (POST /api/v1/platform/tenants/{id}/export), and the
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

/* The slug of a tenant that is not deleted, on the control connection. */
static int tenant_slug(ob_ctx *ctx, const char *id, const char **slug, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT slug FROM tenants WHERE id = ? AND deleted_at IS NULL", &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, id, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *slug = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (rc < 0) return -1;
    return rc == 1 ? 0 : ob_err_set(err, OB_E_NOT_FOUND, "no such tenant");
}

/* The export's platform audit row, in a write transaction of its own. */
static int audit_export(ob_ctx *ctx, const char *id, const char *detail, ob_err *err)
{
    ob_conn *w, *r = ctx->db;
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_WRITE, &w, err) != 0) return -1;
    ctx->db = w;
    int rc = ob_db_begin(w, err);
    if (rc == 0) rc = ob_audit_platform_event(ctx, "export", "tenants", id, detail, err);
    if (rc == 0) rc = ob_db_commit(w, err);
    else ob_db_rollback(w);
    ob_db_release(w);
    ctx->db = r;
    return rc;
}

/* Every row and file of the tenant, as `opsbase tenant export` writes them
 * (ops/backup.h), into exports/ under the data directory; the answer names
 * the directory, which `opsbase tenant import --from` takes. */
void ob_api_platform_export(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)req;
    ob_err err;
    const char *slug = NULL;
    if (tenant_slug(ctx, call->id, &slug, &err) != 0) return ob_resp_error(resp, &err);
    if (!app->files || !app->files->root) {
        ob_err_set(&err, OB_E_UNAVAILABLE, "this server keeps no files: exports need its data directory");
        return ob_resp_error(resp, &err);
    }
    const char *dir = ob_arena_printf(ctx->arena, "%s/exports", app->files->root);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        ob_err_set(&err, OB_E_INTERNAL, "cannot create the exports directory");
        return ob_resp_error(resp, &err);
    }
    ob_sb name;
    ob_sb_init_arena(&name, ctx->arena, 96);
    ob_sb_addf(&name, "%s-%lld-", slug, (long long)ctx->now_ms);
    ob_random_b64url(&name, 6);
    ob_backup_opts bo = {.out_dir = ob_arena_printf(ctx->arena, "%s/%s", dir, name.buf), .tenant = slug,
                         .version = app->version, .files_root = app->files->root};
    ob_backup_report rep;
    if (ob_backup(ctx->store, &bo, &rep, &err) != 0) return ob_resp_error(resp, &err);
    ob_sb out;
    ob_sb_init_arena(&out, ctx->arena, 256);
    ob_jsonw w;
    ob_jw_init(&w, &out);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "tenant", slug);
    ob_jw_kstr(&w, "path", ob_arena_printf(ctx->arena, "exports/%s", name.buf));
    ob_jw_ki64(&w, "rows", rep.rows);
    ob_jw_ki64(&w, "files", rep.files);
    ob_jw_obj_close(&w);
    if (audit_export(ctx, call->id, out.buf, &err) != 0) return ob_resp_error(resp, &err);
    ob_sb_add(&resp->body, out.buf, out.len);
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
