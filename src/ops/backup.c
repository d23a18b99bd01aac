/* backup.c - opsbase backup: every row of the registry's tables, part by
 * part, each database read inside one snapshot (see backup.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/jsonw.h"
#include "db/secrets.h"
#include "ops/backup.h"
#include "ops/ops_int.h"
#include "ops/zfile.h"
#include "platform/tenants.h"
#include "schema/row.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "base/banned.h"

int ob_ops_tenant_col(const ob_table *t)
{
    if (t->res->scope != OB_SCOPE_CONTROL) return -1;
    if (strcmp(t->name, "tenants") == 0) return t->id_col;
    int i = ob_table_col(t, "tenant_id");
    return i >= 0 && t->cols[i]->type == OB_F_REF && strcmp(t->cols[i]->ref, "tenants") == 0 ? i : -1;
}

/* Any tenant that is not deleted, suspended ones included: a backup takes
 * all (but a create in flight, which is no tenant yet). */
int ob_ops_tenant_id(ob_conn *c, ob_arena *a, const char *slug, const char **id, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(c, "SELECT id FROM tenants WHERE slug = ? AND deleted_at IS NULL AND status <> 'provisioning'",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, slug, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *id = ob_arena_strdup(a, ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (rc == 0) return ob_err_set(err, OB_E_NOT_FOUND, "no tenant \"%.60s\"", slug);
    return rc < 0 ? -1 : 0;
}

typedef struct part {
    const char *name; /* "control" or the tenant's slug */
    char file[160];
    ob_zwriter *w;
    json_t *tables;   /* table -> rows */
    json_t *files;    /* a tenant's uploaded files: their own zstd file */
    int64_t rows;
} part;

/* Write every row of t (all of them, or those of one tenant) as lines. */
static int dump_table(ob_conn *c, const ob_table *t, int tcol, const char *tenant_id, part *p, ob_err *err)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    const char *sql = ob_arena_printf(&a, "SELECT %s FROM \"%s\"%s%s%s ORDER BY \"id\"", ob_sql_cols(t), t->name,
                                      tcol >= 0 ? " WHERE \"" : "", tcol >= 0 ? t->cols[tcol]->name : "",
                                      tcol >= 0 ? "\" = ?" : "");
    ob_stmt *st;
    int rc = ob_db_prepare(c, sql, &st, err);
    if (rc == 0 && tcol >= 0) rc = ob_stmt_bind_text(st, 1, tenant_id, err);
    int64_t n = 0;
    ob_sb line;
    ob_sb_init(&line, 4096);
    ob_arena rows;
    ob_arena_init(&rows, 0);
    while (rc == 0 && (rc = ob_stmt_step(st, err)) == 1) {
        ob_row *r = ob_row_new(&rows, t);
        /* secrets stay sealed as stored: a backup or an export never holds
         * one in clear, whichever process (with or without the key) takes it */
        ob_row_load_stored(&rows, r, st);
        ob_sb_reset(&line);
        ob_jsonw w;
        ob_jw_init(&w, &line);
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "t", t->name);
        ob_jw_key(&w, "r");
        ob_row_json_stored(&w, r);
        ob_jw_obj_close(&w);
        rc = ob_zw_line(p->w, line.buf, line.len, err);
        if (++n % 512 == 0) { /* rows are not kept: bound the memory of a large table */
            ob_arena_release(&rows);
            ob_arena_init(&rows, 0);
        }
    }
    if (st) ob_stmt_done(st);
    ob_arena_release(&rows);
    ob_sb_release(&line);
    ob_arena_release(&a);
    if (rc == 0 && n > 0) json_object_set_new(p->tables, t->name, json_integer(n));
    p->rows += n;
    return rc;
}

/* Dump the tables of one scope from one connection inside a read snapshot. */
static int dump_scope(ob_conn *c, ob_scope scope, bool tenant_rows, const char *tenant_id, part *p, ob_err *err)
{
    int rc = ob_db_begin(c, err);
    for (int i = 0; rc == 0 && i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope != scope) continue;
        int tcol = ob_ops_tenant_col(t);
        if (scope == OB_SCOPE_CONTROL && (tcol >= 0) != tenant_rows) continue;
        rc = dump_table(c, t, scope == OB_SCOPE_CONTROL ? tcol : -1, tenant_id, p, err);
    }
    ob_db_rollback(c); /* read only: nothing to keep */
    return rc;
}

static int open_part(const char *dir, const char *name, bool tenant, part *p, ob_err *err)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    if (tenant) snprintf(p->file, sizeof p->file, "tenants/%s.ndjson.zst", name);
    else snprintf(p->file, sizeof p->file, "control.ndjson.zst");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, p->file);
    p->tables = json_object();
    return ob_zw_open(&p->w, path, err);
}

static int close_part(part *p, json_t *parts, bool tenant, ob_backup_report *rep, ob_err *err)
{
    char sha[65];
    int64_t bytes = 0;
    int rc = ob_zw_close(p->w, sha, &bytes, err);
    p->w = NULL;
    if (rc != 0) {
        json_decref(p->tables);
        return -1;
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "kind", tenant ? "tenant" : "control", "file", p->file,
                          "sha256", sha, "bytes", (json_int_t)bytes, "rows", (json_int_t)p->rows, "tables", p->tables);
    if (tenant) json_object_set_new(j, "tenant", json_string(p->name));
    if (p->files) json_object_set_new(j, "files", p->files);
    json_array_append_new(parts, j);
    rep->parts++;
    rep->rows += p->rows;
    rep->bytes += bytes;
    return 0;
}

/* After the tenant's database snapshot: the file store only grows, so every
 * file a snapshot row names is there (files.c). */
