/* tenants.c - provisioning and looking up tenants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "auth/password.h"
#include "auth/rbac.h"
#include "base/base.h"
#include "domain/seeds.h"
#include "platform/tenants.h"
#include "schema/crud.h"
#include "schema/ddl.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"

typedef struct plan_seed {
    const char *code, *name, *price, *description;
    int64_t max_users, max_orders, max_channels, max_tickets, max_agents; /* -1: unlimited */
    int tier;                                                            /* features up to this tier */
} plan_seed;

static const plan_seed plans[] = {
    {"free", "Free", "0", "Support desk for small teams", 3, 100, 1, 50, 3, 0},
    {"starter", "Starter", "999", "2 users, 500 orders, 1 channel", 2, 500, 1, 500, 2, 0},
    {"professional", "Professional", "2499", "5 users, 2000 orders, 3 channels", 5, 2000, 3, 2000, 5, 1},
    {"business", "Business", "4999", "15 users, 10000 orders, 5 channels", 15, 10000, 5, 10000, 15, 2},
    {"enterprise", "Enterprise", "0", "Custom pricing, unlimited", -1, -1, -1, -1, -1, 3},
};

typedef struct feature_seed {
    const char *name, *code, *category, *description;
    int tier; /* the lowest plan tier that includes it */
} feature_seed;

static const feature_seed features[] = {
    {"Order Management", "orders_management", "orders", "Basic order management capabilities", 0},
    {"Multi-Channel", "multi_channel", "channels", "Connect multiple sales channels", 1},
    {"Inventory Sync", "inventory_sync", "inventory", "Auto-sync inventory across channels", 1},
    {"Shipment Management", "shipment_management", "shipments", "Create and track shipments", 0},
    {"NDR Management", "ndr_management", "ndr", "NDR inbox and follow-ups", 1},
    {"NDR Automation", "ndr_automation", "ndr", "Automated NDR workflows", 2},
    {"Finance Reports", "finance_reports", "finance", "P&L and expense tracking", 1},
    {"Advanced Analytics", "advanced_analytics", "analytics", "Detailed analytics dashboards", 2},
    {"API Access", "api_access", "integrations", "API key generation", 2},
    {"Custom Couriers", "custom_couriers", "shipments", "Add custom courier integrations", 2},
    {"Bulk Operations", "bulk_operations", "orders", "Bulk order/shipment actions", 2},
    {"Export Data", "export_data", "analytics", "Export data to CSV/Excel", 1},
    {"White Label", "white_label", "branding", "Custom branding", 3},
    {"Support Desk", "support_desk", "support", "Tickets with SLA and auto-assignment", 0},
    {"Knowledge Base", "knowledge_base", "support", "Searchable knowledge-base articles", 0},
};

void ob_ctx_system(ob_ctx *ctx, ob_arena *a, ob_store *s, ob_conn *c, const ob_tenant_info *t)
{
    static const ob_principal system = {.is_system = true, .name = "system"};
    memset(ctx, 0, sizeof *ctx);
    ctx->arena = a;
    ctx->store = s;
    ctx->db = c;
    ctx->tenant = t;
    ctx->who = &system;
    ctx->ip = NULL;
    ctx->request_id = NULL;
    ob_ctx_stamp(ctx);
}


static ob_value opt_int(int64_t v)
{
    return v < 0 ? ob_v_null() : ob_v_int(v);
}

int ob_platform_seed(ob_conn *c, ob_err *err)
{
    char now[OB_TS_LEN];
    ob_ts_format(ob_now_ms(), now);
    if (ob_db_begin(c, err) != 0) return -1;
    for (size_t i = 0; i < OB_ARRAY_LEN(plans); i++) {
        const plan_seed *p = &plans[i];
        char id[OB_UUID_LEN];
        int64_t price = 0;
        ob_uuid7(id);
        ob_parse_decimal(p->price, 2, &price);
        ob_value v[] = {ob_v_text(id), ob_v_text(now), ob_v_text(now), ob_v_text(p->name), ob_v_text(p->code),
                        ob_v_text(p->description), ob_v_dec(price, 2), opt_int(p->max_users), opt_int(p->max_orders),
                        opt_int(p->max_channels), opt_int(p->max_tickets), opt_int(p->max_agents), ob_v_bool(true),
                        ob_v_int((int64_t)i)};
        if (ob_sql_run(c,
                "INSERT INTO plans (id, created_at, updated_at, version, name, code, description, price_monthly, "
                "max_users, max_orders_per_month, max_channels, max_tickets_per_month, max_agents, is_active, "
                "sort_order, metadata) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}') "
                "ON CONFLICT (code) DO NOTHING",
                v, (int)OB_ARRAY_LEN(v), err) != 0)
            goto fail;
    }
    for (size_t i = 0; i < OB_ARRAY_LEN(features); i++) {
        const feature_seed *f = &features[i];
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_value v[] = {ob_v_text(id), ob_v_text(now), ob_v_text(f->name), ob_v_text(f->code),
                        ob_v_text(f->description), ob_v_text(f->category), ob_v_bool(true)};
        if (ob_sql_run(c,
                "INSERT INTO features (id, created_at, name, code, description, category, is_active) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING",
                v, (int)OB_ARRAY_LEN(v), err) != 0)
            goto fail;
        for (size_t k = 0; k < OB_ARRAY_LEN(plans); k++) {
            if (plans[k].tier < f->tier) continue;
            char pid[OB_UUID_LEN];
            ob_uuid7(pid);
            ob_value pv[] = {ob_v_text(pid), ob_v_text(now), ob_v_bool(true), ob_v_text(plans[k].code),
                             ob_v_text(f->code)};
            if (ob_sql_run(c,
                    "INSERT INTO plan_features (id, created_at, plan_id, feature_id, is_enabled, config) "
                    "SELECT ?, ?, p.id, f.id, ?, '{}' FROM plans p, features f WHERE p.code = ? AND f.code = ? "
                    "ON CONFLICT (plan_id, feature_id) DO NOTHING",
                    pv, (int)OB_ARRAY_LEN(pv), err) != 0)
                goto fail;
        }
    }
    {
        ob_arena a;
        ob_arena_init(&a, 0);
        ob_ctx ctx;
        ob_ctx_system(&ctx, &a, NULL, c, NULL);
        int rc = ob_seeds_run(&ctx, OB_SCOPE_CONTROL, err);
        ob_arena_release(&a);
        if (rc != 0) goto fail;
    }
    return ob_db_commit(c, err);
fail:
    ob_db_rollback(c);
    return -1;
}

