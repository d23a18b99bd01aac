/* tenants.h - the platform: tenants, plans and features in the control
 * database, and provisioning a tenant's own database. */
#ifndef OB_TENANTS_H
#define OB_TENANTS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "schema/ctx.h"

typedef struct ob_tenant_new {
    const char *slug;
    const char *name;            /* default: the slug */
    const char *plan_code;
    const char *owner_email;
    const char *owner_password;  /* NULL: generated into generated_password */
    const char *owner_name;
    int64_t ticket_limit;        /* -1: the plan's */
    int64_t agent_limit;         /* -1: the plan's */
    /* the request of a super admin (POST /api/v1/platform/tenants): its
     * principal, address and request id go on the control rows' audit
     * (platform_audit_logs, in the same transaction); NULL from the command
     * line, whose provisioning is the system's and not audited there */
    const ob_ctx *by;
    char generated_password[32];
    char id[40];                 /* out: the new tenant's id */
} ob_tenant_new;

/* Seed plans and features into the control database (idempotent). Runs after
 * migrating it, inside its own transaction. */
int ob_platform_seed(ob_conn *control, ob_err *err);
/* Create the tenant: control rows, its database (migrated and seeded) and the
 * owner. All or nothing, without holding the control database's write lock
 * while the database is made: (1) a short control transaction inserts the
 * tenants row with status provisioning and its subscription (a taken slug is
 * OB_E_CONFLICT at once); (2) the database is made, migrated and seeded
 * outside any control transaction; (3) a second short one makes the row
 * active. A failure in (2) or (3) drops the database and deletes the row.
 * Until (3) every reader takes the tenant for none (ob_tenant_lookup,
 * ob_tenant_slugs, ob_tenant_delete). A row a crash left provisioning is
 * removed once older than OB_PROVISION_STALE_MS (ob_tenant_reap_provisioning):
 * at a server's start, by its purge runs (--purge-every), by `opsbase
 * migrate`, and by the next create or delete of its slug. */
int ob_tenant_create(ob_store *s, ob_tenant_new *t, ob_err *err);
/* How long a create may take before its provisioning row counts as left by
 * a crash: far beyond a create's real second or so, so that a live create
 * (another process's included) is never taken for a dead one. */
#define OB_PROVISION_STALE_MS (10 * 60 * 1000LL)
/* Remove the provisioning rows (slug NULL: of every slug) older than
 * OB_PROVISION_STALE_MS at now_ms, each with its database if one was made.
 * One process removes each row: it claims the row by a compare-and-set of its
 * version, drops the database, then deletes the row, so a crash in between
 * leaves a row the next run finishes, and the slug stays taken until the
 * database is gone. *reaped (optional): how many were removed. */
int ob_tenant_reap_provisioning(ob_store *s, const char *slug, int64_t now_ms, int *reaped, ob_err *err);
/* Remove the tenant's database and control rows. A tenant being provisioned
 * is OB_E_NOT_FOUND and is left alone (a stale one is reaped). */
int ob_tenant_delete(ob_store *s, const char *slug, ob_err *err);
/* Look up an active or suspended tenant (info->suspended) by slug on a
 * control connection; OB_E_NOT_FOUND when there is none. The result lives in the arena. */
int ob_tenant_lookup(ob_conn *control, ob_arena *a, const char *slug, ob_tenant_info **out, ob_err *err);
/* Call fn with the code of each feature the tenant has: the active features
 * its plan includes (plan_features), unless a super admin's row in
 * tenant_features turns one off, and those such a row turns on. plan_code
 * NULL: only the overrides count. */
int ob_tenant_features(ob_conn *control, const char *tenant_id, const char *plan_code,
                       void (*fn)(const char *code, void *arg), void *arg, ob_err *err);
/* Look up an active tenant and acquire a connection to its database in one
 * step (the commands that work tenant by tenant); release with
 * ob_db_release. The info lives in the arena. */
