/* console.c - serves the embedded web console and its cookie session.
 *
 * Why a cookie: the console must not keep its token where page scripts can
 * read it, so the browser holds it in an HttpOnly, SameSite=Strict cookie
 * (Secure when the request came over TLS through a proxy). A cookie is sent
 * by the browser on its own, so a cookie-authenticated write must also carry
 * X-CSRF-Token: a hash of the session token that the console learns from
 * GET /api/v1/console/session and that another site can neither read nor
 * compute. Requests with an Authorization header never look at the cookie. */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "api/console.h"
#include "auth/mfa.h"
#include "auth/session.h"
#include "base/base.h"
#include "platform/admins.h"
#include "schema/rowjson.h"
#include "schema/schema_json.h"
#include "base/banned.h"

/* No inline script or style, nothing from elsewhere, never framed. blob:
 * images and frames are the attached-files preview (web/src/files.tsx): bytes
 * this page downloaded itself, since uploads are never served inline. */
#define CSP                                                                                                  \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " \
    "font-src 'self'; frame-src blob:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

/* A year: asset names change with their content, so a cached copy is never stale. */
#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"

static bool is_get(const ob_req *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

static bool not_allowed(ob_resp *resp, const char *allow)
{
    ob_resp_errorf(resp, OB_E_METHOD, NULL);
    ob_resp_header(resp, "Allow", allow);
    return true;
}

static void page_headers(ob_resp *resp)
{
    ob_resp_header(resp, "Content-Security-Policy", CSP);
    ob_resp_header(resp, "Referrer-Policy", "no-referrer");
    ob_resp_header(resp, "X-Frame-Options", "DENY");
}

/* True when If-None-Match names etag (a list, or "*"). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm) return false;
    size_t n = strlen(etag);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == '*') return true;
        if (strncmp(p, "W/", 2) == 0) p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == 0 || p[n] == ',' || p[n] == ' ')) return true;
        while (*p && *p != ',') p++;
    }
    return false;
}

static bool serve_file(ob_req *req, ob_resp *resp)
{
    if (!is_get(req)) return not_allowed(resp, "GET, HEAD");
    const ob_console_file *f = NULL;
    for (int i = 0; i < ob_console_nfiles; i++)
        if (strcmp(ob_console_files[i].path, req->path) == 0) f = &ob_console_files[i];
    if (!f) {
        ob_resp_errorf(resp, OB_E_NO_ROUTE, NULL);
        return true;
    }
    page_headers(resp);
    ob_resp_header(resp, "ETag", f->etag);
    /* index.html names the current assets: the browser asks again each time */
    ob_resp_header(resp, "Cache-Control", f->immutable ? CACHE_IMMUTABLE : "no-cache");
    if (etag_matches(req->header(req, "If-None-Match"), f->etag)) {
        resp->status = 304;
        ob_sb_reset(&resp->body);
        return true;
    }
    ob_resp_header(resp, "Content-Type", f->type);
    ob_sb_reset(&resp->body);
    ob_sb_add(&resp->body, f->data, f->len);
    resp->status = 200;
    return true;
}

/* ---- cookie session ------------------------------------------------------ */

void ob_console_csrf(const char *token, char out[65])
{
    static const char key[] = "opsbase console csrf v1";
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), (const unsigned char *)key,
                       sizeof key - 1);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* The value of the cookie called name from the Cookie header, or NULL. */
static const char *cookie_named(const ob_req *req, ob_arena *a, const char *name)
{
    const char *c = req->header(req, "Cookie");
    size_t n = strlen(name);
    for (const char *p = c; p && *p;) {
        while (*p == ' ' || *p == ';') p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=')
            return len > n + 1 ? ob_arena_strndup(a, p + n + 1, len - n - 1) : NULL;
        p += len;
    }
    return NULL;
}

static const char *cookie_token(const ob_req *req, ob_arena *a)
{
    return cookie_named(req, a, OB_CONSOLE_COOKIE);
}