static int seed_masking(ob_ctx *ctx, ob_err *err)
{
    static const char *const rules[][5] = {
        {"customer_phone", "phone", "##****####", "Mask middle 4 digits of phone", "[\"operator\",\"viewer\",\"ndr_agent\"]"},
        {"customer_email", "email", "##**@***.***", "Mask email keeping first 2 chars", "[\"operator\",\"viewer\"]"},
        {"full_address", "address", "******", "Mask address line 2 and beyond", "[\"viewer\"]"},
        {"bank_account", "sensitive", "************####", "Show only last 4 digits",
         "[\"operator\",\"viewer\",\"manager\",\"ndr_agent\"]"},
        {"aadhaar_pan", "sensitive", "*****#####", "Mask first 5 characters",
         "[\"operator\",\"viewer\",\"manager\",\"ndr_agent\"]"},
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(rules); i++) {
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(rules[i][0]),
                        ob_v_text(rules[i][1]), ob_v_text(rules[i][2]), ob_v_text(rules[i][3]), ob_v_bool(true),
                        ob_v_text(rules[i][4])};
        if (ob_sql_run(ctx->db,
                "INSERT INTO data_masking_rules (id, created_at, updated_at, version, field_name, field_type, "
                "mask_pattern, description, is_active, applies_to_roles, exempt_roles) "
                "VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, '[]') ON CONFLICT (field_name) DO NOTHING",
                v, (int)OB_ARRAY_LEN(v), err) != 0)
            return -1;
    }
    return 0;
}

