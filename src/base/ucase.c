/* ucase.c - Unicode case folding for case-insensitive text (emails, codes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>

#include "base/base.h"
#include "base/banned.h"

char *ob_text_lower(ob_arena *a, const char *s, size_t n, size_t *out_len)
{
    size_t len = 0;
    /* Full lower-case mapping (Ä to ä, Σ to σ or ς by context) and NFC, so
     * that a precomposed and a decomposed spelling, or two cases, of one
     * address are one value to unique indexes and to look-ups. */
    /* (libunistring would replace bytes that are not UTF-8 with U+FFFD) */
    uint8_t *low = ob_utf8_valid(s, n) ? u8_tolower((const uint8_t *)s, n, NULL, UNINORM_NFC, NULL, &len) : NULL;
    char *r;
    if (low) {
        r = ob_arena_strndup(a, (const char *)low, len);
        free(low);
    } else { /* not UTF-8: nothing stored can equal it; lower what is ASCII */
        r = ob_ascii_lower(a, ob_arena_strndup(a, s, n));
        len = n;
    }
    if (out_len) *out_len = len;
    return r;
}
