/* crud.h - the generic write and read operations every table gets.
 *
 * All functions run on ctx->db; the write functions expect a WRITE
 * connection with an open transaction (the caller commits), run the table's
 * hooks, and write the audit row. Customer users are confined to their own
 * rows by the table's customer_scope on every path.
 */
#ifndef OB_CRUD_H
#define OB_CRUD_H

#include <jansson.h>

#include "schema/ctx.h"
#include "schema/row.h"

int ob_crud_get(ob_ctx *ctx, const ob_table *t, const char *id, ob_row **out, ob_err *err);
int ob_crud_create(ob_ctx *ctx, const ob_table *t, json_t *body, ob_row **out, ob_err *err);
/* if_match < 0: no precondition. */
int ob_crud_update(ob_ctx *ctx, const ob_table *t, const char *id, json_t *body, int64_t if_match, ob_row **out,
                   ob_err *err);
int ob_crud_delete(ob_ctx *ctx, const ob_table *t, const char *id, int64_t if_match, ob_err *err);

/* The permission verb of an event or action on t ("edit"), or NULL when the
 * table has no such verb. */
const char *ob_crud_action_perm(const ob_table *t, const char *verb);
/* Run a state-machine event or a named action on one row. */
int ob_crud_action(ob_ctx *ctx, const ob_table *t, const char *id, const char *verb, json_t *body, ob_row **out,
                   ob_err *err);

/* Insert a row built in code (id, timestamps and version are filled in),
 * running hooks and audit like a client create. */
int ob_crud_insert_row(ob_ctx *ctx, ob_row *row, ob_err *err);
/* Save a changed copy of a stored row: bumps version and updated_at, runs the
 * update hooks, writes, audits under `action`. No-op when nothing changed. */
int ob_crud_save(ob_ctx *ctx, const ob_row *old, ob_row *row, const char *action, ob_err *err);

#endif
