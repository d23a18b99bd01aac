/* crm.h - hooks of the customer-relationship area: who recorded a row and
 * names derived from the stored file. */
#ifndef OB_DOMAIN_CRM_H
#define OB_DOMAIN_CRM_H

#include "base/strbuf.h"
#include "schema/registry.h"

/* Fills file_name from file_path and uploaded_by from the caller when absent. */
extern const ob_hooks ob_customer_document_hooks;
/* Records who gave the tag. */
/* Fills created_by from the caller when absent. */
extern const ob_hooks ob_communication_hooks;
/* Records who entered the points. */
/* special_occasions: {"name": date} or [{"type", "date"}], dates YYYY-MM-DD or MM-DD. */
extern const ob_hooks ob_customer_preference_hooks;

/* The job kind loyalty.expire (expiry.c): an "expired" points entry per
 * customer for what is left unspent of points whose expiry_date is before
 * payload.date (default today, UTC); result {"date", "customers", "points"}. */
int ob_loyalty_expire_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);

/* The job kind crm.follow_ups (followups.c): tells the creator of each
 * overdue follow-up, once (follow_up_notified_at); result {"notified"}. */
int ob_crm_follow_ups_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
/* Seeds its notification template and its schedule (from ob_seed_crm). */
int ob_crm_seed_follow_ups(ob_ctx *ctx, ob_err *err);

#endif
