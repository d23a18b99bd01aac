/* admin.c - opsbase migrate, tenant create/list/delete, user create, admin
 * create-super-admin. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "platform/admins.h"
#include "platform/tenants.h"
#include "schema/registry.h"
#include "base/banned.h"

#define DATA_OPT {"--data", "OPSBASE_DATA", "./data", false, "data directory"}
#define DB_OPT {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"}

static int open_store(const char *data, const char *url, bool create, ob_store **out)
{
    ob_err err;
    ob_store_opts o = {.data_dir = data, .url = url, .create = create};
    if (ob_store_open(out, &o, &err) != 0) return ob_cli_fail(&err);
    return 0;
}

static const ob_opt migrate_opts[] = {DATA_OPT, DB_OPT};
static const ob_cmd_spec migrate_spec = {"opsbase migrate [--data DIR]",
                                         "Apply pending migrations to the control database and every tenant.",
                                         migrate_opts, 2, 0, 0};

int ob_cmd_migrate(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&migrate_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    ob_store *s;
    if (open_store(a.val[0], a.val[1], true, &s)) return 1;
    ob_err err;
    int n = 0;
    rc = ob_migrate_all(s, true, &n, &err) != 0 ? ob_cli_fail(&err) : 0;
    if (rc == 0) printf("migrated the control database and %d tenant(s) to schema version %d\n", n, ob_registry_version());
    ob_store_close(s);
    return rc;
}

static const ob_opt tenant_create_opts[] = {
    DATA_OPT, DB_OPT,
    {"--plan", NULL, NULL, false, "plan code: free, starter, professional, business, enterprise"},
    {"--owner-email", NULL, NULL, false, "e-mail of the owner user"},
    {"--owner-password", NULL, NULL, false, "owner password (generated and printed once when absent)"},
    {"--owner-name", NULL, NULL, false, "owner's display name"},
    {"--name", NULL, NULL, false, "tenant display name"},
    {"--ticket-limit", NULL, NULL, false, "override the plan's monthly ticket limit"},
    {"--agent-limit", NULL, NULL, false, "override the plan's agent limit"},
};
static const ob_cmd_spec tenant_create_spec = {
    "opsbase tenant create SLUG --plan CODE --owner-email E [--owner-password P] [--data DIR]",
    "Provision a tenant: its database, the seed roles and permissions, and an owner.", tenant_create_opts,
    (int)OB_ARRAY_LEN(tenant_create_opts), 1, 1};

static int opt_limit(const char *s, int64_t *out)
{
    *out = -1;
    return !s || (ob_parse_i64(s, out) == 0 && *out >= 0 && *out <= 100000000) ? 0 : -1;
}

static int tenant_create(int argc, char **argv)
{
    ob_args a;
    const ob_cmd_spec *sp = &tenant_create_spec;
    int rc = ob_cli_parse(sp, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    ob_tenant_new t = {.slug = a.pos[0]};
    t.plan_code = ob_cli_get(sp, &a, "--plan");
    t.owner_email = ob_cli_get(sp, &a, "--owner-email");
    t.owner_password = ob_cli_get(sp, &a, "--owner-password");
    t.owner_name = ob_cli_get(sp, &a, "--owner-name");
    t.name = ob_cli_get(sp, &a, "--name");
    if (!t.plan_code) return ob_cli_usage_error(sp, "--plan is required");
    if (!t.owner_email || !strchr(t.owner_email, '@')) return ob_cli_usage_error(sp, "--owner-email must be an e-mail address");
    if (opt_limit(ob_cli_get(sp, &a, "--ticket-limit"), &t.ticket_limit) != 0)
        return ob_cli_usage_error(sp, "--ticket-limit must be a number of tickets");
    if (opt_limit(ob_cli_get(sp, &a, "--agent-limit"), &t.agent_limit) != 0)
        return ob_cli_usage_error(sp, "--agent-limit must be a number of agents");
    if (!ob_db_slug_valid(t.slug))
        return ob_cli_usage_error(sp, "the slug must be lower-case letters, digits and dashes (at most 63)");
    ob_store *s;
    if (open_store(a.val[0], a.val[1], true, &s)) return 1;
    ob_err err;
    /* Only the control database: the new tenant is migrated as it is
     * provisioned, and the others are not this command's business (visiting
     * them made creating the n-th tenant cost O(n)). */
    rc = ob_migrate_control(s, &err) != 0 ? ob_cli_fail(&err) : 0;
    if (rc == 0 && ob_tenant_create(s, &t, &err) != 0) rc = ob_cli_fail(&err);
    ob_store_close(s);
    if (rc) return rc;
    printf("tenant \"%s\" created (plan %s)\nowner: %s\n", t.slug, t.plan_code, t.owner_email);
    if (t.generated_password[0]) printf("password: %s\n(shown once: keep it now)\n", t.generated_password);
    return 0;
}