int ob_tenant_lookup(ob_conn *c, ob_arena *a, const char *slug, ob_tenant_info **out, ob_err *err)
{
    if (!slug || !ob_db_slug_valid(slug)) return ob_err_set(err, OB_E_NOT_FOUND, "no such tenant");
    ob_stmt *st;
    if (ob_db_prepare(c,
                      "SELECT t.id, t.slug, t.name, p.code, COALESCE(t.monthly_ticket_limit, p.max_tickets_per_month, "
                      "-1), COALESCE(t.agent_limit, p.max_agents, -1), COALESCE(p.max_orders_per_month, -1), t.status "
                      "FROM tenants t "
                      "LEFT JOIN subscriptions s ON "
                      "s.tenant_id = t.id AND s.status IN ('active', 'trial') LEFT JOIN plans p ON p.id = s.plan_id "
                      "WHERE t.slug = ? AND t.deleted_at IS NULL AND t.status IN ('active', 'suspended') "
                      "ORDER BY s.created_at DESC LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, slug, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        ob_tenant_info *t = ob_arena_zalloc(a, sizeof *t);
        t->id = ob_arena_strdup(a, ob_stmt_col_text(st, 0, NULL));
        t->slug = ob_arena_strdup(a, ob_stmt_col_text(st, 1, NULL));
        t->name = ob_arena_strdup(a, ob_stmt_col_text(st, 2, NULL));
        const char *plan = ob_stmt_col_text(st, 3, NULL);
        t->plan_code = plan ? ob_arena_strdup(a, plan) : NULL;
        t->ticket_limit = ob_stmt_col_i64(st, 4);
        t->agent_limit = ob_stmt_col_i64(st, 5);
        t->orders_month_limit = ob_stmt_col_i64(st, 6);
        t->suspended = strcmp(ob_stmt_col_text(st, 7, NULL), "suspended") == 0;
        *out = t;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (rc == 0) return ob_err_set(err, OB_E_NOT_FOUND, "no such tenant");
    return 0;
}

int ob_tenant_features(ob_conn *c, const char *tenant_id, const char *plan_code,
                       void (*fn)(const char *code, void *arg), void *arg, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(c,
                      "SELECT f.code FROM features f WHERE f.is_active AND COALESCE("
                      "(SELECT tf.is_enabled FROM tenant_features tf WHERE tf.tenant_id = ? AND tf.feature_id = f.id), "
                      "(SELECT pf.is_enabled FROM plan_features pf JOIN plans p ON p.id = pf.plan_id "
                      "WHERE p.code = ? AND pf.feature_id = f.id), false)",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, tenant_id, err);
    ob_stmt_bind_text(st, 2, plan_code, err);
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) fn(ob_stmt_col_text(st, 0, NULL), arg);
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

static int insert_user(ob_ctx *ctx, const char *email, const char *name, const char *password, bool owner,
                       const char *role, ob_err *err)
{
    char hash[OB_PASSWORD_HASH_MAX];
    if (ob_password_check(password, err) != 0) return -1;
    if (ob_password_hash(password, hash, err) != 0) return -1;
    const ob_table *ut = ob_registry_find(OB_TABLE_USERS), *urt = ob_registry_find(OB_TABLE_USER_ROLES);
    ob_row *u = ob_row_new(ctx->arena, ut);
    json_t *body = json_pack("{s:s, s:s}", "email", email, "name", name);
    int rc = ob_validate_body(ctx, ut, body, u, true, err);
    json_decref(body);
    if (rc != 0) return -1;
    ob_row_set_text(ctx->arena, u, USERS_PASSWORD_HASH, hash);
    ob_row_set_bool(u, USERS_IS_OWNER, owner);
    if (strcmp(role, "customer") == 0) ob_row_set_text(ctx->arena, u, USERS_USER_TYPE, "customer");
    if (ob_crud_insert_row(ctx, u, err) != 0) return -1;
    char role_id[37];
    if (ob_rbac_role_id(ctx, role, role_id, err) != 0) return -1;
    ob_row *ur = ob_row_new(ctx->arena, urt);
    ob_row_set_text(ctx->arena, ur, USER_ROLES_USER_ID, ob_row_text(u, USERS_ID));
    ob_row_set_text(ctx->arena, ur, USER_ROLES_ROLE_ID, role_id);
    ob_row_set_text(ctx->arena, ur, USER_ROLES_ASSIGNED_AT, ctx->now);
    ob_row_set_text(ctx->arena, ur, USER_ROLES_STATUS, "active");
    return ob_crud_insert_row(ctx, ur, err);
}

static const char *default_name(ob_arena *a, const char *email)
{
    const char *at = strchr(email, '@');
    return ob_arena_strndup(a, email, at ? (size_t)(at - email) : strlen(email));
}

typedef struct provision_job {
    ob_store *s;
    ob_arena *a;
    ob_tenant_info *info;
    ob_tenant_new *t;
} provision_job;

static int provision_run(void *arg, ob_err *err)
{
    provision_job *p = arg;
    ob_store *s = p->s;
    ob_arena *a = p->a;
    ob_tenant_info *info = p->info;
    ob_tenant_new *t = p->t;
    ob_conn *c;
    if (ob_db_acquire(s, t->slug, info->id, OB_DB_WRITE, &c, err) != 0) return -1;
    int rc = ob_migrate(c, OB_SCOPE_TENANT, NULL, err);
    ob_ctx ctx;
    ob_ctx_system(&ctx, a, s, c, info);
    if (rc == 0) rc = ob_db_begin(c, err);
    if (rc == 0) rc = ob_rbac_sync(&ctx, err);
    if (rc == 0) rc = seed_masking(&ctx, err);
    if (rc == 0) rc = ob_seeds_run(&ctx, OB_SCOPE_TENANT, err);
    if (rc == 0)
        rc = insert_user(&ctx, t->owner_email, t->owner_name ? t->owner_name : default_name(a, t->owner_email),
                         t->owner_password, true, "owner", err);
    if (rc == 0) rc = ob_db_commit(c, err);
    ob_db_release(c);
    return rc;
}

/* The new database migrated and seeded, and its owner added. It stands in for
 * the tenant's first-use check (serve's migrate_one): that check would migrate
 * and seed the new database once more before this did it. */
static int provision(ob_store *s, ob_arena *a, ob_tenant_info *info, ob_tenant_new *t, ob_err *err)
{
    provision_job p = {.s = s, .a = a, .info = info, .t = t};
    return ob_db_first_use_by(s, t->slug, provision_run, &p, err);
}

/* The control rows of a new tenant, in one short transaction of the control
 * database: the plan looked up, the tenants row with status provisioning and
 * its subscription inserted (audited as the caller's). A taken slug is a 409
 * here, before any database is made. */
static int insert_rows(ob_store *s, ob_arena *a, ob_tenant_new *t, ob_tenant_info *info, int64_t *version,
                       ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    ob_ctx ctx;
    ob_ctx_system(&ctx, a, s, c, NULL);
    if (t->by) {
        ctx.who = t->by->who;
        ctx.ip = t->by->ip;
        ctx.request_id = t->by->request_id;
    }
    int rc = ob_db_begin(c, err);
    ob_stmt *st = NULL;
    char plan_id[40] = {0};
    if (rc == 0) rc = ob_db_prepare(c, "SELECT id FROM plans WHERE code = ? AND is_active", &st, err);
    if (rc == 0) {
        ob_stmt_bind_text(st, 1, t->plan_code, err);
        int found = ob_stmt_step(st, err);
        if (found == 1) snprintf(plan_id, sizeof plan_id, "%s", ob_stmt_col_text(st, 0, NULL));
        ob_stmt_done(st);
        if (found < 0) rc = -1;
        else if (found == 0) rc = ob_err_set(err, OB_E_VALIDATION, "no plan \"%.60s\"", t->plan_code);
    }
    if (rc == 0) {
        const ob_table *tt = ob_registry_find(OB_TABLE_TENANTS);
        ob_row *row = ob_row_new(a, tt);
        json_t *body = json_pack("{s:s, s:s}", "name", t->name ? t->name : t->slug, "slug", t->slug);
        if (t->ticket_limit >= 0) json_object_set_new(body, "monthly_ticket_limit", json_integer(t->ticket_limit));
        if (t->agent_limit >= 0) json_object_set_new(body, "agent_limit", json_integer(t->agent_limit));
        rc = ob_validate_body(&ctx, tt, body, row, true, err);
        json_decref(body);
        char *schema = ob_arena_printf(a, "tenant_%s", t->slug);
        for (char *p = schema; *p; p++)
            if (*p == '-') *p = '_';
        if (rc == 0) {
            ob_row_set_text(a, row, TENANTS_SCHEMA_NAME, schema);
            ob_row_set_text(a, row, TENANTS_STATUS, "provisioning");
            rc = ob_crud_insert_row(&ctx, row, err);
        }
        if (rc != 0 && err->code == OB_E_CONFLICT)
            ob_err_set(err, OB_E_CONFLICT, "a tenant \"%.60s\" exists already", t->slug);
        if (rc == 0) {
            info->id = ob_row_text(row, TENANTS_ID);
            *version = ob_row_int(row, TENANTS_VERSION, 1);
            snprintf(t->id, sizeof t->id, "%s", info->id);
            info->slug = t->slug;
            info->name = ob_row_text(row, TENANTS_NAME);
            info->plan_code = t->plan_code;
            info->ticket_limit = t->ticket_limit;
            info->agent_limit = t->agent_limit;
            info->orders_month_limit = -1;
            ob_row *sub = ob_row_new(a, ob_registry_find(OB_TABLE_SUBSCRIPTIONS));
            char end[OB_TS_LEN];
            ob_ts_format(ctx.now_ms + 30LL * 86400 * 1000, end);
            ob_row_set_text(a, sub, SUBSCRIPTIONS_TENANT_ID, info->id);
            ob_row_set_text(a, sub, SUBSCRIPTIONS_PLAN_ID, plan_id);
            ob_row_set_text(a, sub, SUBSCRIPTIONS_STATUS, "active");
            ob_row_set_text(a, sub, SUBSCRIPTIONS_CURRENT_PERIOD_START, ctx.now);
            ob_row_set_text(a, sub, SUBSCRIPTIONS_CURRENT_PERIOD_END, end);
            ob_row_set_text(a, sub, SUBSCRIPTIONS_PAYMENT_PROVIDER, "manual");
            ob_row_set_text(a, sub, SUBSCRIPTIONS_METADATA, "{}");
            rc = ob_crud_insert_row(&ctx, sub, err);
        }
    }
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    return rc;
}

/* One statement on the control database in a transaction of its own; *n
 * receives the rows it changed. */
static int control_run(ob_store *s, const char *sql, ob_value *v, int nv, int64_t *n, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    int rc = ob_db_begin(c, err);
    if (rc == 0) rc = ob_sql_run(c, sql, v, nv, err);
    *n = rc == 0 ? ob_db_changes(c) : 0;
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    return rc;
}

/* Delete a provisioning row at its version (its subscription goes by
 * cascade). When the create was a super admin's request (by), a
 * provision_failed row in platform_audit_logs, in the same transaction, says
 * why, beside the create rows of the tenant that never came to be. */
static int remove_row(ob_store *s, const char *id, int64_t version, const ob_ctx *by, const char *why, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_ctx ctx;
    ob_ctx_system(&ctx, &a, s, c, NULL);
    if (by) {
        ctx.who = by->who;
        ctx.ip = by->ip;
        ctx.request_id = by->request_id;
    }
    ob_value d[] = {ob_v_text(id), ob_v_int(version)};
    int rc = ob_db_begin(c, err);
    if (rc == 0)
        rc = ob_sql_run(c, "DELETE FROM tenants WHERE id = ? AND status = 'provisioning' AND version = ?", d, 2, err);
    if (rc == 0 && by && ob_db_changes(c) == 1) {
        ob_sb sb;
        ob_sb_init_arena(&sb, &a, 256);
        ob_jsonw w;
        ob_jw_init(&w, &sb);
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "error", why);
        ob_jw_obj_close(&w);
        rc = ob_audit_platform_event(&ctx, "provision_failed", "tenants", id, sb.buf, err);
    }
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    ob_arena_release(&a);
    return rc;
}

/* Who may drop a provisioning tenant's database: the one process whose
 * compare-and-set of the row's version from `version` succeeds (the
 * provisioner abandoning its create, or a reaper of a stale row). The row
 * stays until the database is gone, so its slug cannot be taken meanwhile;
 * then the row is removed (remove_row). A process that loses the claim leaves
 * both alone: someone else is removing them. */
static int abandon(ob_store *s, const char *id, const char *slug, int64_t version, const ob_ctx *by, const char *why,
                   ob_err *err)
{
    char now[OB_TS_LEN];
    ob_ts_format(ob_now_ms(), now);
    ob_value v[] = {ob_v_text(now), ob_v_text(id), ob_v_int(version)};
    int64_t n;
    if (control_run(s,
                    "UPDATE tenants SET version = version + 1, updated_at = ? "
                    "WHERE id = ? AND status = 'provisioning' AND version = ?",
                    v, 3, &n, err) != 0)
        return -1;
    if (n == 0) return 0;
    /* missing already: the crash came before the database was made */
    if (ob_db_drop_tenant(s, slug, err) != 0 && err->code != OB_E_NOT_FOUND) return -1;
    return remove_row(s, id, version + 1, by, why, err);
}

int ob_tenant_reap_provisioning(ob_store *s, const char *slug, int64_t now_ms, int *reaped, ob_err *err)
{
    if (reaped) *reaped = 0;
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_conn *c;
    int rc = ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err);
    typedef struct stale {
        const char *id, *slug;
        int64_t version;
    } stale;
    stale *v = NULL;
    int n = 0, cap = 0;
    if (rc == 0) {
        ob_stmt *st;
        rc = ob_db_prepare(c,
                           slug ? "SELECT id, slug, created_at, version FROM tenants WHERE status = 'provisioning' "
                                  "AND slug = ?"
                                : "SELECT id, slug, created_at, version FROM tenants WHERE status = 'provisioning'",
                           &st, err);
        if (rc == 0 && slug) ob_stmt_bind_text(st, 1, slug, err);
        while (rc == 0 && (rc = ob_stmt_step(st, err)) == 1) {
            rc = 0;
            int64_t made;
            const char *at = ob_stmt_col_text(st, 2, NULL);
            if (!at || ob_ts_parse(at, &made) != 0 || made + OB_PROVISION_STALE_MS > now_ms) continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 4;
                stale *g = ob_arena_alloc(&a, sizeof *g * (size_t)cap);
                if (n) memcpy(g, v, sizeof *g * (size_t)n);
                v = g;
            }
            v[n++] = (stale){ob_arena_strdup(&a, ob_stmt_col_text(st, 0, NULL)),
                             ob_arena_strdup(&a, ob_stmt_col_text(st, 1, NULL)), ob_stmt_col_i64(st, 3)};
        }
        if (rc >= 0) ob_stmt_done(st);
        rc = rc < 0 ? -1 : 0;
        ob_db_release(c);
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = abandon(s, v[i].id, v[i].slug, v[i].version, NULL, NULL, err);
        if (rc == 0) ob_log(OB_LOG_INFO, "tenant: stale provisioning removed", "tenant", v[i].slug, NULL);
        if (rc == 0 && reaped) (*reaped)++;
    }
    ob_arena_release(&a);
    return rc;
}

