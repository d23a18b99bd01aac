/* analytics.h - hooks of the analytics, reports and automation tables. */
#ifndef OB_DOMAIN_ANALYTICS_H
#define OB_DOMAIN_ANALYTICS_H

#include "schema/registry.h"

/* Links an event to its event_types row (by id or by code) and fills
 * event_type, event_name and event_category from it when not given. */
extern const ob_hooks ob_analytics_event_hooks;
/* created_by is the signed-in user; achievement_rate follows the values. */
extern const ob_hooks ob_kpi_target_hooks;
/* user_id defaults to the signed-in user. */
extern const ob_hooks ob_dashboard_widget_hooks;
/* created_by is the signed-in user. */
extern const ob_hooks ob_custom_report_hooks;
/* created_by is the signed-in user. */
extern const ob_hooks ob_automation_rule_hooks;

#endif
