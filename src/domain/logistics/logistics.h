/* logistics.h - hooks and seed rows of the logistics area: service requests
 * and queues of the air-cargo portal (000), flights (000), shipments merged
 * from 000, 001 and 004 with their items and tracking, NDR cases (001) and
 * couriers (001). Table declarations live in the area's other .c files. */
#ifndef OB_DOMAIN_LOGISTICS_H
#define OB_DOMAIN_LOGISTICS_H

#include "base/strbuf.h"
#include "schema/validate.h"
#include "schema/ctx.h"
#include "schema/registry.h"

/* service_requests: request_number (SR-000001) when not given; created_by
 * is the signed-in user. */
/* request_documents: uploaded_by is the signed-in user. */
/* queue_numbers: queue_number (Q-000001) when not given; the service_center
 * and service_type texts follow service_center_id / service_type_id when the
 * client leaves them out. */
extern const ob_hooks ob_queue_number_hooks;
/* shipments: shipment_number (SHP-000001) and shipment_type when not given,
 * and the columns each shipment type needs (see shipments.c). */
extern const ob_hooks ob_shipment_hooks;
/* tracking_events: event_code from the courier status (001) or
 * "location_update" for a position report (004) when not given. */
extern const ob_hooks ob_tracking_event_hooks;
/* ndr_records: ndr_number (NDR-000001) and order_id from the shipment. */
extern const ob_hooks ob_ndr_record_hooks;
/* ndr_actions: performed_by is the signed-in user. */
/* ndr_remarks: created_by is the signed-in user. */

/* Air cargo (000), awb.c and milestones.c. */
/* Shipments: an air-cargo AWB checked (format and check digit 400, an
 * airline prefix unknown to the tenant 422) and stored as PPP-SSSSSSSC; the
 * first BKD milestone of a shipment created with one. */
int ob_awb_normalize(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_awb_first_milestone(ob_ctx *ctx, const ob_row *ship, ob_err *err);
/* Tracking events: the status a shipment takes when an event of this code
 * is its latest, or NULL for none; one function per shipment type. */
typedef const char *(*ob_status_of_event_fn)(const char *event_code);
const char *ob_cargo_status_of(const char *event_code);
/* Tracking events: Cargo-iQ codes for air cargo, notification_sent with
 * milestone_flag; then the shipment's status follows its latest event. */
int ob_milestone_before_create(ob_ctx *ctx, ob_row *row, ob_err *err);
int ob_milestone_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err);

/* Flights: available_kg = capacity_kg - booked_kg (booking.c). */
void ob_flight_available(ob_row *flight);
extern const ob_hooks ob_flight_schedule_hooks;

/* The job services.sla_check: marks open service requests past sla_due_at
 * sla_breached (service_requests.sla_breached); reports {"breached": N}. */
int ob_service_sla_check(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);

/* The order a courier shipment belongs to follows it (tracking.c):
 * delivered -> deliver, rto_initiated/rto_in_transit -> rto,
 * rto_delivered -> rto_receive (restocked), each only from the order
 * states it is declared from. NULL order_id: nothing. */
int ob_shipment_moves_order(ob_ctx *ctx, const char *order_id, const char *status, ob_err *err);

/* NDR rules (ndr_auto.c): queue the job ndr.rules for a case's failed
 * attempt in the caller's transaction; the job runs the first matching
 * ndr_rules row (or the default: RTO from the third attempt) and logs the
 * run in ndr_rule_runs. */
int ob_ndr_rules_queue(ob_ctx *ctx, const char *ndr_id, int64_t attempt, ob_err *err);
int ob_ndr_rules_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);

/* The job ndr.reattempt {action_id} (ndr_work.c): put one pending
 * reattempt request to the courier (run, on a reader) and record sent, or
 * failed after its last try (settle; earlier refusals are retried by the
 * queue with back-off). */
int ob_ndr_reattempt_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
int ob_ndr_reattempt_settle(ob_ctx *ctx, const ob_row *job, int jrc, const ob_err *jerr, ob_sb *result,
                            ob_err *err);

/* NDR messages to the buyer (ndr_notify.c): the SMS templates ndr_opened,
 * ndr_reattempt_scheduled and ndr_follow_up seeded in every tenant, and one
 * message of template code about case ndr to its phone through the outbox,
 * in the caller's transaction (*sent false, no error, when the case has no
 * phone or no active template has the code; sent may be NULL). */
int ob_ndr_seed_templates(ob_ctx *ctx, ob_err *err);
int ob_ndr_notify(ob_ctx *ctx, const char *code, const ob_row *ndr, const char *reattempt_date, bool *sent,
                  ob_err *err);

/* Seed rows (listed in domain/seeds.def): 000's three service types in each
 * tenant, 001's five courier types in the control database. */
int ob_seed_logistics(ob_ctx *ctx, ob_err *err);
int ob_seed_couriers(ob_ctx *ctx, ob_err *err);

#endif
