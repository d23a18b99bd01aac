/* pg_move.c - opsbase tenant move: copy one tenant's schema to another
 * PostgreSQL server and switch its placement (pg_place.c) with a short
 * write pause.
 *
 * The order is what keeps every acknowledged write:
 *  1. the placement turns 'moving': writers that see it (every process
 *     within the cache's second) answer 503 with Retry-After;
 *  2. this session takes the tenant's advisory write lock on the old server
 *     (the lock every write transaction takes in ob_pg_begin), so writes
 *     already under way finish first and later ones wait;
 *  3. pg_dump of the schema's rows, indexes, keys and references piped into
 *     pg_restore on the new server (its snapshot starts after 2, so it holds
 *     every committed write); the tables were made there before 1;
 *  4. the row count of every table is compared on both servers;
 *  5. the placement names the new server ('active');
 *  6. the old schema is renamed out of the tenant_ prefix (or dropped), and
 *     the lock is let go: a writer that waited finds its path reaching
 *     nothing and answers 503 too, and its retry goes to the new server.
 * Any failure before 5 drops what was restored and puts the placement back.
 * Only what goes through the lock is fenced: every write of the server is
 * in an ob_db_begin transaction on a WRITE connection. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/uuid.h"
#include "db/pg_int.h"
#include "base/banned.h"

#define MOVE_LOCK_TIMEOUT_MS 30000

/* Run sql with params; -1 with err when it did not succeed. The result is
 * handed back in *out when out is given (caller clears it). */
static int q(PGconn *pg, const char *sql, int n, const char *const *params, PGresult **out, ob_err *err)
{
    PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char msg[240];
        const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        snprintf(msg, sizeof msg, "%s", m ? m : PQerrorMessage(pg));
        msg[strcspn(msg, "\n")] = '\0';
        PQclear(res);
        return ob_db_err(err, OB_E_STORAGE, "storage error: tenant move: %s", msg);
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return 0;
}