int ob_tenant_open(ob_store *s, ob_arena *a, const char *slug, ob_db_mode mode, ob_tenant_info **info, ob_conn **c,
                   ob_err *err);
/* Slugs of tenants, in slug order, allocated in the arena. */
typedef struct ob_slugs {
    const char **v;
    int n;
} ob_slugs;
/* Every tenant that is not deleted and not being provisioned (active_only:
 * whose status is active), read on the given control connection. */
int ob_tenant_slugs(ob_conn *control, ob_arena *a, bool active_only, ob_slugs *out, ob_err *err);
/* The same on a read connection of its own; with one given (a command's
 * --tenant), just that slug. */
int ob_tenant_slugs_of(ob_store *s, ob_arena *a, const char *only, ob_slugs *out, ob_err *err);
/* How many tenants ob_tenant_slugs lists and the first of them by slug (NULL
 * when none), in one statement whatever their number: for the readiness
 * probe, which opens that one. */
int ob_tenant_first(ob_store *s, ob_arena *a, const char **slug, int64_t *count, ob_err *err);
/* Call fn for each tenant row: slug, plan, status (a create in flight shows
 * as provisioning: callers that want tenants skip it, as ob_tenant_slugs does). */
int ob_tenant_each(ob_conn *control, int (*fn)(const char *slug, const char *plan, const char *status, void *arg),
                   void *arg, ob_err *err);
/* Migrate the control database and every tenant database; prints nothing.
 * *ntenants receives the number of tenants. With sync, the seed roles,
 * permission codes and seed rows are brought up to date in every database
 * (`opsbase migrate`); without it only where a migration ran, so that a
 * server starts in milliseconds however many tenants it has. */
int ob_migrate_all(ob_store *s, bool sync, int *ntenants, ob_err *err);
/* Migrate the control database only (and seed it when a migration ran), for
 * commands that touch no existing tenant database, such as tenant create:
 * their cost must not grow with the number of tenants. */
int ob_migrate_control(ob_store *s, ob_err *err);
/* serve: migrate the control database now and each tenant database on its
 * first use (ob_store_on_first_use: its stamp read, migrated when behind;
 * newer than this binary: its acquires fail OB_E_UNAVAILABLE), so a start
 * costs the same with 10 or 10,000 tenants. *ntenants: how many there are. */
int ob_migrate_lazy(ob_store *s, int *ntenants, ob_err *err);
/* Add a user with a role to a tenant (the CLI's user create). A NULL
 * password is generated into generated[32]. The agent role obeys the plan's
 * agent limit (OB_E_PLAN_LIMIT). */
int ob_tenant_add_user(ob_store *s, const char *slug, const char *email, const char *name, const char *role,
                       const char *password, char generated[32], ob_err *err);
/* Erase every suspended tenant whose deletion_due_at (set by the platform's
 * DELETE) is at or before now_ms: count its rows per table in one snapshot,
 * insert a tenant_tombstones row in state purging whose certificate (JSON:
 * slug, tenant id, times, rows per table) is signed with a keyed BLAKE2b
 * under a key derived from the master key (ob_secret_blind), remove its
 * database (ob_tenant_delete) and its files under files_root/files/<slug>
 * (NULL: none), then mark the tombstone done. Tombstones an earlier run left
 * purging are finished first. Two processes may run it at once: the unique
 * tenant_id of tombstones lets one of them erase each tenant. purged lists
 * the slugs erased, allocated in a. Run by `opsbase tenant purge-due` and by
 * `serve` (--purge-every). */
int ob_tenant_purge_due(ob_store *s, ob_arena *a, int64_t now_ms, const char *files_root, ob_slugs *purged,
                        ob_err *err);
/* A system context on a connection (CLI and provisioning). */
void ob_ctx_system(ob_ctx *ctx, ob_arena *a, ob_store *s, ob_conn *c, const ob_tenant_info *t);

#endif
