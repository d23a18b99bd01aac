/* reads.h - the rows of declared personal data (tables with an OB_PERSONAL
 * column) a read request showed, gathered per request so the audit trail can
 * record them in one row (audit/readlog.h writes it after the response).
 *
 * The API layer turns gathering on for a GET (ob_reads_begin); the generic
 * readers (a row's GET, a list page) note each row they return. Everything
 * lives in the request's arena. */
#ifndef OB_SCHEMA_READS_H
#define OB_SCHEMA_READS_H

#include "base/strbuf.h"
#include "schema/ctx.h"
#include "schema/registry.h"

/* Ids listed per request at most; the rows past it are counted (ob_reads.n). */
#define OB_READS_MAX_IDS 1000

typedef struct ob_read_table {
    const char *table;
    ob_sb ids;                 /* a JSON array's items, comma-separated quoted ids */
    int n;                     /* ids listed */
    struct ob_read_table *next;
} ob_read_table;

typedef struct ob_reads {
    ob_read_table *head;
    int n;                     /* rows noted, all tables (listed or past the cap) */
    ob_arena *arena;           /* the request's: a handler may point ctx->arena at a
                                * shorter-lived one (an export's page) while it reads */
} ob_reads;

/* Start gathering for this request (ctx->reads, from the arena). */
void ob_reads_begin(ob_ctx *ctx);
/* Note that row id of t was returned; nothing when not gathering or when t
 * declares no personal column. */
void ob_reads_note(ob_ctx *ctx, const ob_table *t, const char *id);

#endif
