/* rowjson.h - rows out as JSON, with masking by role. */
#ifndef OB_ROWJSON_H
#define OB_ROWJSON_H

#include "base/jsonw.h"
#include "schema/ctx.h"
#include "schema/row.h"

/* Write the row as an object as the principal may see it: hidden columns
 * (ob_col_hidden) left out, masked columns masked when the tenant's masking
 * rules apply to the principal's roles, row images (ob_column.image_of) shown
 * through the imaged table's declarations the same way. */
void ob_row_json(ob_ctx *ctx, ob_jsonw *w, const ob_row *r);
/* A stored row image (an audit row's old or new values) of `table` as ctx's
 * principal may see it, as ob_row_json shows that table's rows: hidden
 * columns dropped, masked ones masked; null when it does not parse. */
void ob_row_image_json(ob_ctx *ctx, ob_jsonw *w, const char *table, const char *text, size_t n);
/* The same without masking (webhook payloads); secret and sealed
 * (OB_ENCRYPTED) columns left out. */
void ob_row_json_raw(ob_jsonw *w, const ob_row *r);
/* As raw, but sealed columns kept, sealed for the tenant as in their row
 * (audit values): ob_row_image_json opens them for readers who may see them. */
void ob_row_json_sealed(ob_jsonw *w, const ob_row *r, const char *tenant);
/* Every column as stored, secrets included: for backups only. */
void ob_row_json_stored(ob_jsonw *w, const ob_row *r);
/* Whether column c is absent for the principal: secret, or staff-only and the
 * principal a customer user. ctx NULL: only secrets. */
bool ob_col_hidden(const ob_ctx *ctx, const ob_column *c);
/* Hidden or masked: what filters, sorts and searches must not reveal. */
bool ob_col_withheld(ob_ctx *ctx, const ob_column *c);
/* Whether column c is masked for the principal (loads rules once per ctx). */
bool ob_col_masked(ob_ctx *ctx, const ob_column *c);
/* Mask text of kind k into out (arena). */
const char *ob_mask_text(ob_arena *a, ob_mask_kind k, const char *s);

#endif
