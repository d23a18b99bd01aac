/* ndr_notify.c - what the buyer hears of an NDR case: an SMS when the case
 * opens (ndr_opened), when the courier has taken a reattempt request
 * (ndr_reattempt_scheduled) and when a rule says so (ndr_follow_up). The
 * three templates are seeded in every tenant as SMS templates, which the
 * tenant may reword or deactivate; messages go through the notification
 * outbox (a notification_logs row and the job notify.send) in the
 * transaction of what caused them. A case without a phone, or a template
 * the tenant switched off, sends nothing and stops nothing. */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "domain/logistics/logistics.h"
#include "domain/notify/notify.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

static const struct {
    const char *code, *name, *body;
} templates[] = {
    {"ndr_opened", "NDR: delivery failed",
     "Hi {{customer_name}}, we could not deliver your order {{order_number}} today ({{reason_code}}). "
     "Reply to arrange another attempt. Ref {{ndr_number}}."},
    {"ndr_reattempt_scheduled", "NDR: reattempt scheduled",
     "Hi {{customer_name}}, your order {{order_number}} will be delivered again on {{reattempt_date}}. "
     "Ref {{ndr_number}}."},
    {"ndr_follow_up", "NDR: follow-up",
     "Hi {{customer_name}}, your order {{order_number}} is waiting to be delivered. Reply with a good time. "
     "Ref {{ndr_number}}."},
};
#define TEMPLATE_VARS "[\"customer_name\",\"order_number\",\"ndr_number\",\"reason_code\",\"reattempt_date\"]"

int ob_ndr_seed_templates(ob_ctx *ctx, ob_err *err)
{
    for (size_t i = 0; i < OB_ARRAY_LEN(templates); i++) {
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(templates[i].name),
                        ob_v_text(templates[i].code), ob_v_text(templates[i].body)};
        /* variables as compact JSON, the engine's form (exports compare rows byte for byte) */
        if (ob_sql_run(ctx->db,
                       "INSERT INTO \"notification_templates\" (\"id\", \"created_at\", \"updated_at\", \"version\", "
                       "\"name\", \"code\", \"type\", \"subject\", \"body\", \"variables\", \"is_active\") "
                       "VALUES (?, ?, ?, 1, ?, ?, 'sms', NULL, ?, '" TEMPLATE_VARS "', TRUE) ON CONFLICT DO NOTHING",
                       v, (int)OB_ARRAY_LEN(v), err) != 0)
            return -1;
    }
    return 0;
}

int ob_ndr_notify(ob_ctx *ctx, const char *code, const ob_row *ndr, const char *reattempt_date, bool *sent,
                  ob_err *err)
{
    if (sent) *sent = false;
    const char *phone = ob_row_text(ndr, NDR_RECORDS_CUSTOMER_PHONE);
    if (!phone || !*phone) return 0;
    ob_row *order;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_ORDERS), ob_row_text(ndr, NDR_RECORDS_ORDER_ID), &order,
                             err) != 0)
        return -1;
    json_t *vars = json_object();
    const struct {
        const char *k, *v;
    } f[] = {
        {"customer_name", ob_row_text(ndr, NDR_RECORDS_CUSTOMER_NAME)},
        {"order_number", ob_row_text(order, ORDERS_ORDER_NUMBER)},
        {"ndr_number", ob_row_text(ndr, NDR_RECORDS_NDR_NUMBER)},
        {"reason_code", ob_row_text(ndr, NDR_RECORDS_REASON_CODE)},
        {"reattempt_date", reattempt_date},
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(f); i++)
        if (f[i].v) json_object_set_new(vars, f[i].k, json_string(f[i].v));
    int rc = ob_notify_vars(ctx, code, phone, vars, "ndr_records", ob_row_id(ndr), NULL, err);
    json_decref(vars);
    if (rc != 0 && err->code == OB_E_UNPROCESSABLE) {
        ob_err_clear(err); /* no active template of the code: the tenant switched it off */
        return 0;
    }
    if (rc == 0 && sent) *sent = true;
    return rc;
}
