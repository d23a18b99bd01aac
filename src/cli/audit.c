/* audit.c - opsbase audit verify: recompute each tenant's audit hash chain. */
#include <stdio.h>
#include <string.h>

#include "audit/chain.h"
#include "base/base.h"
#include "cli/cli.h"
#include "platform/tenants.h"
#include "base/banned.h"

static const ob_opt audit_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
    {"--tenant", NULL, NULL, false, "the tenant (default: every tenant)"},
};
static const ob_cmd_spec audit_spec = {
    "opsbase audit verify [--tenant T]",
    "Recompute the audit trail's hash chain; exit 1 at the first row that breaks it.", audit_opts,
    (int)OB_ARRAY_LEN(audit_opts), 1, 1};

/* Verify one tenant's chain; sets *(bool *)broken when it breaks. */
static int verify_tenant(ob_ctx *ctx, void *broken, ob_err *err)
{
    const char *slug = ctx->tenant->slug;
    ob_audit_verdict v;
    int rc = ob_db_begin(ctx->db, err);
    if (rc == 0) rc = ob_audit_verify(ctx, &v, err);
    if (rc == 0 && v.broken_seq) {
        *(bool *)broken = true;
        printf("%s: audit chain broken at seq %lld (id %s): %s\n", slug, (long long)v.broken_seq, v.broken_id, v.why);
    } else if (rc == 0) {
        printf("%s: audit chain holds: %lld row(s) from seq %lld, %lld older row(s) unchained\n", slug,
               (long long)v.rows, (long long)v.first_seq, (long long)v.unchained);
    }
    return rc;
}

int ob_cmd_audit(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&audit_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    if (strcmp(a.pos[0], "verify") != 0) return ob_cli_usage_error(&audit_spec, "the only audit command is verify");
    ob_store *s;
    ob_err err;
    ob_store_opts o = {.data_dir = a.val[0], .url = a.val[1]};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    bool broken = false;
    rc = ob_cli_each_tenant(s, ob_cli_get(&audit_spec, &a, "--tenant"), verify_tenant, &broken, NULL, &err);
    ob_store_close(s);
    if (rc != 0) return ob_cli_fail(&err);
    return broken ? 1 : 0;
}
