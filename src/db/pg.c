/* pg.c - the store for PostgreSQL: opening, tenant schemas (create, drop,
 * list): the store half of the driver. Connections are in pg_conn.c, statements
 * in pg_stmt.c; pooling and write locks are the core's (core_pool.c);
 * pg_int.h explains the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/pg_int.h"
#include "base/banned.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000

/* --------------------------------------------------------------- store */

int ob_pg_store_open(ob_store **out, const ob_store_opts *opts, ob_err *err)
{
    *out = NULL;
    const char *sync = opts->synchronous && *opts->synchronous ? opts->synchronous : "full";
    if (strcasecmp(sync, "full") && strcasecmp(sync, "normal") && strcasecmp(sync, "off") &&
        strcasecmp(sync, "extra"))
        return ob_db_err(err, OB_E_BAD_REQUEST, "unknown synchronous mode '%s'", sync);
    ob_store *s = ob_db_xcalloc(1, sizeof *s);
    /* no memory budget: the driver bounds idle connections by count */
    ob_db_core_init(s, &ob_pg_ops,
                    opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : DEFAULT_BUSY_TIMEOUT_MS, 0);
    s->url = ob_db_xstrdup(opts->url);
    ob_pg_place_init(s);
    for (size_t i = 0; sync[i] && i + 1 < sizeof s->sync_name; i++)
        s->sync_name[i] = (char)(sync[i] | 0x20);
    /* Prove the server answers before anyone relies on it. */
    ob_conn *c;
    if (ob_db_core_acquire(s, "", NULL, OB_DB_READ, &c, err)) {
        ob_db_core_free(s);
        ob_pg_place_free(s);
        free(s->url);
        free(s);
        return -1;
    }
    ob_db_core_release(c);
    *out = s;
    return 0;
}

void ob_pg_store_close(ob_store *s)
{
    ob_db_core_free(s);
    ob_pg_place_free(s);
    free(s->url);
    free(s);
}

/* Run one DDL command on the server of slug's placement (db.c holds the
 * tenant's write lock, so it never overlaps a write to that tenant in this
 * process): a control connection on the main server, else a session of its
 * own on the tenant's. */
static int tenant_ddl(ob_store *s, const char *slug, const char *sql, ob_err *err, const char **state_out)
{
    char *url = NULL;
    bool moving;
    if (ob_pg_place_get(s, slug, true, &url, &moving, err))
        return -1;
    ob_conn *c = NULL;
    int rc;
    if (url) {
        c = ob_db_xcalloc(1, sizeof *c);
        c->pg = ob_pg_connect(s, url, err);
        rc = c->pg ? 0 : -1;
    } else {
        rc = ob_db_core_acquire(s, "", NULL, OB_DB_READ, &c, err);
    }
    if (rc == 0) {
        PGresult *res = PQexec(c->pg, sql);
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
            const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
            *state_out = state && strcmp(state, "42P06") == 0   ? "exists"
                         : state && strcmp(state, "3F000") == 0 ? "missing"
                                                                : NULL;
            rc = ob_pg_fail(c, res, err);
        }
        PQclear(res);
        if (!url)
            ob_db_core_release(c);
    }
    if (url) {
        if (c->pg)
            PQfinish(c->pg);
        free(c);
    }
    free(url);
    return rc;
}

/* A dropped tenant has no placement: a tenant made later under its slug
 * starts on the main server. (A control database not yet migrated has no
 * such table.) */
static int forget_placement(ob_store *s, const char *slug, ob_err *err)
{
    ob_conn *c;
    if (ob_db_core_acquire(s, "", NULL, OB_DB_READ, &c, err))
        return -1;
    const char *params[1] = { slug };
    PGresult *res = PQexecParams(c->pg,
                                 "DELETE FROM public.tenant_placements WHERE tenant = $1",
                                 1, NULL, params, NULL, NULL, 0);
    int rc = 0;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if ((!res || PQresultStatus(res) != PGRES_COMMAND_OK) && !(state && strcmp(state, "42P01") == 0))
        rc = ob_pg_fail(c, res, err);
    PQclear(res);
    ob_db_core_release(c);
    ob_pg_place_invalidate(s);
    return rc;
}

/* db.c has checked the slug of create and drop. */
int ob_pg_create_tenant(ob_store *s, const char *slug, ob_err *err)
{
    char schema[OB_PG_SCHEMA_MAX], sql[128];
    ob_pg_schema_name(slug, schema);
    snprintf(sql, sizeof sql, "CREATE SCHEMA \"%s\"", schema);
    const char *state = NULL;
    if (tenant_ddl(s, slug, sql, err, &state) == 0)
        return 0;
    if (state && strcmp(state, "exists") == 0)
        ob_db_err(err, OB_E_CONFLICT, "tenant '%s' exists", slug);
    return -1;
}

