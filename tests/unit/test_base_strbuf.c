/* Unit tests for base/strbuf.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

static void test_empty_invariants(void **state)
{
    (void)state;
    ob_sb a, b;
    ob_sb_init(&a, 0);
    ob_sb_init(&b, 0);
    assert_non_null(a.buf);
    assert_string_equal(a.buf, "");
    assert_int_equal(a.len, 0);
    assert_int_equal(a.cap, 0);
    assert_ptr_equal(a.buf, b.buf); /* the shared empty string */
    /* None of these may write to the shared (read-only) string. */
    ob_sb_reset(&a);
    ob_sb_trim(&a, 5);
    ob_sb_add(&a, "x", 0);
    ob_sb_release(&a);
    assert_string_equal(a.buf, "");
    assert_string_equal(b.buf, "");
}

static void test_hint(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 1000);
    assert_true(sb.cap >= 1001);
    assert_string_equal(sb.buf, "");
    ob_sb_release(&sb);
    assert_int_equal(sb.cap, 0);
}

static void test_growth(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    for (int i = 0; i < 10000; i++) {
        ob_sb_addc(&sb, (char)('a' + i % 26));
        assert_int_equal(sb.len, (size_t)i + 1);
        assert_int_equal(sb.buf[sb.len], '\0');
        assert_true(sb.cap > sb.len);
    }
    for (int i = 0; i < 10000; i++)
        assert_int_equal(sb.buf[i], 'a' + i % 26);
    assert_int_equal(strlen(sb.buf), 10000);
    ob_sb_release(&sb);
}

static void test_add_adds_addf(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_sb_adds(&sb, "abc");
    ob_sb_add(&sb, "defgh", 2);
    ob_sb_addf(&sb, "[%d|%s]", -7, "z");
    assert_string_equal(sb.buf, "abcde[-7|z]");
    assert_int_equal(sb.len, 11);
    /* A format result larger than the free space. */
    char big[3000];
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ob_sb_addf(&sb, "<%s>", big);
    assert_int_equal(sb.len, 11 + 2 + 2999);
    assert_int_equal(sb.buf[11], '<');
    assert_int_equal(sb.buf[sb.len - 1], '>');
    assert_int_equal(sb.buf[sb.len], '\0');
    ob_sb_release(&sb);

    /* addf on a never-allocated strbuf. */
    ob_sb_init(&sb, 0);
    ob_sb_addf(&sb, "%s", "");
    assert_string_equal(sb.buf, "");
    ob_sb_addf(&sb, "%05d", 42);
    assert_string_equal(sb.buf, "00042");
    ob_sb_release(&sb);
}

static void test_add_i64(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_sb_add_i64(&sb, 0);
    ob_sb_addc(&sb, ' ');
    ob_sb_add_i64(&sb, -1);
    ob_sb_addc(&sb, ' ');
    ob_sb_add_i64(&sb, INT64_MIN);
    ob_sb_addc(&sb, ' ');
    ob_sb_add_i64(&sb, INT64_MAX);
    ob_sb_addc(&sb, ' ');
    ob_sb_add_i64(&sb, 1234567890);
    assert_string_equal(sb.buf,
                        "0 -1 -9223372036854775808 9223372036854775807 1234567890");
    ob_sb_release(&sb);
}

static void test_self_append(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_sb_adds(&sb, "0123456789");
    for (int i = 0; i < 8; i++)
        ob_sb_add(&sb, sb.buf, sb.len); /* forces reallocs of its own source */
    assert_int_equal(sb.len, 10 * 256);
    for (size_t i = 0; i < sb.len; i++)
        assert_int_equal(sb.buf[i], '0' + (int)(i % 10));
    ob_sb_release(&sb);
}

static void test_trim_reset(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_sb_adds(&sb, "hello");
    ob_sb_trim(&sb, 2);
    assert_string_equal(sb.buf, "hel");
    ob_sb_trim(&sb, 100);
    assert_string_equal(sb.buf, "");
    assert_int_equal(sb.len, 0);
    ob_sb_adds(&sb, "again");
    size_t cap = sb.cap;
    char *buf = sb.buf;
    ob_sb_reset(&sb);
    assert_int_equal(sb.len, 0);
    assert_string_equal(sb.buf, "");
    assert_int_equal(sb.cap, cap);
    assert_ptr_equal(sb.buf, buf);
    ob_sb_release(&sb);
}

static void test_detach(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_sb_adds(&sb, "owned");
    size_t len = 0;
    char *p = ob_sb_detach(&sb, &len);
    assert_string_equal(p, "owned");
    assert_int_equal(len, 5);
    assert_string_equal(sb.buf, "");
    assert_int_equal(sb.len, 0);
    assert_int_equal(sb.cap, 0);
    free(p); /* the caller owns it now */

    /* Detaching an empty strbuf still yields a buffer the caller can free. */
    p = ob_sb_detach(&sb, NULL);
    assert_non_null(p);
    assert_string_equal(p, "");
    free(p);

    /* The strbuf is usable again after detach. */
    ob_sb_adds(&sb, "next");
    assert_string_equal(sb.buf, "next");
    ob_sb_release(&sb);
}

static void test_arena_backed(void **state)
{
    (void)state;
    ob_arena a;
    ob_arena_init(&a, 256);
    ob_sb sb;
    ob_sb_init_arena(&sb, &a, 0);
    assert_string_equal(sb.buf, "");
    for (int i = 0; i < 5000; i++)
        ob_sb_addc(&sb, (char)('0' + i % 10));
    assert_int_equal(sb.len, 5000);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(sb.buf[i], '0' + i % 10);
    assert_ptr_equal(sb.arena, &a);
    ob_sb_addf(&sb, "%s", "!");
    assert_int_equal(sb.buf[5000], '!');

    size_t len;
    char *p = ob_sb_detach(&sb, &len); /* still owned by the arena */
    assert_int_equal(len, 5001);
    assert_int_equal(p[5000], '!');
    assert_ptr_equal(sb.arena, &a);
    ob_sb_adds(&sb, "more");
    assert_string_equal(sb.buf, "more");
    ob_sb_release(&sb); /* nothing to free */
    assert_int_equal(p[0], '0');
    assert_string_equal(sb.buf, "");

    ob_sb sb2;
    ob_sb_init_arena(&sb2, &a, 100);
    assert_true(sb2.cap >= 101);
    char *empty = ob_sb_detach(&sb2, NULL);
    assert_string_equal(empty, "");
    ob_arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_invariants),
        cmocka_unit_test(test_hint),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_add_adds_addf),
        cmocka_unit_test(test_add_i64),
        cmocka_unit_test(test_self_append),
        cmocka_unit_test(test_trim_reset),
        cmocka_unit_test(test_detach),
        cmocka_unit_test(test_arena_backed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
