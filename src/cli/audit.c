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

static int verify_tenant(ob_store *s, const char *slug, bool *broken, ob_err *err)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_conn *c;
    ob_tenant_info *info = NULL;
    int rc = ob_tenant_open(s, &a, slug, OB_DB_READ, &info, &c, err);
    if (rc == 0) {
        ob_ctx ctx;
        ob_ctx_system(&ctx, &a, s, c, info);
        ob_audit_verdict v;
        rc = ob_db_begin(c, err);
        if (rc == 0) rc = ob_audit_verify(&ctx, &v, err);
        ob_db_release(c);
        if (rc == 0 && v.broken_seq) {
            *broken = true;
            printf("%s: audit chain broken at seq %lld (id %s): %s\n", slug, (long long)v.broken_seq, v.broken_id, v.why);
        } else if (rc == 0) {
            printf("%s: audit chain holds: %lld row(s) from seq %lld, %lld older row(s) unchained\n", slug,
                   (long long)v.rows, (long long)v.first_seq, (long long)v.unchained);
        }
    }
    ob_arena_release(&a);
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
    ob_arena arena;
    ob_arena_init(&arena, 0);
    ob_slugs l;
    rc = ob_tenant_slugs_of(s, &arena, ob_cli_get(&audit_spec, &a, "--tenant"), &l, &err);
    bool broken = false;
    for (int i = 0; rc == 0 && i < l.n; i++) rc = verify_tenant(s, l.v[i], &broken, &err);
    ob_arena_release(&arena);
    ob_store_close(s);
    if (rc != 0) return ob_cli_fail(&err);
    return broken ? 1 : 0;
}
