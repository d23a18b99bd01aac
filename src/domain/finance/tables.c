/* The finance area: 000's payments (merged with the payments 003 names),
 * the payment methods and gateway transactions 000 names, 001's expenses and
 * revenue records (P&L), and 003's invoices, invoice items, accounting
 * entries and company settings. */
#include "domain/domains.h"
#include "domain/finance/finance.h"
#include "base/banned.h"

OB_ENUM(payment_status, "payment_status", "pending", "processing", "completed", "failed", "cancelled", "refunded");
OB_ENUM(payment_method_type, "payment_method_type", "card", "bank_account", "upi", "wallet", "cash", "cheque",
        "other");
OB_ENUM(payment_txn_type, "payment_transaction_type", "authorize", "capture", "charge", "refund", "void",
        "chargeback");
OB_ENUM(payment_txn_status, "payment_transaction_status", "pending", "succeeded", "failed");
OB_ENUM(expense_category, "expense_category", "shipping", "platform_fee", "packaging", "returns", "marketing",
        "operations", "software", "other");
OB_ENUM(invoice_status, "invoice_status", "draft", "issued", "partially_paid", "paid", "overdue", "cancelled");
OB_ENUM(account_type, "account_type", "asset", "liability", "equity", "revenue", "expense");

static const ob_column payment_method_cols[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_CASCADE, .flags = OB_IMMUTABLE,
     .doc = "the customer who owns the instrument; null: the tenant's own"},
    {"method_type", OB_F_ENUM, .enm = &payment_method_type, .flags = OB_REQUIRED | OB_INDEXED},
    {"label", OB_F_TEXT, .max = 100, .doc = "a name the owner gives it, e.g. \"company card\""},
    {"provider", OB_F_TEXT, .max = 100, .doc = "card network, bank or wallet provider"},
    {"holder_name", OB_F_TEXT, .flags = OB_PERSONAL, .max = 200},
    {"card_number", OB_F_TEXT, .max = 19, .flags = OB_MASKED | OB_ENCRYPTED | OB_PERSONAL, .mask = OB_MASK_SENSITIVE,
     .doc = "as the gateway allows it to be kept (normally already truncated); shown as its last 4 by role"},
    {"card_expiry_month", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 12},
    {"card_expiry_year", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 2000, .max = 2199},
    {"bank_name", OB_F_TEXT, .max = 200},
    {"account_number", OB_F_TEXT, .max = 34, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_SENSITIVE,
     .doc = "bank account number or IBAN; shown as its last 4 by role"},
    {"routing_code", OB_F_TEXT, .max = 20, .doc = "IFSC, sort code, routing or SWIFT code"},
    {"upi_id", OB_F_TEXT, .max = 100, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_SENSITIVE},
    {"gateway_token", OB_F_TEXT, .max = 255, .flags = OB_SECRET | OB_SERVER | OB_ENCRYPTED,
     .doc = "the gateway's token for a saved instrument; written by the gateway integration, never shown"},
    {"is_default", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false",
     .doc = "at most one default per customer"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
static const ob_index payment_method_idx[] = {
    {"customer_id", .where = "is_default", .unique = true},
};
const ob_resource ob_res_payment_methods = {
    .table = "payment_methods", .doc = "payment instruments of customers and of the tenant (000)",
    OB_COLS(payment_method_cols), OB_INDEXES(payment_method_idx), .perm = "payments",
    .customer_scope = "customer_id",
};

static const ob_column invoice_cols[] = {
    {"invoice_number", OB_F_TEXT, .max = 50, .number_prefix = "INV",
     .flags = OB_REQUIRED | OB_GENERATED | OB_UNIQUE | OB_SORT | OB_SEARCH,
     .doc = "generated (INV-000001) when not given"},
    {"customer_id", OB_F_REF, .ref = "customers", .flags = OB_REQUIRED | OB_INDEXED | OB_IMMUTABLE},
    {"status", OB_F_ENUM, .enm = &invoice_status, .flags = OB_REQUIRED | OB_INDEXED | OB_SERVER, .dflt = "draft",
     .doc = "draft: being prepared; issued: sent, unpaid, its pieces reserved (issue); partially_paid and paid: by "
            "completed payments, paid in full sells the pieces, a refund moves it back; overdue: past due_date and "
            "unpaid; cancelled (cancel: the pieces released)"},
    {"invoice_date", OB_F_DATE, .flags = OB_REQUIRED | OB_SORT, .dflt = "today"},
    {"due_date", OB_F_DATE, .flags = OB_SORT},
    {"currency", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED | OB_GENERATED,
     .doc = "ISO 4217; the company settings' currency when not given"},
    /* the totals are the lines' (finance/invoicing.c), never typed */
    {"subtotal", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SORT | OB_SERVER, .min = 0,
     .dflt = "0", .doc = "sum of the lines before discount and tax"},
    {"discount_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SERVER, .min = 0, .dflt = "0",
     .doc = "sum of the lines' discounts"},
    {"tax_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SERVER, .min = 0, .dflt = "0",
     .doc = "sum of the lines' tax"},
    {"total_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_SERVER | OB_SORT,
     .gen = "\"subtotal\" - \"discount_amount\" + \"tax_amount\"", .doc = "subtotal - discount_amount + tax_amount"},
    {"gold_rate_per_gram", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN, .min = 0,
     .doc = "the gold rate the invoice was priced at (003)"},
    {"notes", OB_F_TEXT, .max = 100000, .flags = OB_SEARCH},
    {"terms", OB_F_TEXT, .max = 10000},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_STAFF | OB_SERVER},
    {"amount_paid", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_SERVER | OB_HAS_MIN, .min = 0, .dflt = "0",
     .since = 4, .doc = "sum of the completed payments of the invoice; at most total_amount"},
    {"issued_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "issued,partially_paid,paid",
     .clear_on = "draft", .since = 4},
};
static const ob_index invoice_idx[] = {{"customer_id,status"}};
OB_GUARD_FN(ob_invoice_can_issue);
OB_EFFECT_FN(ob_invoice_issue);
OB_EFFECT_FN(ob_invoice_cancel);
/* paying moves issued -> partially_paid -> paid (finance/books.c, from payments) */
static const ob_transition invoice_transitions[] = {
    {"issue", "draft", "issued", ob_invoice_can_issue, ob_invoice_issue, NULL, NULL},
    {"cancel", "draft,issued", "cancelled", NULL, ob_invoice_cancel, NULL, NULL},
};
static const ob_fsm invoice_fsm = {"status", invoice_transitions, 2, "edit"};
static const ob_check invoice_checks[] = {
    {"due_after_invoice_date", "due_date", OB_CMP_GTE, "invoice_date"},
    {"discount_within_subtotal", "discount_amount", OB_CMP_LTE, "subtotal"},
};
const ob_resource ob_res_invoices = {
    .table = "invoices", .doc = "invoices issued to customers (003)",
    OB_COLS(invoice_cols), OB_INDEXES(invoice_idx), OB_CHECKS(invoice_checks), .perm = "finance",
    .customer_scope = "customer_id", .hooks = &ob_invoice_hooks, .fsm = &invoice_fsm, .default_sort = "-created_at",
};

