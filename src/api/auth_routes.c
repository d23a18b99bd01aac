/* auth_routes.c - POST /auth/login, POST /auth/refresh, POST /auth/logout, GET /auth/me. */
#include <string.h>

#include "api/api_int.h"
#include "api/features.h"
#include "auth/mfa.h"
#include "auth/session.h"
#include "base/base.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "jobs/tz.h"
#include "base/banned.h"

/* The bearer token and the refresh token that renews it (session.h). */
static void tokens_json(ob_jsonw *w, const ob_login *in)
{
    ob_jw_kstr(w, "token", in->token);
    ob_jw_kstr(w, "token_type", "Bearer");
    ob_jw_kstr(w, "expires_at", in->expires_at);
    ob_jw_kstr(w, "refresh_token", in->refresh_token);
    ob_jw_kstr(w, "session_expires_at", in->session_expires_at);
}

/* call->fields: tenant, email, password (the route's declared input). */
void ob_api_login(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    ob_err err;
    ob_login in = {.tenant = call->fields[0], .email = call->fields[1], .password = call->fields[2]};
    int rc = ob_session_login(ctx, &in, &err);
    if (in.tenant_info) req->tenant = in.tenant_info->slug;
    if (rc != 0) {
        ob_resp_error(resp, &err);
        if (err.code == OB_E_RATE_LIMITED)
            ob_resp_header(resp, "Retry-After", ob_arena_printf(ctx->arena, "%lld", (long long)in.retry_after_s));
        return;
    }
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    if (in.mfa_challenge) {
        /* the password was right; the session waits for the second factor */
        ob_jw_key(&w, "mfa_required");
        ob_jw_bool(&w, true);
        ob_jw_kstr(&w, "challenge", in.mfa_challenge);
        ob_jw_obj_close(&w);
        resp->status = 200;
        return;
    }
    tokens_json(&w, &in);
    if (in.mfa_enrolment) {
        /* the token may only enrol (gate.c); the next sign-in asks for the code */
        ob_jw_key(&w, "mfa_enrollment_required");
        ob_jw_bool(&w, true);
    }
    ob_jw_key(&w, "user");
    ob_row_json_raw(&w, in.user);
    ob_jw_obj_close(&w);
    resp->status = 200;
}

/* call->fields: refresh_token (the route's declared input). */
void ob_api_refresh(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    ob_err err;
    ob_login out = {0};
    int rc = ob_session_refresh(ctx, call->fields[0], &out, &err);
    if (out.tenant_info) req->tenant = out.tenant_info->slug;
    if (rc != 0) return ob_resp_error(resp, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    tokens_json(&w, &out);
    ob_jw_obj_close(&w);
    resp->status = 200;
}

/* Run fn for ctx->who in a write transaction; the read connection stays. */
static int in_write(ob_ctx *ctx, int (*fn)(ob_ctx *, void *, ob_err *), void *arg, ob_err *err)
{
    ob_conn *w;
    if (ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &w, err) != 0) return -1;
    ob_conn *r = ctx->db;
    ctx->db = w;
    int rc = ob_db_begin(w, err);
    if (rc == 0) rc = fn(ctx, arg, err);
    if (rc == 0) rc = ob_db_commit(w, err);
    else ob_db_rollback(w);
    ob_db_release(w);
    ctx->db = r;
    return rc;
}

typedef struct mfa_io {
    const char *code, *secret, *uri;
    const char *codes[OB_MFA_RECOVERY_CODES];
} mfa_io;

static int do_enroll(ob_ctx *ctx, void *arg, ob_err *err)
{
    mfa_io *io = arg;
    return ob_mfa_enroll(ctx, io->code, &io->secret, &io->uri, err);
}

static int do_confirm(ob_ctx *ctx, void *arg, ob_err *err)
{
    mfa_io *io = arg;
    return ob_mfa_confirm(ctx, io->code, io->codes, err);
}

static int do_disable(ob_ctx *ctx, void *arg, ob_err *err)
{
    mfa_io *io = arg;
    return ob_mfa_disable(ctx, io->code, err);
}

/* call->fields: password (enrolling a device asks for it again). */
void ob_api_mfa_enroll(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req;
    ob_err err;
    mfa_io io = {.code = call->fields[0]};
    if (in_write(ctx, do_enroll, &io, &err) != 0) return ob_resp_error(resp, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "secret", io.secret);
    ob_jw_kstr(&w, "otpauth_uri", io.uri);
    ob_jw_obj_close(&w);
    resp->status = 200;
}

