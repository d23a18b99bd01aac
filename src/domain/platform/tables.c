/* Platform tables of the control database (seed 001 public schema, merged
 * with 002's organizations: a tenant is an organization). */
#include "domain/domains.h"
#include "base/banned.h"

/* provisioning (since 10): the row of a create in flight, no tenant yet to
 * any reader (platform/tenants.h ob_tenant_create) */
OB_ENUM(tenant_status, "tenant_status", "active", "suspended", "cancelled", "provisioning");
OB_ENUM(subscription_status, "subscription_status", "trial", "active", "past_due", "cancelled", "expired");

static const ob_column plan_cols[] = {
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED},
    {"code", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_UNIQUE | OB_SORT},
    {"description", OB_F_TEXT, .max = 10000},
    {"price_monthly", OB_F_DECIMAL, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0},
    {"price_yearly", OB_F_DECIMAL, .flags = OB_HAS_MIN, .min = 0},
    {"max_users", OB_F_INT, .flags = OB_HAS_MIN, .min = 0, .doc = "null: unlimited"},
    {"max_orders_per_month", OB_F_INT, .flags = OB_HAS_MIN, .min = 0},
    {"max_channels", OB_F_INT, .flags = OB_HAS_MIN, .min = 0},
    {"max_tickets_per_month", OB_F_INT, .flags = OB_HAS_MIN, .min = 0,
     .doc = "support tickets a tenant may open per calendar month (002); null: unlimited"},
    {"max_agents", OB_F_INT, .flags = OB_HAS_MIN, .min = 0,
     .doc = "users that may hold the agent role (002); null: unlimited"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"sort_order", OB_F_INT, .flags = OB_REQUIRED | OB_SORT, .dflt = "0"},
    {"metadata", OB_F_JSON, .dflt = "{}"},
};
const ob_resource ob_res_plans = {
    .table = "plans", .doc = "subscription plans offered by the platform",
    OB_COLS(plan_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL,
};

static const ob_column feature_cols[] = {
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED},
    {"code", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_UNIQUE},
    {"description", OB_F_TEXT, .max = 10000},
    {"category", OB_F_TEXT, .max = 100},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
const ob_resource ob_res_features = {
    .table = "features", .doc = "master list of platform features",
    OB_COLS(feature_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL, .flags = OB_RES_APPEND_ONLY,
};

static const ob_column plan_feature_cols[] = {
    {"plan_id", OB_F_REF, .ref = "plans", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"feature_id", OB_F_REF, .ref = "features", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"is_enabled", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"config", OB_F_JSON, .dflt = "{}"},
};
static const ob_index plan_feature_idx[] = {{"plan_id,feature_id", .unique = true}};
const ob_resource ob_res_plan_features = {
    .table = "plan_features", .doc = "features included in each plan",
    OB_COLS(plan_feature_cols), OB_INDEXES(plan_feature_idx), .perm = "platform",
    .scope = OB_SCOPE_CONTROL, .flags = OB_RES_APPEND_ONLY,
};

static const ob_column tenant_cols[] = {
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED},
    {"slug", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_UNIQUE | OB_IMMUTABLE | OB_SORT},
    {"domain", OB_F_TEXT, .max = 255},
    {"schema_name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_UNIQUE | OB_SERVER},
    {"logo_url", OB_F_TEXT, .max = 500},
    {"status", OB_F_ENUM, .enm = &tenant_status, .flags = OB_REQUIRED | OB_INDEXED | OB_SERVER, .dflt = "active",
     .doc = "suspended: every write of the tenant answers 423 tenant_suspended, reads still work; provisioning: "
            "a create in flight (its database being made), no tenant yet to sign-in, jobs or any action"},
    {"settings", OB_F_JSON, .dflt = "{}"},
    {"monthly_ticket_limit", OB_F_INT, .flags = OB_HAS_MIN, .min = 0,
     .doc = "overrides the plan's max_tickets_per_month (002 organizations)"},
    {"agent_limit", OB_F_INT, .flags = OB_HAS_MIN, .min = 0,
     .doc = "overrides the plan's max_agents (002 organizations)"},
    {"deletion_due_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .since = 7,
     .doc = "set by DELETE (the tenant is suspended until then; cancel_deletion clears it): from this time "
            "`opsbase tenant purge-due` removes the tenant and leaves a tenant_tombstones row"},
    /* with the status provisioning (since 10, the version whose migration
     * widens the status CHECK of older control databases) */
    {"provisioned_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .since = 10,
     .doc = "when the tenant's database was made and seeded and the tenant became active; null while its "
            "status is provisioning and for tenants made before schema version 10"},
};
/* A tenant's erasure (platform/deletion.c): DELETE schedules it after the
 * grace period, cancel_deletion restores the tenant */
OB_ACTION_FN(ob_tenant_schedule_deletion);
OB_ACTION_FN(ob_tenant_cancel_deletion);
static const ob_action tenant_actions[] = {
    {"schedule_deletion", "edit", ob_tenant_schedule_deletion,
     "suspend the tenant and schedule its erasure after the grace period "
     "(OPSBASE_TENANT_DELETION_GRACE_DAYS, default 30); DELETE runs it",
     .from = "active,suspended", .to = "suspended"},
    {"cancel_deletion", "edit", ob_tenant_cancel_deletion,
     "cancel a scheduled erasure: the tenant is active again (422 when none is scheduled)",
     .from = "suspended", .to = "active"},
};
/* A super admin suspends and resumes a tenant; the platform API creates none
 * (provisioning makes a database: opsbase tenant create) and changes a
 * tenant only by these events. */
static const ob_transition tenant_transitions[] = {
    {"suspend", "active", "suspended", NULL, NULL, NULL},
    {"resume", "suspended", "active", NULL, NULL, NULL},
};
static const ob_fsm tenant_fsm = {
    "status", tenant_transitions, (int)(sizeof tenant_transitions / sizeof tenant_transitions[0]), "edit"};
const ob_resource ob_res_tenants = {
    .table = "tenants", .doc = "tenants (organizations); each has its own database",
    OB_COLS(tenant_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL,
    /* OB_RES_AUTH: a suspension reaches the cached principals of this process at once */
    .flags = OB_RES_READONLY | OB_RES_SOFT_DELETE | OB_RES_AUTH, .fsm = &tenant_fsm,
    OB_ACTIONS(tenant_actions), .delete_action = "schedule_deletion",
};

static const ob_column subscription_cols[] = {
    {"tenant_id", OB_F_REF, .ref = "tenants", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_INDEXED},
    {"plan_id", OB_F_REF, .ref = "plans", .flags = OB_REQUIRED},
    {"status", OB_F_ENUM, .enm = &subscription_status, .flags = OB_REQUIRED, .dflt = "active"},
    {"trial_ends_at", OB_F_TIMESTAMP},
    {"current_period_start", OB_F_TIMESTAMP, .flags = OB_REQUIRED},
    {"current_period_end", OB_F_TIMESTAMP, .flags = OB_REQUIRED},
    {"cancelled_at", OB_F_TIMESTAMP},
    {"payment_provider", OB_F_TEXT, .max = 50, .doc = "stripe, razorpay, manual"},
    {"external_subscription_id", OB_F_TEXT, .max = 255},
    {"metadata", OB_F_JSON, .dflt = "{}"},
};
const ob_resource ob_res_subscriptions = {
    .table = "subscriptions", .doc = "a tenant's subscription to a plan",
    OB_COLS(subscription_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL,
};

static const ob_column tenant_feature_cols[] = {
    {"tenant_id", OB_F_REF, .ref = "tenants", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"feature_id", OB_F_REF, .ref = "features", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"is_enabled", OB_F_BOOL, .flags = OB_REQUIRED},
    {"config", OB_F_JSON, .dflt = "{}"},
    {"override_reason", OB_F_TEXT, .max = 500},
};
static const ob_index tenant_feature_idx[] = {{"tenant_id,feature_id", .unique = true}};
const ob_resource ob_res_tenant_features = {
    .table = "tenant_features", .doc = "per-tenant feature overrides set by a super admin",
    OB_COLS(tenant_feature_cols), OB_INDEXES(tenant_feature_idx), .perm = "platform",
    .scope = OB_SCOPE_CONTROL,
};

static const ob_column super_admin_cols[] = {
    {"email", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_UNIQUE},
    {"password_hash", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SECRET | OB_SERVER},
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"last_login_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    /* MFA is required of every super admin: the first sign-in enrols */
    {"mfa_secret", OB_F_TEXT, .max = 64, .flags = OB_SECRET | OB_SERVER, .since = 6,
     .doc = "TOTP secret (base32), set when enrolment is confirmed"},
    {"mfa_enabled", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false", .since = 6},
    {"mfa_last_step", OB_F_INT, .flags = OB_SERVER, .since = 6,
     .doc = "the last TOTP step accepted: a code of that step or an older one is refused (replay)"},
    /* wrong passwords and wrong codes alike; a completed sign-in clears them */
    {"failed_login_attempts", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0", .since = 7,
     .doc = "failed sign-in steps since the last completed sign-in or lockout"},
    {"locked_until", OB_F_TIMESTAMP, .flags = OB_SERVER, .since = 7,
     .doc = "sign-in refused (423) until then: set after too many failures (serve --platform-login-max-failures)"},
};
const ob_resource ob_res_super_admins = {
    .table = "super_admins", .doc = "platform administrators (not tenant users)",
    OB_COLS(super_admin_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL, .flags = OB_RES_NO_API,
};

/* A platform sign-in: a challenge while the second factor is pending (the
 * row holds the hash of the challenge, and during enrolment the secret being
 * confirmed), then the session of the obp_ token, whose hash replaces it. */
OB_ENUM(platform_session_stage, "platform_session_stage", "mfa_pending", "active", "ended");
static const ob_column platform_session_cols[] = {
    {"super_admin_id", OB_F_REF, .ref = "super_admins", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_INDEXED},
    {"token_hash", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED | OB_UNIQUE | OB_SECRET | OB_SERVER,
     .doc = "BLAKE2b of the challenge, then of the obp_ token"},
    {"stage", OB_F_ENUM, .enm = &platform_session_stage, .flags = OB_REQUIRED, .dflt = "mfa_pending"},
    {"enrol_secret", OB_F_TEXT, .max = 64, .flags = OB_SECRET | OB_SERVER,
     .doc = "the TOTP secret offered at enrolment, until a code confirms it"},
    {"failed_codes", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0",
     .doc = "wrong codes for the challenge; the fifth ends it"},
    {"ip_address", OB_F_TEXT, .max = 64},
    {"expires_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED},
};
const ob_resource ob_res_platform_sessions = {
    .table = "platform_sessions", .doc = "super admins' sign-in challenges and sessions",
    OB_COLS(platform_session_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL, .flags = OB_RES_NO_API,
    .since = 6,
};

/* What super admins did through the platform API, one row per change, each
 * row hash-chained to the one before (SHA-256 over the previous hash and the
 * row's canonical JSON, as a tenant's audit_logs: audit/chain.h). */
static const ob_column platform_audit_cols[] = {
    {"seq", OB_F_INT, .flags = OB_REQUIRED | OB_UNIQUE | OB_SORT, .doc = "the row's place in the chain, from 1"},
    {"super_admin_id", OB_F_TEXT, .max = 40, .flags = OB_INDEXED,
     .doc = "who; not a reference, so that the row outlives the admin"},
    {"action", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_INDEXED},
    {"entity_type", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_INDEXED},
    {"entity_id", OB_F_TEXT, .max = 40, .flags = OB_INDEXED},
    {"old_values", OB_F_JSON},
    {"new_values", OB_F_JSON},
    {"ip_address", OB_F_TEXT, .max = 64},
    {"request_id", OB_F_TEXT, .max = 64},
    {"prev_hash", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED},
    {"hash", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED},
};
const ob_resource ob_res_platform_audit_logs = {
    .table = "platform_audit_logs", .doc = "the platform audit log: every change made through the platform API",
    OB_COLS(platform_audit_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL,
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY | OB_RES_NO_AUDIT, .default_sort = "-seq", .since = 6,
};

/* Where a tenant's schema lives on PostgreSQL. No row: on the main server
 * (the one --db names), so setups that never moved a tenant have none. The
 * connection layer (db/pg_place.c) reads this table itself, with raw SQL and
 * a short cache, because it must know the server before it can open a
 * connection; `opsbase tenant move` writes it. SQLite ignores it. */
OB_ENUM(placement_state, "placement_state", "active", "moving");
static const ob_column tenant_placement_cols[] = {
    {"tenant", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED | OB_UNIQUE, .doc = "the tenant's slug"},
    {"server_url", OB_F_TEXT, .max = 1000, .flags = OB_REQUIRED | OB_SECRET | OB_SERVER,
     .doc = "PostgreSQL connection URL or conninfo of the server holding the tenant's schema"},
    {"state", OB_F_ENUM, .enm = &placement_state, .flags = OB_REQUIRED, .dflt = "active",
     .doc = "moving: a move is copying the tenant; writes to it answer 503 with Retry-After"},
    {"moved_at", OB_F_TIMESTAMP, .doc = "when the last move switched the tenant"},
};
const ob_resource ob_res_tenant_placements = {
    .table = "tenant_placements", .doc = "which PostgreSQL server holds each moved tenant's schema",
    OB_COLS(tenant_placement_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL,
    .flags = OB_RES_NO_API | OB_RES_NO_AUDIT, .since = 7,
};

/* What is left of an erased tenant (platform/deletion.c): counts, never rows. */
OB_ENUM(tombstone_state, "tenant_tombstone_state", "purging", "done");
static const ob_column tombstone_cols[] = {
    {"slug", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_INDEXED | OB_SERVER},
    {"tenant_id", OB_F_TEXT, .max = 36, .flags = OB_REQUIRED | OB_SERVER},
    {"deletion_due_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"deleted_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SERVER},
    {"tables", OB_F_JSON, .flags = OB_REQUIRED | OB_SERVER, .doc = "rows removed, by table"},
    {"rows_removed", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER},
    {"checksum", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED | OB_SERVER,
     .doc = "SHA-256 of the certificate's JSON text"},
    {"certificate", OB_F_TEXT, .max = 100000, .flags = OB_REQUIRED | OB_SERVER,
     .doc = "the deletion certificate: JSON text of slug, tenant id, times, tables and rows removed"},
    {"signature", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED | OB_SERVER,
     .doc = "keyed BLAKE2b of the certificate under a key derived from the master key (an HMAC)"},
    {"state", OB_F_ENUM, .enm = &tombstone_state, .flags = OB_REQUIRED | OB_INDEXED | OB_SERVER, .dflt = "done",
     .since = 8,
     .doc = "purging: written before the tenant's database and files are removed, so a purge cut short is "
            "finished by the next run; done: removed"},
    {"completed_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .since = 8, .doc = "when the removal was finished"},
};
static const ob_index tombstone_idx[] = {
    /* one erasure per tenant: of two purges racing, one writes the tombstone */
    {"tenant_id", .unique = true, .since = 8},
};
/* Append-only but for its one completion (state purging -> done, completed_at),
 * written by platform/deletion.c. */
const ob_resource ob_res_tenant_tombstones = {
    .table = "tenant_tombstones", .doc = "erased tenants: slug, time, counts and the signed deletion certificate",
    OB_COLS(tombstone_cols), OB_INDEXES(tombstone_idx), .perm = "platform", .scope = OB_SCOPE_CONTROL,
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY, .default_sort = "-created_at", .since = 7,
};

/* A tenant's export as one archive file (issue 17): asked for by a super
 * admin (POST /api/v1/platform/tenants/{id}/export answers 202 with this
 * row), written by the job platform.tenant_export in the tenant's queue, and
 * downloaded at GET /api/v1/platform/tenant_exports/{id}/download. */
OB_ENUM(tenant_export_status, "tenant_export_status", "queued", "running", "done", "failed");
static const ob_column tenant_export_cols[] = {
    {"tenant_id", OB_F_TEXT, .max = 36, .flags = OB_REQUIRED | OB_INDEXED | OB_SERVER},
    {"slug", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_INDEXED | OB_SERVER},
    {"status", OB_F_ENUM, .enm = &tenant_export_status, .flags = OB_REQUIRED | OB_INDEXED | OB_SERVER,
     .dflt = "queued"},
    {"requested_by", OB_F_TEXT, .max = 40, .flags = OB_SERVER, .doc = "the super admin who asked"},
    {"job_id", OB_F_TEXT, .max = 36, .flags = OB_SERVER, .doc = "the job in the tenant's queue that writes it"},
    {"file_name", OB_F_TEXT, .max = 200, .flags = OB_SERVER,
     .doc = "the archive (a POSIX tar of manifest.json, the rows as JSON lines and the files) under exports/"},
    {"sha256", OB_F_TEXT, .max = 64, .flags = OB_SERVER, .doc = "SHA-256 of the archive file"},
    {"size_bytes", OB_F_INT, .flags = OB_SERVER},
    {"rows", OB_F_INT, .flags = OB_SERVER, .doc = "rows exported (the manifest has them per table)"},
    {"files", OB_F_INT, .flags = OB_SERVER, .doc = "uploaded files exported"},
    {"error", OB_F_TEXT, .max = 2000, .flags = OB_SERVER},
    {"finished_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
};
const ob_resource ob_res_tenant_exports = {
    .table = "tenant_exports", .doc = "tenants' exports as archive files, made by a job and downloaded by super admins",
    OB_COLS(tenant_export_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL,
    .flags = OB_RES_READONLY | OB_RES_NO_AUDIT, .default_sort = "-created_at", .since = 8,
};
