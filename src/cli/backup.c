/* backup.c - opsbase backup and opsbase restore (src/ops does the work). */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "ops/backup.h"
#include "platform/tenants.h"
#include "base/banned.h"

static const ob_opt backup_opts[] = {
    {"--out", NULL, NULL, false, "directory to write the backup into (created; must not hold a backup)"},
    {"--tenant", NULL, NULL, false, "back up this tenant only (default: the whole store)"},
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
};
static const ob_cmd_spec backup_spec = {
    "opsbase backup --out DIR [--tenant T] [--data DIR | --db URL]",
    "Write a consistent backup while the server runs: a manifest and one zstd file per tenant.", backup_opts,
    (int)OB_ARRAY_LEN(backup_opts), 0, 0};

int ob_cmd_backup(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&backup_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    const char *out = ob_cli_get(&backup_spec, &a, "--out");
    if (!out || !*out) return ob_cli_usage_error(&backup_spec, "--out DIR is required");
    ob_store *s;
    ob_err err;
    ob_store_opts o = {.data_dir = ob_cli_get(&backup_spec, &a, "--data"), .url = ob_cli_get(&backup_spec, &a, "--db")};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    ob_backup_opts bo = {.out_dir = out, .tenant = ob_cli_get(&backup_spec, &a, "--tenant"), .version = OB_VERSION,
                         .files_root = o.data_dir};
    ob_backup_report rep;
    rc = ob_backup(s, &bo, &rep, &err);
    ob_store_close(s);
    if (rc != 0) return ob_cli_fail(&err);
    printf("backup: %d part(s), %lld row(s), %lld file(s), %lld byte(s) in %s\n", rep.parts, (long long)rep.rows,
           (long long)rep.files, (long long)rep.bytes, out);
    return 0;
}

static const ob_opt restore_opts[] = {
    {"--from", NULL, NULL, false, "the backup directory"},
    {"--tenant", NULL, NULL, false, "restore this tenant only (default: everything, into an empty store)"},
    {"--as", NULL, NULL, false, "with --tenant: restore it under this slug"},
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
};
static const ob_cmd_spec restore_spec = {
    "opsbase restore --from DIR [--tenant T [--as NEW]] [--data DIR | --db URL]",
    "Bring back a whole backup into an empty store, or one tenant beside the others.", restore_opts,
    (int)OB_ARRAY_LEN(restore_opts), 0, 0};

int ob_cmd_restore(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&restore_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    const char *from = ob_cli_get(&restore_spec, &a, "--from");
    const char *tenant = ob_cli_get(&restore_spec, &a, "--tenant"), *as = ob_cli_get(&restore_spec, &a, "--as");
    if (!from || !*from) return ob_cli_usage_error(&restore_spec, "--from DIR is required");
    if (as && !tenant) return ob_cli_usage_error(&restore_spec, "--as needs --tenant");
    ob_store *s;
    ob_err err;
    ob_store_opts o = {.data_dir = ob_cli_get(&restore_spec, &a, "--data"),
                       .url = ob_cli_get(&restore_spec, &a, "--db"), .create = true};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    /* one tenant joins a store as it is; a whole backup brings its own platform rows */
    rc = tenant ? ob_migrate_control(s, &err) : 0;
    ob_restore_opts ro = {.from_dir = from, .tenant = tenant, .as = as, .files_root = o.data_dir};
    ob_restore_report rep;
    if (rc == 0) rc = ob_restore(s, &ro, &rep, &err);
    ob_store_close(s);
    if (rc != 0) return ob_cli_fail(&err);
    printf("restore: %d tenant(s), %lld row(s), %lld file(s) from %s\n", rep.tenants, (long long)rep.rows,
           (long long)rep.files, from);
    return 0;
}
