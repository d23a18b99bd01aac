/* NDR (non-delivery report) cases of courier shipments (001): the case, the
 * actions taken on it (calls, messages, reattempt requests) and remarks. */
#include "base/base.h"
#include "domain/domains.h"
#include "domain/logistics/logistics.h"
#include "base/banned.h"

OB_ENUM(ndr_status, "ndr_status", "open", "in_progress", "reattempt_scheduled", "resolved", "rto");
OB_ENUM(ndr_resolution, "ndr_resolution", "delivered", "rto", "cancelled");
OB_ENUM(ndr_priority, "ndr_priority", "low", "medium", "high", "urgent");
OB_ENUM(ndr_action_type, "ndr_action_type", "call", "whatsapp", "sms", "email", "reattempt_request");
OB_ENUM(ndr_call_status, "ndr_call_status", "connected", "not_answered", "busy", "switched_off", "invalid_number");
OB_ENUM(ndr_message_status, "ndr_message_status", "sent", "delivered", "read", "failed");
OB_ENUM(ndr_request_status, "ndr_request_status", "pending", "sent", "failed");
OB_ENUM(ndr_outcome, "ndr_outcome", "will_accept", "wrong_address", "reschedule", "refuse", "not_reachable");

static const ob_column ndr_record_cols[] = {
    {"ndr_number", OB_F_TEXT, .number_prefix = "NDR", .max = 100, .flags = OB_REQUIRED | OB_GENERATED | OB_UNIQUE | OB_SORT | OB_SEARCH,
     .doc = "generated (NDR-000001) when not given"},
    {"shipment_id", OB_F_REF, .ref = "shipments", .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"order_id", OB_F_REF, .ref = "orders", .flags = OB_REQUIRED | OB_GENERATED | OB_IMMUTABLE,
     .doc = "taken from the shipment when not given"},
    {"reason_code", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_LOWER | OB_INDEXED,
     .doc = "customer_unavailable, wrong_address, refused, incomplete_address, cod_not_ready, ..."},
    {"reason_description", OB_F_TEXT, .max = 100000, .flags = OB_SEARCH},
    {"ndr_date", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SORT, .doc = "when the courier reported the failure"},
    {"attempt_count", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 1, .dflt = "1",
     .doc = "delivery attempts so far"},
    {"status", OB_F_ENUM, .enm = &ndr_status, .flags = OB_REQUIRED | OB_SERVER, .dflt = "open",
     .doc = "open: new, not worked; in_progress: being followed up; reattempt_scheduled: the courier will try "
            "again; resolved: closed (see resolution); rto: returned to origin. Moved by the events fail, rto, "
            "resolve and the actions act and reattempt"},
    {"resolution", OB_F_ENUM, .enm = &ndr_resolution,
     .doc = "delivered: a reattempt succeeded; rto: sent back; cancelled: the order was cancelled"},
    {"assigned_to", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL},
    {"assigned_at", OB_F_TIMESTAMP},
    {"customer_name", OB_F_TEXT, .max = 255, .flags = OB_SEARCH | OB_PERSONAL, .doc = "the consignee, copied from the order"},
    {"customer_phone", OB_F_TEXT, .max = 20, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_PHONE},
    {"customer_address", OB_F_JSON, .flags = OB_MASKED, .mask = OB_MASK_ADDRESS},
    {"priority", OB_F_ENUM, .enm = &ndr_priority, .flags = OB_REQUIRED | OB_SORT, .dflt = "medium"},
    {"due_date", OB_F_DATE, .flags = OB_SORT},
    {"resolved_at", OB_F_TIMESTAMP},
    {"metadata", OB_F_JSON, .dflt = "{}"},
};
/* shipment_id, assigned_to (references), ndr_date, priority and due_date
 * (sortable) have their own indexes */
static const ob_index ndr_record_idx[] = {{"status"}, {"priority,status"}};
/* The workbench (ndr_work.c). fail records another failed attempt (the
 * courier's scans call it; the NDR rules decide what follows); rto sends the parcel back
 * and resolve closes the case, both under ndr.close; assign, act and
 * reattempt take inputs that are not columns, so they are actions, act and
 * reattempt also steps of the machine. */