/* call->fields: code. */
void ob_api_mfa_confirm(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req;
    ob_err err;
    mfa_io io = {.code = call->fields[0]};
    if (in_write(ctx, do_confirm, &io, &err) != 0) return ob_resp_error(resp, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_key(&w, "mfa_enabled");
    ob_jw_bool(&w, true);
    ob_jw_key(&w, "recovery_codes");
    ob_jw_arr_open(&w);
    for (int i = 0; i < OB_MFA_RECOVERY_CODES; i++) ob_jw_str(&w, io.codes[i]);
    ob_jw_arr_close(&w);
    ob_jw_obj_close(&w);
    resp->status = 200;
}

/* call->fields: code. */
void ob_api_mfa_disable(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req;
    ob_err err;
    mfa_io io = {.code = call->fields[0]};
    if (in_write(ctx, do_disable, &io, &err) != 0) return ob_resp_error(resp, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_key(&w, "mfa_enabled");
    ob_jw_bool(&w, false);
    ob_jw_obj_close(&w);
    resp->status = 200;
}

/* call->fields: challenge, code, recovery_code (one of the last two). */
void ob_api_mfa_verify(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    ob_err err;
    ob_login out = {0};
    int rc = ob_mfa_verify(ctx, call->fields[0], call->fields[1], call->fields[2], &out, &err);
    if (out.tenant_info) req->tenant = out.tenant_info->slug;
    if (rc != 0) {
        ob_resp_error(resp, &err);
        if (err.code == OB_E_RATE_LIMITED)
            ob_resp_header(resp, "Retry-After", ob_arena_printf(ctx->arena, "%lld", (long long)out.retry_after_s));
        return;
    }
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    tokens_json(&w, &out);
    ob_jw_key(&w, "user");
    ob_row_json_raw(&w, out.user);
    ob_jw_obj_close(&w);
    resp->status = 200;
}

void ob_api_logout(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req, (void)call;
    ob_err err;
    ob_conn *w;
    if (ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &w, &err) != 0)
        return ob_resp_error(resp, &err);
    ob_conn *r = ctx->db;
    ctx->db = w;
    int rc = ob_db_begin(w, &err);
    if (rc == 0) rc = ob_session_logout(ctx, &err);
    if (rc == 0) rc = ob_db_commit(w, &err);
    ob_db_release(w);
    ctx->db = r;
    if (rc != 0) return ob_resp_error(resp, &err);
    ob_jsonw jw;
    ob_jw_init(&jw, &resp->body);
    ob_jw_obj_open(&jw);
    ob_jw_kstr(&jw, "status", "logged_out");
    ob_jw_obj_close(&jw);
    resp->status = 200;
}

/* The console's copy protection for this user: the tenant's settings, where
 * a role the user holds overrides one (null: no override), a restriction any
 * held role sets wins. */
static void copy_protection_json(ob_ctx *ctx, ob_jsonw *w)
{
    static const char *const cols[] = {"disable_text_selection", "disable_right_click", "block_keyboard_shortcuts"};
    bool v[3] = {false, false, false}, overridden[3] = {false, false, false}, any[3] = {false, false, false};
    bool enabled = true, blur = false, can_copy = false, can_print = true, roles_copy = false;
    ob_err err;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT disable_text_selection, disable_right_click, block_keyboard_shortcuts, "
                      "copy_protection_enabled, blur_on_print_screen FROM security_settings WHERE scope = 'tenant'",
                      &st, &err) == 0) {
        if (ob_stmt_step(st, &err) == 1) {
            for (int i = 0; i < 3; i++) v[i] = ob_stmt_col_i64(st, i) != 0;
            enabled = ob_stmt_col_i64(st, 3) != 0;
            blur = ob_stmt_col_i64(st, 4) != 0;
        }
        ob_stmt_done(st);
    }
    if (ob_db_prepare(ctx->db,
                      "SELECT rs.disable_text_selection, rs.disable_right_click, rs.block_keyboard_shortcuts, "
                      "rs.can_copy_data, rs.can_print FROM role_security_settings rs JOIN user_roles ur ON "
                      "ur.role_id = rs.role_id WHERE ur.user_id = ? AND ur.status = 'active'",
                      &st, &err) == 0) {
        ob_stmt_bind_text(st, 1, ctx->who->user_id, &err);
        while (ob_stmt_step(st, &err) == 1) {
            for (int i = 0; i < 3; i++) {
                if (ob_stmt_col_type(st, i) == OB_V_NULL) continue;
                overridden[i] = true;
                any[i] = any[i] || ob_stmt_col_i64(st, i) != 0;
            }
            roles_copy = roles_copy || ob_stmt_col_i64(st, 3) != 0;
            can_print = can_print && ob_stmt_col_i64(st, 4) != 0;
        }
        ob_stmt_done(st);
    }
    can_copy = ctx->who->is_owner || roles_copy;
    if (ctx->who->is_owner) can_print = true;
    ob_jw_key(w, "copy_protection");
    ob_jw_obj_open(w);
    ob_jw_kbool(w, "enabled", enabled);
    for (int i = 0; i < 3; i++) ob_jw_kbool(w, cols[i], enabled && (overridden[i] ? any[i] : v[i]));
    ob_jw_kbool(w, "blur_on_print_screen", enabled && blur);
    ob_jw_kbool(w, "can_copy_data", can_copy);
    ob_jw_kbool(w, "can_print", can_print);
    ob_jw_obj_close(w);
}

