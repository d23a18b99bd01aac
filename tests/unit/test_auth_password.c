/* test_auth_password.c - argon2id hashes, the password policy and generated
 * passwords (auth/password.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "base/base.h"
#include "base/banned.h"

static const char ALPHABET[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

static void hash_ok(const char *pw, char out[OB_PASSWORD_HASH_MAX])
{
    ob_err err;
    memset(out, 0, OB_PASSWORD_HASH_MAX);
    int rc = ob_password_hash(pw, out, &err);
    if (rc != 0) print_error("hash: %s\n", err.message);
    assert_int_equal(rc, 0);
    assert_true(strlen(out) < OB_PASSWORD_HASH_MAX);
}

static void test_roundtrip(void **state)
{
    (void)state;
    char h[OB_PASSWORD_HASH_MAX];
    hash_ok("correct horse battery staple", h);
    assert_memory_equal(h, "$argon2id$", 10);
    assert_non_null(strstr(h, "$v=19$"));
    assert_true(ob_password_verify(h, "correct horse battery staple"));
    assert_false(ob_password_verify(h, "correct horse battery stapl"));
    assert_false(ob_password_verify(h, "correct horse battery staple "));
    assert_false(ob_password_verify(h, "Correct horse battery staple"));
    assert_false(ob_password_verify(h, ""));

    /* non-ASCII passwords are bytes like any other */
    hash_ok("pässwörd-\xF0\x9F\x94\x91-long", h);
    assert_true(ob_password_verify(h, "pässwörd-\xF0\x9F\x94\x91-long"));
    assert_false(ob_password_verify(h, "passwort-\xF0\x9F\x94\x91-long"));
}

static void test_salted(void **state)
{
    (void)state;
    char a[OB_PASSWORD_HASH_MAX], b[OB_PASSWORD_HASH_MAX];
    hash_ok("the same password", a);
    hash_ok("the same password", b);
    assert_string_not_equal(a, b);
    assert_true(ob_password_verify(a, "the same password"));
    assert_true(ob_password_verify(b, "the same password"));
}

/* Unknown-user sign-ins cost what a real one costs only if the dummy hash
 * parses and carries the same parameters as a stored hash: a malformed one
 * would fail at once. */
static void test_dummy_hash(void **state)
{
    (void)state;
    char h[OB_PASSWORD_HASH_MAX];
    hash_ok("a real password", h);
    const char *d = ob_password_dummy_hash();
    assert_true(strlen(d) > 0);
    /* the same text up to the salt: $argon2id$v=19$m=...,t=...,p=...$ */
    const char *hs = strrchr(h, '$'), *ds = strrchr(d, '$');
    size_t params = (size_t)(strchr(h + 1, 'p') - h);
    assert_memory_equal(d, h, params);
    assert_int_equal(strlen(d), strlen(h));
    assert_int_equal(ds - d, hs - h);
    /* libsodium parses it (-1 otherwise) and finds its parameters current */
    assert_int_equal(crypto_pwhash_str_needs_rehash(d, 2, 19u << 20), 0);
    assert_int_equal(crypto_pwhash_str_needs_rehash(h, 2, 19u << 20), 0);
    assert_false(ob_password_verify(d, "a real password"));
    assert_string_equal(d, ob_password_dummy_hash()); /* made once */
}

static void test_malformed(void **state)
{
    (void)state;
    char h[OB_PASSWORD_HASH_MAX];
    hash_ok("correct horse battery staple", h);
    assert_false(ob_password_verify(NULL, "correct horse battery staple"));
    assert_false(ob_password_verify(h, NULL));
    assert_false(ob_password_verify(NULL, NULL));
    assert_false(ob_password_verify("", "x"));
    assert_false(ob_password_verify("$argon2id$", "x"));
    assert_false(ob_password_verify("$argon2id$v=19$m=19456,t=2,p=1$garbage", "x"));
    assert_false(ob_password_verify("plain text password", "plain text password"));
    assert_false(ob_password_verify("$2b$12$abcdefghijklmnopqrstuuJm3rl1Pp7m8Z4m2o0nRm3v2P5L8rTq6", "x"));

    /* another algorithm's prefix on a valid argon2id body */
    char other[OB_PASSWORD_HASH_MAX];
    snprintf(other, sizeof other, "$argon2i$%s", h + strlen("$argon2id$"));
    assert_false(ob_password_verify(other, "correct horse battery staple"));

    /* any change to the stored hash breaks it */
    char cut[OB_PASSWORD_HASH_MAX];
    snprintf(cut, sizeof cut, "%.*s", (int)strlen(h) - 4, h);
    assert_false(ob_password_verify(cut, "correct horse battery staple"));
    char flip[OB_PASSWORD_HASH_MAX];
    snprintf(flip, sizeof flip, "%s", h);
    size_t last = strlen(flip) - 1;
    flip[last] = flip[last] == 'A' ? 'B' : 'A';
    assert_false(ob_password_verify(flip, "correct horse battery staple"));

    ob_password_dummy_verify("anything"); /* spends time, has no result to check; must not crash */
    ob_password_dummy_verify("");
}

