/* courier.h - the courier adapter interface: what opsbase asks of a courier
 * (book a shipment and get its AWB, label, tracking page and charges; cancel
 * it; read its scans; schedule a pickup; ask for another delivery attempt),
 * whichever courier it is. An adapter is chosen by the courier_type_code of
 * a tenant's courier_configs row.
 *
 * Calls run inside the caller's write transaction and allocate from
 * ctx->arena; the HTTP adapters keep them short (courier_http.h: 5 s to
 * connect, 15 s in all, set per config); a refusal by the courier is OB_E_COURIER with the courier's
 * message, and the caller's transaction then writes nothing. */
#ifndef OB_DOMAIN_LOGISTICS_COURIER_H
#define OB_DOMAIN_LOGISTICS_COURIER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/strbuf.h"

#include "schema/ctx.h"
#include "schema/row.h"

/* One configured courier: its settings (the config row's JSON, borrowed). */
typedef struct ob_courier_config {
    const char *id;
    const char *type_code;
    const json_t *settings;
} ob_courier_config;

/* What is handed to the courier. */
typedef struct ob_courier_parcel {
    const char *shipment_number;
    const char *order_number;
    const char *delivery_address; /* JSON text, as on the order */
    int64_t cod_amount;           /* minor units; 0: prepaid */
    int64_t units;                /* items in the parcel */
} ob_courier_parcel;

/* What the courier gives back for a booked parcel (strings in ctx->arena). */
typedef struct ob_courier_booking {
    const char *awb;
    const char *external_id;
    const char *label_url;
    const char *tracking_url;
    int64_t charges; /* minor units */
} ob_courier_booking;

/* One scan as the courier reports it (strings in ctx->arena). */
typedef struct ob_courier_scan {
    const char *code;     /* the courier's own status code */
    const char *at;       /* UTC timestamp */
    const char *location; /* may be NULL */
    const char *reason;   /* why a delivery failed, the courier's words; may be NULL */
    const char *raw;      /* the scan as received, JSON text */
} ob_courier_scan;

typedef struct ob_courier_adapter {
    const char *type_code;
    int (*create)(ob_ctx *ctx, const ob_courier_config *cfg, const ob_courier_parcel *p, ob_courier_booking *out,
                  ob_err *err);
    int (*cancel)(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_err *err);
    /* every scan of the AWB so far, oldest first as the courier lists them */
    int (*track)(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, ob_courier_scan **out, int *n,
                 ob_err *err);
    int (*pickup)(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date, ob_err *err);
    int (*reattempt)(ob_ctx *ctx, const ob_courier_config *cfg, const char *awb, const char *date,
                     const char *new_address, const char *new_phone, ob_err *err);
} ob_courier_adapter;

/* The adapter of a courier type, or NULL when opsbase has none for it. */
const ob_courier_adapter *ob_courier_adapter_for(const char *type_code);

/* Tracking (tracking.c). The vocabulary status of a courier's code, or NULL
 * for a code opsbase does not know (stored as "unknown", moves nothing). */
const char *ob_courier_status(const char *code);
/* The same for a courier's own codes first (source: its type code, as the
 * tracking job and the courier webhook pass it), then the common ones. */
const char *ob_courier_status_for(const char *courier, const char *code);
/* Append one scan of a shipment unless it is stored already (*added false);
 * the shipment follows its latest event, a delivery delivers the order.
 * A scan without a code or a valid time is 400. */
int ob_courier_scan_apply(ob_ctx *ctx, const char *shipment_id, const char *source, const ob_courier_scan *s,
                          bool *added, ob_err *err);
/* NDR (ndr_work.c): a failed-delivery scan opens the shipment's NDR case or
 * records another attempt on the open one (the fail event); the third
 * failed attempt starts RTO (the rto event). */
int ob_ndr_failed_attempt(ob_ctx *ctx, const char *shipment_id, const ob_courier_scan *s, const char *at,
                          ob_err *err);
/* A delivered scan resolves the shipment's open case (resolution delivered),
 * through the resolve event so it is audited as one. */
int ob_ndr_delivered(ob_ctx *ctx, const char *shipment_id, ob_err *err);

/* The job kind couriers.track {shipment_id?}: poll open courier shipments. */
int ob_courier_track_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);

/* The built-in simulator (courier_sim.c), type code "simulator". */
extern const ob_courier_adapter ob_courier_simulator;

/* Tracking pushed by the courier (courier_inbound.c): the action that gives
 * a courier configuration its webhook endpoint and secret, and the job kind
 * couriers.inbound that applies one stored delivery of the courier webhook. */
int ob_courier_webhook(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);
int ob_courier_inbound_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);

#endif
