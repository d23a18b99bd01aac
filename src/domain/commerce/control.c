/* control.c - the platform's list of sales channel types and which plans
 * may connect them (001, control database), and its seed rows. */
#include "base/base.h"
#include "domain/domains.h"
#include "domain/commerce/commerce.h"
#include "domain/seeds.h"
#include "base/banned.h"

static const ob_column channel_type_cols[] = {
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED},
    {"code", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_UNIQUE | OB_LOWER,
     .doc = "what sales_channels.channel_type_code holds"},
    {"logo_url", OB_F_TEXT, .max = 500},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"config_schema", OB_F_JSON, .doc = "JSON Schema of the credentials a channel of this type needs"},
};
const ob_resource ob_res_channel_types = {
    .table = "channel_types", .doc = "supported sales channel types (001)",
    OB_COLS(channel_type_cols), .perm = "platform", .scope = OB_SCOPE_CONTROL,
    .flags = OB_RES_NO_API | OB_RES_APPEND_ONLY,
};

static const ob_column plan_channel_cols[] = {
    {"plan_id", OB_F_REF, .ref = "plans", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"channel_type_id", OB_F_REF, .ref = "channel_types", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"max_connections", OB_F_INT, .flags = OB_HAS_MIN, .min = 0, .dflt = "1",
     .doc = "channels of this type a tenant on the plan may connect"},
};
static const ob_index plan_channel_idx[] = {{"plan_id,channel_type_id", .unique = true}};
const ob_resource ob_res_plan_channels = {
    .table = "plan_channels", .doc = "which channel types each plan may connect (001)",
    OB_COLS(plan_channel_cols), OB_INDEXES(plan_channel_idx), .perm = "platform", .scope = OB_SCOPE_CONTROL,
    .flags = OB_RES_NO_API | OB_RES_APPEND_ONLY,
};

/* 001's seed rows; config_schema is the credentials form of the channel. */
static const char *const channel_types[][4] = {
    {"Shopify", "shopify", "/images/channels/shopify.svg",
     "{\"type\":\"object\",\"required\":[\"shop_domain\",\"access_token\"],\"properties\":{"
     "\"shop_domain\":{\"type\":\"string\",\"description\":\"Your Shopify store domain\"},"
     "\"access_token\":{\"type\":\"string\",\"description\":\"API access token\"},"
     "\"api_version\":{\"type\":\"string\",\"default\":\"2024-01\"}}}"},
    {"Amazon", "amazon", "/images/channels/amazon.svg",
     "{\"type\":\"object\",\"required\":[\"seller_id\",\"mws_auth_token\",\"marketplace_id\"],\"properties\":{"
     "\"seller_id\":{\"type\":\"string\"},\"mws_auth_token\":{\"type\":\"string\"},"
     "\"marketplace_id\":{\"type\":\"string\"},"
     "\"region\":{\"type\":\"string\",\"enum\":[\"IN\",\"US\",\"EU\"]}}}"},
    {"Flipkart", "flipkart", "/images/channels/flipkart.svg", NULL},
    {"Meesho", "meesho", "/images/channels/meesho.svg", NULL},
    {"WooCommerce", "woocommerce", "/images/channels/woocommerce.svg", NULL},
};

int ob_seed_commerce_control(ob_ctx *ctx, ob_err *err)
{
    for (size_t i = 0; i < OB_ARRAY_LEN(channel_types); i++) {
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(channel_types[i][0]),
                        ob_v_text(channel_types[i][1]), ob_v_text(channel_types[i][2]), ob_v_bool(true),
                        ob_v_text(channel_types[i][3])};
        ob_stmt *st;
        if (ob_db_prepare(ctx->db,
                          "INSERT INTO channel_types (id, created_at, name, code, logo_url, is_active, config_schema) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING",
                          &st, err) != 0)
            return -1;
        int rc = 0;
        for (int k = 0; rc == 0 && k < (int)OB_ARRAY_LEN(v); k++) rc = ob_stmt_bind(st, k + 1, &v[k], err);
        if (rc == 0) rc = ob_stmt_step(st, err) < 0 ? -1 : 0;
        ob_stmt_done(st);
        if (rc != 0) return -1;
    }
    return 0;
}
