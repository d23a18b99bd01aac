/* metrics.c - request counters and latency histograms (see metrics.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "base/clock.h"
#include "ops/metrics.h"
#include "base/banned.h"

#define NB 14 /* histogram buckets, the last is +Inf */
static const double bucket_s[NB - 1] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5};

typedef struct entry {
    bool used;
    char method[8];
    char route[96];
    uint64_t by_class[5]; /* 1xx .. 5xx */
    uint64_t buckets[NB];
    uint64_t count, sum_us;
} entry;

typedef struct tenant_count {
    bool used;
    char slug[64];
    uint64_t n;
} tenant_count;

/* Label values are templates, known methods and slugs; anything else is
 * made safe for the text format rather than trusted. */
static void label_copy(char *dst, size_t n, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++) {
        char ch = src[i];
        dst[i] = (ch == '"' || ch == '\\' || (unsigned char)ch < 0x20) ? '_' : ch;
    }
    dst[i] = '\0';
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static entry entries[OB_METRICS_MAX_SERIES / 4]; /* each entry renders about 4 + NB series */
static int nentries;
static tenant_count tenants[OB_METRICS_MAX_TENANTS];
static atomic_long inflight;
static int64_t started_ms;

static uint64_t fnv(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = a; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '|') * 1099511628211ULL;
    for (const char *p = b; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

/* The entry of method and route, made when absent; the "other" route once
 * the table is three-quarters full, so probing stays short. */
static entry *entry_of(const char *method, const char *route)
{
    const size_t cap = OB_ARRAY_LEN(entries);
    for (int pass = 0; pass < 2; pass++) {
        size_t i = fnv(method, route) % cap;
        for (size_t k = 0; k < cap; k++, i = (i + 1) % cap) {
            entry *e = &entries[i];
            if (e->used && strcmp(e->method, method) == 0 && strcmp(e->route, route) == 0) return e;
            if (!e->used) {
                if ((size_t)nentries * 4 >= cap * 3 && pass == 0) break;
                e->used = true;
                label_copy(e->method, sizeof e->method, method);
                label_copy(e->route, sizeof e->route, route);
                nentries++;
                return e;
            }
        }
        route = "other";
    }
    return NULL;
}

static void count_tenant(const char *slug)
{
    const size_t cap = OB_ARRAY_LEN(tenants);
    size_t i = fnv(slug, "") % cap;
    for (size_t k = 0; k < cap / 2; k++, i = (i + 1) % cap) {
        tenant_count *t = &tenants[i];
        if (t->used && strcmp(t->slug, slug) == 0) {
            t->n++;
            return;
        }
        if (!t->used) {
            t->used = true;
            label_copy(t->slug, sizeof t->slug, slug);
            t->n = 1;
            return;
        }
    }
}

void ob_metrics_request(const char *method, const char *route, int status, const char *tenant, int64_t dur_us)
{
    int cls = status / 100 - 1;
    if (cls < 0 || cls > 4) cls = 4;
    double s = (double)dur_us / 1e6;
    int b = 0;
    while (b < NB - 1 && s > bucket_s[b]) b++;
    pthread_mutex_lock(&mu);
    if (!started_ms) started_ms = ob_now_ms();
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    const char *m = "OTHER";
    for (size_t i = 0; method && i < OB_ARRAY_LEN(known); i++)
        if (strcmp(method, known[i]) == 0) m = known[i];
    entry *e = entry_of(m, route ? route : "unmatched");
    if (e) {
        e->by_class[cls]++;
        e->buckets[b]++;
        e->count++;
        e->sum_us += dur_us > 0 ? (uint64_t)dur_us : 0;
    }
    if (tenant && *tenant) count_tenant(tenant);
    pthread_mutex_unlock(&mu);
}

void ob_metrics_inflight(int delta)
{
    atomic_fetch_add(&inflight, delta);
}

static int64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

static int cmp_tenants(const void *a, const void *b)
{
    const tenant_count *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->slug, y->slug);
}