static int backup_files(const char *root, const char *dir, part *p, ob_backup_report *rep, ob_err *err)
{
    char rel[200], path[1300];
    snprintf(rel, sizeof rel, "tenants/%s.files.zst", p->name);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    ob_ops_files f;
    if (ob_ops_files_dump(root, p->name, path, &f, err) != 0) return -1;
    p->files = json_pack("{s:s, s:s, s:I, s:I}", "file", rel, "sha256", f.sha256, "bytes", (json_int_t)f.bytes,
                         "count", (json_int_t)f.count);
    rep->files += f.count;
    rep->bytes += f.bytes;
    return 0;
}

static int backup_tenant(ob_store *s, const char *dir, const char *files_root, const char *slug, json_t *parts,
                         ob_backup_report *rep, ob_err *err)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_conn *c;
    const char *id = NULL;
    part p;
    int rc = open_part(dir, slug, true, &p, err);
    if (rc == 0) rc = ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err);
    if (rc == 0) {
        rc = ob_ops_tenant_id(c, &a, slug, &id, err);
        if (rc == 0) rc = dump_scope(c, OB_SCOPE_CONTROL, true, id, &p, err);
        ob_db_release(c);
    }
    if (rc == 0) rc = ob_db_acquire(s, slug, id, OB_DB_READ, &c, err);
    if (rc == 0) {
        rc = dump_scope(c, OB_SCOPE_TENANT, false, NULL, &p, err);
        ob_db_release(c);
    }
    if (rc == 0 && files_root) rc = backup_files(files_root, dir, &p, rep, err);
    if (rc == 0) rc = close_part(&p, parts, true, rep, err);
    else if (p.w) {
        ob_zw_abort(p.w);
        json_decref(p.tables);
        json_decref(p.files);
    }
    ob_arena_release(&a);
    return rc;
}

static int make_dirs(const char *dir, ob_err *err)
{
    if (mkdir(dir, 0700) != 0) {
        if (errno != EEXIST) return ob_err_set(err, OB_E_STORAGE, "cannot create %.200s: %s", dir, strerror(errno));
        char probe[1024];
        snprintf(probe, sizeof probe, "%s/manifest.json", dir);
        struct stat sb;
        if (stat(probe, &sb) == 0)
            return ob_err_set(err, OB_E_CONFLICT, "%.200s holds a backup already: choose a new directory", dir);
    }
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/tenants", dir);
    if (mkdir(sub, 0700) != 0 && errno != EEXIST)
        return ob_err_set(err, OB_E_STORAGE, "cannot create %.200s: %s", sub, strerror(errno));
    return 0;
}

/* The manifest is written last, through a temporary name and a rename, so a
 * directory with a manifest holds a complete backup. */
static int write_manifest(const char *dir, json_t *m, ob_err *err)
{
    char tmp[1024], path[1024];
    snprintf(tmp, sizeof tmp, "%s/manifest.json.tmp", dir);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (json_dump_file(m, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        return ob_err_set(err, OB_E_STORAGE, "cannot write %.200s", tmp);
    if (rename(tmp, path) != 0) return ob_err_set(err, OB_E_STORAGE, "cannot rename %.200s: %s", tmp, strerror(errno));
    return 0;
}

int ob_backup(ob_store *s, const ob_backup_opts *o, ob_backup_report *rep, ob_err *err)
{
    memset(rep, 0, sizeof *rep);
    if (o->tenant && !ob_db_slug_valid(o->tenant)) return ob_err_set(err, OB_E_NOT_FOUND, "no tenant \"%.60s\"", o->tenant);
    if (make_dirs(o->out_dir, err) != 0) return -1;
    char started[OB_TS_LEN];
    ob_ts_format(ob_now_ms(), started);
    json_t *parts = json_array();
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_slugs l = {0};
    int rc = 0;
    if (o->tenant) {
        rc = ob_tenant_slugs_of(s, &a, o->tenant, &l, err);
    } else {
        part p;
        ob_conn *c;
        rc = open_part(o->out_dir, "control", false, &p, err);
        if (rc == 0) rc = ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err);
        if (rc == 0) {
            rc = ob_tenant_slugs(c, &a, false, &l, err);
            if (rc == 0) rc = dump_scope(c, OB_SCOPE_CONTROL, false, NULL, &p, err);
            ob_db_release(c);
        }
        if (rc == 0) rc = close_part(&p, parts, false, rep, err);
        else if (p.w) {
            ob_zw_abort(p.w);
            json_decref(p.tables);
        }
    }
    for (int i = 0; rc == 0 && i < l.n; i++) rc = backup_tenant(s, o->out_dir, o->files_root, l.v[i], parts, rep, err);
    if (rc == 0) {
        char finished[OB_TS_LEN];
        ob_ts_format(ob_now_ms(), finished);
        json_t *m = json_pack("{s:s, s:i, s:s, s:i, s:s, s:s, s:s, s:s, s:o}", "format", OB_BACKUP_FORMAT,
                              "format_version", OB_BACKUP_FORMAT_VERSION, "opsbase_version", o->version,
                              "schema_version", ob_registry_version(), "engine",
                              ob_store_engine(s) == OB_DB_POSTGRES ? "postgres" : "sqlite", "scope",
                              o->tenant ? "tenant" : "all", "started_at", started, "finished_at", finished,
                              "parts", json_incref(parts));
        /* which master key sealed the secret columns (each value names its
         * own key too): a restore needs that key, or the one rotated from it */
        json_object_set_new(m, "sealed_key_id", json_string(ob_secrets_key_id()));
        rc = write_manifest(o->out_dir, m, err);
        json_decref(m);
    }
    json_decref(parts);
    ob_arena_release(&a);
    return rc;
}
