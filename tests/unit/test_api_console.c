/* test_api_console.c - the console hook without a database (api/console.c):
 * the embedded files and their caching, the cookie presented to the gate as
 * a bearer token, and the CSRF refusal of cookie-authenticated writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/console.h"
#include "base/base.h"
#include "base/banned.h"

static ob_arena g_arena;

/* Request headers for the fake request: name, value pairs. */
static const char *g_headers[8][2];

static const char *fake_header(const ob_req *r, const char *name)
{
    (void)r;
    for (int i = 0; i < 8 && g_headers[i][0]; i++)
        if (strcasecmp(g_headers[i][0], name) == 0) return g_headers[i][1];
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    ob_arena_init(&g_arena, 0);
    memset(g_headers, 0, sizeof g_headers);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ob_arena_release(&g_arena);
    return 0;
}

/* A request for path (segments split at '/'), handled by the hook. */
static bool handle(const char *method, const char *path, ob_req *req, ob_resp *resp)
{
    memset(req, 0, sizeof *req);
    req->arena = &g_arena;
    req->method = method;
    req->path = path;
    req->header = fake_header;
    char *copy = ob_arena_strdup(&g_arena, path + 1);
    req->nseg = 0;
    for (char *p = copy;;) {
        req->seg[req->nseg++] = p;
        char *slash = strchr(p, '/');
        if (!slash) break;
        *slash = 0;
        p = slash + 1;
    }
    ob_resp_init(resp, &g_arena);
    ob_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.arena = &g_arena;
    return ob_console_handle(NULL, req, resp, &ctx);
}

static const char *resp_header(const ob_resp *resp, const char *name)
{
    for (int i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].key, name) == 0) return resp->headers[i].val;
    return NULL;
}

static void test_bundle_table(void **state)
{
    (void)state;
    assert_true(ob_console_nfiles >= 3);
    const ob_console_file *index = &ob_console_files[0];
    assert_string_equal(index->path, "/");
    assert_false(index->immutable);
    for (int i = 1; i < ob_console_nfiles; i++) {
        const ob_console_file *f = &ob_console_files[i];
        assert_true(f->immutable);
        assert_int_equal(strncmp(f->path, "/assets/", 8), 0);
        /* index.html names every asset */
        assert_non_null(memmem(index->data, index->len, f->path, strlen(f->path)));
        assert_true(f->len > 0);
        assert_int_equal(f->etag[0], '"');
    }
}

static void test_index_and_assets(void **state)
{
    (void)state;
    ob_req req;
    ob_resp resp;
    assert_true(handle("GET", "/", &req, &resp));
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "text/html; charset=utf-8");
    assert_string_equal(resp_header(&resp, "Cache-Control"), "no-cache");
    assert_non_null(strstr(resp_header(&resp, "Content-Security-Policy"), "frame-ancestors 'none'"));
    assert_int_equal(resp.body.len, ob_console_files[0].len);

    const ob_console_file *a = &ob_console_files[1];
    assert_true(handle("GET", a->path, &req, &resp));
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp_header(&resp, "Cache-Control"), "public, max-age=31536000, immutable");
    assert_memory_equal(resp.body.buf, a->data, a->len);

    g_headers[0][0] = "If-None-Match";
    g_headers[0][1] = a->etag;
    assert_true(handle("GET", a->path, &req, &resp));
    assert_int_equal(resp.status, 304);
    assert_int_equal(resp.body.len, 0);
    g_headers[0][1] = "W/\"nope\", \"other\"";
    assert_true(handle("HEAD", a->path, &req, &resp));
    assert_int_equal(resp.status, 200);

    assert_true(handle("GET", "/assets/missing.js", &req, &resp));
    assert_int_equal(resp.status, 404);
    assert_true(handle("DELETE", "/", &req, &resp));
    assert_int_equal(resp.status, 405);
    /* everything else is left to the API */
    assert_false(handle("GET", "/healthz", &req, &resp));
    assert_false(handle("GET", "/index.html", &req, &resp));
}

static void test_csrf_token(void **state)
{
    (void)state;
    char a[65], b[65], c[65];
    ob_console_csrf("obt_acme_one", a);
    ob_console_csrf("obt_acme_one", b);
    ob_console_csrf("obt_acme_two", c);
    assert_int_equal(strlen(a), 64);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
}

static void test_cookie_is_presented_as_bearer(void **state)
{
    (void)state;
    ob_req req;
    ob_resp resp;
    g_headers[0][0] = "Cookie";
    g_headers[0][1] = "theme=dark; ob_console=obt_acme_tok; x=1";
    g_headers[1][0] = "User-Agent";
    g_headers[1][1] = "unit";
    assert_false(handle("GET", "/api/v1/customers", &req, &resp));
    assert_string_equal(req.header(&req, "Authorization"), "Bearer obt_acme_tok");
    assert_string_equal(req.header(&req, "authorization"), "Bearer obt_acme_tok");
    assert_string_equal(req.header(&req, "User-Agent"), "unit"); /* others unchanged */
    assert_null(req.header(&req, "X-Absent"));
}

static void test_cookie_writes_need_the_csrf_token(void **state)
{
    (void)state;
    ob_req req;
    ob_resp resp;
    g_headers[0][0] = "Cookie";
    g_headers[0][1] = "ob_console=obt_acme_tok";
    assert_true(handle("POST", "/api/v1/customers", &req, &resp));
    assert_int_equal(resp.status, 403);
    g_headers[1][0] = "X-CSRF-Token";
    g_headers[1][1] = "0000000000000000000000000000000000000000000000000000000000000000";
    assert_true(handle("PATCH", "/api/v1/customers/x", &req, &resp));
    assert_int_equal(resp.status, 403);
    char good[65];
    ob_console_csrf("obt_acme_tok", good);
    g_headers[1][1] = good;
    assert_false(handle("DELETE", "/api/v1/customers/x", &req, &resp));
    assert_string_equal(req.header(&req, "Authorization"), "Bearer obt_acme_tok");
}

static void test_bearer_wins_over_the_cookie(void **state)
{
    (void)state;
    ob_req req;
    ob_resp resp;
    g_headers[0][0] = "Cookie";
    g_headers[0][1] = "ob_console=obt_acme_tok";
    g_headers[1][0] = "Authorization";
    g_headers[1][1] = "Bearer obt_acme_other";
    /* no CSRF token needed: the cookie is not what authenticates */
    assert_false(handle("POST", "/api/v1/customers", &req, &resp));
    assert_string_equal(req.header(&req, "Authorization"), "Bearer obt_acme_other");
    /* a cookie of another name, or an empty one, is no session */
    g_headers[1][0] = "X-Other";
    g_headers[0][1] = "ob_console_x=obt_acme_tok; ob_console=";
    assert_false(handle("POST", "/api/v1/customers", &req, &resp));
    assert_null(req.header(&req, "Authorization"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bundle_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_and_assets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie_is_presented_as_bearer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie_writes_need_the_csrf_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bearer_wins_over_the_cookie, setup, teardown),
    };
    return cmocka_run_group_tests_name("api/console", tests, NULL, NULL);
}
