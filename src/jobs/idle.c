/* idle.c - which tenants the worker may pass over: "nothing due here until T".
 *
 * A sweep that finds nothing to run in a tenant notes the earliest moment
 * anything there could fall due (jobs.c: a queued job's run_at, a running
 * job's lease expiry, an enabled schedule's next slot) and passes the tenant
 * over until then, so an idle server with many tenants does not open every
 * tenant's database each poll. The note is trusted only while all of these
 * hold, each checked before the tenant's state is read so that a change made
 * during the read is seen on the next check:
 *  - no WRITE connection of the tenant was given back in this process since
 *    (ob_store_on_write: an enqueue, a schedule created or changed through
 *    the API, a restore, a job's own effects);
 *  - the tenant's file stamp is unchanged (SQLite: another process, a second
 *    server or the CLI, committed nothing);
 *  - it is younger than its bound (worker.c: ob_jobs_opts.recheck_s where
 *    there is no stamp, PostgreSQL; ten times it where the stamp is the
 *    check and the bound only a backstop for a change it missed).
 * Anything unknown (a tenant not seen yet, a sweep that failed or ran work)
 * means no note: the tenant is visited. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "jobs/jobs_int.h"
#include "base/banned.h"

#define BUCKETS 1024
/* More notes than this and the table is emptied (tenants that were dropped
 * leave notes behind): every tenant is simply visited once more. */
#define MAX_NOTES 65536

typedef struct note {
    struct note *next;
    char slug[64];
    uint64_t writes;    /* writers of the tenant given back in this process */
    bool wake;          /* a job was enqueued: wake the workers once it commits */
    bool valid;         /* the fields below hold a note */
    uint64_t noted_writes;
    bool has_stamp;
    uint64_t stamp;
    int64_t until_ms;
} note;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static note *table[BUCKETS];
static int nnotes;
static uint64_t generation; /* counts emptyings: a mark from before one notes nothing */

static size_t bucket(const char *slug)
{
    return (size_t)(ob_jobs_slug_hash(slug) % BUCKETS);
}

static void clear_locked(void)
{
    for (size_t i = 0; i < BUCKETS; i++)
        while (table[i]) {
            note *n = table[i];
            table[i] = n->next;
            free(n);
        }
    nnotes = 0;
    generation++;
}

/* The tenant's note, made when create; NULL when absent (or out of memory,
 * which only costs a visit). Under mu. */
static note *find_locked(const char *slug, bool create)
{
    if (!slug || !*slug || strlen(slug) >= sizeof ((note *)0)->slug) return NULL;
    size_t b = bucket(slug);
    for (note *n = table[b]; n; n = n->next)
        if (strcmp(n->slug, slug) == 0) return n;
    if (!create) return NULL;
    if (nnotes >= MAX_NOTES) {
        clear_locked();
        b = bucket(slug);
    }
    note *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    memcpy(n->slug, slug, strlen(slug) + 1);
    n->next = table[b];
    table[b] = n;
    nnotes++;
    return n;
}

void ob_jobs_idle_written(const char *slug, void *arg)
{
    (void)arg;
    bool wake = false;
    pthread_mutex_lock(&mu);
    note *n = find_locked(slug, false);
    if (n) {
        n->writes++;
        wake = n->wake;
        n->wake = false;
    }
    pthread_mutex_unlock(&mu);
    /* the enqueue woke the workers before its commit, when they could not
     * see the job yet; now they can */
    if (wake) ob_jobs_wake();
}

void ob_jobs_idle_enqueued(const char *slug)
{
    pthread_mutex_lock(&mu);
    note *n = find_locked(slug, true);
    if (n) {
        n->wake = true;
        n->valid = false;
    }
    pthread_mutex_unlock(&mu);
}

bool ob_jobs_idle_skip(ob_store *s, const char *slug, int64_t now_ms, ob_jobs_mark *m)
{
    /* the stamp first, then the counter: both before the tenant is read */
    m->has_stamp = ob_db_tenant_stamp(s, slug, &m->stamp) == 1;
    bool skip = false;
    pthread_mutex_lock(&mu);
    note *n = find_locked(slug, true);
    m->writes = n ? n->writes : 0;
    m->generation = generation;
    if (n && n->valid && now_ms < n->until_ms && n->noted_writes == m->writes && n->has_stamp == m->has_stamp &&
        (!m->has_stamp || n->stamp == m->stamp))
        skip = true;
    pthread_mutex_unlock(&mu);
    return skip;
}

void ob_jobs_idle_note(const char *slug, const ob_jobs_mark *m, int64_t until_ms)
{
    pthread_mutex_lock(&mu);
    note *n = m->generation == generation ? find_locked(slug, false) : NULL;
    if (n) {
        /* noted against the counter read before the tenant was: a write
         * given back since has moved it on, and the note is not trusted */
        n->valid = true;
        n->noted_writes = m->writes;
        n->has_stamp = m->has_stamp;
        n->stamp = m->stamp;
        n->until_ms = until_ms;
    }
    pthread_mutex_unlock(&mu);
}

void ob_jobs_idle_forget(const char *slug)
{
    pthread_mutex_lock(&mu);
    note *n = find_locked(slug, false);
    if (n) n->valid = false;
    pthread_mutex_unlock(&mu);
}

void ob_jobs_idle_reset(void)
{
    pthread_mutex_lock(&mu);
    clear_locked();
    pthread_mutex_unlock(&mu);
}
