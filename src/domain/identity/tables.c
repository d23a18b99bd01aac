/* Identity and access of a tenant: users (000 + 001 + 002 merged), roles,
 * permissions, their links, sessions and masking rules. */
#include "domain/domains.h"
#include "domain/identity/identity.h"
#include "base/banned.h"

OB_ENUM(user_type, "user_type", "customer", "employee", "admin");
OB_ENUM(user_status, "user_status", "active", "inactive", "suspended", "pending");
OB_ENUM(active_status, "active_status", "active", "inactive");
OB_ENUM(mask_field_type, "mask_field_type", "phone", "email", "address", "sensitive");

static const ob_column user_cols[] = {
    {"email", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_UNIQUE | OB_LOWER | OB_SORT | OB_SEARCH | OB_PERSONAL},
    {"username", OB_F_TEXT, .max = 100, .flags = OB_UNIQUE},
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH | OB_PERSONAL},
    {"first_name", OB_F_TEXT, .flags = OB_PERSONAL, .max = 100},
    {"last_name", OB_F_TEXT, .flags = OB_PERSONAL, .max = 100},
    {"phone", OB_F_TEXT, .max = 20, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_PHONE},
    {"avatar_url", OB_F_TEXT, .max = 500},
    {"password_hash", OB_F_TEXT, .max = 255, .flags = OB_SECRET | OB_SERVER},
    {"user_type", OB_F_ENUM, .enm = &user_type, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "employee"},
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_SET_NULL, .flags = OB_INDEXED,
     .doc = "for user_type customer: the customer whose rows this user sees"},
    {"status", OB_F_ENUM, .enm = &user_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "active"},
    {"is_owner", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"email_verified", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false"},
    {"email_verified_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"phone_verified", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false"},
    {"mfa_enabled", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false"},
    {"mfa_secret", OB_F_TEXT, .max = 64, .flags = OB_SECRET | OB_SERVER | OB_ENCRYPTED},
    /* issue #17: TOTP sign-in (src/auth/mfa.c) */
    {"mfa_last_step", OB_F_INT, .flags = OB_SECRET | OB_SERVER, .since = 6,
     .doc = "the 30-second step of the last code accepted: that code and older ones are refused"},
    {"mfa_recovery_codes", OB_F_JSON, .flags = OB_SECRET | OB_SERVER, .since = 6,
     .doc = "hashes of the unused single-use recovery codes"},
    {"password_expires_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"last_login_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"failed_login_attempts", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0"},
    {"locked_until", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"last_assigned_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .doc = "when a ticket was last auto-assigned (002)"},
    {"current_ticket_count", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0",
     .doc = "assigned tickets not yet resolved, closed or cancelled (002)"},
    {"settings", OB_F_JSON, .dflt = "{}"},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER},
    {"updated_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER},
};
static const ob_index user_idx[] = {{"user_type,status"}};
static const ob_column set_password_input[] = {
    {"password", OB_F_TEXT, .max = 1024, .flags = OB_REQUIRED | OB_SECRET, .doc = "the new password (the password policy applies)"},
};
static const ob_action user_actions[] = {
    {"lock", "lock", ob_user_lock, "lock the account until unlocked: no sign-in, and its sessions end"},
    {"unlock", "lock", ob_user_unlock, "lift a lock and the account's sign-in throttle"},
    {"end_sessions", "end_sessions", ob_user_end_sessions, "end every live session of the user"},
    {"set_password", "set_password", ob_user_set_password, "set a new password; the user's sessions end",
     OB_INPUT(set_password_input)},
    {"transfer_ownership", "transfer_ownership", ob_user_transfer_ownership,
     "by the tenant owner: make this user the owner (the previous owner keeps the admin role)"},
};
const ob_resource ob_res_users = {
    .table = "users", .doc = "people who sign in: staff, agents and customer users",
    OB_COLS(user_cols), OB_INDEXES(user_idx), .perm = "team", .perm_create = "team.invite",
    .flags = OB_RES_SOFT_DELETE | OB_RES_AUTH, .hooks = &ob_user_hooks, OB_ACTIONS(user_actions),
    .default_sort = "-created_at",
};

static const ob_column role_cols[] = {
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_UNIQUE, .doc = "unique per tenant (004)"},
    {"code", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_UNIQUE | OB_LOWER | OB_IMMUTABLE | OB_SORT},
    {"description", OB_F_TEXT, .max = 10000},
    {"is_system", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false"},
    {"role_level", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 99, .dflt = "1"},
    {"status", OB_F_ENUM, .enm = &active_status, .flags = OB_REQUIRED, .dflt = "active"},
};
const ob_resource ob_res_roles = {
    .table = "roles", .doc = "roles grouping permissions; system roles cannot be deleted",
    OB_COLS(role_cols), .perm = "team", .perm_create = "team.roles", .perm_edit = "team.roles",
    .perm_delete = "team.roles", .hooks = &ob_role_hooks, .flags = OB_RES_AUTH,
};

static const ob_column permission_cols[] = {
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED},
    {"code", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_UNIQUE | OB_SORT},
    {"module", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_INDEXED},
    {"description", OB_F_TEXT, .max = 10000},
    {"resource", OB_F_TEXT, .max = 100},
    {"action", OB_F_TEXT, .max = 100},
};
static const ob_index permission_idx[] = {{"resource,action", .unique = true}};
const ob_resource ob_res_permissions = {
    .table = "permissions", .doc = "permission codes the server checks (read-only: defined by the code)",
    OB_COLS(permission_cols), OB_INDEXES(permission_idx), .perm = "team", .flags = OB_RES_READONLY | OB_RES_AUTH,
    .default_sort = "code",
};

static const ob_column role_permission_cols[] = {
    {"role_id", OB_F_REF, .ref = "roles", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"permission_id", OB_F_REF, .ref = "permissions", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
};
static const ob_index role_permission_idx[] = {{"role_id,permission_id", .unique = true}};
const ob_resource ob_res_role_permissions = {
    .table = "role_permissions", .doc = "which permissions a role grants",
    OB_COLS(role_permission_cols), OB_INDEXES(role_permission_idx), .perm = "team",
    .perm_create = "team.roles", .perm_edit = "team.roles", .perm_delete = "team.roles",
    .flags = OB_RES_APPEND_ONLY | OB_RES_LINK | OB_RES_AUTH,
};

static const ob_column user_role_cols[] = {
    {"user_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"role_id", OB_F_REF, .ref = "roles", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"assigned_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SERVER, .dflt = "now"},
    {"assigned_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER},
    {"expires_at", OB_F_TIMESTAMP},
    {"status", OB_F_ENUM, .enm = &active_status, .flags = OB_REQUIRED, .dflt = "active"},
    {"warehouse_scope", OB_F_BOOL, .dflt = "false", .since = 3,
     .doc = "the grant's stock permissions reach only the warehouses the user manages (warehouses.manager_id); "
            "null: as false"},
};
static const ob_index user_role_idx[] = {{"user_id,role_id", .unique = true}};
const ob_resource ob_res_user_roles = {
    .table = "user_roles", .doc = "roles held by users",
    OB_COLS(user_role_cols), OB_INDEXES(user_role_idx), .perm = "team",
    .perm_create = "team.roles", .perm_edit = "team.roles", .perm_delete = "team.roles",
    .hooks = &ob_user_role_hooks, .flags = OB_RES_AUTH,
};

static const ob_column session_cols[] = {
    {"user_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_INDEXED},
    {"session_token", OB_F_TEXT, .max = 500, .flags = OB_REQUIRED | OB_UNIQUE | OB_SECRET | OB_SERVER,
     .doc = "BLAKE2b hash of the bearer token; the token itself is never stored"},
    {"ip_address", OB_F_TEXT, .max = 64},
    {"user_agent", OB_F_TEXT, .max = 1000},
    {"device_type", OB_F_TEXT, .max = 50},
    {"device_name", OB_F_TEXT, .max = 255},
    {"device_info", OB_F_JSON},
    {"location", OB_F_TEXT, .max = 255},
    {"location_info", OB_F_JSON},
    {"is_trusted", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"last_activity_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED, .dflt = "now"},
    {"expires_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_INDEXED | OB_SORT},
    {"terminated_at", OB_F_TIMESTAMP},
    {"terminated_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL},
    {"termination_reason", OB_F_TEXT, .max = 100,
     .doc = "user_logout, admin_force_logout, session_expired, max_sessions_exceeded, role_changed, "
            "security_violation, deactivated, locked, password_changed, user_deleted, idle_timeout, ip_mismatch, "
            "refresh_token_reuse"},
    /* issue #17: the bearer token is short-lived; a refresh token renews it */
    {"access_expires_at", OB_F_TIMESTAMP, .since = 6,
     .doc = "when the current bearer token stops working (POST /api/v1/auth/refresh issues the next); null: with "
            "the session"},
    {"mfa_enrolment_only", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false", .since = 6,
     .doc = "the tenant requires MFA and the user has none: the token may only enrol (POST /api/v1/auth/mfa/...)"},
};
static const ob_action session_actions[] = {
    {"terminate", "end", ob_session_terminate, "end the session now (DELETE does the same); the row is kept"},
};
const ob_resource ob_res_user_sessions = {
    .table = "user_sessions", .doc = "sign-in sessions (bearer tokens stored as hashes)",
    OB_COLS(session_cols), .perm = "sessions", OB_ACTIONS(session_actions), .delete_action = "terminate",
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY | OB_RES_NO_AUDIT | OB_RES_AUTH,
    .default_sort = "-created_at",
};

/* Sign-in throttling (schema version 2): one row per throttled key, an
 * account ("account:<email>") or a client address ("address:<ip>"). The
 * counter is claimed in a write transaction before a password is checked, so
 * parallel guesses cannot pass the limit; see src/auth/throttle.c. */
static const ob_column throttle_cols[] = {
    {"throttle_key", OB_F_TEXT, .max = 300, .flags = OB_REQUIRED | OB_UNIQUE},
    {"failures", OB_F_INT, .flags = OB_REQUIRED, .dflt = "0",
     .doc = "attempts claimed and not given back by a success in the current window"},
    {"window_started_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED},
    {"blocked_until", OB_F_TIMESTAMP},
    {"strikes", OB_F_INT, .flags = OB_REQUIRED, .dflt = "0", .doc = "blocks in a row: each doubles the next delay"},
    {"last_attempt_at", OB_F_TIMESTAMP},
};
static const ob_index throttle_idx[] = {{"last_attempt_at"}};
const ob_resource ob_res_login_throttles = {
    .table = "login_throttles", .doc = "sign-in attempt counters per account and per client address",
    OB_COLS(throttle_cols), OB_INDEXES(throttle_idx), .perm = "settings", .since = 2,
    .flags = OB_RES_NO_API | OB_RES_APPEND_ONLY | OB_RES_NO_AUDIT,
};

static const ob_column masking_cols[] = {
    {"field_name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_UNIQUE},
    {"field_type", OB_F_ENUM, .enm = &mask_field_type, .flags = OB_REQUIRED},
    {"mask_pattern", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED},
    {"description", OB_F_TEXT, .max = 10000},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"applies_to_roles", OB_F_JSON, .dflt = "[]"},
    {"exempt_roles", OB_F_JSON, .dflt = "[]"},
};
const ob_resource ob_res_data_masking_rules = {
    .table = "data_masking_rules", .doc = "which roles see which kinds of fields masked",
    OB_COLS(masking_cols), OB_CONFIG_PERMS("settings"),
};

static const ob_column idem_cols[] = {
    {"idem_key", OB_F_TEXT, .max = 200, .flags = OB_REQUIRED},
    {"user_id", OB_F_TEXT, .max = 36, .flags = OB_REQUIRED},
    {"method", OB_F_TEXT, .max = 10, .flags = OB_REQUIRED},
    {"path", OB_F_TEXT, .max = 2000, .flags = OB_REQUIRED},
    {"request_hash", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED},
    {"status", OB_F_INT, .flags = OB_REQUIRED},
    /* a write's answer may show a secret it was given (a customer's tax
     * number): kept sealed, opened for the replay (api/resource.c) */
    {"response", OB_F_TEXT, .max = 2000000, .flags = OB_REQUIRED | OB_ENCRYPTED},
    {"headers", OB_F_JSON, .since = 2,
     .doc = "headers of the first response ({\"ETag\": ..., \"Location\": ...}), sent again on replay"},
};
static const ob_index idem_idx[] = {{"user_id,idem_key", .unique = true}};
const ob_resource ob_res_idempotency_keys = {
    .table = "idempotency_keys", .doc = "first responses of POSTs with an Idempotency-Key, for replay",
    OB_COLS(idem_cols), OB_INDEXES(idem_idx), .perm = "settings",
    .flags = OB_RES_NO_API | OB_RES_APPEND_ONLY | OB_RES_NO_AUDIT,
};

static const ob_column seq_cols[] = {
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_UNIQUE},
    {"value", OB_F_INT, .flags = OB_REQUIRED},
};
const ob_resource ob_res_sequences = {
    .table = "sequences", .doc = "per-tenant counters for human-readable numbers (TKT-000001)",
    OB_COLS(seq_cols), .perm = "settings", .flags = OB_RES_NO_API | OB_RES_APPEND_ONLY | OB_RES_NO_AUDIT,
};
