/* Unit tests for base/util.c, plus the error table (err.c) and the JSON log
 * lines (log.c), which have no test file of their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

static void test_parse_i64(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(ob_parse_i64("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ob_parse_i64("-0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ob_parse_i64("123", &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(ob_parse_i64("-45", &v), 0);
    assert_int_equal(v, -45);
    assert_int_equal(ob_parse_i64("007", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(ob_parse_i64("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(ob_parse_i64("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    v = 99;
    const char *bad[] = { "", "-", "+1", " 1", "1 ", "1a", "0x10", "1.0", "1e3", "--1",
                          "9223372036854775808", "-9223372036854775809",
                          "99999999999999999999999" };
    for (size_t i = 0; i < OB_ARRAY_LEN(bad); i++)
        if (ob_parse_i64(bad[i], &v) == 0)
            fail_msg("accepted %s", bad[i]);
    assert_int_equal(v, 99);
    assert_int_equal(ob_parse_i64(NULL, &v), -1);
}

static int64_t dec_ok(const char *s, int scale)
{
    int64_t v = -777;
    if (ob_parse_decimal(s, scale, &v) != 0)
        fail_msg("refused %s (scale %d)", s, scale);
    return v;
}

static void dec_bad(const char *s, int scale)
{
    int64_t v = -777;
    if (ob_parse_decimal(s, scale, &v) == 0)
        fail_msg("accepted %s (scale %d) as %lld", s, scale, (long long)v);
    assert_int_equal(v, -777);
}

static void test_parse_decimal(void **state)
{
    (void)state;
    assert_int_equal(dec_ok("12.5", 2), 1250);
    assert_int_equal(dec_ok("12.50", 2), 1250);
    assert_int_equal(dec_ok("12", 2), 1200);
    assert_int_equal(dec_ok("0", 2), 0);
    assert_int_equal(dec_ok("-0.00", 2), 0);
    assert_int_equal(dec_ok("-0.01", 2), -1);
    assert_int_equal(dec_ok("1250.00", 2), 125000);
    assert_int_equal(dec_ok("007.1", 2), 710);
    assert_int_equal(dec_ok("5", 0), 5);
    assert_int_equal(dec_ok("-5", 0), -5);
    assert_int_equal(dec_ok("1.2345", 4), 12345);
    assert_int_equal(dec_ok("0.000000000000000001", 18), 1);
    /* The int64 limits, exactly. */
    assert_true(dec_ok("92233720368547758.07", 2) == INT64_MAX);
    assert_true(dec_ok("-92233720368547758.08", 2) == INT64_MIN);
    assert_true(dec_ok("9223372036854775807", 0) == INT64_MAX);
    assert_true(dec_ok("-9223372036854775808", 0) == INT64_MIN);

    dec_bad("12.505", 2); /* too many decimals */
    dec_bad("12.500", 2);
    dec_bad("5.0", 0);
    dec_bad("5.", 2);
    dec_bad(".5", 2);
    dec_bad("", 2);
    dec_bad("-", 2);
    dec_bad("-.5", 2);
    dec_bad("+1", 2);
    dec_bad(" 1", 2);
    dec_bad("1 ", 2);
    dec_bad("1e3", 2);
    dec_bad("1.5e1", 2);
    dec_bad("1,5", 2);
    dec_bad("1.2.3", 2);
    dec_bad("--1", 2);
    dec_bad("0x10", 2);
    dec_bad("NaN", 2);
    /* Overflow, in the digits and in the scaling. */
    dec_bad("92233720368547758.08", 2);
    dec_bad("-92233720368547758.09", 2);
    dec_bad("92233720368547759", 2);
    dec_bad("9223372036854775808", 0);
    dec_bad("99999999999999999999999999", 2);
    dec_bad("1", 19); /* scale out of range */
    dec_bad("1", -1);
    dec_bad(NULL, 2);
}

