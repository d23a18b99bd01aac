/* hooks.c - rules of the identity area.
 *
 * The tenant owner (users.is_owner, holding the owner role) is changed only
 * by the owner: its account, its roles and its credentials. Ownership moves
 * only with the transfer_ownership action. Whatever takes a user's access
 * away (deactivation, a lock, a new password, a role removed, deletion) ends
 * the user's sessions for good, in the same transaction. The agent role obeys
 * the plan's agent limit on every change that can add an agent, not only on
 * the grant. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/password.h"
#include "base/base.h"
#include "domain/identity/identity.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "schema/ctx.h"
#include "gen/columns.h"
#include "base/banned.h"

/* A lock set by an administrator lasts until unlocked. */
#define LOCKED_FOREVER "9999-12-31T23:59:59.999Z"

static bool is_system(const ob_ctx *ctx)
{
    return !ctx->who || ctx->who->is_system;
}

/* Only the owner (and the system) acts on the owner's account. */
static int guard_owner(ob_ctx *ctx, bool target_is_owner, ob_err *err)
{
    if (!target_is_owner || is_system(ctx) || ctx->who->is_owner) return 0;
    return ob_err_set(err, OB_E_FORBIDDEN, "only the tenant owner can change the owner's account, roles or sessions");
}

static int load_user(ob_ctx *ctx, const char *user_id, ob_row **out, ob_err *err)
{
    return ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_USERS), user_id, out, err);
}

static int guard_owner_of(ob_ctx *ctx, const char *user_id, ob_err *err)
{
    ob_row *u;
    if (load_user(ctx, user_id, &u, err) != 0) return err->code == OB_E_NOT_FOUND ? 0 : -1;
    return guard_owner(ctx, ob_row_int(u, USERS_IS_OWNER, 0) != 0, err);
}

int ob_identity_end_sessions(ob_ctx *ctx, const char *user_id, const char *reason, ob_err *err)
{
    ob_value v[] = {ob_v_text(ctx->now), ob_v_text(is_system(ctx) ? NULL : ctx->who->user_id), ob_v_bool(false),
                    ob_v_text(reason), ob_v_text(user_id)};
    if (ob_sql_run(ctx->db,
                   "UPDATE user_sessions SET terminated_at = ?, terminated_by = ?, is_active = ?, "
                   "termination_reason = ? WHERE user_id = ? AND terminated_at IS NULL",
                   v, 5, err) != 0)
        return -1;
    /* cached principals of those tokens must not outlive this transaction */
    ob_registry_auth_changed();
    return 0;
}

/* ---------------------------------------------------------------- agents */

/* An agent counts while the user and the grant are live: the definition the
 * ticket assignment uses. */
#define LIVE_AGENT                                                                                              \
    "r.code = 'agent' AND r.status = 'active' AND ur.status = 'active' AND (ur.expires_at IS NULL OR "          \
    "ur.expires_at > ?) AND u.deleted_at IS NULL AND u.is_active AND u.status = 'active'"

static int count(ob_ctx *ctx, const char *sql, const char *a, const char *b, int64_t *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, a, err);
    ob_stmt_bind_text(st, 2, b, err);
    int rc = ob_stmt_step(st, err);
    *n = rc == 1 ? ob_stmt_col_i64(st, 0) : 0;
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Refuse when the plan's agents are all taken by users other than user_id. */
static int check_agent_limit(ob_ctx *ctx, const char *user_id, ob_err *err)
{
    if (!ctx->tenant || ctx->tenant->agent_limit < 0) return 0;
    int64_t n;
    if (count(ctx,
              "SELECT COUNT(DISTINCT ur.user_id) FROM user_roles ur JOIN roles r ON r.id = ur.role_id "
              "JOIN users u ON u.id = ur.user_id WHERE " LIVE_AGENT " AND ur.user_id <> ?",
              ctx->now, user_id, &n, err) != 0)
        return -1;
    if (n >= ctx->tenant->agent_limit)
        return ob_err_set(err, OB_E_PLAN_LIMIT, "agent limit reached: the plan allows %lld agents",
                          (long long)ctx->tenant->agent_limit);
    return 0;
}

/* Whether user_id holds a live agent grant (whatever the user's own state). */
static int holds_agent(ob_ctx *ctx, const char *user_id, bool *out, ob_err *err)
{
    int64_t n;
    if (count(ctx,
              "SELECT COUNT(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.code = 'agent' AND "
              "r.status = 'active' AND ur.status = 'active' AND (ur.expires_at IS NULL OR ur.expires_at > ?) AND "
              "ur.user_id = ?",
              ctx->now, user_id, &n, err) != 0)
        return -1;
    *out = n > 0;
    return 0;
}

