/* Analytics: 000's analytics_events merged with 004's, 000's event type
 * catalogue, 004's aggregated metrics, 003's calculated analytics, KPI
 * targets and dashboard widgets. */
#include "domain/domains.h"
#include "domain/analytics/analytics.h"
#include "base/banned.h"

OB_ENUM(kpi_type, "kpi_type", "financial", "operational", "customer");
OB_ENUM(target_period, "kpi_target_period", "daily", "weekly", "monthly", "yearly");
OB_ENUM(trend_direction, "kpi_trend_direction", "up", "down", "stable");
OB_ENUM(widget_type, "widget_type", "chart", "metric", "table", "alert");

static const ob_column event_type_cols[] = {
    {"code", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_UNIQUE | OB_SORT,
     .doc = "the value analytics_events.event_type carries"},
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SEARCH, .doc = "default event_name"},
    {"category", OB_F_TEXT, .max = 50, .doc = "default event_category"},
    {"description", OB_F_TEXT, .max = 10000},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
const ob_resource ob_res_event_types = {
    .table = "event_types", .doc = "catalogue of analytics event types (000: events are categorized_by a type)",
    OB_COLS(event_type_cols), .perm = "analytics", .default_sort = "code",
};

static const ob_column event_cols[] = {
    {"event_type_id", OB_F_REF, .ref = "event_types", .flags = OB_IMMUTABLE,
     .doc = "the catalogued type; found by event_type when not given"},
    {"event_type", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_GENERATED | OB_INDEXED,
     .doc = "the type's code; taken from event_type_id when not given"},
    {"event_name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_GENERATED | OB_SEARCH,
     .doc = "defaults to the catalogued type's name, else to event_type"},
    {"event_category", OB_F_TEXT, .max = 50, .doc = "defaults to the catalogued type's category"},
    {"entity_type", OB_F_TEXT, .max = 50, .doc = "the kind of record the event is about (004)"},
    {"user_id", OB_F_REF, .flags = OB_STAFF, .ref = "users"},
    {"customer_id", OB_F_REF, .ref = "customers"},
    {"session_id", OB_F_TEXT, .flags = OB_STAFF, .max = 100},
    {"page_url", OB_F_TEXT, .max = 1000},
    {"user_agent", OB_F_TEXT, .flags = OB_STAFF, .max = 500},
    {"ip_address", OB_F_TEXT, .flags = OB_STAFF, .max = 45},
    {"country", OB_F_TEXT, .max = 2, .doc = "ISO 3166-1 alpha-2"},
    {"city", OB_F_TEXT, .max = 100},
    {"device_type", OB_F_TEXT, .max = 20},
    {"browser", OB_F_TEXT, .max = 50},
    {"event_properties", OB_F_JSON, .doc = "the event's data (000 event_properties, 004 metadata)"},
    {"event_value", OB_F_DECIMAL, .scale = 2},
    {"event_timestamp", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_INDEXED | OB_SORT, .dflt = "now",
     .doc = "when it happened (the client's clock may differ from created_at)"},
    {"processed", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false",
     .doc = "set once the event is folded into analytics_metrics"},
};
static const ob_index event_idx[] = {{"created_at"}};
const ob_resource ob_res_analytics_events = {
    .table = "analytics_events", .doc = "raw analytics events (page views, actions); append-only",
    OB_COLS(event_cols), OB_INDEXES(event_idx), .perm = "analytics", .flags = OB_RES_APPEND_ONLY,
    .customer_scope = "customer_id", .hooks = &ob_analytics_event_hooks, .default_sort = "-event_timestamp",
    .retention = &(const ob_retention){.days = 1095, .customer_col = "customer_id", .source = "3 years (000); 004's 6 months is a tenant override"},
};

