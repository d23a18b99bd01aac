/* base.h - the base layer in one include, plus small helpers every module uses.
 * base/ knows nothing of HTTP, databases or the domain. */
#ifndef OB_BASE_H
#define OB_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "clock.h"
#include "codec.h"
#include "err.h"
#include "jsonw.h"
#include "log.h"
#include "strbuf.h"
#include "uuid.h"

#define OB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static inline bool ob_streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Parse a whole decimal int64 (optional sign, no spaces, no overflow). */
int ob_parse_i64(const char *s, int64_t *out);
/* Parse a decimal "123.45" with at most `scale` fraction digits into minor
 * units (12345 for scale 2). Rejects exponents, spaces and overflow. */
int ob_parse_decimal(const char *s, int scale, int64_t *out);
/* Format minor units as a decimal string with `scale` fraction digits. */
void ob_format_decimal(int64_t minor, int scale, char *out, size_t outsz);
/* True when s is valid UTF-8 without NUL. */
bool ob_utf8_valid(const char *s, size_t n);
/* Number of code points in valid UTF-8. */
size_t ob_utf8_len(const char *s, size_t n);
/* Lower-case ASCII copy into the arena. */
char *ob_ascii_lower(ob_arena *a, const char *s);
/* s[0..n) lower-cased by Unicode's full mapping and normalized to NFC, into
 * the arena (NUL-terminated, its length in *out_len when not NULL). Text
 * that is not UTF-8 gets only its ASCII letters lowered. */
char *ob_text_lower(ob_arena *a, const char *s, size_t n, size_t *out_len);
/* Constant-time equality of two equal-length byte strings. */
bool ob_ct_equal(const void *a, const void *b, size_t n);

#endif
