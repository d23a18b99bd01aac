/* seeds.c - the rows 000 and 001 insert: the standard logistics services
 * and the service-request SLA schedule in every tenant, and the supported
 * courier types of the platform. Both run on every provisioning and
 * migration, so they insert only what is missing. */
#include "base/base.h"
#include "domain/logistics/logistics.h"
#include "jobs/jobs.h"
#include "schema/sql.h"
#include "base/banned.h"


int ob_seed_logistics(ob_ctx *ctx, ob_err *err)
{
    static const struct {
        const char *code, *name, *description, *category;
        int sla_hours;
        bool requires_approval;
    } services[] = {
        {"AIR_FREIGHT", "Air Freight Service", "Air cargo transportation", "FREIGHT", 48, false},
        {"CUSTOMS", "Customs Clearance", "Import/Export customs processing", "CUSTOMS", 72, true},
        {"WAREHOUSE", "Warehousing Service", "Cargo storage and handling", "WAREHOUSE", 24, false},
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(services); i++) {
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(services[i].code),
                        ob_v_text(services[i].name), ob_v_text(services[i].description),
                        ob_v_text(services[i].category), ob_v_dec(0, 2), ob_v_text("USD"),
                        ob_v_int(services[i].sla_hours), ob_v_bool(services[i].requires_approval),
                        ob_v_text("active")};
        if (ob_sql_run(ctx->db,
                 "INSERT INTO service_types (id, created_at, updated_at, version, service_code, service_name, "
                 "service_description, service_category, base_price, currency, sla_hours, requires_approval, status) "
                 "VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (service_code) DO NOTHING",
                 v, (int)OB_ARRAY_LEN(v), err) != 0)
            return -1;
    }
    /* the SLA of open requests is watched from the start, not once staff
     * remember to schedule it: the job marks each breach once */
    if (ob_ndr_seed_templates(ctx, err) != 0) return -1;
    return ob_schedule_seed(ctx, "check service request SLAs", "*/5 * * * *", "services.sla_check", err);
}

int ob_seed_couriers(ob_ctx *ctx, ob_err *err)
{
    static const struct {
        const char *name, *code;
        bool is_default;
        const char *config_schema;
    } couriers[] = {
        {"Shiprocket", "shiprocket", true,
         "{\"type\":\"object\",\"required\":[\"email\",\"password\"],\"properties\":{\"email\":{\"type\":\"string\"},"
         "\"password\":{\"type\":\"string\"}}}"},
        {"Delhivery", "delhivery", false, NULL},
        {"BlueDart", "bluedart", false, NULL},
        {"DTDC", "dtdc", false, NULL},
        {"Custom", "custom", false, NULL},
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(couriers); i++) {
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(couriers[i].name), ob_v_text(couriers[i].code),
                        ob_v_bool(true), ob_v_bool(couriers[i].is_default), ob_v_text(couriers[i].config_schema)};
        if (ob_sql_run(ctx->db,
                 "INSERT INTO courier_types (id, created_at, name, code, is_active, is_default, config_schema) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING",
                 v, (int)OB_ARRAY_LEN(v), err) != 0)
            return -1;
    }
    return 0;
}
