/* tenant_export.c - opsbase tenant export and opsbase tenant import: one
 * tenant's portable copy (GDPR data portability) and its restoration as a
 * new tenant. The copy is a one-tenant backup (ops/backup.h): a manifest
 * with the SHA-256, size and row counts per table of each part, the
 * tenant's rows as JSON lines and its uploaded files; importing checks every
 * checksum before a row is written and keeps every id and timestamp. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/base.h"
#include "cli/cli.h"
#include "ops/backup.h"
#include "platform/tenants.h"
#include "base/banned.h"

static const ob_opt export_opts[] = {
    {"--tenant", NULL, NULL, false, "the tenant's slug"},
    {"--out", NULL, NULL, false, "directory to write the export into (created; must not hold one)"},
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
};
static const ob_cmd_spec export_spec = {
    "opsbase tenant export --tenant T --out DIR [--data DIR | --db URL]",
    "Write every row and file of one tenant, with a manifest of row counts and SHA-256 checksums.", export_opts,
    (int)OB_ARRAY_LEN(export_opts), 0, 0};

int ob_cli_tenant_export(int argc, char **argv)
{
    ob_args a;
    const ob_cmd_spec *sp = &export_spec;
    int rc = ob_cli_parse(sp, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    const char *tenant = ob_cli_get(sp, &a, "--tenant"), *out = ob_cli_get(sp, &a, "--out");
    if (!tenant || !*tenant) return ob_cli_usage_error(sp, "--tenant is required");
    if (!out || !*out) return ob_cli_usage_error(sp, "--out DIR is required");
    ob_store *s;
    ob_err err;
    ob_store_opts o = {.data_dir = ob_cli_get(sp, &a, "--data"), .url = ob_cli_get(sp, &a, "--db")};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    ob_backup_opts bo = {.out_dir = out, .tenant = tenant, .version = OB_VERSION, .files_root = o.data_dir};
    ob_backup_report rep;
    rc = ob_backup(s, &bo, &rep, &err);
    ob_store_close(s);
    if (rc != 0) return ob_cli_fail(&err);
    printf("tenant \"%s\" exported: %lld row(s), %lld file(s) in %s\n", tenant, (long long)rep.rows,
           (long long)rep.files, out);
    return 0;
}

/* The slug of the one tenant part of an export's manifest, or NULL. */
static char *exported_slug(const char *dir, char *buf, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    json_t *parts = json_object_get(m, "parts");
    const char *slug = NULL;
    int tenants = 0;
    size_t i;
    json_t *p;
    json_array_foreach(parts, i, p) {
        const char *t = json_string_value(json_object_get(p, "tenant"));
        if (t) {
            slug = t;
            tenants++;
        }
    }
    char *res = NULL;
    if (tenants == 1 && strlen(slug) < n) {
        snprintf(buf, n, "%s", slug);
        res = buf;
    }
    json_decref(m);
    return res;
}

static const ob_opt import_opts[] = {
    {"--from", NULL, NULL, false, "the export's directory"},
    {"--slug", NULL, NULL, false, "the new tenant's slug"},
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
};
static const ob_cmd_spec import_spec = {
    "opsbase tenant import --from DIR --slug NEW [--data DIR | --db URL]",
    "Restore a tenant export as a new tenant: every row with its id and timestamps, and its files.", import_opts,
    (int)OB_ARRAY_LEN(import_opts), 0, 0};

int ob_cli_tenant_import(int argc, char **argv)
{
    ob_args a;
    const ob_cmd_spec *sp = &import_spec;
    int rc = ob_cli_parse(sp, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    const char *from = ob_cli_get(sp, &a, "--from"), *slug = ob_cli_get(sp, &a, "--slug");
    if (!from || !*from) return ob_cli_usage_error(sp, "--from DIR is required");
    if (!slug || !ob_db_slug_valid(slug))
        return ob_cli_usage_error(sp, "--slug must be lower-case letters, digits and dashes (at most 63)");
    char orig[128];
    if (!exported_slug(from, orig, sizeof orig)) {
        fprintf(stderr, "opsbase: %s is not a tenant export (no manifest naming one tenant)\n", from);
        return 1;
    }
    ob_store *s;
    ob_err err;
    ob_store_opts o = {.data_dir = ob_cli_get(sp, &a, "--data"), .url = ob_cli_get(sp, &a, "--db"), .create = true};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    rc = ob_migrate_control(s, &err);
    ob_restore_opts ro = {.from_dir = from, .tenant = orig, .as = slug, .files_root = o.data_dir};
    ob_restore_report rep;
    if (rc == 0) rc = ob_restore(s, &ro, &rep, &err);
    ob_store_close(s);
    if (rc != 0) return ob_cli_fail(&err);
    printf("tenant \"%s\" imported as \"%s\": %lld row(s), %lld file(s)\n", orig, slug, (long long)rep.rows,
           (long long)rep.files);
    return 0;
}
