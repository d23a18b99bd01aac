/* sales.c - selling: 001's connected sales channels, their product
 * mappings, and the unified orders with items and status history. */
#include "domain/domains.h"
#include "domain/commerce/commerce.h"
#include "base/banned.h"

OB_ENUM(channel_status, "channel_status", "active", "disconnected", "error", "syncing");
OB_ENUM(order_status, "order_status", "pending", "confirmed", "processing", "shipped", "delivered", "cancelled",
        "returned", "rto", "rto_delivered");
OB_ENUM(payment_status, "order_payment_status", "pending", "paid", "cod", "refunded", "failed");
OB_ENUM(fulfillment_status, "fulfillment_status", "unfulfilled", "partial", "fulfilled");
OB_ENUM(payment_method, "order_payment_method", "cod", "prepaid", "card", "upi", "wallet", "netbanking");

static const ob_column channel_cols[] = {
    {"channel_type_code", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_LOWER | OB_INDEXED | OB_IMMUTABLE,
     .doc = "code of a channel_types row of the platform (shopify, amazon, ...)"},
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"credentials", OB_F_JSON, .flags = OB_REQUIRED | OB_SECRET | OB_SERVER | OB_ENCRYPTED, .dflt = "{}",
     .doc = "API credentials; set by the connect action, never shown"},
    {"settings", OB_F_JSON, .dflt = "{}"},
    {"status", OB_F_ENUM, .enm = &channel_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "active",
     .doc = "active: connected and syncing on schedule; disconnected: credentials removed; error: the last "
            "sync failed (see sync_error); syncing: a sync is running"},
    {"last_sync_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"sync_error", OB_F_TEXT, .max = 100000, .flags = OB_SERVER},
    {"webhook_url", OB_F_TEXT, .max = 500},
    {"webhook_secret", OB_F_TEXT, .max = 255, .flags = OB_SECRET | OB_SERVER | OB_ENCRYPTED,
     .doc = "verifies the channel's webhooks; set by the connect action, never shown"},
};
static const ob_column channel_connect_input[] = {
    {"credentials", OB_F_JSON, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SECRET, .min = 1,
     .doc = "the channel's API credentials, an object; stored, never shown"},
    {"webhook_secret", OB_F_TEXT, .max = 255, .flags = OB_SECRET, .doc = "the secret inbound webhooks are signed with"},
};
static const ob_action channel_actions[] = {
    {"connect", "connect", ob_channel_connect, "store credentials and mark the channel active",
     OB_INPUT(channel_connect_input)},
    {"disconnect", "disconnect", ob_channel_disconnect, "remove the credentials and mark the channel disconnected"},
};
const ob_resource ob_res_sales_channels = {
    .table = "sales_channels", .doc = "the tenant's connected sales channels (001)",
    OB_COLS(channel_cols), .perm = "channels", .perm_create = "channels.connect",
    .perm_edit = "channels.configure", .perm_delete = "channels.disconnect", OB_ACTIONS(channel_actions),
    .default_sort = "name",
};