/* Tests only (tests/e2e/test_tenant_provisioning.py): OPSBASE_TEST_PROVISION_PAUSE
 * names a directory; while a file named after the slug is in it, a create
 * waits once its database is made and seeded and before the tenant is made
 * active, the moment a slow provisioning or a crash leaves behind; it makes
 * "<slug>.paused" there when it begins to wait. A file whose text begins with
 * "fail" fails the create there instead (a failure after the rows and the
 * database are in). Unset, as in production, it costs
 * one getenv per create. */
static int test_pause(const char *slug, ob_err *err)
{
    const char *dir = getenv("OPSBASE_TEST_PROVISION_PAUSE");
    if (!dir || !*dir) return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, slug);
    for (int i = 0; i < 300 * 50; i++) { /* at most 300 s: a test that died does not hold a server for ever */
        FILE *f = fopen(path, "r");
        if (!f) return 0;
        char text[8] = {0};
        size_t got = fread(text, 1, 4, f);
        fclose(f);
        if (got == 4 && memcmp(text, "fail", 4) == 0)
            return ob_err_set(err, OB_E_INTERNAL, "provisioning of \"%.60s\" failed (test hook)", slug);
        if (i == 0) { /* tells the test that the create has come this far */
            char mark[4200];
            snprintf(mark, sizeof mark, "%s.paused", path);
            FILE *m = fopen(mark, "w");
            if (m) fclose(m);
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* The second control transaction: the tenant becomes active, unless a
 * reaper claimed its row meanwhile (its version moved on: OB_E_CONFLICT, and
 * the reaper removes what was made). */
static int activate(ob_store *s, const ob_tenant_new *t, const char *id, int64_t version, bool *lost, ob_err *err)
{
    char now[OB_TS_LEN];
    ob_ts_format(ob_now_ms(), now);
    ob_value v[] = {ob_v_text(now), ob_v_text(now), ob_v_text(id), ob_v_int(version)};
    int64_t n;
    if (control_run(s,
                    "UPDATE tenants SET status = 'active', provisioned_at = ?, updated_at = ?, "
                    "version = version + 1 WHERE id = ? AND status = 'provisioning' AND version = ?",
                    v, 4, &n, err) != 0)
        return -1;
    *lost = n == 0;
    if (n == 0)
        return ob_err_set(err, OB_E_CONFLICT, "the provisioning of tenant \"%.60s\" was abandoned: create it again",
                          t->slug);
    return 0;
}

int ob_tenant_create(ob_store *s, ob_tenant_new *t, ob_err *err)
{
    if (!ob_db_slug_valid(t->slug))
        return ob_err_set(err, OB_E_VALIDATION, "tenant slug \"%.60s\" must be lower-case letters, digits and dashes",
                          t->slug);
    if (!t->owner_password) {
        ob_password_generate(t->generated_password);
        t->owner_password = t->generated_password;
    }
    if (ob_password_check(t->owner_password, err) != 0) return -1;
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_tenant_info info = {0};
    int64_t version = 1;
    int rc = insert_rows(s, &a, t, &info, &version, err);
    if (rc != 0 && err->code == OB_E_CONFLICT) {
        /* the slug may be held by a create that crashed: removed when stale,
         * and tried once more */
        ob_err e2;
        int reaped = 0;
        if (ob_tenant_reap_provisioning(s, t->slug, ob_now_ms(), &reaped, &e2) == 0 && reaped)
            rc = insert_rows(s, &a, t, &info, &version, err);
    }
    if (rc != 0) goto out;
    /* No control transaction is open from here to activate(): the schema DDL,
     * seeds and owner take hundreds of milliseconds in which other control
     * writes (platform sign-ins and actions, other creates) go on. Every reader
     * of tenants takes a provisioning row for no tenant (ob_tenant_lookup,
     * ob_tenant_slugs). */
    if (ob_db_tenant_exists(s, t->slug))
        rc = ob_err_set(err, OB_E_CONFLICT, "a database for tenant \"%.60s\" exists already", t->slug);
    bool created = false, lost = false;
    if (rc == 0) {
        rc = ob_db_create_tenant(s, t->slug, err);
        created = rc == 0;
    }
    if (rc == 0) rc = provision(s, &a, &info, t, err);
    if (rc == 0) rc = test_pause(t->slug, err);
    if (rc == 0) rc = activate(s, t, info.id, version, &lost, err);
    if (rc != 0 && !lost) {
        /* the database made here is dropped (abandon); one found there
         * already is not this create's to drop. Should this cleanup fail too,
         * the row stays provisioning and is reaped once stale. */
        ob_err ignored;
        const char *why = ob_arena_strdup(&a, err->message);
        if (created) abandon(s, info.id, t->slug, version, t->by, why, &ignored);
        else remove_row(s, info.id, version, t->by, why, &ignored);
    }
out:
    ob_arena_release(&a);
    return rc;
}

int ob_tenant_delete(ob_store *s, const char *slug, ob_err *err)
{
    if (!ob_db_slug_valid(slug)) return ob_err_set(err, OB_E_NOT_FOUND, "no tenant \"%.60s\"", slug);
    /* a create that crashed long ago left its slug provisioning: removed
     * as a stale one is, which is what was asked */
    int reaped = 0;
    if (ob_tenant_reap_provisioning(s, slug, ob_now_ms(), &reaped, err) != 0) return -1;
    if (reaped) return 0;
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    int rc = ob_db_begin(c, err);
    ob_stmt *st;
    int provisioning = 0;
    if (rc == 0 && (rc = ob_db_prepare(c, "SELECT 1 FROM tenants WHERE slug = ? AND status = 'provisioning'", &st,
                                       err)) == 0) {
        ob_stmt_bind_text(st, 1, slug, err);
        provisioning = ob_stmt_step(st, err);
        ob_stmt_done(st);
        if (provisioning < 0) rc = -1;
    }
    ob_value v = ob_v_text(slug);
    if (rc == 0 && !provisioning) rc = ob_sql_run(c, "DELETE FROM tenants WHERE slug = ?", &v, 1, err);
    int64_t n = rc == 0 && !provisioning ? ob_db_changes(c) : 0;
    if (rc == 0 && !provisioning) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    if (rc != 0) return -1;
    /* a create in flight: not a tenant yet, and its database is its own */
    if (provisioning)
        return ob_err_set(err, OB_E_NOT_FOUND, "no tenant \"%.60s\" (it is being provisioned)", slug);
    bool exists = ob_db_tenant_exists(s, slug);
    if (n == 0 && !exists) return ob_err_set(err, OB_E_NOT_FOUND, "no tenant \"%.60s\"", slug);
    return exists ? ob_db_drop_tenant(s, slug, err) : 0;
}

int ob_tenant_each(ob_conn *c, int (*fn)(const char *, const char *, const char *, void *), void *arg, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(c,
                      "SELECT t.slug, COALESCE(p.code, '-'), t.status, t.id FROM tenants t LEFT JOIN subscriptions s "
                      "ON s.tenant_id = t.id LEFT JOIN plans p ON p.id = s.plan_id WHERE t.deleted_at IS NULL "
                      "ORDER BY t.slug",
                      &st, err) != 0)
        return -1;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1)
        if (fn(ob_stmt_col_text(st, 0, NULL), ob_stmt_col_text(st, 1, NULL), ob_stmt_col_text(st, 2, NULL), arg) != 0)
            break;
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

typedef struct slug_list {
    ob_arena *a;
    ob_slugs *out;
    int cap;
    bool active_only;
} slug_list;

static int collect_slug(const char *slug, const char *plan, const char *status, void *arg)
{
    (void)plan;
    slug_list *l = arg;
    if (l->active_only && strcmp(status, "active") != 0) return 0;
    if (strcmp(status, "provisioning") == 0) return 0; /* not a tenant until its create has finished */
    ob_slugs *o = l->out;
    if (o->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        const char **v = ob_arena_alloc(l->a, sizeof *v * (size_t)l->cap);
        if (o->n) memcpy(v, o->v, sizeof *v * (size_t)o->n);
        o->v = v;
    }
    o->v[o->n++] = ob_arena_strdup(l->a, slug);
    return 0;
}

int ob_tenant_open(ob_store *s, ob_arena *a, const char *slug, ob_db_mode mode, ob_tenant_info **info, ob_conn **c,
                   ob_err *err)
{
    ob_conn *control;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &control, err) != 0) return -1;
    int rc = ob_tenant_lookup(control, a, slug, info, err);
    ob_db_release(control);
    return rc == 0 ? ob_db_acquire(s, slug, (*info)->id, mode, c, err) : -1;
}

