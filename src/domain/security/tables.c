/* Security of a tenant: 001's security settings (tenant-wide and per role),
 * export and violation logs, refresh tokens and per-user feature overrides,
 * with 003's security alerts and permission templates. */
#include "domain/domains.h"
#include "domain/security/security.h"
#include "base/banned.h"

OB_ENUM(settings_scope, "security_settings_scope", "tenant");
OB_ENUM(export_status, "export_status", "pending_approval", "approved", "rejected", "completed", "expired",
        "downloaded");
OB_ENUM(security_severity, "security_severity", "low", "medium", "high", "critical");
OB_ENUM(alert_status, "security_alert_status", "open", "investigating", "resolved", "false_positive");
/* 001: "Allowed exports values". */
/* What a sign-in beyond max_concurrent_sessions does (session policy, src/auth/policy.c). */
OB_ENUM(session_limit_action, "session_limit_action", "end_oldest", "refuse");
OB_ENUM(export_kind, "export_kind", "orders_csv", "orders_excel", "customers", "financial", "ndr", "inventory",
        "analytics", "bulk_api");

static const ob_column settings_cols[] = {
    {"scope", OB_F_ENUM, .enm = &settings_scope, .flags = OB_REQUIRED | OB_UNIQUE | OB_SERVER, .dflt = "tenant",
     .doc = "always \"tenant\": the unique key that keeps one settings row per tenant"},
    {"copy_protection_enabled", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"disable_text_selection", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"disable_right_click", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"block_keyboard_shortcuts", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"blur_on_print_screen", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"export_enabled", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"require_watermark", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"max_export_rows", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "10000"},
    {"max_exports_per_day", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "10"},
    {"require_approval_threshold", OB_F_INT, .flags = OB_HAS_MIN, .min = 0, .dflt = "1000",
     .doc = "exports of more rows than this need approval; null: never"},
    {"export_link_expiry_hours", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 1, .dflt = "24"},
    {"data_masking_enabled", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"mask_phone_numbers", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"mask_email_addresses", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"mask_addresses", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"mask_financial_data", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"session_timeout_minutes", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 1, .dflt = "30"},
    {"max_concurrent_sessions", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 1, .dflt = "3"},
    {"force_logout_on_role_change", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"ip_binding_enabled", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"mfa_required", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"requests_per_minute", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 1, .dflt = "100"},
    {"export_requests_per_hour", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "10"},
    {"alert_on_limit_violations", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"max_upload_bytes", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 1099511627776,
     .dflt = "26214400", .since = 4,
     .doc = "largest file a user of this tenant may upload (25 MiB by default; serve's --upload-limit caps it)"},
    /* session policy (issue #17): the choice 001 leaves open */
    {"session_limit_action", OB_F_ENUM, .enm = &session_limit_action, .flags = OB_REQUIRED, .dflt = "end_oldest",
     .since = 6,
     .doc = "a sign-in beyond max_concurrent_sessions: end_oldest ends the user's oldest live session "
            "(termination_reason max_sessions_exceeded); refuse answers 409 session_limit_reached"},
    {"access_token_minutes", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 1440,
     .dflt = "15", .since = 6,
     .doc = "lifetime of a bearer token; POST /api/v1/auth/refresh with the refresh token gives the next one"},
};
const ob_resource ob_res_security_settings = {
    .table = "security_settings",
    .doc = "the tenant's security configuration: one row, made when the tenant is provisioned",
    OB_COLS(settings_cols), OB_CONFIG_PERMS("settings"), .hooks = &ob_security_settings_hooks,
};

