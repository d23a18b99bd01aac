/* settings.c - opsbase tenant set: the operator's settings of a tenant
 * (tenants.settings in the control database). They are the platform's
 * decision, not the tenant's: a tenant's own users cannot let webhooks reach
 * private networks. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "jobs/jobs.h"
#include "schema/sql.h"
#include "base/banned.h"

static const ob_opt set_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
    {"--timezone", NULL, NULL, false, "IANA time zone of the tenant's schedules, e.g. Europe/Berlin"},
    {"--webhooks-allow-private", NULL, NULL, false,
     "yes: webhooks may target private and loopback addresses (off by default, against SSRF)"},
};
static const ob_cmd_spec set_spec = {
    "opsbase tenant set SLUG [--timezone TZ] [--webhooks-allow-private yes|no] [--data DIR]",
    "Change a tenant's settings.", set_opts, (int)OB_ARRAY_LEN(set_opts), 1, 1};

int ob_cli_tenant_set(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&set_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    const char *slug = a.pos[0], *tz = ob_cli_get(&set_spec, &a, "--timezone");
    const char *priv = ob_cli_get(&set_spec, &a, "--webhooks-allow-private");
    ob_err err;
    const ob_tz *z;
    if (tz && ob_tz_get(tz, &z, &err) != 0) return ob_cli_usage_error(&set_spec, "--timezone: %s", err.message);
    if (priv && strcmp(priv, "yes") && strcmp(priv, "no"))
        return ob_cli_usage_error(&set_spec, "--webhooks-allow-private must be yes or no");
    ob_store *s;
    ob_store_opts so = {.data_dir = ob_cli_get(&set_spec, &a, "--data"), .url = ob_cli_get(&set_spec, &a, "--db")};
    if (ob_store_open(&s, &so, &err) != 0) return ob_cli_fail(&err);
    json_t *set = NULL;
    rc = ob_jobs_tenant_settings(s, slug, &set, &err);
    ob_conn *c = NULL;
    if (rc == 0) {
        if (tz) json_object_set_new(set, "timezone", json_string(tz));
        if (priv) json_object_set_new(set, "webhooks_allow_private", json_boolean(strcmp(priv, "yes") == 0));
        rc = ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, &err);
    }
    if (rc == 0) rc = ob_db_begin(c, &err);
    if (rc == 0) {
        char *text = json_dumps(set, JSON_COMPACT | JSON_SORT_KEYS);
        char now[OB_TS_LEN];
        ob_ts_format(ob_now_ms(), now);
        ob_value v[] = {ob_v_text(text), ob_v_text(now), ob_v_text(slug)};
        rc = ob_sql_run(c,
                        "UPDATE tenants SET settings = ?, updated_at = ?, version = version + 1 "
                        "WHERE slug = ? AND deleted_at IS NULL AND status <> 'provisioning'",
                        v, 3, &err);
        if (rc == 0 && ob_db_changes(c) != 1) rc = ob_err_set(&err, OB_E_NOT_FOUND, "no tenant \"%s\"", slug);
        if (rc == 0) rc = ob_db_commit(c, &err);
        else ob_db_rollback(c);
        if (rc == 0) printf("%s settings: %s\n", slug, text);
        free(text);
    }
    if (c) ob_db_release(c);
    json_decref(set);
    ob_store_close(s);
    return rc ? ob_cli_fail(&err) : 0;
}
