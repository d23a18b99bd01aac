/* Unit tests for base/jsonw.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"

/* Escape s[0..n) and compare with the expected text. */
static void check_escape(const char *s, size_t n, const char *want)
{
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_json_escape(&sb, s, n);
    assert_string_equal(sb.buf, want);
    ob_sb_release(&sb);
}

/* The writer's output must always be JSON that jansson accepts. */
static void assert_valid_json(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!j)
        fail_msg("invalid JSON %s: %s", text, jerr.text);
    json_decref(j);
}

static void test_structure_and_commas(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_jw_obj_open(&w);
    ob_jw_ki64(&w, "a", 1);
    ob_jw_key(&w, "b");
    ob_jw_arr_open(&w);
    ob_jw_i64(&w, 1);
    ob_jw_i64(&w, -2);
    ob_jw_obj_open(&w);
    ob_jw_knull(&w, "c");
    ob_jw_obj_close(&w);
    ob_jw_arr_open(&w);
    ob_jw_arr_close(&w);
    ob_jw_obj_open(&w);
    ob_jw_obj_close(&w);
    ob_jw_arr_close(&w);
    ob_jw_kbool(&w, "d", true);
    ob_jw_kbool(&w, "e", false);
    ob_jw_kstr(&w, "f", "x");
    ob_jw_kstr(&w, "g", NULL);
    ob_jw_key(&w, "h");
    ob_jw_raw(&w, "{\"r\":[1]}", 9);
    ob_jw_key(&w, "i");
    ob_jw_strn(&w, "abcdef", 3);
    ob_jw_obj_close(&w);
    assert_int_equal(w.depth, 0);
    assert_string_equal(sb.buf, "{\"a\":1,\"b\":[1,-2,{\"c\":null},[],{}],\"d\":true,"
                                "\"e\":false,\"f\":\"x\",\"g\":null,\"h\":{\"r\":[1]},"
                                "\"i\":\"abc\"}");
    assert_valid_json(sb.buf);
    ob_sb_release(&sb);
}

static void test_top_level_array(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_jw_arr_open(&w);
    ob_jw_str(&w, "a");
    ob_jw_str(&w, NULL);
    ob_jw_bool(&w, false);
    ob_jw_null(&w);
    ob_jw_i64(&w, INT64_MIN);
    ob_jw_arr_close(&w);
    assert_string_equal(sb.buf, "[\"a\",null,false,null,-9223372036854775808]");
    ob_sb_release(&sb);
}

static void test_escape_short_forms(void **state)
{
    (void)state;
    check_escape("a\"b\\c\nd\re\tf\bg\fh", 15, "a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh");
    check_escape("/", 1, "/");       /* '/' is left alone */
    check_escape("\x7f", 1, "\x7f"); /* DEL needs no escape in JSON */
    check_escape("", 0, "");
    check_escape("plain text", 10, "plain text");
}

static void test_escape_control_chars(void **state)
{
    (void)state;
    check_escape("\x01\x1f\x0b", 3, "\\u0001\\u001f\\u000b");
    check_escape("a\0b", 3, "a\\u0000b");
    /* Every control character becomes valid JSON that decodes back. */
    for (int c = 1; c < 0x20; c++) {
        char in[2] = { (char)c, 0 };
        ob_sb sb;
        ob_sb_init(&sb, 0);
        ob_sb_adds(&sb, "[\"");
        ob_json_escape(&sb, in, 1);
        ob_sb_adds(&sb, "\"]");
        json_error_t jerr;
        json_t *j = json_loads(sb.buf, 0, &jerr);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_array_get(j, 0)), in);
        json_decref(j);
        ob_sb_release(&sb);
    }
}

