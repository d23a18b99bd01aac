/* pcache.h - a process-wide cache of authenticated principals.
 *
 * Resolving a token costs a tenant lookup, a session lookup and the user's
 * roles and permissions: four queries before the request's own work. The
 * cache keeps the result for a few seconds, keyed by the token's hash. An
 * entry is dropped when it is older than OB_PCACHE_TTL_MS, when its session
 * expires, and at once when anything that decides who may do what changes in
 * this process (ob_registry_auth_epoch: users, roles, grants, sessions,
 * sign-in and sign-out). Changes made by another process (the CLI) take
 * effect within the TTL. Entries are copied into the request's arena on a
 * hit, so nothing cached is shared with a request.
 */
#ifndef OB_PCACHE_H
#define OB_PCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/ctx.h"

#define OB_PCACHE_TTL_MS 5000

/* A hit fills *ti and *p (arena copies). */
bool ob_pcache_get(const char hash[65], ob_arena *a, int64_t now_ms, ob_tenant_info **ti, ob_principal **p);
/* epoch: ob_registry_auth_epoch() read before the database was consulted. */
void ob_pcache_put(const char hash[65], const ob_tenant_info *ti, const ob_principal *p, int64_t expires_ms,
                   int64_t now_ms, uint64_t epoch);
void ob_pcache_drop(const char hash[65]);
/* Free every entry (process exit, tests). */
void ob_pcache_clear(void);

#endif
