/* The tenant audit trail: 000's audit_logs, 001's platform audit_logs and
 * 003's audit_logs merged into one append-only table. */
#include "base/base.h"
#include "domain/domains.h"
#include "base/banned.h"

static const ob_column audit_cols[] = {
    {"user_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_INDEXED},
    {"action", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_INDEXED,
     .doc = "create, update, delete, login, login_failed, logout, or a state-machine event"},
    {"entity_type", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED},
    {"entity_id", OB_F_TEXT, .max = 255},
    {"old_values", OB_F_JSON, .image_of = "entity_type",
     .doc = "the row before the change, shown through its table's secret, masking and audience rules"},
    {"new_values", OB_F_JSON, .image_of = "entity_type", .doc = "the row after the change, shown the same way"},
    {"changed_fields", OB_F_JSON, .doc = "array of the column names the change touched"},
    {"ip_address", OB_F_TEXT, .max = 64},
    {"user_agent", OB_F_TEXT, .max = 1000},
    {"request_id", OB_F_TEXT, .max = 64, .flags = OB_INDEXED},
    {"session_id", OB_F_TEXT, .max = 36},
    {"metadata", OB_F_JSON},
    {"seq", OB_F_INT, .flags = OB_SERVER | OB_SORT, .since = 3,
     .doc = "position in the tenant's hash chain (1, 2, ...); empty on rows older than the chain"},
    {"prev_hash", OB_F_TEXT, .max = 64, .flags = OB_SERVER, .since = 3, .doc = "hash of the row before in the chain"},
    {"hash", OB_F_TEXT, .max = 64, .flags = OB_SERVER, .since = 3,
     .doc = "SHA-256 over prev_hash and this row's canonical form: `opsbase audit verify` recomputes the chain"},
};
static const ob_index audit_idx[] = {
    {"entity_type,entity_id"},
    {"user_id,created_at"},
    {"created_at"},
    {"seq", .unique = true, .since = 3},
};
const ob_resource ob_res_audit_logs = {
    .table = "audit_logs", .doc = "every change and sign-in, written in the same transaction",
    OB_COLS(audit_cols), OB_INDEXES(audit_idx), .perm = "audit",
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY | OB_RES_NO_AUDIT, .default_sort = "-created_at",
    .retention = &(const ob_retention){.days = 2555, .source = "7 years (000); 002's 1 year is a tenant override"},
};

OB_ENUM(hold_scope, "legal_hold_scope", "tenant", "customer", "record");
OB_ENUM(hold_status, "legal_hold_status", "active", "released");
static const ob_column hold_cols[] = {
    {"scope", OB_F_ENUM, .enm = &hold_scope, .flags = OB_REQUIRED | OB_IMMUTABLE,
     .doc = "tenant: nothing of the tenant is archived or purged; customer: nothing tied to customer_id; "
            "record: the row entity_type/entity_id"},
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_RESTRICT, .flags = OB_INDEXED | OB_IMMUTABLE},
    {"entity_type", OB_F_TEXT, .max = 100, .flags = OB_IMMUTABLE},
    {"entity_id", OB_F_TEXT, .max = 36, .flags = OB_IMMUTABLE},
    {"reason", OB_F_TEXT, .max = 1000, .flags = OB_REQUIRED},
    {"status", OB_F_ENUM, .enm = &hold_status, .flags = OB_REQUIRED | OB_SERVER, .dflt = "active"},
    {"placed_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER, .stamp = OB_STAMP_ACTOR},
    {"released_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "released"},
    {"released_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER,
     .stamp = OB_STAMP_ACTOR, .stamp_on = "released"},
};
static const ob_transition hold_transitions[] = {
    {"release", "active", "released", NULL, NULL, NULL, NULL},
};
static const ob_fsm hold_fsm = {"status", hold_transitions, (int)OB_ARRAY_LEN(hold_transitions), "edit"};
const ob_resource ob_res_legal_holds = {
    .table = "legal_holds", .doc = "legal holds: while active, retention neither archives nor removes what they cover",
    OB_COLS(hold_cols), OB_CONFIG_PERMS("settings"), .fsm = &hold_fsm, .default_sort = "-created_at", .since = 3,
};
