/* Unit tests for base/clock.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

static void check_format(int64_t ms, const char *want)
{
    char out[OB_TS_LEN];
    ob_ts_format(ms, out);
    assert_string_equal(out, want);
}

static int64_t parse_ok(const char *s)
{
    int64_t ms = -42;
    if (ob_ts_parse(s, &ms) != 0)
        fail_msg("refused: %s", s);
    return ms;
}

static void parse_bad(const char *s)
{
    int64_t ms = 7;
    if (ob_ts_parse(s, &ms) == 0)
        fail_msg("accepted: %s", s);
    assert_int_equal(ms, 7); /* untouched on failure */
}

static void test_now(void **state)
{
    (void)state;
    int64_t now = ob_now_ms();
    assert_true(now > INT64_C(1700000000000)); /* after 2023 */
    assert_true(now < INT64_C(4102444800000)); /* before 2100 */
    int64_t m1 = ob_mono_us();
    struct timespec ts = { 0, 2000000 };
    nanosleep(&ts, NULL);
    int64_t m2 = ob_mono_us();
    assert_true(m2 - m1 >= 2000);
}

static void test_format_known(void **state)
{
    (void)state;
    check_format(0, "1970-01-01T00:00:00.000Z");
    check_format(1, "1970-01-01T00:00:00.001Z");
    check_format(-1, "1969-12-31T23:59:59.999Z");
    check_format(INT64_C(1700000000123), "2023-11-14T22:13:20.123Z");
    check_format(INT64_C(951782400000), "2000-02-29T00:00:00.000Z");
    check_format(INT64_C(253402300799999), "9999-12-31T23:59:59.999Z");
    check_format(INT64_C(-62135596800000), "0001-01-01T00:00:00.000Z");
    /* Out of range clamps to the representable years. */
    check_format(INT64_MAX, "9999-12-31T23:59:59.999Z");
    check_format(INT64_MIN, "0001-01-01T00:00:00.000Z");
    char out[OB_TS_LEN];
    ob_ts_format(ob_now_ms(), out);
    assert_int_equal(strlen(out), OB_TS_LEN - 1);
}

static void test_round_trip(void **state)
{
    (void)state;
    /* A deterministic spread over the whole range, with odd milliseconds. */
    const int64_t lo = INT64_C(-62135596800000), hi = INT64_C(253402300799999);
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
        char out[OB_TS_LEN];
        ob_ts_format(ms, out);
        int64_t back;
        assert_int_equal(ob_ts_parse(out, &back), 0);
        assert_int_equal(back, ms);
    }
}

static void test_parse_forms(void **state)
{
    (void)state;
    const int64_t base = parse_ok("2026-11-22T04:45:30Z");
    assert_int_equal(parse_ok("2026-11-22T04:45:30.000Z"), base);
    assert_int_equal(parse_ok("2026-11-22t04:45:30z"), base);
    assert_int_equal(parse_ok("2026-11-22 04:45:30Z"), base);
    assert_int_equal(parse_ok("2026-11-22T10:15:30+05:30"), base);
    assert_int_equal(parse_ok("2026-11-21T20:45:30-08:00"), base);
    assert_int_equal(parse_ok("2026-11-22T04:45:30+00:00"), base);
    assert_int_equal(parse_ok("2026-11-22T04:45:30-00:00"), base);
    assert_int_equal(parse_ok("2026-11-22T04:45:30.5Z"), base + 500);
    assert_int_equal(parse_ok("2026-11-22T04:45:30.12Z"), base + 120);
    assert_int_equal(parse_ok("2026-11-22T04:45:30.123Z"), base + 123);
    assert_int_equal(parse_ok("2026-11-22T04:45:30.1239Z"), base + 123); /* truncated */
    assert_int_equal(parse_ok("2026-11-22T04:45:30.999999999Z"), base + 999);
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999Z"), -1);
    assert_int_equal(parse_ok("1970-01-01T01:00:00+01:00"), 0);
    assert_int_equal(parse_ok("2023-11-14T22:13:20.123Z"), INT64_C(1700000000123));
    assert_int_equal(parse_ok("0001-01-01T00:00:00Z"), INT64_C(-62135596800000));
}