/* ---------------------------------------------------------------- users */

static bool user_live(const ob_row *u)
{
    return ob_row_int(u, USERS_IS_ACTIVE, 0) && ob_streq(ob_row_text(u, USERS_STATUS), "active") &&
           ob_row_is_null(u, USERS_DELETED_AT);
}

static bool locked_after(const ob_ctx *ctx, const ob_row *u)
{
    const char *l = ob_row_text(u, USERS_LOCKED_UNTIL);
    return l && strcmp(l, ctx->now) > 0;
}

/* Columns the server's own workflows move on any user, the owner included
 * (ticket load, sign-in bookkeeping): not the account itself. */
static bool bookkeeping(int col)
{
    const ob_colh cols[] = {USERS_CURRENT_TICKET_COUNT, USERS_LAST_ASSIGNED_AT, USERS_UPDATED_AT,
                            USERS_VERSION, USERS_FAILED_LOGIN_ATTEMPTS, USERS_LAST_LOGIN_AT};
    for (size_t i = 0; i < OB_ARRAY_LEN(cols); i++)
        if (cols[i].idx == col) return true;
    return false;
}

/* old and row are users rows (the hooks of the users table). */
static bool account_changed(const ob_row *old, const ob_row *row)
{
    for (int i = 0; i < row->t->ncols; i++)
        if (!bookkeeping(i) && !ob_row_col_equal(old, row, i)) return true;
    return false;
}

static int user_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    if (ob_row_int(old, USERS_IS_OWNER, 0))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the tenant owner cannot be deleted");
    if (ctx->who && ctx->who->user_id && strcmp(ctx->who->user_id, ob_row_text(old, USERS_ID)) == 0)
        return ob_err_set(err, OB_E_UNPROCESSABLE, "you cannot delete your own account");
    return ob_identity_end_sessions(ctx, ob_row_text(old, USERS_ID), "user_deleted", err);
}

static int user_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    bool owner = ob_row_int(old, USERS_IS_OWNER, 0) != 0;
    if (account_changed(old, row) && guard_owner(ctx, owner, err) != 0) return -1;
    if (owner && ob_row_int(row, USERS_IS_OWNER, 0) && !user_live(row))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the tenant owner cannot be deactivated");
    if (owner && ob_row_int(row, USERS_IS_OWNER, 0) && locked_after(ctx, row))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the tenant owner cannot be locked");
    const char *id = ob_row_text(old, USERS_ID);
    /* a user coming back (or changing kind) may add an agent: the plan decides */
    if ((!user_live(old) && user_live(row)) ||
        (user_live(row) && !ob_streq(ob_row_text(old, USERS_USER_TYPE), ob_row_text(row, USERS_USER_TYPE)))) {
        bool agent;
        if (holds_agent(ctx, id, &agent, err) != 0) return -1;
        if (agent && check_agent_limit(ctx, id, err) != 0) return -1;
    }
    const char *reason = NULL;
    if (user_live(old) && !user_live(row)) reason = "deactivated";
    else if (!locked_after(ctx, old) && locked_after(ctx, row)) reason = "locked";
    else if (!ob_streq(ob_row_text(old, USERS_PASSWORD_HASH), ob_row_text(row, USERS_PASSWORD_HASH)))
        reason = "password_changed";
    return reason ? ob_identity_end_sessions(ctx, id, reason, err) : 0;
}

static bool is_self(const ob_ctx *ctx, const ob_row *u)
{
    return ctx->who && ctx->who->user_id && strcmp(ctx->who->user_id, ob_row_text(u, USERS_ID)) == 0;
}

/* POST /users/{id}/lock: no sign-in until unlocked; sessions end (before_update). */
int ob_user_lock(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (guard_owner(ctx, ob_row_int(old, USERS_IS_OWNER, 0) != 0, err) != 0) return -1;
    if (is_self(ctx, old)) return ob_err_set(err, OB_E_UNPROCESSABLE, "you cannot lock your own account");
    if (locked_after(ctx, old)) return ob_err_set(err, OB_E_BAD_STATE, "the account is already locked");
    ob_row_set_text(ctx->arena, row, USERS_LOCKED_UNTIL, LOCKED_FOREVER);
    return 0;
}