static void fmt_is(int64_t minor, int scale, const char *want)
{
    char buf[64];
    ob_format_decimal(minor, scale, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static void test_format_decimal(void **state)
{
    (void)state;
    fmt_is(1250, 2, "12.50");
    fmt_is(-1250, 2, "-12.50");
    fmt_is(-1, 2, "-0.01");
    fmt_is(1, 2, "0.01");
    fmt_is(0, 2, "0.00");
    fmt_is(5, 0, "5");
    fmt_is(-5, 0, "-5");
    fmt_is(0, 0, "0");
    fmt_is(12345, 4, "1.2345");
    fmt_is(1, 18, "0.000000000000000001");
    fmt_is(INT64_MAX, 2, "92233720368547758.07");
    fmt_is(INT64_MIN, 2, "-92233720368547758.08");
    fmt_is(INT64_MIN, 0, "-9223372036854775808");
    fmt_is(INT64_MIN, 18, "-9.223372036854775808");
    /* A short buffer truncates but stays terminated. */
    char small[4] = { 'x', 'x', 'x', 'x' };
    ob_format_decimal(123456, 2, small, sizeof(small));
    assert_string_equal(small, "123");
    ob_format_decimal(1, 2, small, 0); /* nothing written */
    assert_string_equal(small, "123");
}

static void test_decimal_round_trip(void **state)
{
    (void)state;
    const int64_t vals[] = { 0, 1, -1, 99, -100, 123456789, INT64_MAX, INT64_MIN,
                             INT64_MAX - 1, INT64_MIN + 1 };
    for (int scale = 0; scale <= 18; scale++) {
        for (size_t i = 0; i < OB_ARRAY_LEN(vals); i++) {
            char buf[64];
            ob_format_decimal(vals[i], scale, buf, sizeof(buf));
            int64_t back;
            assert_int_equal(ob_parse_decimal(buf, scale, &back), 0);
            assert_true(back == vals[i]);
        }
    }
}

#define U8(s) ob_utf8_valid(s, sizeof(s) - 1)

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(U8(""));
    assert_true(U8("plain ascii ~\x7f"));
    assert_true(U8("caf\xc3\xa9"));
    assert_true(U8("\xc2\x80"));             /* U+0080 */
    assert_true(U8("\xe2\x82\xac"));         /* U+20AC */
    assert_true(U8("\xe0\xa0\x80"));         /* U+0800, smallest 3-byte */
    assert_true(U8("\xed\x9f\xbf"));         /* U+D7FF */
    assert_true(U8("\xee\x80\x80"));         /* U+E000 */
    assert_true(U8("\xef\xbf\xbf"));         /* U+FFFF */
    assert_true(U8("\xf0\x90\x80\x80"));     /* U+10000 */
    assert_true(U8("\xf0\x9f\x98\x80"));     /* emoji */
    assert_true(U8("\xf4\x8f\xbf\xbf"));     /* U+10FFFF */

    assert_false(U8("a\0b"));                /* NUL */
    assert_false(U8("\x80"));                /* lone continuation */
    assert_false(U8("\xbf"));
    assert_false(U8("\xc0\x80"));            /* overlong NUL */
    assert_false(U8("\xc1\xbf"));            /* overlong */
    assert_false(U8("\xe0\x80\xaf"));        /* overlong */
    assert_false(U8("\xe0\x9f\xbf"));        /* overlong */
    assert_false(U8("\xf0\x80\x80\xaf"));    /* overlong */
    assert_false(U8("\xf0\x8f\xbf\xbf"));    /* overlong */
    assert_false(U8("\xed\xa0\x80"));        /* U+D800 */
    assert_false(U8("\xed\xbf\xbf"));        /* U+DFFF */
    assert_false(U8("\xf4\x90\x80\x80"));    /* U+110000 */
    assert_false(U8("\xf5\x80\x80\x80"));
    assert_false(U8("\xff"));
    assert_false(U8("\xfe"));
    assert_false(U8("\xe2\x82"));            /* truncated */
    assert_false(U8("\xe2\x82z"));
    assert_false(U8("\xf0\x9f\x98"));
    assert_false(U8("\xc3"));
    assert_false(U8("\xc3\xc3\xa9"));
    assert_false(U8("\xe2\x28\xa1"));
    /* n bounds the check: a valid sequence cut by n is invalid. */
    assert_false(ob_utf8_valid("\xc3\xa9", 1));
    assert_true(ob_utf8_valid("ab\xff", 2));
}

static void test_utf8_len(void **state)
{
    (void)state;
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    assert_int_equal(ob_utf8_len(s, strlen(s)), 4);
    assert_int_equal(ob_utf8_len("", 0), 0);
    assert_int_equal(ob_utf8_len("abc", 3), 3);
}

static void test_ascii_lower_ct_equal(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 0);
    const char *in = "HeLLo-World_\xc3\x89Z";
    char *low = ob_ascii_lower(&a, in);
    assert_string_equal(low, "hello-world_\xc3\x89z"); /* non-ASCII bytes untouched */
    assert_string_equal(in, "HeLLo-World_\xc3\x89Z");
    assert_string_equal(ob_ascii_lower(&a, ""), "");
    ob_arena_release(&a);

    assert_true(ob_ct_equal("secret", "secret", 6));
    assert_false(ob_ct_equal("secret", "secreT", 6));
    assert_false(ob_ct_equal("Xecret", "secret", 6));
    assert_true(ob_ct_equal("ab", "ac", 1));
    assert_true(ob_ct_equal("", "", 0));
}

