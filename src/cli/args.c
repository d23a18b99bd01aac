/* args.c - option tables, environment fallback, usage lines. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "platform/tenants.h"
#include "base/banned.h"

static void usage(const ob_cmd_spec *spec, FILE *f)
{
    fprintf(f, "usage: %s\n", spec->usage);
}

static void help(const ob_cmd_spec *spec)
{
    usage(spec, stdout);
    printf("\n%s\n\noptions:\n", spec->about);
    for (int i = 0; i < spec->nopts; i++) {
        const ob_opt *o = &spec->opts[i];
        printf("  %-22s %s", o->name, o->help);
        if (o->env) printf(" [env %s]", o->env);
        if (o->dflt) printf(" (default %s)", o->dflt);
        printf("\n");
    }
    printf("  %-22s show this help\n", "--help");
}

int ob_cli_usage_error(const ob_cmd_spec *spec, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "opsbase: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    usage(spec, stderr);
    return 2;
}

int ob_cli_parse(const ob_cmd_spec *spec, int argc, char **argv, ob_args *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help(spec);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (out->npos >= spec->max_pos || out->npos >= OB_CLI_MAX_POS)
                return ob_cli_usage_error(spec, "unexpected argument \"%s\"", a);
            out->pos[out->npos++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        int k = -1;
        for (int j = 0; j < spec->nopts; j++)
            if (strlen(spec->opts[j].name) == n && strncmp(spec->opts[j].name, a, n) == 0) k = j;
        if (k < 0) return ob_cli_usage_error(spec, "unknown option \"%.*s\"", (int)n, a);
        if (spec->opts[k].flag) {
            if (eq) return ob_cli_usage_error(spec, "option \"%s\" takes no value", spec->opts[k].name);
            out->val[k] = "1";
        } else if (eq) {
            out->val[k] = eq + 1;
        } else {
            if (i + 1 >= argc) return ob_cli_usage_error(spec, "option \"%s\" needs a value", spec->opts[k].name);
            out->val[k] = argv[++i];
        }
    }
    if (out->npos < spec->min_pos) return ob_cli_usage_error(spec, "missing argument");
    for (int j = 0; j < spec->nopts; j++) {
        if (out->val[j]) continue;
        const char *e = spec->opts[j].env ? getenv(spec->opts[j].env) : NULL;
        out->val[j] = (e && *e) ? e : spec->opts[j].dflt;
    }
    return 0;
}

const char *ob_cli_get(const ob_cmd_spec *spec, const ob_args *a, const char *name)
{
    for (int j = 0; j < spec->nopts; j++)
        if (strcmp(spec->opts[j].name, name) == 0) return a->val[j];
    return NULL;
}

int ob_cli_fail(const ob_err *err)
{
    fprintf(stderr, "opsbase: %s\n", err->message[0] ? err->message : ob_err_default_msg(err->code));
    for (int i = 0; i < err->nfields; i++) fprintf(stderr, "  %s: %s\n", err->fields[i].name, err->fields[i].problem);
    return 1;
}

int ob_cli_each_tenant(ob_store *s, const char *only, int (*fn)(ob_ctx *ctx, void *arg, ob_err *err), void *arg,
                       int *count, ob_err *err)
{
    ob_arena list;
    ob_arena_init(&list, 0);
    ob_slugs l;
    /* the list first: a tenant's work uses the control connection too */
    int rc = ob_tenant_slugs_of(s, &list, only, &l, err);
    for (int i = 0; rc == 0 && i < l.n; i++) {
        ob_arena a;
        ob_arena_init(&a, 0);
        ob_conn *c;
        ob_tenant_info *info = NULL;
        rc = ob_tenant_open(s, &a, l.v[i], OB_DB_READ, &info, &c, err);
        if (rc == 0) {
            ob_ctx ctx;
            ob_ctx_system(&ctx, &a, s, c, info);
            rc = fn(&ctx, arg, err);
            ob_db_release(c);
        }
        ob_arena_release(&a);
    }
    if (count) *count = l.n;
    ob_arena_release(&list);
    return rc;
}

int ob_cli_store(const char *data_dir, bool create, ob_store **out)
{
    ob_err err;
    ob_store_opts o = {.data_dir = data_dir, .create = create};
    if (ob_store_open(out, &o, &err) != 0) return ob_cli_fail(&err);
    return 0;
}