static void test_parse_rejects(void **state)
{
    (void)state;
    parse_bad("");
    parse_bad("2026-11-22");
    parse_bad("2026-11-22T04:45:30");       /* no zone */
    parse_bad("2026-11-22T04:45Z");         /* no seconds */
    parse_bad("2026-11-22T04:45:30.Z");     /* empty fraction */
    parse_bad("2026-11-22T04:45:30.1234567890Z"); /* 10 fraction digits */
    parse_bad("2026-11-22T04:45:30ZZ");
    parse_bad("2026-11-22T04:45:30Z ");
    parse_bad(" 2026-11-22T04:45:30Z");
    parse_bad("2026-11-22X04:45:30Z");
    parse_bad("2026-11-22T04:45:30+0530");
    parse_bad("2026-11-22T04:45:30+05");
    parse_bad("2026-11-22T04:45:30+24:00");
    parse_bad("2026-11-22T04:45:30+05:60");
    parse_bad("2026-1-22T04:45:30Z");
    parse_bad("26-11-22T04:45:30Z");
    parse_bad("+2026-11-22T04:45:30Z");
    parse_bad("2026-11-22T4:45:30Z");
    /* Impossible dates and times. */
    parse_bad("2026-02-30T00:00:00Z");
    parse_bad("2026-02-29T00:00:00Z");
    parse_bad("1900-02-29T00:00:00Z"); /* century, not leap */
    parse_bad("2026-13-01T00:00:00Z");
    parse_bad("2026-00-10T00:00:00Z");
    parse_bad("2026-04-31T00:00:00Z");
    parse_bad("2026-01-00T00:00:00Z");
    parse_bad("2026-01-32T00:00:00Z");
    parse_bad("2026-01-01T24:00:00Z");
    parse_bad("2026-01-01T23:60:00Z");
    parse_bad("2026-01-01T23:59:60Z");
    parse_bad("0000-01-01T00:00:00Z");
    assert_int_equal(ob_ts_parse(NULL, &(int64_t){ 0 }), -1);
    /* Leap days that exist. */
    parse_ok("2024-02-29T12:00:00Z");
    parse_ok("2000-02-29T12:00:00Z");
    parse_ok("1600-02-29T12:00:00Z");
}

static void test_date_parse(void **state)
{
    (void)state;
    int64_t d = -1;
    assert_int_equal(ob_date_parse("1970-01-01", &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(ob_date_parse("2000-03-01", &d), 0);
    assert_int_equal(d, 11017);
    assert_int_equal(ob_date_parse("1969-12-31", &d), 0);
    assert_int_equal(d, -1);
    assert_int_equal(ob_date_parse("2024-02-29", &d), 0);
    d = 5;
    const char *bad[] = { "", "2023-02-29", "2100-02-29", "2026-13-01", "2026-00-01",
                          "2026-06-31", "2026-06-00", "0000-01-01", "2026-6-01",
                          "2026-06-01T00:00:00Z", "2026-06-01 ", "20260601", "2026/06/01",
                          "x026-06-01" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ob_date_parse(bad[i], &d) == 0)
            fail_msg("accepted date %s", bad[i]);
    }
    assert_int_equal(d, 5);
    assert_int_equal(ob_date_parse(NULL, &d), -1);
}

/* Every date of years 0001..9999: format, parse back, and agree with the C
 * library's gmtime_r on the same instant. */
static void test_date_exhaustive(void **state)
{
    (void)state;
    int64_t first, last;
    assert_int_equal(ob_date_parse("0001-01-01", &first), 0);
    assert_int_equal(ob_date_parse("9999-12-31", &last), 0);
    assert_int_equal(last - first + 1, 3652059);
    char out[11], want[32];
    for (int64_t d = first; d <= last; d++) {
        ob_date_format(d, out);
        int64_t back;
        assert_int_equal(ob_date_parse(out, &back), 0);
        assert_int_equal(back, d);
        if (d % 97 == 0 || d - first < 800 || last - d < 800) {
            time_t t = (time_t)(d * 86400);
            struct tm tm;
            assert_non_null(gmtime_r(&t, &tm));
            snprintf(want, sizeof(want), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday);
            assert_string_equal(out, want);
        }
    }
    ob_date_format(last + 1000, out);
    assert_string_equal(out, "9999-12-31");
    ob_date_format(first - 1000, out);
    assert_string_equal(out, "0001-01-01");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_format_known),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_date_exhaustive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
