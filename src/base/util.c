/* util.c - small parsing and text helpers declared in base.h. */
#include "base/base.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>

#include "base/banned.h"

int ob_parse_i64(const char *s, int64_t *out)
{
    /* strtoll alone would accept leading spaces, '+' and an empty string. */
    if (!s)
        return -1;
    const char *d = s[0] == '-' ? s + 1 : s;
    if (*d < '0' || *d > '9')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return -1;
    *out = (int64_t)v;
    return 0;
}

int ob_parse_decimal(const char *s, int scale, int64_t *out)
{
    if (!s || scale < 0 || scale > 18)
        return -1;
    const char *p = s;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    /* Integer and fraction digits form one digit stream padded to `scale`
     * fraction digits; the magnitude is built unsigned against the limit of
     * the sign, so INT64_MIN is reachable and anything beyond is refused. */
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    int nint = 0, nfrac = 0;
    for (; *p >= '0' && *p <= '9'; p++, nint++) {
        unsigned d = (unsigned)(*p - '0');
        if (acc > (limit - d) / 10)
            return -1;
        acc = acc * 10 + d;
    }
    if (nint == 0)
        return -1;
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++, nfrac++) {
            if (nfrac >= scale)
                return -1; /* more decimals than the column keeps */
            unsigned d = (unsigned)(*p - '0');
            if (acc > (limit - d) / 10)
                return -1;
            acc = acc * 10 + d;
        }
        if (nfrac == 0)
            return -1;
    }
    if (*p != '\0')
        return -1;
    for (int i = nfrac; i < scale; i++) {
        if (acc > limit / 10)
            return -1;
        acc *= 10;
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return 0;
}

void ob_format_decimal(int64_t minor, int scale, char *out, size_t outsz)
{
    if (!out || outsz == 0)
        return;
    if (scale < 0)
        scale = 0;
    if (scale > 18)
        scale = 18;
    /* Digits are produced backwards from the unsigned magnitude, so
     * INT64_MIN needs no special case. */
    char tmp[48];
    char *p = tmp + sizeof(tmp);
    *--p = '\0';
    uint64_t u = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    for (int i = 0; i < scale; i++) {
        *--p = (char)('0' + u % 10);
        u /= 10;
    }
    if (scale > 0)
        *--p = '.';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (minor < 0)
        *--p = '-';
    size_t len = (size_t)(tmp + sizeof(tmp) - 1 - p);
    if (len >= outsz)
        len = outsz - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

bool ob_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
        if (c >= 0xC2 && c <= 0xDF) {
            k = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 3;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates U+D800..U+DFFF */
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 4;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        } else {
            return false; /* continuation byte, C0/C1 overlong, or F5..FF */
        }
        if (n - i < k)
            return false;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t j = 2; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
        i += k;
    }
    return true;
}

size_t ob_utf8_len(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

char *ob_ascii_lower(ob_arena *a, const char *s)
{
    char *r = ob_arena_strdup(a, s);
    for (char *p = r; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return r;
}

bool ob_ct_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}