static bool csrf_ok(const ob_req *req, const char *token)
{
    const char *sent = req->header(req, OB_CONSOLE_CSRF_HEADER);
    char want[65];
    ob_console_csrf(token, want);
    return sent && strlen(sent) == 64 && sodium_memcmp(sent, want, 64) == 0;
}

static void set_cookie(const ob_req *req, ob_resp *resp, ob_arena *a, const char *token, long max_age)
{
    /* opsbase speaks plain HTTP; a TLS proxy in front says so, and then the
     * cookie is never sent in the clear. Marking it Secure only narrows it. */
    const char *proto = req->header(req, "X-Forwarded-Proto");
    bool tls = proto && strcasecmp(proto, "https") == 0;
    ob_resp_header(resp, "Set-Cookie",
                   ob_arena_printf(a, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s", OB_CONSOLE_COOKIE,
                                   token, max_age, tls ? "; Secure" : ""));
}

/* The refresh token rides in its own HttpOnly cookie that the browser sends
 * only to the console's session routes: no other request ever carries it. */
static void set_refresh_cookie(const ob_req *req, ob_resp *resp, ob_arena *a, const char *token, long max_age)
{
    const char *proto = req->header(req, "X-Forwarded-Proto");
    bool tls = proto && strcasecmp(proto, "https") == 0;
    ob_resp_header(resp, "Set-Cookie",
                   ob_arena_printf(a, "%s=%s; Path=/api/v1/console/session; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
                                   OB_CONSOLE_REFRESH_COOKIE, token, max_age, tls ? "; Secure" : ""));
}

/* Lets the gate read the cookie's token as "Authorization: Bearer ...":
 * the request's header lookup is wrapped, every other header unchanged. */
typedef struct cookie_auth {
    const char *(*orig)(const struct ob_req *r, const char *name);
    void *orig_ctx;
    const char *authorization;
} cookie_auth;

static const char *header_with_cookie(const ob_req *r, const char *name)
{
    const cookie_auth *ca = r->server_ctx;
    if (strcasecmp(name, "Authorization") == 0) return ca->authorization;
    ob_req orig = *r;
    orig.server_ctx = ca->orig_ctx;
    orig.header = ca->orig;
    return ca->orig(&orig, name);
}

static void present_cookie(ob_req *req, const char *token)
{
    cookie_auth *ca = ob_arena_alloc(req->arena, sizeof *ca);
    ca->orig = req->header;
    ca->orig_ctx = req->server_ctx;
    ca->authorization = ob_arena_printf(req->arena, "Bearer %s", token);
    req->header = header_with_cookie;
    req->server_ctx = ca;
}

/* Authenticate ctx from the Authorization header (as presented); on failure
 * the error is written to resp and its code left in *code. */
static int authenticate(ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_errcode *code)
{
    ob_err err;
    if (ob_session_authenticate(ctx, req->header(req, "Authorization"), &err) != 0) {
        if (ctx->db) ob_db_release(ctx->db);
        ctx->db = NULL;
        ob_resp_error(resp, &err);
        if (code) *code = err.code;
        return -1;
    }
    req->tenant = ctx->tenant->slug;
    return 0;
}

static int string_field(json_t *body, const char *key, size_t max, const char **out, ob_err *err)
{
    json_t *v = json_object_get(body, key);
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
        ob_err_set(err, OB_E_VALIDATION, NULL);
        return ob_err_field_add(err, key, v ? "must be a non-empty string" : "is required");
    }
    *out = json_string_value(v);
    return 0;
}

/* A session opened or renewed: both cookies set, the CSRF token and the
 * token's expiry in the body (the console renews before it), never a token. */
static void session_opened(const ob_req *req, ob_resp *resp, ob_arena *a, const ob_login *in)
{
    char csrf[65];
    ob_console_csrf(in->token, csrf);
    set_cookie(req, resp, a, in->token, (long)(OB_SESSION_TTL_MS / 1000));
    set_refresh_cookie(req, resp, a, in->refresh_token, (long)(OB_SESSION_TTL_MS / 1000));
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "csrf_token", csrf);
    ob_jw_kstr(&w, "expires_at", in->expires_at);
    ob_jw_kstr(&w, "session_expires_at", in->session_expires_at);
    if (in->user) {
        ob_jw_key(&w, "user");
        ob_row_json_raw(&w, in->user);
    }
    ob_jw_obj_close(&w);
    resp->status = 200;
}

