/* archive.c - retention: rows past their table's declared retention move to
 * compressed archive files and leave the database, in small batches so that
 * writers wait at most one batch.
 *
 * A batch is selected and deleted inside one short write transaction; its
 * rows are written to the run's archive file and made durable (flushed and
 * fsynced) before the transaction commits, so a row is never gone from the
 * database without being on disk in an archive. A crash between the two leaves
 * a row both archived and live; the next run archives it again, and an
 * archive restore skips ids that exist. A row is archived only when nothing
 * references it (its children go first, by their own retention), so a delete
 * never cascades to rows no archive holds. Legal holds stop all of it for the
 * tenant, a customer or a record. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/jsonw.h"
#include "audit/audit.h"
#include "base/uuid.h"
#include "ops/archive.h"
#include "ops/ops_int.h"
#include "ops/zfile.h"
#include "platform/tenants.h"
#include "schema/row.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "base/banned.h"

#define BATCH 500

typedef struct run {
    ob_store *s;
    const ob_archive_opts *o;
    ob_arena *a;
    const char *slug, *tenant_id;
    json_t *settings;      /* tenants.settings */
    char stamp[24];        /* the run's UTC start, YYYYMMDDTHHMMSSmmmZ */
    char month[8];         /* YYYY-MM of the run */
    json_t *files;         /* for the run's manifest */
    ob_archive_report *rep;
} run;

static int mkdirs(const char *path, ob_err *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return ob_err_set(err, OB_E_STORAGE, "cannot create %.200s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return ob_err_set(err, OB_E_STORAGE, "cannot create %.200s: %s", buf, strerror(errno));
    return 0;
}

/* The retention in days for t in this tenant: its override or the declared. */
static int retention_days(const run *r, const ob_table *t)
{
    json_t *v = json_object_get(json_object_get(r->settings, "retention"), t->name);
    if (json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 36500)
        return (int)json_integer_value(v);
    return t->res->retention ? t->res->retention->days : OB_RETENTION_DELETED_DAYS;
}

/* WHERE clause of the rows of t that may go: old enough, matching the
 * declared condition, not held, not referenced. One parameter: the cutoff. */
static const char *candidates_where(ob_arena *a, const ob_table *t, bool deleted_pass)
{
    ob_sb w;
    ob_sb_init_arena(&w, a, 512);
    const ob_retention *rt = t->res->retention;
    if (deleted_pass) {
        ob_sb_adds(&w, "\"deleted_at\" IS NOT NULL AND \"deleted_at\" < ?");
    } else {
        ob_sb_addf(&w, "\"%s\" < ?", rt->age_col ? rt->age_col : "created_at");
        if (rt->when) ob_sb_addf(&w, " AND (%s)", rt->when);
    }
    ob_sb_addf(&w, " AND NOT EXISTS (SELECT 1 FROM \"legal_holds\" h WHERE h.\"status\" = 'active' AND ("
                   "(h.\"scope\" = 'record' AND h.\"entity_type\" = '%s' AND h.\"entity_id\" = \"%s\".\"id\")",
               t->name, t->name);
    if (rt && rt->customer_col)
        ob_sb_addf(&w, " OR (h.\"scope\" = 'customer' AND h.\"customer_id\" = \"%s\".\"%s\")", t->name,
                   rt->customer_col);
    ob_sb_adds(&w, "))");
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *ct = ob_registry_at(i);
        if (ct->res->scope != OB_SCOPE_TENANT) continue;
        for (int j = 0; j < ct->ncols; j++) {
            const ob_column *c = ct->cols[j];
            if (c->type != OB_F_REF || c->gen || strcmp(c->ref, t->name) != 0) continue;
            ob_sb_addf(&w, " AND NOT EXISTS (SELECT 1 FROM \"%s\" x WHERE x.\"%s\" = \"%s\".\"id\")", ct->name, c->name,
                       t->name);
        }
    }
    return w.buf;
}

static int audit_batch(ob_conn *c, const run *r, const ob_table *t, int64_t n, const char *cutoff, const char *file,
                       ob_err *err)
{
    char meta[700];
    snprintf(meta, sizeof meta, "{\"archived\":%lld,\"older_than\":\"%s\",\"file\":\"%s\"}", (long long)n, cutoff,
             file);
    ob_ctx ctx;
    ob_ctx_system(&ctx, r->a, r->s, c, NULL);
    return ob_audit_event(&ctx, "archive", t->name, NULL, NULL, meta, err);
}