static const ob_column role_settings_cols[] = {
    {"role_id", OB_F_REF, .ref = "roles", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_UNIQUE | OB_IMMUTABLE},
    {"disable_text_selection", OB_F_BOOL, .doc = "null: the tenant setting applies"},
    {"disable_right_click", OB_F_BOOL, .doc = "null: the tenant setting applies"},
    {"block_keyboard_shortcuts", OB_F_BOOL, .doc = "null: the tenant setting applies"},
    {"view_full_data", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false", .doc = "sees fields unmasked"},
    {"can_copy_data", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"can_print", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"allowed_exports", OB_F_JSON, .enm = &export_kind, .dflt = "[]", .doc = "the export kinds 001 lists"},
    {"custom_requests_per_minute", OB_F_INT, .flags = OB_HAS_MIN, .min = 1,
     .doc = "overrides security_settings.requests_per_minute; null: the tenant value"},
    {"custom_export_limit", OB_F_INT, .flags = OB_HAS_MIN, .min = 0,
     .doc = "overrides security_settings.max_exports_per_day; null: the tenant value"},
};
const ob_resource ob_res_role_security_settings = {
    .table = "role_security_settings", .doc = "per-role overrides of the tenant's security settings",
    OB_COLS(role_settings_cols), OB_CONFIG_PERMS("settings"),
};

static const ob_column export_cols[] = {
    {"user_id", OB_F_REF, .ref = "users", .flags = OB_REQUIRED, .doc = "who exported"},
    {"export_type", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED, .doc = "what was exported: orders_csv, ndr, ..."},
    {"file_format", OB_F_TEXT, .max = 20, .flags = OB_REQUIRED, .doc = "csv, xlsx, ..."},
    {"row_count", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0},
    {"file_size_bytes", OB_F_INT, .flags = OB_HAS_MIN, .min = 0},
    {"filters_applied", OB_F_JSON, .dflt = "{}"},
    {"columns_exported", OB_F_JSON, .dflt = "[]"},
    {"download_url", OB_F_TEXT, .max = 500, .flags = OB_SECRET | OB_SERVER,
     .doc = "a link that grants the file to whoever holds it: handed to the exporting user only, never listed"},
    {"download_expires_at", OB_F_TIMESTAMP},
    {"download_count", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "0"},
    {"watermark_text", OB_F_TEXT, .max = 10000},
    {"ip_address", OB_F_TEXT, .max = 64},
    {"user_agent", OB_F_TEXT, .max = 1000},
    {"status", OB_F_ENUM, .enm = &export_status, .flags = OB_REQUIRED | OB_SERVER, .dflt = "completed",
     .doc = "pending_approval: waits for an approver (rows above the threshold); approved / rejected: decided; "
            "completed: file ready; expired: link past download_expires_at; downloaded: fetched at least once"},
    {"approval_required", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"approved_by", OB_F_REF, .ref = "users", .flags = OB_SERVER, .stamp = OB_STAMP_ACTOR,
     .stamp_on = "approved,rejected", .doc = "who approved or rejected the export"},
    {"approved_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "approved,rejected"},
    {"token_hash", OB_F_TEXT, .max = 64, .flags = OB_SECRET | OB_SERVER, .since = 5,
     .doc = "SHA-256 of the one-time download token handed to the requester when approval was asked; the "
            "token itself is never stored"},
    {"file_key", OB_F_TEXT, .max = 200, .flags = OB_SECRET | OB_SERVER, .since = 5,
     .doc = "the approved export's file in the tenant's file store, written by the exports.produce job"},
};
static const ob_index export_idx[] = {{"created_at"}, {"status"}};
/* Approval of an export above require_approval_threshold: the approver's
 * decision is an event with its own permission (security.approve_exports);
 * approving queues the job that writes the file (exports.produce), whose
 * completion and the one download move the status on from there. */
OB_EFFECT_FN(ob_export_approved);
static const ob_transition export_transitions[] = {
    {"approve", "pending_approval", "approved", NULL, ob_export_approved, "approve_exports"},
    {"reject", "pending_approval", "rejected", NULL, NULL, "approve_exports"},
};
static const ob_fsm export_fsm = {
    "status", export_transitions, (int)(sizeof export_transitions / sizeof export_transitions[0]), "approve_exports"};
const ob_resource ob_res_export_logs = {
    .table = "export_logs",
    .doc = "every data export, written by the server; one above the approval threshold waits in "
           "pending_approval for approve or reject (read-only otherwise)",
    OB_COLS(export_cols), OB_INDEXES(export_idx), .perm = "security", .fsm = &export_fsm,
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY, .default_sort = "-created_at",
};

static const ob_column violation_cols[] = {
    {"user_id", OB_F_REF, .ref = "users"},
    {"violation_type", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_INDEXED,
     .doc = "copy_attempt, export_limit_exceeded, rate_limit_exceeded, unauthorized_access, "
            "session_hijack_attempt, suspicious_activity"},
    {"description", OB_F_TEXT, .max = 100000},
    {"severity", OB_F_ENUM, .enm = &security_severity, .flags = OB_REQUIRED | OB_SORT, .dflt = "low"},
    {"ip_address", OB_F_TEXT, .max = 64},
    {"user_agent", OB_F_TEXT, .max = 1000},
    {"request_path", OB_F_TEXT, .max = 500},
    {"blocked", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true", .doc = "whether the request was refused"},
    {"metadata", OB_F_JSON, .dflt = "{}"},
};
static const ob_index violation_idx[] = {{"created_at"}};
const ob_resource ob_res_security_violations = {
    .table = "security_violations", .doc = "security policy violations, written by the server (read-only)",
    OB_COLS(violation_cols), OB_INDEXES(violation_idx), .perm = "security",
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY, .default_sort = "-created_at",
};

static const ob_column alert_cols[] = {
    {"alert_type", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_IMMUTABLE,
     .doc = "suspicious_login, multiple_failures, unusual_activity, ..."},
    {"severity", OB_F_ENUM, .enm = &security_severity, .flags = OB_REQUIRED | OB_IMMUTABLE | OB_SORT},
    {"description", OB_F_TEXT, .max = 100000, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"user_id", OB_F_REF, .ref = "users", .flags = OB_IMMUTABLE, .doc = "the user the alert is about"},
    {"ip_address", OB_F_TEXT, .max = 64, .flags = OB_IMMUTABLE},
    {"additional_data", OB_F_JSON, .flags = OB_IMMUTABLE},
    {"status", OB_F_ENUM, .enm = &alert_status, .flags = OB_REQUIRED | OB_SORT, .dflt = "open",
     .doc = "open: new; investigating: someone is on it; resolved: dealt with; false_positive: not a threat. "
            "Security staff change it with PATCH"},
    {"resolved_by", OB_F_REF, .ref = "users", .flags = OB_SERVER, .stamp = OB_STAMP_ACTOR,
     .stamp_on = "resolved,false_positive", .clear_on = "open,investigating",
     .doc = "who moved the alert to resolved or false_positive"},
    {"resolved_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "resolved,false_positive",
     .clear_on = "open,investigating"},
};
static const ob_index alert_idx[] = {{"severity,status"}};
const ob_resource ob_res_security_alerts = {
    .table = "security_alerts",
    .doc = "alerts for security staff: raised by the server (or by hand), worked by changing status",
    OB_COLS(alert_cols), OB_INDEXES(alert_idx), .perm = "security", .state = "status",
    .hooks = &ob_security_alert_hooks,
    .default_sort = "-created_at",
};

static const ob_column refresh_cols[] = {
    {"user_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"token_hash", OB_F_TEXT, .max = 500, .flags = OB_REQUIRED | OB_UNIQUE | OB_SECRET | OB_SERVER,
     .doc = "001 token: its hash; the token itself is never stored"},
    {"expires_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_INDEXED | OB_SORT},
    {"revoked_at", OB_F_TIMESTAMP},
    /* issue #17: rotation. The tokens of one sign-in form a family: its session. */
    {"session_id", OB_F_REF, .ref = "user_sessions", .on_delete = OB_DEL_CASCADE, .flags = OB_INDEXED, .since = 6,
     .doc = "the sign-in this token descends from; reuse of a replaced token revokes every token of it"},
    {"replaced_at", OB_F_TIMESTAMP, .since = 6, .doc = "when it was exchanged for the next token; null: current"},
};
const ob_resource ob_res_refresh_tokens = {
    .table = "refresh_tokens", .doc = "refresh tokens (stored as hashes), written by the server (read-only)",
    OB_COLS(refresh_cols), .perm = "sessions", .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY | OB_RES_NO_AUDIT,
    .default_sort = "-created_at",
};

/* issue #17: a sign-in that passed the password and waits for its second
 * factor (POST /api/v1/auth/mfa/verify). */
static const ob_column challenge_cols[] = {
    {"user_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_INDEXED},
    {"challenge_hash", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED | OB_UNIQUE | OB_SECRET | OB_SERVER,
     .doc = "hash of the challenge handed to the client; the challenge itself is never stored"},
    {"expires_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED, .doc = "5 minutes after the password was accepted"},
    {"failed_attempts", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "0",
     .doc = "wrong codes; the fifth ends the challenge"},
    {"ended_at", OB_F_TIMESTAMP, .doc = "completed, or ended by wrong codes"},
    {"ip_address", OB_F_TEXT, .max = 64},
};
const ob_resource ob_res_mfa_challenges = {
    .table = "mfa_challenges", .doc = "second-factor challenges of sign-ins, written by the server (read-only)",
    OB_COLS(challenge_cols), .perm = "sessions", .since = 6,
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY | OB_RES_NO_AUDIT, .default_sort = "-created_at",
};

static const ob_column template_cols[] = {
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"description", OB_F_TEXT, .max = 10000},
    {"permissions", OB_F_JSON, .flags = OB_REQUIRED, .doc = "the permission codes a role made from it gets"},
    {"is_system_template", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false"},
    {"created_by", OB_F_REF, .ref = "users", .flags = OB_SERVER},
};
const ob_resource ob_res_permission_templates = {
    .table = "permission_templates", .doc = "named sets of permissions to start roles from",
    OB_COLS(template_cols), .perm = "team", .perm_create = "team.roles", .perm_edit = "team.roles",
    .perm_delete = "team.roles", .hooks = &ob_permission_template_hooks, .default_sort = "name",
};

static const ob_column user_feature_cols[] = {
    {"user_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"feature_code", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_IMMUTABLE, .doc = "a features.code"},
    {"is_enabled", OB_F_BOOL, .flags = OB_REQUIRED},
};
static const ob_index user_feature_idx[] = {{"user_id,feature_code", .unique = true}};
const ob_resource ob_res_user_features = {
    .table = "user_features", .doc = "per-user feature overrides (the owner can restrict features per user)",
    OB_COLS(user_feature_cols), OB_INDEXES(user_feature_idx), .perm = "team", .perm_create = "team.roles",
    .perm_edit = "team.roles", .perm_delete = "team.roles",
};
