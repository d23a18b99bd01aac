/* strbuf.h - growable byte string.
 *
 * Invariants: buf is never NULL (an empty strbuf points at a shared empty
 * string until the first append) and is always NUL-terminated; len excludes the
 * terminator. The strbuf owns buf (malloc) unless it was created with
 * ob_sb_init_arena(), in which case growth comes from the arena and nothing
 * needs releasing. ob_sb_detach() hands ownership of a malloc'd buffer over to
 * the caller. Allocation failure aborts.
 */
#ifndef OB_STRBUF_H
#define OB_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef struct ob_sb {
    char *buf;
    size_t len;
    size_t cap;         /* 0 while buf points at the shared empty string */
    ob_arena *arena;    /* NULL: heap-owned */
} ob_sb;

void ob_sb_init(ob_sb *sb, size_t hint);
void ob_sb_init_arena(ob_sb *sb, ob_arena *a, size_t hint);
/* Free a heap buffer and reset to empty; no-op for arena buffers. */
void ob_sb_release(ob_sb *sb);
/* Empty the string but keep the capacity. */
void ob_sb_reset(ob_sb *sb);
/* Take the heap buffer; sb becomes empty. For an arena strbuf the pointer
 * stays owned by the arena. */
char *ob_sb_detach(ob_sb *sb, size_t *len);

void ob_sb_grow(ob_sb *sb, size_t extra);
void ob_sb_add(ob_sb *sb, const void *data, size_t n);
void ob_sb_adds(ob_sb *sb, const char *s);
void ob_sb_addc(ob_sb *sb, char c);
void ob_sb_addf(ob_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ob_sb_vaddf(ob_sb *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void ob_sb_add_i64(ob_sb *sb, int64_t v);
/* Drop the last n bytes (n clamped to len). */
void ob_sb_trim(ob_sb *sb, size_t n);

#endif
