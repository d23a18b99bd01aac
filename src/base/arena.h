/* arena.h - region allocator with one lifetime.
 *
 * Every request owns one arena; everything the request allocates comes from it
 * and is released in one go by ob_arena_release(). Allocation never fails
 * silently: when malloc fails the process aborts (there is no sane recovery
 * half-way through a request, and a NULL check at every call site would be
 * noise). Memory is 16-byte aligned and not zeroed unless the name says so.
 */
#ifndef OB_ARENA_H
#define OB_ARENA_H

#include <stddef.h>

typedef struct ob_arena_block ob_arena_block;

typedef struct ob_arena {
    ob_arena_block *head;  /* newest block first */
    size_t block_size;     /* size of regular blocks; big requests get their own */
    size_t total;          /* bytes obtained from malloc, for metrics */
} ob_arena;

/* Prepare an empty arena; first_block 0 picks a default (8 KiB). */
void ob_arena_init(ob_arena *a, size_t first_block);
/* Free every block. The arena may be reused after ob_arena_init(). */
void ob_arena_release(ob_arena *a);
/* Keep the first block, drop the rest: cheap reuse between requests. */
void ob_arena_clear(ob_arena *a);

void *ob_arena_alloc(ob_arena *a, size_t n);
void *ob_arena_zalloc(ob_arena *a, size_t n);
/* Copies; the results are NUL-terminated and owned by the arena. */
char *ob_arena_strdup(ob_arena *a, const char *s);
char *ob_arena_strndup(ob_arena *a, const char *s, size_t n);
char *ob_arena_printf(ob_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
