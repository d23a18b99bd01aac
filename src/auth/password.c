/* password.c - argon2id with libsodium. Parameters follow the common
 * recommendation for interactive logins (t=2, m=19 MiB): strong enough for
 * stored hashes, cheap enough that a login is a few tens of milliseconds. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "base/base.h"
#include "base/banned.h"

#define OPSLIMIT 2ULL
#define MEMLIMIT (19ULL * 1024 * 1024)

static pthread_once_t once = PTHREAD_ONCE_INIT, dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[OB_PASSWORD_HASH_MAX];
static volatile int dummy_sink;

static void init(void)
{
    if (sodium_init() < 0) abort();
}

/* The dummy hash is built, not computed: a verify against it costs what a
 * verify against a real hash of the same parameters costs (the password is
 * hashed with the stored salt, then compared), whatever tag it stores. So a
 * random salt and a random tag give the same timing as hashing a password, at
 * no cost; hashing one took most of the server's start-up (19 MiB of argon2). */
static void init_dummy(void)
{
    pthread_once(&once, init);
    unsigned char salt[crypto_pwhash_SALTBYTES], tag[32];
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(tag, sizeof tag);
    char s64[64], t64[64];
    const int v = sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    sodium_bin2base64(s64, sizeof s64, salt, sizeof salt, v);
    sodium_bin2base64(t64, sizeof t64, tag, sizeof tag, v);
    int n = snprintf(dummy_hash, sizeof dummy_hash, "$argon2id$v=%d$m=%llu,t=%llu,p=1$%s$%s", 19, MEMLIMIT / 1024,
                     OPSLIMIT, s64, t64);
    /* never expected (tests/unit/test_auth_password.c checks it) */
    if (n < 0 || (size_t)n >= sizeof dummy_hash || crypto_pwhash_str_needs_rehash(dummy_hash, OPSLIMIT, MEMLIMIT) != 0)
        dummy_hash[0] = 0;
}

void ob_password_warm(void)
{
    pthread_once(&dummy_once, init_dummy);
}

const char *ob_password_dummy_hash(void)
{
    pthread_once(&dummy_once, init_dummy);
    return dummy_hash;
}

int ob_password_hash(const char *pw, char out[OB_PASSWORD_HASH_MAX], ob_err *err)
{
    pthread_once(&once, init);
    _Static_assert(crypto_pwhash_STRBYTES <= OB_PASSWORD_HASH_MAX, "hash buffer too small");
    if (crypto_pwhash_str(out, pw, strlen(pw), OPSLIMIT, MEMLIMIT) != 0)
        return ob_err_set(err, OB_E_INTERNAL, "password hashing ran out of memory");
    return 0;
}

bool ob_password_verify(const char *hash, const char *pw)
{
    pthread_once(&once, init);
    if (!hash || !pw || strncmp(hash, "$argon2id$", 10) != 0) {
        ob_password_dummy_verify(pw ? pw : "");
        return false;
    }
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

void ob_password_dummy_verify(const char *pw)
{
    pthread_once(&dummy_once, init_dummy);
    /* the result is meaningless; only the time spent matters */
    if (dummy_hash[0]) dummy_sink = crypto_pwhash_str_verify(dummy_hash, pw, strlen(pw));
}

int ob_password_check(const char *pw, ob_err *err)
{
    size_t bytes = strlen(pw);
    if (!ob_utf8_valid(pw, bytes)) {
        ob_err_set(err, OB_E_VALIDATION, "the password must be valid UTF-8");
        return ob_err_field_add(err, "password", "is not valid UTF-8");
    }
    size_t n = ob_utf8_len(pw, bytes); /* the policy counts characters, not bytes */
    if (n < OB_PASSWORD_MIN_LEN) {
        ob_err_set(err, OB_E_VALIDATION, "the password must have at least %d characters", OB_PASSWORD_MIN_LEN);
        return ob_err_field_add(err, "password", "is too short");
    }
    if (n > 256) {
        ob_err_set(err, OB_E_VALIDATION, "the password is too long");
        return ob_err_field_add(err, "password", "is too long");
    }
    /* all one character: every code point equals the first one */
    size_t first = 1;
    while (first < bytes && (pw[first] & 0xC0) == 0x80) first++;
    bool same = true;
    for (size_t i = first; i < bytes; i += first) same &= i + first <= bytes && memcmp(pw + i, pw, first) == 0;
    if (same) {
        ob_err_set(err, OB_E_VALIDATION, "the password is too weak");
        return ob_err_field_add(err, "password", "is too weak");
    }
    return 0;
}

void ob_password_generate(char out[32])
{
    pthread_once(&once, init);
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    for (int i = 0; i < 24; i++) out[i] = alphabet[randombytes_uniform((uint32_t)(sizeof alphabet - 1))];
    out[24] = 0;
}
