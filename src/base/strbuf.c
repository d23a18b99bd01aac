/* strbuf.c - growable byte string (see strbuf.h for the invariants). */
#include "base/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

/* Every empty strbuf points here until its first append, so buf is never NULL
 * and an unused strbuf costs no allocation. It is never written to: every
 * write path checks cap first. */
static const char ob_sb_empty[1] = "";

#define OB_SB_MIN_CAP 64

void ob_sb_init(ob_sb *sb, size_t hint)
{
    sb->buf = (char *)ob_sb_empty;
    sb->len = 0;
    sb->cap = 0;
    sb->arena = NULL;
    if (hint)
        ob_sb_grow(sb, hint);
}

void ob_sb_init_arena(ob_sb *sb, ob_arena *a, size_t hint)
{
    sb->buf = (char *)ob_sb_empty;
    sb->len = 0;
    sb->cap = 0;
    sb->arena = a;
    if (hint)
        ob_sb_grow(sb, hint);
}

void ob_sb_release(ob_sb *sb)
{
    if (!sb->arena && sb->cap)
        free(sb->buf);
    sb->buf = (char *)ob_sb_empty;
    sb->len = 0;
    sb->cap = 0;
}

void ob_sb_reset(ob_sb *sb)
{
    sb->len = 0;
    if (sb->cap)
        sb->buf[0] = '\0';
}

char *ob_sb_detach(ob_sb *sb, size_t *len)
{
    /* The caller may free() the result, so an empty heap strbuf must first get
     * a real buffer of its own. */
    if (!sb->cap)
        ob_sb_grow(sb, 0);
    char *p = sb->buf;
    if (len)
        *len = sb->len;
    sb->buf = (char *)ob_sb_empty;
    sb->len = 0;
    sb->cap = 0;
    return p;
}

void ob_sb_grow(ob_sb *sb, size_t extra)
{
    if (extra > SIZE_MAX - sb->len - 1)
        abort();
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : OB_SB_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;

    if (sb->arena) {
        /* An arena cannot resize in place: copy into a fresh allocation and
         * leave the old one to the arena's lifetime. */
        char *p = ob_arena_alloc(sb->arena, cap);
        memcpy(p, sb->buf, sb->len);
        p[sb->len] = '\0';
        sb->buf = p;
    } else if (sb->cap) {
        char *p = realloc(sb->buf, cap);
        if (!p)
            abort();
        sb->buf = p;
    } else {
        char *p = malloc(cap);
        if (!p)
            abort();
        p[0] = '\0';
        sb->buf = p;
    }
    sb->cap = cap;
}

void ob_sb_add(ob_sb *sb, const void *data, size_t n)
{
    if (n == 0)
        return;
    /* Appending a piece of the string to itself must survive the realloc. */
    const char *src = data;
    if (sb->cap && src >= sb->buf && src < sb->buf + sb->cap) {
        size_t off = (size_t)(src - sb->buf);
        ob_sb_grow(sb, n);
        src = sb->buf + off;
        memmove(sb->buf + sb->len, src, n);
    } else {
        ob_sb_grow(sb, n);
        memcpy(sb->buf + sb->len, src, n);
    }
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void ob_sb_adds(ob_sb *sb, const char *s)
{
    ob_sb_add(sb, s, strlen(s));
}

void ob_sb_addc(ob_sb *sb, char c)
{
    if (sb->len + 1 >= sb->cap)
        ob_sb_grow(sb, 1);
    sb->buf[sb->len++] = c;
    sb->buf[sb->len] = '\0';
}

void ob_sb_vaddf(ob_sb *sb, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n;
    if (sb->cap) {
        /* Try the free space first: most formats fit and need one pass. */
        size_t room = sb->cap - sb->len;
        n = vsnprintf(sb->buf + sb->len, room, fmt, cp);
        va_end(cp);
        if (n < 0) {
            sb->buf[sb->len] = '\0';
            return;
        }
        if ((size_t)n < room) {
            sb->len += (size_t)n;
            return;
        }
    } else {
        n = vsnprintf(NULL, 0, fmt, cp);
        va_end(cp);
        if (n < 0)
            return;
    }
    ob_sb_grow(sb, (size_t)n);
    vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    sb->len += (size_t)n;
}

void ob_sb_addf(ob_sb *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ob_sb_vaddf(sb, fmt, ap);
    va_end(ap);
}

void ob_sb_add_i64(ob_sb *sb, int64_t v)
{
    /* Hand-rolled: this is on the JSON hot path and printf is slow. The
     * magnitude is taken in unsigned arithmetic so INT64_MIN is safe. */
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + (u % 10));
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    ob_sb_add(sb, p, (size_t)(tmp + sizeof(tmp) - p));
}

void ob_sb_trim(ob_sb *sb, size_t n)
{
    if (n > sb->len)
        n = sb->len;
    sb->len -= n;
    if (sb->cap)
        sb->buf[sb->len] = '\0';
}
