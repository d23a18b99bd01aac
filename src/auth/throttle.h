/* throttle.h - sign-in throttling per account and per client address.
 *
 * Each sign-in claims one attempt for its account (the e-mail as typed,
 * lower-cased, whether or not such a user exists, so a refusal says nothing
 * about which accounts exist) and one for its client address, in a write
 * transaction, before the password is checked. A claimed attempt counts as a
 * failure until a success gives it back, so parallel guesses cannot pass the
 * limit: the claims are serialized by the tenant's write lock on both
 * engines. Once a key has `max` claimed failures in its window, the next
 * attempt blocks it for a delay that doubles with each block in a row (up to
 * max_delay_ms) and records a security_violations row.
 *
 * Throttling never locks an account or ends a session: the lock is an
 * explicit administrator action (POST /api/v1/users/{id}/lock).
 */
#ifndef OB_THROTTLE_H
#define OB_THROTTLE_H

#include <stdint.h>

#include "schema/ctx.h"

typedef struct ob_throttle_cfg {
    int64_t account_max;   /* failures per account per window */
    int64_t address_max;   /* failures per client address per window (shared addresses: higher) */
    int64_t window_ms;     /* failures older than this are forgotten */
    int64_t delay_ms;      /* the first block; each block in a row doubles it */
    int64_t max_delay_ms;  /* the longest block */
} ob_throttle_cfg;

/* Production defaults: 5 per account and 50 per address per 15 minutes, a
 * first block of one minute growing to at most one hour. */
#define OB_THROTTLE_DEFAULTS {5, 50, 15LL * 60 * 1000, 60LL * 1000, 60LL * 60 * 1000}

/* Replace the process-wide settings (serve, before it answers requests). */
void ob_throttle_configure(const ob_throttle_cfg *cfg);
/* The current settings. */
ob_throttle_cfg ob_throttle_config(void);

/* Claim an attempt for account and address (either may be NULL) on ctx->db,
 * a WRITE connection in a transaction. 0 with *retry_ms = 0: claimed; 0 with
 * *retry_ms > 0: refused for that long (nothing claimed); -1 on error. */
int ob_throttle_claim(ob_ctx *ctx, const char *account, const char *address, int64_t *retry_ms, ob_err *err);

/* The claimed attempt succeeded: the account's failures and blocks are
 * forgotten; the address gets its one claim back. ctx->db as above. */
int ob_throttle_success(ob_ctx *ctx, const char *account, const char *address, ob_err *err);

/* The claimed attempt was a right password that still owes a second factor
 * (mfa.h): its claim is given back on both keys, but the account's earlier
 * failures and blocks stay, since the sign-in is not complete; the codes
 * then claim attempts of their own. ctx->db as above. */
int ob_throttle_refund(ob_ctx *ctx, const char *account, const char *address, ob_err *err);

#endif
