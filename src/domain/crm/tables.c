/* The customer-relationship area: 003's customer documents (merged with
 * 000's: one table), relationships, tags and their assignments, the
 * communication history, preferences, and the loyalty programmes and points
 * ledger. */
#include "domain/domains.h"
#include "domain/crm/crm.h"
#include "base/banned.h"

OB_ENUM(relationship_type, "relationship_type", "family", "business_partner", "referral", "friend", "other");
OB_ENUM(communication_type, "communication_type", "call", "email", "sms", "visit", "note");
OB_ENUM(communication_direction, "communication_direction", "inbound", "outbound", "internal");
OB_ENUM(communication_status, "communication_status", "scheduled", "completed", "cancelled");
OB_ENUM(purchase_frequency, "purchase_frequency", "weekly", "monthly", "seasonal", "annual");
OB_ENUM(loyalty_txn_type, "loyalty_transaction_type", "earned", "redeemed", "expired", "adjusted");
OB_ENUM(loyalty_ref_type, "loyalty_reference_type", "invoice", "manual", "bonus");

static const ob_column document_cols[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_INDEXED | OB_IMMUTABLE},
    {"service_request_id", OB_F_REF, .ref = "service_requests", .doc = "the service request it belongs to (000)"},
    {"document_name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"document_type", OB_F_TEXT, .max = 50, .flags = OB_REQUIRED | OB_INDEXED | OB_LOWER, .dflt = "other",
     .doc = "id_copy, contract, photo, other (003) or a shipping document kind (000: invoice, packing_list...)"},
    {"file_name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SERVER, .doc = "the uploaded file's name"},
    {"file_path", OB_F_TEXT, .max = 1000, .flags = OB_REQUIRED | OB_SERVER | OB_STAFF,
     .doc = "where the file store keeps the content"},
    {"file_size", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER | OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 999999999999,
     .doc = "bytes"},
    {"mime_type", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SERVER | OB_LOWER},
    {"file_hash", OB_F_TEXT, .max = 64, .flags = OB_SERVER | OB_INDEXED | OB_LOWER, .doc = "SHA-256 hex of the content"},
    {"description", OB_F_TEXT, .max = 100000, .flags = OB_SEARCH},
    {"is_confidential", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"retention_days", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 999999,
     .dflt = "2555", .doc = "kept this many days after upload (2555: 7 years), then purged with its file by the "
                            "daily documents.purge job; 0: kept until removed by hand"},
    {"expiry_date", OB_F_DATE, .flags = OB_SORT, .doc = "when the document itself (an id card) expires"},
    {"ocr_processed", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false",
     .doc = "set by the documents.ocr job once it read the file (an image or a PDF)"},
    {"ocr_content", OB_F_TEXT, .max = 1000000, .flags = OB_STAFF | OB_SEARCH | OB_SERVER | OB_PERSONAL,
     .doc = "text Tesseract recognised in the file (PDF pages rendered by poppler); found by q=; personal (an id "
            "card's text): reads are audited, erasure replaces it"},
    {"ocr_confidence", OB_F_DECIMAL, .scale = 2, .flags = OB_STAFF | OB_SERVER | OB_HAS_MIN | OB_HAS_MAX, .min = 0,
     .max = 100, .doc = "0.00 to 1.00: Tesseract's mean word confidence"},
    {"is_verified", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false",
     .doc = "checked by staff: the verify action (crm.verify)"},
    {"verified_by", OB_F_REF, .flags = OB_STAFF | OB_SERVER, .ref = "users", .on_delete = OB_DEL_SET_NULL},
    {"verified_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"uploaded_by", OB_F_REF, .ref = "users", .flags = OB_STAFF | OB_REQUIRED | OB_GENERATED | OB_IMMUTABLE,
     .doc = "the signed-in user when not given"},
    {"file_id", OB_F_REF, .ref = "files", .on_delete = OB_DEL_RESTRICT, .flags = OB_INDEXED | OB_IMMUTABLE, .since = 4,
     .doc = "the uploaded file (POST /api/v1/files); name, path, size, type and hash are copied from it"},
    {"legal_hold", OB_F_BOOL, .flags = OB_REQUIRED | OB_STAFF, .dflt = "false", .since = 5,
     .doc = "while true the document is never purged, whatever its retention"},
    {"purge_after", OB_F_TIMESTAMP, .flags = OB_SERVER | OB_INDEXED | OB_SORT, .since = 5,
     .doc = "created_at + retention_days: from then on the daily purge removes it (null: retention_days 0)"},
};
/* the file columns come from the upload, never from the client (issue 12) */
static const ob_copy_col document_file_copy[] = {
    {"file_name", "file_name"}, {"file_path", "storage_key"}, {"file_size", "file_size"},
    {"mime_type", "mime_type"}, {"file_hash", "sha256"},
};
static const ob_ref_copy document_file = {"file_id", document_file_copy, 5, true};
OB_ACTION_FN(ob_customer_document_verify);
static const ob_action document_actions[] = {
    {"verify", "verify", ob_customer_document_verify,
     "staff checked the document against the original: is_verified, verified_by and verified_at (once: a "
     "verified document is 422)"},
};
const ob_resource ob_res_customer_documents = {
    .table = "customer_documents", .doc = "files kept about a customer: ids, contracts, shipping papers (000, 003)",
    OB_COLS(document_cols), .perm = "crm", .customer_scope = "customer_id", .hooks = &ob_customer_document_hooks,
    OB_ACTIONS(document_actions),
    .default_sort = "-created_at", .copy = &document_file,
};

