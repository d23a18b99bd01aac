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

/* A request body validated against t into a new row: for a create with the
 * defaults filled in, for a PATCH holding only the given fields (set[]).
 * The API gate calls these (and ob_crud_verb_body) before any handler runs,
 * so the *_row writes below take input that is already valid. */
int ob_crud_body(ob_ctx *ctx, const ob_table *t, json_t *body, bool create, ob_row **out, ob_err *err);
/* The body of an event or action as declared: an action's input as a row of
 * its input table (validate_row included: references in the tenant), or NULL
 * when it declares none (then any field is refused); an event's fields, each
 * declared by one of its rows, as a PATCH row of t, or NULL for no fields.
 * OB_E_NO_ROUTE when t has no such verb. */
int ob_crud_verb_body(ob_ctx *ctx, const ob_table *t, const char *verb, json_t *body, ob_row **out, ob_err *err);

int ob_crud_create_row(ob_ctx *ctx, const ob_table *t, ob_row *row, ob_row **out, ob_err *err);
/* The same, for a table declaring a dedupe: *found and the stored row when
 * the create repeats one (nothing is written). */
int ob_crud_create_or_find(ob_ctx *ctx, const ob_table *t, ob_row *row, ob_row **out, bool *found, ob_err *err);
/* patch: from ob_crud_body(create = false); if_match < 0: no precondition. */
int ob_crud_update_row(ob_ctx *ctx, const ob_table *t, const char *id, const ob_row *patch, int64_t if_match,
                       ob_row **out, ob_err *err);
/* Run an event or action with the input from ob_crud_verb_body; an event
 * refuses a field its row for the current state does not take. */
int ob_crud_run_verb(ob_ctx *ctx, const ob_table *t, const char *id, const char *verb, const ob_row *in,
                     ob_row **out, ob_err *err);

/* The same from a JSON body, validated here (CLI, tests). */
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
