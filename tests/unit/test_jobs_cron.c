/* test_jobs_cron.c - cron specs and their next slot, in UTC and across
 * daylight-saving changes (the system's zoneinfo files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/base.h"
#include "jobs/cron.h"
#include "base/banned.h"

/* The next slot of spec in zone after the timestamp `after`, as a timestamp. */
static const char *next(const char *spec, const char *zone, const char *after)
{
    static char out[OB_TS_LEN];
    ob_cron c;
    ob_err err;
    const ob_tz *z;
    int64_t ms, at;
    assert_int_equal(ob_cron_parse(spec, &c, &err), 0);
    assert_int_equal(ob_tz_get(zone, &z, &err), 0);
    assert_int_equal(ob_ts_parse(after, &ms), 0);
    if (ob_cron_next(&c, z, ms, &at) != 0) return "never";
    ob_ts_format(at, out);
    return out;
}

static void test_parse_refuses_malformed_specs(void **state)
{
    (void)state;
    const char *bad[] = {"", "* * * *", "* * * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                         "* * * 13 *", "* * * * 8", "5-1 * * * *", "*/0 * * * *", "a * * * *",
                         "1,,2 * * * *", "1, * * * *", "* * * FOO *", "1-2-3 * * * *", "@often"};
    for (size_t i = 0; i < OB_ARRAY_LEN(bad); i++) {
        ob_cron c;
        ob_err err;
        assert_int_equal(ob_cron_parse(bad[i], &c, &err), -1);
        assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    }
    ob_cron c;
    ob_err err;
    assert_int_equal(ob_cron_parse("0,30 8-18/2 1-7,15 jan-mar,DEC mon-fri", &c, &err), 0);
    assert_true(c.min == (1ULL | 1ULL << 30));
    assert_true(c.hour == (1u << 8 | 1u << 10 | 1u << 12 | 1u << 14 | 1u << 16 | 1u << 18));
    assert_true(c.mon == (1u << 1 | 1u << 2 | 1u << 3 | 1u << 12));
    assert_true(c.dow == 0x3e && !c.dow_star && !c.dom_star);
    assert_int_equal(ob_cron_parse("0 0 * * 7", &c, &err), 0);
    assert_true(c.dow == 1); /* 7 is Sunday */
}

static void test_next_in_utc(void **state)
{
    (void)state;
    assert_string_equal(next("*/15 * * * *", "UTC", "2026-01-01T00:07:00.000Z"), "2026-01-01T00:15:00.000Z");
    /* strictly after: a slot is not its own successor */
    assert_string_equal(next("*/15 * * * *", "UTC", "2026-01-01T00:15:00.000Z"), "2026-01-01T00:30:00.000Z");
    assert_string_equal(next("0 9 * * MON-FRI", "UTC", "2026-01-03T10:00:00.000Z"), "2026-01-05T09:00:00.000Z");
    /* both day fields restricted: either matches (Friday the 2nd before the 13th) */
    assert_string_equal(next("0 0 13 * FRI", "UTC", "2026-01-01T00:00:00.000Z"), "2026-01-02T00:00:00.000Z");
    assert_string_equal(next("0 0 29 2 *", "UTC", "2026-01-01T00:00:00.000Z"), "2028-02-29T00:00:00.000Z");
    assert_string_equal(next("0 0 30 2 *", "UTC", "2026-01-01T00:00:00.000Z"), "never");
    assert_string_equal(next("@monthly", "UTC", "2026-12-31T23:59:59.999Z"), "2027-01-01T00:00:00.000Z");
    /* the seconds field */
    assert_string_equal(next("*/2 * * * * *", "UTC", "2026-01-01T00:00:00.500Z"), "2026-01-01T00:00:02.000Z");
    assert_string_equal(next("30 * * * * *", "UTC", "2026-01-01T00:00:30.000Z"), "2026-01-01T00:01:30.000Z");
}

