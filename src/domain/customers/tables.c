/* Customers: 000's business customer (code, tier, credit, approval) merged with
 * 003's personal profile (identity, address, emergency contact, employment). */
#include "domain/domains.h"
#include "base/banned.h"

OB_ENUM(customer_tier, "customer_tier", "premium", "standard", "basic");
OB_ENUM(customer_status, "customer_status", "active", "inactive", "suspended", "blacklisted");
OB_ENUM(approval_status, "approval_status", "pending", "approved", "rejected");
OB_ENUM(contact_type, "contact_type", "primary", "billing", "shipping", "technical", "emergency");

static const ob_column customer_cols[] = {
    {"customer_code", OB_F_TEXT, .number_prefix = "CUS", .max = 50, .flags = OB_REQUIRED | OB_GENERATED | OB_UNIQUE | OB_SORT | OB_SEARCH,
     .doc = "generated (CUS-000001) when not given"},
    {"user_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_STAFF | OB_UNIQUE,
     .doc = "the portal login of this customer, if any"},
    {"name", OB_F_TEXT, .max = 200, .flags = OB_SORT | OB_SEARCH | OB_PERSONAL, .doc = "person or display name"},
    {"email", OB_F_TEXT, .max = 255, .flags = OB_LOWER | OB_MASKED | OB_SEARCH | OB_PERSONAL, .mask = OB_MASK_EMAIL},
    {"phone", OB_F_TEXT, .max = 20, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_PHONE},
    {"company_name", OB_F_TEXT, .max = 200, .flags = OB_SORT | OB_SEARCH},
    {"business_type", OB_F_TEXT, .max = 50},
    {"tax_number", OB_F_TEXT, .max = 50, .flags = OB_MASKED | OB_ENCRYPTED | OB_PERSONAL, .mask = OB_MASK_SENSITIVE},
    {"tax_id", OB_F_TEXT, .max = 50, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_SENSITIVE},
    {"industry", OB_F_TEXT, .max = 100},
    {"customer_tier", OB_F_ENUM, .enm = &customer_tier, .flags = OB_STAFF | OB_REQUIRED | OB_INDEXED, .dflt = "standard"},
    {"credit_limit", OB_F_DECIMAL, .scale = 2, .flags = OB_STAFF | OB_REQUIRED | OB_HAS_MIN | OB_SORT, .min = 0, .dflt = "0"},
    {"payment_terms", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 999, .dflt = "30",
     .doc = "days"},
    {"billing_address_id", OB_F_REF, .ref = "customer_contacts", .on_delete = OB_DEL_SET_NULL},
    {"shipping_address_id", OB_F_REF, .ref = "customer_contacts", .on_delete = OB_DEL_SET_NULL},
    {"primary_contact_id", OB_F_REF, .ref = "customer_contacts", .on_delete = OB_DEL_SET_NULL},
    {"account_manager_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_STAFF | OB_INDEXED},
    {"status", OB_F_ENUM, .enm = &customer_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "active"},
    {"registration_date", OB_F_DATE, .dflt = "today"},
    {"approval_status", OB_F_ENUM, .enm = &approval_status, .flags = OB_STAFF | OB_REQUIRED, .dflt = "pending"},
    {"approved_by", OB_F_REF, .flags = OB_STAFF, .ref = "users", .on_delete = OB_DEL_SET_NULL},
    {"approved_at", OB_F_TIMESTAMP, .flags = OB_STAFF},
    {"national_id", OB_F_TEXT, .max = 50, .flags = OB_MASKED | OB_ENCRYPTED | OB_PERSONAL, .mask = OB_MASK_SENSITIVE},
    {"date_of_birth", OB_F_DATE, .flags = OB_PERSONAL},
    {"age", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX | OB_PERSONAL, .min = 0, .max = 150},
    {"gender", OB_F_TEXT, .flags = OB_PERSONAL, .max = 20},
    {"nationality", OB_F_TEXT, .flags = OB_PERSONAL, .max = 100},
    {"occupation", OB_F_TEXT, .flags = OB_PERSONAL, .max = 100},
    {"marital_status", OB_F_TEXT, .flags = OB_PERSONAL, .max = 20},
    {"street_address", OB_F_TEXT, .max = 2000, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_ADDRESS},
    {"city", OB_F_TEXT, .max = 100, .flags = OB_SORT},
    {"state", OB_F_TEXT, .max = 100},
    {"zip_code", OB_F_TEXT, .flags = OB_PERSONAL, .max = 20},
    {"country", OB_F_TEXT, .max = 100},
    {"address_type", OB_F_TEXT, .max = 20, .dflt = "home"},
    {"emergency_contact_name", OB_F_TEXT, .flags = OB_PERSONAL, .max = 200},
    {"emergency_contact_relationship", OB_F_TEXT, .flags = OB_PERSONAL, .max = 100},
    {"emergency_contact_phone", OB_F_TEXT, .max = 20, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_PHONE},
    {"emergency_contact_email", OB_F_TEXT, .max = 100, .flags = OB_LOWER | OB_MASKED | OB_PERSONAL, .mask = OB_MASK_EMAIL},
    {"position", OB_F_TEXT, .max = 100},
    {"business_phone", OB_F_TEXT, .max = 20, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_PHONE},
    {"business_address", OB_F_TEXT, .max = 2000, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_ADDRESS},
    {"custom_fields", OB_F_JSON, .flags = OB_STAFF},
    {"notes", OB_F_TEXT, .max = 100000, .flags = OB_SEARCH},
    {"internal_notes", OB_F_TEXT, .flags = OB_STAFF, .max = 100000},
    {"profile_image_id", OB_F_TEXT, .max = 36, .doc = "id of an image (images table arrives with the full model)"},
    {"loyalty_points", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER | OB_HAS_MIN, .min = 0, .dflt = "0", .since = 4,
     .doc = "points balance: moved only by customer_loyalty_points entries (crm), never below 0"},
    {"tax_number_hash", OB_F_TEXT, .max = 64, .flags = OB_SERVER | OB_SECRET, .blind_of = "tax_number", .since = 6,
     .doc = "keyed hash of tax_number (stored sealed): finds customers by tax number without the plaintext"},
    {"erased_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .since = 7,
     .doc = "when the customer's personal data was erased (POST .../erase); erased customers cannot be erased again"},
};
static const ob_index customer_idx[] = {{"status"}, {"customer_tier"}, {"created_at"}, {"tax_number_hash", .since = 6}};
/* 003's loyalty (crm/loyalty.c): points paid towards an invoice */
OB_ACTION_FN(ob_customer_redeem_points);
static const ob_column redeem_input[] = {
    {"points", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_MIN_EXCL | OB_HAS_MAX, .min = 0, .max = 1000000000},
    {"invoice_id", OB_F_REF, .ref = "invoices", .flags = OB_REQUIRED, .doc = "an issued invoice of the customer"},
};
/* a person's erasure (customers/erase.c) */
OB_ACTION_FN(ob_customer_erase);
static const ob_column erase_input[] = {
    {"reason", OB_F_TEXT, .max = 1000, .doc = "why (the request's reference), kept in the erasure record"},
};
static const ob_action customer_actions[] = {
    {"redeem_points", "edit", ob_customer_redeem_points,
     "pay points towards an invoice at the active loyalty programme's point value (409 beyond the balance)",
     OB_INPUT(redeem_input)},
    {"erase", "erase", ob_customer_erase,
     "erase the customer's personal data here and in the records that reference it (pseudonyms; amounts kept), "
     "redact it from their audit images and answer the erasure record (409 under a legal hold, 422 when erased)",
     OB_INPUT(erase_input)},
};
const ob_resource ob_res_customers = {
    .table = "customers", .doc = "the business's customers (companies or people)",
    OB_COLS(customer_cols), OB_INDEXES(customer_idx), .perm = "customers",
    .flags = OB_RES_SOFT_DELETE, .customer_scope = "id", OB_ACTIONS(customer_actions),
    .default_sort = "-created_at",
};

static const ob_column contact_cols[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_INDEXED | OB_IMMUTABLE},
    {"contact_type", OB_F_ENUM, .enm = &contact_type, .flags = OB_INDEXED},
    {"first_name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SORT | OB_PERSONAL},
    {"last_name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SORT | OB_PERSONAL},
    {"title", OB_F_TEXT, .max = 100},
    {"department", OB_F_TEXT, .max = 100},
    {"email", OB_F_TEXT, .max = 255, .flags = OB_LOWER | OB_MASKED | OB_PERSONAL, .mask = OB_MASK_EMAIL},
    {"phone", OB_F_TEXT, .max = 20, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_PHONE},
    {"mobile", OB_F_TEXT, .max = 20, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_PHONE},
    {"address_line1", OB_F_TEXT, .flags = OB_PERSONAL, .max = 200},
    {"address_line2", OB_F_TEXT, .max = 200, .flags = OB_MASKED | OB_PERSONAL, .mask = OB_MASK_ADDRESS},
    {"city", OB_F_TEXT, .max = 100},
    {"state", OB_F_TEXT, .max = 100},
    {"postal_code", OB_F_TEXT, .flags = OB_PERSONAL, .max = 20},
    {"country", OB_F_TEXT, .max = 2, .doc = "ISO 3166-1 alpha-2"},
    {"is_primary", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
};
const ob_resource ob_res_customer_contacts = {
    .table = "customer_contacts", .doc = "people and addresses of a customer",
    OB_COLS(contact_cols), .perm = "customers", .customer_scope = "customer_id",
};
