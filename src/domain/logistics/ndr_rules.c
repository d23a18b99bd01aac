/* NDR rules (001, "NDR Automation"): what happens on its own when a delivery
 * fails. Each failed attempt queues the job ndr.rules in the scan's
 * transaction; the job tries the tenant's active rules in ascending
 * position, the first whose reason, payment mode and attempt range match
 * acts (reattempt next day, notify, escalate, rto, or hold), and every run is
 * logged in ndr_rule_runs. With no rule matching, the third failed attempt
 * starts RTO. */
#include "base/base.h"
#include "domain/domains.h"
#include "domain/logistics/logistics.h"
#include "base/banned.h"

OB_ENUM(ndr_rule_action, "ndr_rule_action", "reattempt_next_day", "notify", "escalate", "rto", "hold");
OB_ENUM(ndr_rule_payment, "ndr_rule_payment_mode", "cod", "prepaid");

static const ob_column ndr_rule_cols[] = {
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"position", OB_F_INT, .flags = OB_REQUIRED | OB_SORT | OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 100000,
     .doc = "rules are tried in ascending position; the first that matches acts"},
    {"reason_code", OB_F_TEXT, .max = 50, .flags = OB_LOWER,
     .doc = "the case's reason code (customer_unavailable, wrong_address, refused, ...); null: any"},
    {"payment_mode", OB_F_ENUM, .enm = &ndr_rule_payment, .doc = "the order's payment method; null: any"},
    {"min_attempt", OB_F_INT, .flags = OB_HAS_MIN, .min = 1, .doc = "the lowest failed attempt it applies to; null: 1"},
    {"max_attempt", OB_F_INT, .flags = OB_HAS_MIN, .min = 1, .doc = "the highest failed attempt it applies to; null: any"},
    {"action", OB_F_ENUM, .enm = &ndr_rule_action, .flags = OB_REQUIRED,
     .doc = "reattempt_next_day: ask the courier to deliver again the next day (UTC); notify: send the buyer the "
            "SMS template ndr_follow_up; escalate: priority urgent; rto: send the parcel back; hold: nothing (keeps "
            "the third attempt from starting RTO)"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"created_by", OB_F_REF, .ref = "users", .flags = OB_REQUIRED | OB_SERVER, .stamp = OB_STAMP_ACTOR,
     .doc = "the signed-in user; a rule's reattempt requests are recorded as theirs"},
};
static const ob_check ndr_rule_checks[] = {
    {"attempt_range_in_order", "min_attempt", OB_CMP_LTE, "max_attempt"},
};
static const ob_index ndr_rule_idx[] = {{"is_active,position"}};
const ob_resource ob_res_ndr_rules = {
    .table = "ndr_rules", .doc = "ordered rules that act on a failed delivery attempt (001, NDR automation)",
    OB_COLS(ndr_rule_cols), OB_INDEXES(ndr_rule_idx), OB_CHECKS(ndr_rule_checks), .perm = "ndr",
    .perm_create = "ndr.close", .perm_edit = "ndr.close", .perm_delete = "ndr.close",
    .default_sort = "position", .since = 8,
};

OB_ENUM(ndr_run_action, "ndr_run_action", "reattempt_next_day", "notify", "escalate", "rto", "hold", "none");
OB_ENUM(ndr_run_outcome, "ndr_run_outcome", "done", "skipped", "failed");
static const ob_column ndr_run_cols[] = {
    {"ndr_id", OB_F_REF, .ref = "ndr_records", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_INDEXED},
    {"attempt", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 1, .doc = "the failed attempt that ran the rules"},
    {"rule_id", OB_F_REF, .ref = "ndr_rules", .on_delete = OB_DEL_SET_NULL,
     .doc = "the rule that matched; null: none did (the default applied)"},
    {"rule_name", OB_F_TEXT, .max = 255, .doc = "the rule's name then, or default"},
    {"action", OB_F_ENUM, .enm = &ndr_run_action, .flags = OB_REQUIRED,
     .doc = "what was done; none: no rule matched before the third attempt"},
    {"outcome", OB_F_ENUM, .enm = &ndr_run_outcome, .flags = OB_REQUIRED,
     .doc = "done; skipped: the case was closed already; failed: the courier or the template refused (detail)"},
    {"detail", OB_F_TEXT, .max = 2000},
    {"ran_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SORT, .dflt = "now"},
};
const ob_resource ob_res_ndr_rule_runs = {
    .table = "ndr_rule_runs", .doc = "each run of the NDR rules on a failed attempt, written by the server (read-only)",
    OB_COLS(ndr_run_cols), .perm = "ndr", .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY,
    .default_sort = "ran_at", .since = 8,
};