static void test_next_across_spring_forward(void **state)
{
    (void)state;
    /* New York, 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00Z); 02:30 never
     * happens, so the daily 02:30 fires once, at the end of the gap */
    const char *ny = "America/New_York";
    assert_string_equal(next("30 2 * * *", ny, "2026-03-07T12:00:00.000Z"), "2026-03-08T07:00:00.000Z");
    assert_string_equal(next("30 2 * * *", ny, "2026-03-08T07:00:00.000Z"), "2026-03-09T06:30:00.000Z");
    /* every quarter hour: 02:00..02:45 and 03:00 collapse into one slot */
    assert_string_equal(next("*/15 * * * *", ny, "2026-03-08T06:50:00.000Z"), "2026-03-08T07:00:00.000Z");
    assert_string_equal(next("*/15 * * * *", ny, "2026-03-08T07:00:00.000Z"), "2026-03-08T07:15:00.000Z");
    /* an ordinary day before: EST */
    assert_string_equal(next("30 2 * * *", ny, "2026-03-06T12:00:00.000Z"), "2026-03-07T07:30:00.000Z");
    /* Berlin, 2026-03-29: 09:00 is CEST (UTC+2) from that day on */
    assert_string_equal(next("0 9 * * *", "Europe/Berlin", "2026-03-28T12:00:00.000Z"), "2026-03-29T07:00:00.000Z");
}

static void test_next_across_fall_back(void **state)
{
    (void)state;
    /* New York, 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00Z); 01:30
     * happens twice and fires only the first time */
    const char *ny = "America/New_York";
    assert_string_equal(next("30 1 * * *", ny, "2026-11-01T04:00:00.000Z"), "2026-11-01T05:30:00.000Z");
    assert_string_equal(next("30 1 * * *", ny, "2026-11-01T05:30:00.000Z"), "2026-11-02T06:30:00.000Z");
    /* hourly: 01:00 EDT, then 02:00 EST; the repeated 01:00 EST is skipped */
    assert_string_equal(next("0 * * * *", ny, "2026-11-01T05:00:00.000Z"), "2026-11-01T07:00:00.000Z");
    /* asked during the repeated hour, the next slot is still after it */
    assert_string_equal(next("*/20 * * * *", ny, "2026-11-01T06:10:00.000Z"), "2026-11-01T07:00:00.000Z");
}

static void test_next_beyond_the_last_transition(void **state)
{
    (void)state;
    /* 2040 is past the file's transition table: the zone's POSIX rule decides */
    const char *ny = "America/New_York";
    assert_string_equal(next("0 12 * * *", ny, "2040-07-01T00:00:00.000Z"), "2040-07-01T16:00:00.000Z");
    assert_string_equal(next("0 12 * * *", ny, "2040-01-15T00:00:00.000Z"), "2040-01-15T17:00:00.000Z");
    /* the second Sunday of March 2040 is the 11th */
    assert_string_equal(next("30 2 * * *", ny, "2040-03-10T12:00:00.000Z"), "2040-03-11T07:00:00.000Z");
    /* a zone without daylight saving and a quarter-hour offset (UTC+05:45) */
    assert_string_equal(next("0 0 * * *", "Asia/Kathmandu", "2026-06-01T00:00:00.000Z"), "2026-06-01T18:15:00.000Z");
}

static void test_zone_names(void **state)
{
    (void)state;
    const ob_tz *z;
    ob_err err;
    assert_int_equal(ob_tz_get("Mars/Olympus_Mons", &z, &err), -1);
    assert_int_equal(ob_tz_get("../../etc/passwd", &z, &err), -1);
    assert_int_equal(ob_tz_get("/etc/passwd", &z, &err), -1);
    assert_int_equal(ob_tz_get("UTC", &z, &err), 0);
    assert_int_equal(ob_tz_offset(z, 0), 0);
    assert_int_equal(ob_tz_get("Asia/Kolkata", &z, &err), 0);
    assert_int_equal(ob_tz_offset(z, 1780000000), 19800);
    /* a malformed file is refused, not read past its end */
    static const unsigned char junk[] = "TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff";
    ob_tz *p = NULL;
    assert_int_equal(ob_tz_parse(junk, sizeof junk, &p, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_refuses_malformed_specs),  cmocka_unit_test(test_next_in_utc),
        cmocka_unit_test(test_next_across_spring_forward),     cmocka_unit_test(test_next_across_fall_back),
        cmocka_unit_test(test_next_beyond_the_last_transition), cmocka_unit_test(test_zone_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
