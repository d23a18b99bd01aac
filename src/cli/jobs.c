/* jobs.c - opsbase worker (job workers without HTTP) and opsbase job enqueue. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "files/files.h"
#include "jobs/jobs.h"
#include "jobs/smtp.h"
#include "jobs/webhooks.h"
#include "platform/tenants.h"
#include "base/banned.h"

int ob_cli_job_opts(const ob_cmd_spec *spec, const ob_args *a, ob_jobs_opts *out)
{
    int64_t workers, poll, lease, backoff;
    if (ob_parse_i64(ob_cli_get(spec, a, "--workers"), &workers) != 0 || workers < 0 || workers > 64)
        return ob_cli_usage_error(spec, "--workers must be 0 to 64");
    if (ob_parse_i64(ob_cli_get(spec, a, "--job-poll-ms"), &poll) != 0 || poll < 10 || poll > 600000)
        return ob_cli_usage_error(spec, "--job-poll-ms must be 10 to 600000");
    if (ob_parse_i64(ob_cli_get(spec, a, "--job-lease"), &lease) != 0 || lease < 1 || lease > 86400)
        return ob_cli_usage_error(spec, "--job-lease must be 1 to 86400 seconds");
    if (ob_parse_i64(ob_cli_get(spec, a, "--job-backoff-ms"), &backoff) != 0 || backoff < 1 || backoff > 3600000)
        return ob_cli_usage_error(spec, "--job-backoff-ms must be 1 to 3600000");
    int64_t recheck;
    if (ob_parse_i64(ob_cli_get(spec, a, "--job-recheck-s"), &recheck) != 0 || recheck < 1 || recheck > 3600)
        return ob_cli_usage_error(spec, "--job-recheck-s must be 1 to 3600 seconds");
    int64_t wb, wa, wt;
    if (ob_parse_i64(ob_cli_get(spec, a, "--webhook-backoff-ms"), &wb) != 0 || wb < 1 || wb > 3600000)
        return ob_cli_usage_error(spec, "--webhook-backoff-ms must be 1 to 3600000");
    if (ob_parse_i64(ob_cli_get(spec, a, "--webhook-attempts"), &wa) != 0 || wa < 1 || wa > 100)
        return ob_cli_usage_error(spec, "--webhook-attempts must be 1 to 100");
    if (ob_parse_i64(ob_cli_get(spec, a, "--webhook-timeout"), &wt) != 0 || wt < 1 || wt > 300)
        return ob_cli_usage_error(spec, "--webhook-timeout must be 1 to 300 seconds");
    ob_webhooks_configure(&(ob_webhook_cfg){.backoff_ms = (int)wb, .max_attempts = (int)wa, .timeout_ms = (int)wt * 1000});
    const char *smtp = ob_cli_get(spec, a, "--smtp-url");
    if (smtp && *smtp && strncmp(smtp, "smtp://", 7) != 0 && strncmp(smtp, "smtps://", 8) != 0)
        return ob_cli_usage_error(spec, "--smtp-url must be smtp://host:port or smtps://host:port");
    ob_smtp_configure(smtp, ob_cli_get(spec, a, "--smtp-from"), (int)wt * 1000);
    *out = (ob_jobs_opts){.workers = (int)workers, .poll_ms = (int)poll, .lease_s = (int)lease,
                          .backoff_ms = (int)backoff, .recheck_s = (int)recheck};
    return 0;
}

static const ob_opt worker_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
    OB_CLI_JOB_OPTS,
};
static const ob_cmd_spec worker_spec = {
    "opsbase worker [--data DIR] [--workers N] [options]",
    "Run background job workers without serving HTTP, until SIGINT or SIGTERM.", worker_opts,
    (int)OB_ARRAY_LEN(worker_opts), 0, 0};

int ob_cmd_worker(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&worker_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    ob_jobs_opts jo;
    if ((rc = ob_cli_job_opts(&worker_spec, &a, &jo)) != 0) return rc;
    if (jo.workers == 0) return ob_cli_usage_error(&worker_spec, "--workers must be at least 1 here");
    ob_err err;
    ob_store *store;
    ob_store_opts so = {.data_dir = a.val[0], .url = a.val[1]};
    if (ob_store_open(&store, &so, &err) != 0) return ob_cli_fail(&err);
    /* uploads live under the data directory in both storage modes */
    ob_file_store files;
    char *spool_dir = NULL;
    if (ob_file_store_local(&files, a.val[0], &spool_dir, &err) != 0) {
        ob_store_close(store);
        return ob_cli_fail(&err);
    }
    ob_files_use(&files);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    ob_jobs *jobs;
    if (ob_jobs_start(&jobs, store, &jo, &err) != 0) {
        ob_store_close(store);
        return ob_cli_fail(&err);
    }
    ob_log(OB_LOG_INFO, "workers started", NULL);
    int sig = 0;
    sigwait(&set, &sig);
    ob_jobs_stop(jobs);
    ob_store_close(store);
    free(spool_dir);
    return 0;
}

