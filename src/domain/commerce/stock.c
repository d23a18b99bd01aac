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
    {"latitude", OB_F_REAL},
    {"longitude", OB_F_REAL},
    {"capacity", OB_F_INT, .flags = OB_HAS_MIN, .min = 0, .doc = "storage capacity in units (004)"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
const ob_resource ob_res_warehouses = {
    .table = "warehouses", .doc = "warehouse locations and capacity (004)",
    OB_COLS(warehouse_cols), .perm = "inventory", .default_sort = "name",
};
