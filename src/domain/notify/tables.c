/* Notifications: 001's message templates and the delivery log. */
#include "domain/domains.h"
#include "base/banned.h"

OB_ENUM(notification_type, "notification_type", "email", "sms", "whatsapp");
OB_ENUM(notification_status, "notification_status", "pending", "sent", "delivered", "failed");

static const ob_column template_cols[] = {
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"code", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SORT, .doc = "unique together with type"},
    {"type", OB_F_ENUM, .enm = &notification_type, .flags = OB_REQUIRED | OB_INDEXED, .doc = "the channel"},
    {"subject", OB_F_TEXT, .max = 500, .flags = OB_SEARCH},
    {"body", OB_F_TEXT, .max = 100000, .flags = OB_REQUIRED | OB_SEARCH},
    {"variables", OB_F_JSON, .dflt = "[]", .doc = "names the body uses: [\"customer_name\", \"order_number\"]"},
    {"is_active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true"},
};
static const ob_index template_idx[] = {{"code,type", .unique = true}};
/* outbox.c: every {{placeholder}} of subject and body must be in variables
 * (422 at save); send queues one message rendered with the given variables. */
extern const ob_hooks ob_template_hooks;
OB_ACTION_FN(ob_template_send);
static const ob_column template_send_input[] = {
    {"to", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED, .doc = "an e-mail address or a phone number, per type"},
    {"variables", OB_F_JSON, .doc = "the values of the placeholders, an object; absent ones render empty"},
};
static const ob_action template_actions[] = {
    {"send", "send", ob_template_send,
     "queue one message from this template (answered with notification_log_id; sent by the job notify.send)",
     OB_INPUT(template_send_input)},
};
const ob_resource ob_res_notification_templates = {
    .table = "notification_templates", .doc = "message templates per channel (email, sms, whatsapp)",
    OB_COLS(template_cols), OB_INDEXES(template_idx), .perm = "notifications", .default_sort = "code",
    .hooks = &ob_template_hooks, OB_ACTIONS(template_actions),
};

static const ob_column log_cols[] = {
    {"template_id", OB_F_REF, .ref = "notification_templates"},
    {"type", OB_F_ENUM, .enm = &notification_type, .flags = OB_REQUIRED},
    {"recipient", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_MASKED, .mask = OB_MASK_EMAIL,
     .doc = "an e-mail address or a phone number, per type; masked like an e-mail (first 2 characters kept)"},
    {"subject", OB_F_TEXT, .max = 500},
    {"body", OB_F_TEXT, .max = 100000, .flags = OB_REQUIRED},
    {"status", OB_F_ENUM, .enm = &notification_status, .flags = OB_REQUIRED,
     .doc = "pending: queued; sent: handed to the provider; delivered: the provider confirmed; failed: see "
            "error_message"},
    {"error_message", OB_F_TEXT, .max = 100000},
    {"reference_type", OB_F_TEXT, .max = 50, .doc = "the kind of record it is about: order, shipment, ndr, ..."},
    {"reference_id", OB_F_TEXT, .max = 36, .doc = "id of that record"},
    {"sent_at", OB_F_TIMESTAMP},
    {"delivered_at", OB_F_TIMESTAMP},
    {"metadata", OB_F_JSON, .dflt = "{}"},
};
static const ob_index log_idx[] = {{"status"}, {"reference_type,reference_id"}, {"created_at"}};
const ob_resource ob_res_notification_logs = {
    .table = "notification_logs", .doc = "every notification sent, written by the server (read-only)",
    OB_COLS(log_cols), OB_INDEXES(log_idx), .perm = "notifications",
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY, .default_sort = "-created_at",
};