/* This token's session: when it, and the token, stop working. */
static void session_json(ob_ctx *ctx, ob_jsonw *w)
{
    ob_err err;
    ob_stmt *st;
    ob_jw_key(w, "session");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "id", ctx->who->session_id);
    if (ob_db_prepare(ctx->db,
                      "SELECT s.expires_at, s.access_expires_at, s.last_activity_at, st.session_timeout_minutes FROM "
                      "user_sessions s LEFT JOIN security_settings st ON st.scope = 'tenant' WHERE s.id = ?",
                      &st, &err) == 0) {
        ob_stmt_bind_text(st, 1, ctx->who->session_id, &err);
        if (ob_stmt_step(st, &err) == 1) {
            ob_jw_kstr(w, "expires_at", ob_stmt_col_text(st, 0, NULL));
            ob_jw_kstr(w, "token_expires_at", ob_stmt_col_text(st, 1, NULL));
            ob_jw_kstr(w, "last_activity_at", ob_stmt_col_text(st, 2, NULL));
            ob_jw_ki64(w, "idle_timeout_minutes", ob_stmt_col_i64(st, 3));
        }
        ob_stmt_done(st);
    }
    ob_jw_kbool(w, "mfa_enrolment_only", ctx->who->enrol_only);
    ob_jw_obj_close(w);
}

/* The tenant's time zone for showing times (company_settings.timezone, as
 * the reports read it; UTC when unset or unknown to the server). */
static const char *tenant_zone_name(ob_ctx *ctx)
{
    ob_err err;
    ob_stmt *st;
    const char *name = "UTC";
    if (ob_db_prepare(ctx->db, "SELECT \"timezone\" FROM \"company_settings\" ORDER BY \"created_at\" LIMIT 1", &st,
                      &err) == 0) {
        if (ob_stmt_step(st, &err) == 1) {
            const char *z = ob_stmt_col_text(st, 0, NULL);
            if (z && *z) name = ob_arena_strdup(ctx->arena, z);
        }
        ob_stmt_done(st);
    }
    const ob_tz *tz;
    return ob_tz_get(name, &tz, &err) == 0 ? name : "UTC";
}

/* The plan's features as the gate applies them: the codes the tenant has,
 * and the permission modules whose feature it lacks (their routes answer
 * 403 feature_disabled, so the console leaves them out). */
static void features_json(ob_ctx *ctx, ob_jsonw *w)
{
    const char *feature, *module;
    ob_jw_key(w, "features");
    ob_jw_arr_open(w);
    for (size_t i = 0; (module = ob_feature_module_at(i, &feature)) != NULL; i++) {
        bool on = false, seen = false;
        for (size_t k = 0; k < i; k++) {
            const char *f2;
            ob_feature_module_at(k, &f2);
            seen = seen || !strcmp(f2, feature);
        }
        ob_err err;
        if (!seen && ob_feature_enabled(ctx->store, ctx->tenant, feature, ctx->now_ms, &on, &err) == 0 && on)
            ob_jw_str(w, feature);
    }
    ob_jw_arr_close(w);
    ob_jw_key(w, "modules_not_in_plan");
    ob_jw_arr_open(w);
    for (size_t i = 0; (module = ob_feature_module_at(i, &feature)) != NULL; i++) {
        bool on = true;
        ob_err err;
        if (ob_feature_enabled(ctx->store, ctx->tenant, feature, ctx->now_ms, &on, &err) == 0 && !on)
            ob_jw_str(w, module);
    }
    ob_jw_arr_close(w);
}

void ob_api_me(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app, (void)req, (void)call;
    ob_err err;
    ob_row *u;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_USERS), ctx->who->user_id, &u, &err) != 0) return ob_resp_error(resp, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_key(&w, "user");
    ob_row_json_raw(&w, u);
    ob_jw_key(&w, "tenant");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "id", ctx->tenant->id);
    ob_jw_kstr(&w, "slug", ctx->tenant->slug);
    ob_jw_kstr(&w, "name", ctx->tenant->name);
    ob_jw_kstr(&w, "plan", ctx->tenant->plan_code);
    ob_jw_kstr(&w, "timezone", tenant_zone_name(ctx));
    ob_jw_obj_close(&w);
    features_json(ctx, &w);
    ob_jw_key(&w, "roles");
    ob_jw_arr_open(&w);
    for (int i = 0; i < ctx->who->nroles; i++) ob_jw_str(&w, ctx->who->roles[i]);
    ob_jw_arr_close(&w);
    ob_jw_key(&w, "permissions");
    ob_jw_arr_open(&w);
    if (ctx->who->is_owner) {
        ob_stmt *st;
        if (ob_db_prepare(ctx->db, "SELECT code FROM permissions ORDER BY code", &st, &err) == 0) {
            while (ob_stmt_step(st, &err) == 1) ob_jw_str(&w, ob_stmt_col_text(st, 0, NULL));
            ob_stmt_done(st);
        }
    } else {
        for (int i = 0; i < ctx->who->nperms; i++) ob_jw_str(&w, ctx->who->perms[i]);
    }
    ob_jw_arr_close(&w);
    session_json(ctx, &w);
    copy_protection_json(ctx, &w);
    ob_jw_obj_close(&w);
    resp->status = 200;
}
