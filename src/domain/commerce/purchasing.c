/* purchasing.c - buying from suppliers (004): suppliers with ratings,
 * purchase orders and their items. */
#include "domain/domains.h"
#include "domain/commerce/commerce.h"
#include "base/banned.h"

OB_ENUM(supplier_status, "supplier_status", "active", "inactive", "blocked");
OB_ENUM(po_status, "purchase_order_status", "draft", "submitted", "approved", "partially_received", "received",
        "cancelled", "closed");

static const ob_column supplier_cols[] = {
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"code", OB_F_TEXT, .max = 50, .flags = OB_UNIQUE | OB_SORT, .doc = "short code, unique in the tenant"},
    {"status", OB_F_ENUM, .enm = &supplier_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "active",
     .doc = "active: can be ordered from; inactive: not in use; blocked: must not be ordered from"},
    {"rating", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX | OB_SORT, .min = 0, .max = 500,
     .doc = "0.00 to 5.00; set by every receipt to the mean of on_time_rate and fill_rate, scaled to 5"},
    {"contact_name", OB_F_TEXT, .max = 200},
    {"email", OB_F_TEXT, .max = 255, .flags = OB_LOWER | OB_MASKED, .mask = OB_MASK_EMAIL},
    {"phone", OB_F_TEXT, .max = 20, .flags = OB_MASKED, .mask = OB_MASK_PHONE},
    {"address", OB_F_TEXT, .max = 2000, .flags = OB_MASKED, .mask = OB_MASK_ADDRESS},
    {"payment_terms", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 999, .doc = "days"},
    {"notes", OB_F_TEXT, .max = 100000},
    {"receipts_count", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0", .since = 3,
     .doc = "goods receipts against the supplier's purchase orders"},
    {"on_time_receipts", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0", .since = 3,
     .doc = "receipts on or before the order's expected_date (or with none)"},
    {"on_time_rate", OB_F_DECIMAL, .scale = 2, .flags = OB_SERVER | OB_SORT, .since = 3,
     .doc = "percent of receipts on time, 0.00 to 100.00; kept by receiving"},
    {"fill_rate", OB_F_DECIMAL, .scale = 2, .flags = OB_SERVER | OB_SORT, .since = 3,
     .doc = "percent of the units ordered on received purchase orders that arrived; kept by receiving"},
};
const ob_resource ob_res_suppliers = {
    .table = "suppliers", .doc = "suppliers and their ratings (004)",
    OB_COLS(supplier_cols), .perm = "purchasing", .default_sort = "name",
};

static const ob_column po_cols[] = {
    {"po_number", OB_F_TEXT, .number_prefix = "PO", .max = 50, .flags = OB_REQUIRED | OB_GENERATED | OB_UNIQUE | OB_SORT | OB_SEARCH,
     .doc = "generated (PO-000001) when not given; unique in the tenant (004: per organization)"},
    {"supplier_id", OB_F_REF, .ref = "suppliers", .flags = OB_REQUIRED},
    {"warehouse_id", OB_F_REF, .ref = "warehouses", .doc = "where the goods are to be delivered"},
    {"status", OB_F_ENUM, .enm = &po_status, .flags = OB_REQUIRED | OB_INDEXED | OB_SERVER, .dflt = "draft",
     .doc = "draft: being prepared (items editable only now); submitted: sent for approval; approved: sent to "
            "the supplier; partially_received / received: goods arrived in part / in full (the receive action); "
            "closed: done with, nothing more expected; cancelled: will not be received. Changed by the events "
            "submit, approve, cancel and close and by receive"},
    {"order_date", OB_F_DATE, .flags = OB_SORT, .dflt = "today"},
    {"expected_date", OB_F_DATE, .flags = OB_SORT, .doc = "expected delivery"},
    {"currency", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED, .dflt = "INR", .doc = "ISO 4217"},
    {"total_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_SERVER | OB_SORT, .dflt = "0",
     .doc = "sum of the items' line totals, kept by the server"},
    {"notes", OB_F_TEXT, .max = 100000},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER, .stamp = OB_STAMP_ACTOR},
    {"approved_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .since = 3, .stamp = OB_STAMP_NOW, .stamp_on = "approved",
     .doc = "when it was approved (who: the audit row of the approve event)"},
};
static const ob_check po_checks[] = {{"po_expected_after_order", "expected_date", OB_CMP_GTE, "order_date"}};
/* approve has its own permission; a tenant may also require that someone
 * other than the creator approves (receiving.c). */
static const ob_transition po_transitions[] = {
    /* event     from                             to           guard              effect perm */
    {"submit",  "draft",                          "submitted", NULL,               NULL},
    {"approve", "submitted",                      "approved",  ob_po_approve_guard, NULL, "approve"},
    {"cancel",  "draft,submitted,approved",       "cancelled", NULL,               NULL},
    {"close",   "partially_received,received",    "closed",    NULL,               NULL},
};
static const ob_fsm po_fsm = {"status", po_transitions, (int)(sizeof po_transitions / sizeof po_transitions[0]),
                              "edit"};
static const ob_column receive_input[] = {
    {"warehouse_id", OB_F_REF, .ref = "warehouses",
     .doc = "where the goods arrived; the order's warehouse_id when not given"},
    {"lines", OB_F_JSON, .flags = OB_REQUIRED,
     .doc = "[{\"purchase_order_item_id\": ..., \"quantity\": units above 0}, ...]"},
};
static const ob_action po_actions[] = {
    {"receive", "receive", ob_po_receive,
     "receive goods: add to the items' quantity_received, post purchase entries in the warehouse, move to "
     "partially_received or received; beyond the tenant's over-receipt tolerance it is 422 over_receipt",
     OB_INPUT(receive_input)},
};
const ob_resource ob_res_purchase_orders = {
    .table = "purchase_orders", .doc = "purchase orders to suppliers (004)",
    OB_COLS(po_cols), OB_CHECKS(po_checks), .perm = "purchasing", .fsm = &po_fsm, OB_ACTIONS(po_actions),
    .default_sort = "-created_at",
};

static const ob_column po_item_cols[] = {
    {"purchase_order_id", OB_F_REF, .ref = "purchase_orders", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"product_id", OB_F_REF, .ref = "products", .flags = OB_REQUIRED},
    {"quantity_ordered", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX | OB_MIN_EXCL, .min = 0,
     .max = 1000000},
    {"quantity_received", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0",
     .doc = "kept by the order's receive action"},
    {"unit_price", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 0,
     .max = OB_MONEY_MAX},
    {"line_total", OB_F_DECIMAL, .scale = 2, .flags = OB_SERVER, .gen = "\"quantity_ordered\" * \"unit_price\"",
     .doc = "quantity_ordered x unit_price"},
};
static const ob_index po_item_idx[] = {{"purchase_order_id,product_id"}};
const ob_resource ob_res_purchase_order_items = {
    .table = "purchase_order_items", .doc = "lines of a purchase order (004); changed only while it is a draft",
    OB_COLS(po_item_cols), OB_INDEXES(po_item_idx), .perm = "purchasing", .hooks = &ob_po_item_draft_hooks,
};
