/* schedule.c - backups taken by `opsbase serve` on a timer (--backup-dir,
 * --backup-every), each into a directory of its own named by its UTC start,
 * and the oldest removed by count and age. One thread per process; a backup
 * reads through snapshots, so requests go on while it runs. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "ops/archive.h"
#include "ops/backup.h"
#include "ops/schedule.h"
#include "platform/tenants.h"
#include "base/banned.h"

#define STAMP_LEN 17 /* 20261205T111300Z */

struct ob_backup_sched {
    ob_store *store;
    ob_backup_sched_opts o;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static bool is_stamp(const char *name)
{
    if (strlen(name) != STAMP_LEN - 1 || name[8] != 'T' || name[15] != 'Z') return false;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (name[i] < '0' || name[i] > '9')) return false;
    return true;
}

/* Remove one backup directory: only the files a backup writes. */
static void remove_backup(const char *dir, const char *name)
{
    char path[1024], sub[1400];
    snprintf(path, sizeof path, "%s/%s/tenants", dir, name);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.') continue;
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            unlink(sub);
        }
        closedir(d);
        rmdir(path);
    }
    static const char *const files[] = {"control.ndjson.zst", "manifest.json", "manifest.json.tmp"};
    for (size_t i = 0; i < OB_ARRAY_LEN(files); i++) {
        snprintf(sub, sizeof sub, "%s/%s/%s", dir, name, files[i]);
        unlink(sub);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (rmdir(path) != 0) ob_log(OB_LOG_WARN, "backup_prune_failed", "dir", path, "error", strerror(errno), NULL);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keep the newest `keep` backups (0: any number) and none older than
 * keep_days (0: any age); an unfinished one (no manifest) other than the
 * newest is the remains of a crash and goes too. */
static void prune(const ob_backup_sched_opts *o, int64_t now_ms)
{
    DIR *d = opendir(o->dir);
    if (!d) return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_stamp(de->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn) break;
            names = nn;
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    char cutoff[STAMP_LEN];
    time_t cut = (time_t)((now_ms / 1000) - o->keep_days * 86400);
    struct tm tm;
    gmtime_r(&cut, &tm);
    strftime(cutoff, sizeof cutoff, "%Y%m%dT%H%M%SZ", &tm);
    size_t kept = 0;
    for (size_t i = n; i-- > 0;) { /* newest first */
        char manifest[1100];
        snprintf(manifest, sizeof manifest, "%s/%s/manifest.json", o->dir, names[i]);
        struct stat sb;
        bool complete = stat(manifest, &sb) == 0;
        bool old = o->keep_days > 0 && strcmp(names[i], cutoff) < 0;
        bool surplus = o->keep > 0 && kept >= (size_t)o->keep;
        if ((!complete && i + 1 != n) || (complete && (old || surplus))) remove_backup(o->dir, names[i]);
        else if (complete) kept++;
        free(names[i]);
    }
    free(names);
}

static void run_once(ob_backup_sched *b)
{
    int64_t now = ob_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[STAMP_LEN], dir[1024];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(dir, sizeof dir, "%s/%s", b->o.dir, stamp);
    ob_backup_opts bo = {.out_dir = dir, .version = b->o.version, .files_root = b->o.files_root};
    ob_backup_report rep;
    ob_err err;
    ob_err_clear(&err);
    int64_t t0 = ob_mono_us();
    if (ob_backup(b->store, &bo, &rep, &err) != 0) {
        ob_log(OB_LOG_ERROR, "backup_failed", "dir", dir, "error", err.message, NULL);
        return;
    }
    char rows[24], bytes[24], ms[24];
    snprintf(rows, sizeof rows, "%lld", (long long)rep.rows);
    snprintf(bytes, sizeof bytes, "%lld", (long long)rep.bytes);
    snprintf(ms, sizeof ms, "%lld", (long long)((ob_mono_us() - t0) / 1000));
    ob_log(OB_LOG_INFO, "backup_written", "dir", dir, "rows", rows, "bytes", bytes, "duration_ms", ms, NULL);
    prune(&b->o, now);
}

static void archive_once(ob_backup_sched *b)
{
    ob_archive_opts ao = {.dir = b->o.archive_dir, .now_ms = ob_now_ms()};
    ob_archive_report rep;
    ob_err err;
    ob_err_clear(&err);
    if (ob_archive_run(b->store, &ao, &rep, &err) != 0) {
        ob_log(OB_LOG_ERROR, "archive_failed", "dir", b->o.archive_dir, "error", err.message, NULL);
        return;
    }
    char rows[24], held[16];
    snprintf(rows, sizeof rows, "%lld", (long long)rep.rows);
    snprintf(held, sizeof held, "%d", rep.held_tenants);
    ob_log(OB_LOG_INFO, "archive_run", "rows", rows, "tenants_on_hold", held, NULL);
}

/* The platform's own schedule: tenants whose erasure is due, any purge an
 * earlier run left half done (its tombstone still purging), and the
 * provisioning rows of creates that crashed (a long-running server's start
 * is not soon enough for a slug nobody creates again). */
static void purge_once(ob_backup_sched *b)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_slugs done;
    ob_err err;
    ob_err_clear(&err);
    if (ob_tenant_reap_provisioning(b->store, NULL, ob_now_ms(), NULL, &err) != 0)
        ob_log(OB_LOG_WARN, "tenant: stale provisioning not removed", "error", err.message, NULL);
    if (ob_tenant_purge_due(b->store, &a, ob_now_ms(), b->o.files_root, &done, &err) != 0)
        ob_log(OB_LOG_ERROR, "purge_failed", "error", err.message, NULL);
    for (int i = 0; i < done.n; i++) ob_log(OB_LOG_INFO, "tenant_erased", "tenant", done.v[i], NULL);
    ob_arena_release(&a);
}

