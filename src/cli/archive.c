/* archive.c - opsbase archive run and opsbase archive restore (src/ops). */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "base/clock.h"
#include "cli/cli.h"
#include "ops/archive.h"
#include "base/banned.h"

static const ob_opt archive_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
    {"--archive-dir", "OPSBASE_ARCHIVE_DIR", NULL, false, "archive root (default: DATA/archive)"},
    {"--tenant", NULL, NULL, false, "run: one tenant (default: all); restore: the tenant (required)"},
    {"--now", NULL, NULL, false, "run: measure ages against this time (RFC 3339) instead of the clock"},
    {"--manifest", NULL, NULL, false, "restore: the run's manifest (DIR/<tenant>/<run>.manifest.json)"},
};
static const ob_cmd_spec archive_spec = {
    "opsbase archive run [--tenant T] [--now TIME] | archive restore --manifest FILE --tenant T",
    "Move rows past their table's retention into compressed archive files, or put an archived run back.",
    archive_opts, (int)OB_ARRAY_LEN(archive_opts), 1, 1};

int ob_cmd_archive(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&archive_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    bool run = strcmp(a.pos[0], "run") == 0;
    if (!run && strcmp(a.pos[0], "restore") != 0) return ob_cli_usage_error(&archive_spec, "run or restore");
    const char *tenant = ob_cli_get(&archive_spec, &a, "--tenant"), *now = ob_cli_get(&archive_spec, &a, "--now");
    const char *manifest = ob_cli_get(&archive_spec, &a, "--manifest");
    int64_t now_ms = ob_now_ms();
    if (now && ob_ts_parse(now, &now_ms) != 0)
        return ob_cli_usage_error(&archive_spec, "--now must be a time such as 2031-01-01T00:00:00Z");
    if (!run && (!manifest || !tenant)) return ob_cli_usage_error(&archive_spec, "restore needs --manifest and --tenant");
    const char *data = ob_cli_get(&archive_spec, &a, "--data");
    char dir[1024];
    const char *given = ob_cli_get(&archive_spec, &a, "--archive-dir");
    snprintf(dir, sizeof dir, "%s", given ? given : "");
    if (!given) snprintf(dir, sizeof dir, "%s/archive", data);
    ob_store *s;
    ob_err err;
    ob_store_opts o = {.data_dir = data, .url = ob_cli_get(&archive_spec, &a, "--db")};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    if (run) {
        ob_archive_opts ao = {.dir = dir, .tenant = tenant, .now_ms = now_ms};
        ob_archive_report rep;
        rc = ob_archive_run(s, &ao, &rep, &err);
        ob_store_close(s);
        if (rc != 0) return ob_cli_fail(&err);
        printf("archive: %d tenant(s), %lld row(s) archived, %d tenant(s) under legal hold\n", rep.tenants,
               (long long)rep.rows, rep.held_tenants);
        return 0;
    }
    int64_t rows = 0;
    rc = ob_archive_restore(s, manifest, tenant, &rows, &err);
    ob_store_close(s);
    if (rc != 0) return ob_cli_fail(&err);
    printf("archive restore: %lld row(s) put back into %s\n", (long long)rows, tenant);
    return 0;
}
