/* purge.c - opsbase tenant purge-due: erase the tenants whose deletion was
 * scheduled (platform DELETE) and whose grace period is over. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "platform/tenants.h"
#include "base/banned.h"

static const ob_opt purge_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
    {"--now", NULL, NULL, false, "the time to compare the due times with (RFC 3339 UTC; default: now)"},
};
static const ob_cmd_spec purge_spec = {
    "opsbase tenant purge-due [--now TIME] [--data DIR] [--db URL]",
    "Erase every tenant whose scheduled deletion is due: a tombstone with a signed deletion certificate is "
    "written to the control database, then its database and files go (serve does this itself, --purge-every).",
    purge_opts, 3, 0, 0};

int ob_cli_tenant_purge_due(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&purge_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    int64_t now_ms = ob_now_ms();
    const char *when = ob_cli_get(&purge_spec, &a, "--now");
    if (when && ob_ts_parse(when, &now_ms) != 0) return ob_cli_usage_error(&purge_spec, "--now: not a time: %s", when);
    ob_err err = {0};
    ob_store *s;
    ob_store_opts o = {.data_dir = a.val[0], .url = a.val[1]};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    ob_arena ar;
    ob_arena_init(&ar, 0);
    ob_slugs done;
    /* uploads live under the data directory in both storage modes */
    rc = ob_tenant_purge_due(s, &ar, now_ms, a.val[0], &done, &err);
    ob_store_close(s);
    for (int i = 0; rc == 0 && i < done.n; i++) printf("tenant \"%s\" erased\n", done.v[i]);
    ob_arena_release(&ar);
    return rc ? ob_cli_fail(&err) : 0;
}
