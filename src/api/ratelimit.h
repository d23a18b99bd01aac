/* ratelimit.h - token buckets per rate class and caller, the gate's rate step.
 *
 * Each class has a budget of requests per minute (0: unlimited). A caller's
 * bucket holds at most that many requests and refills continuously at that
 * rate, so a quiet caller may burst a minute's budget at once and a busy one
 * settles at the rate. The caller is the tenant and principal for signed-in
 * routes and the client address for sign-in. Buckets are in memory, one
 * process's: with several servers each enforces its own budget. A bucket
 * that has refilled completely is forgotten, so memory follows the callers
 * active in the last minute.
 */
#ifndef OB_API_RATELIMIT_H
#define OB_API_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ob_rate_class {
    OB_RATE_NONE,  /* never limited */
    OB_RATE_AUTH,  /* sign-in: per client address */
    OB_RATE_READ,  /* per tenant and principal */
    OB_RATE_WRITE, /* per tenant and principal */
    OB_RATE__COUNT
} ob_rate_class;

/* Default budgets, requests per minute (serve's --rate-* flags default to the
 * same numbers: 200 reads and 100 writes a second per user after a burst). */
#define OB_RATE_AUTH_DEFAULT 600
#define OB_RATE_READ_DEFAULT 12000
#define OB_RATE_WRITE_DEFAULT 6000

typedef struct ob_ratelimit ob_ratelimit;

/* per_minute[c] for each class (index OB_RATE_NONE is ignored). */
ob_ratelimit *ob_ratelimit_new(const int64_t per_minute[OB_RATE__COUNT]);
void ob_ratelimit_free(ob_ratelimit *rl);
/* Take one request from key's bucket of class c. true: allowed; false: the
 * bucket is empty and *retry_after_s (at least 1) says when one request
 * will be allowed again. */
bool ob_ratelimit_take(ob_ratelimit *rl, ob_rate_class c, const char *key, int64_t now_ms, int64_t *retry_after_s);

#endif
