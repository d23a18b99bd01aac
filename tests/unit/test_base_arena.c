/* Unit tests for base/arena.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/arena.h"

static void test_alignment_and_no_overlap(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 256);
    unsigned char *ptrs[300];
    size_t sizes[300];
    for (size_t i = 0; i < 300; i++) {
        sizes[i] = (i * 7) % 61 + 1;
        ptrs[i] = ob_arena_alloc(&a, sizes[i]);
        assert_non_null(ptrs[i]);
        assert_int_equal((uintptr_t)ptrs[i] % 16, 0);
        memset(ptrs[i], (int)(i & 0xFF), sizes[i]);
    }
    /* Every block still holds its own pattern: nothing overlapped. */
    for (size_t i = 0; i < 300; i++)
        for (size_t j = 0; j < sizes[i]; j++)
            assert_int_equal(ptrs[i][j], (unsigned char)(i & 0xFF));
    ob_arena_release(&a);
}

static void test_zero_size_distinct(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 0);
    void *p = ob_arena_alloc(&a, 0);
    void *q = ob_arena_alloc(&a, 0);
    assert_non_null(p);
    assert_non_null(q);
    assert_ptr_not_equal(p, q);
    ob_arena_release(&a);
}

static void test_big_alloc_own_block(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 1024);
    char *small = ob_arena_alloc(&a, 32);
    size_t after_small = a.total;
    assert_true(after_small >= 1024);

    char *big = ob_arena_alloc(&a, 100000);
    assert_int_equal((uintptr_t)big % 16, 0);
    memset(big, 'x', 100000);
    assert_true(a.total >= after_small + 100000);

    /* The current regular block is still used after a big allocation. */
    size_t after_big = a.total;
    char *small2 = ob_arena_alloc(&a, 32);
    assert_int_equal(a.total, after_big);
    assert_true(small2 > small && small2 < small + 1024);
    assert_int_equal(big[99999], 'x');
    ob_arena_release(&a);
    assert_int_equal(a.total, 0);
    assert_null(a.head);
}

static void test_big_alloc_first(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 0);
    char *big = ob_arena_alloc(&a, 1 << 20);
    memset(big, 1, 1 << 20);
    char *s = ob_arena_alloc(&a, 10);
    memset(s, 2, 10);
    assert_int_equal(big[(1 << 20) - 1], 1);
    ob_arena_release(&a);
}

static void test_many_small_grow(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 0);
    for (int i = 0; i < 100000; i++) {
        int *p = ob_arena_alloc(&a, sizeof(int) * 4);
        p[0] = i;
        p[3] = i;
    }
    /* 100000 * 16 bytes = 1.6 MB: growth keeps the overhead modest. */
    assert_true(a.total >= 1600000);
    assert_true(a.total < 4 * 1600000);
    ob_arena_release(&a);
}

static void test_zalloc(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 128);
    for (int round = 0; round < 3; round++) {
        unsigned char *p = ob_arena_alloc(&a, 100);
        memset(p, 0xAB, 100);
    }
    ob_arena_clear(&a);
    unsigned char *z = ob_arena_zalloc(&a, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    unsigned char *zb = ob_arena_zalloc(&a, 50000);
    for (int i = 0; i < 50000; i++)
        assert_int_equal(zb[i], 0);
    ob_arena_release(&a);
}

static void test_strdup_strndup(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 0);
    const char *src = "hello world";
    char *d = ob_arena_strdup(&a, src);
    assert_string_equal(d, src);
    assert_ptr_not_equal(d, src);
    assert_string_equal(ob_arena_strndup(&a, src, 5), "hello");
    assert_string_equal(ob_arena_strndup(&a, src, 100), "hello world");
    assert_string_equal(ob_arena_strndup(&a, src, 0), "");
    assert_string_equal(ob_arena_strdup(&a, ""), "");
    /* Not NUL-terminated input: only n bytes are read. */
    char raw[4] = { 'a', 'b', 'c', 'd' };
    assert_string_equal(ob_arena_strndup(&a, raw, 3), "abc");
    ob_arena_release(&a);
}

static void test_printf(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 64);
    assert_string_equal(ob_arena_printf(&a, "%d-%s", 42, "x"), "42-x");
    assert_string_equal(ob_arena_printf(&a, "%s", ""), "");
    char expect[5001];
    memset(expect, 'q', 5000);
    expect[5000] = '\0';
    char *p = ob_arena_printf(&a, "%s", expect);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_string_equal(p, expect);
    ob_arena_release(&a);
}

static void test_clear_keeps_one_block(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 512);
    for (int i = 0; i < 1000; i++)
        ob_arena_alloc(&a, 100);
    ob_arena_alloc(&a, 1 << 16);
    assert_true(a.total > 100000);
    ob_arena_clear(&a);
    assert_non_null(a.head);
    assert_true(a.total >= 512 && a.total < 512 + 128);
    size_t kept = a.total;
    char *p = ob_arena_alloc(&a, 100);
    memset(p, 0, 100);
    assert_int_equal(a.total, kept); /* served from the kept block */
    ob_arena_release(&a);

    /* Clearing an empty arena and reusing after release both work. */
    ob_arena_init(&a, 0);
    ob_arena_clear(&a);
    assert_null(a.head);
    assert_non_null(ob_arena_alloc(&a, 10));
    ob_arena_release(&a);
    ob_arena_init(&a, 0);
    assert_non_null(ob_arena_alloc(&a, 10));
    ob_arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_no_overlap),
        cmocka_unit_test(test_zero_size_distinct),
        cmocka_unit_test(test_big_alloc_own_block),
        cmocka_unit_test(test_big_alloc_first),
        cmocka_unit_test(test_many_small_grow),
        cmocka_unit_test(test_zalloc),
        cmocka_unit_test(test_strdup_strndup),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_clear_keeps_one_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
