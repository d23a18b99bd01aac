/* test_domain_order.c - the generated list of tables (gen/resources.h,
 * scripts/gen-columns.py) keeps the creation order of the tables that the
 * hand-kept resources.def lists held when the generator replaced them: new
 * tables may come anywhere the rule puts them, but these never reorder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/base.h"
#include "domain/domains.h"
#include "base/banned.h"

static const ob_resource *const generated[] = {
#define OB_RESOURCE(sym) &sym,
#include "gen/resources.h"
#undef OB_RESOURCE
};

/* The 100 tables of the last hand-kept list, in its order. */
static const char *const legacy[] = {
    "plans", "features", "plan_features", "tenants", "subscriptions", "tenant_features",
    "super_admins", "users", "roles", "permissions", "role_permissions", "user_roles",
    "user_sessions", "login_throttles", "data_masking_rules", "idempotency_keys", "sequences",
    "audit_logs", "legal_holds", "customers", "customer_contacts", "categories", "tickets",
    "ticket_messages", "documents", "document_categories", "images", "products", "product_variants",
    "category_templates", "warehouses", "suppliers", "purchase_orders", "purchase_order_items",
    "inventory", "inventory_transactions", "reorder_suggestions", "sales_channels",
    "channel_products", "orders", "order_items", "order_status_history", "channel_types",
    "plan_channels", "courier_types", "courier_configs", "service_types", "service_centers",
    "service_requests", "request_documents", "queue_numbers", "airlines", "routes",
    "flight_schedules", "shipments", "shipment_items", "tracking_events", "ndr_records",
    "ndr_actions", "ndr_remarks", "security_settings", "role_security_settings", "export_logs",
    "security_violations", "security_alerts", "refresh_tokens", "permission_templates",
    "user_features", "notification_templates", "notification_logs", "webhook_subscriptions",
    "webhook_deliveries", "event_types", "analytics_events", "analytics_metrics", "analytics_data",
    "kpi_targets", "dashboard_widgets", "custom_reports", "automation_rules", "automation_logs",
    "payment_methods", "invoices", "invoice_items", "payments", "payment_transactions", "expenses",
    "revenue_records", "accounting_entries", "company_settings", "customer_documents",
    "customer_relationships", "customer_tags", "customer_tag_assignments",
    "customer_communication_history", "customer_preferences", "loyalty_programs",
    "customer_loyalty_points", "jobs", "schedules",
};

static void test_legacy_order_kept(void **state)
{
    (void)state;
    size_t at = 0;
    for (size_t i = 0; i < OB_ARRAY_LEN(generated) && at < OB_ARRAY_LEN(legacy); i++)
        if (strcmp(generated[i]->table, legacy[at]) == 0) at++;
    if (at < OB_ARRAY_LEN(legacy)) fail_msg("table %s is missing or out of order", legacy[at]);
}

static void test_each_table_once(void **state)
{
    (void)state;
    for (size_t i = 0; i < OB_ARRAY_LEN(generated); i++)
        for (size_t j = i + 1; j < OB_ARRAY_LEN(generated); j++)
            if (strcmp(generated[i]->table, generated[j]->table) == 0)
                fail_msg("table %s listed twice", generated[i]->table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_order_kept),
        cmocka_unit_test(test_each_table_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
