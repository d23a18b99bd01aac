/* stats.c - seed 000's monitoring queries (stats.h).
 *
 * Statements: on PostgreSQL, pg_stat_statements when the extension is
 * installed in the database (the whole server's view); else, and on SQLite,
 * this process's own per-statement totals (db.h ob_db_stmt_stats_top), kept
 * since it started. Table sizes: SQLite's dbstat table (bytes of each table's
 * b-tree) and PostgreSQL's pg_total_relation_size (with indexes and TOAST).
 * Rows: on SQLite counted exactly (COUNT(*)), in one statement per tenant on
 * a read connection; on PostgreSQL the statistics' live-row estimates
 * (pg_stat_user_tables.n_live_tup, as seed 000's query reads the optimiser's
 * num_rows), one catalog query per tenant: exact counts of a hundred schemas
 * of a hundred tables each took longer than a client waits. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/clock.h"
#include "ops/metrics.h"
#include "ops/stats.h"
#include "platform/tenants.h"
#include "schema/registry.h"
#include "base/banned.h"

typedef struct table_fig {
    const char *name;
    int64_t rows, bytes; /* bytes -1: unknown */
} table_fig;

typedef struct tenant_fig {
    const char *slug;
    int64_t rows, bytes;
    table_fig top[OB_STATS_TOP_TABLES];
    int ntop;
} tenant_fig;

/* PostgreSQL's own view of the server's statements; 0 when it answered,
 * -1 when the extension is not there (the caller falls back). */
static int pg_statements(ob_store *s, ob_jsonw *w)
{
    ob_err err;
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, &err) != 0) return -1;
    ob_stmt *st;
    int rc = -1;
    /* the view exists only where CREATE EXTENSION ran; ask the catalogue first
     * so a missing one is not an error in the server's log */
    if (ob_db_prepare(c, "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'", &st, &err) == 0) {
        bool have = ob_stmt_step(st, &err) == 1;
        ob_stmt_done(st);
        if (have &&
            ob_db_prepare(c,
                          "SELECT query, calls, total_exec_time, max_exec_time, rows FROM pg_stat_statements "
                          "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                          "ORDER BY total_exec_time DESC LIMIT 20",
                          &st, &err) == 0) {
            ob_jw_kstr(w, "source", "pg_stat_statements");
            ob_jw_key(w, "top");
            ob_jw_arr_open(w);
            while (ob_stmt_step(st, &err) == 1) {
                int64_t calls = ob_stmt_col_i64(st, 1);
                double total = ob_stmt_col_f64(st, 2);
                ob_jw_obj_open(w);
                ob_jw_kstr(w, "sql", ob_stmt_col_text(st, 0, NULL));
                ob_jw_ki64(w, "calls", calls);
                ob_jw_key(w, "total_ms");
                ob_jw_f64(w, total);
                ob_jw_key(w, "mean_ms");
                ob_jw_f64(w, calls ? total / (double)calls : 0);
                ob_jw_key(w, "max_ms");
                ob_jw_f64(w, ob_stmt_col_f64(st, 3));
                ob_jw_ki64(w, "rows", ob_stmt_col_i64(st, 4));
                ob_jw_obj_close(w);
            }
            ob_jw_arr_close(w);
            ob_stmt_done(st);
            rc = 0;
        }
    }
    ob_db_release(c);
    return rc;
}

static void own_statements(ob_jsonw *w)
{
    ob_db_stmt_stat *top = malloc(sizeof *top * OB_STATS_TOP_STATEMENTS);
    int n = top ? ob_db_stmt_stats_top(top, OB_STATS_TOP_STATEMENTS) : 0;
    ob_jw_kstr(w, "source", "opsbase");
    ob_jw_key(w, "top");
    ob_jw_arr_open(w);
    for (int i = 0; i < n; i++) {
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "sql", top[i].sql);
        ob_jw_ki64(w, "calls", top[i].calls);
        ob_jw_key(w, "total_ms");
        ob_jw_f64(w, (double)top[i].total_us / 1000);
        ob_jw_key(w, "mean_ms");
        ob_jw_f64(w, top[i].calls ? (double)top[i].total_us / 1000 / (double)top[i].calls : 0);
        ob_jw_key(w, "max_ms");
        ob_jw_f64(w, (double)top[i].max_us / 1000);
        ob_jw_ki64(w, "rows", top[i].rows);
        ob_jw_obj_close(w);
    }
    ob_jw_arr_close(w);
    free(top);
}

static int by_rows(const void *a, const void *b)
{
    const table_fig *x = a, *y = b;
    return x->rows < y->rows ? 1 : x->rows > y->rows ? -1 : strcmp(x->name, y->name);
}

