/* rbac.c - seed roles, permission codes, grant rules, and loading a
 * principal's effective permissions. */
#include <stdlib.h>
#include <string.h>

#include "auth/rbac.h"
#include "base/base.h"
#include "schema/registry.h"
#include "schema/sql.h"
#include "base/banned.h"

typedef struct seed_role {
    const char *code, *name, *description;
    int level;
} seed_role;

static const seed_role seed_roles[] = {
    {"owner", "Owner", "Full access to all features", 10},
    {"admin", "Admin", "Administrative access", 9},
    {"manager", "Manager", "Team and operations management", 8},
    {"operator", "Operator", "Day-to-day operations", 5},
    {"agent", "Agent", "Support agent: works tickets assigned to them", 5},
    {"analyst", "Analyst", "Reads everything, exports reports", 4},
    {"viewer", "Viewer", "Read-only access", 2},
    {"customer", "Customer", "External customer: sees only their own records", 1},
};

typedef struct perm_def {
    const char *code, *module, *name, *description;
} perm_def;

static const perm_def fixed_perms[] = {
#define OB_PERM(code, module, name, desc) {code, module, name, desc},
#include "auth/perms.def"
#undef OB_PERM
};

bool ob_rbac_is_seed_role(const char *code)
{
    for (size_t i = 0; i < OB_ARRAY_LEN(seed_roles); i++)
        if (strcmp(seed_roles[i].code, code) == 0) return true;
    return false;
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return true;
    return false;
}

/* The grant rules of the seed roles. A code is "<module>.<verb>"; "view"
 * and "track" are the reading verbs. */
static bool grants(const char *role, const char *code)
{
    /* modules whose records day-to-day operators create and edit */
    static const char *const operational[] = {"customers", "tickets", "orders",    "shipments", "ndr",   "inventory",
                                              "services",  "couriers", "purchasing", "crm",       "images",
                                              "files", NULL};
    /* reading these is for administrators and analysts */
    static const char *const private_views[] = {"audit.view", "sessions.view", "security.view", NULL};
    static const char *const quiet_modules[] = {"finance", "settings", "security", "payments", NULL};
    static const char *const agent_codes[] = {"customers.view", "categories.view", "documents.view", "team.view",
                                              "files.view", "files.create", NULL};
    static const char *const customer_codes[] = {
        "tickets.view",  "tickets.create",  "customers.view", "documents.view", "categories.view",
        "services.view", "services.create", "shipments.view", "shipments.track", "flights.view",
        "payments.view", "files.view", "files.create", "tickets.rate", NULL};
    char module[64];
    const char *dot = strchr(code, '.');
    size_t n = dot ? (size_t)(dot - code) : strlen(code);
    if (n >= sizeof module) return false;
    memcpy(module, code, n);
    module[n] = 0;
    bool reads = ends_with(code, ".view") || ends_with(code, ".track");
    if (strcmp(module, "platform") == 0) return false;
    if (!strcmp(role, "owner") || !strcmp(role, "admin")) return true;
    /* locks, credentials, other people's sessions and ownership stay with administrators */
    static const char *const admin_only[] = {"team.delete",       "team.roles",   "settings.edit",
                                             "team.lock",         "team.end_sessions", "team.set_password",
                                             "team.transfer_ownership", "sessions.end", "api_keys.manage",
                                             "customers.erase", NULL};
    if (!strcmp(role, "manager")) return !is_one_of(code, admin_only);
    if (!strcmp(role, "operator"))
        return (reads && !is_one_of(code, private_views) && !is_one_of(module, quiet_modules)) ||
               (is_one_of(module, operational) && !ends_with(code, ".delete") && !ends_with(code, ".export") &&
                !ends_with(code, ".erase"));
    if (!strcmp(role, "viewer")) return reads && !is_one_of(code, private_views);
    if (!strcmp(role, "analyst")) return reads || ends_with(code, ".export");
    if (!strcmp(role, "agent")) return has_prefix(code, "tickets.") ? !ends_with(code, ".delete") : is_one_of(code, agent_codes);
    if (!strcmp(role, "customer")) return is_one_of(code, customer_codes);
    return false;
}

/* Rows of one INSERT sent as a single multi-row statement. A tenant's
 * creation writes some 1,200 permission and grant rows; one statement each
 * was 1,200 round trips on PostgreSQL (most of a tenant's creation time
 * there). Values must outlive the batch: they are arena or static strings. */
#define BATCH_ROWS 64
#define BATCH_COLS 9
typedef struct batch {
    ob_ctx *ctx;
    const char *head; /* "INSERT INTO t (cols) VALUES " */
    const char *row;  /* one row's placeholders: "(?, ?, 1, ?)" */
    const char *tail; /* after the rows: an ON CONFLICT clause or "" */
    int ncols, nrows;
    ob_value v[BATCH_ROWS * BATCH_COLS];
} batch;