static void *loop(void *arg)
{
    ob_backup_sched *b = arg;
    int64_t next_backup = b->o.dir ? ob_now_ms() : INT64_MAX;
    int64_t next_archive = b->o.archive_every_s ? ob_now_ms() + b->o.archive_every_s * 1000 : INT64_MAX;
    int64_t next_purge = b->o.purge_every_s ? ob_now_ms() : INT64_MAX;
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        int64_t now = ob_now_ms();
        if (now >= next_purge) {
            pthread_mutex_unlock(&b->mu);
            purge_once(b);
            next_purge = now + b->o.purge_every_s * 1000;
            pthread_mutex_lock(&b->mu);
            continue;
        }
        if (now >= next_backup || now >= next_archive) {
            pthread_mutex_unlock(&b->mu);
            if (now >= next_backup) {
                run_once(b);
                next_backup = now + b->o.every_s * 1000;
            }
            if (now >= next_archive) {
                archive_once(b);
                next_archive = now + b->o.archive_every_s * 1000;
            }
            pthread_mutex_lock(&b->mu);
            continue;
        }
        int64_t wake = next_backup < next_archive ? next_backup : next_archive;
        if (next_purge < wake) wake = next_purge;
        struct timespec until = {.tv_sec = (time_t)(wake / 1000), .tv_nsec = (long)(wake % 1000) * 1000000};
        pthread_cond_timedwait(&b->cv, &b->mu, &until);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

int ob_backup_sched_start(ob_backup_sched **out, ob_store *s, const ob_backup_sched_opts *o, ob_err *err)
{
    if (o->dir && mkdir(o->dir, 0700) != 0 && errno != EEXIST)
        return ob_err_set(err, OB_E_STORAGE, "cannot create %.200s: %s", o->dir, strerror(errno));
    ob_backup_sched *b = calloc(1, sizeof *b);
    if (!b) return ob_err_set(err, OB_E_INTERNAL, "out of memory");
    b->store = s;
    b->o = *o;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    if (pthread_create(&b->thread, NULL, loop, b) != 0) {
        free(b);
        return ob_err_set(err, OB_E_INTERNAL, "cannot start the backup thread");
    }
    *out = b;
    return 0;
}

void ob_backup_sched_stop(ob_backup_sched *b)
{
    if (!b) return;
    pthread_mutex_lock(&b->mu);
    b->stop = true;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}