/* Archive what may go of t; one file per table and run. */
static int archive_table(run *r, const ob_table *t, bool deleted_pass, ob_err *err)
{
    int days = retention_days(r, t);
    char cutoff[OB_TS_LEN];
    ob_ts_format(r->o->now_ms - (int64_t)days * 86400 * 1000, cutoff);
    const char *where = candidates_where(r->a, t, deleted_pass);
    const char *sel = ob_arena_printf(r->a, "SELECT %s FROM \"%s\" WHERE %s ORDER BY \"id\" LIMIT %d", ob_sql_cols(t),
                                      t->name, where, BATCH);
    char rel[512], dir[1024], path[1400];
    snprintf(rel, sizeof rel, "%s/%s/%s/%s%s.ndjson.zst", r->slug, t->name, r->month, r->stamp,
             deleted_pass ? "-deleted" : "");
    snprintf(dir, sizeof dir, "%s/%s/%s/%s", r->o->dir, r->slug, t->name, r->month);
    snprintf(path, sizeof path, "%s/%s", r->o->dir, rel);
    ob_zwriter *w = NULL;
    int64_t total = 0;
    int rc = 0;
    for (;;) {
        ob_conn *c;
        if ((rc = ob_db_acquire(r->s, r->slug, r->tenant_id, OB_DB_WRITE, &c, err)) != 0) break;
        rc = ob_db_begin(c, err);
        ob_stmt *st = NULL;
        if (rc == 0) rc = ob_db_prepare(c, sel, &st, err);
        if (rc == 0) rc = ob_stmt_bind_text(st, 1, cutoff, err);
        ob_arena rows;
        ob_arena_init(&rows, 0);
        const char **ids = ob_arena_alloc(&rows, sizeof *ids * BATCH);
        int n = 0;
        ob_sb line;
        ob_sb_init(&line, 4096);
        while (rc == 0 && (rc = ob_stmt_step(st, err)) == 1) {
            ob_row *row = ob_row_new(&rows, t);
            ob_row_load(&rows, row, st);
            if (!w) {
                rc = mkdirs(dir, err);
                if (rc == 0) rc = ob_zw_open(&w, path, err);
                if (rc != 0) break;
            }
            ob_sb_reset(&line);
            ob_jsonw jw;
            ob_jw_init(&jw, &line);
            ob_jw_obj_open(&jw);
            ob_jw_kstr(&jw, "t", t->name);
            ob_jw_key(&jw, "r");
            ob_row_json_stored(&jw, row);
            ob_jw_obj_close(&jw);
            rc = ob_zw_line(w, line.buf, line.len, err);
            ids[n++] = ob_arena_strdup(&rows, row->v[t->id_col].s);
        }
        if (rc == 1) rc = 0;
        if (st) ob_stmt_done(st);
        ob_sb_release(&line);
        if (rc == 0 && n > 0) {
            const char *del = ob_arena_printf(r->a, "DELETE FROM \"%s\" WHERE \"id\" = ?", t->name);
            for (int i = 0; rc == 0 && i < n; i++) {
                ob_value v = ob_v_text(ids[i]);
                rc = ob_sql_run(c, del, &v, 1, err);
            }
            if (rc == 0) rc = audit_batch(c, r, t, n, cutoff, rel, err);
            /* the archive is durable before the rows leave the database */
            if (rc == 0) rc = ob_zw_sync(w, err);
            if (rc == 0) rc = ob_db_commit(c, err);
        }
        ob_db_release(c);
        ob_arena_release(&rows);
        if (rc != 0) break;
        total += n;
        if (n < BATCH) break;
    }
    if (w && rc == 0) {
        char sha[65];
        int64_t bytes;
        rc = ob_zw_close(w, sha, &bytes, err);
        if (rc == 0)
            json_array_append_new(r->files, json_pack("{s:s, s:s, s:I, s:I, s:s}", "table", t->name, "file", rel,
                                                      "rows", (json_int_t)total, "bytes", (json_int_t)bytes, "sha256",
                                                      sha));
    } else if (w) {
        ob_zw_abort(w); /* rows of committed batches stay in no file: see the log */
        if (total > 0)
            ob_err_set(err, err->code, "%s (after %lld rows of %s were archived into an unfinished file %s)",
                       err->message, (long long)total, t->name, rel);
    }
    r->rep->rows += total;
    return rc;
}