static void policy_refused(const char *pw, const char *problem)
{
    ob_err err;
    ob_err_clear(&err);
    int rc = ob_password_check(pw, &err);
    if (rc == 0) print_error("password \"%.40s\" (%zu bytes) accepted\n", pw, strlen(pw));
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, OB_E_VALIDATION);
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].name, "password");
    assert_string_equal(err.fields[0].problem, problem);
    assert_true(strlen(err.message) > 0);
}

static void test_policy(void **state)
{
    (void)state;
    ob_err err;
    char pw[300];

    policy_refused("", "is too short");
    policy_refused("abc", "is too short");
    memset(pw, 'x', sizeof pw);
    pw[OB_PASSWORD_MIN_LEN - 1] = 0;
    pw[0] = 'y';
    policy_refused(pw, "is too short");
    pw[OB_PASSWORD_MIN_LEN - 1] = 'x';
    pw[OB_PASSWORD_MIN_LEN] = 0;
    assert_int_equal(ob_password_check(pw, &err), 0); /* exactly the minimum */

    policy_refused("aaaaaaaaaaaa", "is too weak");
    policy_refused("0000000000000000", "is too weak");
    policy_refused("            ", "is too weak");
    assert_int_equal(ob_password_check("aaaaaaaaaaab", &err), 0);

    memset(pw, 'a', sizeof pw);
    pw[0] = 'b';
    pw[256] = 0;
    assert_int_equal(ob_password_check(pw, &err), 0); /* 256 is the longest */
    pw[256] = 'a';
    pw[257] = 0;
    policy_refused(pw, "is too long");
    pw[299] = 0;
    policy_refused(pw, "is too long");

    assert_int_equal(ob_password_check("correct horse battery staple", &err), 0);
}

/* The policy speaks of characters ("at least 10 characters"): a password of
 * five two-byte characters is five characters long, and one character
 * repeated is weak whatever its encoding. */
static void test_policy_counts_characters(void **state)
{
    (void)state;
    ob_err err;
    assert_int_equal(ob_password_check("\xC3\xA9t\xC3\xA9 \xC3\xA0 l\xE2\x80\x99\xC3\xA9t\xC3\xA9!", &err),
                     0); /* "été à l'été!": 12 characters */
    policy_refused("\xC3\xA9\xC3\xA0\xC3\xA8\xC3\xB9\xC3\xA7", "is too short"); /* "éàèùç": 5 characters */
    policy_refused("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                   "\xC3\xA9\xC3\xA9\xC3\xA9",
                   "is too weak"); /* "é" twelve times */
}

static void test_generate(void **state)
{
    (void)state;
    char seen[16][32];
    for (int i = 0; i < 16; i++) {
        char *p = seen[i];
        memset(p, 0x7f, 32);
        ob_password_generate(p);
        assert_int_equal(strlen(p), 24);
        for (int k = 0; k < 24; k++) assert_non_null(memchr(ALPHABET, p[k], sizeof ALPHABET - 1));
        /* no look-alike characters */
        assert_null(strpbrk(p, "0O1lI"));
        ob_err err;
        assert_int_equal(ob_password_check(p, &err), 0);
        for (int j = 0; j < i; j++) assert_string_not_equal(seen[j], p);
    }
    /* a generated password works as one */
    char h[OB_PASSWORD_HASH_MAX];
    hash_ok(seen[0], h);
    assert_true(ob_password_verify(h, seen[0]));
    assert_false(ob_password_verify(h, seen[1]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_salted),  cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_dummy_hash),
        cmocka_unit_test(test_policy),    cmocka_unit_test(test_policy_counts_characters),
        cmocka_unit_test(test_generate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
