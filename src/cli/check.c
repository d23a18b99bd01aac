/* check.c - opsbase check-ledgers: every balance a bounded ledger moves must
 * equal its default plus the sum of its entries. Read-only. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "platform/tenants.h"
#include "schema/ledger.h"
#include "base/banned.h"

static const ob_opt check_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
    {"--tenant", NULL, NULL, false, "the tenant to check (default: every tenant)"},
};
static const ob_cmd_spec check_spec = {
    "opsbase check-ledgers [--tenant T] [--data DIR]",
    "Verify that every ledger balance equals the sum of its entries; exit 1 on a mismatch.", check_opts,
    (int)OB_ARRAY_LEN(check_opts), 0, 0};

static void report(void *arg, const char *table, const char *id, const char *column, int64_t balance,
                   int64_t expected)
{
    printf("%s: %s %s: %s is %lld, its entries add up to %lld\n", (const char *)arg, table, id, column,
           (long long)balance, (long long)expected);
}

/* Check one tenant; adds its mismatches to *(int64_t *)bad. */
static int check_tenant(ob_ctx *ctx, void *bad, ob_err *err)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (!t->res->ledger || t->res->scope != OB_SCOPE_TENANT) continue;
        int64_t n = 0;
        rc = ob_ledger_check(ctx, t, report, (void *)ctx->tenant->slug, &n, err);
        *(int64_t *)bad += n;
    }
    return rc;
}

int ob_cmd_check_ledgers(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&check_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    ob_store *s;
    ob_err err;
    ob_store_opts o = {.data_dir = a.val[0], .url = a.val[1]};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    int64_t bad = 0;
    int n = 0;
    rc = ob_cli_each_tenant(s, ob_cli_get(&check_spec, &a, "--tenant"), check_tenant, &bad, &n, &err);
    ob_store_close(s);
    if (rc != 0) return ob_cli_fail(&err);
    printf("ledgers: %d tenant(s) checked, %lld mismatch(es)\n", n, (long long)bad);
    return bad ? 1 : 0;
}