int ob_tenant_slugs(ob_conn *control, ob_arena *a, bool active_only, ob_slugs *out, ob_err *err)
{
    *out = (ob_slugs){0};
    slug_list l = {.a = a, .out = out, .active_only = active_only};
    return ob_tenant_each(control, collect_slug, &l, err);
}

int ob_tenant_first(ob_store *s, ob_arena *a, const char **slug, int64_t *count, ob_err *err)
{
    *slug = NULL;
    *count = 0;
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    ob_stmt *st;
    int rc = ob_db_prepare(c,
                           "SELECT COUNT(*), MIN(slug) FROM tenants WHERE deleted_at IS NULL AND status <> 'provisioning'",
                           &st, err);
    if (rc == 0) {
        rc = ob_stmt_step(st, err) == 1 ? 0 : -1;
        if (rc == 0) {
            *count = ob_stmt_col_i64(st, 0);
            const char *first = ob_stmt_col_text(st, 1, NULL);
            if (first) *slug = ob_arena_strdup(a, first);
        }
        ob_stmt_done(st);
    }
    ob_db_release(c);
    return rc;
}

int ob_tenant_slugs_of(ob_store *s, ob_arena *a, const char *only, ob_slugs *out, ob_err *err)
{
    if (only) {
        *out = (ob_slugs){0};
        slug_list l = {.a = a, .out = out};
        return collect_slug(only, NULL, "", &l);
    }
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    int rc = ob_tenant_slugs(c, a, false, out, err);
    ob_db_release(c);
    return rc;
}

