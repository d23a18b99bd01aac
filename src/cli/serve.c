/* serve.c - opsbase serve: migrate, then answer HTTP until SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/ratelimit.h"
#include "api/stream.h"
#include "audit/readlog.h"
#include "auth/password.h"
#include "auth/throttle.h"
#include "base/base.h"
#include "cli/cli.h"
#include "ops/metrics.h"
#include "ops/schedule.h"
#include "http/http.h"
#include "jobs/jobs.h"
#include "platform/admins.h"
#include "platform/tenants.h"
#include "schema/ddl.h"
#include "db/secrets.h"
#include "base/banned.h"

/* /readyz and /metrics read the job queues from the sweep's sums (ops may
 * not call jobs; this process has both). */
static void jobs_figures(ob_metrics_jobs_figures *out)
{
    int64_t now = ob_now_ms();
    ob_jobs_backlog b;
    ob_jobs_backlog_get(now, &b);
    out->queued = b.queued;
    out->due = b.due;
    out->dead = b.dead;
    out->oldest_due_s = b.oldest_due_ms ? (double)(now - b.oldest_due_ms) / 1000 : 0;
    out->tenants_counted = b.tenants_counted;
    out->swept = b.swept_ms != 0;
}

static const ob_opt opts[] = {
    {"--data", "OPSBASE_DATA", "./data", false, "data directory"},
    {"--master-key-file", "OPSBASE_MASTER_KEY_FILE", NULL, false,
     "the master key secret columns are sealed under (64 hex characters; else OPSBASE_MASTER_KEY); required"},
    {"--old-master-key-file", NULL, NULL, false, "during a key rotation: the previous key, which still opens"},
    {"--settings-rate-limits", "OPSBASE_SETTINGS_RATE_LIMITS", "on", false,
     "on: each tenant's security_settings request limits per user, counted in its database; off: not applied"},
    {"--db", "OPSBASE_DB", NULL, false, "postgres://USER@HOST:PORT/DB instead of the embedded database"},
    {"--listen", "OPSBASE_LISTEN", "127.0.0.1:8080", false, "address to listen on, HOST:PORT"},
    {"--threads", "OPSBASE_THREADS", "0", false, "worker threads (0: two per core, at least 4)"},
    {"--body-limit", "OPSBASE_BODY_LIMIT", "1048576", false, "largest request body in bytes"},
    {"--upload-limit", "OPSBASE_UPLOAD_LIMIT", "104857600", false,
     "largest upload in bytes, streamed to disk (each tenant's security_settings.max_upload_bytes applies below it)"},
    {"--timeout", "OPSBASE_TIMEOUT", "30", false, "seconds before an idle or slow connection is closed"},
    {"--header-timeout", "OPSBASE_HEADER_TIMEOUT", "10", false,
     "seconds in which a whole request head (request line and headers) must arrive"},
    {"--max-conns", "OPSBASE_MAX_CONNS", "1024", false, "most connections open at once"},
    {"--max-conns-per-ip", "OPSBASE_MAX_CONNS_PER_IP", "256", false,
     "most connections open at once from one client address"},
    {"--log-level", "OPSBASE_LOG_LEVEL", "info", false, "debug, info, warn, error or off"},
    {"--synchronous", "OPSBASE_SYNCHRONOUS", "full", false, "full, normal or off (durability of commits)"},
    OB_CLI_JOB_OPTS,
    {"--login-max-failures", "OPSBASE_LOGIN_MAX_FAILURES", "5", false, "failed sign-ins per account per window"},
    {"--login-address-max-failures", "OPSBASE_LOGIN_ADDRESS_MAX_FAILURES", "50", false,
     "failed sign-ins per client address per window"},
    {"--login-window", "OPSBASE_LOGIN_WINDOW", "900", false, "seconds over which failed sign-ins are counted"},
    {"--login-delay", "OPSBASE_LOGIN_DELAY", "60", false, "seconds of the first sign-in block (doubles each time)"},
    {"--login-max-delay", "OPSBASE_LOGIN_MAX_DELAY", "3600", false, "seconds of the longest sign-in block"},
    {"--platform-login-max-failures", "OPSBASE_PLATFORM_LOGIN_MAX_FAILURES", "5", false,
     "failed super-admin sign-in steps (password or code) in a row that lock the account"},
    {"--platform-lockout", "OPSBASE_PLATFORM_LOCKOUT", "900", false, "seconds a locked super admin waits"},
    {"--backup-dir", "OPSBASE_BACKUP_DIR", NULL, false, "take backups into this directory (one sub-directory each)"},
    {"--backup-every", "OPSBASE_BACKUP_EVERY", "15m", false, "interval between backups: N followed by s, m or h"},
    {"--backup-keep", "OPSBASE_BACKUP_KEEP", "0", false, "newest backups to keep (0: any number)"},
    {"--backup-keep-days", "OPSBASE_BACKUP_KEEP_DAYS", "30", false, "remove backups older than this (0: never)"},
    {"--archive-every", "OPSBASE_ARCHIVE_EVERY", "off", false,
     "run retention (archive rows past their table's retention) this often, e.g. 24h; off: never"},
    {"--archive-dir", "OPSBASE_ARCHIVE_DIR", NULL, false, "archive root (default: DATA/archive)"},
    {"--purge-every", "OPSBASE_PURGE_EVERY", "1h", false,
     "erase tenants whose scheduled deletion is due (and finish a purge cut short) this often; off: never"},
    {"--metrics-token", "OPSBASE_METRICS_TOKEN", NULL, false,
     "serve GET /metrics to clients sending Authorization: Bearer <this> (at least 16 characters; unset: off)"},
    {"--ready-min-disk-mb", "OPSBASE_READY_MIN_DISK_MB", "64", false,
     "/readyz fails when the data directory's file system has less than this many MiB free"},
    {"--ready-max-job-age", "OPSBASE_READY_MAX_JOB_AGE", "600", false,
     "/readyz fails when a due background job has waited more than this many seconds"},
    {"--slow-query-ms", "OPSBASE_SLOW_QUERY_MS", "off", false,
     "log every database statement that takes at least this many milliseconds (0: all; off: none)"},
    {"--rate-auth", "OPSBASE_RATE_AUTH", "600", false, "sign-in requests a minute per client address (0: no limit)"},
    {"--rate-read", "OPSBASE_RATE_READ", "12000", false, "reads a minute per tenant and user (0: no limit)"},
    {"--rate-write", "OPSBASE_RATE_WRITE", "6000", false, "writes a minute per tenant and user (0: no limit)"},
    {"--db-memory", "OPSBASE_DB_MEMORY", "256", false,
     "MiB that open database connections may hold (embedded database; about 1 MiB each)"},
    {"--stream-keepalive-ms", "OPSBASE_STREAM_KEEPALIVE_MS", "15000", false,
     "milliseconds of silence after which an event stream gets a keep-alive comment"},
    {"--stream-poll-ms", "OPSBASE_STREAM_POLL_MS", "250", false,
     "how often tenants with open event streams are asked for new changes"},
    {"--stream-retention", "OPSBASE_STREAM_RETENTION", "1000", false,
     "how many event ids back a stream may resume from with Last-Event-ID (older: a reset event)"},
    {"--stream-max-per-user", "OPSBASE_STREAM_MAX_PER_USER", "5", false,
     "event streams one user may hold open at once (429 past it)"},
};
static const ob_cmd_spec spec = {"opsbase serve [--data DIR] [--listen HOST:PORT] [options]",
                                 "Start the HTTP server on the data directory (created and migrated if needed).",
                                 opts, (int)OB_ARRAY_LEN(opts), 0, 0};