static const ob_column relationship_cols[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_INDEXED | OB_IMMUTABLE},
    {"related_customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_SET_NULL},
    {"relationship_type", OB_F_ENUM, .enm = &relationship_type, .flags = OB_REQUIRED | OB_INDEXED},
    {"relationship_description", OB_F_TEXT, .max = 255},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
static const ob_check relationship_checks[] = {
    {"not_self", "related_customer_id", OB_CMP_NE, "customer_id"},
};
const ob_resource ob_res_customer_relationships = {
    .table = "customer_relationships", .doc = "how customers are related: family, partners, referrals (003)",
    OB_COLS(relationship_cols), OB_CHECKS(relationship_checks), .perm = "crm", .customer_scope = "customer_id",
};

static const ob_column tag_cols[] = {
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_UNIQUE | OB_SORT | OB_SEARCH},
    {"color", OB_F_TEXT, .max = 7, .doc = "hex colour, #RRGGBB"},
    {"description", OB_F_TEXT, .max = 10000},
};
const ob_resource ob_res_customer_tags = {
    .table = "customer_tags", .doc = "labels for grouping customers (003)",
    OB_COLS(tag_cols), .perm = "crm", .default_sort = "name",
};

static const ob_column tag_assignment_cols[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"tag_id", OB_F_REF, .ref = "customer_tags", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"assigned_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SERVER, .stamp = OB_STAMP_NOW},
    {"assigned_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_STAFF | OB_SERVER, .stamp = OB_STAMP_ACTOR},
};
static const ob_index tag_assignment_idx[] = {{"customer_id,tag_id", .unique = true}};
const ob_resource ob_res_customer_tag_assignments = {
    .table = "customer_tag_assignments", .doc = "tags given to customers (003)",
    OB_COLS(tag_assignment_cols), OB_INDEXES(tag_assignment_idx), .perm = "crm",
    .flags = OB_RES_APPEND_ONLY | OB_RES_LINK, .customer_scope = "customer_id",
};

static const ob_column communication_cols[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_INDEXED | OB_IMMUTABLE},
    {"communication_type", OB_F_ENUM, .enm = &communication_type, .flags = OB_REQUIRED | OB_INDEXED},
    {"direction", OB_F_ENUM, .enm = &communication_direction, .flags = OB_REQUIRED,
     .doc = "inbound: from the customer; outbound: to the customer; internal: a note among staff"},
    {"subject", OB_F_TEXT, .max = 255, .flags = OB_SEARCH},
    {"content", OB_F_TEXT, .max = 100000, .flags = OB_SEARCH},
    {"communication_date", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SORT, .dflt = "now"},
    {"follow_up_required", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
    {"follow_up_date", OB_F_TIMESTAMP, .flags = OB_SORT},
    {"status", OB_F_ENUM, .enm = &communication_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "completed",
     .doc = "scheduled: planned; completed: took place; cancelled: will not take place"},
    {"created_by", OB_F_REF, .ref = "users", .flags = OB_STAFF | OB_REQUIRED | OB_GENERATED | OB_IMMUTABLE,
     .doc = "the signed-in user when not given"},
    {"follow_up_notified_at", OB_F_TIMESTAMP, .flags = OB_SERVER | OB_STAFF, .since = 6,
     .doc = "when the crm.follow_ups job told created_by the follow-up was overdue (once); cleared when the "
            "follow-up is moved"},
};
static const ob_index communication_idx[] = {
    {"customer_id,communication_date"},
    {"follow_up_date,follow_up_required"},
};
const ob_resource ob_res_customer_communication_history = {
    .table = "customer_communication_history",
    .doc = "calls, e-mails, messages, visits and notes with a customer, with follow-ups (003)",
    OB_COLS(communication_cols), OB_INDEXES(communication_idx), .perm = "crm", .customer_scope = "customer_id",
    .hooks = &ob_communication_hooks, .default_sort = "-communication_date",
};

static const ob_column preference_cols[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_UNIQUE | OB_IMMUTABLE, .doc = "one preference profile per customer"},
    {"preferred_metal_types", OB_F_JSON, .doc = "array of metal types"},
    {"preferred_styles", OB_F_JSON, .doc = "array of styles"},
    {"price_range_min", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN, .min = 0},
    {"price_range_max", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN, .min = 0},
    {"communication_preferences", OB_F_JSON, .doc = "phone, e-mail and SMS preferences"},
    {"special_occasions", OB_F_JSON,
     .doc = "birthday, anniversary...: {\"birthday\": \"1985-03-14\"} or [{\"type\": \"birthday\", \"date\": "
            "\"03-14\"}], dates YYYY-MM-DD or MM-DD (GET /api/v1/reports/occasions)"},
    {"purchase_frequency", OB_F_ENUM, .enm = &purchase_frequency},
    {"preferred_visit_time", OB_F_TEXT, .max = 100},
    {"notes", OB_F_TEXT, .max = 100000, .flags = OB_SEARCH},
};
static const ob_check preference_checks[] = {
    {"price_range_ordered", "price_range_min", OB_CMP_LTE, "price_range_max"},
};
const ob_resource ob_res_customer_preferences = {
    .table = "customer_preferences", .doc = "what a customer likes and how to reach them (003)",
    OB_COLS(preference_cols), OB_CHECKS(preference_checks), .perm = "crm", .customer_scope = "customer_id",
    .hooks = &ob_customer_preference_hooks,
};