int ob_migrate_control(ob_store *s, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    int applied = 0;
    int rc = ob_migrate(c, OB_SCOPE_CONTROL, &applied, err);
    if (rc == 0 && applied) rc = ob_platform_seed(c, err);
    ob_db_release(c);
    return rc;
}

/* Bring one tenant database up to this binary's schema: skipped at once when
 * its stamp says it is current (unless sync); refused when it is newer. */
static int migrate_one(ob_store *s, ob_arena *a, const char *slug, bool sync, ob_err *err)
{
    ob_tenant_info *info;
    ob_conn *c;
    int stamped, rc;
    if (!sync && ob_db_peek_version(s, slug, &stamped, err) == 0 && stamped >= 0) {
        if (stamped == ob_registry_version()) return 0; /* current: nothing to open */
        if (stamped > ob_registry_version())
            return ob_err_set(err, OB_E_UNAVAILABLE,
                              "tenant \"%s\" is at schema version %d but this binary knows only up to %d: "
                              "upgrade opsbase",
                              slug, stamped, ob_registry_version());
    }
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    rc = ob_tenant_lookup(c, a, slug, &info, err);
    ob_db_release(c);
    if (rc != 0) {
        if (err->code != OB_E_NOT_FOUND) return -1;
        /* suspended tenants are migrated too */
        info = ob_arena_zalloc(a, sizeof *info);
        info->slug = slug;
    }
    if (ob_db_acquire(s, slug, info->id, OB_DB_WRITE, &c, err) != 0) return -1;
    int applied = 0;
    rc = ob_migrate(c, OB_SCOPE_TENANT, &applied, err);
    if (rc != 0) { /* the operator is told which tenant to repair (a duplicate a new unique index refuses) */
        char msg[2 * sizeof err->message];
        snprintf(msg, sizeof msg, "tenant \"%s\": %s", slug, err->message);
        size_t n = strlen(msg) < sizeof err->message ? strlen(msg) : sizeof err->message - 1;
        memcpy(err->message, msg, n);
        err->message[n] = '\0';
    }
    if (rc != 0 || (!sync && !applied)) {
        ob_db_release(c);
        return rc;
    }
    ob_ctx ctx;
    ob_ctx_system(&ctx, a, s, c, info);
    rc = ob_db_begin(c, err);
    if (rc == 0) rc = ob_rbac_sync(&ctx, err);
    if (rc == 0) rc = seed_masking(&ctx, err);
    if (rc == 0) rc = ob_seeds_run(&ctx, OB_SCOPE_TENANT, err);
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    return rc;
}