static const ob_column invoice_item_cols[] = {
    {"invoice_id", OB_F_REF, .ref = "invoices", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"sort_order", OB_F_INT, .flags = OB_REQUIRED | OB_SORT, .dflt = "0"},
    {"product_id", OB_F_REF, .ref = "products", .on_delete = OB_DEL_SET_NULL,
     .doc = "the catalogue item sold (003 inventory item), if any"},
    {"description", OB_F_TEXT, .max = 500, .flags = OB_REQUIRED | OB_SEARCH},
    {"sku", OB_F_TEXT, .max = 100},
    {"metal_type", OB_F_TEXT, .max = 50, .flags = OB_LOWER,
     .doc = "gold, silver, platinum (003); a piece's metal when product_id is one"},
    {"purity", OB_F_TEXT, .max = 20,
     .doc = "fineness (916) or karat (22K); a piece's fineness when product_id is one"},
    {"gross_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_HAS_MIN, .min = 0, .doc = "grams"},
    {"net_weight", OB_F_DECIMAL, .scale = 3, .flags = OB_HAS_MIN, .min = 0,
     .doc = "grams of metal: with metal_type and purity the line is priced by weight"},
    {"rate_per_gram", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_SERVER, .min = 0,
     .doc = "the metal_rates rate of the line's metal and purity when the line was written, kept: a later rate "
            "never changes it"},
    {"quantity", OB_F_DECIMAL, .scale = 3, .flags = OB_REQUIRED | OB_HAS_MIN | OB_MIN_EXCL, .min = 0, .dflt = "1",
     .doc = "1 on a line priced by weight"},
    {"unit_price", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "0",
     .doc = "on a line priced by weight, its metal value"},
    {"making_charges", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "0",
     .doc = "a piece's making charge rule applied to the line when product_id is one"},
    {"discount_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "0"},
    {"tax_rate", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 10000,
     .doc = "percent, 0 to 100"},
    {"tax_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SERVER, .min = 0, .dflt = "0",
     .doc = "tax_rate percent of the taxable amount, rounded half up"},
    {"line_total", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_SERVER | OB_HAS_MIN, .min = 0,
     .doc = "taxable amount (quantity x unit_price rounded half up to the cent, + making_charges + wastage_amount + "
            "stone_charges - discount_amount) + tax_amount"},
    {"metal_value", OB_F_DECIMAL, .scale = 2, .flags = OB_SERVER, .since = 4,
     .doc = "net_weight x rate_per_gram, rounded half up (lines priced by weight)"},
    {"wastage_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_SERVER, .since = 4,
     .doc = "the piece's wastage_percent of the metal value, rounded half up"},
    {"stone_charges", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = OB_MONEY_MAX,
     .since = 4, .doc = "stones of the line; the piece's stone_charges when not given"},
};
static const ob_index invoice_item_idx[] = {{"invoice_id,sort_order"}};
static const ob_check invoice_item_checks[] = {
    {"net_within_gross_weight", "net_weight", OB_CMP_LTE, "gross_weight"},
};
const ob_resource ob_res_invoice_items = {
    .table = "invoice_items", .doc = "lines of an invoice (003)",
    OB_COLS(invoice_item_cols), OB_INDEXES(invoice_item_idx), OB_CHECKS(invoice_item_checks), .perm = "finance",
    .customer_scope = "invoice_id.customer_id", .hooks = &ob_invoice_item_hooks, .default_sort = "sort_order",
};

static const ob_column payment_cols[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .flags = OB_REQUIRED | OB_INDEXED | OB_IMMUTABLE},
    {"service_request_id", OB_F_REF, .ref = "service_requests", .doc = "the service request paid for (000)"},
    {"invoice_id", OB_F_REF, .ref = "invoices", .doc = "the invoice paid (003)"},
    {"invoice_number", OB_F_TEXT, .max = 50, .flags = OB_SEARCH,
     .doc = "invoice number as the payer or an external system (Odoo) gives it"},
    {"payment_method_id", OB_F_REF, .ref = "payment_methods", .on_delete = OB_DEL_SET_NULL},
    {"amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_MIN_EXCL | OB_SORT, .min = 0,
     .doc = "greater than 0 (000 chk_payment_amount)"},
    {"currency", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED, .dflt = "USD", .doc = "ISO 4217"},
    {"payment_method", OB_F_TEXT, .max = 30, .doc = "kind of payment as given: card, bank_transfer, cash, upi..."},
    {"payment_status", OB_F_ENUM, .enm = &payment_status, .flags = OB_REQUIRED | OB_INDEXED | OB_SORT,
     .dflt = "pending",
     .doc = "pending: not yet attempted; processing: at the gateway; completed: money received; failed; "
            "cancelled: withdrawn before completion; refunded: returned after completion (by the refund action only "
            "for a payment of an invoice, which is not typed away from completed either)"},
    {"payment_gateway", OB_F_TEXT, .max = 50},
    {"transaction_id", OB_F_TEXT, .max = 100, .flags = OB_INDEXED, .doc = "the gateway's transaction id"},
    {"gateway_response", OB_F_TEXT, .flags = OB_STAFF, .max = 100000},
    {"payment_date", OB_F_TIMESTAMP, .flags = OB_SORT},
    {"due_date", OB_F_DATE, .flags = OB_SORT},
    {"description", OB_F_TEXT, .max = 500, .flags = OB_SEARCH},
    {"captured_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0", .since = 4,
     .doc = "moved only by capture and charge payment_transactions; at most amount"},
    {"refunded_amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0", .since = 4,
     .doc = "moved only by refund payment_transactions; at most captured_amount"},
};
static const ob_index payment_idx[] = {{"customer_id,payment_status"}};
/* issue #15: money through the gateway, as ledger entries (finance/gateway.c) */
OB_ACTION_FN(ob_payment_capture);
OB_ACTION_FN(ob_payment_refund);
static const ob_column gateway_amount_input[] = {
    {"amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_MIN_EXCL | OB_HAS_MAX, .min = 0,
     .max = OB_MONEY_MAX},
};
static const ob_action payment_actions[] = {
    {"capture", "edit", ob_payment_capture,
     "capture an amount (a capture transaction; captured_amount at most amount, 422 capture_exceeds_amount); "
     "payment_status follows: processing, completed",
     OB_INPUT(gateway_amount_input)},
    {"refund", "edit", ob_payment_refund,
     "refund an amount (a refund transaction; refunded at most captured, 422 refund_exceeds_capture); "
     "payment_status refunded when all is refunded",
     OB_INPUT(gateway_amount_input)},
};
const ob_resource ob_res_payments = {
    .table = "payments", .doc = "money received from customers (000, 003)",
    OB_COLS(payment_cols), OB_INDEXES(payment_idx), .perm = "payments", .customer_scope = "customer_id",
    .hooks = &ob_payment_hooks, OB_ACTIONS(payment_actions), .default_sort = "-created_at",
    .retention = &(const ob_retention){.days = 2555, .customer_col = "customer_id", .source = "7 years (000)"},
};

static const ob_column payment_txn_cols[] = {
    {"payment_id", OB_F_REF, .ref = "payments", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED},
    {"transaction_type", OB_F_ENUM, .enm = &payment_txn_type, .flags = OB_REQUIRED | OB_INDEXED},
    {"status", OB_F_ENUM, .enm = &payment_txn_status, .flags = OB_REQUIRED, .dflt = "pending"},
    {"amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_MIN_EXCL, .min = 0},
    {"currency", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED, .dflt = "USD"},
    {"payment_gateway", OB_F_TEXT, .max = 50},
    {"gateway_transaction_id", OB_F_TEXT, .max = 100, .flags = OB_INDEXED},
    {"gateway_response", OB_F_TEXT, .flags = OB_STAFF, .max = 100000},
    {"error_code", OB_F_TEXT, .max = 50},
    {"error_message", OB_F_TEXT, .max = 1000},
    {"processed_at", OB_F_TIMESTAMP, .flags = OB_SORT},
};
static const ob_index payment_txn_idx[] = {{"payment_id,created_at"}};
/* Captures (and one-step charges) and refunds move the payment's balances;
 * the other kinds record the gateway's steps and move nothing. */
static const ob_ledger_move payment_txn_moves[] = {
    {"capture", "captured_amount", +1}, {"charge", "captured_amount", +1}, {"refund", "refunded_amount", +1},
};
static const ob_ledger_bound payment_txn_bounds[] = {
    {"captured_amount", OB_CMP_LTE, "amount"},
    {"refunded_amount", OB_CMP_LTE, "captured_amount"},
};
static const ob_ledger payment_txn_ledger = {
    .parent = "payment_id", .kind = "transaction_type", .amount = "amount", OB_LEDGER_MOVES(payment_txn_moves),
    OB_LEDGER_BOUNDS(payment_txn_bounds), .refusal = OB_E_REFUND_EXCEEDS_CAPTURE,
};
const ob_resource ob_res_payment_transactions = {
    .table = "payment_transactions", .doc = "gateway attempts, captures and refunds of a payment (000); never changed",
    OB_COLS(payment_txn_cols), OB_INDEXES(payment_txn_idx), .perm = "payments", .ledger = &payment_txn_ledger,
    .flags = OB_RES_APPEND_ONLY, .customer_scope = "payment_id.customer_id", .default_sort = "-created_at",
};

static const ob_column expense_cols[] = {
    {"category", OB_F_ENUM, .enm = &expense_category, .flags = OB_REQUIRED | OB_INDEXED},
    {"subcategory", OB_F_TEXT, .max = 100},
    {"description", OB_F_TEXT, .max = 100000, .flags = OB_SEARCH},
    {"amount", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_SORT, .min = 0},
    {"currency", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED, .dflt = "INR", .doc = "ISO 4217"},
    {"expense_date", OB_F_DATE, .flags = OB_REQUIRED | OB_INDEXED | OB_SORT},
    {"channel_id", OB_F_REF, .ref = "sales_channels"},
    {"order_id", OB_F_REF, .ref = "orders"},
    {"shipment_id", OB_F_REF, .ref = "shipments"},
    {"receipt_url", OB_F_TEXT, .max = 500},
    {"tags", OB_F_JSON, .dflt = "[]"},
    {"metadata", OB_F_JSON, .dflt = "{}"},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER},
    {"receipt_file_id", OB_F_REF, .ref = "files", .on_delete = OB_DEL_RESTRICT, .flags = OB_INDEXED, .since = 4,
     .doc = "the uploaded receipt (POST /api/v1/files), served at GET /api/v1/expenses/{id}/content"},
};
/* the receipt is a file: nothing to copy, but its content is served with the expense's scope */
static const ob_ref_copy expense_receipt = {"receipt_file_id", NULL, 0, false};
/* receipt (hooks.c): file_id is looked up in the tenant, so another
 * tenant's or an unknown file is 404 like any record the caller cannot see */
OB_ACTION_FN(ob_expense_receipt);
static const ob_column expense_receipt_input[] = {
    {"file_id", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED, .doc = "an uploaded file (POST /api/v1/files)"},
};
static const ob_action expense_actions[] = {
    {"receipt", "edit", ob_expense_receipt, "attach an uploaded file as the expense's receipt (receipt_file_id)",
     OB_INPUT(expense_receipt_input)},
};
const ob_resource ob_res_expenses = {
    .table = "expenses", .doc = "business expenses (001)",
    OB_COLS(expense_cols), .perm = "finance", .hooks = &ob_expense_hooks, .default_sort = "-expense_date",
    .copy = &expense_receipt, OB_ACTIONS(expense_actions),
};

static const ob_column revenue_cols[] = {
    {"order_id", OB_F_REF, .ref = "orders", .flags = OB_REQUIRED},
    {"channel_id", OB_F_REF, .ref = "sales_channels", .flags = OB_REQUIRED},
    {"gross_revenue", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_SORT},
    {"platform_fee", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED, .dflt = "0"},
    {"payment_gateway_fee", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED, .dflt = "0"},
    {"shipping_cost", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED, .dflt = "0"},
    {"product_cost", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED, .dflt = "0"},
    {"other_costs", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED, .dflt = "0"},
    {"net_revenue", OB_F_DECIMAL, .scale = 2, .flags = OB_SERVER | OB_SORT,
     .gen = "\"gross_revenue\" - \"platform_fee\" - \"payment_gateway_fee\" - \"shipping_cost\" - \"product_cost\" - "
            "\"other_costs\"",
     .doc = "gross_revenue minus every fee and cost"},
    {"revenue_date", OB_F_DATE, .flags = OB_REQUIRED | OB_INDEXED | OB_SORT},
    {"metadata", OB_F_JSON, .dflt = "{}"},
};
const ob_resource ob_res_revenue_records = {
    .table = "revenue_records", .doc = "revenue of an order for P&L (001); never changed",
    OB_COLS(revenue_cols), .perm = "finance", .flags = OB_RES_APPEND_ONLY, .default_sort = "-revenue_date",
};

static const ob_column entry_cols[] = {
    {"journal_number", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_INDEXED | OB_SORT | OB_SERVER,
     .doc = "the number of its journal"},
    {"entry_date", OB_F_DATE, .flags = OB_REQUIRED | OB_SORT, .dflt = "today"},
    {"account_code", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_SORT},
    {"account_name", OB_F_TEXT, .max = 200, .flags = OB_SEARCH},
    {"account_type", OB_F_ENUM, .enm = &account_type},
    {"debit", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "0"},
    {"credit", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN, .min = 0, .dflt = "0"},
    {"currency", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED | OB_GENERATED,
     .doc = "ISO 4217; the company settings' currency when not given"},
    {"description", OB_F_TEXT, .max = 1000, .flags = OB_SEARCH},
    {"invoice_id", OB_F_REF, .ref = "invoices"},
    {"payment_id", OB_F_REF, .ref = "payments"},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER},
    {"journal_id", OB_F_REF, .ref = "journals", .flags = OB_INDEXED, .since = 4,
     .doc = "required: the draft journal the line belongs to; posted only when its lines balance"},
};
static const ob_index entry_idx[] = {{"account_code,entry_date"}};
const ob_resource ob_res_accounting_entries = {
    .table = "accounting_entries",
    .doc = "double-entry ledger lines (003): each line debits or credits one account; corrections are new lines",
    OB_COLS(entry_cols), OB_INDEXES(entry_idx), .perm = "finance", .flags = OB_RES_APPEND_ONLY,
    .hooks = &ob_accounting_entry_hooks, .default_sort = "-created_at",
};