/* The body's object with only the keys named (a NULL-ended list), or an error. */
static int only_keys(json_t *body, const char *const *keys, ob_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        bool known = false;
        for (const char *const *k = keys; *k; k++) known = known || strcmp(key, *k) == 0;
        if (!known) return ob_err_set(err, OB_E_UNKNOWN_FIELD, "unknown field \"%.60s\"", key);
    }
    return 0;
}

static bool sign_in(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx)
{
    ob_err err;
    json_t *body;
    if (ob_api_body(app, req, false, &body, &err) != 0) {
        ob_resp_error(resp, &err);
        return true;
    }
    ob_login in = {0};
    static const char *const keys[] = {"tenant", "email", "password", NULL};
    int rc = only_keys(body, keys, &err);
    if (rc == 0) rc = string_field(body, "tenant", 100, &in.tenant, &err);
    if (rc == 0) rc = string_field(body, "email", 255, &in.email, &err);
    if (rc == 0) rc = string_field(body, "password", 256, &in.password, &err);
    if (rc == 0) {
        in.tenant = ob_arena_strdup(ctx->arena, in.tenant);
        in.email = ob_arena_strdup(ctx->arena, in.email);
        in.password = ob_arena_strdup(ctx->arena, in.password);
        in.cookie = true; /* the token lasts the session; the console renews it through its refresh cookie */
        rc = ob_session_login(ctx, &in, &err);
    }
    json_decref(body);
    if (in.tenant_info) req->tenant = in.tenant_info->slug;
    if (rc != 0) {
        ob_resp_error(resp, &err);
        if (err.code == OB_E_RATE_LIMITED)
            ob_resp_header(resp, "Retry-After", ob_arena_printf(ctx->arena, "%lld", (long long)in.retry_after_s));
        return true;
    }
    if (in.mfa_challenge) {
        /* the password was right; no cookie until the second factor is given */
        ob_jsonw w;
        ob_jw_init(&w, &resp->body);
        ob_jw_obj_open(&w);
        ob_jw_kbool(&w, "mfa_required", true);
        ob_jw_kstr(&w, "challenge", in.mfa_challenge);
        ob_jw_obj_close(&w);
        resp->status = 200;
        return true;
    }
    session_opened(req, resp, ctx->arena, &in);
    return true;
}

/* POST /api/v1/console/session/mfa {"challenge", "code" | "recovery_code"}:
 * the second step of a sign-in with MFA (mfa.h), ending in the cookies. */
static bool verify_mfa(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx)
{
    ob_err err;
    json_t *body;
    if (ob_api_body(app, req, false, &body, &err) != 0) {
        ob_resp_error(resp, &err);
        return true;
    }
    static const char *const keys[] = {"challenge", "code", "recovery_code", NULL};
    const char *challenge = NULL, *code = NULL, *recovery = NULL;
    int rc = only_keys(body, keys, &err);
    if (rc == 0) rc = string_field(body, "challenge", 200, &challenge, &err);
    if (rc == 0 && json_object_get(body, "code")) rc = string_field(body, "code", 20, &code, &err);
    if (rc == 0 && json_object_get(body, "recovery_code"))
        rc = string_field(body, "recovery_code", 64, &recovery, &err);
    ob_login out = {.cookie = true};
    if (rc == 0) {
        challenge = ob_arena_strdup(ctx->arena, challenge);
        if (code) code = ob_arena_strdup(ctx->arena, code);
        if (recovery) recovery = ob_arena_strdup(ctx->arena, recovery);
    }
    json_decref(body);
    if (rc == 0) rc = ob_mfa_verify(ctx, challenge, code, recovery, &out, &err);
    if (out.tenant_info) req->tenant = out.tenant_info->slug;
    if (rc != 0) {
        ob_resp_error(resp, &err);
        return true;
    }
    session_opened(req, resp, ctx->arena, &out);
    return true;
}

