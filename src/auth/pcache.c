/* pcache.c - principal cache: a small direct-mapped table under one mutex.
 * Each entry packs its strings into one malloc'd blob. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/pcache.h"
#include "base/base.h"
#include "schema/registry.h"
#include "base/banned.h"

#define SLOTS 1024
#define FIXED 9 /* tenant id, slug, name, plan, session id, user id, email, name, customer id */

typedef struct entry {
    char key[65];
    int64_t cached_ms, expires_ms;
    uint64_t epoch;
    int64_t ticket_limit, agent_limit, orders_month_limit;
    bool suspended;
    bool is_owner, enrol_only;
    unsigned nulls; /* bit i: fixed string i is NULL */
    int nroles, nperms;
    char *blob;     /* FIXED strings, then roles, then perms, each NUL-terminated */
    size_t len;
} entry;

static entry slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned slot_of(const char *hash)
{
    unsigned h = 2166136261u;
    for (int i = 0; i < 16; i++) h = (h ^ (unsigned char)hash[i]) * 16777619u;
    return h % SLOTS;
}

static void add(ob_sb *sb, const char *s)
{
    ob_sb_add(sb, s ? s : "", strlen(s ? s : "") + 1);
}

/* Next string of the blob copy. */
static const char *take(char **cur)
{
    char *s = *cur;
    *cur += strlen(s) + 1;
    return s;
}

/* Next fixed string i, NULL when it was NULL. */
static const char *take_fixed(char **cur, unsigned nulls, int i)
{
    const char *s = take(cur);
    return (nulls >> i) & 1u ? NULL : s;
}

bool ob_pcache_get(const char hash[65], ob_arena *a, int64_t now_ms, ob_tenant_info **ti, ob_principal **p)
{
    entry *e = &slots[slot_of(hash)];
    char *copy = NULL;
    entry snap;
    pthread_mutex_lock(&lock);
    bool hit = e->blob && strcmp(e->key, hash) == 0 && now_ms - e->cached_ms < OB_PCACHE_TTL_MS &&
               now_ms < e->expires_ms && e->epoch == ob_registry_auth_epoch();
    if (hit) {
        snap = *e;
        copy = ob_arena_alloc(a, e->len);
        memcpy(copy, e->blob, e->len);
    }
    pthread_mutex_unlock(&lock);
    if (!hit) return false;
    ob_tenant_info *t = ob_arena_zalloc(a, sizeof *t);
    ob_principal *q = ob_arena_zalloc(a, sizeof *q);
    char *cur = copy;
    unsigned n = snap.nulls;
    t->id = take_fixed(&cur, n, 0);
    t->slug = take_fixed(&cur, n, 1);
    t->name = take_fixed(&cur, n, 2);
    t->plan_code = take_fixed(&cur, n, 3);
    t->ticket_limit = snap.ticket_limit;
    t->suspended = snap.suspended;
    t->agent_limit = snap.agent_limit;
    t->orders_month_limit = snap.orders_month_limit;
    q->session_id = take_fixed(&cur, n, 4);
    q->user_id = take_fixed(&cur, n, 5);
    q->email = take_fixed(&cur, n, 6);
    q->name = take_fixed(&cur, n, 7);
    q->customer_id = take_fixed(&cur, n, 8);
    q->is_owner = snap.is_owner;
    q->enrol_only = snap.enrol_only;
    q->nroles = snap.nroles;
    q->nperms = snap.nperms;
    q->roles = ob_arena_alloc(a, sizeof(char *) * (size_t)(snap.nroles + 1));
    q->perms = ob_arena_alloc(a, sizeof(char *) * (size_t)(snap.nperms + 1));
    for (int i = 0; i < snap.nroles; i++) q->roles[i] = take(&cur);
    for (int i = 0; i < snap.nperms; i++) q->perms[i] = take(&cur);
    *ti = t;
    *p = q;
    return true;
}

void ob_pcache_put(const char hash[65], const ob_tenant_info *ti, const ob_principal *p, int64_t expires_ms,
                   int64_t now_ms, uint64_t epoch)
{
    ob_sb sb;
    ob_sb_init(&sb, 1024);
    const char *fixed[FIXED] = {ti->id, ti->slug, ti->name, ti->plan_code, p->session_id,
                                p->user_id, p->email, p->name, p->customer_id};
    unsigned nulls = 0;
    for (int i = 0; i < FIXED; i++) {
        add(&sb, fixed[i]);
        if (!fixed[i]) nulls |= 1u << i;
    }
    for (int i = 0; i < p->nroles; i++) add(&sb, p->roles[i]);
    for (int i = 0; i < p->nperms; i++) add(&sb, p->perms[i]);
    size_t len;
    char *blob = ob_sb_detach(&sb, &len);
    entry *e = &slots[slot_of(hash)];
    pthread_mutex_lock(&lock);
    char *old = e->blob;
    memcpy(e->key, hash, 65);
    e->cached_ms = now_ms;
    e->expires_ms = expires_ms;
    e->epoch = epoch;
    e->ticket_limit = ti->ticket_limit;
    e->agent_limit = ti->agent_limit;
    e->orders_month_limit = ti->orders_month_limit;
    e->suspended = ti->suspended;
    e->is_owner = p->is_owner;
    e->enrol_only = p->enrol_only;
    e->nulls = nulls;
    e->nroles = p->nroles;
    e->nperms = p->nperms;
    e->blob = blob;
    e->len = len;
    pthread_mutex_unlock(&lock);
    free(old);
}

void ob_pcache_drop(const char hash[65])
{
    entry *e = &slots[slot_of(hash)];
    char *old = NULL;
    pthread_mutex_lock(&lock);
    if (e->blob && strcmp(e->key, hash) == 0) {
        old = e->blob;
        e->blob = NULL;
    }
    pthread_mutex_unlock(&lock);
    free(old);
}

void ob_pcache_clear(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SLOTS; i++) {
        free(slots[i].blob);
        slots[i].blob = NULL;
    }
    pthread_mutex_unlock(&lock);
}
