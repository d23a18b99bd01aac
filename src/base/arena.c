/* arena.c - region allocator: a list of malloc'd blocks, newest first.
 *
 * Regular blocks double in size (from block_size up to OB_ARENA_MAX_BLOCK) so a
 * request that builds a large response needs few mallocs. A request bigger than
 * a quarter of the next regular block gets a block of its own, linked behind the
 * current block so the free tail of the current block stays usable. */
#include "base/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define OB_ARENA_DEFAULT_BLOCK ((size_t)8 * 1024)
#define OB_ARENA_MAX_BLOCK ((size_t)1024 * 1024)
#define OB_ARENA_ALIGN ((uintptr_t)16)

struct ob_arena_block {
    ob_arena_block *next;
    size_t size;  /* usable bytes in data[] */
    size_t used;  /* bytes handed out (including alignment padding) */
    int big;      /* a dedicated block for one large request */
    unsigned char data[];
};

static ob_arena_block *block_new(ob_arena *a, size_t size, int big)
{
    if (size > SIZE_MAX - sizeof(ob_arena_block))
        abort();
    ob_arena_block *b = malloc(sizeof(ob_arena_block) + size);
    if (!b)
        abort();
    b->next = NULL;
    b->size = size;
    b->used = 0;
    b->big = big;
    a->total += sizeof(ob_arena_block) + size;
    return b;
}

/* Return an aligned pointer to n bytes inside b, or NULL when they do not fit.
 * Alignment is computed on the address itself, so it holds whatever alignment
 * malloc gave the block. */
static void *block_take(ob_arena_block *b, size_t n)
{
    uintptr_t start = (uintptr_t)(b->data + b->used);
    uintptr_t aligned = (start + OB_ARENA_ALIGN - 1) & ~(OB_ARENA_ALIGN - 1);
    size_t pad = (size_t)(aligned - start);
    size_t room = b->size - b->used;
    if (pad > room || n > room - pad)
        return NULL;
    b->used += pad + n;
    return (void *)aligned;
}

/* Size of the next regular block: double the newest regular block, capped. */
static size_t next_regular_size(const ob_arena *a)
{
    for (const ob_arena_block *b = a->head; b; b = b->next) {
        if (!b->big) {
            size_t s = b->size * 2;
            if (s > OB_ARENA_MAX_BLOCK)
                s = OB_ARENA_MAX_BLOCK;
            return s > a->block_size ? s : a->block_size;
        }
    }
    return a->block_size;
}

void ob_arena_init(ob_arena *a, size_t first_block)
{
    a->head = NULL;
    a->block_size = first_block ? first_block : OB_ARENA_DEFAULT_BLOCK;
    a->total = 0;
}

void ob_arena_release(ob_arena *a)
{
    ob_arena_block *b = a->head;
    while (b) {
        ob_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}

void ob_arena_clear(ob_arena *a)
{
    /* Keep the oldest regular block: it has the configured size, so an arena
     * reused between requests does not keep a grown or oversized block. */
    ob_arena_block *keep = NULL;
    for (ob_arena_block *b = a->head; b; b = b->next)
        if (!b->big)
            keep = b;
    ob_arena_block *b = a->head;
    while (b) {
        ob_arena_block *next = b->next;
        if (b != keep)
            free(b);
        b = next;
    }
    a->head = keep;
    a->total = 0;
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
        a->total = sizeof(ob_arena_block) + keep->size;
    }
}

void *ob_arena_alloc(ob_arena *a, size_t n)
{
    if (n == 0)
        n = 1; /* distinct pointers for distinct calls */
    if (a->head) {
        void *p = block_take(a->head, n);
        if (p)
            return p;
    }
    size_t regular = next_regular_size(a);
    if (n > regular / 4) {
        if (n > SIZE_MAX - OB_ARENA_ALIGN)
            abort();
        ob_arena_block *big = block_new(a, n + OB_ARENA_ALIGN - 1, 1);
        if (a->head) {
            big->next = a->head->next;
            a->head->next = big;
        } else {
            a->head = big;
        }
        return block_take(big, n);
    }
    ob_arena_block *b = block_new(a, regular, 0);
    b->next = a->head;
    a->head = b;
    return block_take(b, n); /* n + padding <= regular / 4 + 15 always fits */
}

void *ob_arena_zalloc(ob_arena *a, size_t n)
{
    void *p = ob_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *ob_arena_strndup(ob_arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = ob_arena_alloc(a, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *ob_arena_strdup(ob_arena *a, const char *s)
{
    return ob_arena_strndup(a, s, strlen(s));
}

char *ob_arena_printf(ob_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return ob_arena_strndup(a, "", 0);
    }
    char *p = ob_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}
