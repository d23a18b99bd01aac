/* import.c - opsbase import: a CSV or NDJSON file into one table of a
 * tenant, as the system, through the same path as POST .../import. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/import.h"
#include "base/base.h"
#include "cli/cli.h"
#include "platform/tenants.h"
#include "base/banned.h"

static const ob_opt import_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
    {"--tenant", NULL, NULL, false, "the tenant"},
    {"--table", NULL, NULL, false, "the table the rows go to"},
    {"--format", NULL, NULL, false, "csv or ndjson; default from the file's extension (.ndjson, .jsonl: ndjson)"},
    {"--dry-run", NULL, NULL, true, "check every row, write nothing"},
};
static const ob_cmd_spec import_spec = {
    "opsbase import --tenant T --table X [--format csv|ndjson] [--dry-run] FILE",
    "Import a file's rows into a table: each row validated and created as by the API, all in one transaction "
    "(every row or none); every failing row is listed.",
    import_opts, (int)OB_ARRAY_LEN(import_opts), 1, 1};

/* The whole file, malloc'd. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void progress(void *arg, int64_t done)
{
    (void)arg;
    fprintf(stderr, "\rimport: %lld rows", (long long)done);
    fflush(stderr);
}

int ob_cmd_import(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&import_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    const char *slug = ob_cli_get(&import_spec, &a, "--tenant"), *table = ob_cli_get(&import_spec, &a, "--table");
    if (!slug || !table) return ob_cli_usage_error(&import_spec, "--tenant and --table are required");
    const char *path = a.pos[0], *format = ob_cli_get(&import_spec, &a, "--format");
    const char *dot = strrchr(path, '.');
    if (!format) format = dot && (!strcmp(dot, ".ndjson") || !strcmp(dot, ".jsonl")) ? "ndjson" : "csv";
    if (strcmp(format, "csv") != 0 && strcmp(format, "ndjson") != 0)
        return ob_cli_usage_error(&import_spec, "--format must be csv or ndjson");
    bool dry_run = ob_cli_get(&import_spec, &a, "--dry-run") != NULL;
    ob_registry_init();
    const ob_table *t = ob_registry_find(table);
    if (!t || t->res->scope != OB_SCOPE_TENANT || (t->res->flags & (OB_RES_READONLY | OB_RES_UPLOAD | OB_RES_NO_API)))
        return ob_cli_usage_error(&import_spec, "no table \"%s\" takes imported rows", table);
    size_t len = 0;
    char *data = slurp(path, &len);
    if (!data) {
        fprintf(stderr, "opsbase: cannot read %s\n", path);
        return 1;
    }
    ob_err err;
    ob_store *store;
    ob_store_opts so = {.data_dir = a.val[0], .url = a.val[1]};
    if (ob_store_open(&store, &so, &err) != 0) {
        free(data);
        return ob_cli_fail(&err);
    }
    ob_arena ar;
    ob_arena_init(&ar, 0);
    ob_tenant_info *ti = NULL;
    ob_conn *c;
    ob_import_result r = {0};
    rc = ob_db_acquire(store, NULL, NULL, OB_DB_READ, &c, &err);
    if (rc == 0) {
        rc = ob_tenant_lookup(c, &ar, slug, &ti, &err);
        ob_db_release(c);
    }
    if (rc == 0) {
        ob_ctx ctx;
        ob_ctx_system(&ctx, &ar, store, NULL, ti);
        rc = ob_import_run(&ctx, t, data, len, !strcmp(format, "ndjson"), dry_run, progress, NULL, &r, &err);
        fputc('\n', stderr);
    }
    free(data);
    if (rc == 0) {
        size_t i;
        json_t *e;
        json_array_foreach(r.errors, i, e) {
            const char *field = json_string_value(json_object_get(e, "field"));
            const char *msg = json_string_value(json_object_get(e, "message"));
            printf("row %lld: %s%s%s%s%s\n", (long long)json_integer_value(json_object_get(e, "row")),
                   field ? field : "", field ? ": " : "", json_string_value(json_object_get(e, "code")),
                   msg ? " - " : "", msg ? msg : "");
        }
        printf("%lld rows, %lld valid, %lld imported%s\n", (long long)r.rows, (long long)r.valid,
               (long long)(r.written ? r.valid : 0), dry_run ? " (dry run)" : "");
        if (json_array_size(r.errors)) rc = 1;
    }
    json_decref(r.errors);
    ob_arena_release(&ar);
    ob_store_close(store);
    if (rc < 0) return ob_cli_fail(&err);
    return rc;
}
