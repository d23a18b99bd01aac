/* Unit tests for base/codec.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/codec.h"

static void check_b64(const char *in, size_t n, const char *want)
{
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_b64url_encode(&sb, in, n);
    assert_string_equal(sb.buf, want);
    ob_sb dec;
    ob_sb_init(&dec, 0);
    assert_int_equal(ob_b64url_decode(&dec, sb.buf, sb.len), 0);
    assert_int_equal(dec.len, n);
    assert_memory_equal(dec.buf, in, n);
    ob_sb_release(&dec);
    ob_sb_release(&sb);
}

static void test_b64_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10, without padding. */
    check_b64("", 0, "");
    check_b64("f", 1, "Zg");
    check_b64("fo", 2, "Zm8");
    check_b64("foo", 3, "Zm9v");
    check_b64("foob", 4, "Zm9vYg");
    check_b64("fooba", 5, "Zm9vYmE");
    check_b64("foobar", 6, "Zm9vYmFy");
    /* The url-safe alphabet: '-' and '_' where base64 has '+' and '/'. */
    check_b64("\xfb\xff", 2, "-_8");
    check_b64("\xfb\xef\xbe", 3, "----");
    check_b64("\xff\xff\xff", 3, "____");
    check_b64("\0\0\0", 3, "AAAA");
}

static void test_b64_round_trip(void **state)
{
    (void)state;
    unsigned char data[200];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof(data); n++) {
        ob_sb enc, dec;
        ob_sb_init(&enc, 0);
        ob_sb_init(&dec, 0);
        ob_b64url_encode(&enc, data, n);
        assert_int_equal(enc.len, (n * 4 + 2) / 3);
        assert_null(strchr(enc.buf, '='));
        assert_int_equal(ob_b64url_decode(&dec, enc.buf, enc.len), 0);
        assert_int_equal(dec.len, n);
        assert_memory_equal(dec.buf, data, n);
        ob_sb_release(&enc);
        ob_sb_release(&dec);
    }
}

static void b64_bad(const char *s)
{
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_sb_adds(&sb, "keep");
    if (ob_b64url_decode(&sb, s, strlen(s)) == 0)
        fail_msg("accepted %s", s);
    assert_string_equal(sb.buf, "keep"); /* nothing appended on failure */
    ob_sb_release(&sb);
}

static void test_b64_invalid(void **state)
{
    (void)state;
    b64_bad("Zg==");    /* padding */
    b64_bad("Zm8=");
    b64_bad("Z");       /* impossible length */
    b64_bad("Zm9vY");
    b64_bad("Zm9v!");
    b64_bad("Zm+v");    /* standard alphabet */
    b64_bad("Zm/v");
    b64_bad("Zm9 v");
    b64_bad("Zh");      /* non-zero trailing bits: not canonical */
    b64_bad("Zm9");
    ob_sb sb;
    ob_sb_init(&sb, 0);
    assert_int_equal(ob_b64url_decode(&sb, "Zm9v\0v", 6), -1); /* NUL byte */
    assert_int_equal(ob_b64url_decode(&sb, "", 0), 0);
    assert_int_equal(sb.len, 0);
    ob_sb_release(&sb);
}

static void test_hex(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_hex_encode(&sb, "\x00\xff\x10\xab", 4);
    assert_string_equal(sb.buf, "00ff10ab");
    ob_hex_encode(&sb, "", 0);
    assert_string_equal(sb.buf, "00ff10ab");
    ob_sb_release(&sb);
}

static int pdec(const char *s, int plus, ob_sb *sb)
{
    ob_sb_reset(sb);
    return ob_percent_decode(sb, s, strlen(s), plus);
}

static void test_percent_decode(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    assert_int_equal(pdec("a%20b", 0, &sb), 0);
    assert_string_equal(sb.buf, "a b");
    assert_int_equal(pdec("%2f%2F%41", 0, &sb), 0);
    assert_string_equal(sb.buf, "//A");
    assert_int_equal(pdec("a+b", 1, &sb), 0);
    assert_string_equal(sb.buf, "a b");
    assert_int_equal(pdec("a+b", 0, &sb), 0);
    assert_string_equal(sb.buf, "a+b");
    assert_int_equal(pdec("%2B", 1, &sb), 0);
    assert_string_equal(sb.buf, "+");
    assert_int_equal(pdec("%C3%A9", 0, &sb), 0);
    assert_string_equal(sb.buf, "\xc3\xa9");
    assert_int_equal(pdec("", 0, &sb), 0);
    assert_string_equal(sb.buf, "");
    assert_int_equal(pdec("100%25", 0, &sb), 0);
    assert_string_equal(sb.buf, "100%");
    ob_sb_release(&sb);
}

static void test_percent_bad(void **state)
{
    (void)state;
    const char *bad[] = { "%", "%2", "a%", "a%2", "%zz", "%2g", "%g2", "%%", "%00", "a%00b",
                          "% 20", "%-1" };
    ob_sb sb;
    ob_sb_init(&sb, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ob_sb_reset(&sb);
        ob_sb_adds(&sb, "pre");
        if (ob_percent_decode(&sb, bad[i], strlen(bad[i]), 1) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(sb.buf, "pre");
    }
    /* A raw NUL inside the given length is refused too. */
    assert_int_equal(ob_percent_decode(&sb, "a\0b", 3, 0), -1);
    /* Only n bytes are read: a '%' beyond n is not looked at. */
    ob_sb_reset(&sb);
    assert_int_equal(ob_percent_decode(&sb, "ab%", 2, 0), 0);
    assert_string_equal(sb.buf, "ab");
    /* An escape cut off by n is bad even if the bytes after n would fit. */
    assert_int_equal(ob_percent_decode(&sb, "%41", 2, 0), -1);
    ob_sb_release(&sb);
}

static void test_token_hash(void **state)
{
    (void)state;
    char h[65], h2[65];
    /* BLAKE2b with a 32-byte digest. */
    ob_token_hash("abc", 3, h);
    assert_string_equal(h, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    ob_token_hash("", 0, h);
    assert_string_equal(h, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    ob_token_hash("abd", 3, h2);
    assert_string_not_equal(h, h2);
    assert_int_equal(strlen(h2), 64);
}

static void test_random_b64url(void **state)
{
    (void)state;
    ob_sb a, b, dec;
    ob_sb_init(&a, 0);
    ob_sb_init(&b, 0);
    ob_sb_init(&dec, 0);
    ob_random_b64url(&a, 32);
    ob_random_b64url(&b, 32);
    assert_int_equal(a.len, 43);
    assert_string_not_equal(a.buf, b.buf);
    assert_int_equal(ob_b64url_decode(&dec, a.buf, a.len), 0);
    assert_int_equal(dec.len, 32);
    /* Larger than one internal chunk: still one valid encoding. */
    ob_sb_reset(&a);
    ob_sb_reset(&dec);
    ob_random_b64url(&a, 100);
    assert_int_equal(a.len, 134);
    assert_int_equal(ob_b64url_decode(&dec, a.buf, a.len), 0);
    assert_int_equal(dec.len, 100);
    ob_sb_reset(&a);
    ob_random_b64url(&a, 0);
    assert_int_equal(a.len, 0);
    ob_sb_release(&a);
    ob_sb_release(&b);
    ob_sb_release(&dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_b64_round_trip),
        cmocka_unit_test(test_b64_invalid),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_percent_decode),
        cmocka_unit_test(test_percent_bad),
        cmocka_unit_test(test_token_hash),
        cmocka_unit_test(test_random_b64url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
