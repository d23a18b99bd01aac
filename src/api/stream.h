/* stream.h - GET /api/v1/stream: committed changes as Server-Sent Events.
 *
 * The source is the tenant's audit trail: every audited change writes an
 * audit_logs row in its own transaction, numbered by the tenant's chain
 * counter (seq), so seq order is commit order on both engines and a row
 * is visible only once committed. One notifier thread polls each tenant
 * with open streams for rows past the lowest cursor (one indexed query
 * per tenant per poll, whichever process made the change), reads each
 * changed record as its reader would through GET (permission, customer
 * scope, row rules, masking; a 404 is not sent) and wakes the parked
 * connection. The event id is seq; a reader resumes after one within the
 * retention (the last `retention` ids), else it gets a `reset` event.
 */
#ifndef OB_API_STREAM_H
#define OB_API_STREAM_H

#include <stdint.h>

typedef struct ob_stream_cfg {
    int64_t keepalive_ms; /* a comment line after this long without output; default 15000 */
    int64_t poll_ms;      /* how often tenants with streams are asked for changes; default 250 */
    int64_t retention;    /* how many ids back a Last-Event-ID may resume from; default 1000 */
    int64_t max_per_user; /* streams one user may hold open at once (429 past it); default 5 */
} ob_stream_cfg;

/* Before the server starts (serve's --stream-* flags); zero fields keep
 * their defaults. */
void ob_stream_configure(const ob_stream_cfg *cfg);
/* After the server stopped (its streams are over): stop the notifier. */
void ob_stream_shutdown(void);

#endif