static int by_size(const void *a, const void *b)
{
    const tenant_fig *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    if (x->rows != y->rows) return x->rows < y->rows ? 1 : -1;
    return strcmp(x->slug, y->slug);
}

/* Bytes of each of the tenant's tables, by name, into figs (left -1 where
 * the engine cannot tell: a SQLite built without dbstat). */
static void table_bytes(ob_conn *c, table_fig *figs, int n)
{
    ob_err err;
    ob_stmt *st;
    const char *sql = ob_conn_engine(c) == OB_DB_POSTGRES
                          ? "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
                          : "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name";
    if (ob_db_prepare(c, sql, &st, &err) != 0) return;
    while (ob_stmt_step(st, &err) == 1) {
        const char *name = ob_stmt_col_text(st, 0, NULL);
        for (int i = 0; name && i < n; i++)
            if (strcmp(figs[i].name, name) == 0) figs[i].bytes = ob_stmt_col_i64(st, 1);
    }
    ob_stmt_done(st);
}

/* A tenant's totals and its largest tables from its tables' figures. */
static void sum_tenant(tenant_fig *out, table_fig *figs, int n)
{
    for (int i = 0; i < n; i++) {
        out->rows += figs[i].rows;
        if (figs[i].bytes >= 0) out->bytes = (out->bytes < 0 ? 0 : out->bytes) + figs[i].bytes;
    }
    qsort(figs, (size_t)n, sizeof *figs, by_rows);
    out->ntop = n < OB_STATS_TOP_TABLES ? n : OB_STATS_TOP_TABLES;
    memcpy(out->top, figs, sizeof *figs * (size_t)out->ntop);
}

/* PostgreSQL: every table of the tenant's schema with its live-row estimate
 * and its size, from the statistics views (no table is scanned). */
static int pg_table_figures(ob_conn *c, ob_arena *a, table_fig *figs, int cap)
{
    ob_err err;
    ob_stmt *st;
    int n = 0;
    if (ob_db_prepare(c,
                      "SELECT relname, n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables "
                      "WHERE schemaname = current_schema()",
                      &st, &err) != 0)
        return 0;
    while (n < cap && ob_stmt_step(st, &err) == 1) {
        const char *name = ob_stmt_col_text(st, 0, NULL);
        if (!name || !ob_registry_find(name)) continue; /* only the declared tables */
        figs[n++] = (table_fig){ob_arena_strdup(a, name), ob_stmt_col_i64(st, 1), ob_stmt_col_i64(st, 2)};
    }
    ob_stmt_done(st);
    return n;
}

static void tenant_figures(ob_store *s, ob_arena *a, const char *slug, tenant_fig *out)
{
    memset(out, 0, sizeof *out);
    out->slug = slug;
    out->bytes = -1;
    ob_err err;
    ob_tenant_info *info;
    ob_conn *c;
    if (ob_tenant_open(s, a, slug, OB_DB_READ, &info, &c, &err) != 0) return; /* suspended or gone */
    int n = 0, cap = ob_registry_count();
    table_fig *figs = ob_arena_alloc(a, sizeof *figs * (size_t)(cap ? cap : 1));
    if (ob_conn_engine(c) == OB_DB_POSTGRES) {
        n = pg_table_figures(c, a, figs, cap);
        ob_db_release(c);
        sum_tenant(out, figs, n);
        return;
    }
    /* every table's count in one statement: one round trip per tenant, not
     * one per table (PostgreSQL over a network, and the scan's total time) */
    ob_sb sql;
    ob_sb_init_arena(&sql, a, 8192);
    for (int i = 0; i < cap; i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope != OB_SCOPE_TENANT) continue;
        ob_sb_addf(&sql, "%sSELECT %d, COUNT(*) FROM \"%s\"", sql.len ? " UNION ALL " : "", i, t->name);
    }
    ob_stmt *st;
    if (sql.len && ob_db_prepare(c, sql.buf, &st, &err) == 0) {
        while (n < cap && ob_stmt_step(st, &err) == 1) {
            int64_t i = ob_stmt_col_i64(st, 0);
            if (i < 0 || i >= cap) continue;
            figs[n++] = (table_fig){ob_registry_at((int)i)->name, ob_stmt_col_i64(st, 1), -1};
        }
        ob_stmt_done(st);
    }
    table_bytes(c, figs, n);
    ob_db_release(c);
    sum_tenant(out, figs, n);
}

