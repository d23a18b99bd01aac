/* The support desk: 002's categories, tickets, messages and knowledge base
 * merged with 000's support_tickets and ticket_messages. */
#include "domain/domains.h"
#include "domain/support/support.h"
#include "base/banned.h"

OB_ENUM(ticket_status, "ticket_status", "open", "in_progress", "waiting_customer", "waiting_internal",
        "resolved", "closed", "cancelled");
OB_ENUM(ticket_priority, "ticket_priority", "low", "medium", "high", "urgent");
OB_ENUM(ticket_criticality, "ticket_criticality", "low", "medium", "high", "critical");
OB_ENUM(ticket_source, "ticket_source", "portal", "email", "phone", "chat");
OB_ENUM(sender_type, "sender_type", "customer", "agent", "system");
OB_ENUM(message_type, "message_type", "text", "html", "attachment");
OB_ENUM(category_type, "category_type", "support", "product");

static const ob_column category_cols[] = {
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"description", OB_F_TEXT, .max = 10000, .flags = OB_SEARCH},
    {"category_type", OB_F_ENUM, .enm = &category_type, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "support",
     .doc = "support: ticket categories (002, 000 ticket_categories); product: catalogue categories (003)"},
    {"parent_id", OB_F_REF, .ref = "categories", .on_delete = OB_DEL_SET_NULL,
     .doc = "subcategory of (000 subcategory)"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"response_sla_minutes", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 1,
     .max = 525600, .dflt = "60"},
    {"resolution_sla_minutes", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 1,
     .max = 525600, .dflt = "480"},
    {"priority_level", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX | OB_SORT, .min = 1,
     .max = 5, .dflt = "3"},
    {"image_url", OB_F_TEXT, .max = 500},
    {"thumbnail_url", OB_F_TEXT, .max = 500},
    {"icon_image_url", OB_F_TEXT, .max = 500},
    {"business_calendar_id", OB_F_REF, .ref = "business_calendars", .on_delete = OB_DEL_SET_NULL, .since = 4,
     .doc = "the hours its tickets' SLA minutes count in (calendars.c); null: around the clock"},
    {"breach_priority", OB_F_ENUM, .enm = &ticket_priority, .since = 5,
     .doc = "the priority a ticket of this category is raised to when its SLA is breached (never lowered); "
            "null: one step up"},
    {"auto_response", OB_F_TEXT, .max = 10000, .since = 5,
     .doc = "when set, a new ticket of this category gets this reply at once ({{ticket_number}} is replaced), "
            "a ticket_messages row with is_auto_response true from the system, which is not a first response"},
};
const ob_resource ob_res_categories = {
    .table = "categories", .doc = "categories of tickets (with response and resolution SLA) and of products",
    OB_COLS(category_cols), .perm = "categories", .flags = OB_RES_SHARED, .default_sort = "name",
};

