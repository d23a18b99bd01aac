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

/* One event of a batch: ctx gives its arena, principal, address, user
 * agent, request id and time (each event its own request's). */
typedef struct ob_audit_ev {
    ob_ctx *ctx;
    const char *action, *entity_type, *entity_id, *user_id, *metadata_json;
} ob_audit_ev;
/* n events as ob_audit_event writes them, in order, on db (a tenant's writer
 * in a transaction): chained and inserted in a few statements whatever n
 * (the read log's flush), not three each. */
int ob_audit_events(ob_conn *db, const ob_audit_ev *ev, int n, ob_err *err);

/* A person's erasure (schema/erase.h): the audit images of the erased row
 * lose its personal columns (set to null), so the trail keeps who changed
 * what and when but not the values. Counts the rows rewritten into *redacted
 * and lowers *from_seq to the first one's place in the chain (leave it at 0
 * before the first call), for ob_audit_relink. */
int ob_audit_redact(ob_ctx *ctx, const ob_row *erased, int64_t *redacted, int64_t *from_seq, ob_err *err);
/* The image (a row's JSON as audit_logs keeps it) of a row of t with its
 * personal columns null; image itself when it has none to redact. */
const char *ob_audit_redact_image(ob_arena *a, const ob_table *t, const char *image);
/* Re-link the tenant's hash chain from seq on, after ob_audit_redact
 * rewrote rows there: every later row's prev_hash and hash are recomputed,
 * so `audit verify` holds again. The erasure's own audit row records it. */
int ob_audit_relink(ob_ctx *ctx, int64_t from_seq, ob_err *err);

#endif
