/* notify.h - notifications and outgoing webhooks. */
#ifndef OB_NOTIFY_H
#define OB_NOTIFY_H

#include <jansson.h>

#include "base/strbuf.h"
#include "schema/ctx.h"
#include "schema/row.h"

/* The change writer the engine is given: the audit row, then the change's
 * domain events as webhook deliveries, all in the change's transaction. */
int ob_notify_record_change(ob_ctx *ctx, const char *action, const ob_row *old, const ob_row *row, ob_err *err);

/* Queue one signed POST of body to a webhook subscription (a delivery row
 * and the job of its first attempt, retried like every delivery), in the
 * caller's transaction: for notifications that are not a table's events. */
int ob_webhook_outbox(ob_ctx *ctx, const char *subscription_id, const char *event, const char *body, ob_err *err);

/* ONE Record subscriptions (webhooks_one_record.c). Each is delivered
 * through a webhook subscription of its own that names this event. */
#define OB_ONE_RECORD_WEBHOOK_EVENT "one_record.notification"
/* Notify the subscriptions whose topic covers air-cargo shipment ship of
 * event_type (LOGISTICS_OBJECT_UPDATED: old is the shipment before, the
 * changed properties are named; LOGISTICS_EVENT_RECEIVED: ev is the
 * tracking_events row). Nothing for other shipment types. */
int ob_one_record_notify(ob_ctx *ctx, const char *event_type, const ob_row *old, const ob_row *ship,
                         const ob_row *ev, ob_err *err);

/* The job kind webhooks.deliver: one attempt (run, on a reader) and its
 * outcome written to the delivery, with the next attempt queued (settle). */
int ob_webhook_deliver_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
int ob_webhook_deliver_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result,
                              ob_err *err);

/* Notifications (outbox.c), the API other areas call inside their write
 * transaction. ob_notify renders the active template of template_code (the
 * e-mail one when the code has several channels) with the fields of row
 * ({{order_number}}, {{shipping_address.city}}) and queues the message to
 * `to` as a pending notification_logs row (reference_type/id: row's table
 * and id) with the job notify.send, which sends it (e-mail over SMTP, SMS and
 * WhatsApp through the log provider) and marks it sent, or failed after its
 * last attempt. 422 when no active template has the code. */
int ob_notify(ob_ctx *ctx, const char *template_code, const char *to, const ob_row *row, ob_err *err);
/* The same with variables given as a JSON object (not a row); ref_type and
 * ref_id may be NULL; *log_id (optional) receives the message's id. */
int ob_notify_vars(ob_ctx *ctx, const char *template_code, const char *to, json_t *vars, const char *ref_type,
                   const char *ref_id, const char **log_id, ob_err *err);
/* The same, the message kept with metadata (a JSON object, NULL: {}) and
 * sent by the job kind `sender` (NULL: notify.send), one that reads the log
 * row's {"log_id"} payload and settles the row as notify.send does: the
 * API's reports.mail, which attaches a report run's files. */
int ob_notify_vars_by(ob_ctx *ctx, const char *template_code, const char *to, json_t *vars, const char *ref_type,
                      const char *ref_id, const char *metadata, const char *sender, const char **log_id, ob_err *err);
/* The job kind notify.send: one attempt (run, on a reader) and its outcome
 * on the message (settle). */
int ob_notify_send_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
int ob_notify_send_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err);

/* Inbound webhooks (inbound.c), shared by every provider's processing job.
 * ob_inbound_secret: the secret an endpoint verifies with, the one given or
 * 32 random bytes, put in the action's answer this once (ctx->reveal).
 * ob_inbound_take: the stored delivery the job names (payload.inbound_id);
 * *out is NULL when an earlier run settled it (the job's result says how).
 * ob_inbound_settle: record what the run did (status, result, note). */
const char *ob_inbound_secret(ob_ctx *ctx, const char *given);
int ob_inbound_take(ob_ctx *ctx, const ob_row *job, ob_row **out, ob_sb *result, ob_err *err);
int ob_inbound_settle(ob_ctx *ctx, const ob_row *in, const char *status, const char *result_id, const char *note,
                      ob_err *err);

#endif
