/* test_auth_totp.c - RFC 6238 codes on a fixed clock (auth/totp.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth/totp.h"
#include "base/base.h"
#include "base/banned.h"

/* RFC 6238 appendix B's SHA-1 key, the ASCII "12345678901234567890", in
 * base32. Its codes are published with 8 digits; a 6-digit code is the
 * last six of them (the truncation is modulo 10^digits). */
static const char RFC_KEY[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

static void test_rfc_vectors(void **state)
{
    (void)state;
    static const struct {
        int64_t t;
        const char *code;
    } v[] = {{59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
             {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char c[OB_TOTP_DIGITS + 1];
        assert_int_equal(ob_totp_code(RFC_KEY, v[i].t / OB_TOTP_STEP_S, c), 0);
        assert_string_equal(c, v[i].code);
        assert_int_equal(ob_totp_check(RFC_KEY, v[i].code, v[i].t, 1, -1), v[i].t / OB_TOTP_STEP_S);
    }
}

static void test_window_and_replay(void **state)
{
    (void)state;
    const int64_t now = 1111111111, step = now / OB_TOTP_STEP_S;
    char prev[7], next[7], far[7];
    assert_int_equal(ob_totp_code(RFC_KEY, step - 1, prev), 0);
    assert_int_equal(ob_totp_code(RFC_KEY, step + 1, next), 0);
    assert_int_equal(ob_totp_code(RFC_KEY, step + 2, far), 0);
    /* One step either side is accepted, two is not. */
    assert_int_equal(ob_totp_check(RFC_KEY, prev, now, 1, -1), step - 1);
    assert_int_equal(ob_totp_check(RFC_KEY, next, now, 1, -1), step + 1);
    assert_int_equal(ob_totp_check(RFC_KEY, far, now, 1, -1), -1);
    /* A step already used, or an older one, is refused: replay. */
    assert_int_equal(ob_totp_check(RFC_KEY, "050471", now, 1, step), -1);
    assert_int_equal(ob_totp_check(RFC_KEY, prev, now, 1, step - 1), -1);
    assert_int_equal(ob_totp_check(RFC_KEY, next, now, 1, step), step + 1);
}

static void test_malformed(void **state)
{
    (void)state;
    char c[7];
    assert_int_equal(ob_totp_check(RFC_KEY, "05047", 1111111111, 1, -1), -1);
    assert_int_equal(ob_totp_check(RFC_KEY, "0504710", 1111111111, 1, -1), -1);
    assert_int_equal(ob_totp_check(RFC_KEY, "05O471", 1111111111, 1, -1), -1);
    assert_int_equal(ob_totp_check(RFC_KEY, NULL, 1111111111, 1, -1), -1);
    assert_int_equal(ob_totp_check("GEZDGNBV", "050471", 1111111111, 1, -1), -1);
    assert_int_equal(ob_totp_code("not base32 at all, 32 chars long", 1, c), -1);
}

static void test_new_secret_and_uri(void **state)
{
    (void)state;
    char a[OB_TOTP_B32_LEN + 1], b[OB_TOTP_B32_LEN + 1];
    ob_totp_new_secret(a);
    ob_totp_new_secret(b);
    assert_int_equal(strlen(a), OB_TOTP_B32_LEN);
    assert_string_not_equal(a, b);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), OB_TOTP_B32_LEN);
    char c[7];
    assert_int_equal(ob_totp_code(a, 1000, c), 0);
    assert_int_equal(ob_totp_check(a, c, 1000 * OB_TOTP_STEP_S + 29, 0, -1), 1000);

    ob_arena ar;
    ob_arena_init(&ar, 256);
    const char *uri = ob_totp_uri(&ar, "Gold Line", "ann+1@shop.test", RFC_KEY);
    assert_string_equal(uri, "otpauth://totp/Gold%20Line:ann%2B1@shop.test?secret=" "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                             "&issuer=Gold%20Line&algorithm=SHA1&digits=6&period=30");
    ob_arena_release(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_vectors),
        cmocka_unit_test(test_window_and_replay),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_new_secret_and_uri),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
