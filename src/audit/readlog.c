/* readlog.c - the queue of personal reads and its flusher (see readlog.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "audit/readlog.h"
#include "base/base.h"
#include "schema/reads.h"
#include "base/banned.h"

/* One request's reads, in one malloc block (the strings follow it). */
typedef struct entry {
    struct entry *next;
    const char *slug, *tenant_id, *user_id, *session_id, *ip, *user_agent, *request_id;
    const char *etype, *eid, *metadata;
    int64_t now_ms;
} entry;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    ob_store *store;
    bool running, stop;
    entry *head, **tail;
    int n;
    atomic_llong dropped;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

int64_t ob_readlog_dropped(void)
{
    return atomic_load(&q.dropped);
}

/* The audit metadata: {"reads": {"customers": ["id", ...], ...}, "rows": n}. */
static const char *metadata(const ob_ctx *ctx)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, 256);
    ob_sb_adds(&sb, "{\"reads\":{");
    for (const ob_read_table *rt = ctx->reads->head; rt; rt = rt->next) {
        if (rt != ctx->reads->head) ob_sb_addc(&sb, ',');
        ob_sb_addf(&sb, "\"%s\":[", rt->table);
        ob_sb_add(&sb, rt->ids.buf, rt->ids.len);
        ob_sb_addc(&sb, ']');
    }
    ob_sb_addf(&sb, "},\"rows\":%d", ctx->reads->n);
    if (ctx->reads->n > OB_READS_MAX_IDS) ob_sb_adds(&sb, ",\"ids_truncated\":true");
    ob_sb_addc(&sb, '}');
    return sb.buf;
}

void ob_readlog_push(const ob_ctx *ctx)
{
    if (!ctx->reads || !ctx->reads->n || !ctx->tenant || !ctx->who || ctx->who->is_system) return;
    pthread_mutex_lock(&q.mu);
    bool on = q.running && !q.stop;
    pthread_mutex_unlock(&q.mu);
    if (!on) return;
    const ob_read_table *first = ctx->reads->head;
    /* one row read: the audit row names it, as a change's row does */
    const char *eid = ctx->reads->n == 1 && first->n == 1 ? ob_arena_strndup(ctx->arena, first->ids.buf + 1,
                                                                              first->ids.len - 2)
                                                           : NULL;
    const char *etype = first->next ? "*" : first->table;
    const char *s[] = {ctx->tenant->slug, ctx->tenant->id, ctx->who->user_id, ctx->who->session_id,
                       ctx->ip, ctx->user_agent, ctx->request_id, etype, eid, metadata(ctx)};
    enum { NS = sizeof s / sizeof s[0] };
    size_t len[NS], total = sizeof(entry);
    for (int i = 0; i < NS; i++) total += (len[i] = s[i] ? strlen(s[i]) + 1 : 0);
    entry *e = malloc(total);
    if (!e) {
        atomic_fetch_add(&q.dropped, 1);
        return;
    }
    char *p = (char *)(e + 1);
    const char **dst[] = {&e->slug, &e->tenant_id, &e->user_id, &e->session_id, &e->ip,
                          &e->user_agent, &e->request_id, &e->etype, &e->eid, &e->metadata};
    for (int i = 0; i < NS; i++) {
        *dst[i] = s[i] ? memcpy(p, s[i], len[i]) : NULL;
        p += len[i];
    }
    e->next = NULL;
    e->now_ms = ctx->now_ms;
    pthread_mutex_lock(&q.mu);
    if (q.n >= OB_READLOG_CAP) {
        pthread_mutex_unlock(&q.mu);
        free(e);
        if (atomic_fetch_add(&q.dropped, 1) % 1000 == 0)
            ob_log(OB_LOG_WARN, "read log full: a personal read is not audited", "tenant", ctx->tenant->slug, NULL);
        return;
    }
    *q.tail = e;
    q.tail = &e->next;
    q.n++;
    pthread_mutex_unlock(&q.mu);
}

/* Write the first OB_READLOG_TXN_MAX entries of one tenant (those of batch
 * with its slug, in order) in one transaction on its writer; they leave the
 * batch whatever happens, and the caller comes back for the rest. The rows
 * are chained in memory and inserted together (ob_audit_events): BEGIN, the
 * chain's counter, its head, one insert of up to 64 rows, COMMIT, so the
 * write lock is held for a handful of statements however many reads came. */
