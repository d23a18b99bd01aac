/* demo.c - opsbase demo: the tenants and records `make run` starts with,
 * created through the same generic create path the API uses. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cli/demo.h"
#include "db/db.h"
#include "domain/logistics/courier.h"
#include "files/files.h"
#include "jobs/jobs.h"
#include "platform/tenants.h"
#include "schema/crud.h"
#include "base/banned.h"

static const ob_opt demo_opts[] = {{"--data", "OPSBASE_DATA", "./data", false, "data directory"}};
static const ob_cmd_spec demo_spec = {"opsbase demo [--data DIR]",
                                      "Create the demo tenants: acme and globex (every system), skycargo (air cargo) and goldline (gold shop).",
                                      demo_opts, 1, 0, 0};

typedef struct demo_user {
    const char *tenant, *email, *name, *role, *password;
} demo_user;

static const demo_user users[] = {
    {"acme", "agent1@acme.test", "Asha Agent", "agent", "agent-pass-123"},
    {"acme", "agent2@acme.test", "Bram Agent", "agent", "agent-pass-123"},
    {"acme", "viewer@acme.test", "Vera Viewer", "viewer", "viewer-pass-123"},
    {"globex", "agent@globex.test", "Gil Agent", "agent", "agent-pass-123"},
    {"skycargo", "portal@skycargo.test", "Sahyadri Pharma (portal)", "customer", "portal-pass-123"},
    {"skycargo", "ops@skycargo.test", "Omar Operator", "operator", "operator-pass-123"},
    {"goldline", "sales@goldline.test", "Sana Sales", "agent", "agent-pass-123"},
};

/* Create one record from JSON text; the new id goes to id_out if given. */
int ob_demo_make(ob_ctx *ctx, const char *table, const char *json, char id_out[37], ob_err *err)
{
    json_error_t je;
    json_t *body = json_loads(json, 0, &je);
    if (!body) return ob_err_set(err, OB_E_INTERNAL, "demo data: %s", je.text);
    ob_row *row;
    int rc = ob_crud_create(ctx, ob_registry_find(table), body, &row, err);
    json_decref(body);
    if (rc == 0 && id_out) snprintf(id_out, 37, "%s", ob_row_id(row));
    return rc;
}

/* ob_demo_make() with the body formatted from fmt (ids are plain UUIDs, no escaping). */
int ob_demo_mkf(ob_ctx *ctx, const char *table, char id_out[37], ob_err *err, const char *fmt, ...)
{
    char body[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof body) return ob_err_set(err, OB_E_INTERNAL, "demo data: body too long");
    return ob_demo_make(ctx, table, body, id_out, err);
}

/* One example of each of the other systems, so that every screen and route
 * has something to show: a sales channel with an order (e-commerce), stock in
 * a warehouse moved by the ledger and a purchase order (inventory and supply
 * chain), a flight and a tracked air-cargo shipment (the cargo portal), an
 * invoice with a gold line and a payment (the shop), and a queued job. */
