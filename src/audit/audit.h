/* audit.h - the audit trail. Every change and sign-in writes one audit_logs
 * row through here, on the same connection and inside the same transaction as
 * the change, so a change and its audit row commit or vanish together. */
#ifndef OB_AUDIT_H
#define OB_AUDIT_H

#include "schema/ctx.h"
#include "schema/row.h"

/* old/row may be NULL (create has no old, delete no new). changed fields are
 * computed from old and row when both are given, else all non-secret set
 * columns. metadata_json may be NULL. */
int ob_audit_change(ob_ctx *ctx, const char *action, const ob_row *old, const ob_row *row, ob_err *err);
/* A super admin's action that changes no control row (a tenant's export),
 * chained into platform_audit_logs on ctx->db (the control database's
 * writer, in a transaction). */
int ob_audit_platform_event(ob_ctx *ctx, const char *action, const char *entity_type, const char *entity_id,
                            const char *new_values_json, ob_err *err);
/* An event without row images (login, logout, login_failed). */
int ob_audit_event(ob_ctx *ctx, const char *action, const char *entity_type, const char *entity_id,
                   const char *user_id, const char *metadata_json, ob_err *err);

#endif