static void write_tenant(entry **batch, const char *slug, const char *tenant_id)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_err err;
    ob_conn *w = NULL;
    /* names the write lock that follows as the read log's, not a request's */
    ob_log(OB_LOG_DEBUG, "read log flush", "database", slug, NULL);
    entry *mine[OB_READLOG_TXN_MAX];
    int n = 0;
    for (entry **pp = batch; *pp && n < OB_READLOG_TXN_MAX;) {
        entry *e = *pp;
        if (strcmp(e->slug, slug) != 0) {
            pp = &e->next;
            continue;
        }
        *pp = e->next;
        mine[n++] = e;
    }
    ob_audit_ev ev[OB_READLOG_TXN_MAX];
    ob_ctx ctx[OB_READLOG_TXN_MAX];
    ob_principal who[OB_READLOG_TXN_MAX];
    ob_tenant_info ti = {.id = tenant_id, .slug = slug};
    for (int i = 0; i < n; i++) {
        entry *e = mine[i];
        who[i] = (ob_principal){.user_id = e->user_id, .session_id = e->session_id};
        ctx[i] = (ob_ctx){.arena = &a, .store = q.store, .tenant = &ti, .who = &who[i], .ip = e->ip,
                          .user_agent = e->user_agent, .request_id = e->request_id, .now_ms = e->now_ms};
        ob_ts_format(e->now_ms, ctx[i].now);
        ev[i] = (ob_audit_ev){.ctx = &ctx[i], .action = "read", .entity_type = e->etype, .entity_id = e->eid,
                              .user_id = e->user_id, .metadata_json = e->metadata};
    }
    int rc = ob_db_acquire(q.store, slug, tenant_id, OB_DB_WRITE, &w, &err);
    if (rc == 0) rc = ob_db_begin(w, &err);
    if (rc == 0) rc = ob_audit_events(w, ev, n, &err);
    if (rc == 0) rc = ob_db_commit(w, &err);
    if (w) ob_db_release(w); /* rolls back what did not commit */
    if (rc != 0) {
        atomic_fetch_add(&q.dropped, n);
        ob_log(OB_LOG_WARN, "read log: personal reads not audited", "tenant", slug, "error", err.message, NULL);
    }
    for (int i = 0; i < n; i++) free(mine[i]); /* after the write: the rows point into them */
    ob_arena_release(&a);
}

static void *flusher(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q.mu);
    for (;;) {
        if (!q.head && !q.stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            int64_t ns = until.tv_nsec + (int64_t)OB_READLOG_FLUSH_MS * 1000000;
            until.tv_sec += (time_t)(ns / 1000000000);
            until.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&q.cv, &q.mu, &until);
        }
        entry *batch = q.head;
        q.head = NULL;
        q.tail = &q.head;
        q.n = 0;
        bool stop = q.stop;
        pthread_mutex_unlock(&q.mu);
        /* tenant by tenant, each one's entries in the order they came */
        while (batch) {
            char slug[64], tid[64];
            snprintf(slug, sizeof slug, "%s", batch->slug);
            snprintf(tid, sizeof tid, "%s", batch->tenant_id ? batch->tenant_id : "");
            write_tenant(&batch, slug, tid[0] ? tid : NULL);
        }
        pthread_mutex_lock(&q.mu);
        if (stop && !q.head) break;
    }
    pthread_mutex_unlock(&q.mu);
    return NULL;
}

int ob_readlog_start(ob_store *s, ob_err *err)
{
    pthread_mutex_lock(&q.mu);
    q.store = s;
    q.head = NULL;
    q.tail = &q.head;
    q.n = 0;
    q.stop = false;
    int rc = pthread_create(&q.thread, NULL, flusher, NULL);
    q.running = rc == 0;
    pthread_mutex_unlock(&q.mu);
    return rc == 0 ? 0 : ob_err_set(err, OB_E_INTERNAL, "cannot start the read log");
}

void ob_readlog_stop(void)
{
    pthread_mutex_lock(&q.mu);
    if (!q.running) {
        pthread_mutex_unlock(&q.mu);
        return;
    }
    q.stop = true;
    pthread_cond_signal(&q.cv);
    pthread_mutex_unlock(&q.mu);
    pthread_join(q.thread, NULL);
    pthread_mutex_lock(&q.mu);
    q.running = false;
    pthread_mutex_unlock(&q.mu);
}