static int fill_operations(ob_ctx *ctx, const char *cus1, const char *cus2, ob_err *err)
{
    char chan[37], order[37], prod[37], wh[37], inv[37], sup[37], po[37], air[37], flight[37], shp[37], invc[37];
    int rc = ob_demo_mkf(ctx, "sales_channels", chan, err, "{\"channel_type_code\":\"shopify\",\"name\":\"Northwind online store\"}");
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "products", prod, err,
                 "{\"sku\":\"BOTTLE-750\",\"name\":\"Steel water bottle 750 ml\",\"brand\":\"Acme\"}");
    if (rc == 0) rc = ob_demo_mkf(ctx, "warehouses", wh, err, "{\"name\":\"Mumbai central\",\"code\":\"BOM1\",\"city\":\"Mumbai\"}");
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "inventory", inv, err, "{\"product_id\":\"%s\",\"warehouse_id\":\"%s\",\"reorder_point\":10}",
                 prod, wh);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "inventory_transactions", NULL, err,
                 "{\"inventory_id\":\"%s\",\"transaction_type\":\"purchase\",\"quantity\":40,\"notes\":\"opening stock\"}",
                 inv);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "orders", order, err,
                 "{\"channel_id\":\"%s\",\"external_order_id\":\"1001\",\"customer_id\":\"%s\","
                 "\"customer_name\":\"Nadia Rao\",\"shipping_address\":{\"line1\":\"12 Marine Drive\",\"city\":\"Mumbai\"},"
                 "\"subtotal\":\"898.00\",\"total_amount\":\"898.00\",\"payment_method\":\"prepaid\"}",
                 chan, cus1);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "order_items", NULL, err,
                 "{\"order_id\":\"%s\",\"product_id\":\"%s\",\"sku\":\"BOTTLE-750\",\"name\":\"Steel water bottle 750 ml\","
                 "\"quantity\":2,\"unit_price\":\"449.00\",\"total_amount\":\"898.00\"}",
                 order, prod);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "inventory_transactions", NULL, err,
                 "{\"inventory_id\":\"%s\",\"transaction_type\":\"sale\",\"quantity\":-2,"
                 "\"reference_type\":\"order\",\"reference_id\":\"%s\"}",
                 inv, order);
    if (rc == 0) rc = ob_demo_mkf(ctx, "suppliers", sup, err, "{\"name\":\"Pune Metalworks\",\"code\":\"PMW\"}");
    if (rc == 0) rc = ob_demo_mkf(ctx, "purchase_orders", po, err, "{\"supplier_id\":\"%s\",\"warehouse_id\":\"%s\"}", sup, wh);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "purchase_order_items", NULL, err,
                 "{\"purchase_order_id\":\"%s\",\"product_id\":\"%s\",\"quantity_ordered\":100,\"unit_price\":\"210.00\"}",
                 po, prod);
    if (rc == 0) rc = ob_demo_mkf(ctx, "airlines", air, err, "{\"iata_code\":\"EK\",\"airline_name\":\"Emirates SkyCargo\"}");
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "flight_schedules", flight, err,
                 "{\"airline_id\":\"%s\",\"flight_number\":\"EK9901\",\"origin_airport\":\"BOM\","
                 "\"destination_airport\":\"DXB\",\"flight_date\":\"2026-12-20\",\"capacity_kg\":20000}",
                 air);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "shipments", shp, err,
                 "{\"customer_id\":\"%s\",\"shipment_type\":\"air_cargo\",\"awb_number\":\"176-12345675\","
                 "\"origin_airport\":\"BOM\",\"destination_airport\":\"DXB\","
                 "\"pieces\":4,\"weight_kg\":\"120.500\",\"commodity_description\":\"Machine parts\"}",
                 cus2);
    if (rc == 0) {
        char booking[64];
        snprintf(booking, sizeof booking, "{\"flight_schedule_id\":\"%s\"}", flight);
        rc = ob_demo_verb(ctx, "shipments", shp, "book", booking, err);
    }
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "tracking_events", NULL, err,
                 "{\"shipment_id\":\"%s\",\"event_code\":\"RCS\",\"event_description\":\"Received from shipper\","
                 "\"event_location\":\"BOM\",\"event_datetime\":\"2026-12-19T08:30:00Z\"}",
                 shp);
    /* the shop prices by weight at the rate in force */
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "metal_rates", NULL, err,
                 "{\"metal\":\"gold\",\"purity\":916,\"rate_per_gram\":\"6400.00\","
                 "\"effective_from\":\"2026-01-01T00:00:00Z\"}");
    if (rc == 0) rc = ob_demo_mkf(ctx, "invoices", invc, err, "{\"customer_id\":\"%s\",\"currency\":\"INR\"}", cus1);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "invoice_items", NULL, err,
                 "{\"invoice_id\":\"%s\",\"description\":\"22K gold chain\",\"metal_type\":\"gold\","
                 "\"purity\":\"22K\",\"gross_weight\":\"10.000\",\"net_weight\":\"10.000\","
                 "\"making_charges\":\"500.00\",\"tax_rate\":\"3.00\"}",
                 invc);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "payments", NULL, err,
                 "{\"customer_id\":\"%s\",\"invoice_id\":\"%s\",\"amount\":\"10000.00\",\"currency\":\"INR\","
                 "\"payment_method\":\"upi\"}",
                 cus1, invc);
    if (rc == 0) rc = ob_job_enqueue(ctx, "ledgers.check", NULL, 0, err);
    return rc;
}

/* The fulfilment loop (issue #14): a simulator courier whose scripted scans
 * deliver, and orders in every state: pending, confirmed (stock reserved),
 * shipped through the simulator, delivered (revenue written), cancelled,
 * processing, returned, rto (courier and return charges as expenses),
 * rto_delivered (restocked), and one shipped whose delivery failed, so the
 * NDR workbench has an open case. A couriers.track job is queued to pull the
 * scans. */
