/* Unit tests for base/jsonr.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "base/jsonr.h"

static int depth_of(const char *s)
{
    return ob_json_depth(s, strlen(s));
}

static void test_depth(void **state)
{
    (void)state;
    assert_int_equal(depth_of(""), 0);
    assert_int_equal(depth_of("42"), 0);
    assert_int_equal(depth_of("{}"), 1);
    assert_int_equal(depth_of("[[[]]]"), 3);
    assert_int_equal(depth_of("{\"a\":[1,{\"b\":[]}],\"c\":{}}"), 4);
    assert_int_equal(depth_of("[[]][[[]]]"), 3); /* maximum, not final */
    /* Brackets inside strings do not count. */
    assert_int_equal(depth_of("{\"a\":\"[[[[{{{{\"}"), 1);
    assert_int_equal(depth_of("{\"[[[\":\"}}}]]]\"}"), 1);
    /* An escaped quote does not end the string... */
    assert_int_equal(depth_of("{\"a\":\"\\\"[[[[\"}"), 1);
    /* ...but an escaped backslash before a quote does. */
    assert_int_equal(depth_of("{\"a\\\\\":[[1]]}"), 3);
    assert_int_equal(depth_of("[\"\\\\\",[\"\\\\\\\"[\"]]"), 2);
    /* Only len bytes are looked at. */
    assert_int_equal(ob_json_depth("[[[[", 2), 2);
    /* Stray closers do not go negative. */
    assert_int_equal(depth_of("]]]]["), 1);
}

static json_t *parse(const char *s, int max_depth, ob_err *e)
{
    ob_err_clear(e);
    return ob_json_parse_object(s, strlen(s), max_depth, e);
}

static void test_parse_ok(void **state)
{
    (void)state;
    ob_err e;
    json_t *j = parse(" {\"a\": 1, \"b\": [true, null, \"x\\u00e9\"]} \n", 0, &e);
    assert_non_null(j);
    assert_true(json_is_object(j));
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "b"), 2)),
                        "x\xc3\xa9");
    json_decref(j);
    j = parse("{}", 0, &e);
    assert_non_null(j);
    json_decref(j);
}

static void test_parse_len_bounded(void **state)
{
    (void)state;
    ob_err e;
    ob_err_clear(&e);
    const char *s = "{\"a\":1}garbage";
    json_t *j = ob_json_parse_object(s, 7, 0, &e);
    assert_non_null(j);
    json_decref(j);
    assert_null(ob_json_parse_object(s, strlen(s), 0, &e));
    assert_int_equal(e.code, OB_E_BAD_JSON);
}

static void expect_bad(const char *body, size_t len, int max_depth, const char *msg_part)
{
    ob_err e;
    ob_err_clear(&e);
    json_t *j = ob_json_parse_object(body, len, max_depth, &e);
    if (j) {
        json_decref(j);
        fail_msg("accepted: %s", body);
    }
    assert_int_equal(e.code, OB_E_BAD_JSON);
    assert_int_equal(ob_err_http_status(e.code), 400);
    if (msg_part && !strstr(e.message, msg_part))
        fail_msg("message '%s' lacks '%s'", e.message, msg_part);
}

static void test_parse_refusals(void **state)
{
    (void)state;
    expect_bad("", 0, 0, "empty");
    expect_bad("  \n\t", 4, 0, "empty");
    expect_bad(NULL, 0, 0, "empty");
    expect_bad("[1,2]", 5, 0, "must be a JSON object");
    expect_bad("42", 2, 0, "must be a JSON object");
    expect_bad("\"s\"", 3, 0, "must be a JSON object");
    expect_bad("null", 4, 0, "must be a JSON object");
    expect_bad("{\"a\":1,\"a\":2}", 13, 0, "duplicate");
    expect_bad("{\"a\":\"x\\u0000y\"}", 16, 0, "line 1");
    expect_bad("{\"a\":1}{}", 9, 0, NULL);        /* trailing content */
    expect_bad("{\"a\":1,}", 8, 0, NULL);         /* trailing comma */
    expect_bad("{\"a\":\"\xff\"}", 9, 0, NULL);   /* invalid UTF-8 */
    expect_bad("{\"a\":\"\xc0\xaf\"}", 10, 0, NULL); /* overlong */
    expect_bad("{\"a\":1e999}", 11, 0, NULL); /* beyond any double */
    expect_bad("{\"a\":1", 6, 0, NULL);
    expect_bad("{\"a\":\"x\0\"}", 10, 0, NULL);  /* raw NUL byte */
}

/* An integer beyond 64 bits made the whole body invalid_json: it is read as a
 * double instead, so that validation can name its field. */
static void test_too_large_integer_is_read_as_double(void **state)
{
    (void)state;
    ob_err e;
    ob_err_clear(&e);
    const char *body = "{\"a\":99999999999999999999,\"b\":-99999999999999999999}";
    json_t *j = ob_json_parse_object(body, strlen(body), 0, &e);
    assert_non_null(j);
    assert_true(json_is_real(json_object_get(j, "a")));
    assert_true(json_real_value(json_object_get(j, "a")) > 9.9e19);
    assert_true(json_real_value(json_object_get(j, "b")) < -9.9e19);
    json_decref(j);
}

static void test_error_position(void **state)
{
    (void)state;
    ob_err e;
    assert_null(parse("{\n  \"a\": tru\n}", 0, &e));
    assert_int_equal(e.code, OB_E_BAD_JSON);
    assert_non_null(strstr(e.message, "line 2"));
    assert_non_null(strstr(e.message, "column"));
}

static void test_depth_limit(void **state)
{
    (void)state;
    char body[512];
    /* {"a":[[[...]]]} with total depth d */
    for (int d = 30; d <= 34; d++) {
        size_t n = 0;
        n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"a\":");
        for (int i = 1; i < d; i++)
            body[n++] = '[';
        for (int i = 1; i < d; i++)
            body[n++] = ']';
        body[n++] = '}';
        body[n] = '\0';
        assert_int_equal(ob_json_depth(body, n), d);
        ob_err e;
        ob_err_clear(&e);
        json_t *j = ob_json_parse_object(body, n, OB_JSON_MAX_DEPTH_DEFAULT, &e);
        if (d <= OB_JSON_MAX_DEPTH_DEFAULT) {
            assert_non_null(j);
            json_decref(j);
        } else {
            assert_null(j);
            assert_int_equal(e.code, OB_E_BAD_JSON);
            assert_non_null(strstr(e.message, "too deep"));
        }
    }
    /* A smaller explicit limit, and brackets in strings do not count. */
    ob_err e;
    json_t *j = parse("{\"a\":{\"b\":\"[[[[[[\"}}", 2, &e);
    assert_non_null(j);
    json_decref(j);
    assert_null(parse("{\"a\":{\"b\":[]}}", 2, &e));
    assert_non_null(strstr(e.message, "too deep"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_len_bounded),
        cmocka_unit_test(test_parse_refusals), cmocka_unit_test(test_too_large_integer_is_read_as_double),
        cmocka_unit_test(test_error_position),
        cmocka_unit_test(test_depth_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