static void write_tenants(ob_store *s, ob_arena *a, const ob_slugs *l, ob_jsonw *w)
{
    int cap = l->n < OB_STATS_SCAN_TENANTS ? l->n : OB_STATS_SCAN_TENANTS;
    tenant_fig *figs = ob_arena_alloc(a, sizeof *figs * (size_t)(cap ? cap : 1));
    /* bounded in time too: a busy server of many schemas (or a sanitizer
     * build) must still answer before its client gives up */
    int64_t t0 = ob_mono_us();
    int scan = 0;
    while (scan < cap && (scan == 0 || ob_mono_us() - t0 < OB_STATS_SCAN_MS * 1000LL)) {
        tenant_figures(s, a, l->v[scan], &figs[scan]);
        scan++;
    }
    qsort(figs, (size_t)scan, sizeof *figs, by_size);
    ob_jw_ki64(w, "tenants_total", l->n);
    ob_jw_ki64(w, "tenants_scanned", scan);
    ob_jw_key(w, "tenants");
    ob_jw_arr_open(w);
    for (int i = 0; i < scan && i < OB_STATS_TOP_TENANTS; i++) {
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "tenant", figs[i].slug);
        ob_jw_ki64(w, "rows", figs[i].rows);
        if (figs[i].bytes >= 0) ob_jw_ki64(w, "bytes", figs[i].bytes);
        else ob_jw_knull(w, "bytes");
        ob_jw_key(w, "tables");
        ob_jw_arr_open(w);
        for (int k = 0; k < figs[i].ntop; k++) {
            ob_jw_obj_open(w);
            ob_jw_kstr(w, "table", figs[i].top[k].name);
            ob_jw_ki64(w, "rows", figs[i].top[k].rows);
            if (figs[i].top[k].bytes >= 0) ob_jw_ki64(w, "bytes", figs[i].top[k].bytes);
            else ob_jw_knull(w, "bytes");
            ob_jw_obj_close(w);
        }
        ob_jw_arr_close(w);
        ob_jw_obj_close(w);
    }
    ob_jw_arr_close(w);
}

/* The pool's figures, and on PostgreSQL the server's sessions on this database. */
static void write_connections(ob_store *s, ob_jsonw *w)
{
    ob_store_stats ps;
    ob_store_stats_get(s, &ps);
    ob_jw_key(w, "connections");
    ob_jw_obj_open(w);
    ob_jw_ki64(w, "open", ps.conns_open);
    ob_jw_ki64(w, "idle", ps.conns_idle);
    ob_jw_ki64(w, "tenants_open", ps.tenants_open);
    ob_jw_ki64(w, "opened_total", ps.opens);
    ob_jw_ki64(w, "evicted_total", ps.evictions);
    if (ob_store_engine(s) == OB_DB_POSTGRES) {
        ob_err err;
        ob_conn *c;
        int64_t n = -1;
        if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, &err) == 0) {
            ob_stmt *st;
            if (ob_db_prepare(c, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()", &st,
                              &err) == 0) {
                if (ob_stmt_step(st, &err) == 1) n = ob_stmt_col_i64(st, 0);
                ob_stmt_done(st);
            }
            ob_db_release(c);
        }
        ob_jw_ki64(w, "server_sessions", n);
    }
    ob_jw_obj_close(w);
}

int ob_stats_write(ob_store *s, ob_arena *a, ob_jsonw *w, ob_err *err)
{
    ob_slugs l = {0};
    if (ob_tenant_slugs_of(s, a, NULL, &l, err) != 0) return -1;
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "engine", ob_store_engine(s) == OB_DB_POSTGRES ? "postgres" : "sqlite");
    ob_jw_key(w, "statements");
    ob_jw_obj_open(w);
    if (ob_store_engine(s) != OB_DB_POSTGRES || pg_statements(s, w) != 0) own_statements(w);
    int64_t executed, slow;
    ob_db_timing_counts(&executed, &slow);
    ob_jw_ki64(w, "executed_total", executed);
    ob_jw_ki64(w, "slow_total", slow);
    ob_jw_obj_close(w);
    write_tenants(s, a, &l, w);
    write_connections(s, w);
    ob_metrics_jobs_figures j;
    ob_metrics_jobs(&j);
    ob_jw_key(w, "jobs");
    ob_jw_obj_open(w);
    ob_jw_ki64(w, "queued", j.queued);
    ob_jw_ki64(w, "due", j.due);
    ob_jw_key(w, "oldest_due_age_s");
    ob_jw_f64(w, j.oldest_due_s);
    ob_jw_ki64(w, "tenants_counted", j.tenants_counted);
    ob_jw_kbool(w, "swept", j.swept);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    return 0;
}
