/* The tenant audit trail: 000's audit_logs, 001's platform audit_logs and
 * 003's audit_logs merged into one append-only table. */
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
};
static const ob_index audit_idx[] = {
    {"entity_type,entity_id"},
    {"user_id,created_at"},
    {"created_at"},
};
const ob_resource ob_res_audit_logs = {
    .table = "audit_logs", .doc = "every change and sign-in, written in the same transaction",
    OB_COLS(audit_cols), OB_INDEXES(audit_idx), .perm = "audit",
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY | OB_RES_NO_AUDIT, .default_sort = "-created_at",
};
