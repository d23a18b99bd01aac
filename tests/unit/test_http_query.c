/* test_http_query.c - request target parsing (http/query.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "http/http.h"
#include "http/query.h"
#include "base/banned.h"

static ob_arena g_arena;

static int setup(void **state)
{
    (void)state;
    ob_arena_init(&g_arena, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ob_arena_release(&g_arena);
    return 0;
}

static void parse_qs(ob_req *r, const char *qs)
{
    memset(r, 0, sizeof *r);
    ob_http_parse_query(r, &g_arena, qs, strlen(qs));
}

static void assert_kv(const ob_req *r, int i, const char *k, const char *v)
{
    assert_true(i < r->nquery);
    assert_string_equal(r->query[i].key, k);
    assert_string_equal(r->query[i].val, v);
}

static void test_query_basic(void **state)
{
    (void)state;
    ob_req r;
    parse_qs(&r, "status=open&priority.gte=3&sort=-created_at,id");
    assert_false(r.query_bad);
    assert_int_equal(r.nquery, 3);
    assert_kv(&r, 0, "status", "open");
    assert_kv(&r, 1, "priority.gte", "3");
    assert_kv(&r, 2, "sort", "-created_at,id");

    parse_qs(&r, "");
    assert_int_equal(r.nquery, 0);
    assert_false(r.query_bad);
}

static void test_query_decoding(void **state)
{
    (void)state;
    ob_req r;
    parse_qs(&r, "q=two+words&e=%41%62%2b%20x&plus=%2B&utf=%C3%A9&a%3Db=c%26d&eq==x=");
    assert_false(r.query_bad);
    assert_int_equal(r.nquery, 6);
    assert_kv(&r, 0, "q", "two words");
    assert_kv(&r, 1, "e", "Ab+ x");
    assert_kv(&r, 2, "plus", "+");
    assert_kv(&r, 3, "utf", "\xc3\xa9");
    assert_kv(&r, 4, "a=b", "c&d"); /* escaped separators are data */
    assert_kv(&r, 5, "eq", "=x="); /* only the first '=' splits */
}

static void test_query_empty_and_repeated(void **state)
{
    (void)state;
    ob_req r;
    parse_qs(&r, "&a=&b&&a=2&=v&");
    assert_false(r.query_bad);
    assert_int_equal(r.nquery, 4);
    assert_kv(&r, 0, "a", "");
    assert_kv(&r, 1, "b", "");
    assert_kv(&r, 2, "a", "2");
    assert_kv(&r, 3, "", "v");
}

static void test_query_bad(void **state)
{
    (void)state;
    const char *bad[] = { "a=%", "a=%4", "a=%zz", "a=%g0", "%zz=1", "a=%00", "a%00=1", "a=x%0" };
    for (size_t i = 0; i < OB_ARRAY_LEN(bad); i++) {
        ob_req r;
        parse_qs(&r, bad[i]);
        assert_true(r.query_bad);
        assert_int_equal(r.nquery, 0);
    }
    /* The bad parameter is dropped, the good ones kept. */
    ob_req r;
    parse_qs(&r, "a=1&b=%zz&c=3");
    assert_true(r.query_bad);
    assert_int_equal(r.nquery, 2);
    assert_kv(&r, 0, "a", "1");
    assert_kv(&r, 1, "c", "3");

    /* A NUL byte inside the raw text (not encoded) is refused too. */
    const char raw[] = { 'a', '=', 'x', '\0', 'y' };
    memset(&r, 0, sizeof r);
    ob_http_parse_query(&r, &g_arena, raw, sizeof raw);
    assert_true(r.query_bad);
}

static void test_query_too_many(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    for (int i = 0; i < OB_MAX_QUERY_PARAMS; i++)
        ob_sb_addf(&sb, "%sk%d=%d", i ? "&" : "", i, i);
    ob_req r;
    parse_qs(&r, sb.buf);
    assert_false(r.query_bad);
    assert_int_equal(r.nquery, OB_MAX_QUERY_PARAMS);
    assert_kv(&r, OB_MAX_QUERY_PARAMS - 1, "k63", "63");

    ob_sb_adds(&sb, "&&&"); /* empty parameters do not count */
    parse_qs(&r, sb.buf);
    assert_false(r.query_bad);

    ob_sb_adds(&sb, "extra=1");
    parse_qs(&r, sb.buf);
    assert_true(r.query_bad);
    assert_int_equal(r.nquery, OB_MAX_QUERY_PARAMS);
    ob_sb_release(&sb);
}

