/* Reports and automation (003): custom and scheduled reports, automation
 * rules and the log of their runs. */
#include "domain/domains.h"
#include "domain/analytics/analytics.h"
#include "base/banned.h"

OB_ENUM(report_type, "report_type", "sales", "inventory", "customer", "financial");
OB_ENUM(schedule_frequency, "report_schedule_frequency", "daily", "weekly", "monthly");
OB_ENUM(rule_type, "automation_rule_type", "reorder", "price_update", "communication", "alert");
OB_ENUM(execution_status, "automation_execution_status", "success", "failed", "partial");
OB_ENUM(export_format, "report_export_format", "pdf", "excel", "csv");

static const ob_column report_cols[] = {
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"description", OB_F_TEXT, .max = 10000, .flags = OB_SEARCH},
    {"report_type", OB_F_ENUM, .enm = &report_type, .flags = OB_REQUIRED},
    {"report_config", OB_F_JSON, .flags = OB_REQUIRED,
     .doc = "{source: table, filters: {column: value}, group_by: [columns], measures: [{fn: sum|avg|count, column}]}, "
            "checked on save against what the caller may read (src/domain/analytics/report_run.c)"},
    {"is_scheduled", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"schedule_frequency", OB_F_ENUM, .enm = &schedule_frequency},
    {"schedule_time", OB_F_TEXT, .max = 8, .pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
     .doc = "time of day, HH:MM or HH:MM:SS"},
    {"schedule_days", OB_F_JSON, .doc = "weekdays of a weekly report"},
    {"export_formats", OB_F_JSON, .enm = &export_format},
    {"email_recipients", OB_F_JSON, .doc = "array of e-mail addresses"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"created_by", OB_F_REF, .ref = "users", .flags = OB_REQUIRED | OB_SERVER},
};
static const ob_index report_idx[] = {{"is_scheduled,is_active"}};
OB_ACTION_FN(ob_custom_report_run);
static const ob_action report_actions[] = {
    {"run", "view", ob_custom_report_run,
     "run the report now as the caller: its measures over the source's rows, grouped, into a report_runs row "
     "(answered)"},
};
const ob_resource ob_res_custom_reports = {
    .table = "custom_reports", .doc = "saved report definitions, optionally scheduled and mailed",
    OB_COLS(report_cols), OB_INDEXES(report_idx), .perm = "reports", .hooks = &ob_custom_report_hooks,
    OB_ACTIONS(report_actions), .default_sort = "name",
};

OB_ENUM(run_status, "report_run_status", "done", "failed");
OB_ENUM(run_trigger, "report_run_trigger", "manual", "schedule");
OB_ENUM(run_files, "report_run_files", "pending", "stored", "failed");
static const ob_column run_cols[] = {
    {"report_id", OB_F_REF, .ref = "custom_reports", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_INDEXED},
    {"trigger", OB_F_ENUM, .enm = &run_trigger, .flags = OB_REQUIRED, .dflt = "manual"},
    {"status", OB_F_ENUM, .enm = &run_status, .flags = OB_REQUIRED},
    {"row_count", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "0", .doc = "groups in the result"},
    {"result", OB_F_JSON, .doc = "{columns: [...], rows: [[...]]}: group keys, then one value per measure"},
    {"error_message", OB_F_TEXT, .max = 10000},
    {"requested_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .doc = "who ran it; empty: the schedule"},
    {"finished_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SORT},
    {"files_status", OB_F_ENUM, .enm = &run_files, .since = 8,
     .doc = "pending: the job reports.render is writing the files; stored: csv/xlsx/pdf_file_id name them; failed: "
            "rendering or mailing gave up after its retries (status failed, error_message why); empty: a run made "
            "before files were kept or by a process without the renderer"},
    {"csv_file_id", OB_F_REF, .ref = "files", .on_delete = OB_DEL_SET_NULL, .since = 8,
     .doc = "the result as CSV, a stored file (GET /api/v1/files/{id}/content)"},
    {"xlsx_file_id", OB_F_REF, .ref = "files", .on_delete = OB_DEL_SET_NULL, .since = 8,
     .doc = "the result as XLSX, a stored file"},
    {"pdf_file_id", OB_F_REF, .ref = "files", .on_delete = OB_DEL_SET_NULL, .since = 8,
     .doc = "the result as PDF, a stored file"},
    {"attempts", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "0", .since = 8,
     .doc = "failed attempts at rendering or mailing the run, each logged in error_message and retried by the "
            "job system after its back-off"},
};
const ob_resource ob_res_report_runs = {
    .table = "report_runs", .doc = "runs of custom reports and their results, written by the server (read-only)",
    OB_COLS(run_cols), .perm = "reports", .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY,
    .default_sort = "-finished_at", .since = 6,
};

static const ob_column rule_cols[] = {
    {"rule_name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"rule_type", OB_F_ENUM, .enm = &rule_type, .flags = OB_REQUIRED},
    {"trigger_conditions", OB_F_JSON, .flags = OB_REQUIRED,
     .doc = "{event: inventory.low|invoice.paid|customer.birthday, where: {column: value}}: the event and "
            "equalities on its row, checked on save (src/domain/analytics/automation.c)"},
    {"actions", OB_F_JSON, .flags = OB_REQUIRED,
     .doc = "what the rule does when it triggers: 1 to 10 of {type: reorder, reorder_point, reorder_quantity}, "
            "{type: notify, template, to} and {type: follow_up, days, subject}, checked on save"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"last_executed", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"execution_count", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER | OB_HAS_MIN, .min = 0, .dflt = "0"},
    {"created_by", OB_F_REF, .ref = "users", .flags = OB_REQUIRED | OB_SERVER},
};
static const ob_index rule_idx[] = {{"rule_type,is_active"}};
const ob_resource ob_res_automation_rules = {
    .table = "automation_rules", .doc = "automation rules: trigger conditions and the actions they run",
    OB_COLS(rule_cols), OB_INDEXES(rule_idx), .perm = "automation", .hooks = &ob_automation_rule_hooks,
    .default_sort = "rule_name",
};

static const ob_column rule_log_cols[] = {
    {"rule_id", OB_F_REF, .ref = "automation_rules", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"execution_status", OB_F_ENUM, .enm = &execution_status, .flags = OB_REQUIRED,
     .doc = "success: every action ran; partial: some failed; failed: none ran"},
    {"execution_details", OB_F_JSON},
    {"error_message", OB_F_TEXT, .max = 100000},
    {"executed_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SORT, .dflt = "now"},
    {"run_key", OB_F_TEXT, .max = 200, .since = 8,
     .doc = "what the run was for, once: customer.birthday:<customer id>:<date in the tenant's zone>; a rule runs "
            "at most once per key (a sweep run twice the same day greets once); empty: runs that repeat freely"},
};
static const ob_index rule_log_idx[] = {{"execution_status,executed_at"},
                                        {"rule_id,run_key", .unique = true, .since = 8}};
const ob_resource ob_res_automation_logs = {
    .table = "automation_logs", .doc = "runs of automation rules, written by the server (read-only)",
    OB_COLS(rule_log_cols), OB_INDEXES(rule_log_idx), .perm = "automation",
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY, .default_sort = "-executed_at",
};
