/* test_jobs_backoff.c - the retry delay of a failed job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "jobs/jobs.h"
#include "base/banned.h"

static void test_backoff_doubles_with_bounded_jitter(void **state)
{
    (void)state;
    /* no randomness: base, 2 base, 4 base ... */
    assert_int_equal(ob_jobs_backoff_ms(1000, 1, 0), 1000);
    assert_int_equal(ob_jobs_backoff_ms(1000, 2, 0), 2000);
    assert_int_equal(ob_jobs_backoff_ms(1000, 5, 0), 16000);
    /* jitter adds at most a quarter */
    for (uint32_t r = 0; r < 5000; r += 7) {
        int64_t d = ob_jobs_backoff_ms(1000, 3, r);
        assert_true(d >= 4000 && d <= 5000);
    }
    /* capped at an hour (plus its jitter), however many failures */
    assert_int_equal(ob_jobs_backoff_ms(1000, 60, 0), 3600 * 1000);
    assert_true(ob_jobs_backoff_ms(1000, 200, UINT32_MAX) <= 3600 * 1000 + 900 * 1000);
    /* a zero base falls back to a second */
    assert_int_equal(ob_jobs_backoff_ms(0, 1, 0), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_backoff_doubles_with_bounded_jitter)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