/* POST /api/v1/console/session/refresh: a new token for the refresh cookie
 * (rotated, as /auth/refresh does), before the current one expires. The
 * CSRF token of the current cookie guards it like any other write. */
static bool renew(ob_req *req, ob_resp *resp, ob_ctx *ctx)
{
    const char *token = cookie_token(req, ctx->arena);
    const char *refresh = cookie_named(req, ctx->arena, OB_CONSOLE_REFRESH_COOKIE);
    if (!token || !refresh) {
        ob_resp_errorf(resp, OB_E_UNAUTHENTICATED, "no console session");
        return true;
    }
    if (!csrf_ok(req, token)) {
        ob_resp_errorf(resp, OB_E_FORBIDDEN, "the console's CSRF token is missing or wrong");
        return true;
    }
    ob_err err;
    ob_login out = {0};
    int rc = ob_session_refresh(ctx, refresh, &out, &err);
    if (out.tenant_info) req->tenant = out.tenant_info->slug;
    if (rc != 0) {
        ob_resp_error(resp, &err);
        if (err.code == OB_E_UNAUTHENTICATED) {
            set_cookie(req, resp, ctx->arena, "", 0);
            set_refresh_cookie(req, resp, ctx->arena, "", 0);
        }
        return true;
    }
    session_opened(req, resp, ctx->arena, &out);
    return true;
}

static bool session_route(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx)
{
    const char *m = req->method;
    if (strcmp(m, "POST") == 0) return sign_in(app, req, resp, ctx);
    bool del = strcmp(m, "DELETE") == 0;
    if (!del && !is_get(req)) return not_allowed(resp, "GET, POST, DELETE");
    const char *token = cookie_token(req, ctx->arena);
    if (del && !token) {
        ob_resp_errorf(resp, OB_E_UNAUTHENTICATED, "no console session");
        return true;
    }
    if (del && !csrf_ok(req, token)) {
        ob_resp_errorf(resp, OB_E_FORBIDDEN, "the console's CSRF token is missing or wrong");
        return true;
    }
    if (token) present_cookie(req, token);
    ob_errcode code = OB_E_UNAUTHENTICATED;
    if (!token || authenticate(req, resp, ctx, &code) != 0) {
        /* storage trouble says nothing about the session: answer it as it is */
        if (code != OB_E_UNAUTHENTICATED) return true;
        if (token) set_cookie(req, resp, ctx->arena, "", 0); /* a dead session's cookie goes too */
        if (!del) {
            /* asking is not an error: the console shows its sign-in page */
            ob_sb_reset(&resp->body);
            ob_sb_adds(&resp->body, "{\"signed_in\":false}");
            resp->status = 200;
        }
        return true;
    }
    if (del) {
        ob_api_logout(app, req, resp, ctx, NULL);
        if (resp->status == 200) {
            set_cookie(req, resp, ctx->arena, "", 0);
            set_refresh_cookie(req, resp, ctx->arena, "", 0);
        }
    } else {
        char csrf[65];
        ob_console_csrf(token, csrf);
        ob_jsonw w;
        ob_jw_init(&w, &resp->body);
        ob_jw_obj_open(&w);
        ob_jw_kbool(&w, "signed_in", true);
        ob_jw_kstr(&w, "csrf_token", csrf);
        ob_jw_kstr(&w, "tenant", ctx->tenant->slug);
        ob_jw_obj_close(&w);
        resp->status = 200;
    }
    if (ctx->db) ob_db_release(ctx->db);
    ctx->db = NULL;
    return true;
}

/* ---- the platform's cookie session ------------------------------------------
 * A super admin's console keeps its obp_ token in a cookie of its own that
 * only /api/v1/platform/... and these routes see; the password step is the
 * declared POST /api/v1/platform/auth/login (it returns no token). */

