/* main.c - the command table. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "db/secrets.h"
#include "domain/domains.h"
#include "base/banned.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *about;
} command;

static const command commands[] = {
    {"serve", ob_cmd_serve, "start the HTTP server"},
    {"migrate", ob_cmd_migrate, "apply schema migrations to every database"},
    {"tenant", ob_cmd_tenant, "create, list or delete tenants"},
    {"user", ob_cmd_user, "create users"},
    {"admin", ob_cmd_admin, "create super admins (the platform API's accounts)"},
    {"schema", ob_cmd_schema, "print the registry (--json)"},
    {"openapi", ob_cmd_openapi, "print the OpenAPI document"},
    {"routes", ob_cmd_routes, "print the route table (JSON)"},
    {"demo", ob_cmd_demo, "create the demo tenants and data"},
    {"check-ledgers", ob_cmd_check_ledgers, "verify every ledger balance against its entries"},
    {"worker", ob_cmd_worker, "run background job workers without HTTP"},
    {"job", ob_cmd_job, "enqueue a background job"},
    {"import", ob_cmd_import, "import a CSV or NDJSON file into a table of a tenant"},
    {"backup", ob_cmd_backup, "write a consistent backup of the store or one tenant"},
    {"restore", ob_cmd_restore, "restore a backup, or one tenant of it"},
    {"audit", ob_cmd_audit, "verify the audit trail's hash chain"},
    {"archive", ob_cmd_archive, "archive rows past their retention, or put an archive back"},
    {"keys", ob_cmd_keys, "make a master key, or re-seal every secret under a new one"},
    {"version", ob_cmd_version, "print the version"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: opsbase COMMAND [options]   (opsbase COMMAND --help for each)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].about);
}

int main(int argc, char **argv)
{
    ob_domain_register();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) return ob_cmd_version(0, NULL);
    /* every command seals and opens secret columns with the key from the
     * environment; serve and keys also take --master-key-file */
    ob_err err = {0};
    if (ob_secrets_configure(NULL, NULL, &err) != 0) {
        fprintf(stderr, "opsbase: %s\n", err.message);
        return 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "opsbase: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
