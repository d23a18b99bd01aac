/* ledger.h - bounded ledgers (ob_ledger in registry.h). */
#ifndef OB_LEDGER_H
#define OB_LEDGER_H

#include "schema/ctx.h"
#include "schema/row.h"

/* Apply a new entry of a ledger table to its parent's balances, inside the
 * caller's write transaction: one conditional UPDATE, refused with the
 * ledger's error code when a bound would break (nothing is then changed). The
 * parent's change is audited under the entry table's name. */
int ob_ledger_post(ob_ctx *ctx, const ob_row *entry, ob_err *err);

/* Called for each parent balance that differs from its default plus the sum
 * of its entries. */
typedef void (*ob_ledger_report_fn)(void *arg, const char *table, const char *id, const char *column,
                                    int64_t balance, int64_t expected);
/* Verify every balance moved by ledger table t; *bad counts the mismatches. */
int ob_ledger_check(ob_ctx *ctx, const ob_table *t, ob_ledger_report_fn report, void *arg, int64_t *bad,
                    ob_err *err);

#endif