int ob_demo_verb(ob_ctx *ctx, const char *table, const char *id, const char *v, const char *json, ob_err *err)
{
    json_t *body = json_loads(json, 0, NULL);
    ob_row *out;
    int rc = ob_crud_action(ctx, ob_registry_find(table), id, v, body, &out, err);
    json_decref(body);
    return rc;
}

/* A courier's failed-delivery scan on the order's shipment, as a scan pulled
 * from the courier would be applied: the shipment's NDR case opens (its
 * rules run when the server's jobs do). */
static int failed_delivery(ob_ctx *ctx, const char *order, ob_err *err)
{
    ob_stmt *st;
    char shipment[37] = "";
    if (ob_db_prepare(ctx->db, "SELECT id FROM shipments WHERE order_id = ?", &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, order, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) snprintf(shipment, sizeof shipment, "%s", ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (!*shipment) return ob_err_set(err, OB_E_INTERNAL, "the demo order %s has no shipment", order);
    ob_courier_scan scan = {.code = "UD", .at = ctx->now, .location = "Pune",
                            .reason = "Customer not available at the door", .raw = "{\"code\":\"UD\"}"};
    bool added;
    return ob_courier_scan_apply(ctx, shipment, "simulator", &scan, &added, err);
}

static int fill_fulfilment(ob_ctx *ctx, const char *cus1, ob_err *err)
{
    static const char *const states[] = {"pending",  "confirmed", "shipped", "delivered", "cancelled",
                                         "processing", "returned", "rto",     "rto_delivered", "ndr"};
    /* the events after confirm and ship that bring each order to its state */
    static const char *const after[OB_ARRAY_LEN(states)][3] = {
        [3] = {"deliver"}, [4] = {"cancel"}, [5] = {"process"}, [6] = {"deliver", "return"},
        [7] = {"rto"},     [8] = {"rto", "rto_receive"},
    };
    char chan[37], prod[37], wh[37], inv[37], sim[37];
    int rc = ob_demo_mkf(ctx, "sales_channels", chan, err,
                 "{\"channel_type_code\":\"custom\",\"name\":\"Simulator shop\","
                 "\"settings\":{\"platform_fee_percent\":\"2.00\",\"payment_gateway_fee_percent\":\"1.80\"}}");
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "products", prod, err,
                 "{\"sku\":\"MUG-350\",\"name\":\"Enamel mug 350 ml\",\"cost_price\":\"120.00\"}");
    if (rc == 0) rc = ob_demo_mkf(ctx, "warehouses", wh, err, "{\"name\":\"Pune dispatch\",\"code\":\"PNQ1\"}");
    if (rc == 0) rc = ob_demo_mkf(ctx, "inventory", inv, err, "{\"product_id\":\"%s\",\"warehouse_id\":\"%s\"}", prod, wh);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "inventory_transactions", NULL, err,
                 "{\"inventory_id\":\"%s\",\"transaction_type\":\"purchase\",\"quantity\":25}", inv);
    if (rc == 0)
        rc = ob_demo_mkf(ctx, "courier_configs", sim, err,
                 "{\"courier_type_code\":\"simulator\",\"name\":\"Simulator courier\",\"settings\":{\"charge\":\"60.00\","
                 "\"scans\":[{\"code\":\"PU\",\"at\":\"2026-12-01T10:00:00Z\"},"
                 "{\"code\":\"IT\",\"at\":\"2026-12-02T08:00:00Z\"}]}}");
    for (size_t i = 0; rc == 0 && i < OB_ARRAY_LEN(states); i++) {
        char order[37];
        rc = ob_demo_mkf(ctx, "orders", order, err,
                 "{\"channel_id\":\"%s\",\"external_order_id\":\"SIM-%zu\",\"customer_id\":\"%s\","
                 "\"customer_name\":\"Ravi Menon\",\"shipping_address\":{\"line1\":\"4 FC Road\",\"city\":\"Pune\"},"
                 "\"subtotal\":\"500.00\",\"total_amount\":\"500.00\",\"payment_method\":\"upi\"}",
                 chan, i + 1, cus1);
        if (rc == 0)
            rc = ob_demo_mkf(ctx, "order_items", NULL, err,
                     "{\"order_id\":\"%s\",\"product_id\":\"%s\",\"sku\":\"MUG-350\",\"name\":\"Enamel mug 350 ml\","
                     "\"quantity\":2,\"unit_price\":\"250.00\",\"total_amount\":\"500.00\"}",
                     order, prod);
        if (rc == 0 && i >= 1) rc = ob_demo_verb(ctx, "orders", order, "confirm", "{}", err);
        if (rc == 0 && (i == 2 || i == 3 || i >= 6)) {
            char body[96];
            snprintf(body, sizeof body, "{\"courier_config_id\":\"%s\"}", sim);
            rc = ob_demo_verb(ctx, "orders", order, "ship", body, err);
        }
        for (size_t k = 0; rc == 0 && k < OB_ARRAY_LEN(after[i]) && after[i][k]; k++)
            rc = ob_demo_verb(ctx, "orders", order, after[i][k], "{}", err);
        if (rc == 0 && strcmp(states[i], "ndr") == 0) rc = failed_delivery(ctx, order, err);
    }
    if (rc == 0) rc = ob_job_enqueue(ctx, "couriers.track", NULL, 0, err);
    return rc;
}