static void test_streq(void **state)
{
    (void)state;
    assert_true(ob_streq("a", "a"));
    assert_false(ob_streq("a", "b"));
    assert_false(ob_streq(NULL, "a"));
    assert_false(ob_streq(NULL, NULL));
}

/* ---- err.c ---- */

static void test_err_table(void **state)
{
    (void)state;
    assert_int_equal(ob_err_http_status(OB_E_OK), 200);
    assert_int_equal(ob_err_http_status(OB_E_NOT_FOUND), 404);
    assert_int_equal(ob_err_http_status(OB_E_VERSION), 412);
    assert_int_equal(ob_err_http_status(OB_E_STORAGE), 503);
    assert_string_equal(ob_err_code_str(OB_E_BAD_JSON), "invalid_json");
    assert_string_equal(ob_err_code_str(OB_E_BAD_STATE), "invalid_transition");
    assert_string_equal(ob_err_default_msg(OB_E_NOT_FOUND), "no such record");
    /* Out-of-range codes read as internal instead of past the table. */
    assert_int_equal(ob_err_http_status(OB_E__COUNT), 500);
    assert_int_equal(ob_err_http_status((ob_errcode)-1), 500);
    assert_string_equal(ob_err_code_str((ob_errcode)1000), "internal");
    for (int c = 0; c < OB_E__COUNT; c++) {
        int st = ob_err_http_status((ob_errcode)c);
        assert_true(st >= 200 && st < 600);
        assert_true(strlen(ob_err_code_str((ob_errcode)c)) > 0);
        assert_true(strlen(ob_err_default_msg((ob_errcode)c)) > 0);
    }
}

static void test_err_set(void **state)
{
    (void)state;
    ob_err e;
    ob_err_clear(&e);
    assert_int_equal(e.code, OB_E_OK);
    assert_int_equal(ob_err_set(&e, OB_E_CONFLICT, "'%s' exists (%d)", "email", 2), -1);
    assert_int_equal(e.code, OB_E_CONFLICT);
    assert_string_equal(e.message, "'email' exists (2)");
    ob_err_field_add(&e, "email", "taken");
    snprintf(e.field, sizeof(e.field), "email");
    assert_int_equal(ob_err_set(&e, OB_E_NOT_FOUND, NULL), -1);
    assert_string_equal(e.message, "no such record");
    assert_int_equal(e.nfields, 0); /* fields cleared */
    assert_string_equal(e.field, "");
    /* A long message is truncated, not overflowed. */
    char longmsg[1000];
    memset(longmsg, 'm', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    ob_err_set(&e, OB_E_INTERNAL, "%s", longmsg);
    assert_int_equal(strlen(e.message), sizeof(e.message) - 1);
    assert_int_equal(ob_err_set(NULL, OB_E_INTERNAL, NULL), -1);
}

static void test_err_fields(void **state)
{
    (void)state;
    ob_err e;
    ob_err_clear(&e);
    assert_int_equal(ob_err_field_add(&e, "email", "required"), -1);
    assert_int_equal(e.code, OB_E_VALIDATION);
    assert_string_equal(e.message, "one or more fields are invalid");
    ob_err_field_add(&e, "priority", "must be between 1 and 5");
    assert_int_equal(e.nfields, 2);
    assert_string_equal(e.fields[1].name, "priority");
    assert_string_equal(e.fields[1].problem, "must be between 1 and 5");
    for (int i = 0; i < 100; i++)
        ob_err_field_add(&e, "f", "p");
    assert_int_equal(e.nfields, OB_ERR_MAX_FIELDS);
    /* An existing code is kept. */
    ob_err_set(&e, OB_E_UNKNOWN_FIELD, NULL);
    ob_err_field_add(&e, "x", "unknown");
    assert_int_equal(e.code, OB_E_UNKNOWN_FIELD);
    assert_int_equal(e.nfields, 1);
}

/* ---- log.c ---- */

/* Run fn with stderr redirected to a temporary file; return what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fileno(f), 2), 2);
    fn();
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    static char buf[8192];
    size_t got = fread(buf, 1, sizeof(buf) - 1, f);
    assert_int_equal(got, (size_t)size);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static void log_some(void)
{
    ob_log_set_level(OB_LOG_INFO);
    ob_log(OB_LOG_DEBUG, "hidden", "k", "v", NULL);
    ob_log(OB_LOG_INFO, "listening", "addr", "127.0.0.1:8080", "note", "a \"q\"\n\x01",
           NULL);
    ob_log(OB_LOG_ERROR, "plain", NULL);
    ob_log(OB_LOG_OFF, "never", NULL);
    ob_log_raw(OB_LOG_WARN, "\"method\":\"GET\",\"status\":200");
}

static void test_log_lines(void **state)
{
    (void)state;
    char *out = capture_stderr(log_some);
    char *lines[8];
    int n = 0;
    for (char *p = out; *p && n < 8;) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line is terminated */
        *nl = '\0';
        lines[n++] = p;
        p = nl + 1;
    }
    assert_int_equal(n, 3);
    /* Key order: time, level, msg, then the pairs. */
    assert_true(strncmp(lines[0], "{\"time\":\"", 9) == 0);
    assert_non_null(strstr(lines[0], "Z\",\"level\":\"info\",\"msg\":\"listening\",\"addr\":"));
    json_error_t jerr;
    json_t *j = json_loads(lines[0], 0, &jerr);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(j, "addr")), "127.0.0.1:8080");
    assert_string_equal(json_string_value(json_object_get(j, "note")), "a \"q\"\n\x01");
    int64_t ms;
    assert_int_equal(ob_ts_parse(json_string_value(json_object_get(j, "time")), &ms), 0);
    json_decref(j);

    j = json_loads(lines[1], 0, &jerr);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "plain");
    json_decref(j);

    j = json_loads(lines[2], 0, &jerr);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    assert_null(json_object_get(j, "msg"));
    json_decref(j);
}

