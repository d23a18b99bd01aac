/* reads.c - personal rows a request read (see reads.h). */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "schema/erase.h"
#include "schema/reads.h"
#include "base/banned.h"

void ob_reads_begin(ob_ctx *ctx)
{
    ctx->reads = ob_arena_zalloc(ctx->arena, sizeof *ctx->reads);
    ctx->reads->arena = ctx->arena;
}

void ob_reads_note(ob_ctx *ctx, const ob_table *t, const char *id)
{
    if (!ctx->reads || !id) return;
    ob_read_table *rt = ctx->reads->head;
    while (rt && strcmp(rt->table, t->name) != 0) rt = rt->next;
    if (!rt) {
        if (!ob_erase_has_personal(t)) return;
        rt = ob_arena_zalloc(ctx->reads->arena, sizeof *rt);
        rt->table = t->name;
        ob_sb_init_arena(&rt->ids, ctx->reads->arena, 64);
        /* appended, so the audit row lists tables in the order read */
        ob_read_table **end = &ctx->reads->head;
        while (*end) end = &(*end)->next;
        *end = rt;
    }
    ctx->reads->n++;
    /* an export reads every row through list pages: past the cap it is counted, not listed */
    if (ctx->reads->n > OB_READS_MAX_IDS) return;
    if (rt->n) ob_sb_addc(&rt->ids, ',');
    ob_sb_addc(&rt->ids, '"');
    ob_sb_adds(&rt->ids, id); /* ids are uuids: nothing to escape */
    ob_sb_addc(&rt->ids, '"');
    rt->n++;
}
