/* rbac.h - roles, permissions and who holds what.
 *
 * Permission codes are "<module>.<verb>". Every API table gets
 * <module>.view/.create/.edit/.delete (or the overrides it declares); perms.def
 * adds the codes of seed 001 and a few more. The seed roles (001: owner,
 * admin, manager, operator, viewer; 002: agent, analyst; 000: customer) get
 * their grants from rules in rbac.c, applied on tenant creation and on every
 * migration, so new codes reach the system roles without hand edits.
 */
#ifndef OB_RBAC_H
#define OB_RBAC_H

#include "schema/ctx.h"

/* Insert missing seed roles and permission codes and grant system roles what
 * the rules give them. Runs inside the caller's write transaction. */
int ob_rbac_sync(ob_ctx *ctx, ob_err *err);
/* Load roles and effective permissions of user_id into p (arena). */
int ob_rbac_load(ob_ctx *ctx, const char *user_id, ob_principal *p, ob_err *err);
/* The id of a role by code, into out; OB_E_NOT_FOUND if none. */
int ob_rbac_role_id(ob_ctx *ctx, const char *code, char out[37], ob_err *err);
/* Whether code names a seed role. */
bool ob_rbac_is_seed_role(const char *code);

#endif
