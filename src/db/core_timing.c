/* core_timing.c - what statements cost: a count of every execution, the
 * slow-query log, and per-statement totals kept in memory (db.h).
 *
 * An execution is a statement's steps from the first to ob_stmt_done; its
 * duration is the time spent inside the engine's step. Statements are keyed
 * by their SQL text, which holds `?` placeholders and never the bound
 * values, so neither the log nor the totals carry a parameter. The totals
 * table is bounded (STATS_CAP texts): past it, executions of new texts are
 * added to one "(other statements)" row rather than growing memory. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "db/core.h"
#include "base/banned.h"

#define STATS_CAP 1024 /* power of two: the table is probed by hash */
#define OTHER "(other statements)"

typedef struct stat_slot {
    char *sql; /* malloc; NULL: empty */
    uint64_t hash;
    int64_t calls, total_us, max_us, rows;
} stat_slot;

static atomic_llong executed, slow;
static atomic_llong slow_ms = -1; /* -1: the slow-query log is off */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static stat_slot slots[STATS_CAP];
static int nslots;
static stat_slot other;

void ob_db_slow_query_ms(int64_t ms)
{
    atomic_store(&slow_ms, ms);
}

void ob_db_timing_counts(int64_t *statements, int64_t *slow_statements)
{
    *statements = atomic_load(&executed);
    *slow_statements = atomic_load(&slow);
}

static stat_slot *slot_of(const char *sql, uint64_t h)
{
    size_t i = h & (STATS_CAP - 1);
    for (size_t k = 0; k < STATS_CAP; k++, i = (i + 1) & (STATS_CAP - 1)) {
        stat_slot *s = &slots[i];
        if (s->sql && s->hash == h && strcmp(s->sql, sql) == 0)
            return s;
        if (!s->sql) {
            /* keep probes short: three-quarters full is full */
            if (nslots * 4 >= STATS_CAP * 3)
                return &other;
            s->sql = strdup(sql);
            if (!s->sql)
                return &other;
            s->hash = h;
            nslots++;
            return s;
        }
    }
    return &other;
}

void ob_db_core_timing_record(ob_db_stmt *p)
{
    const char *sql = p->cached ? p->sql : p->parent ? p->parent->sql : NULL;
    uint64_t h = p->cached ? p->hash : p->parent ? p->parent->hash : 0;
    atomic_fetch_add(&executed, 1);
    if (sql) {
        pthread_mutex_lock(&mu);
        stat_slot *s = slot_of(sql, h);
        s->calls++;
        s->total_us += p->run_us;
        s->rows += p->rows;
        if (p->run_us > s->max_us)
            s->max_us = p->run_us;
        pthread_mutex_unlock(&mu);
    }
    int64_t limit = atomic_load(&slow_ms);
    if (limit < 0 || p->run_us < limit * 1000)
        return;
    atomic_fetch_add(&slow, 1);
    char ms[32], rows[24];
    snprintf(ms, sizeof ms, "%.3f", (double)p->run_us / 1000);
    snprintf(rows, sizeof rows, "%lld", (long long)p->rows);
    ob_log(OB_LOG_WARN, "slow query", "engine", p->ops->engine == OB_DB_POSTGRES ? "postgres" : "sqlite", "tenant",
           p->conn && p->conn->slug[0] ? p->conn->slug : "(control)", "sql", sql ? sql : "?", "duration_ms", ms,
           "rows", rows, NULL);
}

static int by_total(const void *a, const void *b)
{
    const ob_db_stmt_stat *x = a, *y = b;
    return x->total_us < y->total_us ? 1 : x->total_us > y->total_us ? -1 : 0;
}

int ob_db_stmt_stats_top(ob_db_stmt_stat *out, int max)
{
    if (max <= 0)
        return 0;
    ob_db_stmt_stat *all = malloc(sizeof *all * (STATS_CAP + 1));
    if (!all)
        return 0;
    int n = 0;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < STATS_CAP + 1; i++) {
        const stat_slot *s = i < STATS_CAP ? &slots[i] : &other;
        if (i < STATS_CAP ? !s->sql : !s->calls)
            continue;
        ob_db_stmt_stat *o = &all[n++];
        snprintf(o->sql, sizeof o->sql, "%s", i < STATS_CAP ? s->sql : OTHER);
        o->calls = s->calls;
        o->total_us = s->total_us;
        o->max_us = s->max_us;
        o->rows = s->rows;
    }
    pthread_mutex_unlock(&mu);
    qsort(all, (size_t)n, sizeof *all, by_total);
    if (n > max)
        n = max;
    memcpy(out, all, sizeof *out * (size_t)n);
    free(all);
    return n;
}

void ob_db_timing_reset(void)
{
    pthread_mutex_lock(&mu);
    for (int i = 0; i < STATS_CAP; i++)
        free(slots[i].sql);
    memset(slots, 0, sizeof slots);
    memset(&other, 0, sizeof other);
    nslots = 0;
    pthread_mutex_unlock(&mu);
    atomic_store(&executed, 0);
    atomic_store(&slow, 0);
}