static const ob_column company_cols[] = {
    {"company_name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED},
    {"legal_name", OB_F_TEXT, .max = 255},
    {"registration_number", OB_F_TEXT, .max = 100},
    {"tax_number", OB_F_TEXT, .max = 50, .flags = OB_MASKED, .mask = OB_MASK_SENSITIVE,
     .doc = "GSTIN / VAT number"},
    {"pan_number", OB_F_TEXT, .max = 20, .flags = OB_MASKED, .mask = OB_MASK_SENSITIVE,
     .doc = "income-tax id (PAN)"},
    {"email", OB_F_TEXT, .max = 255, .flags = OB_LOWER},
    {"phone", OB_F_TEXT, .max = 20},
    {"website", OB_F_TEXT, .max = 255},
    {"address_line1", OB_F_TEXT, .max = 200},
    {"address_line2", OB_F_TEXT, .max = 200},
    {"city", OB_F_TEXT, .max = 100},
    {"state", OB_F_TEXT, .max = 100},
    {"postal_code", OB_F_TEXT, .max = 20},
    {"country", OB_F_TEXT, .max = 100},
    {"logo_url", OB_F_TEXT, .max = 500},
    {"currency", OB_F_TEXT, .max = 3, .flags = OB_REQUIRED, .dflt = "USD",
     .doc = "ISO 4217; the default of new invoices and ledger lines"},
    {"timezone", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED, .dflt = "UTC"},
    {"fiscal_year_start_month", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 12,
     .dflt = "1"},
    {"default_tax_rate", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 10000,
     .doc = "percent, 0 to 100"},
    {"invoice_terms", OB_F_TEXT, .max = 10000},
    {"invoice_footer", OB_F_TEXT, .max = 2000},
    /* the rates shown follow metal_rates (finance/gold.c): entered there, never here */
    {"gold_rate_24k_per_gram", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_SERVER, .min = 0,
     .doc = "the metal_rates rate of gold 999 in force when a rate was last entered"},
    {"gold_rate_22k_per_gram", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_SERVER, .min = 0,
     .doc = "the metal_rates rate of gold 916 in force when a rate was last entered"},
    {"gold_rate_18k_per_gram", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_SERVER, .min = 0,
     .doc = "the metal_rates rate of gold 750 in force when a rate was last entered"},
    {"silver_rate_per_gram", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_SERVER, .min = 0,
     .doc = "the metal_rates rate of silver 999 in force when a rate was last entered"},
    {"gold_rate_source", OB_F_TEXT, .max = 100, .flags = OB_SERVER,
     .doc = "the source of the last metal rate entered (manual, a market feed)"},
    {"gold_rate_updated_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .doc = "when a metal rate was last entered"},
    {"auto_update_gold_rate", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"settings", OB_F_JSON, .dflt = "{}"},
};
const ob_resource ob_res_company_settings = {
    .table = "company_settings", .doc = "the tenant's company profile, one row (003)",
    OB_COLS(company_cols), OB_CONFIG_PERMS("settings"), .hooks = &ob_company_settings_hooks,
};