/* The support desk and one example of every other system (acme, globex). */
static int fill_all(ob_ctx *ctx, ob_err *err)
{
    char billing[37], tech[37], cus1[37], cus2[37], doc[37], tmp[37];
    int rc = ob_demo_make(ctx, "categories",
                  "{\"name\":\"Billing\",\"description\":\"Invoices, payments and refunds\","
                  "\"response_sla_minutes\":30,\"resolution_sla_minutes\":240,\"priority_level\":4}",
                  billing, err);
    if (rc == 0)
        rc = ob_demo_make(ctx, "categories",
                  "{\"name\":\"Technical\",\"description\":\"Portal and integration problems\","
                  "\"response_sla_minutes\":60,\"resolution_sla_minutes\":480}",
                  tech, err);
    if (rc == 0)
        rc = ob_demo_make(ctx, "customers",
                  "{\"company_name\":\"Northwind Traders\",\"name\":\"Northwind\",\"email\":\"ops@northwind.test\","
                  "\"phone\":\"9876543210\",\"customer_tier\":\"PREMIUM\",\"credit_limit\":\"25000.00\","
                  "\"industry\":\"Retail\",\"city\":\"Mumbai\",\"country\":\"India\"}",
                  cus1, err);
    if (rc == 0)
        rc = ob_demo_make(ctx, "customers",
                  "{\"company_name\":\"Blue Harbor Freight\",\"name\":\"Blue Harbor\",\"email\":\"desk@blueharbor.test\","
                  "\"customer_tier\":\"standard\",\"credit_limit\":\"5000\",\"industry\":\"Logistics\"}",
                  cus2, err);
    if (rc == 0) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"customer_id\":\"%s\",\"contact_type\":\"primary\",\"first_name\":\"Nadia\","
                 "\"last_name\":\"Rao\",\"email\":\"nadia@northwind.test\",\"phone\":\"9123456780\",\"is_primary\":true}",
                 cus1);
        rc = ob_demo_make(ctx, "customer_contacts", body, NULL, err);
    }
    if (rc == 0)
        rc = ob_demo_make(ctx, "documents",
                  "{\"title\":\"How refunds work\",\"content\":\"Refunds are issued to the original payment method "
                  "within five working days of approval.\",\"is_public\":true}",
                  doc, err);
    if (rc == 0) {
        char body[256];
        snprintf(body, sizeof body, "{\"document_id\":\"%s\",\"category_id\":\"%s\"}", doc, billing);
        rc = ob_demo_make(ctx, "document_categories", body, NULL, err);
    }
    if (rc == 0)
        rc = ob_demo_make(ctx, "documents",
                  "{\"title\":\"Resetting an API key\",\"content\":\"Owners can rotate integration keys from "
                  "settings; the old key stops working at once.\",\"is_public\":false}",
                  tmp, err);
    const char *tickets[][4] = {
        {cus1, billing, "Invoice 1042 charged twice", "We were billed twice for invoice 1042 this month."},
        {cus2, tech, "Tracking page shows no events", "Shipment tracking has not updated since Monday."},
        {cus1, tech, "Cannot download the monthly report", "The export button returns an error."},
    };
    for (size_t i = 0; rc == 0 && i < OB_ARRAY_LEN(tickets); i++) {
        char body[512];
        snprintf(body, sizeof body, "{\"customer_id\":\"%s\",\"category_id\":\"%s\",\"title\":\"%s\",\"description\":\"%s\"}",
                 tickets[i][0], tickets[i][1], tickets[i][2], tickets[i][3]);
        rc = ob_demo_make(ctx, "tickets", body, NULL, err);
    }
    if (rc == 0) rc = fill_operations(ctx, cus1, cus2, err);
    if (rc == 0) rc = fill_fulfilment(ctx, cus1, err);
    return rc;
}