int ob_pg_drop_tenant(ob_store *s, const char *slug, ob_err *err)
{
    char schema[OB_PG_SCHEMA_MAX], sql[128];
    ob_pg_schema_name(slug, schema);
    snprintf(sql, sizeof sql, "DROP SCHEMA \"%s\" CASCADE", schema);
    const char *state = NULL;
    if (tenant_ddl(s, slug, sql, err, &state) == 0)
        return forget_placement(s, slug, err);
    if (state && strcmp(state, "missing") == 0)
        ob_db_err(err, OB_E_NOT_FOUND, "no tenant '%s'", slug);
    return -1;
}

bool ob_pg_tenant_exists(ob_store *s, const char *slug)
{
    if (!ob_db_slug_valid(slug))
        return false;
    ob_conn *c;
    ob_err err;
    if (ob_db_core_acquire(s, slug, NULL, OB_DB_READ, &c, &err))
        return false;
    /* The acquire may have skipped its existence check (pg_conn.c attached:
     * a pooled connection already on this schema), and a drop by another
     * process leaves such a connection's path naming nothing: ask. */
    PGresult *res = PQexec(c->pg, "SELECT current_schema() IS NOT NULL");
    bool exists = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                  strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (!exists)
        c->schema[0] = '\0'; /* checked again on its next acquire */
    PQclear(res);
    ob_db_core_release(c);
    return exists;
}

/* The tenant's schema version, read on a pooled read connection (no write
 * lock, no migration), so that serve's first-use check of a current tenant
 * costs one query. -1 when it cannot be read: the caller then takes the full
 * path, which reports the problem. */
int ob_pg_peek_version(ob_store *s, const char *slug, int *version, ob_err *err)
{
    (void)err;
    *version = -1;
    ob_conn *c;
    ob_err ignored;
    if (!ob_db_slug_valid(slug) || ob_db_core_acquire(s, slug, NULL, OB_DB_READ, &c, &ignored))
        return 0;
    PGresult *res = PQexec(c->pg, "SELECT MAX(version) FROM schema_migrations");
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        *version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10); /* digits: PostgreSQL's integer */
    PQclear(res);
    ob_db_core_release(c);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct slug_list {
    char **v;
    int n, cap;
} slug_list;

static int collect(const char *slug, void *ctx)
{
    slug_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, (size_t)l->cap * sizeof *v);
        if (!v)
            abort();
        l->v = v;
    }
    l->v[l->n++] = ob_db_xstrdup(slug);
    return 0;
}

/* The schemas on the main server and the tenants placed on other servers
 * (a moved tenant's old schema is renamed out of the tenant_ prefix). */
int ob_pg_each_tenant(ob_store *s, int (*fn)(const char *slug, void *ctx), void *ctx, ob_err *err)
{
    slug_list placed = { 0 };
    if (ob_pg_place_each(s, collect, &placed, err)) {
        for (int i = 0; i < placed.n; i++)
            free(placed.v[i]);
        free(placed.v);
        return -1;
    }
    ob_conn *c;
    if (ob_db_core_acquire(s, "", NULL, OB_DB_READ, &c, err)) {
        for (int i = 0; i < placed.n; i++)
            free(placed.v[i]);
        free(placed.v);
        return -1;
    }
    PGresult *res = PQexec(c->pg, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'");
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = ob_pg_fail(c, res, err);
        PQclear(res);
        ob_db_core_release(c);
        for (int i = 0; i < placed.n; i++)
            free(placed.v[i]);
        free(placed.v);
        return rc;
    }
    int n = PQntuples(res);
    char **slugs = ob_db_xcalloc((size_t)n + (size_t)placed.n + 1, sizeof *slugs);
    int k = 0;
    for (int i = 0; i < placed.n; i++)
        slugs[k++] = placed.v[i];
    free(placed.v);
    for (int i = 0; i < n; i++) {
        char *slug = ob_db_xstrdup(PQgetvalue(res, i, 0) + 7);
        for (char *p = slug; *p; p++)
            if (*p == '_')
                *p = '-';
        if (ob_db_slug_valid(slug))
            slugs[k++] = slug;
        else
            free(slug);
    }
    PQclear(res);
    ob_db_core_release(c);
    if (k)
        qsort(slugs, (size_t)k, sizeof *slugs, cmp_str);
    int rc = 0;
    for (int i = 0; i < k; i++) {
        /* a tenant both placed and with a schema here (a move under way) once */
        if (rc == 0 && (i == 0 || strcmp(slugs[i], slugs[i - 1]) != 0))
            rc = fn(slugs[i], ctx);
        free(slugs[i]);
    }
    free(slugs);
    return rc;
}