/* The provisioning rows crashed creates left: removed at a start. Failing
 * to remove one does not stop the start (the next start or create of the
 * slug tries again). */
static void reap_at_start(ob_store *s)
{
    ob_err e;
    if (ob_tenant_reap_provisioning(s, NULL, ob_now_ms(), NULL, &e) != 0)
        ob_log(OB_LOG_WARN, "tenant: stale provisioning not removed", "error", e.message, NULL);
}

int ob_migrate_all(ob_store *s, bool sync, int *ntenants, ob_err *err)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_conn *c;
    ob_slugs l = {0};
    int rc = ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err);
    if (rc != 0) goto out;
    int applied = 0;
    rc = ob_migrate(c, OB_SCOPE_CONTROL, &applied, err);
    if (rc == 0 && (sync || applied)) rc = ob_platform_seed(c, err);
    if (rc == 0) rc = ob_tenant_slugs(c, &a, false, &l, err);
    ob_db_release(c);
    if (rc == 0) reap_at_start(s);
    for (int i = 0; rc == 0 && i < l.n; i++) rc = migrate_one(s, &a, l.v[i], sync, err);
    if (ntenants) *ntenants = l.n;
out:
    ob_arena_release(&a);
    return rc;
}

/* ob_store_on_first_use's check for serve: the tenant's stamp, and the
 * migration when it is behind (the same as ob_migrate_all without sync). */