static const ob_opt job_opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
    {"--tenant", NULL, NULL, false, "the tenant"},
    {"--kind", NULL, NULL, false, "the kind of job (ledgers.check, system.sleep, system.fail)"},
    {"--payload", NULL, "{}", false, "the job's input, a JSON object"},
    {"--max-attempts", NULL, "8", false, "runs before the job is dead"},
    {"--count", NULL, "1", false, "how many such jobs, in one transaction (benchmarks, drills)"},
};
static const ob_cmd_spec job_spec = {
    "opsbase job enqueue --tenant T --kind K [--payload JSON] [--max-attempts N] [--count N]",
    "Put a job in a tenant's queue; the workers of a running server or worker run it.", job_opts,
    (int)OB_ARRAY_LEN(job_opts), 1, 1};

int ob_cmd_job(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&job_spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    if (strcmp(a.pos[0], "enqueue") != 0) return ob_cli_usage_error(&job_spec, "the only job command is enqueue");
    const char *slug = ob_cli_get(&job_spec, &a, "--tenant"), *kind = ob_cli_get(&job_spec, &a, "--kind");
    if (!slug || !kind) return ob_cli_usage_error(&job_spec, "--tenant and --kind are required");
    int64_t max;
    if (ob_parse_i64(ob_cli_get(&job_spec, &a, "--max-attempts"), &max) != 0 || max < 1 || max > 100)
        return ob_cli_usage_error(&job_spec, "--max-attempts must be 1 to 100");
    int64_t count;
    if (ob_parse_i64(ob_cli_get(&job_spec, &a, "--count"), &count) != 0 || count < 1 || count > 1000000)
        return ob_cli_usage_error(&job_spec, "--count must be 1 to 1000000");
    const char *payload = ob_cli_get(&job_spec, &a, "--payload");
    json_error_t jerr;
    json_t *pj = json_loads(payload, 0, &jerr);
    bool obj = json_is_object(pj);
    json_decref(pj);
    if (!obj) return ob_cli_usage_error(&job_spec, "--payload must be a JSON object");
    ob_err err;
    ob_store *store;
    ob_store_opts so = {.data_dir = a.val[0], .url = a.val[1]};
    if (ob_store_open(&store, &so, &err) != 0) return ob_cli_fail(&err);
    ob_arena ar;
    ob_arena_init(&ar, 0);
    ob_tenant_info *ti = NULL;
    ob_conn *c;
    rc = ob_db_acquire(store, NULL, NULL, OB_DB_READ, &c, &err);
    if (rc == 0) {
        rc = ob_tenant_lookup(c, &ar, slug, &ti, &err);
        ob_db_release(c);
    }
    if (rc == 0 && (rc = ob_db_acquire(store, ti->slug, ti->id, OB_DB_WRITE, &c, &err)) == 0) {
        ob_ctx ctx;
        ob_ctx_system(&ctx, &ar, store, c, ti);
        rc = ob_db_begin(c, &err);
        for (int64_t i = 0; rc == 0 && i < count; i++) rc = ob_job_enqueue(&ctx, kind, payload, (int)max, &err);
        if (rc == 0) rc = ob_db_commit(c, &err);
        else ob_db_rollback(c);
        ob_db_release(c);
    }
    ob_arena_release(&ar);
    ob_store_close(store);
    if (rc != 0) return ob_cli_fail(&err);
    if (count == 1) printf("enqueued a %s job for %s\n", kind, slug);
    else printf("enqueued %lld %s jobs for %s\n", (long long)count, kind, slug);
    return 0;
}