static void head(ob_sb *o, const char *name, const char *type, const char *help)
{
    ob_sb_addf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(ob_sb *o, const char *name, const char *type, const char *help, const char *labels, double v)
{
    head(o, name, type, help);
    ob_sb_addf(o, "%s%s %.17g\n", name, labels, v);
}

static void render_gauges(ob_sb *o, const ob_metrics_gauges *g)
{
    char eng[48];
    snprintf(eng, sizeof eng, "{engine=\"%s\"}", g->engine ? g->engine : "unknown");
    if (g->tenants >= 0) gauge(o, "opsbase_tenants", "gauge", "Tenants in the control database.", "", (double)g->tenants);
    if (g->http_connections >= 0)
        gauge(o, "opsbase_http_connections_open", "gauge", "Client connections open.", "", (double)g->http_connections);
    if (g->db_conns_open >= 0) {
        gauge(o, "opsbase_db_connections_open", "gauge", "Database connections held open (in use or idle), by engine.",
              eng, (double)g->db_conns_open);
        gauge(o, "opsbase_db_connections_idle", "gauge", "Of the open database connections, those idle in the pool.",
              eng, (double)g->db_conns_idle);
        gauge(o, "opsbase_db_pool_memory_bytes", "gauge", "Memory the open database connections hold, as last measured.",
              eng, (double)g->db_bytes);
        gauge(o, "opsbase_db_connections_opened_total", "counter", "Database connections opened by the pool.", eng,
              (double)g->db_opens);
        gauge(o, "opsbase_db_connections_evicted_total", "counter",
              "Idle database connections closed to keep within the memory budget.", eng, (double)g->db_evictions);
        gauge(o, "opsbase_db_statements_total", "counter", "Database statements executed, by engine.", eng,
              (double)g->db_statements);
        gauge(o, "opsbase_db_slow_statements_total", "counter",
              "Database statements at least --slow-query-ms slow (each logged once), by engine.", eng,
              (double)g->db_slow_statements);
        gauge(o, "opsbase_tenants_open", "gauge", "Tenant databases with a connection open.", "",
              (double)g->tenants_open);
    }
    if (g->rate_counter_writes >= 0)
        gauge(o, "opsbase_rate_limit_writes_total", "counter",
              "Writes of the tenants' shared rate-limit counters (each claims several requests' budget).", "",
              (double)g->rate_counter_writes);
    gauge(o, "opsbase_jobs_queued", "gauge",
          "Background jobs waiting, over every tenant counted (each as of the job sweep's last visit).", "",
          (double)g->jobs_queued);
    gauge(o, "opsbase_jobs_due", "gauge", "Of the waiting jobs, those whose run_at has come.", "", (double)g->jobs_due);
    gauge(o, "opsbase_jobs_dead", "gauge", "Background jobs that exhausted their attempts (dead letters).", "",
          (double)g->jobs_dead);
    gauge(o, "opsbase_jobs_oldest_due_age_seconds", "gauge", "How long the oldest due job has waited (0: none).", "",
          g->jobs_oldest_due_s);
    gauge(o, "opsbase_jobs_tenants_counted", "gauge", "Tenants whose job queue the job figures include.", "",
          (double)g->jobs_tenants_counted);
    gauge(o, "opsbase_jobs_swept", "gauge",
          "1 once a whole pass of the job sweep has counted every tenant since start, else 0.", "",
          g->jobs_swept ? 1 : 0);
}

void ob_metrics_render(ob_sb *o, const ob_metrics_gauges *g)
{
    static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    pthread_mutex_lock(&mu);
    size_t cap = OB_ARRAY_LEN(entries);
    entry *snap = malloc(sizeof entries);
    tenant_count *top = malloc(sizeof tenants);
    if (!snap || !top) abort();
    memcpy(snap, entries, sizeof entries);
    memcpy(top, tenants, sizeof tenants);
    int64_t since = started_ms ? started_ms : ob_now_ms();
    pthread_mutex_unlock(&mu);

    head(o, "opsbase_http_requests_total", "counter", "Requests answered, by method, route template and status class.");
    for (size_t i = 0; i < cap; i++)
        for (int c = 0; snap[i].used && c < 5; c++)
            if (snap[i].by_class[c])
                ob_sb_addf(o, "opsbase_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} %llu\n",
                           snap[i].method, snap[i].route, classes[c], (unsigned long long)snap[i].by_class[c]);
    head(o, "opsbase_http_request_duration_seconds", "histogram", "Time to answer a request, by method and route.");
    for (size_t i = 0; i < cap; i++) {
        if (!snap[i].used) continue;
        uint64_t cum = 0;
        for (int b = 0; b < NB; b++) {
            cum += snap[i].buckets[b];
            char le[16];
            if (b < NB - 1) snprintf(le, sizeof le, "%g", bucket_s[b]);
            else snprintf(le, sizeof le, "+Inf");
            ob_sb_addf(o, "opsbase_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%s\"} %llu\n",
                       snap[i].method, snap[i].route, le, (unsigned long long)cum);
        }
        ob_sb_addf(o, "opsbase_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n", snap[i].method,
                   snap[i].route, (double)snap[i].sum_us / 1e6);
        ob_sb_addf(o, "opsbase_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n", snap[i].method,
                   snap[i].route, (unsigned long long)snap[i].count);
    }
    head(o, "opsbase_http_requests_in_flight", "gauge", "Requests being answered now.");
    ob_sb_addf(o, "opsbase_http_requests_in_flight %ld\n", (long)atomic_load(&inflight));

    qsort(top, OB_ARRAY_LEN(tenants), sizeof *top, cmp_tenants);
    head(o, "opsbase_tenant_requests_total", "counter",
         "Requests of the busiest tenants (the ten with the most).");
    for (int i = 0; i < OB_METRICS_TOP_TENANTS && top[i].used && top[i].n; i++)
        ob_sb_addf(o, "opsbase_tenant_requests_total{tenant=\"%s\"} %llu\n", top[i].slug, (unsigned long long)top[i].n);
    free(snap);
    free(top);

    if (g) render_gauges(o, g);
    head(o, "opsbase_process_resident_memory_bytes", "gauge", "Resident memory of the process.");
    ob_sb_addf(o, "opsbase_process_resident_memory_bytes %lld\n", (long long)rss_bytes());
    head(o, "opsbase_process_start_time_seconds", "gauge", "When metrics started being recorded (Unix time).");
    ob_sb_addf(o, "opsbase_process_start_time_seconds %.3f\n", (double)since / 1000);
}

void ob_metrics_reset(void)
{
    pthread_mutex_lock(&mu);
    memset(entries, 0, sizeof entries);
    memset(tenants, 0, sizeof tenants);
    nentries = 0;
    started_ms = 0;
    pthread_mutex_unlock(&mu);
    atomic_store(&inflight, 0);
}