static int first_use(ob_store *s, const char *slug, const char *generation, void *arg, ob_err *err)
{
    (void)generation, (void)arg;
    ob_arena a;
    ob_arena_init(&a, 0);
    int rc = migrate_one(s, &a, slug, false, err);
    ob_arena_release(&a);
    return rc;
}

int ob_migrate_lazy(ob_store *s, int *ntenants, ob_err *err)
{
    if (ob_migrate_control(s, err) != 0) return -1;
    reap_at_start(s);
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    ob_stmt *st;
    int rc = ob_db_prepare(c, "SELECT COUNT(*) FROM tenants WHERE deleted_at IS NULL AND status <> 'provisioning'",
                       &st, err);
    if (rc == 0) {
        rc = ob_stmt_step(st, err) == 1 ? 0 : -1;
        if (rc == 0 && ntenants) *ntenants = (int)ob_stmt_col_i64(st, 0);
        ob_stmt_done(st);
    }
    ob_db_release(c);
    if (rc == 0) ob_store_on_first_use(s, first_use, NULL);
    return rc;
}

int ob_tenant_add_user(ob_store *s, const char *slug, const char *email, const char *name, const char *role,
                       const char *password, char generated[32], ob_err *err)
{
    if (!role || !*role) return ob_err_set(err, OB_E_VALIDATION, "a role is required");
    if (!password) {
        ob_password_generate(generated);
        password = generated;
    }
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_conn *c;
    ob_tenant_info *info = NULL;
    int rc = ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err);
    if (rc == 0) {
        rc = ob_tenant_lookup(c, &a, slug, &info, err);
        ob_db_release(c);
    }
    if (rc == 0) rc = ob_db_acquire(s, slug, info->id, OB_DB_WRITE, &c, err);
    if (rc == 0) {
        ob_ctx ctx;
        ob_ctx_system(&ctx, &a, s, c, info);
        rc = ob_db_begin(c, err);
        if (rc == 0) rc = insert_user(&ctx, email, name ? name : default_name(&a, email), password, false, role, err);
        if (rc == 0) rc = ob_db_commit(c, err);
        ob_db_release(c);
    }
    ob_arena_release(&a);
    return rc;
}
