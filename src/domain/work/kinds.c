/* kinds.c - the kinds of background job the workers know. */
#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "base/base.h"
#include "domain/analytics/analytics.h"
#include "domain/commerce/commerce.h"
#include "domain/crm/crm.h"
#include "domain/files/media.h"
#include "domain/logistics/logistics.h"
#include "domain/logistics/courier.h"
#include "domain/notify/notify.h"
#include "domain/support/support.h"
#include "domain/work/work.h"
#include "schema/ledger.h"
#include "gen/columns.h"
#include "base/banned.h"

/* Verify every ledger of the tenant (what `opsbase check-ledgers` does), as a
 * job a schedule or an operator can run; reports {"mismatches": N}. */
static int ledgers_check(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    (void)job;
    int64_t total = 0;
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (!t->res->ledger || t->res->scope != OB_SCOPE_TENANT) continue;
        int64_t n = 0;
        if (ob_ledger_check(ctx, t, NULL, NULL, &n, err) != 0) return -1;
        total += n;
    }
    ob_sb_addf(result, "{\"mismatches\":%lld}", (long long)total);
    if (total) return ob_err_set(err, OB_E_CONFLICT, "%lld ledger balance(s) differ from their entries", (long long)total);
    return 0;
}

/* Wait {"ms": N} (at most 10 minutes), then succeed: a drill for the queue
 * itself (a worker killed in the middle, leases, shutdown). */
static int system_sleep(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    (void)ctx;
    const char *p = ob_row_text(job, JOBS_PAYLOAD);
    json_t *j = json_loads(p ? p : "{}", 0, NULL);
    json_t *ms = json_object_get(j, "ms");
    json_int_t n = json_is_integer(ms) ? json_integer_value(ms) : 0;
    json_decref(j);
    if (n < 0 || n > 600000) return ob_err_set(err, OB_E_UNPROCESSABLE, "ms must be 0 to 600000");
    struct timespec ts = {.tv_sec = (time_t)(n / 1000), .tv_nsec = (long)(n % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) continue;
    ob_sb_addf(result, "{\"slept_ms\":%lld}", (long long)n);
    return 0;
}

/* Always fails: a drill for retries, back-off and dead jobs (and the alerts
 * an operator keys on them). */
static int system_fail(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    (void)ctx;
    (void)job;
    (void)result;
    return ob_err_set(err, OB_E_UNPROCESSABLE, "this job fails by design");
}

static const ob_job_kind job_kinds[] = {
    {"ledgers.check", false, ledgers_check, "verify every ledger balance against its entries"},
    {"loyalty.expire", true, ob_loyalty_expire_run,
     "write an expired entry for loyalty points left unspent past their expiry_date (payload.date, default today; "
     "scheduled daily)"},
    {"crm.follow_ups", true, ob_crm_follow_ups_run,
     "tell the user who recorded each overdue follow-up, once (notification template crm_follow_up_overdue; "
     "scheduled every 15 minutes)"},
    {"inventory.metrics", true, ob_inventory_metrics_run,
     "roll a day's stock ledger and stock into analytics_metrics (payload.date, default yesterday)"},
    {"services.sla_check", true, ob_service_sla_check,
     "mark open service requests past their sla_due_at as breached (event service_requests.sla_breached)"},
    {"tickets.sla_check", true, ob_ticket_sla_check,
     "mark active tickets past a due time breached once, raising their priority (event tickets.sla_breached)"},
    {"system.sleep", false, system_sleep, "wait payload.ms milliseconds (a drill)"},
    {"system.fail", false, system_fail, "fail every time (a drill for retries and dead jobs)"},
    {"webhooks.deliver", false, ob_webhook_deliver_run, "one attempt of a webhook delivery (queued by the server)",
     ob_webhook_deliver_settle},
    {"couriers.track", true, ob_courier_track_run,
     "ask the courier of each open courier shipment (or payload.shipment_id) for its scans and append them"},
    {"ndr.rules", true, ob_ndr_rules_run,
     "run the tenant's NDR rules on one failed delivery attempt (payload.ndr_id, payload.attempt) and log the run "
     "in ndr_rule_runs (queued by the failed-delivery scan)"},
    {"ndr.reattempt", false, ob_ndr_reattempt_run,
     "put one NDR reattempt request (payload.action_id) to the courier's adapter; refused, it is tried again with "
     "back-off, 3 tries in all, then marked failed (queued by the reattempt action)",
     ob_ndr_reattempt_settle},
    {"couriers.inbound", true, ob_courier_inbound_run,
     "apply one stored courier tracking webhook (payload.inbound_id) to the shipment of its AWB (queued by the "
     "server)"},
    {"inbound.process", true, ob_channel_inbound_run,
     "apply one stored inbound webhook (payload.inbound_id) to the unified orders (queued by the server)"},
    {"notify.send", false, ob_notify_send_run,
     "send one notification (payload.log_id) by e-mail over SMTP, or SMS/WhatsApp to the log (queued by the server)",
     ob_notify_send_settle},
    {"images.process", false, ob_image_process_run,
     "make an image's 256 px thumbnail and compressed copy with libvips and fill its size (payload.image_id; "
     "queued when an image is created from an upload)",
     ob_image_process_settle},
    {"documents.ocr", false, ob_document_ocr_run,
     "read a customer document's text with Tesseract, PDF pages rendered by poppler (payload.document_id; "
     "queued when a document is created from an image or a PDF)",
     ob_document_ocr_settle},
    {"kpis.compute", true, ob_kpis_compute_run,
     "measure every active KPI target from the data and save its figures (scheduled daily)"},
    {"reports.scheduled", true, ob_reports_scheduled_run,
     "run each scheduled custom report whose slot (frequency, time, days, in the tenant's zone) has come since its "
     "last scheduled run, into report_runs (scheduled every five minutes)"},
    {"reports.deliver", true, ob_reports_deliver_run,
     "queue a scheduled report run's messages (payload.report_run_id) once its files are stored, each sent by "
     "reports.mail with the stored files attached (queued by reports.render)"},
    {"automation.run", true, ob_automation_job_run,
     "run the active automation rules of payload.event on the row payload.id (queued by invoice.paid); "
     "customer.birthday without an id: the customers whose birthday is today (scheduled daily)"},
    {"documents.purge", true, ob_document_purge_run,
     "delete customer documents past purge_after that no legal hold keeps, and their files when nothing else "
     "names them (scheduled daily)"},
};

void ob_work_register(void)
{
    ob_jobs_use(job_kinds, (int)OB_ARRAY_LEN(job_kinds));
}
