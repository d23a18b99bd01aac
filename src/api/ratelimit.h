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

#include "schema/ctx.h"

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

/* The tenant's own limits (security_settings.requests_per_minute, a role's
 * role_security_settings.custom_requests_per_minute, the largest of the
 * caller's roles winning; export_requests_per_hour for exports), per user,
 * in fixed windows counted in the tenant's database: one upsert per request
 * on the tenant's writer, so servers sharing a database share the limit.
 * The in-memory buckets above stay as the flood guard in front of it. */
typedef struct ob_rate_verdict {
    int64_t limit, remaining, reset_s; /* the window's limit, what is left, seconds to its end */
    bool refused;
} ob_rate_verdict;
/* Off: nothing counted (serve --settings-rate-limits off). On by default. */
void ob_ratelimit_settings_enable(bool on);
/* Whether they are on: the gate asks the session check to read them (ob_ctx_limits). */
bool ob_ratelimit_settings_on(void);
/* Count one request of ctx's principal (a signed-in user) to path; export:
 * the route is an export. A refusal past the limit is reported in *v (not an
 * error); the first refusal of a window (an episode) writes a
 * security_violations row, and a security_alerts row when the tenant's
 * alert_on_limit_violations is set. v->limit 0: nothing limits this call. */
int ob_ratelimit_tenant(ob_ctx *ctx, const char *path, bool export, ob_rate_verdict *v, ob_err *err);
/* Writes of the shared counters (lease claims) since start, for /metrics:
 * a process claims several requests of a budget at once (ratelimit.c), so
 * far fewer than one write per request. */
int64_t ob_ratelimit_writes(void);

#endif
