/* backlog.c - what this process knows of every tenant's job queue, for
 * /readyz and /metrics (jobs.h, ob_jobs_backlog_get).
 *
 * Jobs live in each tenant's own database, so counting them on demand opens
 * every tenant: with 1,000 tenants a probe took seconds, past an
 * orchestrator's probe timeout. The sweep visits tenants anyway, so each visit
 * leaves the tenant's figures here (jobs.c, next_due) and a reader sums them
 * under one lock: no tenant opened, no query, whatever the number of tenants.
 *
 * A tenant's figures are as of its last visit. A tenant the sweep passes over
 * (idle.c) keeps them: it is passed over only while nothing was written to it
 * and nothing in it falls due, so they still hold. Counts taken concurrently
 * by two workers are ordered by a sequence number taken before each read: a
 * count read earlier never replaces one read later. A tenant the sweep no
 * longer lists (deleted, suspended) is dropped at the end of the pass. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "jobs/jobs_int.h"
#include "base/banned.h"

#define BUCKETS 1024

typedef struct entry {
    struct entry *next;
    char slug[64];
    uint64_t counted_seq; /* the sequence number the count was read under */
    uint64_t listed_seq;  /* the latest pass that listed the tenant */
    ob_jobs_count c;
} entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static entry *table[BUCKETS];
static int nentries;
static uint64_t seq;
static int64_t swept_ms; /* the end of the last whole pass; 0: none since start */

static size_t bucket(const char *slug)
{
    return (size_t)(ob_jobs_slug_hash(slug) % BUCKETS);
}

/* Under mu. NULL when absent, or when out of memory: the tenant then goes
 * uncounted until its next visit. */
static entry *find_locked(const char *slug, bool create)
{
    if (!slug || !*slug || strlen(slug) >= sizeof ((entry *)0)->slug) return NULL;
    size_t b = bucket(slug);
    for (entry *e = table[b]; e; e = e->next)
        if (strcmp(e->slug, slug) == 0) return e;
    if (!create) return NULL;
    entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    memcpy(e->slug, slug, strlen(slug) + 1);
    e->next = table[b];
    table[b] = e;
    nentries++;
    return e;
}

uint64_t ob_jobs_backlog_mark(void)
{
    pthread_mutex_lock(&mu);
    uint64_t s = ++seq;
    pthread_mutex_unlock(&mu);
    return s;
}

void ob_jobs_backlog_set(const char *slug, uint64_t mark, const ob_jobs_count *c)
{
    pthread_mutex_lock(&mu);
    entry *e = find_locked(slug, true);
    if (e && mark >= e->counted_seq) {
        e->counted_seq = mark;
        e->c = *c;
    }
    pthread_mutex_unlock(&mu);
}

void ob_jobs_backlog_listed(const char *slug, uint64_t pass)
{
    pthread_mutex_lock(&mu);
    entry *e = find_locked(slug, false);
    if (e && pass > e->listed_seq) e->listed_seq = pass;
    pthread_mutex_unlock(&mu);
}

void ob_jobs_backlog_swept(uint64_t pass, int64_t now_ms)
{
    pthread_mutex_lock(&mu);
    /* neither listed by this pass nor counted since it began: gone */
    for (size_t i = 0; i < BUCKETS; i++)
        for (entry **p = &table[i]; *p;) {
            entry *e = *p;
            if (e->listed_seq < pass && e->counted_seq < pass) {
                *p = e->next;
                free(e);
                nentries--;
            } else {
                p = &e->next;
            }
        }
    if (now_ms > swept_ms) swept_ms = now_ms;
    pthread_mutex_unlock(&mu);
}

void ob_jobs_backlog_get(int64_t now_ms, ob_jobs_backlog *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < BUCKETS; i++)
        for (const entry *e = table[i]; e; e = e->next) {
            out->queued += e->c.queued;
            out->due += e->c.due;
            out->dead += e->c.dead;
            /* a job counted as not yet due may have come due since: its age
             * counts from its run_at, which is known */
            if (e->c.oldest_ms && e->c.oldest_ms <= now_ms &&
                (!out->oldest_due_ms || e->c.oldest_ms < out->oldest_due_ms))
                out->oldest_due_ms = e->c.oldest_ms;
        }
    out->tenants_counted = nentries;
    out->swept_ms = swept_ms;
    pthread_mutex_unlock(&mu);
}

void ob_jobs_backlog_reset(void)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < BUCKETS; i++)
        while (table[i]) {
            entry *e = table[i];
            table[i] = e->next;
            free(e);
        }
    nentries = 0;
    swept_ms = 0;
    pthread_mutex_unlock(&mu);
}
