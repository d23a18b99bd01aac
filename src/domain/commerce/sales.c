/* sales.c - selling: 001's connected sales channels, their product
 * mappings, and the unified orders with items and status history. */
#include "domain/domains.h"
#include "domain/commerce/commerce.h"
#include "base/banned.h"

OB_ENUM(channel_status, "channel_status", "active", "disconnected", "error", "syncing");
OB_ENUM(order_status, "order_status", "pending", "confirmed", "processing", "shipped", "delivered", "cancelled",
        "returned");
OB_ENUM(payment_status, "order_payment_status", "pending", "paid", "cod", "refunded", "failed");
OB_ENUM(fulfillment_status, "fulfillment_status", "unfulfilled", "partial", "fulfilled");
OB_ENUM(payment_method, "order_payment_method", "cod", "prepaid", "card", "upi", "wallet", "netbanking");

static const ob_column channel_cols[] = {
    {"channel_type_code", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_LOWER | OB_INDEXED | OB_IMMUTABLE,
     .doc = "code of a channel_types row of the platform (shopify, amazon, ...)"},
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"credentials", OB_F_JSON, .flags = OB_REQUIRED | OB_SECRET | OB_SERVER, .dflt = "{}",
     .doc = "API credentials; set by the connect action, never shown"},
    {"settings", OB_F_JSON, .dflt = "{}"},
    {"status", OB_F_ENUM, .enm = &channel_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "active",
     .doc = "active: connected and syncing on schedule; disconnected: credentials removed; error: the last "
            "sync failed (see sync_error); syncing: a sync is running"},
    {"last_sync_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"sync_error", OB_F_TEXT, .max = 100000, .flags = OB_SERVER},
    {"webhook_url", OB_F_TEXT, .max = 500},
    {"webhook_secret", OB_F_TEXT, .max = 255, .flags = OB_SECRET | OB_SERVER,
     .doc = "verifies the channel's webhooks; set by the connect action, never shown"},
};
const ob_resource ob_res_sales_channels = {
    .table = "sales_channels", .doc = "the tenant's connected sales channels (001)",
    OB_COLS(channel_cols), .perm = "channels", .default_sort = "name",
};

static const ob_column order_cols[] = {
    {"order_number", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_GENERATED | OB_UNIQUE | OB_SORT | OB_SEARCH,
     .doc = "generated (ORD-000001) when not given"},
    {"channel_id", OB_F_REF, .ref = "sales_channels", .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"external_order_id", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_IMMUTABLE | OB_SEARCH},
    {"external_order_number", OB_F_TEXT, .max = 255, .flags = OB_SEARCH},
    {"customer_id", OB_F_REF, .ref = "customers", .flags = OB_INDEXED,
     .doc = "the business customer, when the buyer is one (ties 001 orders to 000/003 customers)"},
    {"status", OB_F_ENUM, .enm = &order_status, .flags = OB_REQUIRED | OB_SERVER | OB_SORT, .dflt = "pending",
     .doc = "pending: received, not yet confirmed; confirmed: accepted for fulfilment; processing: being "
            "picked and packed; shipped: handed to a courier; delivered: received by the buyer; cancelled: "
            "will not be fulfilled; returned: came back after shipping. Changed by the events confirm, process, "
            "ship, deliver, return and the cancel action"},
    {"payment_status", OB_F_ENUM, .enm = &payment_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "pending",
     .doc = "pending, paid, cod (cash on delivery, collected by the courier), refunded, failed"},
    {"fulfillment_status", OB_F_ENUM, .enm = &fulfillment_status, .flags = OB_REQUIRED, .dflt = "unfulfilled"},
    {"customer_name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"customer_email", OB_F_TEXT, .max = 255, .flags = OB_LOWER | OB_MASKED, .mask = OB_MASK_EMAIL},
    {"customer_phone", OB_F_TEXT, .max = 20, .flags = OB_MASKED, .mask = OB_MASK_PHONE},
    {"shipping_address", OB_F_JSON, .flags = OB_REQUIRED | OB_MASKED, .mask = OB_MASK_ADDRESS,
     .doc = "{\"name\", \"phone\", \"line1\", \"line2\", \"city\", \"state\", \"postal_code\", \"country\"}"},
    {"billing_address", OB_F_JSON, .flags = OB_MASKED, .mask = OB_MASK_ADDRESS},
    {"subtotal", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0},
    {"discount_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN, .min = 0, .dflt = "0"},
    {"tax_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN, .min = 0, .dflt = "0"},
    {"shipping_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN, .min = 0, .dflt = "0"},
    {"total_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SORT, .min = 0},
    {"currency", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED, .dflt = "INR", .doc = "ISO 4217"},
    {"payment_method", OB_F_ENUM, .enm = &payment_method},
    {"payment_gateway", OB_F_TEXT, .max = 50},
    {"payment_reference", OB_F_TEXT, .max = 255},
    {"order_date", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SORT, .dflt = "now",
     .doc = "when the buyer placed it (on the channel); now when not given"},
    {"confirmed_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"shipped_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"delivered_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"cancelled_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"notes", OB_F_TEXT, .max = 100000},
    {"tags", OB_F_JSON, .dflt = "[]"},
    {"metadata", OB_F_JSON, .dflt = "{}"},
};
static const ob_index order_idx[] = {
    {"channel_id,external_order_id", .unique = true},
    {"status"},
    {"-order_date"},
    {"customer_phone"},
};
const ob_resource ob_res_orders = {
    .table = "orders", .doc = "unified orders from every sales channel (001)",
    OB_COLS(order_cols), OB_INDEXES(order_idx), .perm = "orders", .customer_scope = "customer_id",
    .hooks = &ob_order_hooks, .default_sort = "-order_date",
};
