/* Services of the air-cargo portal (000): the service catalogue, service
 * centres, service requests with their documents, and the queue at the
 * counters. 000 names service_centers and request_documents without defining
 * them; they are designed here as its ERD and a portal user need them. */
#include "domain/domains.h"
#include "domain/logistics/logistics.h"
#include "base/banned.h"

OB_ENUM(service_status, "service_status", "active", "inactive");
OB_ENUM(request_priority, "request_priority", "low", "medium", "high", "urgent");
OB_ENUM(request_status, "service_request_status", "draft", "submitted", "in_review", "approved", "in_progress",
        "completed", "cancelled", "rejected");
OB_ENUM(request_document_status, "request_document_status", "pending", "uploaded", "verified", "rejected");
OB_ENUM(queue_status, "queue_status", "waiting", "called", "serving", "completed", "no_show", "cancelled");

/* NUMBER(p,s) limits as minor units: NUMBER(10,2) -> 99999999.99. */
#define MAX_NUM_10_2 INT64_C(9999999999)
#define MAX_NUM_15_2 INT64_C(999999999999999)

static const ob_column service_type_cols[] = {
    {"service_code", OB_F_TEXT, .max = 20, .flags = OB_REQUIRED | OB_UNIQUE | OB_SORT,
     .doc = "AIR_FREIGHT, CUSTOMS, WAREHOUSE, ..."},
    {"service_name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"service_description", OB_F_TEXT, .max = 500, .flags = OB_SEARCH},
    {"service_category", OB_F_TEXT, .max = 50, .flags = OB_INDEXED, .doc = "FREIGHT, CUSTOMS, WAREHOUSE, ..."},
    {"base_price", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MAX, .max = MAX_NUM_10_2},
    {"currency", OB_F_TEXT, .max = 3, .dflt = "USD", .doc = "ISO 4217"},
    {"sla_hours", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 999, .dflt = "24"},
    {"requires_approval", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false",
     .doc = "requests of this type go through in_review/approved before work starts"},
    {"status", OB_F_ENUM, .enm = &service_status, .flags = OB_REQUIRED | OB_INDEXED, .dflt = "active"},
    {"token_prefix", OB_F_TEXT, .max = 3, .pattern = "^[A-Z]{1,3}$", .since = 4,
     .doc = "letters in front of the queue tokens of this service (C001, ...); A when not set"},
    {"business_calendar_id", OB_F_REF, .ref = "business_calendars", .on_delete = OB_DEL_SET_NULL, .since = 5,
     .doc = "the working hours sla_hours are counted in; null: clock hours"},
};
const ob_resource ob_res_service_types = {
    .table = "service_types", .doc = "the catalogue of services customers can request (000)",
    OB_COLS(service_type_cols), .perm = "services", .flags = OB_RES_SHARED, .default_sort = "service_code",
};

static const ob_column service_center_cols[] = {
    {"code", OB_F_TEXT, .max = 20, .flags = OB_REQUIRED | OB_UNIQUE | OB_SORT, .doc = "short code shown on tickets"},
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH,
     .doc = "the name 000's queue_numbers.service_center holds"},
    {"airport_code", OB_F_TEXT, .max = 3, .flags = OB_INDEXED, .doc = "IATA code of the airport served"},
    {"address_line1", OB_F_TEXT, .max = 200},
    {"address_line2", OB_F_TEXT, .max = 200},
    {"city", OB_F_TEXT, .max = 100, .flags = OB_SORT | OB_SEARCH},
    {"state", OB_F_TEXT, .max = 100},
    {"postal_code", OB_F_TEXT, .max = 20},
    {"country", OB_F_TEXT, .max = 2, .doc = "ISO 3166-1 alpha-2"},
    {"phone", OB_F_TEXT, .max = 20},
    {"email", OB_F_TEXT, .max = 255, .flags = OB_LOWER},
    {"timezone", OB_F_TEXT, .max = 50, .doc = "IANA name, e.g. Asia/Kolkata"},
    {"opening_hours", OB_F_JSON, .doc = "e.g. {\"mon\": [\"08:00\", \"18:00\"]}"},
    {"counters", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 999,
     .doc = "service counters open to the queue"},
    {"manager_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
    {"default_service_minutes", OB_F_INT, .flags = OB_REQUIRED | OB_HAS_MIN | OB_HAS_MAX, .min = 1, .max = 600,
     .dflt = "5", .since = 4,
     .doc = "service time assumed per customer until the centre has served one (queue estimates)"},
};
/* The queue at the counters (queue.c). */
OB_ACTION_FN(ob_centre_issue_token);
OB_ACTION_FN(ob_centre_call_next);
static const ob_column centre_token_input[] = {
    {"customer_id", OB_F_REF, .ref = "customers", .flags = OB_REQUIRED},
    {"service_type", OB_F_TEXT, .max = 20, .doc = "the service_code of a service type (its token_prefix)"},
};
static const ob_action centre_actions[] = {
    {"tokens", "create", ob_centre_issue_token,
     "issue the next queue token of the centre for today in its time zone (the centre's timezone, else the "
     "tenant's): A001, A002, ... or the service type's token_prefix; answers the queue_numbers row, with "
     "estimated_wait_minutes = people waiting ahead x the mean service time of the last 20 served here "
     "(default_service_minutes before any)",
     OB_INPUT(centre_token_input)},
    {"call_next", "edit", ob_centre_call_next,
     "call the next waiting token of today (status called) and re-estimate every waiting token; answers the "
     "called queue_numbers row"},
};
const ob_resource ob_res_service_centers = {
    .table = "service_centers", .doc = "counters and offices where customers are served (000 queue)",
    OB_COLS(service_center_cols), .perm = "services", .flags = OB_RES_SHARED, OB_ACTIONS(centre_actions),
    .default_sort = "code",
};

static const ob_column service_request_cols[] = {
    {"request_number", OB_F_TEXT, .number_prefix = "SR", .max = 50, .flags = OB_REQUIRED | OB_GENERATED | OB_UNIQUE | OB_SORT | OB_SEARCH,
     .doc = "generated (SR-000001) when not given"},
    {"customer_id", OB_F_REF, .ref = "customers", .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"service_type_id", OB_F_REF, .ref = "service_types", .flags = OB_CUSTOMER_WRITE | OB_REQUIRED},
    {"request_title", OB_F_TEXT, .max = 200, .flags = OB_CUSTOMER_WRITE | OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"request_description", OB_F_TEXT, .max = 100000, .flags = OB_CUSTOMER_WRITE | OB_SEARCH},
    {"priority", OB_F_ENUM, .enm = &request_priority, .flags = OB_CUSTOMER_WRITE | OB_REQUIRED | OB_SORT, .dflt = "medium"},
    {"status", OB_F_ENUM, .enm = &request_status, .flags = OB_REQUIRED | OB_SERVER, .dflt = "submitted",
     .doc = "draft: being written; submitted: sent by the customer; in_review: checked by staff (types that "
            "require approval start here); approved: may start; in_progress: being worked; completed: done; "
            "cancelled: withdrawn; rejected: refused in review. Moved only by the events"},
    {"estimated_cost", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MAX, .max = MAX_NUM_15_2},
    {"actual_cost", OB_F_DECIMAL, .scale = 2, .flags = OB_HAS_MAX, .max = MAX_NUM_15_2},
    {"currency", OB_F_TEXT, .flags = OB_CUSTOMER_WRITE, .max = 3, .dflt = "USD", .doc = "ISO 4217"},
    {"requested_date", OB_F_DATE, .flags = OB_CUSTOMER_WRITE | OB_SORT},
    {"expected_completion_date", OB_F_DATE, .flags = OB_CUSTOMER_WRITE | OB_SORT, .doc = "not before requested_date"},
    {"actual_completion_date", OB_F_DATE},
    {"assigned_to", OB_F_REF, .flags = OB_STAFF, .ref = "users", .on_delete = OB_DEL_SET_NULL},
    {"created_by", OB_F_REF, .ref = "users", .flags = OB_STAFF | OB_REQUIRED | OB_SERVER, .stamp = OB_STAMP_ACTOR,
     .doc = "the user who created it"},
    {"approved_by", OB_F_REF, .flags = OB_STAFF | OB_SERVER, .ref = "users", .on_delete = OB_DEL_SET_NULL,
     .stamp = OB_STAMP_ACTOR, .stamp_on = "approved", .doc = "who approved it (the approve event)"},
    {"approved_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "approved"},
    {"completed_by", OB_F_REF, .flags = OB_STAFF | OB_SERVER, .ref = "users", .on_delete = OB_DEL_SET_NULL,
     .stamp = OB_STAMP_ACTOR, .stamp_on = "completed"},
    {"completed_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "completed"},
    {"sla_due_at", OB_F_TIMESTAMP, .flags = OB_SERVER | OB_SORT, .since = 4,
     .doc = "when the request is due: created_at + the service type's sla_hours, in the working hours of its "
            "business calendar when it names one, else clock hours"},
    {"sla_breached", OB_F_BOOL, .flags = OB_REQUIRED | OB_SERVER, .dflt = "false", .since = 4,
     .doc = "set by the services.sla_check job when the request is still open past sla_due_at; "
            "emits service_requests.sla_breached"},
};
static const ob_index service_request_idx[] = {{"status"}, {"customer_id,status"}};
static const ob_check service_request_checks[] = {
    {"chk_service_request_dates", "expected_completion_date", OB_CMP_GTE, "requested_date"},
};
/* The request's life (requests.c): a type that requires approval starts in
 * in_review and must be approved (services.approve) before work starts. */
OB_EFFECT_FN(ob_service_request_submit);
OB_GUARD_FN(ob_service_request_may_start);
OB_EFFECT_FN(ob_service_request_complete);
extern const ob_hooks ob_service_request_hooks;
static const ob_transition service_request_transitions[] = {
    {"submit", "draft", "submitted", NULL, ob_service_request_submit, "create"},
    {"review", "submitted", "in_review", NULL, NULL, NULL},
    {"approve", "in_review", "approved", NULL, NULL, "approve"},
    {"reject", "in_review", "rejected", NULL, NULL, "approve"},
    {"start", "submitted,approved", "in_progress", ob_service_request_may_start, NULL, NULL},
    {"complete", "in_progress", "completed", NULL, ob_service_request_complete, NULL},
    {"cancel", "draft,submitted,in_review,approved", "cancelled", NULL, NULL, "create"},
};
static const ob_fsm service_request_fsm = {
    "status", service_request_transitions,
    (int)(sizeof service_request_transitions / sizeof service_request_transitions[0]), "edit"};
const ob_resource ob_res_service_requests = {
    .table = "service_requests", .doc = "services a customer asked for (000)",
    OB_COLS(service_request_cols), OB_INDEXES(service_request_idx), OB_CHECKS(service_request_checks),
    .perm = "services", .customer_scope = "customer_id", .fsm = &service_request_fsm,
    .hooks = &ob_service_request_hooks, .default_sort = "-created_at",
    .flag_event = &(const ob_flag_event){"sla_breached", "sla_breached"},
};

static const ob_column request_document_cols[] = {
    {"service_request_id", OB_F_REF, .ref = "service_requests", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"document_name", OB_F_TEXT, .max = 200, .flags = OB_CUSTOMER_WRITE | OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"document_type", OB_F_TEXT, .max = 50, .flags = OB_CUSTOMER_WRITE | OB_INDEXED,
     .doc = "commercial_invoice, packing_list, certificate_of_origin, ..."},
    {"is_required", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "false",
     .doc = "the request cannot proceed without it"},
    {"status", OB_F_ENUM, .enm = &request_document_status, .flags = OB_REQUIRED | OB_INDEXED | OB_SERVER,
     .dflt = "pending",
     .doc = "pending: expected, no file yet; uploaded: file given (a new file_id moves any state here); "
            "verified: checked by staff (verify); rejected: not acceptable (reject, with rejection_reason)"},
    {"file_name", OB_F_TEXT, .flags = OB_SERVER, .max = 255},
    {"file_path", OB_F_TEXT, .flags = OB_SERVER | OB_STAFF, .max = 1000},
    {"file_size", OB_F_INT, .flags = OB_SERVER | OB_HAS_MIN, .min = 0, .doc = "bytes"},
    {"mime_type", OB_F_TEXT, .flags = OB_SERVER, .max = 100},
    {"file_hash", OB_F_TEXT, .flags = OB_SERVER, .max = 64, .doc = "SHA-256, hex"},
    {"uploaded_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_STAFF | OB_SERVER, .stamp = OB_STAMP_ACTOR},
    {"verified_by", OB_F_REF, .flags = OB_STAFF | OB_SERVER, .ref = "users", .on_delete = OB_DEL_SET_NULL,
     .stamp = OB_STAMP_ACTOR, .stamp_on = "verified", .clear_on = "pending,uploaded,rejected"},
    {"verified_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "verified",
     .clear_on = "pending,uploaded,rejected"},
    {"rejection_reason", OB_F_TEXT, .max = 500, .doc = "why it was rejected: given with the reject event"},
    {"notes", OB_F_TEXT, .flags = OB_CUSTOMER_WRITE, .max = 2000},
    {"file_id", OB_F_REF, .ref = "files", .on_delete = OB_DEL_RESTRICT, .flags = OB_CUSTOMER_WRITE | OB_INDEXED,
     .since = 4, .doc = "the uploaded file, once there is one; the file columns are copied from it"},
};
static const ob_copy_col request_document_file_copy[] = {
    {"file_name", "file_name"}, {"file_path", "storage_key"}, {"file_size", "file_size"},
    {"mime_type", "mime_type"}, {"file_hash", "sha256"},
};
static const ob_ref_copy request_document_file = {"file_id", request_document_file_copy, 5, false};
/* Staff who approve requests check their documents. The request's customer
 * attaches the file of a pending document, or a new one for a rejected one
 * (services.create, which the portal role holds; their own requests only, by
 * the customer scope; hooks.c checks the file is theirs). A new file_id by
 * PATCH (staff) moves any state to uploaded the same way. */
OB_GUARD_FN(ob_request_document_attach_guard);
static const ob_transition request_document_transitions[] = {
    {"attach", "pending,rejected", "uploaded", ob_request_document_attach_guard, NULL, "create", "file_id"},
    {"verify", "uploaded", "verified", NULL, NULL, "approve"},
    {"reject", "uploaded,verified", "rejected", NULL, NULL, "approve", "rejection_reason"},
};
static const ob_fsm request_document_fsm = {
    "status", request_document_transitions,
    (int)(sizeof request_document_transitions / sizeof request_document_transitions[0]), "approve"};
extern const ob_hooks ob_request_document_hooks;
const ob_resource ob_res_request_documents = {
    .table = "request_documents", .doc = "documents a service request needs or has (000 ERD)",
    OB_COLS(request_document_cols), .perm = "services", .customer_scope = "service_request_id.customer_id",
    .default_sort = "created_at", .copy = &request_document_file, .fsm = &request_document_fsm,
    .hooks = &ob_request_document_hooks,
};

static const ob_column queue_number_cols[] = {
    {"queue_number", OB_F_TEXT, .number_prefix = "Q", .max = 20, .flags = OB_REQUIRED | OB_GENERATED | OB_SORT,
     .doc = "generated (Q-000001) when not given"},
    {"customer_id", OB_F_REF, .ref = "customers", .flags = OB_REQUIRED | OB_IMMUTABLE},
    {"service_center_id", OB_F_REF, .flags = OB_CUSTOMER_WRITE, .ref = "service_centers"},
    {"service_center", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_GENERATED,
     .doc = "the centre's name; taken from service_center_id when not given"},
    {"service_type_id", OB_F_REF, .flags = OB_CUSTOMER_WRITE, .ref = "service_types", .on_delete = OB_DEL_SET_NULL},
    {"service_type", OB_F_TEXT, .max = 50, .doc = "taken from service_type_id (its service_code) when not given"},
    {"queue_date", OB_F_DATE, .flags = OB_CUSTOMER_WRITE | OB_REQUIRED | OB_SORT, .dflt = "today"},
    {"estimated_wait_minutes", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 9999},
    {"actual_wait_minutes", OB_F_INT, .flags = OB_HAS_MIN | OB_HAS_MAX, .min = 0, .max = 9999},
    {"status", OB_F_ENUM, .enm = &queue_status, .flags = OB_REQUIRED | OB_SERVER, .dflt = "waiting",
     .doc = "waiting: in the queue; called: called to a counter (service_centers call_next); serving: being "
            "served; completed: done; no_show: did not come when called; cancelled: left the queue. Moved by "
            "call_next and the events"},
    {"called_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
    {"served_at", OB_F_TIMESTAMP, .doc = "when service began: given to serve, else the time of the event"},
    {"completed_at", OB_F_TIMESTAMP,
     .doc = "when service ended: given to complete, else the time of the event; not before served_at"},
    {"served_by", OB_F_REF, .flags = OB_STAFF | OB_SERVER, .ref = "users", .on_delete = OB_DEL_SET_NULL,
     .stamp = OB_STAMP_ACTOR, .stamp_on = "serving,completed"},
    {"notes", OB_F_TEXT, .max = 500},
};
static const ob_index queue_number_idx[] = {
    {"queue_date,service_center"},
    {"queue_date,service_center_id"},
    {"status"},
};
OB_EFFECT_FN(ob_queue_serve);
OB_EFFECT_FN(ob_queue_complete);
static const ob_transition queue_transitions[] = {
    {"serve", "called", "serving", NULL, ob_queue_serve, NULL, "served_at"},
    {"complete", "serving", "completed", NULL, ob_queue_complete, NULL, "completed_at"},
    {"no_show", "called", "no_show", NULL, NULL, NULL},
    {"cancel", "waiting,called", "cancelled", NULL, NULL, NULL},
};
static const ob_fsm queue_fsm = {
    "status", queue_transitions, (int)(sizeof queue_transitions / sizeof queue_transitions[0]), "edit"};
const ob_resource ob_res_queue_numbers = {
    .table = "queue_numbers", .doc = "queue tickets of customers at service centres (000)",
    OB_COLS(queue_number_cols), OB_INDEXES(queue_number_idx), .perm = "services", .customer_scope = "customer_id",
    .hooks = &ob_queue_number_hooks, .fsm = &queue_fsm, .default_sort = "-created_at",
};
