/* stock.c - where stock is and how it moves: 004's warehouses, the merged
 * inventory (001 per product/variant/location, 004 per warehouse/product),
 * the merged ledger (001 stock_movements + 004 inventory_transactions) and
 * 003's reorder suggestions. */
#include "domain/domains.h"
#include "domain/commerce/commerce.h"
#include "base/banned.h"

static const ob_column warehouse_cols[] = {
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"code", OB_F_TEXT, .max = 50, .flags = OB_UNIQUE | OB_SORT, .doc = "short code, unique in the tenant"},
    {"manager_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .doc = "the user who runs it (004)"},
    {"address", OB_F_TEXT, .max = 2000},
    {"city", OB_F_TEXT, .max = 100, .flags = OB_SORT},
    {"state", OB_F_TEXT, .max = 100},
    {"postal_code", OB_F_TEXT, .max = 20},
    {"country", OB_F_TEXT, .max = 2, .doc = "ISO 3166-1 alpha-2"},
    {"latitude", OB_F_REAL, .min = -90, .max = 90, .flags = OB_HAS_MIN | OB_HAS_MAX},
    {"longitude", OB_F_REAL, .min = -180, .max = 180, .flags = OB_HAS_MIN | OB_HAS_MAX},
    {"capacity", OB_F_INT, .flags = OB_HAS_MIN, .min = 0, .doc = "storage capacity in units (004)"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
const ob_resource ob_res_warehouses = {
    .table = "warehouses", .doc = "warehouse locations and capacity (004)",
    OB_COLS(warehouse_cols), .perm = "inventory", .default_sort = "name",
};

static const ob_column inventory_cols[] = {
    {"product_id", OB_F_REF, .ref = "products", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"variant_id", OB_F_REF, .ref = "product_variants", .on_delete = OB_DEL_CASCADE, .flags = OB_IMMUTABLE,
     .doc = "the variant stocked, when the product has variants (001)"},
    {"warehouse_id", OB_F_REF, .ref = "warehouses", .flags = OB_IMMUTABLE,
     .doc = "the warehouse holding the stock (004); null for stock known only by location text (001)"},
    {"warehouse_location", OB_F_TEXT, .max = 255, .flags = OB_IMMUTABLE,
     .doc = "free-text location or bin (001)"},
    {"quantity_on_hand", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SERVER, .min = 0, .dflt = "0",
     .doc = "units physically present: moved only by inventory_transactions entries"},
    {"quantity_reserved", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SERVER, .min = 0, .dflt = "0",
     .doc = "units promised to open orders (001 reserved_quantity): moved only by reserve and release entries"},
    {"quantity_available", OB_F_INT, .flags = OB_SERVER | OB_SORT,
     .gen = "\"quantity_on_hand\" - \"quantity_reserved\"",
     .doc = "on hand minus reserved (004 generated column; 001 available_quantity)"},
    {"incoming_quantity", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SERVER, .min = 0, .dflt = "0",
     .doc = "units in transit to this row on dispatched transfers (001): moved only by in_transit, transfer_in "
            "and variance entries"},
    {"reorder_point", OB_F_INT, .flags = OB_HAS_MIN, .min = 0, .doc = "reorder when available falls to this"},
    {"reorder_quantity", OB_F_INT, .flags = OB_HAS_MIN, .min = 0},
    {"last_counted_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .doc = "set by the count action"},
};
static const ob_index inventory_idx[] = {
    {"product_id,variant_id,warehouse_location", .unique = true},
    {"product_id,warehouse_location", .unique = true, .where = "variant_id IS NULL"},
    {"warehouse_id,product_id", .unique = true, .where = "variant_id IS NULL"},
    {"warehouse_id,product_id,variant_id", .unique = true},
    {"warehouse_id,product_id"},
};
static const ob_check inventory_checks[] = {
    {"chk_inventory_reserved_on_hand", "quantity_reserved", OB_CMP_LTE, "quantity_on_hand"},
};
OB_ENUM(ref_type, "inventory_reference_type", "order", "purchase_order", "adjustment", "return_order", "shipment",
        "invoice");

static const ob_column adjust_input[] = {
    {"quantity", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = -1000000000, .max = 1000000000,
     .doc = "signed units: positive adds stock, negative removes it; not 0"},
    {"reason", OB_F_TEXT, .max = 1000, .flags = OB_REQUIRED, .doc = "why (kept as the entry's notes)"},
};
static const ob_column count_input[] = {
    {"counted", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 1000000000,
     .doc = "units found on the shelf"},
    {"reason", OB_F_TEXT, .max = 1000},
};
static const ob_column reserve_input[] = {
    {"quantity", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_MIN_EXCL | OB_HAS_MAX, .min = 0,
     .max = 1000000000, .doc = "units, above 0"},
    {"reference_type", OB_F_ENUM, .enm = &ref_type, .doc = "what the units are held for (with reference_id)"},
    {"reference_id", OB_F_TEXT, .max = 36, .flags = OB_LOWER},
};
static const ob_action inventory_actions[] = {
    {"adjust", "adjust", ob_inventory_adjust, "post an adjustment entry of a signed quantity",
     OB_INPUT(adjust_input)},
    {"count", "adjust", ob_inventory_count,
     "post the difference between the counted and the recorded stock and stamp last_counted_at",
     OB_INPUT(count_input)},
    {"reserve", "reserve", ob_inventory_reserve, "hold available units for an order (a reserve entry)",
     OB_INPUT(reserve_input)},
    {"release", "reserve", ob_inventory_release, "give held units back (a release entry)", OB_INPUT(reserve_input)},
};
const ob_resource ob_res_inventory = {
    .table = "inventory", .doc = "stock levels per product or variant, per warehouse or location (001 + 004)",
    OB_COLS(inventory_cols), OB_INDEXES(inventory_idx), OB_CHECKS(inventory_checks), .perm = "inventory",
    OB_ACTIONS(inventory_actions),
};

OB_ENUM(txn_type, "inventory_transaction_type", "purchase", "sale", "return", "adjustment", "transfer_out",
        "transfer_in", "reserve", "release", "sync", "in_transit", "variance", "transfer");

static const ob_column txn_cols[] = {
    {"inventory_id", OB_F_REF, .ref = "inventory", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"transaction_type", OB_F_ENUM, .enm = &txn_type, .flags = OB_REQUIRED | OB_INDEXED,
     .doc = "purchase: received from a supplier; sale: sold; return: came back from a buyer; adjustment: "
            "counted or corrected by hand; transfer_out / transfer_in: left for / arrived from another "
            "warehouse; sync: set from a sales channel (001 movement_type). These move quantity_on_hand. "
            "reserve / release: units held for / given back by an order (quantity_reserved). in_transit: units "
            "dispatched towards this row; variance: in-transit units that never arrived (incoming_quantity; "
            "transfer_in also lowers it). transfer: kept for entries of schema version 1, moves nothing"},
    {"quantity", OB_F_INT, .flags = OB_REQUIRED,
     .doc = "signed: positive into the balance, negative out of it; reserve and release take the units held or "
            "given back"},
    {"reference_type", OB_F_ENUM, .enm = &ref_type, .doc = "what caused it (with reference_id)"},
    {"reference_id", OB_F_TEXT, .max = 36, .flags = OB_LOWER | OB_INDEXED,
     .doc = "id of the order, purchase order, shipment, invoice ... named by reference_type"},
    {"notes", OB_F_TEXT, .max = 100000},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER, .stamp = OB_STAMP_ACTOR,
     .doc = "the user who posted it"},
};
static const ob_index txn_idx[] = {{"inventory_id,created_at"}};
/* Each kind moves one balance (transfer_in two: the units arrive on hand and
 * leave the in-transit count); no entry may take a balance below zero or
 * leave more reserved than is on hand. */
static const ob_ledger_move txn_moves[] = {
    {"purchase", "quantity_on_hand", +1},    {"sale", "quantity_on_hand", +1},
    {"return", "quantity_on_hand", +1},      {"adjustment", "quantity_on_hand", +1},
    {"transfer_out", "quantity_on_hand", +1}, {"transfer_in", "quantity_on_hand", +1},
    {"sync", "quantity_on_hand", +1},        {"reserve", "quantity_reserved", +1},
    {"release", "quantity_reserved", -1},    {"in_transit", "incoming_quantity", +1},
    {"variance", "incoming_quantity", +1},   {"transfer_in", "incoming_quantity", -1},
};
static const ob_ledger_bound txn_bounds[] = {
    {"quantity_on_hand", OB_CMP_GTE, NULL, 0},
    {"quantity_reserved", OB_CMP_GTE, NULL, 0},
    {"quantity_reserved", OB_CMP_LTE, "quantity_on_hand"},
    {"incoming_quantity", OB_CMP_GTE, NULL, 0},
};
static const ob_ledger txn_ledger = {
    .parent = "inventory_id", .kind = "transaction_type", .amount = "quantity", OB_LEDGER_MOVES(txn_moves),
    OB_LEDGER_BOUNDS(txn_bounds),
    .refusal = OB_E_INSUFFICIENT_STOCK,
};
const ob_resource ob_res_inventory_transactions = {
    .table = "inventory_transactions",
    .doc = "the stock ledger: every movement in or out (001 stock_movements + 004 inventory_transactions); "
           "entries are never changed or deleted, a mistake is corrected by another entry",
    OB_COLS(txn_cols), OB_INDEXES(txn_idx), .perm = "inventory", .perm_create = "inventory.adjust",
    .flags = OB_RES_APPEND_ONLY, .hooks = &ob_inventory_txn_hooks, .ledger = &txn_ledger, .default_sort = "-created_at",
};

OB_ENUM(suggestion_status, "reorder_suggestion_status", "pending", "approved", "rejected", "ordered");

static const ob_column suggestion_cols[] = {
    {"product_id", OB_F_REF, .ref = "products", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE,
     .doc = "the item to reorder (003 inventory_item_id: inventory items are products)"},
    {"warehouse_id", OB_F_REF, .ref = "warehouses", .on_delete = OB_DEL_CASCADE,
     .doc = "the warehouse to restock, if the suggestion is for one"},
    {"suggested_quantity", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_MIN_EXCL, .min = 0},
    {"reason", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED},
    {"confidence_score", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 100,
     .doc = "0.00 to 1.00"},
    {"estimated_cost", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX},
    {"supplier_id", OB_F_REF, .ref = "suppliers", .on_delete = OB_DEL_SET_NULL, .doc = "the supplier to order from"},
    {"supplier_info", OB_F_JSON, .doc = "supplier details as the suggestion engine saw them (003)"},
    {"status", OB_F_ENUM, .enm = &suggestion_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "pending",
     .doc = "pending: awaiting review; approved: accepted, not yet ordered; rejected: declined; ordered: a "
            "purchase order was raised (purchase_order_id)"},
    {"purchase_order_id", OB_F_REF, .ref = "purchase_orders", .on_delete = OB_DEL_SET_NULL},
    {"reviewed_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER,
     .doc = "who moved it out of pending"},
    {"reviewed_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
};
static const ob_action suggestion_actions[] = {
    {"approve", "edit", ob_suggestion_approve,
     "raise a draft purchase order for the suggested quantity from the suggested supplier (needs purchasing.create "
     "too) and mark the suggestion ordered"},
};
const ob_resource ob_res_reorder_suggestions = {
    .table = "reorder_suggestions",
    .doc = "suggested reorders of low stock (003): raised by the server when a stock entry leaves a row's available "
           "units at or below its reorder point, once while pending",
    OB_COLS(suggestion_cols), .perm = "inventory", .hooks = &ob_suggestion_hooks, OB_ACTIONS(suggestion_actions),
    .default_sort = "-created_at",
};
