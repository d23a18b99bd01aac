/* test_jobs_backlog.c - the job queues summed from the sweep's counts
 * (jobs/backlog.c): what /readyz and /metrics read without opening a tenant. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "jobs/jobs_int.h"
#include "base/banned.h"

static int reset(void **state)
{
    (void)state;
    ob_jobs_backlog_reset();
    return 0;
}

static ob_jobs_count count(int64_t queued, int64_t due, int64_t dead, int64_t oldest_ms)
{
    return (ob_jobs_count){.queued = queued, .due = due, .dead = dead, .oldest_ms = oldest_ms, .next_ms = INT64_MAX};
}

static void test_sums_the_tenants_and_ages_from_run_at(void **state)
{
    (void)state;
    ob_jobs_backlog b;
    ob_jobs_backlog_get(1000, &b);
    assert_int_equal(b.tenants_counted, 0);
    assert_int_equal(b.swept_ms, 0); /* nothing counted yet: said so */
    ob_jobs_count a = count(3, 2, 1, 500), c = count(4, 0, 0, 5000);
    ob_jobs_backlog_set("a", ob_jobs_backlog_mark(), &a);
    ob_jobs_backlog_set("c", ob_jobs_backlog_mark(), &c);
    ob_jobs_backlog_get(1000, &b);
    assert_int_equal(b.queued, 7);
    assert_int_equal(b.due, 2);
    assert_int_equal(b.dead, 1);
    assert_int_equal(b.tenants_counted, 2);
    assert_int_equal(b.oldest_due_ms, 500);
    /* c's job was not due when counted; once its run_at passes it is the
     * older only if it is: a's stays the oldest */
    ob_jobs_backlog_get(6000, &b);
    assert_int_equal(b.oldest_due_ms, 500);
    ob_jobs_count a2 = count(0, 0, 1, 0);
    ob_jobs_backlog_set("a", ob_jobs_backlog_mark(), &a2);
    ob_jobs_backlog_get(1000, &b);
    assert_int_equal(b.oldest_due_ms, 0); /* c's run_at has not come */
    ob_jobs_backlog_get(6000, &b);
    assert_int_equal(b.oldest_due_ms, 5000); /* it has, with no visit */
    assert_int_equal(b.queued, 4);
}

static void test_an_earlier_read_never_replaces_a_later_one(void **state)
{
    (void)state;
    uint64_t early = ob_jobs_backlog_mark(), late = ob_jobs_backlog_mark();
    ob_jobs_count later = count(0, 0, 0, 0), stale = count(9, 9, 0, 100);
    ob_jobs_backlog_set("t", late, &later);
    ob_jobs_backlog_set("t", early, &stale); /* a slower worker's older read */
    ob_jobs_backlog b;
    ob_jobs_backlog_get(1000, &b);
    assert_int_equal(b.queued, 0);
    assert_int_equal(b.tenants_counted, 1);
}

static void test_a_pass_drops_tenants_it_no_longer_lists(void **state)
{
    (void)state;
    ob_jobs_count one = count(1, 1, 0, 100);
    ob_jobs_backlog_set("kept", ob_jobs_backlog_mark(), &one);
    ob_jobs_backlog_set("gone", ob_jobs_backlog_mark(), &one);
    uint64_t pass = ob_jobs_backlog_mark();
    ob_jobs_backlog_listed("kept", pass); /* passed over, still listed */
    /* counted during the pass though not in its list (created after it) */
    ob_jobs_backlog_set("new", ob_jobs_backlog_mark(), &one);
    ob_jobs_backlog_swept(pass, 2000);
    ob_jobs_backlog b;
    ob_jobs_backlog_get(3000, &b);
    assert_int_equal(b.tenants_counted, 2);
    assert_int_equal(b.queued, 2);
    assert_int_equal(b.swept_ms, 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sums_the_tenants_and_ages_from_run_at, reset, reset),
        cmocka_unit_test_setup_teardown(test_an_earlier_read_never_replaces_a_later_one, reset, reset),
        cmocka_unit_test_setup_teardown(test_a_pass_drops_tenants_it_no_longer_lists, reset, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
