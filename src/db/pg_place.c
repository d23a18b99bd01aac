/* pg_place.c - tenant placements: which PostgreSQL server holds a tenant's
 * schema (the control table tenant_placements; no row: the main server, the
 * one the store was opened with).
 *
 * Every acquire needs the answer before it connects, so it is cached per
 * store: the whole table (a row per moved tenant, so small) is read again
 * when the copy is older than OB_PG_PLACE_TTL_MS, and at once when a
 * connection finds its tenant's schema gone (a move renames the old one),
 * so every process follows a move within that time, and a request that
 * arrives on the old server right after the switch is sent to the new one.
 * The cache has its own connection to the main server, under its own mutex,
 * so a lookup never waits for the pool. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "db/pg_int.h"
#include "base/banned.h"

#define OB_PG_PLACE_TTL_MS 1000

typedef struct place_ent {
    char *slug, *url;
    bool moving;
} place_ent;

struct ob_pg_place {
    pthread_mutex_t mu;
    PGconn *pg;
    place_ent *e;
    int n;
    int64_t loaded_ms; /* 0: never loaded, or invalidated */
};

void ob_pg_place_init(ob_store *s)
{
    s->place = ob_db_xcalloc(1, sizeof *s->place);
    pthread_mutex_init(&s->place->mu, NULL);
}

static void clear(struct ob_pg_place *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->e[i].slug);
        free(p->e[i].url);
    }
    free(p->e);
    p->e = NULL;
    p->n = 0;
}

void ob_pg_place_free(ob_store *s)
{
    if (!s->place)
        return;
    clear(s->place);
    if (s->place->pg)
        PQfinish(s->place->pg);
    pthread_mutex_destroy(&s->place->mu);
    free(s->place);
    s->place = NULL;
}

/* Read the table again; caller holds p->mu. A store whose control database
 * predates the table (not yet migrated) has no placements. */
static int reload(ob_store *s, struct ob_pg_place *p, ob_err *err)
{
    if (p->pg && PQstatus(p->pg) != CONNECTION_OK) {
        PQfinish(p->pg);
        p->pg = NULL;
    }
    if (!p->pg) {
        const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
        const char *const vals[] = { "5", "opsbase-placements", s->url, NULL };
        p->pg = PQconnectdbParams(keys, vals, 1);
        if (!p->pg)
            abort();
        if (PQstatus(p->pg) != CONNECTION_OK) {
            PQfinish(p->pg);
            p->pg = NULL;
            return ob_db_err(err, OB_E_STORAGE, "storage error: cannot read tenant placements");
        }
    }
    PGresult *res = PQexec(p->pg, "SELECT tenant, server_url, state FROM public.tenant_placements");
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        bool missing = state && strcmp(state, "42P01") == 0;
        PQclear(res);
        if (!missing)
            return ob_db_err(err, OB_E_STORAGE, "storage error: cannot read tenant placements");
        clear(p);
        p->loaded_ms = ob_now_ms();
        return 0;
    }
    clear(p);
    int n = PQntuples(res);
    p->e = ob_db_xcalloc((size_t)n + 1, sizeof *p->e);
    for (int i = 0; i < n; i++) {
        p->e[i].slug = ob_db_xstrdup(PQgetvalue(res, i, 0));
        p->e[i].url = ob_db_xstrdup(PQgetvalue(res, i, 1));
        p->e[i].moving = strcmp(PQgetvalue(res, i, 2), "moving") == 0;
    }
    p->n = n;
    PQclear(res);
    p->loaded_ms = ob_now_ms();
    return 0;
}

int ob_pg_place_get(ob_store *s, const char *slug, bool fresh, char **url, bool *moving, ob_err *err)
{
    *url = NULL;
    *moving = false;
    if (!slug || !*slug)
        return 0; /* the control schema is always on the main server */
    struct ob_pg_place *p = s->place;
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    int64_t now = ob_now_ms();
    if (fresh || !p->loaded_ms || now - p->loaded_ms >= OB_PG_PLACE_TTL_MS || now < p->loaded_ms)
        rc = reload(s, p, err);
    for (int i = 0; rc == 0 && i < p->n; i++) {
        if (strcmp(p->e[i].slug, slug) != 0)
            continue;
        if (strcmp(p->e[i].url, s->url) != 0)
            *url = ob_db_xstrdup(p->e[i].url);
        *moving = p->e[i].moving;
        break;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void ob_pg_place_invalidate(ob_store *s)
{
    pthread_mutex_lock(&s->place->mu);
    s->place->loaded_ms = 0;
    pthread_mutex_unlock(&s->place->mu);
}

int ob_pg_place_each(ob_store *s, int (*fn)(const char *slug, void *ctx), void *ctx, ob_err *err)
{
    struct ob_pg_place *p = s->place;
    pthread_mutex_lock(&p->mu);
    int rc = reload(s, p, err);
    int n = rc == 0 ? p->n : 0;
    char **slugs = ob_db_xcalloc((size_t)n + 1, sizeof *slugs);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(p->e[i].url, s->url) != 0)
            slugs[k++] = ob_db_xstrdup(p->e[i].slug);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < k; i++) {
        if (rc == 0)
            rc = fn(slugs[i], ctx);
        free(slugs[i]);
    }
    free(slugs);
    return rc;
}
