/* ratelimit.c - token buckets in a chained hash table under striped locks
 * (ratelimit.h). Levels are integers: one request is UNIT, and a class of
 * R requests a minute refills R units a millisecond, so there is no
 * rounding drift and no floating point. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/ratelimit.h"
#include "base/base.h"
#include "base/banned.h"

#define UNIT 60000 /* milliseconds in a minute */
#define CHAINS 4096
#define STRIPES 64

typedef struct bucket {
    struct bucket *next;
    int64_t level;   /* units; the capacity is per_minute * UNIT */
    int64_t last_ms; /* when level was computed */
    ob_rate_class c;
    char key[];
} bucket;

struct ob_ratelimit {
    int64_t per_minute[OB_RATE__COUNT];
    bucket *chains[CHAINS];
    pthread_mutex_t locks[STRIPES];
};

ob_ratelimit *ob_ratelimit_new(const int64_t per_minute[OB_RATE__COUNT])
{
    ob_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl) return NULL;
    memcpy(rl->per_minute, per_minute, sizeof rl->per_minute);
    for (int i = 0; i < STRIPES; i++) pthread_mutex_init(&rl->locks[i], NULL);
    return rl;
}

void ob_ratelimit_free(ob_ratelimit *rl)
{
    if (!rl) return;
    for (int i = 0; i < CHAINS; i++)
        for (bucket *b = rl->chains[i], *next; b; b = next) {
            next = b->next;
            free(b);
        }
    for (int i = 0; i < STRIPES; i++) pthread_mutex_destroy(&rl->locks[i]);
    free(rl);
}

static unsigned chain_of(ob_rate_class c, const char *key)
{
    unsigned h = 2166136261u ^ (unsigned)c;
    for (; *key; key++) h = (h ^ (unsigned char)*key) * 16777619u;
    return h % CHAINS;
}

/* The level of b at now: refilled since last_ms, at most the capacity. */
static int64_t level_at(const ob_ratelimit *rl, const bucket *b, int64_t now_ms)
{
    int64_t rate = rl->per_minute[b->c], cap = rate * UNIT;
    int64_t dt = now_ms > b->last_ms ? now_ms - b->last_ms : 0;
    if (dt >= UNIT) return cap; /* a whole minute refills any bucket; no overflow */
    int64_t v = b->level + dt * rate;
    return v < cap ? v : cap;
}

bool ob_ratelimit_take(ob_ratelimit *rl, ob_rate_class c, const char *key, int64_t now_ms, int64_t *retry_after_s)
{
    *retry_after_s = 0;
    if (!rl || c <= OB_RATE_NONE || c >= OB_RATE__COUNT || rl->per_minute[c] <= 0) return true;
    int64_t rate = rl->per_minute[c], cap = rate * UNIT;
    unsigned ch = chain_of(c, key);
    pthread_mutex_t *lock = &rl->locks[ch % STRIPES];
    pthread_mutex_lock(lock);
    bucket *found = NULL;
    /* find the caller's bucket, forgetting full ones on the way: they hold
     * nothing a new bucket would not */
    for (bucket **pp = &rl->chains[ch]; *pp;) {
        bucket *b = *pp;
        if (b->c == c && !strcmp(b->key, key)) {
            found = b;
            pp = &b->next;
        } else if (level_at(rl, b, now_ms) >= rl->per_minute[b->c] * UNIT) {
            *pp = b->next;
            free(b);
        } else {
            pp = &b->next;
        }
    }
    if (!found) {
        size_t n = strlen(key) + 1;
        found = malloc(sizeof *found + n);
        if (!found) {
            pthread_mutex_unlock(lock);
            return true; /* out of memory: fail open rather than refuse everyone */
        }
        memcpy(found->key, key, n);
        found->c = c;
        found->level = cap;
        found->last_ms = now_ms;
        found->next = rl->chains[ch];
        rl->chains[ch] = found;
    }
    int64_t level = level_at(rl, found, now_ms);
    found->last_ms = now_ms > found->last_ms ? now_ms : found->last_ms;
    bool ok = level >= UNIT;
    if (ok) level -= UNIT;
    found->level = level;
    pthread_mutex_unlock(lock);
    if (!ok) {
        int64_t wait_ms = (UNIT - level + rate - 1) / rate;
        *retry_after_s = (wait_ms + 999) / 1000;
        if (*retry_after_s < 1) *retry_after_s = 1;
    }
    return ok;
}
