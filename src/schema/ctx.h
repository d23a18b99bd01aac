/* ctx.h - what one unit of work knows: who, where, when.
 *
 * An ob_ctx is built per request by the API layer (or by a CLI command acting
 * as the system) and passed explicitly, arena first in spirit: everything
 * allocated for the work comes from ctx->arena. ctx->db is the tenant
 * connection; it is a WRITE connection inside write operations.
 */
#ifndef OB_CTX_H
#define OB_CTX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/clock.h"
#include "db/db.h"

typedef struct ob_principal {
    const char *user_id;      /* NULL for the system (CLI) */
    const char *email;
    const char *name;
    const char *session_id;
    const char *customer_id;  /* set for customer users: rows are scoped to it */
    bool is_owner;
    bool is_system;           /* CLI / internal: every permission, no scoping */
    bool enrol_only;          /* a session that may only enrol MFA (security_settings.mfa_required) */
    const char **roles;       /* role codes */
    int nroles;
    const char **perms;       /* sorted permission codes */
    int nperms;
} ob_principal;

/* Plan limits of the tenant, resolved at request start (-1: unlimited). */
typedef struct ob_tenant_info {
    const char *id;
    const char *slug;
    const char *name;
    const char *plan_code;
    int64_t ticket_limit;
    int64_t agent_limit;
    int64_t orders_month_limit;
    bool suspended;           /* by a super admin: the tenant's requests may read, not write */
} ob_tenant_info;

/* The caller's own request limits (security_settings and the most generous
 * override among the caller's roles), read by the session check in the same
 * statement as the session row when the gate asks (want), so the tenant
 * rate limiter (api/ratelimit.h) spends no round trip of its own on them.
 * Read on every request, never cached: a change by any process counts from
 * the next request. */
typedef struct ob_ctx_limits {
    bool want;                        /* the gate: read them with the session */
    bool read;                        /* the session check filled the fields below */
    bool found;                       /* the tenant has its settings row */
    bool alert;                       /* alert_on_limit_violations */
    int64_t per_minute;               /* the role override when one is set, else the tenant's */
    int64_t exports_per_hour;
} ob_ctx_limits;

typedef struct ob_ctx {
    ob_arena *arena;
    ob_store *store;
    ob_conn *db;
    const ob_tenant_info *tenant;
    const ob_principal *who;
    const char *ip;
    const char *user_agent;
    const char *request_id;
    int64_t now_ms;
    char now[OB_TS_LEN];      /* ob_ts_format(now_ms): one clock reading per request */
    const struct ob_row *input; /* an action's declared input, validated (NULL when it declares none) */
    const struct ob_row *reply; /* set by an action that answers with another row than its own (a queue
                                 * token issued at a service centre); NULL: the action's row */
    const char *reveal;       /* a JSON object an action adds to its response, once: a secret it made that
                                 no read shows again (a channel's webhook secret); NULL: none */
    struct ob_reads *reads;   /* a GET's reads of personal rows (schema/reads.h); NULL: not noted */
    int mask_state;           /* 0: not loaded, 1: loaded (mask_bits valid) */
    unsigned mask_bits;       /* bit k set: mask kind k is masked for this principal */
    ob_ctx_limits limits;     /* see ob_ctx_limits */
} ob_ctx;

/* Fill now/now_ms from the clock. */
void ob_ctx_stamp(ob_ctx *ctx);
/* Whether the principal holds a permission code (owner and system hold all). */
bool ob_ctx_can(const ob_ctx *ctx, const char *perm);
/* Whether the principal holds a role code. */
bool ob_ctx_has_role(const ob_ctx *ctx, const char *role);

/* Whether the principal is a customer-portal user, confined to its customer's
 * rows, its audience's columns and the customer row rules. */
static inline bool ob_ctx_confined(const ob_ctx *ctx)
{
    return ctx->who && !ctx->who->is_system && ctx->who->customer_id;
}

#endif