static void test_log_level_parse(void **state)
{
    (void)state;
    ob_log_level l = OB_LOG_INFO;
    assert_int_equal(ob_log_level_parse("debug", &l), 0);
    assert_int_equal(l, OB_LOG_DEBUG);
    assert_int_equal(ob_log_level_parse("off", &l), 0);
    assert_int_equal(l, OB_LOG_OFF);
    assert_int_equal(ob_log_level_parse("warn", &l), 0);
    assert_int_equal(l, OB_LOG_WARN);
    assert_int_equal(ob_log_level_parse("verbose", &l), -1);
    assert_int_equal(ob_log_level_parse("", &l), -1);
    assert_int_equal(ob_log_level_parse(NULL, &l), -1);
    assert_int_equal(l, OB_LOG_WARN);
    ob_log_set_level(OB_LOG_ERROR);
    assert_int_equal(ob_log_get_level(), OB_LOG_ERROR);
    ob_log_set_level(OB_LOG_INFO);
}

/* ÄRGER@x.test and ärger@x.test were two users: only ASCII was lowered. */
static void test_text_lower_unicode_nfc(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 0);
    size_t n;
    assert_string_equal(ob_text_lower(&a, "\xc3\x84RGER@X.TEST", 13, &n), "\xc3\xa4rger@x.test");
    assert_int_equal(n, 13);
    /* a decomposed A + U+0308 is the same address, precomposed (NFC) */
    assert_string_equal(ob_text_lower(&a, "A\xcc\x88rger@x.test", 14, &n), "\xc3\xa4rger@x.test");
    assert_int_equal(n, 13);
    /* Greek capital sigma at the end of a word is a final sigma */
    assert_string_equal(ob_text_lower(&a, "\xce\x9f\xce\xa3", 4, NULL), "\xce\xbf\xcf\x82");
    /* Cyrillic, already lower text and ASCII are unchanged in meaning */
    assert_string_equal(ob_text_lower(&a, "\xd0\x96", 2, NULL), "\xd0\xb6");
    assert_string_equal(ob_text_lower(&a, "plain@x.test", 12, NULL), "plain@x.test");
    assert_string_equal(ob_text_lower(&a, "", 0, &n), "");
    assert_int_equal(n, 0);
    /* not UTF-8: only the ASCII letters are lowered */
    assert_string_equal(ob_text_lower(&a, "AB\xff", 3, &n), "ab\xff");
    assert_int_equal(n, 3);
    ob_arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_i64),
        cmocka_unit_test(test_parse_decimal),
        cmocka_unit_test(test_format_decimal),
        cmocka_unit_test(test_decimal_round_trip),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_len),
        cmocka_unit_test(test_ascii_lower_ct_equal),
        cmocka_unit_test(test_text_lower_unicode_nfc),
        cmocka_unit_test(test_streq),
        cmocka_unit_test(test_err_table),
        cmocka_unit_test(test_err_set),
        cmocka_unit_test(test_err_fields),
        cmocka_unit_test(test_log_lines),
        cmocka_unit_test(test_log_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