static const ob_opt data_only[] = {DATA_OPT, DB_OPT};
static const ob_cmd_spec tenant_list_spec = {"opsbase tenant list [--data DIR]", "List tenants: slug, plan, status.",
                                             data_only, 2, 0, 0};

static int print_tenant(const char *slug, const char *plan, const char *status, void *arg)
{
    (void)arg;
    printf("%-30s %-14s %s\n", slug, plan, status);
    return 0;
}

static int tenant_list(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&tenant_list_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    ob_store *s;
    if (open_store(a.val[0], a.val[1], false, &s)) return 1;
    ob_err err;
    ob_conn *c;
    rc = ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, &err);
    if (rc == 0) {
        rc = ob_tenant_each(c, print_tenant, NULL, &err);
        ob_db_release(c);
    }
    ob_store_close(s);
    return rc ? ob_cli_fail(&err) : 0;
}

static const ob_opt tenant_delete_opts[] = {DATA_OPT, DB_OPT, {"--yes", NULL, NULL, true, "do not ask for confirmation"}};
static const ob_cmd_spec tenant_delete_spec = {
    "opsbase tenant delete SLUG [--yes] [--data DIR]",
    "Remove a tenant's database and platform rows for good (GDPR erasure).", tenant_delete_opts, 3, 1, 1};

static int tenant_delete(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&tenant_delete_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    const char *slug = a.pos[0];
    if (!a.val[2]) {
        char line[128];
        fprintf(stderr, "This erases every record of tenant \"%s\". Type the slug to confirm: ", slug);
        if (!isatty(0) || !fgets(line, sizeof line, stdin)) {
            fprintf(stderr, "\nopsbase: not confirmed (use --yes when not interactive)\n");
            return 1;
        }
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, slug) != 0) {
            fprintf(stderr, "opsbase: not confirmed; nothing was deleted\n");
            return 1;
        }
    }
    ob_store *s;
    if (open_store(a.val[0], a.val[1], false, &s)) return 1;
    ob_err err;
    rc = ob_tenant_delete(s, slug, &err) != 0 ? ob_cli_fail(&err) : 0;
    ob_store_close(s);
    if (rc == 0) printf("tenant \"%s\" deleted\n", slug);
    return rc;
}

int ob_cmd_tenant(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "create") == 0) return tenant_create(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "list") == 0) return tenant_list(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "delete") == 0) return tenant_delete(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "set") == 0) return ob_cli_tenant_set(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "export") == 0) return ob_cli_tenant_export(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "purge-due") == 0) return ob_cli_tenant_purge_due(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "import") == 0) return ob_cli_tenant_import(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "move") == 0) return ob_cli_tenant_move(argc - 1, argv + 1);
    FILE *f = (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) ? stdout : stderr;
    fprintf(f, "usage: opsbase tenant create|list|delete|set|export|import|move|purge-due ... (--help on each)\n");
    return f == stdout ? 0 : 2;
}

