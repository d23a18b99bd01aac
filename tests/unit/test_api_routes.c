/* Unit tests for api/routes.c (matching against the route table) and
 * api/ratelimit.c (token bucket arithmetic, no clock: times are given). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "api/route.h"
#include "base/base.h"
#include "domain/domains.h"

static int setup(void **state)
{
    (void)state;
    ob_domain_register();
    ob_routes_get();
    return 0;
}

static int match(const char *method, const char *path, const ob_route_row **r, const char **id, const char **allow)
{
    static char buf[256];
    const char *seg[16];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", path + 1);
    for (char *s = buf; s && n < 16;) {
        char *slash = strchr(s, '/');
        if (slash) *slash = 0;
        seg[n++] = s;
        s = slash ? slash + 1 : NULL;
    }
    ob_err err;
    int rc = ob_routes_match(method, seg, n, r, id, allow, &err);
    return rc == 0 ? 0 : (int)err.code;
}

static void test_match_rows(void **state)
{
    (void)state;
    const ob_route_row *r;
    const char *id, *allow;
    assert_int_equal(match("GET", "/api/v1/tickets", &r, &id, &allow), 0);
    assert_int_equal(r->kind, OB_RK_LIST);
    assert_string_equal(r->perm, "tickets.view");
    assert_string_equal(r->feature, "support_desk");
    assert_int_equal(r->rate, OB_RATE_READ);
    assert_null(id);
    assert_int_equal(match("POST", "/api/v1/tickets/abc/assign", &r, &id, &allow), 0);
    assert_int_equal(r->kind, OB_RK_VERB);
    assert_string_equal(r->verb, "assign");
    assert_string_equal(id, "abc");
    assert_int_equal(r->rate, OB_RATE_WRITE);
    assert_int_equal(match("HEAD", "/healthz", &r, &id, &allow), 0);
    assert_int_equal(r->kind, OB_RK_LIVE);
    assert_int_equal(match("POST", "/api/v1/auth/login", &r, &id, &allow), 0);
    assert_int_equal(r->auth, OB_AUTH_NONE);
    assert_int_equal(r->rate, OB_RATE_AUTH);
    /* DELETE of a session runs its action, under that action's permission */
    assert_int_equal(match("DELETE", "/api/v1/user_sessions/x", &r, &id, &allow), 0);
    assert_non_null(r->verb);
    assert_string_equal(r->perm, "sessions.end");
}

static void test_no_route_and_method(void **state)
{
    (void)state;
    const ob_route_row *r;
    const char *id, *allow;
    assert_int_equal(match("GET", "/api/v1/nope", &r, &id, &allow), OB_E_NO_ROUTE);
    assert_int_equal(match("GET", "/api/v1/tickets/", &r, &id, &allow), OB_E_NO_ROUTE);
    assert_int_equal(match("GET", "/api/v1/tickets/a/b/c", &r, &id, &allow), OB_E_NO_ROUTE);
    assert_int_equal(match("PUT", "/api/v1/tickets/a", &r, &id, &allow), OB_E_METHOD);
    assert_string_equal(allow, "GET, PATCH, DELETE");
    assert_int_equal(match("GET", "/api/v1/tickets/a/start", &r, &id, &allow), OB_E_METHOD);
    assert_string_equal(allow, "POST");
    assert_int_equal(match("DELETE", "/api/v1/audit_logs/a", &r, &id, &allow), OB_E_METHOD);
    assert_string_equal(allow, "GET");
}

/* Every row's operation id is unique and only routes with a tenant have a feature. */
static void test_table_invariants(void **state)
{
    (void)state;
    const ob_routes *rt = ob_routes_get();
    assert_true(rt->n > 300);
    for (int i = 0; i < rt->n; i++) {
        const ob_route_row *r = &rt->rows[i];
        assert_non_null(r->handler);
        assert_true(!r->feature || r->auth == OB_AUTH_BEARER);
        for (int k = 0; k < i; k++) assert_true(strcmp(rt->rows[k].op_id, r->op_id) != 0);
    }
}

static void test_bucket(void **state)
{
    (void)state;
    int64_t rates[OB_RATE__COUNT] = {0, 2, 60, 0};
    ob_ratelimit *rl = ob_ratelimit_new(rates);
    int64_t ra;
    /* a full bucket: the minute's budget at once, then refusal */
    assert_true(ob_ratelimit_take(rl, OB_RATE_AUTH, "1.2.3.4", 1000, &ra));
    assert_true(ob_ratelimit_take(rl, OB_RATE_AUTH, "1.2.3.4", 1000, &ra));
    assert_false(ob_ratelimit_take(rl, OB_RATE_AUTH, "1.2.3.4", 1000, &ra));
    assert_int_equal(ra, 30); /* 2 a minute: one every 30 s */
    assert_false(ob_ratelimit_take(rl, OB_RATE_AUTH, "1.2.3.4", 21000, &ra));
    assert_int_equal(ra, 10);
    assert_true(ob_ratelimit_take(rl, OB_RATE_AUTH, "1.2.3.4", 31000, &ra));
    /* keys and classes are separate; a class of 0 is unlimited */
    assert_true(ob_ratelimit_take(rl, OB_RATE_AUTH, "5.6.7.8", 1000, &ra));
    for (int i = 0; i < 60; i++) assert_true(ob_ratelimit_take(rl, OB_RATE_READ, "1.2.3.4", 1000, &ra));
    assert_false(ob_ratelimit_take(rl, OB_RATE_READ, "1.2.3.4", 1000, &ra));
    assert_int_equal(ra, 1);
    for (int i = 0; i < 1000; i++) assert_true(ob_ratelimit_take(rl, OB_RATE_WRITE, "1.2.3.4", 1000, &ra));
    assert_true(ob_ratelimit_take(rl, OB_RATE_NONE, "x", 1000, &ra));
    /* a clock that goes back refills nothing and breaks nothing */
    assert_false(ob_ratelimit_take(rl, OB_RATE_READ, "1.2.3.4", 500, &ra));
    ob_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_rows),
        cmocka_unit_test(test_no_route_and_method),
        cmocka_unit_test(test_table_invariants),
        cmocka_unit_test(test_bucket),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
