/* chain.h - the tamper-evident audit trail: each tenant's audit rows form a
 * hash chain. A row's `seq` comes from the tenant's counter "audit_chain"
 * (taken in the row's transaction, so on PostgreSQL the counter's row lock
 * orders concurrent writers, and a rolled-back write leaves no gap), its
 * `prev_hash` is the hash of row seq-1 ("0"x64 for the first) and its `hash`
 * is SHA-256 over prev_hash, a newline and the row's canonical form: a JSON
 * object of every column but `hash`, keys sorted, JSON columns re-encoded, so
 * that both engines' storage of JSON gives the same text. Changing, removing
 * or reordering a row breaks the chain at that row. */
#ifndef OB_AUDIT_CHAIN_H
#define OB_AUDIT_CHAIN_H

#include <stdint.h>

#include "schema/ctx.h"
#include "schema/row.h"

/* Fill seq, prev_hash and hash of an audit row about to be inserted. */
int ob_audit_chain_link(ob_ctx *ctx, ob_row *a, ob_err *err);

/* The same for n rows about to be inserted in this order: their seqs taken
 * in one statement, the head's hash read once, each row's prev_hash the
 * hash of the one before it (two statements whatever n). */
int ob_audit_chain_link_many(ob_ctx *ctx, ob_row *const *rows, int n, ob_err *err);

/* The same for a platform_audit_logs row (control database): its seq is the
 * last row's plus one (seq is unique: of two racing writers one fails). */
int ob_audit_platform_link(ob_ctx *ctx, ob_row *a, ob_err *err);

typedef struct ob_audit_verdict {
    int64_t rows;          /* chained rows checked */
    int64_t unchained;     /* rows older than the chain (no seq) */
    int64_t first_seq;     /* the first chained row present (earlier ones may be archived) */
    int64_t broken_seq;    /* 0 when the chain holds, else the first row that breaks it */
    char broken_id[40];
    char why[96];
} ob_audit_verdict;

/* Recompute the chain of the tenant on ctx->db (inside a read snapshot). */
int ob_audit_verify(ob_ctx *ctx, ob_audit_verdict *v, ob_err *err);

#endif