OB_EFFECT_FN(ob_ndr_fail);
OB_EFFECT_FN(ob_ndr_rto);
OB_EFFECT_FN(ob_ndr_resolve);
OB_ACTION_FN(ob_ndr_assign);
OB_ACTION_FN(ob_ndr_act);
OB_ACTION_FN(ob_ndr_reattempt);
#define NDR_OPEN "open,in_progress,reattempt_scheduled"
static const ob_transition ndr_transitions[] = {
    /* event     from      to         guard effect          perm     fields */
    {"fail",     NDR_OPEN, "open",     NULL, ob_ndr_fail,    "action", "reason_code,reason_description,ndr_date"},
    {"rto",      NDR_OPEN, "rto",      NULL, ob_ndr_rto,     "close"},
    {"resolve",  NDR_OPEN, "resolved", NULL, ob_ndr_resolve, "close",  "resolution"},
};
static const ob_fsm ndr_fsm = {"status", ndr_transitions, (int)OB_ARRAY_LEN(ndr_transitions), "edit"};
OB_ENUM(ndr_contact, "ndr_contact_type", "call", "whatsapp", "sms", "email");
static const ob_column ndr_assign_input[] = {
    {"user_id", OB_F_REF, .ref = "users", .flags = OB_REQUIRED, .doc = "the team member who works the case"},
};
static const ob_column ndr_act_input[] = {
    {"action_type", OB_F_ENUM, .enm = &ndr_contact, .flags = OB_REQUIRED},
    {"call_status", OB_F_ENUM, .enm = &ndr_call_status},
    {"call_duration_seconds", OB_F_INT, .flags = OB_HAS_MIN, .min = 0},
    {"message_content", OB_F_TEXT, .max = 100000},
    {"message_status", OB_F_ENUM, .enm = &ndr_message_status},
    {"outcome", OB_F_ENUM, .enm = &ndr_outcome},
    {"outcome_notes", OB_F_TEXT, .max = 100000},
};
static const ob_column ndr_reattempt_input[] = {
    {"date", OB_F_DATE, .flags = OB_REQUIRED, .doc = "the day the courier should try again"},
    {"new_address", OB_F_JSON, .doc = "a corrected delivery address"},
    {"new_phone", OB_F_TEXT, .max = 20},
};
static const ob_action ndr_actions_decl[] = {
    {"assign", "assign", ob_ndr_assign, "give an open case to a team member (assigned_to, assigned_at)",
     OB_INPUT(ndr_assign_input), .from = NDR_OPEN},
    {"act", "action", ob_ndr_act, "record a call or message to the buyer (an ndr_actions row); status in_progress",
     OB_INPUT(ndr_act_input), .from = NDR_OPEN, .to = "in_progress"},
    {"reattempt", "reattempt", ob_ndr_reattempt,
     "ask the courier to deliver again: an ndr_actions row sent to the courier's adapter by the job ndr.reattempt "
     "(3 tries with back-off); status reattempt_scheduled",
     OB_INPUT(ndr_reattempt_input), .from = NDR_OPEN, .to = "reattempt_scheduled"},
};
const ob_resource ob_res_ndr_records = {
    .table = "ndr_records", .doc = "non-delivery report cases of courier shipments (001)",
    OB_COLS(ndr_record_cols), OB_INDEXES(ndr_record_idx), .perm = "ndr", .hooks = &ob_ndr_record_hooks,
    .fsm = &ndr_fsm, OB_ACTIONS(ndr_actions_decl),
    .default_sort = "-ndr_date",
};

static const ob_column ndr_action_cols[] = {
    {"ndr_id", OB_F_REF, .ref = "ndr_records", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"action_type", OB_F_ENUM, .enm = &ndr_action_type, .flags = OB_REQUIRED | OB_INDEXED},
    {"call_status", OB_F_ENUM, .enm = &ndr_call_status},
    {"call_duration_seconds", OB_F_INT, .flags = OB_HAS_MIN, .min = 0},
    {"message_content", OB_F_TEXT, .max = 100000},
    {"message_status", OB_F_ENUM, .enm = &ndr_message_status},
    {"outcome", OB_F_ENUM, .enm = &ndr_outcome},
    {"outcome_notes", OB_F_TEXT, .max = 100000},
    {"reattempt_date", OB_F_DATE},
    {"new_address", OB_F_JSON, .flags = OB_MASKED, .mask = OB_MASK_ADDRESS},
    {"new_phone", OB_F_TEXT, .max = 20, .flags = OB_MASKED, .mask = OB_MASK_PHONE},
    {"performed_by", OB_F_REF, .ref = "users", .flags = OB_REQUIRED | OB_SERVER, .stamp = OB_STAMP_ACTOR, .doc = "the signed-in user"},
    {"performed_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SORT, .dflt = "now"},
    {"metadata", OB_F_JSON, .dflt = "{}"},
    {"request_status", OB_F_ENUM, .enm = &ndr_request_status, .flags = OB_SERVER | OB_INDEXED, .since = 8,
     .doc = "a reattempt request's delivery to the courier: pending (the job ndr.reattempt sends it, retried "
            "with back-off), sent (the courier took it), failed (refused or unreachable 3 times: listed in the NDR "
            "report); null for calls and messages"},
    {"request_attempts", OB_F_INT, .flags = OB_SERVER | OB_HAS_MIN, .min = 0, .since = 8,
     .doc = "how many times the request was put to the courier"},
    {"request_error", OB_F_TEXT, .max = 2000, .flags = OB_SERVER, .since = 8, .doc = "the courier's last refusal"},
};
const ob_resource ob_res_ndr_actions = {
    .table = "ndr_actions", .doc = "calls, messages and reattempt requests made on an NDR case (001)",
    OB_COLS(ndr_action_cols), .perm = "ndr", .perm_create = "ndr.action", .perm_edit = "ndr.action",
    .default_sort = "performed_at",
};

static const ob_column ndr_remark_cols[] = {
    {"ndr_id", OB_F_REF, .ref = "ndr_records", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"remark", OB_F_TEXT, .max = 100000, .flags = OB_REQUIRED | OB_SEARCH},
    {"is_internal", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"created_by", OB_F_REF, .ref = "users", .flags = OB_REQUIRED | OB_SERVER, .stamp = OB_STAMP_ACTOR, .doc = "the signed-in user"},
};
const ob_resource ob_res_ndr_remarks = {
    .table = "ndr_remarks", .doc = "remarks on an NDR case (001)",
    OB_COLS(ndr_remark_cols), .perm = "ndr", .flags = OB_RES_APPEND_ONLY,
    .default_sort = "created_at",
};