/* POST /users/{id}/unlock: the lock and the account's sign-in throttle go. */
int ob_user_unlock(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (guard_owner(ctx, ob_row_int(old, USERS_IS_OWNER, 0) != 0, err) != 0) return -1;
    ob_row_set_null(row, USERS_LOCKED_UNTIL);
    ob_row_set_int(row, USERS_FAILED_LOGIN_ATTEMPTS, 0);
    const char *key = ob_arena_printf(ctx->arena, "account:%s", ob_row_text(old, USERS_EMAIL));
    ob_value v[] = {ob_v_text(key)};
    return ob_sql_run(ctx->db, "DELETE FROM login_throttles WHERE throttle_key = ?", v, 1, err);
}

/* POST /users/{id}/end_sessions: every live session of the user ends now. */
int ob_user_end_sessions(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)row;
    if (guard_owner(ctx, ob_row_int(old, USERS_IS_OWNER, 0) != 0, err) != 0) return -1;
    const char *id = ob_row_text(old, USERS_ID);
    if (ob_identity_end_sessions(ctx, id, "admin_force_logout", err) != 0) return -1;
    /* the user row does not change, so the engine writes no audit row for us */
    return ob_audit_event(ctx, "end_sessions", "users", id, ctx->who ? ctx->who->user_id : NULL, NULL, err);
}

/* POST /users/{id}/set_password {"password": ...}: a new password (the input
 * is declared in tables.c); the user's sessions end (before_update). */
int ob_user_set_password(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const char *pw = ob_row_text(ctx->input, USERS_SET_PASSWORD_IN_PASSWORD); /* declared input: required text */
    if (guard_owner(ctx, ob_row_int(old, USERS_IS_OWNER, 0) != 0, err) != 0) return -1;
    if (ob_password_check(pw, err) != 0) return -1;
    char hash[OB_PASSWORD_HASH_MAX];
    if (ob_password_hash(pw, hash, err) != 0) return -1;
    ob_row_set_text(ctx->arena, row, USERS_PASSWORD_HASH, hash);
    return 0;
}

/* Move the owner role from one user to another, without the user_roles hooks
 * (which refuse the owner role to everyone else). */
static int move_owner_role(ob_ctx *ctx, const char *from, const char *to, ob_err *err)
{
    ob_stmt *st;
    char owner_role[OB_UUID_LEN] = "", admin_role[OB_UUID_LEN] = "";
    if (ob_db_prepare(ctx->db, "SELECT id, code FROM roles WHERE code IN ('owner', 'admin')", &st, err) != 0) return -1;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1)
        snprintf(strcmp(ob_stmt_col_text(st, 1, NULL), "owner") == 0 ? owner_role : admin_role, OB_UUID_LEN, "%s",
                 ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (!owner_role[0] || !admin_role[0]) return ob_err_set(err, OB_E_INTERNAL, "the seed roles are missing");
    ob_value del[] = {ob_v_text(owner_role), ob_v_text(from), ob_v_text(to)};
    if (ob_sql_run(ctx->db, "DELETE FROM user_roles WHERE role_id = ? AND user_id IN (?, ?)", del, 3, err) != 0)
        return -1;
    /* the new owner gets the owner role; the old one keeps administering */
    const char *grants[][2] = {{to, owner_role}, {from, admin_role}};
    for (int i = 0; i < 2; i++) {
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(grants[i][0]),
                        ob_v_text(grants[i][1]), ob_v_text(ctx->now), ob_v_text(from)};
        if (ob_sql_run(ctx->db,
                       "INSERT INTO user_roles (id, created_at, updated_at, version, user_id, role_id, assigned_at, "
                       "assigned_by, status) VALUES (?, ?, ?, 1, ?, ?, ?, ?, 'active') "
                       "ON CONFLICT (user_id, role_id) DO UPDATE SET status = 'active', expires_at = NULL",
                       v, 7, err) != 0)
            return -1;
    }
    ob_registry_auth_changed();
    return 0;
}

/* POST /users/{id}/transfer_ownership, by the owner: {id} becomes the owner. */
int ob_user_transfer_ownership(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (is_system(ctx) || !ctx->who->is_owner)
        return ob_err_set(err, OB_E_FORBIDDEN, "only the tenant owner can transfer ownership");
    if (is_self(ctx, old)) return ob_err_set(err, OB_E_UNPROCESSABLE, "you already own the tenant");
    if (!user_live(old) || locked_after(ctx, old))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the new owner must be an active, unlocked user");
    if (ob_streq(ob_row_text(old, USERS_USER_TYPE), "customer"))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "a customer user cannot own the tenant");
    ob_row *cur;
    if (load_user(ctx, ctx->who->user_id, &cur, err) != 0) return -1;
    ob_row *was = ob_row_copy(ctx->arena, cur);
    ob_row_set_bool(was, USERS_IS_OWNER, false);
    if (ob_crud_save(ctx, cur, was, "ownership_given", err) != 0) return -1;
    ob_row_set_bool(row, USERS_IS_OWNER, true);
    return move_owner_role(ctx, ctx->who->user_id, ob_row_text(old, USERS_ID), err);
}

