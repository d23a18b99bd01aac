/* tenant_export.c - opsbase tenant export and opsbase tenant import: one
 * tenant's portable copy (GDPR data portability) and its restoration as a
 * new tenant. The copy is a one-tenant backup (ops/backup.h): a manifest
 * with the SHA-256, size and row counts per table of each part, the
 * tenant's rows as JSON lines and its uploaded files; importing checks every
 * checksum before a row is written and keeps every id and timestamp. Given a
 * name ending in .tar, the copy is one archive file (ops/tarball.h), the same
 * the platform's export job writes; otherwise a directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/base.h"
#include "cli/cli.h"
#include "ops/backup.h"
#include "ops/tarball.h"
#include "platform/tenants.h"
#include "base/banned.h"

static bool is_archive(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcmp(path + n - 4, ".tar") == 0;
}

static const ob_opt export_opts[] = {
    {"--tenant", NULL, NULL, false, "the tenant's slug"},
    {"--out", NULL, NULL, false,
     "FILE.tar: the export as one archive (must not exist); else a directory to write it into (created)"},
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
};
static const ob_cmd_spec export_spec = {
    "opsbase tenant export --tenant T --out FILE.tar|DIR [--data DIR | --db URL]",
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
    if (!out || !*out) return ob_cli_usage_error(sp, "--out FILE.tar or DIR is required");
    ob_store *s;
    ob_err err;
    ob_store_opts o = {.data_dir = ob_cli_get(sp, &a, "--data"), .url = ob_cli_get(sp, &a, "--db")};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    if (is_archive(out)) {
        ob_archive_report ar;
        rc = ob_tenant_archive(s, tenant, OB_VERSION, o.data_dir, out, &ar, &err);
        ob_store_close(s);
        if (rc != 0) return ob_cli_fail(&err);
        printf("tenant \"%s\" exported: %lld row(s), %lld file(s) in %s (%lld bytes, sha256 %s)\n", tenant,
               (long long)ar.rows, (long long)ar.files, out, (long long)ar.bytes, ar.sha256);
        return 0;
    }
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
    if (snprintf(path, sizeof path, "%s/manifest.json", dir) >= (int)sizeof path) return NULL;
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
    {"--from", NULL, NULL, false, "the export: its archive (FILE.tar) or its directory"},
    {"--slug", NULL, NULL, false, "the new tenant's slug"},
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
};
static const ob_cmd_spec import_spec = {
    "opsbase tenant import --from FILE.tar|DIR --slug NEW [--data DIR | --db URL]",
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
    /* an archive is unpacked into a scratch directory, removed afterwards */
    char scratch[4096] = "";
    if (is_archive(from)) {
        ob_err xerr;
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/opsbase-import-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(scratch)) {
            fprintf(stderr, "opsbase: cannot make a scratch directory in %s\n", tmp && *tmp ? tmp : "/tmp");
            return 1;
        }
        rmdir(scratch); /* ob_tar_extract makes it */
        if (ob_tar_extract(from, scratch, &xerr) != 0) return ob_cli_fail(&xerr);
        from = scratch;
    }
    char orig[128];
    if (!exported_slug(from, orig, sizeof orig)) {
        fprintf(stderr, "opsbase: %s is not a tenant export (no manifest naming one tenant)\n", from);
        if (*scratch) ob_tar_rmtree(scratch);
        return 1;
    }
    ob_store *s;
    ob_err err;
    ob_store_opts o = {.data_dir = ob_cli_get(sp, &a, "--data"), .url = ob_cli_get(sp, &a, "--db"), .create = true};
    if (ob_store_open(&s, &o, &err) != 0) {
        if (*scratch) ob_tar_rmtree(scratch);
        return ob_cli_fail(&err);
    }
    rc = ob_migrate_control(s, &err);
    ob_restore_opts ro = {.from_dir = from, .tenant = orig, .as = slug, .files_root = o.data_dir};
    ob_restore_report rep;
    if (rc == 0) rc = ob_restore(s, &ro, &rep, &err);
    ob_store_close(s);
    if (*scratch) ob_tar_rmtree(scratch);
    if (rc != 0) return ob_cli_fail(&err);
    printf("tenant \"%s\" imported as \"%s\": %lld row(s), %lld file(s)\n", orig, slug, (long long)rep.rows,
           (long long)rep.files);
    return 0;
}
