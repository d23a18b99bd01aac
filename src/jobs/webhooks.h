/* webhooks.h - sending outgoing webhooks: the target check against SSRF, the
 * signed POST (libcurl) and the retry schedule. What is sent and when is the
 * domain's (domain/notify/webhooks.c): deliveries are rows, each attempt a
 * job. */
#ifndef OB_WEBHOOKS_H
#define OB_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Process-wide settings (serve and worker flags); zero fields keep the
 * defaults: first retry after a minute, twelve attempts, ten seconds. */
typedef struct ob_webhook_cfg {
    int backoff_ms;   /* first retry delay; doubled per attempt, capped at 480 times it */
    int max_attempts; /* attempts before a delivery is dead */
    int timeout_ms;   /* a whole attempt, connect included */
} ob_webhook_cfg;
void ob_webhooks_configure(const ob_webhook_cfg *c);
ob_webhook_cfg ob_webhooks_cfg(void);

/* The delay before the attempt after `failures` failed ones, in ms (random
 * adds up to an eighth). With the defaults the twelve attempts span about
 * 24 hours: 1, 2, 4 ... 256 minutes, then 8 hours twice. */
int64_t ob_webhook_backoff_ms(int base_ms, int failures, uint32_t random);

/* Check a target URL: http or https, a host, no credentials, and unless
 * allow_private every address the host resolves to public (not loopback,
 * private, link-local, carrier-grade NAT, multicast, unspecified or
 * reserved). OB_E_UNPROCESSABLE with the reason. */
int ob_webhook_check_target(const char *url, bool allow_private, ob_err *err);

/* "v1=<hex HMAC-SHA256 of "<timestamp>.<body>" under secret>" into out. */
#define OB_WEBHOOK_SIG_LEN (3 + 64 + 1)
void ob_webhook_sign(const char *secret, const char *timestamp, const char *body, size_t n,
                     char out[OB_WEBHOOK_SIG_LEN]);

/* One attempt: POST body as JSON with the Opsbase-* headers, to the address
 * the target check approved (the connection is pinned to it, so a DNS answer
 * that changes between check and connect cannot redirect it; redirects are
 * not followed). *status receives the HTTP status, 0 when none came (error
 * set: timeout, refused, ...). Returns 0 when an answer came, whatever it
 * was. */
int ob_webhook_post(const char *url, bool allow_private, const char *event, const char *delivery_id,
                    const char *secret, const char *body, long *status, ob_err *err);

/* One HTTP exchange through the same target check and pinned connection as
 * a webhook (redirects not followed): the HTTP client of opsbase's outgoing
 * calls. headers are "Name: value" lines ending in NULL; a body makes it a
 * POST unless method says otherwise; timeouts of 0 take the webhook
 * defaults. *status as for ob_webhook_post; *body (when body is not NULL)
 * receives the answer, NUL-terminated and malloc'd (the caller frees it),
 * at most OB_HTTP_MAX_RESPONSE bytes or the call fails. */
#define OB_HTTP_MAX_RESPONSE (1024 * 1024)
typedef struct ob_http_call {
    const char *method; /* "GET", "POST", ...; NULL: POST with a body, else GET */
    const char *url;
    const char *const *headers;
    const char *body;
    bool allow_private;
    int connect_timeout_ms, timeout_ms;
    const char *agent;
} ob_http_call;
int ob_http_send(const ob_http_call *call, long *status, char **body, ob_err *err);

#endif
