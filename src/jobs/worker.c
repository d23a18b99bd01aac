/* worker.c - the worker threads: sweep every tenant for due jobs, then sleep
 * until the poll interval passes or a job is enqueued in this process. Each
 * visit also counts the tenant's queue (backlog.c); with count_only one
 * thread sweeps for that alone (serve --workers 0). A
 * tenant with nothing due is passed over until its next due moment (idle.c),
 * or until something is written to it; jobs enqueued by another process (a
 * second server on the same data, the CLI) are found by the next sweep on
 * SQLite (its files changed) and within recheck_s at most on PostgreSQL. */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "jobs/jobs_int.h"
#include "platform/tenants.h"
#include "base/banned.h"

static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;
static uint64_t wake_seq;

void ob_jobs_wake(void)
{
    pthread_mutex_lock(&wake_mu);
    wake_seq++;
    pthread_cond_broadcast(&wake_cv);
    pthread_mutex_unlock(&wake_mu);
}

struct ob_jobs {
    ob_store *store;
    ob_jobs_opts o;
    pthread_t *threads;
    int nthreads;
    _Atomic bool stop;
};

/* One pass over every tenant; returns how many jobs ran. */
static int sweep(ob_jobs *j)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_slugs l = {0};
    ob_err err;
    ob_conn *c;
    int total = 0, visited = 0;
    /* before the list: a tenant counted after it is kept whatever the list says */
    uint64_t pass = ob_jobs_backlog_mark();
    bool listed = false;
    if (ob_db_acquire(j->store, NULL, NULL, OB_DB_READ, &c, &err) == 0) {
        if (ob_tenant_slugs(c, &a, true, &l, &err) != 0)
            ob_log(OB_LOG_WARN, "jobs: cannot list tenants", "error", err.message, NULL);
        else listed = true;
        ob_db_release(c);
    }
    for (int i = 0; i < l.n && !j->stop; i++) {
        int64_t now = ob_now_ms(), next = 0;
        ob_jobs_mark m;
        ob_jobs_backlog_listed(l.v[i], pass);
        if (ob_jobs_idle_skip(j->store, l.v[i], now, &m)) continue;
        int ran = 0;
        visited++;
        if (ob_jobs_run_due_next(j->store, l.v[i], &j->o, &ran, &next, &err) != 0) {
            ob_log(OB_LOG_WARN, "jobs: sweep failed", "tenant", l.v[i], "error", err.message, NULL);
            next = 0;
        }
        total += ran;
        /* the bound: --job-recheck-s where nothing else tells of another
         * process's writes (PostgreSQL); ten times it where the file stamp
         * does and the bound only backs it up (SQLite). Spread over its last
         * quarter, so the tenants noted in one sweep do not all come due in
         * the same later one. */
        int64_t span = (int64_t)j->o.recheck_s * 1000 * (m.has_stamp ? 10 : 1);
        int64_t bound = now + span - (int64_t)randombytes_uniform((uint32_t)(span / 4 + 1));
        if (next > now) ob_jobs_idle_note(l.v[i], &m, next < bound ? next : bound);
        else ob_jobs_idle_forget(l.v[i]);
    }
    if (listed && !j->stop) ob_jobs_backlog_swept(pass, ob_now_ms());
    char nv[16], nt[16];
    snprintf(nv, sizeof nv, "%d", visited);
    snprintf(nt, sizeof nt, "%d", l.n);
    ob_log(OB_LOG_DEBUG, "jobs: swept", "tenants", nt, "visited", nv, NULL);
    ob_arena_release(&a);
    return total;
}

static void *worker_main(void *arg)
{
    ob_jobs *j = arg;
    /* The first sweep waits one poll interval (or a wake-up): at start it
     * would visit every tenant, competing with the first requests for the
     * cores, and work due then is at most one interval late, as any poll. */
    bool first = true;
    while (!j->stop) {
        pthread_mutex_lock(&wake_mu);
        uint64_t seen = wake_seq;
        pthread_mutex_unlock(&wake_mu);
        int ran = first ? 0 : sweep(j);
        first = false;
        if (ran > 0) continue; /* there may be more: sweep again at once */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (int64_t)j->o.poll_ms * 1000000;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_mutex_lock(&wake_mu);
        while (!j->stop && wake_seq == seen)
            if (pthread_cond_timedwait(&wake_cv, &wake_mu, &until) == ETIMEDOUT) break;
        pthread_mutex_unlock(&wake_mu);
    }
    return NULL;
}

int ob_jobs_start(ob_jobs **out, ob_store *store, const ob_jobs_opts *o, ob_err *err)
{
    ob_jobs *j = calloc(1, sizeof *j);
    if (!j) return ob_err_set(err, OB_E_INTERNAL, "out of memory");
    j->store = store;
    j->o = *o;
    if (j->o.workers <= 0) j->o.workers = 1;
    if (j->o.poll_ms <= 0) j->o.poll_ms = 1000;
    if (j->o.lease_s <= 0) j->o.lease_s = 300;
    if (j->o.backoff_ms <= 0) j->o.backoff_ms = 1000;
    if (j->o.recheck_s <= 0) j->o.recheck_s = 30;
    if (j->o.count_only) j->o.workers = 1; /* a count needs no second thread */
    j->threads = calloc((size_t)j->o.workers, sizeof *j->threads);
    if (!j->threads) {
        free(j);
        return ob_err_set(err, OB_E_INTERNAL, "out of memory");
    }
    /* before the threads: every later write counts against their notes */
    ob_store_on_write(store, ob_jobs_idle_written, NULL);
    for (int i = 0; i < j->o.workers; i++) {
        if (pthread_create(&j->threads[i], NULL, worker_main, j) != 0) {
            j->o.workers = i;
            ob_jobs_stop(j);
            return ob_err_set(err, OB_E_INTERNAL, "cannot start a job worker");
        }
        j->nthreads++;
    }
    *out = j;
    return 0;
}

void ob_jobs_stop(ob_jobs *j)
{
    if (!j) return;
    j->stop = true;
    ob_jobs_wake();
    for (int i = 0; i < j->nthreads; i++) pthread_join(j->threads[i], NULL);
    ob_store_on_write(j->store, NULL, NULL);
    ob_jobs_idle_reset();
    ob_jobs_backlog_reset();
    free(j->threads);
    free(j);
}
