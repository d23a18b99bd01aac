/* tenant_move.c - opsbase tenant move: put a tenant's schema on another
 * PostgreSQL server (db.h ob_db_move_tenant does the copy and the switch;
 * docs/scaling.md), and record the move in the platform audit log. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/base.h"
#include "base/jsonw.h"
#include "cli/cli.h"
#include "platform/tenants.h"
#include "base/banned.h"

static const ob_opt move_opts[] = {
    {"--to", NULL, NULL, false, "the target PostgreSQL server's URL (postgres://USER@HOST:PORT/DB)"},
    {"--drop-old", NULL, NULL, true, "drop the old schema instead of keeping it renamed (moved<time>_<slug>)"},
    {"--pg-bin", "OPSBASE_PG_BIN", NULL, false, "directory of pg_dump and pg_restore (default: PATH)"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB of the main server (control database)"},
    {"--data", "OPSBASE_DATA", "./data", false, "data directory (SQLite: refused)"},
};
static const ob_cmd_spec move_spec = {
    "opsbase tenant move T --to URL [--drop-old] [--db URL]",
    "Copy a tenant's schema to another PostgreSQL server and switch it there with a short write pause.", move_opts,
    (int)OB_ARRAY_LEN(move_opts), 1, 1};

/* A URL for the audit log: the password of user:password@ left out. */
static const char *redacted(ob_arena *a, const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (!at || !colon || colon > at) return url;
    return ob_arena_printf(a, "%.*s%s", (int)(colon - url), url, at);
}

static int audit_move(ob_store *s, const char *slug, const char *to, const ob_move_report *r,
                      const ob_err *failure, ob_err *err)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_conn *c;
    int rc = ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err);
    if (rc != 0) {
        ob_arena_release(&a);
        return -1;
    }
    ob_tenant_info *info = NULL;
    rc = ob_db_begin(c, err);
    if (rc == 0) rc = ob_tenant_lookup(c, &a, slug, &info, err);
    if (rc == 0) {
        ob_ctx ctx;
        ob_ctx_system(&ctx, &a, s, c, NULL);
        ob_sb sb;
        ob_sb_init_arena(&sb, &a, 256);
        ob_jsonw w;
        ob_jw_init(&w, &sb);
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "tenant", slug);
        ob_jw_kstr(&w, "from", redacted(&a, r->from));
        ob_jw_kstr(&w, "to", redacted(&a, to));
        if (failure) {
            ob_jw_kstr(&w, "error", failure->message);
        } else {
            ob_jw_ki64(&w, "pause_ms", r->pause_ms);
            ob_jw_ki64(&w, "copy_ms", r->copy_ms);
            ob_jw_ki64(&w, "rows", r->rows);
            ob_jw_ki64(&w, "tables", r->tables);
            ob_jw_kstr(&w, "old_schema", r->old_schema[0] ? r->old_schema : NULL);
        }
        ob_jw_obj_close(&w);
        rc = ob_audit_platform_event(&ctx, failure ? "move_failed" : "move", "tenants", info->id, sb.buf, err);
    }
    if (rc == 0) rc = ob_db_commit(c, err);
    ob_db_release(c);
    ob_arena_release(&a);
    return rc;
}

int ob_cli_tenant_move(int argc, char **argv)
{
    ob_args a;
    const ob_cmd_spec *sp = &move_spec;
    int rc = ob_cli_parse(sp, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    const char *slug = a.pos[0], *to = ob_cli_get(sp, &a, "--to");
    if (!to || !*to) return ob_cli_usage_error(sp, "--to URL is required");
    ob_store *s;
    ob_err err;
    ob_store_opts o = {.data_dir = ob_cli_get(sp, &a, "--data"), .url = ob_cli_get(sp, &a, "--db")};
    if (ob_store_open(&s, &o, &err) != 0) return ob_cli_fail(&err);
    ob_move_opts mo = {.to_url = to, .drop_old = ob_cli_get(sp, &a, "--drop-old") != NULL,
                       .pg_bin = ob_cli_get(sp, &a, "--pg-bin")};
    ob_move_report rep;
    rc = ob_db_move_tenant(s, slug, &mo, &rep, &err);
    if (rc != 0 && err.code != OB_E_UNPROCESSABLE && err.code != OB_E_NOT_FOUND && err.code != OB_E_BAD_REQUEST) {
        ob_err aerr;
        audit_move(s, slug, to, &rep, &err, &aerr);
    }
    if (rc != 0) {
        ob_store_close(s);
        return ob_cli_fail(&err);
    }
    ob_err aerr;
    if (audit_move(s, slug, to, &rep, NULL, &aerr) != 0)
        fprintf(stderr, "opsbase: the move is done but its audit record failed: %s\n", aerr.message);
    ob_store_close(s);
    printf("tenant \"%s\" moved: %d table(s), %lld row(s); copy %lld ms, write pause %lld ms%s%s\n", slug,
           rep.tables, (long long)rep.rows, (long long)rep.copy_ms, (long long)rep.pause_ms,
           rep.old_schema[0] ? "; old schema kept as " : "; old schema dropped", rep.old_schema);
    return 0;
}