static bool tenant_held(ob_store *s, const char *slug, const char *id, bool *held, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, slug, id, OB_DB_READ, &c, err) != 0) return false;
    ob_stmt *st;
    int rc = ob_db_prepare(c, "SELECT COUNT(*) FROM \"legal_holds\" WHERE \"scope\" = 'tenant' AND \"status\" = 'active'",
                           &st, err);
    if (rc == 0) {
        rc = ob_stmt_step(st, err);
        *held = rc == 1 && ob_stmt_col_i64(st, 0) > 0;
        ob_stmt_done(st);
    }
    ob_db_release(c);
    return rc >= 0;
}

static int write_run_manifest(run *r, ob_err *err)
{
    char path[1024], tmp[1100];
    snprintf(path, sizeof path, "%s/%s/%s.manifest.json", r->o->dir, r->slug, r->stamp);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    char now[OB_TS_LEN];
    ob_ts_format(r->o->now_ms, now);
    json_t *m = json_pack("{s:s, s:i, s:s, s:i, s:s, s:O}", "format", "opsbase-archive", "format_version", 1,
                          "tenant", r->slug, "schema_version", ob_registry_version(), "as_of", now, "files", r->files);
    int rc = json_dump_file(m, tmp, JSON_INDENT(2)) == 0 && rename(tmp, path) == 0
                 ? 0
                 : ob_err_set(err, OB_E_STORAGE, "cannot write %.200s", path);
    json_decref(m);
    return rc;
}

static int archive_tenant(ob_store *s, const ob_archive_opts *o, const char *slug, ob_archive_report *rep,
                          ob_err *err)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    run r = {.s = s, .o = o, .a = &a, .slug = slug, .rep = rep, .files = json_array()};
    time_t secs = (time_t)(ob_now_ms() / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char hms[16];
    strftime(hms, sizeof hms, "%Y%m%dT%H%M%S", &tm);
    snprintf(r.stamp, sizeof r.stamp, "%s%03dZ", hms, (int)(ob_now_ms() % 1000));
    strftime(r.month, sizeof r.month, "%Y-%m", &tm);
    ob_conn *c;
    int rc = ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err);
    if (rc == 0) {
        rc = ob_ops_tenant_id(c, &a, slug, &r.tenant_id, err);
        ob_stmt *st;
        if (rc == 0) rc = ob_db_prepare(c, "SELECT \"settings\" FROM \"tenants\" WHERE \"id\" = ?", &st, err);
        if (rc == 0) {
            ob_stmt_bind_text(st, 1, r.tenant_id, err);
            if (ob_stmt_step(st, err) == 1) {
                const char *txt = ob_stmt_col_text(st, 0, NULL);
                r.settings = txt ? json_loads(txt, 0, NULL) : NULL;
            }
            ob_stmt_done(st);
        }
        ob_db_release(c);
    }
    bool held = false;
    if (rc == 0 && !tenant_held(s, slug, r.tenant_id, &held, err)) rc = -1;
    if (rc == 0 && held) rep->held_tenants++;
    /* children before parents: a parent goes only once nothing refers to it */
    for (int i = ob_registry_count() - 1; rc == 0 && !held && i >= 0; i--) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope != OB_SCOPE_TENANT || t->res->ledger) continue;
        if (t->res->retention) rc = archive_table(&r, t, false, err);
        if (rc == 0 && t->deleted_col >= 0) rc = archive_table(&r, t, true, err);
    }
    if (rc == 0 && json_array_size(r.files) > 0) rc = write_run_manifest(&r, err);
    if (rc == 0) rep->tenants++;
    json_decref(r.files);
    json_decref(r.settings);
    ob_arena_release(&a);
    return rc;
}

int ob_archive_run(ob_store *s, const ob_archive_opts *o, ob_archive_report *rep, ob_err *err)
{
    memset(rep, 0, sizeof *rep);
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_slugs l;
    int rc = ob_tenant_slugs_of(s, &a, o->tenant, &l, err);
    for (int i = 0; rc == 0 && i < l.n; i++) rc = archive_tenant(s, o, l.v[i], rep, err);
    ob_arena_release(&a);
    return rc;
}