static int batch_flush(batch *b, ob_err *err)
{
    if (b->nrows == 0) return 0;
    ob_sb sql;
    ob_sb_init(&sql, 4096);
    ob_sb_adds(&sql, b->head);
    for (int i = 0; i < b->nrows; i++) {
        if (i) ob_sb_adds(&sql, ", ");
        ob_sb_adds(&sql, b->row);
    }
    ob_sb_adds(&sql, b->tail);
    int rc = ob_sql_run(b->ctx->db, sql.buf, b->v, b->nrows * b->ncols, err);
    ob_sb_release(&sql);
    b->nrows = 0;
    return rc;
}

static int batch_add(batch *b, const char *const *vals, ob_err *err)
{
    for (int i = 0; i < b->ncols; i++) b->v[b->nrows * b->ncols + i] = ob_v_text(vals[i]);
    return ++b->nrows == BATCH_ROWS ? batch_flush(b, err) : 0;
}

static void perm_batch_init(batch *b, ob_ctx *ctx)
{
    b->ctx = ctx;
    b->head = "INSERT INTO permissions (id, created_at, updated_at, version, name, code, module, description, "
              "resource, action) VALUES ";
    b->row = "(?, ?, ?, 1, ?, ?, ?, ?, ?, ?)";
    b->tail = " ON CONFLICT (code) DO NOTHING";
    b->ncols = 9;
    b->nrows = 0;
}

static int add_perm(batch *b, const char *code, const char *module, const char *name, const char *desc,
                    ob_err *err)
{
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    const char *dot = strchr(code, '.');
    const char *vals[] = {ob_arena_strdup(b->ctx->arena, id), b->ctx->now, b->ctx->now, name, code, module, desc,
                          module, dot ? dot + 1 : code};
    return batch_add(b, vals, err);
}

static int add_table_perms(ob_ctx *ctx, batch *b, ob_err *err)
{
    static const char *const verbs[] = {"view", "create", "edit", "delete"};
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_resource *r = ob_registry_at(i)->res;
        if (r->scope != OB_SCOPE_TENANT || (r->flags & OB_RES_NO_API)) continue;
        const char *over[] = {r->perm_view, r->perm_create, r->perm_edit, r->perm_delete};
        for (int v = 0; v < 4; v++) {
            if ((r->flags & OB_RES_READONLY) && v > 0) continue;
            const char *code = over[v] ? over[v] : ob_arena_printf(ctx->arena, "%s.%s", r->perm, verbs[v]);
            const char *name = ob_arena_printf(ctx->arena, "%c%s %s", verbs[v][0] - 32, verbs[v] + 1, r->perm);
            if (add_perm(b, code, r->perm, name, NULL, err) != 0) return -1;
        }
        /* every table may be exported by holders of its module's export permission */
        const char *ecode = ob_arena_printf(ctx->arena, "%s.export", r->perm);
        if (add_perm(b, ecode, r->perm, ob_arena_printf(ctx->arena, "Export %s", r->perm), NULL, err) != 0) return -1;
        for (int a = 0; a < r->nactions; a++) {
            const char *code = ob_arena_printf(ctx->arena, "%s.%s", r->perm, r->actions[a].perm);
            if (add_perm(b, code, r->perm, code, NULL, err) != 0) return -1;
        }
        for (int e = 0; r->fsm && e < r->fsm->n; e++) {
            if (!r->fsm->rows[e].perm) continue;
            const char *code = ob_arena_printf(ctx->arena, "%s.%s", r->perm, r->fsm->rows[e].perm);
            if (add_perm(b, code, r->perm, code, NULL, err) != 0) return -1;
        }
    }
    return 0;
}