const ob_hooks ob_user_hooks = {
    .before_update = user_before_update,
    .before_delete = user_before_delete,
};

/* ---------------------------------------------------------------- roles */

/* Holders of a role that stops granting anything lose their sessions. The
 * owner's access does not come from roles, so the owner's sessions stay. */
static int end_holders(ob_ctx *ctx, const char *role_id, ob_err *err)
{
    ob_value v[] = {ob_v_text(ctx->now), ob_v_text(is_system(ctx) ? NULL : ctx->who->user_id), ob_v_bool(false),
                    ob_v_text(role_id), ob_v_bool(true)};
    if (ob_sql_run(ctx->db,
                   "UPDATE user_sessions SET terminated_at = ?, terminated_by = ?, is_active = ?, "
                   "termination_reason = 'role_changed' WHERE terminated_at IS NULL AND user_id IN "
                   "(SELECT user_id FROM user_roles WHERE role_id = ?) AND user_id NOT IN "
                   "(SELECT id FROM users WHERE is_owner = ?)",
                   v, 5, err) != 0)
        return -1;
    ob_registry_auth_changed();
    return 0;
}

static int role_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    if (ob_row_int(old, ROLES_IS_SYSTEM, 0))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the system role \"%s\" cannot be deleted",
                          ob_row_text(old, ROLES_CODE));
    return end_holders(ctx, ob_row_text(old, ROLES_ID), err);
}

static int role_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    bool was = ob_streq(ob_row_text(old, ROLES_STATUS), "active"),
         is = ob_streq(ob_row_text(row, ROLES_STATUS), "active");
    if (was && !is && ob_streq(ob_row_text(old, ROLES_CODE), "owner"))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the owner role cannot be deactivated");
    if (was && !is) return end_holders(ctx, ob_row_text(old, ROLES_ID), err);
    if (!was && is && ob_streq(ob_row_text(row, ROLES_CODE), "agent") && ctx->tenant && ctx->tenant->agent_limit >= 0) {
        /* every holder becomes an agent again at once */
        int64_t n;
        if (count(ctx,
                  "SELECT COUNT(DISTINCT ur.user_id) FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE "
                  "ur.role_id = ? AND ur.status = 'active' AND (ur.expires_at IS NULL OR ur.expires_at > ?) AND "
                  "u.deleted_at IS NULL AND u.is_active AND u.status = 'active'",
                  ob_row_text(old, ROLES_ID), ctx->now, &n, err) != 0)
            return -1;
        if (n > ctx->tenant->agent_limit)
            return ob_err_set(err, OB_E_PLAN_LIMIT, "agent limit reached: the plan allows %lld agents",
                              (long long)ctx->tenant->agent_limit);
    }
    return 0;
}

const ob_hooks ob_role_hooks = {.before_update = role_before_update, .before_delete = role_before_delete};

/* ---------------------------------------------------------------- user roles */

static int role_code(ob_ctx *ctx, const char *role_id, char out[101], ob_err *err)
{
    ob_row *r;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_ROLES), role_id, &r, err) != 0) return -1;
    snprintf(out, 101, "%s", ob_row_text(r, ROLES_CODE));
    return 0;
}

static bool grant_live(const ob_ctx *ctx, const ob_row *ur)
{
    const char *exp = ob_row_text(ur, USER_ROLES_EXPIRES_AT);
    return ob_streq(ob_row_text(ur, USER_ROLES_STATUS), "active") && (!exp || strcmp(exp, ctx->now) > 0);
}

/* security_settings.force_logout_on_role_change (issue #17): a grant given
 * or changed ends the holder's sessions as well; a grant lost always does. */
static int force_logout(ob_ctx *ctx, const char *user_id, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT force_logout_on_role_change FROM security_settings WHERE scope = 'tenant'", &st,
                      err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    bool on = rc == 1 && ob_stmt_col_i64(st, 0) != 0;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    return on ? ob_identity_end_sessions(ctx, user_id, "role_changed", err) : 0;
}

