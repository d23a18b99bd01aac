/* identity.h - hooks and actions of the identity area (users, roles, user
 * roles, sessions). */
#ifndef OB_DOMAIN_IDENTITY_H
#define OB_DOMAIN_IDENTITY_H

#include "schema/registry.h"

extern const ob_hooks ob_user_hooks;
extern const ob_hooks ob_role_hooks;
extern const ob_hooks ob_user_role_hooks;

/* Actions on users (run inside the engine's locked write transaction). */
int ob_user_lock(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_user_unlock(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_user_end_sessions(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_user_set_password(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_user_transfer_ownership(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
/* The action behind DELETE /user_sessions/{id}: the session ends, the row stays. */
int ob_session_terminate(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);

/* End every live session of user_id for good (terminated_at, reason), on
 * ctx->db inside the caller's write transaction, and drop cached principals. */
int ob_identity_end_sessions(ob_ctx *ctx, const char *user_id, const char *reason, ob_err *err);

#endif
