/* rowjson.h - rows out as JSON, with masking by role. */
#ifndef OB_ROWJSON_H
#define OB_ROWJSON_H

#include "base/jsonw.h"
#include "schema/ctx.h"
#include "schema/row.h"

/* Write the row as an object. Secret columns are left out; masked columns are
 * masked when the tenant's masking rules apply to the principal's roles. */
void ob_row_json(ob_ctx *ctx, ob_jsonw *w, const ob_row *r);
/* The same without masking (audit values); secret columns still left out. */
void ob_row_json_raw(ob_jsonw *w, const ob_row *r);
/* Whether column c is masked for the principal (loads rules once per ctx). */
bool ob_col_masked(ob_ctx *ctx, const ob_column *c);
/* Mask text of kind k into out (arena). */
const char *ob_mask_text(ob_arena *a, ob_mask_kind k, const char *s);

#endif
