/* jobs_int.h - what jobs.c and worker.c share. */
#ifndef OB_JOBS_INT_H
#define OB_JOBS_INT_H

#include "jobs/jobs.h"

/* Wake this process's workers (a job was enqueued). */
void ob_jobs_wake(void);

/* Passing idle tenants over (idle.c). What a tenant looked like before a
 * sweep read it: its file stamp and this process's count of its writers. */
typedef struct ob_jobs_mark {
    uint64_t writes, stamp, generation;
    bool has_stamp;
} ob_jobs_mark;
/* True when the tenant may be passed over now; otherwise *m is filled for
 * ob_jobs_idle_note. */
bool ob_jobs_idle_skip(ob_store *s, const char *slug, int64_t now_ms, ob_jobs_mark *m);
/* The sweep begun after *m found nothing runnable before until_ms. */
void ob_jobs_idle_note(const char *slug, const ob_jobs_mark *m, int64_t until_ms);
/* The tenant must be visited on the next sweep. */
void ob_jobs_idle_forget(const char *slug);
/* A job was enqueued in this process: wake the workers again once the
 * enqueuing writer is given back (its commit is then visible). */
void ob_jobs_idle_enqueued(const char *slug);
/* The store's write hook (ob_store_on_write). */
void ob_jobs_idle_written(const char *slug, void *arg);
/* Forget every note (the workers stopped). */
void ob_jobs_idle_reset(void);

/* What each tenant's queue held at its last visit (backlog.c). */
typedef struct ob_jobs_count {
    int64_t queued, due, dead; /* due: queued with run_at <= the visit */
    int64_t oldest_ms;         /* the earliest run_at of a queued job; 0: none */
    int64_t next_ms;           /* the earliest run_at after the visit; INT64_MAX: none */
} ob_jobs_count;
/* A sequence number to take before reading a count: of two counts of one
 * tenant, the one read under the later number is kept. */
uint64_t ob_jobs_backlog_mark(void);
void ob_jobs_backlog_set(const char *slug, uint64_t mark, const ob_jobs_count *c);
/* The pass that began at mark `pass` listed the tenant (counted or not). */
void ob_jobs_backlog_listed(const char *slug, uint64_t pass);
/* That pass went through its whole list: tenants it did not list and nobody
 * counted since it began are dropped. */
void ob_jobs_backlog_swept(uint64_t pass, int64_t now_ms);
/* Forget every count (the workers stopped). */
void ob_jobs_backlog_reset(void);

/* ob_jobs_run_due that also reports, when nothing ran or fired, the earliest
 * moment anything could fall due in the tenant (*next_ms; INT64_MAX: nothing
 * queued, running or scheduled), else *next_ms = 0. */
int ob_jobs_run_due_next(ob_store *s, const char *slug, const ob_jobs_opts *o, int *ran, int64_t *next_ms,
                         ob_err *err);

/* FNV-1a of a tenant's slug: the bucket of the per-tenant tables kept in
 * memory (idle.c's notes, backlog.c's counts). */
static inline uint64_t ob_jobs_slug_hash(const char *slug)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)slug; *p; p++) h = (h ^ *p) * 0x100000001b3ULL;
    return h;
}

#endif
