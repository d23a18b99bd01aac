/* erase.h - a person's erasure: their personal data (OB_PERSONAL columns)
 * overwritten in their own row and in every row that references it, the
 * business figures of those rows left as they are. */
#ifndef OB_ERASE_H
#define OB_ERASE_H

#include "schema/registry.h"
#include "schema/row.h"

/* The value an erased text column holds: "erased-" and the last 12
 * characters of the subject's id, so the business records that named the
 * person still agree with each other (a pseudonym) and name no one. */
const char *ob_erase_pseudonym(ob_arena *a, const char *subject_id);

/* Overwrite the personal columns of row (in memory): text that is not
 * sealed takes the pseudonym (with the row id's last 6 characters on a
 * unique column), cut to the column's length; anything else becomes null
 * when the column allows it, a required JSON column `{}`, and any other
 * required column stays. Returns the number of columns changed. */
int ob_erase_apply(ob_arena *a, ob_row *row, const char *pseudonym);

/* Called for each row the erasure is about to rewrite (before its update
 * and its own audit row): the caller redacts what else kept the old values
 * (the row's audit images). */
typedef int (*ob_erase_each)(ob_ctx *ctx, const ob_row *erased, void *arg, ob_err *err);

/* Erase the personal columns of every row, soft-deleted ones included, whose
 * reference column points at the subject (t, id), and of the rows that point
 * at those, three references deep (a shipment of the customer's order, an NDR
 * case of that shipment), each row once; only tables with a personal column
 * are visited, and no row of t itself (another person). One audited update per
 * row changed, under the action "erase", on the caller's write transaction,
 * with no hook run (an erasure rewrites history that workflows must not
 * refuse: an issued invoice keeps its amounts and loses its names). Adds
 * each table's count to tally (a JSON object of table -> rows). */
int ob_erase_referencing(ob_ctx *ctx, const ob_table *t, const char *id, const char *pseudonym, json_t *tally,
                         ob_erase_each each, void *arg, ob_err *err);

/* Whether the table declares any personal column. */
bool ob_erase_has_personal(const ob_table *t);

#endif