static const ob_column metric_cols[] = {
    {"metric_name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED},
    {"metric_value", OB_F_DECIMAL, .scale = 4, .flags = OB_REQUIRED},
    {"dimension_date", OB_F_DATE, .flags = OB_REQUIRED | OB_SORT, .doc = "the day the value aggregates"},
    {"warehouse_id", OB_F_REF, .ref = "warehouses", .on_delete = OB_DEL_SET_NULL, .since = 3,
     .doc = "the warehouse the value is of; empty: the whole tenant"},
};
static const ob_index metric_idx[] = {{"metric_name,dimension_date"}, {"created_at"}, {"warehouse_id,dimension_date", .since = 3}};
const ob_resource ob_res_analytics_metrics = {
    .table = "analytics_metrics", .doc = "tenant-wide aggregated metrics, one value per metric and day (004)",
    OB_COLS(metric_cols), OB_INDEXES(metric_idx), .perm = "analytics", .flags = OB_RES_APPEND_ONLY,
    .default_sort = "-dimension_date",
};

static const ob_column data_cols[] = {
    {"data_type", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED,
     .doc = "sales_trend, inventory_turnover, customer_behavior, ..."},
    {"entity_type", OB_F_TEXT, .max = 50, .doc = "product, category, customer, global, ..."},
    {"entity_id", OB_F_TEXT, .max = 36, .doc = "id of the entity's record"},
    {"metric_name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED},
    {"metric_value", OB_F_DECIMAL, .scale = 4, .flags = OB_REQUIRED},
    {"additional_data", OB_F_JSON},
    {"calculation_date", OB_F_DATE, .flags = OB_REQUIRED | OB_SORT},
    {"calculated_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED, .dflt = "now"},
};
static const ob_index data_idx[] = {
    {"data_type,calculation_date"},
    {"entity_type,entity_id"},
    {"metric_name,calculation_date"},
};
const ob_resource ob_res_analytics_data = {
    .table = "analytics_data", .doc = "calculated analytics per entity and date (003); append-only",
    OB_COLS(data_cols), OB_INDEXES(data_idx), .perm = "analytics", .flags = OB_RES_APPEND_ONLY,
    .default_sort = "-calculation_date",
};

static const ob_column kpi_cols[] = {
    {"kpi_type", OB_F_ENUM, .enm = &kpi_type, .flags = OB_REQUIRED},
    {"kpi_name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SORT,
     .doc = "daily_sales, inventory_turnover, customer_acquisition, ..."},
    {"target_period", OB_F_ENUM, .enm = &target_period, .flags = OB_REQUIRED},
    {"target_value", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED},
    {"current_value", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0",
     .doc = "measured by the server from the data for the known kpi_names (docs/kpis.md), on every write and by the "
            "daily job kpis.compute; GET /api/v1/kpi_targets/{id}/live measures it now"},
    {"achievement_rate", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0",
     .doc = "percent: current_value / target_value * 100, kept by the server (0 while the target is 0)"},
    {"trend_direction", OB_F_ENUM, .enm = &trend_direction, .flags = OB_SERVER,
     .doc = "current_value against the same number of days just before its window"},
    {"period_start", OB_F_DATE, .flags = OB_REQUIRED | OB_SORT},
    {"period_end", OB_F_DATE, .flags = OB_REQUIRED},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"created_by", OB_F_REF, .ref = "users", .flags = OB_REQUIRED | OB_SERVER},
};
static const ob_index kpi_idx[] = {{"kpi_type,target_period"}, {"is_active,period_start,period_end"}};
static const ob_check kpi_checks[] = {{"kpi_period_order", "period_end", OB_CMP_GTE, "period_start"}};
const ob_resource ob_res_kpi_targets = {
    .table = "kpi_targets", .doc = "KPI targets per period and how far they are met",
    OB_COLS(kpi_cols), OB_INDEXES(kpi_idx), OB_CHECKS(kpi_checks), .perm = "analytics",
    .hooks = &ob_kpi_target_hooks, .default_sort = "-period_start",
};

static const ob_column widget_cols[] = {
    {"user_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_GENERATED | OB_IMMUTABLE, .doc = "whose dashboard; defaults to the signed-in user"},
    {"widget_type", OB_F_ENUM, .enm = &widget_type, .flags = OB_REQUIRED},
    {"widget_config", OB_F_JSON, .flags = OB_REQUIRED,
     .doc = "metric {kpi, days 1-366, title}; chart {kpi, days 1-92, title}; table {kpis: [names], title}: "
            "checked against the type (src/domain/analytics/widgets.c)"},
    {"position_x", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .doc = "grid column"},
    {"position_y", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .doc = "grid row"},
    {"width", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 1, .doc = "grid columns"},
    {"height", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 1, .doc = "grid rows"},
    {"is_visible", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
static const ob_view widget_views[] = {
    {"data", ob_widget_data,
     "what the widget shows, for its owner: a metric's value, a chart's daily points or a table of KPI targets"},
};
const ob_resource ob_res_dashboard_widgets = {
    .table = "dashboard_widgets", .doc = "widgets on each user's dashboard",
    OB_COLS(widget_cols), .perm = "analytics", .hooks = &ob_dashboard_widget_hooks, OB_VIEWS(widget_views),
};