static int user_role_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    char code[101];
    const char *role_id = ob_row_text(row, USER_ROLES_ROLE_ID), *user_id = ob_row_text(row, USER_ROLES_USER_ID);
    if (!role_id || !user_id) return 0; /* validation reports the missing field */
    if (role_code(ctx, role_id, code, err) != 0) {
        if (err->code != OB_E_NOT_FOUND) return -1;
        ob_err_set(err, OB_E_UNPROCESSABLE, "\"role_id\" refers to a roles record that does not exist");
        ob_err_field_add(err, USER_ROLES_ROLE_ID.name, "refers to a record that does not exist");
        err->code = OB_E_UNPROCESSABLE;
        return -1;
    }
    ob_row_set_text(ctx->arena, row, USER_ROLES_ASSIGNED_BY, ctx->who ? ctx->who->user_id : NULL);
    if (guard_owner_of(ctx, user_id, err) != 0) return -1;
    /* users.is_owner and the owner role move together, by transfer_ownership */
    if (strcmp(code, "owner") == 0 && !is_system(ctx))
        return ob_err_set(err, OB_E_FORBIDDEN,
                          "the owner role is given only by POST /api/v1/users/{id}/transfer_ownership");
    if (strcmp(code, "agent") == 0 && grant_live(ctx, row) && check_agent_limit(ctx, user_id, err) != 0) return -1;
    return force_logout(ctx, user_id, err);
}

static int user_role_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const char *user_id = ob_row_text(old, USER_ROLES_USER_ID);
    if (guard_owner_of(ctx, user_id, err) != 0) return -1;
    char code[101];
    if (role_code(ctx, ob_row_text(old, USER_ROLES_ROLE_ID), code, err) != 0) return -1;
    if (strcmp(code, "owner") == 0 && !is_system(ctx) && !grant_live(ctx, row))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the owner role moves only with transfer_ownership");
    if (grant_live(ctx, old) && !grant_live(ctx, row))
        return ob_identity_end_sessions(ctx, user_id, "role_changed", err);
    if (!grant_live(ctx, old) && grant_live(ctx, row) && strcmp(code, "agent") == 0 &&
        check_agent_limit(ctx, user_id, err) != 0)
        return -1;
    return force_logout(ctx, user_id, err);
}

static int user_role_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    const char *user_id = ob_row_text(old, USER_ROLES_USER_ID);
    if (guard_owner_of(ctx, user_id, err) != 0) return -1;
    char code[101];
    if (role_code(ctx, ob_row_text(old, USER_ROLES_ROLE_ID), code, err) != 0) return -1;
    if (strcmp(code, "owner") == 0 && !is_system(ctx))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the owner role moves only with transfer_ownership");
    return ob_identity_end_sessions(ctx, user_id, "role_changed", err);
}

const ob_hooks ob_user_role_hooks = {
    .before_create = user_role_before_create,
    .before_update = user_role_before_update,
    .before_delete = user_role_before_delete,
};

/* ---------------------------------------------------------------- sessions */

/* DELETE /user_sessions/{id} (and POST .../terminate): the session ends; the
 * row stays as the record of it. */
int ob_session_terminate(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const char *user_id = ob_row_text(old, USER_SESSIONS_USER_ID);
    if (guard_owner_of(ctx, user_id, err) != 0) return -1;
    if (!ob_row_is_null(old, USER_SESSIONS_TERMINATED_AT))
        return ob_err_set(err, OB_E_BAD_STATE, "the session has already ended");
    bool own = ctx->who && ctx->who->user_id && strcmp(ctx->who->user_id, user_id) == 0;
    const char *reason = own ? "user_logout" : "admin_force_logout";
    ob_row_set_text(ctx->arena, row, USER_SESSIONS_TERMINATED_AT, ctx->now);
    ob_row_set_text(ctx->arena, row, USER_SESSIONS_TERMINATED_BY, is_system(ctx) ? NULL : ctx->who->user_id);
    ob_row_set_bool(row, USER_SESSIONS_IS_ACTIVE, false);
    ob_row_set_text(ctx->arena, row, USER_SESSIONS_TERMINATION_REASON, reason);
    ob_registry_auth_changed();
    /* sessions are not audited as rows; ending one is an event worth keeping */
    const char *meta = ob_arena_printf(ctx->arena, "{\"session_id\":\"%s\",\"reason\":\"%s\"}",
                                       ob_row_text(old, USER_SESSIONS_ID), reason);
    return ob_audit_event(ctx, "end_session", "users", user_id, ctx->who ? ctx->who->user_id : NULL, meta, err);
}

