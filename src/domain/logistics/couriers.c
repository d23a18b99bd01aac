/* Couriers (001): the platform's list of supported courier services in the
 * control database, and each tenant's configured couriers. A tenant's
 * configuration names its courier type by code, as 001 does: the two live in
 * different databases, so there is no foreign key between them. */
#include <string.h>

#include "domain/domains.h"
#include "domain/logistics/courier.h"
#include "domain/logistics/courier_http.h"
#include "domain/logistics/logistics.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
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
static const ob_column courier_connect_input[] = {
    {"credentials", OB_F_JSON, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SECRET, .min = 1,
     .doc = "the courier account's API credentials, an object (docs/couriers.md lists each courier's keys); "
            "stored sealed, never shown"},
};

/* connect {credentials}: the only way a configuration's credentials are
 * written (the engine has checked they are a non-empty object); they are
 * read back only by the courier adapters (courier_http.c). */
static int courier_connect(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    (void)err;
    ob_row_set_text(ctx->arena, row, COURIER_CONFIGS_CREDENTIALS,
                    ob_row_text(ctx->input, COURIER_CONFIGS_CONNECT_IN_CREDENTIALS));
    return 0;
}

static const ob_action courier_config_actions[] = {
    {"connect", "configure", courier_connect, "store the courier account's API credentials (sealed, never shown)",
     OB_INPUT(courier_connect_input)},
    {"webhook", "configure", ob_courier_webhook,
     "give the courier its tracking webhook endpoint and a new signing secret (shown once)",
     OB_INPUT(courier_webhook_input)},
};
const ob_resource ob_res_courier_configs = {
    .table = "courier_configs", .doc = "the tenant's configured couriers (001)",
    OB_COLS(courier_config_cols), .perm = "couriers", .default_sort = "name", OB_ACTIONS(courier_config_actions),
};

/* The adapters opsbase has, by courier type code: the simulator and the
 * four couriers it speaks HTTP to. */
const ob_courier_adapter *ob_courier_adapter_for(const char *type_code)
{
    static const ob_courier_adapter *const all[] = {&ob_courier_simulator, &ob_courier_shiprocket,
                                                    &ob_courier_delhivery, &ob_courier_bluedart, &ob_courier_dtdc};
    for (size_t i = 0; type_code && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->type_code, type_code) == 0) return all[i];
    return NULL;
}

/* The courier of a courier shipment that is booked but not yet collected,
 * with its config (settings parsed: the caller decrefs cfg->settings). */
static int booked(ob_ctx *ctx, const ob_row *sh, const ob_courier_adapter **ad, ob_courier_config *cfg, ob_err *err)
{
    const char *type = ob_row_text(sh, SHIPMENTS_SHIPMENT_TYPE), *status = ob_row_text(sh, SHIPMENTS_STATUS);
    const char *cfg_id = ob_row_text(sh, SHIPMENTS_COURIER_CONFIG_ID), *awb = ob_row_text(sh, SHIPMENTS_AWB_NUMBER);
    if (!type || strcmp(type, "courier") != 0 || !cfg_id || !awb)
        return ob_err_set(err, OB_E_BAD_STATE, "only a shipment booked with a courier has a courier booking");
    if (strcmp(status, "created") != 0 && strcmp(status, "manifested") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "the courier has the parcel already (status %s)", status);
    ob_row *c;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_COURIER_CONFIGS), cfg_id, &c, err) != 0) return -1;
    const char *code = ob_row_text(c, COURIER_CONFIGS_COURIER_TYPE_CODE);
    if (!(*ad = ob_courier_adapter_for(code)))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "opsbase has no adapter for courier type %.50s", code);
    const char *settings = ob_row_text(c, COURIER_CONFIGS_SETTINGS);
    *cfg = (ob_courier_config){cfg_id, code, settings ? json_loads(settings, 0, NULL) : NULL};
    return 0;
}

/* courier_cancel: the courier first; the shipment is cancelled only when it
 * agreed. The order is left as it is (as when the courier reports a
 * cancellation): shipping it again is the operator's call. */
OB_ACTION_FN(ob_shipment_courier_cancel)
{
    const ob_courier_adapter *ad;
    ob_courier_config cfg;
    if (booked(ctx, old, &ad, &cfg, err) != 0) return -1;
    int rc = ad->cancel(ctx, &cfg, ob_row_text(old, SHIPMENTS_AWB_NUMBER), err);
    json_decref((json_t *)cfg.settings);
    if (rc != 0) return -1;
    ob_row_set_text(ctx->arena, row, SHIPMENTS_STATUS, "cancelled");
    return 0;
}

/* courier_pickup {date}: the courier is asked; nothing is stored but the
 * audit of the action (the courier's pickup scan will follow). */
OB_ACTION_FN(ob_shipment_courier_pickup)
{
    (void)row;
    const ob_courier_adapter *ad;
    ob_courier_config cfg;
    if (booked(ctx, old, &ad, &cfg, err) != 0) return -1;
    int rc = ad->pickup(ctx, &cfg, ob_row_text(old, SHIPMENTS_AWB_NUMBER),
                        ob_row_text(ctx->input, SHIPMENTS_COURIER_PICKUP_IN_DATE), err);
    json_decref((json_t *)cfg.settings);
    return rc;
}
