/* misc.c - opsbase schema --json, opsbase openapi, opsbase routes, opsbase version. */
#include <stdio.h>
#include <string.h>

#include "api/openapi.h"
#include "api/route.h"
#include "base/base.h"
#include "cli/cli.h"
#include "schema/registry.h"
#include "schema/schema_json.h"
#include "base/banned.h"

static const ob_opt schema_opts[] = {
    {"--json", NULL, NULL, true, "print the registry as JSON"},
    {"--data", "OPSBASE_DATA", "./data", false, "data directory (the registry is compiled in; accepted for symmetry)"},
    {"--db", "OPSBASE_DB", NULL, false, "database URL (accepted for symmetry)"},
};
static const ob_cmd_spec schema_spec = {"opsbase schema --json",
                                        "Print the live registry: every table, column, type and constraint.",
                                        schema_opts, 3, 0, 0};

int ob_cmd_schema(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&schema_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    if (!a.val[0]) return ob_cli_usage_error(&schema_spec, "only --json output exists");
    ob_sb sb;
    ob_sb_init(&sb, 1 << 16);
    ob_schema_json(&sb);
    fwrite(sb.buf, 1, sb.len, stdout);
    fputc('\n', stdout);
    ob_sb_release(&sb);
    return 0;
}

static const ob_opt openapi_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory (the registry is compiled in; accepted for symmetry)"},
    {"--db", "OPSBASE_DB", NULL, false, "database URL (accepted for symmetry)"},
};
static const ob_cmd_spec openapi_spec = {"opsbase openapi",
                                         "Print the OpenAPI document the server serves at /api/openapi.json.",
                                         openapi_opts, 2, 0, 0};

/* The same bytes serve answers with, so that linters can check the document
 * without starting a server. */
int ob_cmd_openapi(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&openapi_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    ob_registry_init();
    ob_sb sb;
    ob_sb_init(&sb, 1 << 16);
    ob_openapi_write(&sb, OB_VERSION);
    fwrite(sb.buf, 1, sb.len, stdout);
    fputc('\n', stdout);
    ob_sb_release(&sb);
    return 0;
}

static const ob_cmd_spec routes_spec = {"opsbase routes",
                                        "Print the route table as JSON: method, path, auth, permission, feature, "
                                        "rate class and input of every route the server answers.",
                                        openapi_opts, 2, 0, 0};

int ob_cmd_routes(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&routes_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    ob_sb sb;
    ob_sb_init(&sb, 1 << 16);
    ob_routes_write_json(&sb);
    fwrite(sb.buf, 1, sb.len, stdout);
    fputc('\n', stdout);
    ob_sb_release(&sb);
    return 0;
}

static const ob_opt version_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory (accepted for symmetry)"},
    {"--db", "OPSBASE_DB", NULL, false, "database URL (accepted for symmetry)"},
};
static const ob_cmd_spec version_spec = {"opsbase version", "Print the version and schema version.", version_opts, 2,
                                         0, 0};

int ob_cmd_version(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&version_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    printf("opsbase %s (schema version %d)\n", OB_VERSION, ob_registry_version());
    return 0;
}