/* 1 when a row with this id exists (soft-deleted or not), 0 when not. */
static int row_exists(ob_ctx *ctx, const ob_table *t, const char *id, ob_err *err)
{
    ob_stmt *st;
    const char *sql = ob_arena_printf(ctx->arena, "SELECT 1 FROM \"%s\" WHERE \"id\" = ?", t->name);
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, id, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    return rc;
}

/* Rows of one archive file back into the open transaction's tenant. */
static int restore_file(ob_ctx *ctx, const char *path, const char *sha, int64_t *rows, ob_err *err)
{
    ob_zreader *zr;
    if (ob_zr_open(&zr, path, sha, err) != 0) return -1;
    const char *line;
    size_t n;
    int rc, more;
    while ((more = ob_zr_line(zr, &line, &n, err)) == 1) {
        json_t *doc = json_loadb(line, n, 0, NULL);
        const char *name = json_string_value(json_object_get(doc, "t"));
        const ob_table *t = name ? ob_registry_find(name) : NULL;
        ob_row *row = NULL;
        rc = t && t->res->scope == OB_SCOPE_TENANT
                 ? ob_ops_row_from_json(ctx->arena, t, json_object_get(doc, "r"), &row, err)
                 : ob_err_set(err, OB_E_VALIDATION, "an archive line names no tenant table of this binary");
        if (rc == 0) {
            rc = row_exists(ctx, t, row->v[t->id_col].s, err);
            if (rc == 0) { /* absent: put it back */
                rc = ob_sql_insert(ctx, row, err);
                if (rc == 0) ++*rows;
            } else if (rc == 1) {
                rc = 0;
            }
        }
        json_decref(doc);
        if (rc != 0) break;
    }
    ob_zr_close(zr);
    return more < 0 ? -1 : rc;
}

int ob_archive_restore(ob_store *s, const char *manifest_path, const char *tenant, int64_t *rows, ob_err *err)
{
    *rows = 0;
    json_error_t je;
    json_t *m = json_load_file(manifest_path, 0, &je);
    const char *fmt = json_string_value(json_object_get(m, "format"));
    if (!m || !fmt || strcmp(fmt, "opsbase-archive") != 0) {
        json_decref(m);
        return ob_err_set(err, OB_E_VALIDATION, "%.200s is not an opsbase archive manifest", manifest_path);
    }
    if (json_integer_value(json_object_get(m, "schema_version")) > ob_registry_version()) {
        json_decref(m);
        return ob_err_set(err, OB_E_CONFLICT, "the archive is of a newer schema than this binary's");
    }
    /* files are named relative to the archive root, the manifest's parent's parent */
    char root[1024];
    snprintf(root, sizeof root, "%s", manifest_path);
    for (int cut = 0; cut < 2; cut++) {
        char *slash = strrchr(root, '/');
        if (slash) *slash = '\0';
        else snprintf(root, sizeof root, ".");
    }
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_conn *c;
    const char *id = NULL;
    int rc = ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err);
    if (rc == 0) {
        rc = ob_ops_tenant_id(c, &a, tenant, &id, err);
        ob_db_release(c);
    }
    if (rc == 0) rc = ob_db_acquire(s, tenant, id, OB_DB_WRITE, &c, err);
    if (rc == 0) {
        ob_ctx ctx;
        ob_ctx_system(&ctx, &a, s, c, NULL);
        rc = ob_db_begin(c, err);
        /* parents were archived after their children: put them back first */
        json_t *files = json_object_get(m, "files");
        for (size_t i = json_array_size(files); rc == 0 && i-- > 0;) {
            json_t *f = json_array_get(files, i);
            const char *rel = json_string_value(json_object_get(f, "file"));
            const char *sha = json_string_value(json_object_get(f, "sha256"));
            if (!rel || !sha || strstr(rel, "..")) {
                rc = ob_err_set(err, OB_E_VALIDATION, "the archive manifest's file %zu is malformed", i);
                break;
            }
            char path[1400];
            snprintf(path, sizeof path, "%s/%s", root, rel);
            rc = restore_file(&ctx, path, sha, rows, err);
        }
        if (rc == 0) rc = ob_db_commit(c, err);
        ob_db_release(c);
    }
    ob_arena_release(&a);
    json_decref(m);
    return rc;
}