static int number(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    return ob_parse_i64(s, out) == 0 && *out >= lo && *out <= hi ? 0 : -1;
}

/* "90s", "15m", "2h" (a bare number is seconds) into seconds. */
static int duration(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15) return -1;
    char num[16];
    memcpy(num, s, n + 1);
    int64_t mult = 1;
    char last = num[n - 1];
    if (last == 's' || last == 'm' || last == 'h') {
        mult = last == 's' ? 1 : last == 'm' ? 60 : 3600;
        num[n - 1] = '\0';
    }
    return number(num, 1, 86400 * 7 / mult, out) == 0 ? (*out *= mult, 0) : -1;
}

/* Refuse to run when the engine does not honour the configured durability. */
static int check_synchronous(ob_store *s, const char *want, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    const char *got = ob_db_synchronous(c);
    int rc = got && strcmp(got, want) == 0 ? 0 : -1;
    if (rc) ob_err_set(err, OB_E_STORAGE, "synchronous is \"%s\" but the configuration says \"%s\"", got ? got : "?", want);
    ob_db_release(c);
    return rc;
}

int ob_cmd_serve(int argc, char **argv)
{
    ob_args a;
    int rc = ob_cli_parse(&spec, argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    int64_t threads, body, upload_limit, timeout, head_timeout, max_conns, per_ip, dbmem;
    ob_log_level level;
    const char *sync = ob_cli_get(&spec, &a, "--synchronous");
    if (number(ob_cli_get(&spec, &a, "--threads"), 0, 256, &threads) != 0)
        return ob_cli_usage_error(&spec, "--threads must be 0 to 256");
    if (number(ob_cli_get(&spec, &a, "--body-limit"), 1024, 1LL << 30, &body) != 0)
        return ob_cli_usage_error(&spec, "--body-limit must be 1024 to 1073741824 bytes");
    if (number(ob_cli_get(&spec, &a, "--upload-limit"), 1024, 1LL << 40, &upload_limit) != 0)
        return ob_cli_usage_error(&spec, "--upload-limit must be 1024 to 1099511627776 bytes");
    if (number(ob_cli_get(&spec, &a, "--timeout"), 1, 3600, &timeout) != 0)
        return ob_cli_usage_error(&spec, "--timeout must be 1 to 3600 seconds");
    if (number(ob_cli_get(&spec, &a, "--header-timeout"), 1, 3600, &head_timeout) != 0)
        return ob_cli_usage_error(&spec, "--header-timeout must be 1 to 3600 seconds");
    if (number(ob_cli_get(&spec, &a, "--max-conns"), 1, 65536, &max_conns) != 0)
        return ob_cli_usage_error(&spec, "--max-conns must be 1 to 65536");
    if (number(ob_cli_get(&spec, &a, "--max-conns-per-ip"), 1, max_conns, &per_ip) != 0)
        return ob_cli_usage_error(&spec, "--max-conns-per-ip must be 1 to --max-conns");
    if (number(ob_cli_get(&spec, &a, "--db-memory"), 1, 1 << 20, &dbmem) != 0)
        return ob_cli_usage_error(&spec, "--db-memory must be 1 to 1048576 MiB");
    if (ob_log_level_parse(ob_cli_get(&spec, &a, "--log-level"), &level) != 0)
        return ob_cli_usage_error(&spec, "--log-level must be debug, info, warn, error or off");
    const char *listen = ob_cli_get(&spec, &a, "--listen");
    const char *colon = strrchr(listen, ':');
    int64_t port;
    if (!colon || colon == listen || number(colon + 1, 0, 65535, &port) != 0)
        return ob_cli_usage_error(&spec, "--listen must be HOST:PORT, e.g. 127.0.0.1:8080");
    if (strcmp(sync, "full") && strcmp(sync, "normal") && strcmp(sync, "off"))
        return ob_cli_usage_error(&spec, "--synchronous must be full, normal or off");
    ob_backup_sched_opts bso = {.dir = ob_cli_get(&spec, &a, "--backup-dir"), .version = OB_VERSION};
    if (duration(ob_cli_get(&spec, &a, "--backup-every"), &bso.every_s) != 0)
        return ob_cli_usage_error(&spec, "--backup-every must be like 30s, 15m or 1h (at most a week)");
    if (number(ob_cli_get(&spec, &a, "--backup-keep"), 0, 1000000, &bso.keep) != 0)
        return ob_cli_usage_error(&spec, "--backup-keep must be 0 to 1000000");
    if (number(ob_cli_get(&spec, &a, "--backup-keep-days"), 0, 36500, &bso.keep_days) != 0)
        return ob_cli_usage_error(&spec, "--backup-keep-days must be 0 to 36500");
    const char *pevery = ob_cli_get(&spec, &a, "--purge-every");
    if (strcmp(pevery, "off") != 0 && duration(pevery, &bso.purge_every_s) != 0)
        return ob_cli_usage_error(&spec, "--purge-every must be off or like 30s, 1h");
    const char *aevery = ob_cli_get(&spec, &a, "--archive-every");
    if (strcmp(aevery, "off") != 0 && duration(aevery, &bso.archive_every_s) != 0)
        return ob_cli_usage_error(&spec, "--archive-every must be off or like 12h, 24h");
    char archive_dir[1024];
    const char *adir = ob_cli_get(&spec, &a, "--archive-dir");
    snprintf(archive_dir, sizeof archive_dir, "%s%s", adir ? adir : ob_cli_get(&spec, &a, "--data"),
             adir ? "" : "/archive");
    bso.archive_dir = archive_dir;
    bso.files_root = ob_cli_get(&spec, &a, "--data");
    const char *metrics_token = ob_cli_get(&spec, &a, "--metrics-token");
    if (metrics_token && strlen(metrics_token) < 16)
        return ob_cli_usage_error(&spec, "--metrics-token must be at least 16 characters");
    int64_t ready_disk_mb, ready_job_age;
    if (number(ob_cli_get(&spec, &a, "--ready-min-disk-mb"), 0, 1LL << 40, &ready_disk_mb) != 0)
        return ob_cli_usage_error(&spec, "--ready-min-disk-mb must be 0 to 1099511627776");
    if (number(ob_cli_get(&spec, &a, "--ready-max-job-age"), 1, 86400 * 365, &ready_job_age) != 0)
        return ob_cli_usage_error(&spec, "--ready-max-job-age must be 1 to 31536000 seconds");
    const char *slow = ob_cli_get(&spec, &a, "--slow-query-ms");
    int64_t slow_ms = -1;
    if (strcmp(slow, "off") != 0 && number(slow, 0, 86400000, &slow_ms) != 0)
        return ob_cli_usage_error(&spec, "--slow-query-ms must be off or 0 to 86400000");
    ob_db_slow_query_ms(slow_ms);
    ob_jobs_opts jo;
    if ((rc = ob_cli_job_opts(&spec, &a, &jo)) != 0) return rc;
    ob_throttle_cfg tc;
    int64_t window, delay, max_delay;
    if (number(ob_cli_get(&spec, &a, "--login-max-failures"), 1, 1000000, &tc.account_max) != 0)
        return ob_cli_usage_error(&spec, "--login-max-failures must be 1 to 1000000");
    if (number(ob_cli_get(&spec, &a, "--login-address-max-failures"), 1, 1000000, &tc.address_max) != 0)
        return ob_cli_usage_error(&spec, "--login-address-max-failures must be 1 to 1000000");
    if (number(ob_cli_get(&spec, &a, "--login-window"), 1, 86400 * 30, &window) != 0)
        return ob_cli_usage_error(&spec, "--login-window must be 1 to 2592000 seconds");
    if (number(ob_cli_get(&spec, &a, "--login-delay"), 1, 86400, &delay) != 0)
        return ob_cli_usage_error(&spec, "--login-delay must be 1 to 86400 seconds");
    if (number(ob_cli_get(&spec, &a, "--login-max-delay"), delay, 86400 * 30, &max_delay) != 0)
        return ob_cli_usage_error(&spec, "--login-max-delay must be --login-delay to 2592000 seconds");
    /* the gate's token buckets (api/ratelimit.h), by rate class */
    int64_t rates[OB_RATE__COUNT] = {0};
    static const char *const rate_flags[OB_RATE__COUNT] = {NULL, "--rate-auth", "--rate-read", "--rate-write"};
    for (int c = 1; c < OB_RATE__COUNT; c++)
        if (number(ob_cli_get(&spec, &a, rate_flags[c]), 0, 1000000, &rates[c]) != 0)
            return ob_cli_usage_error(&spec, "--rate-auth, --rate-read and --rate-write must be 0 to 1000000");
    ob_stream_cfg sc;
    if (number(ob_cli_get(&spec, &a, "--stream-keepalive-ms"), 10, 3600000, &sc.keepalive_ms) != 0 ||
        number(ob_cli_get(&spec, &a, "--stream-poll-ms"), 10, 60000, &sc.poll_ms) != 0 ||
        number(ob_cli_get(&spec, &a, "--stream-retention"), 1, 100000000, &sc.retention) != 0 ||
        number(ob_cli_get(&spec, &a, "--stream-max-per-user"), 1, 10000, &sc.max_per_user) != 0)
        return ob_cli_usage_error(&spec, "--stream-keepalive-ms (10 to 3600000), --stream-poll-ms (10 to 60000), "
                                         "--stream-retention (1 to 100000000) or --stream-max-per-user (1 to "
                                         "10000) is out of range");
    /* a parked stream's connection must hear from us before the idle timeout */
    if (sc.keepalive_ms > timeout * 500) sc.keepalive_ms = timeout * 500;
    ob_stream_configure(&sc);
    tc.window_ms = window * 1000;
    tc.delay_ms = delay * 1000;
    tc.max_delay_ms = max_delay * 1000;
    ob_throttle_configure(&tc);
    ob_password_warm(); /* the dummy hash of unknown-user sign-ins, before the first request */
    int64_t pmax, plock;
    if (number(ob_cli_get(&spec, &a, "--platform-login-max-failures"), 1, 1000, &pmax) != 0 ||
        number(ob_cli_get(&spec, &a, "--platform-lockout"), 1, 86400 * 30, &plock) != 0)
        return ob_cli_usage_error(&spec, "--platform-login-max-failures must be 1 to 1000 and --platform-lockout 1 "
                                         "to 2592000 seconds");
    ob_platform_lockout_configure(pmax, plock * 1000);
    ob_log_set_level(level);

    ob_err err;
    if (ob_secrets_configure(ob_cli_get(&spec, &a, "--master-key-file"), ob_cli_get(&spec, &a, "--old-master-key-file"),
                             &err) != 0)
        return ob_cli_fail(&err);
    /* no silent development key: a server without one could not read its secrets back */
    if (!ob_secrets_ready())
        return ob_cli_usage_error(&spec, "no master key: give --master-key-file, OPSBASE_MASTER_KEY_FILE or "
                                         "OPSBASE_MASTER_KEY (make one with `opsbase keys new`)");
    const char *srl = ob_cli_get(&spec, &a, "--settings-rate-limits");
    if (strcmp(srl, "on") != 0 && strcmp(srl, "off") != 0)
        return ob_cli_usage_error(&spec, "--settings-rate-limits must be on or off");
    ob_ratelimit_settings_enable(strcmp(srl, "on") == 0);
    ob_store *store;
    ob_store_opts so = {.data_dir = ob_cli_get(&spec, &a, "--data"), .url = ob_cli_get(&spec, &a, "--db"),
                        .synchronous = sync, .conn_memory = (size_t)dbmem << 20, .create = true};
    if (ob_store_open(&store, &so, &err) != 0) return ob_cli_fail(&err);
    int ntenants = 0;
    if (check_synchronous(store, sync, &err) != 0 || ob_migrate_lazy(store, &ntenants, &err) != 0) {
        ob_store_close(store);
        return ob_cli_fail(&err);
    }

    /* workers inherit a mask without these, so only this thread takes them */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    ob_app app;
    if (ob_app_init(&app, store, OB_VERSION, rates, &err) != 0) {
        ob_store_close(store);
        return ob_cli_fail(&err);
    }
    app.metrics_token = metrics_token;
    app.ready = (ob_ready_cfg){.data_dir = ob_cli_get(&spec, &a, "--data"),
                               .min_free_bytes = ready_disk_mb << 20, .max_job_age_s = ready_job_age};
    /* uploads live under the data directory in both storage modes */
    ob_file_store files;
    char *spool_dir = NULL;
    if (ob_file_store_local(&files, ob_cli_get(&spec, &a, "--data"), &spool_dir, &err) != 0) {
        ob_app_release(&app);
        ob_store_close(store);
        return ob_cli_fail(&err);
    }
    app.files = &files;
    ob_files_use(&files); /* the jobs that make and remove files */
    ob_api_jobs_use(&files); /* approved exports are written by a job into this store */
    ob_http_opts ho = {.listen = ob_cli_get(&spec, &a, "--listen"), .threads = (unsigned)threads,
                       .max_body = (size_t)body, .conn_timeout_s = (unsigned)timeout,
                       .header_timeout_s = (unsigned)head_timeout, .max_conns = (unsigned)max_conns,
                       .max_conns_per_ip = (unsigned)per_ip, .spool = ob_app_spool, .spool_dir = spool_dir,
                       .max_upload = (size_t)upload_limit};
    ob_http *http;
    if (ob_http_start(&http, &ho, ob_app_handle, &app, &err) != 0) {
        free(spool_dir);
        ob_app_release(&app);
        ob_store_close(store);
        return ob_cli_fail(&err);
    }
    /* before HTTP would be better, but a failure here must stop what started */
    if (ob_readlog_start(store, &err) != 0) {
        ob_http_stop(http);
        ob_app_release(&app);
        ob_store_close(store);
        return ob_cli_fail(&err);
    }
    ob_jobs *jobs = NULL;
    /* without workers one thread still sweeps, only to count the queues for
     * /readyz and /metrics (jobs run in another process, `opsbase worker`) */
    jo.count_only = jo.workers == 0;
    ob_metrics_use_jobs(jobs_figures);
    if (ob_jobs_start(&jobs, store, &jo, &err) != 0) {
        ob_readlog_stop();
        ob_http_stop(http);
        ob_app_release(&app);
        ob_store_close(store);
        return ob_cli_fail(&err);
    }
    ob_backup_sched *backups = NULL;
    if ((bso.dir || bso.archive_every_s || bso.purge_every_s) &&
        ob_backup_sched_start(&backups, store, &bso, &err) != 0) {
        ob_jobs_stop(jobs);
        ob_readlog_stop();
        ob_http_stop(http);
        ob_app_release(&app);
        ob_store_close(store);
        return ob_cli_fail(&err);
    }
    char url[128], count[16];
    snprintf(url, sizeof url, "http://%s", ho.listen);
    snprintf(count, sizeof count, "%d", ntenants);
    ob_log(OB_LOG_INFO, "listening", "url", url, "tenants", count, "version", OB_VERSION, NULL);
    int sig = 0;
    sigwait(&set, &sig);
    ob_log(OB_LOG_INFO, "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    ob_http_stop(http);
    ob_stream_shutdown(); /* after HTTP: its streams have ended */
    ob_readlog_stop();    /* after HTTP: every read answered is written */
    ob_jobs_stop(jobs); /* after HTTP: no new request enqueues; running jobs finish */
    ob_metrics_use_jobs(NULL);
    ob_backup_sched_stop(backups);
    ob_app_release(&app);
    ob_store_close(store);
    free(spool_dir);
    return 0;
}
