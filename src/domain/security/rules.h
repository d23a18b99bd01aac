/* rules.h - small row rules shared by the security, notification and
 * analytics areas' hooks (the "insight" tables). Each runs inside a hook, so
 * inside the write transaction, and reports problems as field-level errors
 * that name the column.
 */
#ifndef OB_DOMAIN_RULES_H
#define OB_DOMAIN_RULES_H

#include "schema/ctx.h"
#include "schema/row.h"

/* Fill the reference column `col` with the signed-in user when it is null.
 * With `required`, a row that still has no user (the system acting without
 * one) is a validation error on `col`. */
int ob_rule_stamp_user(ob_ctx *ctx, ob_row *row, ob_colh col, bool required, ob_err *err);

/* A validation error naming one field; always returns -1. */
int ob_rule_field_error(ob_err *err, const char *col, const char *problem);

#endif