static const ob_column loyalty_program_cols[] = {
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"description", OB_F_TEXT, .max = 10000},
    {"points_per_currency_unit", OB_F_DECIMAL, .scale = 2, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX,
     .min = 0, .max = 99999, .doc = "points earned per unit of currency spent (0.00 to 999.99)"},
    {"tier_thresholds", OB_F_JSON, .doc = "points needed for each tier"},
    {"tier_benefits", OB_F_JSON, .doc = "benefits of each tier"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"point_value", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 100000000,
     .since = 4, .doc = "what one point pays when redeemed, in the company's currency"},
    {"tier_multipliers", OB_F_JSON, .since = 4,
     .doc = "points multiplier per customer_tier, e.g. {\"premium\": 2, \"standard\": 1}; absent: 1"},
    {"points_validity_days", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 36500, .since = 6,
     .doc = "days points earned on a paid invoice stay valid: their expiry_date is the day paid plus these; "
            "absent: they never expire"},
};
const ob_resource ob_res_loyalty_programs = {
    .table = "loyalty_programs", .doc = "loyalty programmes: earning rate and tiers (003)",
    OB_COLS(loyalty_program_cols), .perm = "crm", .default_sort = "name",
};

static const ob_column loyalty_point_cols[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_CASCADE, .flags = OB_REQUIRED | OB_INDEXED},
    {"loyalty_program_id", OB_F_REF, .ref = "loyalty_programs", .on_delete = OB_DEL_SET_NULL,
     .doc = "the programme the points were earned under"},
    {"transaction_type", OB_F_ENUM, .enm = &loyalty_txn_type, .flags = OB_REQUIRED},
    {"points", OB_F_INT, .flags = OB_REQUIRED, .doc = "positive adds, negative takes away"},
    {"reference_type", OB_F_ENUM, .enm = &loyalty_ref_type},
    {"reference_id", OB_F_TEXT, .max = 36, .doc = "id of the record named by reference_type (an invoice)"},
    {"description", OB_F_TEXT, .max = 10000},
    {"expiry_date", OB_F_DATE, .flags = OB_SORT,
     .doc = "the last day the points of a positive entry count; the day after, the loyalty.expire job takes what "
            "is left of them (oldest expiry first is what redemptions use) with an expired entry"},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_STAFF | OB_SERVER, .stamp = OB_STAMP_ACTOR},
};
static const ob_index loyalty_point_idx[] = {{"expiry_date,transaction_type"}};
/* Every entry moves the customer's balance by its signed points; none may
 * take it below 0, so two redemptions racing for the last points cannot both
 * pass. */
static const ob_ledger_move loyalty_moves[] = {{NULL, "loyalty_points", +1}};
static const ob_ledger_bound loyalty_bounds[] = {{"loyalty_points", OB_CMP_GTE, NULL, 0}};
static const ob_ledger loyalty_ledger = {
    .parent = "customer_id", .amount = "points", OB_LEDGER_MOVES(loyalty_moves), OB_LEDGER_BOUNDS(loyalty_bounds),
    .refusal = OB_E_INSUFFICIENT_POINTS,
};
const ob_resource ob_res_customer_loyalty_points = {
    .table = "customer_loyalty_points", .doc = "ledger of loyalty points earned, redeemed and expired (003); never changed",
    OB_COLS(loyalty_point_cols), OB_INDEXES(loyalty_point_idx), .perm = "crm", .flags = OB_RES_APPEND_ONLY,
    .ledger = &loyalty_ledger,
    .customer_scope = "customer_id", .default_sort = "-created_at",
};
