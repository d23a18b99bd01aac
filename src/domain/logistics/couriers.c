/* Couriers (001): the platform's list of supported courier services in the
 * control database, and each tenant's configured couriers. A tenant's
 * configuration names its courier type by code, as 001 does: the two live in
 * different databases, so there is no foreign key between them. */
#include "domain/domains.h"
#include "domain/logistics/courier.h"
#include "domain/logistics/logistics.h"
#include "base/banned.h"

static const ob_column courier_type_cols[] = {
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED},
    {"code", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_UNIQUE | OB_LOWER | OB_SORT,
     .doc = "shiprocket, delhivery, bluedart, dtdc, custom"},
    {"logo_url", OB_F_TEXT, .max = 500},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"is_default", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"config_schema", OB_F_JSON, .doc = "JSON Schema of the credentials a configuration needs"},
};
const ob_resource ob_res_courier_types = {
    .table = "courier_types", .doc = "courier services the platform supports (001)",
    OB_COLS(courier_type_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL,
    .flags = OB_RES_NO_API | OB_RES_APPEND_ONLY,
};

static const ob_column courier_config_cols[] = {
    {"courier_type_code", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_LOWER | OB_INDEXED,
     .doc = "code of a courier_types row of the platform"},
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"credentials", OB_F_JSON, .flags = OB_REQUIRED | OB_SECRET | OB_SERVER | OB_ENCRYPTED, .dflt = "{}",
     .doc = "encrypted at the application level (001); never returned"},
    {"settings", OB_F_JSON, .dflt = "{}"},
    {"is_default", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"webhook_url", OB_F_TEXT, .max = 500, .flags = OB_SERVER, .since = 7,
     .doc = "where the courier posts its scans (POST /api/v1/hooks/courier/{tenant}/{id}); set by the webhook action"},
    {"webhook_secret", OB_F_TEXT, .max = 255, .flags = OB_SECRET | OB_SERVER | OB_ENCRYPTED, .since = 7,
     .doc = "verifies the courier's tracking webhooks; set by the webhook action, never shown"},
};
static const ob_column courier_webhook_input[] = {
    {"webhook_secret", OB_F_TEXT, .max = 255, .flags = OB_SECRET,
     .doc = "the secret the courier signs with, when it has one; else one is made"},
};
static const ob_action courier_config_actions[] = {
    {"webhook", "configure", ob_courier_webhook,
     "give the courier its tracking webhook endpoint and a new signing secret (shown once)",
     OB_INPUT(courier_webhook_input)},
};
const ob_resource ob_res_courier_configs = {
    .table = "courier_configs", .doc = "the tenant's configured couriers (001)",
    OB_COLS(courier_config_cols), .perm = "couriers", .default_sort = "name", OB_ACTIONS(courier_config_actions),
};
