/* cli.h - subcommands and their shared argument parsing.
 *
 * Each subcommand declares its options as a table; values come from the flag,
 * then the OPSBASE_* environment variable, then the default. Unknown flags,
 * missing values and surplus arguments print a usage line and make the
 * command exit with status 2. Only main and cli/ may exit.
 */
#ifndef OB_CLI_H
#define OB_CLI_H

#include <stdbool.h>

#include "db/db.h"
#include "schema/ctx.h"

#define OB_VERSION "0.1.0"
#define OB_CLI_MAX_OPTS 64
#define OB_CLI_MAX_POS 4

typedef struct ob_opt {
    const char *name;   /* "--listen" */
    const char *env;    /* "OPSBASE_LISTEN" or NULL */
    const char *dflt;   /* NULL: no default */
    bool flag;          /* takes no value ("--yes") */
    const char *help;
} ob_opt;

typedef struct ob_cmd_spec {
    const char *usage;  /* "opsbase serve [options]" */
    const char *about;
    const ob_opt *opts;
    int nopts;
    int min_pos, max_pos;
} ob_cmd_spec;

typedef struct ob_args {
    const char *val[OB_CLI_MAX_OPTS];
    const char *pos[OB_CLI_MAX_POS];
    int npos;
} ob_args;

/* Parse argv (after the subcommand name). Returns 0, 1 when --help was shown
 * (exit 0), or 2 on a usage error (already printed). */
int ob_cli_parse(const ob_cmd_spec *spec, int argc, char **argv, ob_args *out);
const char *ob_cli_get(const ob_cmd_spec *spec, const ob_args *a, const char *name);
/* Usage error after parsing (a bad value): prints and returns 2. */
int ob_cli_usage_error(const ob_cmd_spec *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print an ob_err to stderr as "opsbase: message" and return 1. */
int ob_cli_fail(const ob_err *err);
/* Run fn on a read connection of each tenant (or only the one named), with a
 * system context bound to it (ctx->tenant->slug names it); stops at the first
 * error. *count receives the number of tenants visited. */
int ob_cli_each_tenant(ob_store *s, const char *only, int (*fn)(ob_ctx *ctx, void *arg, ob_err *err), void *arg,
                       int *count, ob_err *err);
/* Open the store for a command (create: make the data dir if missing). */
int ob_cli_store(const char *data_dir, bool create, ob_store **out);

int ob_cmd_serve(int argc, char **argv);
int ob_cmd_migrate(int argc, char **argv);
int ob_cmd_tenant(int argc, char **argv);
int ob_cli_tenant_set(int argc, char **argv); /* tenant set (settings.c) */
int ob_cli_tenant_export(int argc, char **argv); /* tenant export (tenant_export.c) */
int ob_cli_tenant_purge_due(int argc, char **argv); /* tenant purge-due (purge.c) */
int ob_cli_tenant_import(int argc, char **argv); /* tenant import (tenant_export.c) */
int ob_cli_tenant_move(int argc, char **argv);   /* tenant move (tenant_move.c) */
int ob_cmd_user(int argc, char **argv);
int ob_cmd_admin(int argc, char **argv);
int ob_cmd_schema(int argc, char **argv);
int ob_cmd_openapi(int argc, char **argv);
int ob_cmd_routes(int argc, char **argv);
int ob_cmd_version(int argc, char **argv);
int ob_cmd_demo(int argc, char **argv);
int ob_cmd_check_ledgers(int argc, char **argv);
int ob_cmd_backup(int argc, char **argv);
int ob_cmd_restore(int argc, char **argv);
int ob_cmd_archive(int argc, char **argv);
int ob_cmd_audit(int argc, char **argv);
int ob_cmd_worker(int argc, char **argv);
int ob_cmd_job(int argc, char **argv);
int ob_cmd_import(int argc, char **argv);
int ob_cmd_keys(int argc, char **argv);

/* The job worker options serve and worker share, and their parsing. */
#define OB_CLI_JOB_OPTS                                                                                   \
    {"--workers", "OPSBASE_WORKERS", "1", false, "background job worker threads (0: none in this process; serve still counts the queues)"}, \
    {"--job-poll-ms", "OPSBASE_JOB_POLL_MS", "1000", false, "how often workers look for due jobs"},        \
    {"--job-lease", "OPSBASE_JOB_LEASE", "300", false,                                                     \
     "seconds a claimed job is a worker's before another may run it again"},                               \
    {"--job-backoff-ms", "OPSBASE_JOB_BACKOFF_MS", "1000", false, "first retry delay of a failed job (doubles)"}, \
    {"--job-recheck-s", "OPSBASE_JOB_RECHECK_S", "30", false,                                              \
     "longest a tenant with nothing due goes unvisited (bounds finding, on PostgreSQL, jobs another process wrote)"}, \
    {"--webhook-backoff-ms", "OPSBASE_WEBHOOK_BACKOFF_MS", "60000", false,                                 \
     "first retry delay of a failed webhook delivery (doubles, at most 480 times it)"},                   \
    {"--webhook-attempts", "OPSBASE_WEBHOOK_ATTEMPTS", "12", false,                                        \
     "attempts before a webhook delivery is dead (12 span about a day at the default back-off)"},           \
    {"--webhook-timeout", "OPSBASE_WEBHOOK_TIMEOUT", "10", false, "seconds an endpoint has to answer a delivery"}, \
    {"--smtp-url", "OPSBASE_SMTP_URL", NULL, false, "smtp://host:port (or smtps://) that e-mail notifications go to"}, \
    {"--smtp-from", "OPSBASE_SMTP_FROM", "opsbase@localhost", false, "sender address of e-mail notifications"}
struct ob_jobs_opts;
/* Returns 0, or 2 after printing a usage error. */
int ob_cli_job_opts(const ob_cmd_spec *spec, const ob_args *a, struct ob_jobs_opts *out);

#endif
