/* analytics.h - hooks of the analytics, reports and automation tables. */
#ifndef OB_DOMAIN_ANALYTICS_H
#define OB_DOMAIN_ANALYTICS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/strbuf.h"
#include "schema/registry.h"

/* Links an event to its event_types row (by id or by code) and fills
 * event_type, event_name and event_category from it when not given. */
extern const ob_hooks ob_analytics_event_hooks;
/* created_by is the signed-in user; the figures are measured on every write. */
extern const ob_hooks ob_kpi_target_hooks;
/* Measure a KPI target from the data (kpis.c): current_value and
 * trend_direction for a known kpi_name (others are left alone). */
int ob_kpi_measure(ob_ctx *ctx, ob_row *row, ob_err *err);
/* Whether kpis.c measures a kpi_name. */
bool ob_kpi_known(const char *name);
/* Today in the tenant's zone, as a day number (days since 1970-01-01). */
int ob_kpi_today(ob_ctx *ctx, int64_t *day, ob_err *err);
/* The figure of a KPI for a period of days [ps, pe] as of now (minor units
 * of 2 places) and its trend; 1 for an unknown name, -1 error. */
int ob_kpi_measure_days(ob_ctx *ctx, const char *name, int64_t ps, int64_t pe, int64_t *value, const char **trend,
                        ob_err *err);
/* ob_kpi_measure, then achievement_rate from the values. */
int ob_kpi_refresh(ob_ctx *ctx, ob_row *row, ob_err *err);
/* Job kind kpis.compute: measure and save every active target. */
int ob_kpis_compute_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
/* user_id defaults to the signed-in user; widget_config is checked against
 * the widget's type (widgets.c). */
extern const ob_hooks ob_dashboard_widget_hooks;
/* widgets.c: the config check of the hooks, and the data view. */
int ob_widget_check_config(ob_ctx *ctx, const ob_row *row, ob_err *err);
int ob_widget_data(ob_ctx *ctx, const ob_row *row, ob_sb *out, ob_err *err);
/* created_by is the signed-in user; report_config is checked (report_run.c). */
extern const ob_hooks ob_custom_report_hooks;
int ob_report_check_config(ob_ctx *ctx, const ob_row *row, ob_err *err);
/* Job kind reports.scheduled: run each active scheduled report whose slot
 * (schedule_frequency, schedule_time, schedule_days in the tenant's zone)
 * has come since its last scheduled run. */
int ob_reports_scheduled_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
/* A run's files are written by the API's job reports.render (a layer above:
 * the XLSX and PDF writers live there), queued in the run's transaction when
 * this process has it. Once they are stored, that job queues this kind,
 * reports.deliver {"report_run_id"}: a scheduled run's messages are queued
 * to the report's email_recipients with the sender reports.mail, which
 * attaches the stored files; why none could be queued is kept in the run's
 * error_message. */
int ob_reports_deliver_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
/* created_by is the signed-in user; trigger_conditions and actions are
 * checked (automation.c, which documents their shape). */
extern const ob_hooks ob_automation_rule_hooks;
int ob_automation_check(ob_ctx *ctx, const ob_row *row, ob_err *err);
/* An active rule whose trigger matched: its id and actions (JSON text). */
typedef struct ob_automation_rule {
    const char *id, *actions;
} ob_automation_rule;
/* The active rules of event whose where holds on row, newest first (arena). */
int ob_automation_match(ob_ctx *ctx, const char *event, const ob_row *row, ob_automation_rule **out, int *n,
                        ob_err *err);
/* Run r's actions on row (notify; reorder is the caller's, applied before)
 * and record the run: an automation_logs row whose execution_details are
 * details plus the actions' outcomes, and the rule's count and time. */
int ob_automation_run(ob_ctx *ctx, const ob_automation_rule *r, const ob_row *row, json_t *details, ob_err *err);
/* An event of a row (invoice.paid: an invoice's id) in the caller's
 * transaction: the job automation.run is queued when an active rule waits
 * for the event, and runs the matching rules. */
int ob_automation_raise(ob_ctx *ctx, const char *event, const char *id, ob_err *err);
/* The same with the row captured as it is now (inventory.low: the stock
 * entry's inventory row) and details added to each run's log: the job runs
 * the rules on the capture, after the caller's transaction commits. */
int ob_automation_raise_row(ob_ctx *ctx, const char *event, const ob_row *row, json_t *details, ob_err *err);
/* Rules saved in the shape before the one documented in automation.c
 * (reorder rules: flat trigger_conditions {product_id, warehouse_id},
 * actions an object {reorder_point, reorder_quantity}) rewritten in it: run
 * by the analytics seed on every `migrate`; *n counts the rules rewritten. */
int ob_automation_migrate(ob_ctx *ctx, int *n, ob_err *err);
/* Job kind automation.run {"event", "id", "row"?, "details"?}; customer.birthday without an id:
 * every customer whose birthday is today in the tenant's zone. */
int ob_automation_job_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);

#endif