static bool schema_exists(PGconn *pg, const char *schema, bool *exists, ob_err *err)
{
    PGresult *res;
    const char *p[1] = { schema };
    if (q(pg, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", 1, p, &res, err))
        return false;
    *exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return true;
}

/* The placement row (upserted): state and server. */
static int place_set(PGconn *ctl, const char *slug, const char *url, const char *state, bool moved, ob_err *err)
{
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    const char *p[5] = { id, slug, url, state, moved ? "t" : "f" };
    return q(ctl,
             "INSERT INTO public.tenant_placements (id, tenant, server_url, state, moved_at, created_at, updated_at,"
             " version) VALUES ($1, $2, $3, $4, CASE WHEN $5::boolean THEN now() END, now(), now(), 1)"
             " ON CONFLICT (tenant) DO UPDATE SET server_url = EXCLUDED.server_url, state = EXCLUDED.state,"
             " version = tenant_placements.version + 1,"
             " moved_at = COALESCE(EXCLUDED.moved_at, tenant_placements.moved_at), updated_at = now()",
             5, p, NULL, err);
}

/* Put the placement back as it was: no row (main server) or the old one. */
static void place_restore(PGconn *ctl, const char *slug, const char *from, ob_err *err)
{
    ob_err ignored;
    if (from) {
        place_set(ctl, slug, from, "active", false, err ? &ignored : NULL);
    } else {
        const char *p[1] = { slug };
        q(ctl, "DELETE FROM public.tenant_placements WHERE tenant = $1", 1, p, NULL, &ignored);
    }
}

static void exec_tool(const char *dir, const char *name, char *const argv[])
{
    char path[1024];
    if (dir && *dir) {
        snprintf(path, sizeof path, "%s/%s", dir, name);
        execv(path, argv);
    } else {
        execvp(name, argv);
    }
    fprintf(stderr, "opsbase: cannot run %s: %s\n", name, strerror(errno));
    _exit(127);
}

/* pg_dump of the schema piped into pg_restore on the target; their own
 * messages go to our stderr. pre: only the definitions of the schema and
 * its tables (pg_dump's pre-data section: no rows, indexes, keys or
 * references), else the rows and then the indexes, keys and references. */
static int copy_schema(const char *pg_bin, const char *from, const char *to, const char *schema, bool pre,
                       ob_err *err)
{
    char sch[OB_PG_SCHEMA_MAX + 16], src[4096 + 16], dst[4096 + 16];
    snprintf(sch, sizeof sch, "--schema=\"%s\"", schema);
    snprintf(src, sizeof src, "--dbname=%s", from);
    snprintf(dst, sizeof dst, "--dbname=%s", to);
    char *dump[] = { "pg_dump", "--format=custom", "--compress=0", "--no-owner", "--no-privileges", sch, src,
                     pre ? "--section=pre-data" : "--section=data", pre ? NULL : "--section=post-data", NULL };
    char *restore[] = { "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                        dst, NULL };
    int fd[2];
    if (pipe(fd) != 0)
        return ob_db_err(err, OB_E_INTERNAL, "tenant move: pipe: %s", strerror(errno));
    pid_t a = fork();
    if (a == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        exec_tool(pg_bin, "pg_dump", dump);
    }
    pid_t b = a < 0 ? -1 : fork();
    if (b == 0) {
        dup2(fd[0], 0);
        close(fd[0]);
        close(fd[1]);
        exec_tool(pg_bin, "pg_restore", restore);
    }
    close(fd[0]);
    close(fd[1]);
    int sa = -1, sb = -1;
    if (a > 0)
        waitpid(a, &sa, 0);
    if (b > 0)
        waitpid(b, &sb, 0);
    if (a < 0 || b < 0)
        return ob_db_err(err, OB_E_INTERNAL, "tenant move: fork: %s", strerror(errno));
    if (!WIFEXITED(sa) || WEXITSTATUS(sa) != 0)
        return ob_db_err(err, OB_E_STORAGE, "storage error: tenant move: pg_dump failed (status %d)", sa);
    if (!WIFEXITED(sb) || WEXITSTATUS(sb) != 0)
        return ob_db_err(err, OB_E_STORAGE, "storage error: tenant move: pg_restore failed (status %d)", sb);
    return 0;
}

/* Compare every table's row count on both servers. */
static int verify(PGconn *sp, PGconn *dp, const char *schema, ob_move_report *rep, ob_err *err)
{
    PGresult *tabs;
    const char *p[1] = { schema };
    const char *list = "SELECT quote_ident(table_name) FROM information_schema.tables"
                       " WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1";
    if (q(sp, list, 1, p, &tabs, err))
        return -1;
    PGresult *dtabs;
    if (q(dp, list, 1, p, &dtabs, err)) {
        PQclear(tabs);
        return -1;
    }
    int n = PQntuples(tabs), rc = 0;
    if (PQntuples(dtabs) != n)
        rc = ob_db_err(err, OB_E_STORAGE, "storage error: tenant move: %d table(s) copied of %d", PQntuples(dtabs), n);
    PQclear(dtabs);
    for (int i = 0; rc == 0 && i < n; i++) {
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\".%s", schema, PQgetvalue(tabs, i, 0));
        PGresult *a = NULL, *b = NULL;
        if (q(sp, sql, 0, NULL, &a, err) || q(dp, sql, 0, NULL, &b, err)) {
            rc = -1;
        } else if (strcmp(PQgetvalue(a, 0, 0), PQgetvalue(b, 0, 0)) != 0) {
            rc = ob_db_err(err, OB_E_STORAGE, "storage error: tenant move: %s has %s row(s) here, %s copied",
                           PQgetvalue(tabs, i, 0), PQgetvalue(a, 0, 0), PQgetvalue(b, 0, 0));
        } else {
            rep->rows += strtoll(PQgetvalue(a, 0, 0), NULL, 10);
            rep->tables++;
        }
        PQclear(a);
        PQclear(b);
    }
    PQclear(tabs);
    return rc;
}

int ob_pg_move_tenant(ob_store *s, const char *slug, const ob_move_opts *o, ob_move_report *rep, ob_err *err)
{
    char schema[OB_PG_SCHEMA_MAX];
    ob_pg_schema_name(slug, schema);
    char *from = NULL;
    bool moving = false;
    if (ob_pg_place_get(s, slug, true, &from, &moving, err))
        return -1;
    const char *src = from ? from : s->url;
    snprintf(rep->from, sizeof rep->from, "%s", src);
    PGconn *ctl = NULL, *sp = NULL, *dp = NULL;
    int rc = -1;
    bool placed = false, restored = false, exists = false;
    if (moving) {
        ob_db_err(err, OB_E_CONFLICT, "a move of tenant '%s' is under way", slug);
        goto out;
    }
    if (strcmp(src, o->to_url) == 0) {
        ob_db_err(err, OB_E_CONFLICT, "tenant '%s' is on that server already", slug);
        goto out;
    }
    if (!(ctl = ob_pg_connect(s, NULL, err)) || !(sp = ob_pg_connect(s, src, err)) ||
        !(dp = ob_pg_connect(s, o->to_url, err)))
        goto out;
    if (!schema_exists(sp, schema, &exists, err))
        goto out;
    if (!exists) {
        ob_db_err(err, OB_E_NOT_FOUND, "no tenant '%s'", slug);
        goto out;
    }
    if (!schema_exists(dp, schema, &exists, err))
        goto out;
    if (exists) {
        ob_db_err(err, OB_E_CONFLICT, "the target server has a schema %s already", schema);
        goto out;
    }

    /* The table definitions go first, while the tenant is still written:
     * creating a hundred tables is much of a restore's time, and the rows
     * need none of the indexes and references, which come with them. */
    restored = true; /* from here on the target may hold a partial copy */
    if (copy_schema(o->pg_bin, src, o->to_url, schema, true, err))
        goto out;
    int64_t t0 = ob_now_ms();
    if (place_set(ctl, slug, src, "moving", false, err))
        goto out;
    placed = true;
    ob_pg_place_invalidate(s);
    char sql[256];
    snprintf(sql, sizeof sql, "SET lock_timeout = %d; SELECT pg_advisory_lock(%d, %d)", MOVE_LOCK_TIMEOUT_MS, 0x0b5e,
             (int)ob_pg_lock_key(slug));
    PGresult *res = PQexec(sp, sql);
    bool locked = res && PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!locked) {
        ob_db_err(err, OB_E_STORAGE, "storage error: tenant move: the tenant's writes did not stop");
        goto out;
    }
    int64_t t1 = ob_now_ms();
    if (copy_schema(o->pg_bin, src, o->to_url, schema, false, err))
        goto out;
    rep->copy_ms = ob_now_ms() - t1;
    if (verify(sp, dp, schema, rep, err))
        goto out;
    if (place_set(ctl, slug, o->to_url, "active", true, err))
        goto out;
    placed = restored = false; /* switched: the new server is the tenant's */
    ob_pg_place_invalidate(s);
    /* Out of the tenant_ prefix, so nothing lists it as a tenant; the time
     * makes a second move of the same tenant away from here not collide. */
    if (o->drop_old) {
        snprintf(sql, sizeof sql, "DROP SCHEMA \"%s\" CASCADE", schema);
        rep->old_schema[0] = '\0';
    } else {
        snprintf(rep->old_schema, sizeof rep->old_schema, "moved%lld_%s", (long long)(t0 / 1000), schema + 7);
        snprintf(sql, sizeof sql, "ALTER SCHEMA \"%s\" RENAME TO \"%s\"", schema, rep->old_schema);
    }
    if (q(sp, sql, 0, NULL, NULL, err)) {
        /* The tenant answers from the new server already; what is left here
         * is unreachable to writers only through the placement. Say so. */
        goto out;
    }
    rep->pause_ms = ob_now_ms() - t0;
    rc = 0;
out:
    if (restored && dp) {
        char drop[128];
        snprintf(drop, sizeof drop, "DROP SCHEMA IF EXISTS \"%s\" CASCADE", schema);
        ob_err ignored;
        q(dp, drop, 0, NULL, NULL, &ignored);
    }
    if (placed && ctl) {
        place_restore(ctl, slug, from, err);
        ob_pg_place_invalidate(s);
    }
    if (sp)
        PQfinish(sp); /* lets go of the advisory lock */
    if (dp)
        PQfinish(dp);
    if (ctl)
        PQfinish(ctl);
    free(from);
    return rc;
}
