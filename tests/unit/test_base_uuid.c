/* Unit tests for base/uuid.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/uuid.h"

static void check_shape(const char *u)
{
    assert_int_equal(strlen(u), 36);
    assert_true(ob_uuid_valid(u));
    assert_int_equal(u[14], '7');                      /* version */
    assert_non_null(strchr("89ab", u[19]));            /* RFC 9562 variant */
    for (int i = 0; i < 36; i++)
        assert_true(u[i] == '-' || (u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'));
}

static int64_t uuid_ms(const char *u)
{
    char hex[13];
    memcpy(hex, u, 8);
    memcpy(hex + 8, u + 9, 4);
    hex[12] = '\0';
    return (int64_t)strtoll(hex, NULL, 16);
}

static void test_increasing(void **state)
{
    (void)state;
    enum { N = 10000 };
    char(*ids)[OB_UUID_LEN] = malloc(sizeof(*ids) * N);
    assert_non_null(ids);
    int64_t before = ob_now_ms();
    for (int i = 0; i < N; i++)
        ob_uuid7(ids[i]);
    int64_t after = ob_now_ms();
    for (int i = 0; i < N; i++) {
        check_shape(ids[i]);
        if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
            fail_msg("not increasing at %d: %s >= %s", i, ids[i - 1], ids[i]);
    }
    /* The timestamp is the wall clock, give or take the counter's overflow
     * bumps (at most one ms per 2048 ids). */
    assert_true(uuid_ms(ids[0]) >= before);
    assert_true(uuid_ms(ids[N - 1]) <= after + N / 2048 + 1);
    free(ids);
}

enum { THREADS = 4, PER_THREAD = 5000 };
static char thread_ids[THREADS * PER_THREAD][OB_UUID_LEN];

static void *gen_thread(void *arg)
{
    int t = (int)(intptr_t)arg;
    char(*mine)[OB_UUID_LEN] = thread_ids + t * PER_THREAD;
    for (int i = 0; i < PER_THREAD; i++) {
        ob_uuid7(mine[i]);
        if (i > 0 && strcmp(mine[i - 1], mine[i]) >= 0)
            abort(); /* each thread sees its own ids strictly increasing */
    }
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_threads_unique(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, gen_thread, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    qsort(thread_ids, THREADS * PER_THREAD, OB_UUID_LEN, cmp_id);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        assert_true(strcmp(thread_ids[i - 1], thread_ids[i]) < 0);
}

static void test_random_tail_differs(void **state)
{
    (void)state;
    char a[OB_UUID_LEN], b[OB_UUID_LEN];
    ob_uuid7(a);
    ob_uuid7(b);
    assert_string_not_equal(a + 19, b + 19);
}

static void test_valid(void **state)
{
    (void)state;
    assert_true(ob_uuid_valid("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
    assert_true(ob_uuid_valid("0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"));
    assert_true(ob_uuid_valid("00000000-0000-0000-0000-000000000000"));
    assert_false(ob_uuid_valid(NULL));
    assert_false(ob_uuid_valid(""));
    assert_false(ob_uuid_valid("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5"));   /* 35 */
    assert_false(ob_uuid_valid("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5bb")); /* 37 */
    assert_false(ob_uuid_valid("0190a1b2c3d4-7e5f-8a9b-0c1d2e3f4a5b-"));
    assert_false(ob_uuid_valid("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g"));
    assert_false(ob_uuid_valid("{190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
    assert_false(ob_uuid_valid("0190a1b2-c3d4_7e5f-8a9b-0c1d2e3f4a5b"));
    assert_false(ob_uuid_valid("0190a1b20c3d47e5f08a9b00c1d2e3f4a5b0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_increasing),
        cmocka_unit_test(test_threads_unique),
        cmocka_unit_test(test_random_tail_differs),
        cmocka_unit_test(test_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