static void set_platform_cookie(const ob_req *req, ob_resp *resp, ob_arena *a, const char *token, long max_age)
{
    const char *proto = req->header(req, "X-Forwarded-Proto");
    bool tls = proto && strcasecmp(proto, "https") == 0;
    ob_resp_header(resp, "Set-Cookie",
                   ob_arena_printf(a, "%s=%s; Path=/api/v1; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
                                   OB_CONSOLE_PLATFORM_COOKIE, token, max_age, tls ? "; Secure" : ""));
}

static void platform_state(ob_resp *resp, const char *token, const char *expires_at)
{
    char csrf[65];
    ob_console_csrf(token, csrf);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kbool(&w, "signed_in", true);
    ob_jw_kstr(&w, "csrf_token", csrf);
    if (expires_at) ob_jw_kstr(&w, "expires_at", expires_at);
    ob_jw_obj_close(&w);
    resp->status = 200;
}

/* POST .../platform/session/mfa {"challenge","code"}: the cookie for the code. */
static bool platform_verify(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx)
{
    ob_err err;
    json_t *body;
    if (ob_api_body(app, req, false, &body, &err) != 0) {
        ob_resp_error(resp, &err);
        return true;
    }
    static const char *const keys[] = {"challenge", "code", NULL};
    const char *challenge = NULL, *code = NULL;
    int rc = only_keys(body, keys, &err);
    if (rc == 0) rc = string_field(body, "challenge", 200, &challenge, &err);
    if (rc == 0) rc = string_field(body, "code", 10, &code, &err);
    if (rc == 0) {
        challenge = ob_arena_strdup(ctx->arena, challenge);
        code = ob_arena_strdup(ctx->arena, code);
    }
    json_decref(body);
    ob_platform_token out;
    if (rc == 0) rc = ob_platform_mfa_verify(ctx, challenge, code, &out, &err);
    if (rc != 0) {
        ob_resp_error(resp, &err);
        return true;
    }
    set_platform_cookie(req, resp, ctx->arena, out.token, (long)(OB_PLATFORM_SESSION_TTL_MS / 1000));
    platform_state(resp, out.token, out.expires_at);
    return true;
}

/* GET: is the cookie live (and its CSRF token); DELETE: sign out. */
static bool platform_session(ob_req *req, ob_resp *resp, ob_ctx *ctx)
{
    bool del = strcmp(req->method, "DELETE") == 0;
    if (!del && !is_get(req)) return not_allowed(resp, "GET, DELETE");
    const char *token = cookie_named(req, ctx->arena, OB_CONSOLE_PLATFORM_COOKIE);
    if (del && (!token || !csrf_ok(req, token))) {
        if (token) ob_resp_errorf(resp, OB_E_FORBIDDEN, "the console's CSRF token is missing or wrong");
        else ob_resp_errorf(resp, OB_E_UNAUTHENTICATED, "no platform session");
        return true;
    }
    ob_err err;
    const char *auth = token ? ob_arena_printf(ctx->arena, "Bearer %s", token) : NULL;
    if (!token || ob_platform_authenticate(ctx, auth, &err) != 0) {
        if (token && err.code != OB_E_UNAUTHENTICATED) {
            ob_resp_error(resp, &err);
            return true;
        }
        if (token) set_platform_cookie(req, resp, ctx->arena, "", 0);
        if (del) {
            ob_resp_errorf(resp, OB_E_UNAUTHENTICATED, "no platform session");
        } else {
            ob_sb_reset(&resp->body);
            ob_sb_adds(&resp->body, "{\"signed_in\":false}");
            resp->status = 200;
        }
        return true;
    }
    if (!del) {
        platform_state(resp, token, NULL);
        return true;
    }
    if (ob_platform_logout(ctx, &err) != 0) {
        ob_resp_error(resp, &err);
        return true;
    }
    set_platform_cookie(req, resp, ctx->arena, "", 0);
    ob_sb_reset(&resp->body);
    ob_sb_adds(&resp->body, "{\"status\":\"logged_out\"}");
    resp->status = 200;
    return true;
}

/* ---- the schema ---------------------------------------------------------- */

static struct {
    pthread_once_t once;
    char *json;
    size_t len;
    char etag[24];
} schema = {PTHREAD_ONCE_INIT, NULL, 0, ""};