static const ob_column order_cols[] = {
    {"order_number", OB_F_TEXT, .number_prefix = "ORD", .max = 100, .flags = OB_REQUIRED | OB_GENERATED | OB_UNIQUE | OB_SORT | OB_SEARCH,
     .doc = "generated (ORD-000001) when not given"},
    {"channel_id", OB_F_REF, .ref = "sales_channels", .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"external_order_id", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_IMMUTABLE | OB_SEARCH},
    {"external_order_number", OB_F_TEXT, .max = 255, .flags = OB_SEARCH},
    {"customer_id", OB_F_REF, .ref = "customers", .flags = OB_INDEXED,
     .doc = "the business customer, when the buyer is one (ties 001 orders to 000/003 customers)"},
    {"status", OB_F_ENUM, .enm = &order_status, .flags = OB_REQUIRED | OB_SERVER | OB_SORT, .dflt = "pending",
     .doc = "pending: received, not yet confirmed; confirmed: accepted for fulfilment; processing: being "
            "picked and packed; shipped: handed to a courier; delivered: received by the buyer; cancelled: "
            "will not be fulfilled; returned: came back after shipping; rto: the courier is returning it to origin; "
            "rto_delivered: back at the origin, units restocked. Changed by the events confirm (reserves "
            "the lines' stock), process, deliver, return, rto, rto_receive (restocks), cancel (releases it) and the "
            "ship action; a courier's scans send deliver, rto and rto_receive"},
    {"payment_status", OB_F_ENUM, .enm = &payment_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "pending",
     .doc = "pending, paid, cod (cash on delivery, collected by the courier), refunded, failed"},
    {"fulfillment_status", OB_F_ENUM, .enm = &fulfillment_status, .flags = OB_REQUIRED, .dflt = "unfulfilled",
     .doc = "set by the ship action from the sent quantities: partial while lines have units left, else fulfilled"},
    {"customer_name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH | OB_PERSONAL},
    {"customer_email", OB_F_TEXT, .max = 255, .flags = OB_LOWER | OB_MASKED | OB_PERSONAL, .mask = OB_MASK_EMAIL},
    {"customer_phone", OB_F_TEXT, .max = 20, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_PHONE},
    {"shipping_address", OB_F_JSON, .flags = OB_REQUIRED | OB_MASKED | OB_PERSONAL, .mask = OB_MASK_ADDRESS,
     .doc = "{\"name\", \"phone\", \"line1\", \"line2\", \"city\", \"state\", \"postal_code\", \"country\"}"},
    {"billing_address", OB_F_JSON, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_ADDRESS},
    {"subtotal", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 0,
     .max = OB_MONEY_MAX},
    {"discount_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX,
     .dflt = "0"},
    {"tax_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX,
     .dflt = "0"},
    {"shipping_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX,
     .dflt = "0"},
    {"total_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX | OB_SORT, .min = 0,
     .max = OB_MONEY_MAX},
    {"currency", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED, .dflt = "INR", .doc = "ISO 4217"},
    {"payment_method", OB_F_ENUM, .enm = &payment_method},
    {"payment_gateway", OB_F_TEXT, .max = 50},
    {"payment_reference", OB_F_TEXT, .max = 255},
    {"order_date", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SORT, .dflt = "now",
     .doc = "when the buyer placed it (on the channel); now when not given"},
    {"confirmed_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "confirmed"},
    {"shipped_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "shipped"},
    {"delivered_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "delivered"},
    {"cancelled_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "cancelled"},
    {"notes", OB_F_TEXT, .max = 100000},
    {"tags", OB_F_JSON, .flags = OB_STAFF, .dflt = "[]"},
    {"metadata", OB_F_JSON, .flags = OB_STAFF, .dflt = "{}"},
};
static const ob_index order_idx[] = {
    {"channel_id,external_order_id", .unique = true},
    {"status"},
    {"-order_date"},
    {"customer_phone"},
};
/* ship is an action that is also a transition (it takes a declared input,
 * which an event cannot): the engine checks and sets the state, the action
 * (fulfil.c) sends the lines and books the courier. */
OB_ACTION_FN(ob_order_ship);
static const ob_column ship_input[] = {
    {"courier_config_id", OB_F_REF, .ref = "courier_configs",
     .doc = "the courier to book the parcel with; left out: shipped by hand, no shipment is booked"},
    {"items", OB_F_JSON,
     .doc = "[{\"order_item_id\", \"quantity\"}] to send part of the order; left out: every unit not yet sent"},
};
static const ob_action order_actions[] = {
    {"ship", "edit", ob_order_ship,
     "send lines of a confirmed or processing order (again while lines are left): their reserved units become sale "
     "entries, fulfillment_status follows the sent quantities, and with a courier_config_id the shipment and its "
     "items are booked through the courier's adapter (AWB, label, tracking link, charges); status shipped",
     OB_INPUT(ship_input), .from = "confirmed,processing,shipped", .to = "shipped"},
};
const ob_resource ob_res_orders = {
    .table = "orders", .doc = "unified orders from every sales channel (001)",
    OB_COLS(order_cols), OB_INDEXES(order_idx), .perm = "orders", .customer_scope = "customer_id",
    .fsm = &ob_order_fsm, .hooks = &ob_order_hooks, OB_ACTIONS(order_actions), .default_sort = "-order_date",
    .quota = &(const ob_quota){OB_LIMIT_ORDERS_MONTH, "orders"},
};

OB_ENUM(sync_status, "channel_sync_status", "synced", "pending", "error");

static const ob_column channel_product_cols[] = {
    {"product_id", OB_F_REF, .ref = "products", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"variant_id", OB_F_REF, .ref = "product_variants", .on_delete = OB_DEL_CASCADE},
    {"channel_id", OB_F_REF, .ref = "sales_channels", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"external_product_id", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED},
    {"external_variant_id", OB_F_TEXT, .max = 255},
    {"external_sku", OB_F_TEXT, .max = 255, .flags = OB_SEARCH},
    {"sync_status", OB_F_ENUM, .enm = &sync_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "synced",
     .doc = "synced: the channel has our data; pending: changed here, not yet pushed; error: the last push failed"},
    {"last_synced_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"metadata", OB_F_JSON, .dflt = "{}"},
};
static const ob_index channel_product_idx[] = {
    {"channel_id,external_product_id,external_variant_id", .unique = true},
};
const ob_resource ob_res_channel_products = {
    .table = "channel_products", .doc = "our products as listed on each sales channel (001)",
    OB_COLS(channel_product_cols), OB_INDEXES(channel_product_idx), .perm = "channels",
    .perm_create = "channels.configure", .perm_edit = "channels.configure", .perm_delete = "channels.configure",
};

static const ob_column order_item_cols[] = {
    {"order_id", OB_F_REF, .ref = "orders", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"product_id", OB_F_REF, .ref = "products", .doc = "null when the channel's product is not mapped"},
    {"variant_id", OB_F_REF, .ref = "product_variants"},
    {"external_product_id", OB_F_TEXT, .max = 255},
    {"external_variant_id", OB_F_TEXT, .max = 255},
    {"sku", OB_F_TEXT, .max = 100, .flags = OB_INDEXED},
    {"name", OB_F_TEXT, .max = 500, .flags = OB_REQUIRED | OB_SEARCH},
    {"quantity", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_MIN_EXCL | OB_HAS_MAX, .min = 0, .max = 1000000},
    {"unit_price", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 0,
     .max = OB_MONEY_MAX},
    {"discount_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX,
     .dflt = "0"},
    {"tax_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX,
     .dflt = "0"},
    {"total_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 0,
     .max = OB_MONEY_MAX},
    {"fulfilled_quantity", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "0"},
    {"metadata", OB_F_JSON, .flags = OB_STAFF, .dflt = "{}"},
};
static const ob_check order_item_checks[] = {
    {"order_item_fulfilled_le_quantity", "fulfilled_quantity", OB_CMP_LTE, "quantity"},
};
const ob_resource ob_res_order_items = {
    .table = "order_items", .doc = "lines of an order (001)",
    OB_COLS(order_item_cols), OB_CHECKS(order_item_checks), .perm = "orders",
    .customer_scope = "order_id.customer_id", .default_sort = "created_at",
};

static const ob_column history_cols[] = {
    {"order_id", OB_F_REF, .ref = "orders", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"status", OB_F_ENUM, .enm = &order_status, .flags = OB_REQUIRED, .doc = "the status the order entered"},
    {"notes", OB_F_TEXT, .max = 100000},
    {"created_by", OB_F_REF, .flags = OB_STAFF | OB_SERVER, .ref = "users", .on_delete = OB_DEL_SET_NULL, .stamp = OB_STAMP_ACTOR,
     .doc = "who changed it"},
};
static const ob_index history_idx[] = {{"order_id,created_at"}};
const ob_resource ob_res_order_status_history = {
    .table = "order_status_history",
    .doc = "every status an order entered, written by the server on each change (001)",
    OB_COLS(history_cols), OB_INDEXES(history_idx), .perm = "orders",
    .flags = OB_RES_APPEND_ONLY | OB_RES_READONLY, .customer_scope = "order_id.customer_id",
    .default_sort = "created_at",
};