/* fn's records in one transaction of the tenant, as the system. */
static int fill(ob_store *s, const char *slug, int (*fn)(ob_ctx *ctx, ob_err *err), ob_err *err)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_conn *c;
    ob_tenant_info *info;
    int rc = ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err);
    if (rc == 0) {
        rc = ob_tenant_lookup(c, &a, slug, &info, err);
        ob_db_release(c);
    }
    if (rc == 0) rc = ob_db_acquire(s, slug, info->id, OB_DB_WRITE, &c, err);
    if (rc != 0) {
        ob_arena_release(&a);
        return -1;
    }
    ob_ctx ctx;
    ob_ctx_system(&ctx, &a, s, c, info);
    rc = ob_db_begin(c, err);
    if (rc == 0) rc = fn(&ctx, err);
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    ob_arena_release(&a);
    return rc;
}

int ob_cmd_demo(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&demo_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    ob_store *s;
    if (ob_cli_store(a.val[0], true, &s)) return 1;
    ob_err err;
    if (ob_migrate_all(s, false, NULL, &err) != 0) {
        ob_store_close(s);
        return ob_cli_fail(&err);
    }
    if (ob_db_tenant_exists(s, "acme")) {
        printf("demo data exists already in %s\n", a.val[0]);
        ob_store_close(s);
        return 0;
    }
    ob_tenant_new t1 = {.slug = "acme", .name = "Acme Logistics", .plan_code = "business",
                        .owner_email = "owner@acme.test", .owner_password = "acme-owner-pass",
                        .owner_name = "Olivia Owner", .ticket_limit = -1, .agent_limit = -1};
    ob_tenant_new t2 = {.slug = "globex", .name = "Globex Retail", .plan_code = "starter",
                        .owner_email = "owner@globex.test", .owner_password = "globex-owner-pass",
                        .owner_name = "Gus Owner", .ticket_limit = -1, .agent_limit = -1};
    ob_tenant_new t3 = {.slug = "skycargo", .name = "SkyCargo Portal", .plan_code = "business",
                        .owner_email = "owner@skycargo.test", .owner_password = "skycargo-owner-pass",
                        .owner_name = "Sam Owner", .ticket_limit = -1, .agent_limit = -1};
    ob_tenant_new t4 = {.slug = "goldline", .name = "Goldline Jewellers", .plan_code = "business",
                        .owner_email = "owner@goldline.test", .owner_password = "goldline-owner-pass",
                        .owner_name = "Gita Owner", .ticket_limit = -1, .agent_limit = -1};
    rc = ob_tenant_create(s, &t1, &err) || ob_tenant_create(s, &t2, &err) || ob_tenant_create(s, &t3, &err) ||
         ob_tenant_create(s, &t4, &err);
    for (size_t i = 0; rc == 0 && i < OB_ARRAY_LEN(users); i++) {
        char gen[32];
        rc = ob_tenant_add_user(s, users[i].tenant, users[i].email, users[i].name, users[i].role, users[i].password,
                                gen, &err);
    }
    /* goldline's piece pictures go to the file store under the data directory */
    ob_file_store files;
    char *spool_dir = NULL;
    if (rc == 0 && ob_file_store_local(&files, a.val[0], &spool_dir, &err) == 0) ob_files_use(&files);
    else ob_err_clear(&err);
    if (rc == 0)
        rc = fill(s, "acme", fill_all, &err) || fill(s, "globex", fill_all, &err) ||
             fill(s, "skycargo", ob_demo_skycargo, &err) || fill(s, "goldline", ob_demo_goldline, &err);
    ob_store_close(s);
    free(spool_dir);
    if (rc) return ob_cli_fail(&err);
    printf("demo tenants created in %s\n", a.val[0]);
    return 0;
}
