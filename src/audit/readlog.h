/* readlog.h - audited reads of personal data, written after the response.
 *
 * A GET that returned rows of a table with personal columns (schema/reads.h)
 * hands what it read to ob_readlog_push as its last step: one entry per
 * request, naming each table and the ids read. The entry waits in memory and
 * a flusher thread writes it into the tenant's audit_logs (action "read",
 * chained like every audit row) on the tenant's writer, up to
 * OB_READLOG_TXN_MAX entries of one tenant in one transaction. So a read never
 * takes the tenant's write lock inside the request, and the hash chain holds.
 * The bound keeps the write lock free between short transactions: a burst of
 * reads (thousands a second on PostgreSQL, each entry then three statements)
 * made one transaction that held the lock longer than a write request waits
 * for it (the busy timeout), and the tenant's writes failed as busy
 * meanwhile. A transaction's rows are chained in memory and inserted together
 * (ob_audit_events), so it is a handful of statements whatever its size.
 *
 * What a crash loses: the entries queued and not yet written, at most the
 * reads of the last flush interval (OB_READLOG_FLUSH_MS) and never more than
 * OB_READLOG_CAP entries. A queue that reaches the cap (the writer cannot keep
 * up, or a tenant's database refuses) drops further entries and logs how many;
 * a graceful stop writes everything queued. Nothing is pushed while no
 * flusher runs (the command-line tools, the fuzz harness). */
#ifndef OB_AUDIT_READLOG_H
#define OB_AUDIT_READLOG_H

#include <stdint.h>

#include "schema/ctx.h"

#define OB_READLOG_FLUSH_MS 200
#define OB_READLOG_CAP 10000
#define OB_READLOG_TXN_MAX 64

/* Start the flusher for the store (once per process). */
int ob_readlog_start(ob_store *s, ob_err *err);
/* Write what is queued and end the flusher; nothing after it is kept. */
void ob_readlog_stop(void);
/* Queue the request's reads (ctx->reads) when it read personal rows as a
 * person (not the system) of a tenant; copies what it keeps. */
void ob_readlog_push(const ob_ctx *ctx);
/* Entries dropped since start (queue full or write failed). */
int64_t ob_readlog_dropped(void);

#endif
