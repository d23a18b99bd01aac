/* codec.c - base64url, hex, percent-decoding and token hashing. */
#include "base/codec.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>

#include "base/banned.h"

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hex_lower[] = "0123456789abcdef";

static pthread_once_t codec_once = PTHREAD_ONCE_INIT;

static void codec_sodium_init(void)
{
    if (sodium_init() < 0)
        abort(); /* no entropy source: tokens cannot be made safely */
}

void ob_b64url_encode(ob_sb *out, const void *data, size_t n)
{
    const unsigned char *p = data;
    ob_sb_grow(out, (n + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char q[4] = { b64_alpha[v >> 18], b64_alpha[(v >> 12) & 63], b64_alpha[(v >> 6) & 63],
                      b64_alpha[v & 63] };
        ob_sb_add(out, q, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        char q[2] = { b64_alpha[v >> 18], b64_alpha[(v >> 12) & 63] };
        ob_sb_add(out, q, 2);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        char q[3] = { b64_alpha[v >> 18], b64_alpha[(v >> 12) & 63], b64_alpha[(v >> 6) & 63] };
        ob_sb_add(out, q, 3);
    }
}

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int ob_b64url_decode(ob_sb *out, const char *s, size_t n)
{
    /* One leftover character would carry only 6 bits: no byte encodes so. */
    if (n % 4 == 1)
        return -1;
    size_t start = out->len;
    const unsigned char *p = (const unsigned char *)s;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val(p[i]);
        if (v < 0)
            goto fail;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            ob_sb_addc(out, (char)((acc >> bits) & 0xFF));
            acc &= (1u << bits) - 1;
        }
    }
    /* The unused low bits of the last character must be zero, so each byte
     * string has exactly one encoding. */
    if (acc & ((1u << bits) - 1))
        goto fail;
    return 0;
fail:
    ob_sb_trim(out, out->len - start);
    return -1;
}

void ob_hex_encode(ob_sb *out, const void *data, size_t n)
{
    const unsigned char *p = data;
    ob_sb_grow(out, n * 2);
    for (size_t i = 0; i < n; i++) {
        char h[2] = { hex_lower[p[i] >> 4], hex_lower[p[i] & 0x0F] };
        ob_sb_add(out, h, 2);
    }
}

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ob_percent_decode(ob_sb *out, const char *s, size_t n, int plus_is_space)
{
    size_t start = out->len;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '%') {
            if (n - i < 3)
                goto fail;
            int hi = hex_val(p[i + 1]), lo = hex_val(p[i + 2]);
            if (hi < 0 || lo < 0)
                goto fail;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0')
            goto fail; /* a NUL would cut C strings short later */
        ob_sb_addc(out, (char)c);
    }
    return 0;
fail:
    ob_sb_trim(out, out->len - start);
    return -1;
}

void ob_token_hash(const char *s, size_t n, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)s, n, NULL, 0);
    for (size_t i = 0; i < sizeof(h); i++) {
        out[2 * i] = hex_lower[h[i] >> 4];
        out[2 * i + 1] = hex_lower[h[i] & 0x0F];
    }
    out[64] = '\0';
    sodium_memzero(h, sizeof(h));
}

void ob_random_b64url(ob_sb *out, size_t nbytes)
{
    pthread_once(&codec_once, codec_sodium_init);
    /* Chunks of a multiple of 3 bytes encode to text that concatenates into
     * the encoding of the whole. */
    unsigned char buf[48];
    while (nbytes) {
        size_t k = nbytes < sizeof(buf) ? nbytes : sizeof(buf);
        randombytes_buf(buf, k);
        ob_b64url_encode(out, buf, k);
        nbytes -= k;
    }
    sodium_memzero(buf, sizeof(buf));
}

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((ob_sha256 *)0)->state),
               "ob_sha256 must hold libsodium's SHA-256 state");

void ob_sha256_init(ob_sha256 *h)
{
    crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)h->state);
}

void ob_sha256_update(ob_sha256 *h, const void *data, size_t n)
{
    crypto_hash_sha256_update((crypto_hash_sha256_state *)(void *)h->state, data, n);
}

void ob_sha256_final(ob_sha256 *h, char out[65])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    static const char hex[] = "0123456789abcdef";
    crypto_hash_sha256_final((crypto_hash_sha256_state *)(void *)h->state, d);
    for (size_t i = 0; i < sizeof d; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = 0;
}