static const ob_column ticket_cols[] = {
    {"ticket_number", OB_F_TEXT, .number_prefix = "TKT", .max = 50, .flags = OB_REQUIRED | OB_UNIQUE | OB_SERVER | OB_SORT,
     .doc = "TKT-000001, per tenant"},
    {"customer_id", OB_F_REF, .ref = "customers", .flags = OB_REQUIRED | OB_INDEXED | OB_IMMUTABLE},
    {"category_id", OB_F_REF, .ref = "categories", .on_delete = OB_DEL_SET_NULL, .flags = OB_CUSTOMER_WRITE | OB_INDEXED},
    {"subcategory", OB_F_TEXT, .flags = OB_CUSTOMER_WRITE, .max = 50},
    {"assigned_agent_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_STAFF | OB_SERVER,
     .doc = "set by auto-assignment or the assign action"},
    {"assigned_team", OB_F_TEXT, .flags = OB_STAFF, .max = 50},
    {"assigned_at", OB_F_TIMESTAMP, .flags = OB_STAFF | OB_SERVER},
    {"created_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_STAFF | OB_SERVER,
     .stamp = OB_STAMP_ACTOR},
    {"title", OB_F_TEXT, .max = 255, .flags = OB_CUSTOMER_WRITE | OB_REQUIRED | OB_SEARCH | OB_SORT},
    {"description", OB_F_TEXT, .max = 100000, .flags = OB_CUSTOMER_WRITE | OB_REQUIRED | OB_SEARCH},
    {"status", OB_F_ENUM, .enm = &ticket_status, .flags = OB_REQUIRED | OB_SERVER | OB_SORT, .dflt = "open"},
    {"priority", OB_F_ENUM, .enm = &ticket_priority, .flags = OB_CUSTOMER_WRITE | OB_REQUIRED | OB_SORT, .dflt = "medium"},
    {"priority_level", OB_F_INT, .flags = OB_REQUIRED | OB_GENERATED | OB_HAS_MIN | OB_HAS_MAX | OB_SORT, .min = 1, .max = 5,
     .doc = "1 (lowest) to 5; defaults to the category's priority_level"},
    {"criticality", OB_F_ENUM, .enm = &ticket_criticality, .flags = OB_STAFF | OB_REQUIRED, .dflt = "low"},
    {"source", OB_F_ENUM, .enm = &ticket_source, .flags = OB_CUSTOMER_WRITE | OB_REQUIRED, .dflt = "portal"},
    {"response_due_at", OB_F_TIMESTAMP, .flags = OB_SERVER | OB_SORT,
     .doc = "created_at + the category's response_sla_minutes"},
    {"sla_due_date", OB_F_TIMESTAMP, .flags = OB_SERVER | OB_SORT,
     .doc = "resolution due: created_at + the category's resolution_sla_minutes"},
    {"first_response_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"resolved_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "resolved",
     .clear_on = "open"},
    {"closed_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "closed,cancelled"},
    {"resolution_notes", OB_F_TEXT, .max = 100000},
    {"customer_satisfaction", OB_F_INT, .flags = OB_SERVER | OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 5,
     .doc = "CSAT 1-5, given once by the rate action on a resolved or closed ticket"},
    {"satisfaction_feedback", OB_F_TEXT, .flags = OB_SERVER, .max = 1000, .doc = "the rating's comment"},
    {"sla_paused_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .since = 5, .stamp = OB_STAMP_NOW,
     .stamp_on = "waiting_customer", .clear_on = "open,in_progress,waiting_internal,resolved,closed,cancelled",
     .doc = "when the SLA clock stopped (waiting for the customer); on leaving that state the due times "
            "move out by the business time the pause took"},
    {"sla_breached_at", OB_F_TIMESTAMP, .flags = OB_SERVER | OB_SORT, .since = 5,
     .doc = "set once by the tickets.sla_check job when an active ticket passed a due time "
            "(event tickets.sla_breached)"},
};
static const ob_index ticket_idx[] = {
    {"status,created_at,id"}, /* the seeds' status index, ordered for "newest first" pages */
    {"customer_id,status"},
    {"assigned_agent_id", .where = "assigned_agent_id IS NOT NULL"},
    {"created_at"},
};
static const ob_column ticket_assign_input[] = {
    {"agent_id", OB_F_REF, .ref = "users", .doc = "the agent to assign; absent: the least-loaded active agent"},
};
/* the range is checked by the action: a rating outside 1-5 is a request
 * that cannot be carried out (422), not a malformed one */
static const ob_column ticket_rate_input[] = {
    {"rating", OB_F_INT, .flags = OB_REQUIRED | OB_CUSTOMER_WRITE, .doc = "1 (poor) to 5 (excellent)"},
    {"comment", OB_F_TEXT, .max = 1000, .flags = OB_CUSTOMER_WRITE},
};
OB_ACTION_FN(ob_ticket_rate);
static const ob_action ticket_actions[] = {
    {"assign", "assign", ob_ticket_assign, "assign to an agent (agent_id) or to the least-loaded agent ({})",
     OB_INPUT(ticket_assign_input)},
    {"rate", "rate", ob_ticket_rate,
     "the customer's satisfaction (CSAT) with a resolved or closed ticket, once: {\"rating\": 1-5, \"comment\": ...}; "
     "a second rating is 409",
     OB_INPUT(ticket_rate_input), .from = "resolved,closed"},
};
const ob_resource ob_res_tickets = {
    .table = "tickets", .doc = "support tickets raised by or for customers",
    OB_COLS(ticket_cols), OB_INDEXES(ticket_idx), .perm = "tickets", .customer_scope = "customer_id",
    .fsm = &ob_ticket_fsm, .hooks = &ob_ticket_hooks, OB_ACTIONS(ticket_actions), .default_sort = "-created_at",
    .flag_event = &(const ob_flag_event){"sla_breached_at", "sla_breached"},
    .retention = &(const ob_retention){.days = 365, .age_col = "updated_at", .when = "\"status\" IN ('closed', 'cancelled')", .customer_col = "customer_id", .source = "closed tickets archived after 1 year (002)"},
    .quota = &(const ob_quota){OB_LIMIT_TICKETS_MONTH, "tickets"},
};

static const ob_column message_cols[] = {
    {"ticket_id", OB_F_REF, .ref = "tickets", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"sender_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER},
    {"sender_type", OB_F_ENUM, .enm = &sender_type, .flags = OB_REQUIRED | OB_SERVER, .dflt = "agent"},
    {"content", OB_F_TEXT, .max = 100000, .flags = OB_CUSTOMER_WRITE | OB_REQUIRED | OB_SEARCH},
    {"message_type", OB_F_ENUM, .enm = &message_type, .flags = OB_CUSTOMER_WRITE | OB_REQUIRED, .dflt = "text"},
    {"is_internal", OB_F_BOOL, .flags = OB_STAFF | OB_REQUIRED | OB_IMMUTABLE, .dflt = "false"},
    {"is_auto_response", OB_F_BOOL, .flags = OB_REQUIRED | OB_IMMUTABLE, .dflt = "false"},
    {"is_solution", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
};
static const ob_index message_idx[] = {{"ticket_id,created_at"}};
/* internal notes are staff's: for customer users they do not exist */
static const ob_row_rule message_customer_rows[] = {{"is_internal", "false"}};
const ob_resource ob_res_ticket_messages = {
    .table = "ticket_messages", .doc = "conversation on a ticket: replies, internal notes, auto-responses",
    OB_COLS(message_cols), OB_INDEXES(message_idx), .perm = "tickets",
    .customer_scope = "ticket_id.customer_id", OB_CUSTOMER_ROWS(message_customer_rows), .hooks = &ob_message_hooks, .default_sort = "created_at",
    .retention = &(const ob_retention){.days = 730, .source = "messages 2 years (002)"},
};

static const ob_column document_cols[] = {
    {"title", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SEARCH | OB_SORT},
    {"content", OB_F_TEXT, .max = 1000000, .flags = OB_REQUIRED | OB_SEARCH},
    {"is_public", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false"},
};
/* customers read the published articles of the knowledge base */
static const ob_row_rule document_customer_rows[] = {{"is_public", "true"}};
const ob_resource ob_res_documents = {
    .table = "documents", .doc = "knowledge-base articles",
    OB_COLS(document_cols), .perm = "documents", .flags = OB_RES_SHARED, OB_CUSTOMER_ROWS(document_customer_rows),
    .default_sort = "-created_at",
};

static const ob_column doc_cat_cols[] = {
    {"document_id", OB_F_REF, .ref = "documents", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"category_id", OB_F_REF, .ref = "categories", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_IMMUTABLE | OB_INDEXED},
};
static const ob_index doc_cat_idx[] = {{"document_id,category_id", .unique = true}};
const ob_resource ob_res_document_categories = {
    .table = "document_categories", .doc = "links knowledge-base documents to categories",
    OB_COLS(doc_cat_cols), OB_INDEXES(doc_cat_idx), .perm = "documents",
    .flags = OB_RES_APPEND_ONLY | OB_RES_LINK,
};
