/* validate.h - client JSON into rows, checked against the declaration. */
#ifndef OB_VALIDATE_H
#define OB_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>

#include "schema/ctx.h"
#include "schema/row.h"

/* Convert one JSON value for column c into v (arena copies). Returns 0, or -1
 * with a short problem text in *problem ("must be an integer"). */
int ob_value_from_json(ob_arena *a, const ob_column *c, json_t *j, ob_value *v, const char **problem);

/* Apply a request body to row. create: row is empty and gets defaults for
 * what is not given; update: row holds the stored values. Unknown fields are
 * OB_E_UNKNOWN_FIELD, server-set (or, on update, immutable) fields
 * OB_E_READONLY_FIELD, bad values OB_E_VALIDATION with every failed field. */
int ob_validate_body(ob_ctx *ctx, const ob_table *t, json_t *body, ob_row *row, bool create, ob_err *err);
/* A new row of table with its declared defaults, as a create with an empty
 * body would have it, for rows the server writes itself. */
ob_row *ob_row_with_defaults(ob_ctx *ctx, const char *table);

/* Check the row as a whole: required columns present, cross-column checks,
 * and references pointing at existing rows (OB_E_UNPROCESSABLE). */
int ob_validate_row(ob_ctx *ctx, const ob_row *row, ob_err *err);

#endif