static const ob_opt user_opts[] = {
    DATA_OPT, DB_OPT,
    {"--tenant", NULL, NULL, false, "tenant slug"},
    {"--email", NULL, NULL, false, "e-mail (the sign-in name)"},
    {"--role", NULL, NULL, false, "owner, admin, manager, operator, viewer, agent, analyst or customer"},
    {"--password", NULL, NULL, false, "password (generated and printed once when absent)"},
    {"--name", NULL, NULL, false, "display name"},
};
static const ob_cmd_spec user_spec = {
    "opsbase user create --tenant T --email E --role R [--password P] [--name N] [--data DIR]",
    "Add a user with a role to a tenant.", user_opts, (int)OB_ARRAY_LEN(user_opts), 1, 1};

int ob_cmd_user(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&user_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    if (strcmp(a.pos[0], "create") != 0) return ob_cli_usage_error(&user_spec, "unknown action \"%s\"", a.pos[0]);
    const char *tenant = ob_cli_get(&user_spec, &a, "--tenant"), *email = ob_cli_get(&user_spec, &a, "--email");
    const char *role = ob_cli_get(&user_spec, &a, "--role");
    if (!tenant) return ob_cli_usage_error(&user_spec, "--tenant is required");
    if (!email || !strchr(email, '@')) return ob_cli_usage_error(&user_spec, "--email must be an e-mail address");
    if (!role) return ob_cli_usage_error(&user_spec, "--role is required");
    ob_store *s;
    if (open_store(a.val[0], a.val[1], false, &s)) return 1;
    ob_err err;
    char generated[32] = {0};
    rc = ob_tenant_add_user(s, tenant, email, ob_cli_get(&user_spec, &a, "--name"), role,
                            ob_cli_get(&user_spec, &a, "--password"), generated, &err) != 0
             ? ob_cli_fail(&err)
             : 0;
    ob_store_close(s);
    if (rc) return rc;
    printf("user %s created in tenant \"%s\" with role %s\n", email, tenant, role);
    if (generated[0]) printf("password: %s\n(shown once: keep it now)\n", generated);
    return 0;
}

static const ob_opt super_admin_opts[] = {
    DATA_OPT, DB_OPT,
    {"--email", NULL, NULL, false, "e-mail (the sign-in name)"},
    {"--password", NULL, NULL, false, "password (generated and printed once when absent)"},
    {"--name", NULL, NULL, false, "display name"},
};
static const ob_cmd_spec super_admin_spec = {
    "opsbase admin create-super-admin --email E [--password P] [--name N] [--data DIR]",
    "Add a platform administrator; the first sign-in enrols a TOTP second factor.", super_admin_opts,
    (int)OB_ARRAY_LEN(super_admin_opts), 1, 1};

int ob_cmd_admin(int argc, char **argv)
{
    ob_args a;
    const ob_cmd_spec *sp = &super_admin_spec;
    int rc = ob_cli_parse(sp, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    if (strcmp(a.pos[0], "create-super-admin") != 0) return ob_cli_usage_error(sp, "unknown action \"%s\"", a.pos[0]);
    const char *email = ob_cli_get(sp, &a, "--email");
    if (!email || !strchr(email, '@')) return ob_cli_usage_error(sp, "--email must be an e-mail address");
    ob_store *s;
    if (open_store(a.val[0], a.val[1], true, &s)) return 1;
    ob_err err;
    char generated[32] = {0};
    rc = ob_migrate_control(s, &err);
    if (rc == 0)
        rc = ob_super_admin_create(s, email, ob_cli_get(sp, &a, "--name"), ob_cli_get(sp, &a, "--password"),
                                   generated, &err);
    ob_store_close(s);
    if (rc) return ob_cli_fail(&err);
    printf("super admin %s created\n", email);
    if (generated[0]) printf("password: %s\n(shown once: keep it now)\n", generated);
    return 0;
}