static void test_escape_utf8(void **state)
{
    (void)state;
    /* Valid multi-byte text passes through unchanged. */
    const char *ok = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
    check_escape(ok, strlen(ok), ok);
#define FFFD "\xef\xbf\xbd"
    check_escape("\xff", 1, FFFD);
    check_escape("a\x80z", 3, "a" FFFD "z");               /* lone continuation */
    check_escape("\xe2\x82", 2, FFFD FFFD);                 /* truncated at the end */
    check_escape("\xe2\x82z", 3, FFFD FFFD "z");            /* truncated mid-string */
    check_escape("\xc0\xaf", 2, FFFD FFFD);                 /* overlong '/' */
    check_escape("\xed\xa0\x80", 3, FFFD FFFD FFFD);        /* surrogate */
    check_escape("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD); /* above U+10FFFF */
    check_escape("\xf8\x88\x80\x80\x80", 5, FFFD FFFD FFFD FFFD FFFD);
    check_escape("\xc3\xa9\xff\xc3\xa9", 5, "\xc3\xa9" FFFD "\xc3\xa9");
    /* A multi-byte sequence cut off by n is not read past n. */
    check_escape("\xc3\xa9", 1, FFFD);
#undef FFFD
}

static void test_bad_utf8_output_is_valid_json(void **state)
{
    (void)state;
    unsigned char junk[256];
    for (int i = 0; i < 256; i++)
        junk[i] = (unsigned char)(255 - i);
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_jw_obj_open(&w);
    ob_jw_key(&w, "k\xff\"");
    ob_jw_strn(&w, (const char *)junk, sizeof(junk));
    ob_jw_obj_close(&w);
    assert_valid_json(sb.buf);
    assert_true(ob_utf8_valid(sb.buf, sb.len));
    ob_sb_release(&sb);
}

static const char *f64_text(ob_sb *sb, double v)
{
    ob_jsonw w;
    ob_sb_reset(sb);
    ob_jw_init(&w, sb);
    ob_jw_f64(&w, v);
    return sb->buf;
}

static void test_f64(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    assert_string_equal(f64_text(&sb, 0.1), "0.1");
    assert_string_equal(f64_text(&sb, 1.5), "1.5");
    assert_string_equal(f64_text(&sb, 3.0), "3");
    assert_string_equal(f64_text(&sb, -2.25), "-2.25");
    assert_string_equal(f64_text(&sb, 1e300), "1e+300");
    assert_string_equal(f64_text(&sb, NAN), "null");
    assert_string_equal(f64_text(&sb, INFINITY), "null");
    assert_string_equal(f64_text(&sb, -INFINITY), "null");
    /* Values needing 16 or 17 digits still round-trip exactly. */
    const double vals[] = { 1.0 / 3.0, 0.1 + 0.2, 2.0 / 3.0, 5e-324, 1.7976931348623157e308,
                            123456789.123456789, -0.000123456789012345678 };
    for (size_t i = 0; i < OB_ARRAY_LEN(vals); i++) {
        const char *t = f64_text(&sb, vals[i]);
        assert_true(strtod(t, NULL) == vals[i]);
        assert_valid_json(t);
    }
    assert_string_equal(f64_text(&sb, 0.1 + 0.2), "0.30000000000000004");
    ob_sb_release(&sb);
}

static void test_f64_in_container(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_jw_arr_open(&w);
    ob_jw_f64(&w, 1.25);
    ob_jw_f64(&w, NAN);
    ob_jw_arr_close(&w);
    assert_string_equal(sb.buf, "[1.25,null]");
    ob_sb_release(&sb);
}

static void test_max_depth_ok(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    for (int i = 0; i < OB_JSONW_MAX_DEPTH; i++)
        ob_jw_arr_open(&w);
    for (int i = 0; i < OB_JSONW_MAX_DEPTH; i++)
        ob_jw_arr_close(&w);
    assert_int_equal(sb.len, 2 * OB_JSONW_MAX_DEPTH);
    ob_sb_release(&sb);
}

/* Opening one level too many is a programming error and aborts. */
static void test_too_deep_aborts(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        ob_sb sb;
        ob_sb_init(&sb, 0);
        ob_jsonw w;
        ob_jw_init(&w, &sb);
        for (int i = 0; i <= OB_JSONW_MAX_DEPTH; i++)
            ob_jw_obj_open(&w);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure_and_commas),
        cmocka_unit_test(test_top_level_array),
        cmocka_unit_test(test_escape_short_forms),
        cmocka_unit_test(test_escape_control_chars),
        cmocka_unit_test(test_escape_utf8),
        cmocka_unit_test(test_bad_utf8_output_is_valid_json),
        cmocka_unit_test(test_f64),
        cmocka_unit_test(test_f64_in_container),
        cmocka_unit_test(test_max_depth_ok),
        cmocka_unit_test(test_too_deep_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
