/* notify.h - notifications and outgoing webhooks. */
#ifndef OB_NOTIFY_H
#define OB_NOTIFY_H

#include "base/strbuf.h"
#include "schema/ctx.h"
#include "schema/row.h"

/* The change writer the engine is given: the audit row, then the change's
 * domain events as webhook deliveries, all in the change's transaction. */
int ob_notify_record_change(ob_ctx *ctx, const char *action, const ob_row *old, const ob_row *row, ob_err *err);

/* The job kind webhooks.deliver: one attempt (run, on a reader) and its
 * outcome written to the delivery, with the next attempt queued (settle). */
int ob_webhook_deliver_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
int ob_webhook_deliver_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result,
                              ob_err *err);

#endif