static void test_target(void **state)
{
    (void)state;
    ob_req r;
    memset(&r, 0, sizeof r);
    assert_int_equal(ob_http_parse_target(&r, &g_arena, "/api/v1/tickets?status=open&q=a+b"), 0);
    assert_string_equal(r.path, "/api/v1/tickets");
    assert_string_equal(r.raw_path, "/api/v1/tickets");
    assert_int_equal(r.nquery, 2);
    assert_kv(&r, 1, "q", "a b");

    assert_int_equal(r.nseg, 3);
    assert_string_equal(r.seg[0], "api");
    assert_string_equal(r.seg[2], "tickets");

    /* In the path '+' is a plus; %2F is data inside its segment. */
    assert_int_equal(ob_http_parse_target(&r, &g_arena, "/a+b/%C3%A9%2Fx"), 0);
    assert_string_equal(r.path, "/a+b/\xc3\xa9%2Fx");
    assert_string_equal(r.raw_path, "/a+b/%C3%A9%2Fx");
    assert_int_equal(r.nseg, 2);
    assert_string_equal(r.seg[0], "a+b");
    assert_string_equal(r.seg[1], "\xc3\xa9/x");
    assert_int_equal(r.nquery, 0);
    assert_false(r.query_bad);

    assert_int_equal(ob_http_parse_target(&r, &g_arena, "/x?"), 0);
    assert_string_equal(r.path, "/x");
    assert_int_equal(r.nquery, 0);

    /* A bad query does not make the target unusable. */
    assert_int_equal(ob_http_parse_target(&r, &g_arena, "/x?a=%zz"), 0);
    assert_true(r.query_bad);

    /* State from an earlier parse does not leak into the next. */
    assert_int_equal(ob_http_parse_target(&r, &g_arena, "/y"), 0);
    assert_false(r.query_bad);
    assert_int_equal(r.nquery, 0);
}

/* Decoding before splitting made "%2F" a separator: /api/v1%2Ftickets
 * reached the tickets routes. */
static void test_encoded_slash_is_not_a_separator(void **state)
{
    (void)state;
    ob_req r;
    memset(&r, 0, sizeof r);
    assert_int_equal(ob_http_parse_target(&r, &g_arena, "/api/v1%2Ftickets"), 0);
    assert_int_equal(r.nseg, 2);
    assert_string_equal(r.seg[0], "api");
    assert_string_equal(r.seg[1], "v1/tickets");
    assert_string_equal(r.path, "/api/v1%2Ftickets");

    assert_int_equal(ob_http_parse_target(&r, &g_arena, "/api/v1/tickets%2fx?a=1"), 0);
    assert_int_equal(r.nseg, 3);
    assert_string_equal(r.seg[2], "tickets/x");
    assert_string_equal(r.path, "/api/v1/tickets%2Fx");
    assert_int_equal(r.nquery, 1);

    /* Other escapes decode inside their segment; "%252F" is the text "%2F". */
    assert_int_equal(ob_http_parse_target(&r, &g_arena, "/%61pi/%252F/x%20y"), 0);
    assert_int_equal(r.nseg, 3);
    assert_string_equal(r.seg[0], "api");
    assert_string_equal(r.seg[1], "%2F");
    assert_string_equal(r.seg[2], "x y");

    /* Empty segments are kept for the router to refuse. */
    assert_int_equal(ob_http_parse_target(&r, &g_arena, "/"), 0);
    assert_int_equal(r.nseg, 1);
    assert_string_equal(r.seg[0], "");
    assert_int_equal(ob_http_parse_target(&r, &g_arena, "/a//b/"), 0);
    assert_int_equal(r.nseg, 4);
    assert_string_equal(r.seg[1], "");
    assert_string_equal(r.seg[3], "");

    /* More segments than any route has, escaped or not. */
    ob_sb sb;
    ob_sb_init(&sb, 0);
    for (int i = 0; i < OB_MAX_PATH_SEGS; i++)
        ob_sb_adds(&sb, "/s");
    assert_int_equal(ob_http_parse_target(&r, &g_arena, sb.buf), 0);
    assert_int_equal(r.nseg, OB_MAX_PATH_SEGS);
    ob_sb_adds(&sb, "/s");
    assert_int_equal(ob_http_parse_target(&r, &g_arena, sb.buf), 0);
    assert_int_equal(r.nseg, -1);
    ob_sb_adds(&sb, "/%41");
    assert_int_equal(ob_http_parse_target(&r, &g_arena, sb.buf), 0);
    assert_int_equal(r.nseg, -1);
    ob_sb_release(&sb);
}

static void test_target_bad(void **state)
{
    (void)state;
    const char *bad[] = { "", "*", "x/y", "http://h/p", "/a%zz", "/a%", "/a%2", "/a%00", "/a b",
                          "/a\tb", "/a\x7f", "/ok?x=a b" };
    for (size_t i = 0; i < OB_ARRAY_LEN(bad); i++) {
        ob_req r;
        memset(&r, 0, sizeof r);
        if (ob_http_parse_target(&r, &g_arena, bad[i]) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_non_null(r.raw_path); /* kept for the access log */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_basic),
        cmocka_unit_test(test_query_decoding),
        cmocka_unit_test(test_query_empty_and_repeated),
        cmocka_unit_test(test_query_bad),
        cmocka_unit_test(test_query_too_many),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_encoded_slash_is_not_a_separator),
        cmocka_unit_test(test_target_bad),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