static void schema_build(void)
{
    ob_sb sb;
    ob_sb_init(&sb, 1 << 18);
    ob_schema_json(&sb);
    schema.json = ob_sb_detach(&sb, &schema.len);
    unsigned char h[8];
    crypto_generichash(h, sizeof h, (const unsigned char *)schema.json, schema.len, NULL, 0);
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    memcpy(schema.etag, "\"", 1);
    memcpy(schema.etag + 1, hex, 16);
    memcpy(schema.etag + 17, "\"", 2);
}

static bool schema_route(ob_req *req, ob_resp *resp, ob_ctx *ctx)
{
    if (!is_get(req)) return not_allowed(resp, "GET");
    if (authenticate(req, resp, ctx, NULL) != 0) return true;
    if (ctx->db) ob_db_release(ctx->db);
    ctx->db = NULL;
    /* built once, on first use: the registry does not change while serving */
    pthread_once(&schema.once, schema_build);
    ob_resp_header(resp, "ETag", schema.etag);
    ob_resp_header(resp, "Cache-Control", "private, no-cache");
    if (etag_matches(req->header(req, "If-None-Match"), schema.etag)) {
        resp->status = 304;
        ob_sb_reset(&resp->body);
        return true;
    }
    ob_sb_add(&resp->body, schema.json, schema.len);
    resp->status = 200;
    return true;
}

/* ---- the hook ------------------------------------------------------------ */

bool ob_console_handle(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx)
{
    if (strcmp(req->path, "/") == 0 || (req->nseg == 2 && strcmp(req->seg[0], "assets") == 0))
        return serve_file(req, resp);
    if (req->nseg < 3 || strcmp(req->seg[0], "api") != 0 || strcmp(req->seg[1], "v1") != 0) return false;
    /* before the generic cookie check: signing in again over a stale cookie
     * needs no CSRF token, and the session route reads the cookie itself */
    if (req->nseg == 4 && strcmp(req->seg[2], "console") == 0 && strcmp(req->seg[3], "session") == 0)
        return session_route(app, req, resp, ctx);
    if (req->nseg == 5 && strcmp(req->seg[2], "console") == 0 && strcmp(req->seg[3], "session") == 0) {
        if (strcmp(req->method, "POST") != 0) return not_allowed(resp, "POST");
        if (strcmp(req->seg[4], "mfa") == 0) return verify_mfa(app, req, resp, ctx);
        if (strcmp(req->seg[4], "refresh") == 0) return renew(req, resp, ctx);
        ob_resp_errorf(resp, OB_E_NO_ROUTE, NULL);
        return true;
    }
    if (req->nseg >= 5 && strcmp(req->seg[2], "console") == 0 && strcmp(req->seg[3], "platform") == 0 &&
        strcmp(req->seg[4], "session") == 0) {
        if (req->nseg == 5) return platform_session(req, resp, ctx);
        if (req->nseg == 6 && strcmp(req->seg[5], "mfa") == 0) {
            if (strcmp(req->method, "POST") != 0) return not_allowed(resp, "POST");
            return platform_verify(app, req, resp, ctx);
        }
        ob_resp_errorf(resp, OB_E_NO_ROUTE, NULL);
        return true;
    }
    /* cookie in, bearer out: only when the client sent no Authorization; the
     * platform's routes read the platform's cookie, every other the tenant's */
    if (!req->header(req, "Authorization")) {
        bool platform = strcmp(req->seg[2], "platform") == 0;
        const char *token = platform ? cookie_named(req, ctx->arena, OB_CONSOLE_PLATFORM_COOKIE)
                                     : cookie_token(req, ctx->arena);
        if (token && !is_get(req) && !csrf_ok(req, token)) {
            ob_resp_errorf(resp, OB_E_FORBIDDEN, "the console's CSRF token is missing or wrong");
            return true;
        }
        if (token) present_cookie(req, token);
    }
    if (req->nseg == 3 && strcmp(req->seg[2], "schema") == 0) return schema_route(req, resp, ctx);
    return false;
}
