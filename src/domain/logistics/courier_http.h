/* courier_http.h - what the HTTP courier adapters (Shiprocket, Delhivery,
 * BlueDart, DTDC) share: their settings and sealed credentials, one call to
 * the courier through the project's HTTP client (jobs/webhooks.h), the
 * courier's refusal as OB_E_COURIER with its own message, and the small
 * conversions their answers need.
 *
 * Every call is made while the caller's write transaction is open (see
 * courier.h), so it is kept short: 5 s to connect and 15 s in all unless the
 * config's settings say otherwise ("connect_timeout_ms", "timeout_ms", each
 * 100 ms to 60 s). A courier that does not answer in time is a refusal
 * (OB_E_COURIER), and the caller writes nothing. */
#ifndef OB_DOMAIN_LOGISTICS_COURIER_HTTP_H
#define OB_DOMAIN_LOGISTICS_COURIER_HTTP_H

#include <jansson.h>

#include "domain/logistics/courier.h"

/* A string setting of the config, or NULL. */
const char *ob_courier_setting(const ob_courier_config *cfg, const char *key);
/* A string from the config's sealed credentials; a missing one is
 * OB_E_COURIER naming the key (never its value). */
int ob_courier_secret(ob_ctx *ctx, const ob_courier_config *cfg, const char *key, const char **out, ob_err *err);

/* One request to settings.base_url (or settings[base_key] when base_key is
 * given and set) followed by path. headers: "Name: value" lines ending in
 * NULL; body makes it a POST. A transport failure or an HTTP status of 400
 * and above is OB_E_COURIER with the courier's message; otherwise *answer is
 * the parsed JSON (the caller decrefs; NULL when the answer is not JSON) and
 * *text (when not NULL) the answer as sent, in ctx->arena. */
int ob_courier_call(ob_ctx *ctx, const ob_courier_config *cfg, const char *base_key, const char *path,
                    const char *const *headers, const char *body, json_t **answer, const char **text, ob_err *err);

/* OB_E_COURIER "<courier> refused to <what>: <message>". */
int ob_courier_refuse(const ob_courier_config *cfg, const char *what, const char *message, ob_err *err);
/* The first string found under one of the keys (a path "a.b.0.c" each) of
 * j, or NULL. */
const char *ob_courier_find(const json_t *j, const char *const *paths);
/* A JSON value at a dotted path ("a.0.b"), or NULL. */
json_t *ob_courier_at(const json_t *j, const char *path);
/* Money the courier sends as a JSON number or decimal string, to minor units
 * (rounded to the paisa from its decimal text); 0 when absent. */
int64_t ob_courier_money(const json_t *v);
/* A JSON value as text in the arena (strings as they are, numbers printed). */
const char *ob_courier_text(ob_ctx *ctx, const json_t *v);
/* A courier's local time ("2026-12-06 10:15:00", "2026-12-06T10:15:00.5")
 * as RFC 3339: the settings' "utc_offset" (default "+05:30", India) is
 * added when the courier gives none. NULL when s is NULL. */
const char *ob_courier_local_time(ob_ctx *ctx, const ob_courier_config *cfg, const char *s);
/* URL-encode s into the arena (form bodies and query strings). */
const char *ob_courier_urlencode(ob_ctx *ctx, const char *s);
/* Compact JSON text of j in the arena; j is decref'd. */
const char *ob_courier_dump(ob_ctx *ctx, json_t *j);
/* The delivery address of a parcel (the order's JSON text) parsed, {} when
 * absent; the caller decrefs. A field of it as a string (or ""). */
json_t *ob_courier_address(const ob_courier_parcel *p);
const char *ob_courier_addr_field(const json_t *addr, const char *const *keys);
/* A new address as the NDR reattempt input gives it (JSON text: a string, or
 * an object with line1/address1, line2, city, state, pincode) as one line
 * for the courier; NULL when text is NULL. */
const char *ob_courier_address_line(ob_ctx *ctx, const char *text);
/* The courier's own id of the booking (shipments.external_shipment_id) of
 * an AWB in the tenant, or NULL. */
const char *ob_courier_external_id(ob_ctx *ctx, const char *awb, ob_err *err);

/* The HTTP adapters (courier_<type>.c). */
extern const ob_courier_adapter ob_courier_shiprocket, ob_courier_delhivery, ob_courier_bluedart, ob_courier_dtdc;

#endif