int ob_rbac_sync(ob_ctx *ctx, ob_err *err)
{
    batch *b = ob_arena_alloc(ctx->arena, sizeof *b);
    perm_batch_init(b, ctx);
    for (size_t i = 0; i < OB_ARRAY_LEN(fixed_perms); i++) {
        const perm_def *p = &fixed_perms[i];
        if (add_perm(b, p->code, p->module, p->name, p->description, err) != 0) return -1;
    }
    if (add_table_perms(ctx, b, err) != 0 || batch_flush(b, err) != 0) return -1;
    for (size_t i = 0; i < OB_ARRAY_LEN(seed_roles); i++) {
        const seed_role *r = &seed_roles[i];
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_stmt *st;
        if (ob_db_prepare(ctx->db,
                          "INSERT INTO roles (id, created_at, updated_at, version, name, code, description, is_system, "
                          "role_level, status) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, 'active') ON CONFLICT (code) DO NOTHING",
                          &st, err) != 0)
            return -1;
        ob_stmt_bind_text(st, 1, id, err);
        ob_stmt_bind_text(st, 2, ctx->now, err);
        ob_stmt_bind_text(st, 3, ctx->now, err);
        ob_stmt_bind_text(st, 4, r->name, err);
        ob_stmt_bind_text(st, 5, r->code, err);
        ob_stmt_bind_text(st, 6, r->description, err);
        ob_value t = ob_v_bool(true);
        ob_stmt_bind(st, 7, &t, err);
        ob_stmt_bind_i64(st, 8, r->level, err);
        int rc = ob_stmt_step(st, err);
        ob_stmt_done(st);
        if (rc < 0) return -1;
    }
    /* grant by rule: every (system role, code) pair the rules allow */
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT r.id, r.code, p.id, p.code FROM roles r, permissions p WHERE r.is_system AND NOT "
                      "EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_id = r.id AND rp.permission_id = p.id)",
                      &st, err) != 0)
        return -1;
    typedef struct pair { char *role, *perm; } pair;
    pair *pairs = NULL;
    size_t np = 0, cap = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (!grants(ob_stmt_col_text(st, 1, NULL), ob_stmt_col_text(st, 3, NULL))) continue;
        if (np == cap) {
            cap = cap ? cap * 2 : 256;
            pair *np2 = ob_arena_alloc(ctx->arena, cap * sizeof *pairs);
            if (np) memcpy(np2, pairs, np * sizeof *pairs);
            pairs = np2;
        }
        pairs[np].role = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        pairs[np].perm = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 2, NULL));
        np++;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    b->head = "INSERT INTO role_permissions (id, created_at, role_id, permission_id) VALUES ";
    b->row = "(?, ?, ?, ?)";
    b->tail = "";
    b->ncols = 4;
    for (size_t i = 0; i < np; i++) {
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        const char *vals[] = {ob_arena_strdup(ctx->arena, id), ctx->now, pairs[i].role, pairs[i].perm};
        if (batch_add(b, vals, err) != 0) return -1;
    }
    return batch_flush(b, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int collect(ob_ctx *ctx, const char *sql, const char *user_id, const char ***out, int *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, user_id, err);
    ob_stmt_bind_text(st, 2, ctx->now, err);
    int cap = 64, rc;
    const char **v = ob_arena_alloc(ctx->arena, sizeof(char *) * (size_t)cap);
    *n = 0;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (*n == cap) {
            const char **nv = ob_arena_alloc(ctx->arena, sizeof(char *) * (size_t)cap * 2);
            memcpy(nv, v, sizeof(char *) * (size_t)cap);
            v = nv;
            cap *= 2;
        }
        v[(*n)++] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    }
    ob_stmt_done(st);
    *out = v;
    return rc < 0 ? -1 : 0;
}

int ob_rbac_load(ob_ctx *ctx, const char *user_id, ob_principal *p, ob_err *err)
{
    if (collect(ctx,
                "SELECT r.code FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ? AND "
                "ur.status = 'active' AND r.status = 'active' AND (ur.expires_at IS NULL OR ur.expires_at > ?) "
                "ORDER BY r.code",
                user_id, &p->roles, &p->nroles, err) != 0)
        return -1;
    if (collect(ctx,
                "SELECT DISTINCT pm.code FROM user_roles ur JOIN roles r ON r.id = ur.role_id "
                "JOIN role_permissions rp ON rp.role_id = r.id JOIN permissions pm ON pm.id = rp.permission_id "
                "WHERE ur.user_id = ? AND ur.status = 'active' AND r.status = 'active' AND "
                "(ur.expires_at IS NULL OR ur.expires_at > ?) ORDER BY pm.code",
                user_id, &p->perms, &p->nperms, err) != 0)
        return -1;
    qsort(p->perms, (size_t)p->nperms, sizeof(char *), cmp_str); /* collation-independent order for bsearch */
    return 0;
}

int ob_rbac_role_id(ob_ctx *ctx, const char *code, char out[37], ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT id FROM roles WHERE code = ?", &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, code, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) snprintf(out, 37, "%s", ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (rc == 0) return ob_err_set(err, OB_E_NOT_FOUND, "no role \"%.60s\"", code);
    return 0;
}

bool ob_ctx_can(const ob_ctx *ctx, const char *perm)
{
    const ob_principal *p = ctx->who;
    if (!p) return false;
    if (p->is_owner || p->is_system) return true;
    return bsearch(&perm, p->perms, (size_t)p->nperms, sizeof(char *), cmp_str) != NULL;
}

bool ob_ctx_has_role(const ob_ctx *ctx, const char *role)
{
    const ob_principal *p = ctx->who;
    for (int i = 0; p && i < p->nroles; i++)
        if (strcmp(p->roles[i], role) == 0) return true;
    return false;
}

void ob_ctx_stamp(ob_ctx *ctx)
{
    ctx->now_ms = ob_now_ms();
    ob_ts_format(ctx->now_ms, ctx->now);
}
