/* restore.c - opsbase restore: a backup's rows back into the store, part by
 * part, each part in one transaction per database (see backup.h).
 *
 * Rows are inserted as stored (ids, versions, timestamps, hashes), in the
 * registry's table order, which puts a table after the tables it references
 * where it can. A reference that points forward (to a later table, or to its
 * own table, as a category's parent does) is inserted empty and set once every
 * row is in, so the foreign keys hold at every statement on both engines. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "base/uuid.h"
#include "db/secrets.h"
#include "ops/backup.h"
#include "ops/ops_int.h"
#include "ops/zfile.h"
#include "platform/tenants.h"
#include "schema/ddl.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

typedef struct later {
    const ob_table *t;
    const char *id;
    int col;
    const char *value;
    struct later *next;
} later;

typedef struct loader {
    ob_arena *a;         /* what lives as long as the part: renames, forward references */
    ob_arena scratch;    /* one batch of rows; released every SCRATCH_ROWS rows */
    ob_ctx ctx;
    later *fix;          /* forward references to set at the end */
    int64_t rows;
    /* renaming a tenant: its old and new id and the new slug */
    const char *old_id, *new_id, *slug;
    const char *sealed_for; /* tenant rows: the slug the part's secrets are sealed for */
} loader;

static int table_rank(const ob_table *t)
{
    for (int i = 0; i < ob_registry_count(); i++)
        if (ob_registry_at(i) == t) return i;
    return -1;
}

static int bad_row(ob_err *err, const ob_table *t, const char *col)
{
    return ob_err_set(err, OB_E_VALIDATION, "backup row of %s: column %s does not hold its declared type", t->name,
                      col);
}

/* One stored value of column c into v. */
static int value_of(ob_arena *a, const ob_table *t, const ob_column *c, json_t *j, ob_value *v, ob_err *err)
{
    switch (c->type) {
    case OB_F_INT:
        if (!json_is_integer(j)) return bad_row(err, t, c->name);
        *v = ob_v_int(json_integer_value(j));
        return 0;
    case OB_F_BOOL:
        if (!json_is_boolean(j)) return bad_row(err, t, c->name);
        *v = ob_v_bool(json_is_true(j));
        return 0;
    case OB_F_REAL:
        if (!json_is_number(j)) return bad_row(err, t, c->name);
        *v = ob_v_real(json_number_value(j));
        return 0;
    case OB_F_DECIMAL: {
        int64_t minor;
        if (!json_is_string(j) || ob_parse_decimal(json_string_value(j), ob_col_scale(c), &minor) != 0)
            return bad_row(err, t, c->name);
        *v = ob_v_dec(minor, ob_col_scale(c));
        return 0;
    }
    case OB_F_JSON: {
        if ((c->flags & OB_ENCRYPTED) && json_is_string(j) &&
            ob_secret_looks_sealed(json_string_value(j), json_string_length(j))) { /* sealed as stored (backup.c) */
            *v = ob_v_textn(ob_arena_strdup(a, json_string_value(j)), json_string_length(j));
            return 0;
        }
        char *dump = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        if (!dump) return bad_row(err, t, c->name);
        *v = ob_v_text(ob_arena_strdup(a, dump));
        free(dump);
        return 0;
    }
    default:
        if (!json_is_string(j)) return bad_row(err, t, c->name);
        *v = ob_v_textn(ob_arena_strdup(a, json_string_value(j)), json_string_length(j));
        return 0;
    }
}

/* The tenant's own platform rows get new ids when it is restored under
 * another slug, so that the original may live beside it. */
static void rename_tenant_row(loader *l, const ob_table *t, ob_row *r)
{
    int tcol = ob_ops_tenant_col(t);
    if (tcol < 0 || !l->new_id) return;
    if (tcol == t->id_col) {
        ob_row_set_text(l->a, r, TENANTS_SLUG, l->slug);
        char *schema = ob_arena_printf(l->a, "tenant_%s", l->slug);
        for (char *p = schema; *p; p++)
            if (*p == '-') *p = '_';
        ob_row_set_text(l->a, r, TENANTS_SCHEMA_NAME, schema);
        r->v[t->id_col] = ob_v_text(l->new_id);
        return;
    }
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    r->v[t->id_col] = ob_v_text(ob_arena_strdup(l->a, id));
    r->v[tcol] = ob_v_text(l->new_id);
}

int ob_ops_row_from_json(ob_arena *a, const ob_table *t, json_t *obj, ob_row **out, ob_err *err)
{
    ob_row *r = ob_row_new(a, t);
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        json_t *j = json_object_get(obj, c->name);
        if (!j || json_is_null(j) || c->gen) continue; /* generated columns are computed again */
        if (value_of(a, t, c, j, &r->v[i], err) != 0) return -1;
        r->set[i] = true;
    }
    if (!r->set[t->id_col] || r->v[t->id_col].t != OB_V_TEXT) return bad_row(err, t, "id");
    *out = r;
    return 0;
}

#define SCRATCH_ROWS 256

/* A backup holds secrets sealed for the tenant's slug. They are opened here
 * and sealed again as the row is inserted (schema/sql.c), for the slug it
 * is restored as: under another slug the new tenant's key seals them, and
 * the lookup hashes of their plaintext (blind_of) are computed again with
 * that key, so `?tax_number=` finds the rows of the copy. A value that does
 * not open (a master key this process lacks) refuses the restore. */
static int open_secrets(loader *l, ob_row *r, ob_err *err)
{
    const ob_table *t = r->t;
    for (int i = 0; i < t->ncols; i++) {
        if (!(t->cols[i]->flags & OB_ENCRYPTED) || !r->set[i] || r->v[i].t != OB_V_TEXT) continue;
        if (!ob_secret_looks_sealed(r->v[i].s, r->v[i].n)) continue; /* written in clear by an older export */
        ob_sb plain;
        ob_sb_init_arena(&plain, &l->scratch, r->v[i].n);
        if (ob_secret_open(&plain, l->sealed_for, t->name, ob_row_id(r), t->cols[i]->name, r->v[i].s, r->v[i].n,
                           err) != 0)
            return ob_err_set(err, OB_E_VALIDATION,
                              "%s.%s of row %.40s does not open: the backup was sealed under a master key this "
                              "process does not hold (the manifest's sealed_key_id names it)",
                              t->name, t->cols[i]->name, ob_row_id(r));
        r->v[i] = ob_v_textn(plain.buf, plain.len);
    }
    return 0;
}

static int load_row(loader *l, const ob_table *t, json_t *obj, ob_err *err)
{
    if (l->rows % SCRATCH_ROWS == 0) { /* rows are inserted one by one: their memory need not outlive a batch */
        ob_arena_release(&l->scratch);
        ob_arena_init(&l->scratch, 0);
    }
    ob_row *r;
    if (ob_ops_row_from_json(&l->scratch, t, obj, &r, err) != 0) return -1;
    int rank = table_rank(t);
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!r->set[i] || c->type != OB_F_REF || (c->flags & OB_REQUIRED)) continue;
        if (table_rank(ob_registry_find(c->ref)) < rank) continue;
        later *f = ob_arena_alloc(l->a, sizeof *f);
        *f = (later){t, ob_arena_strdup(l->a, r->v[t->id_col].s), i, ob_arena_strdup(l->a, r->v[i].s), l->fix};
        l->fix = f;
        r->set[i] = false;
    }
    rename_tenant_row(l, t, r);
    if (l->sealed_for && open_secrets(l, r, err) != 0) return -1;
    l->rows++;
    return ob_sql_insert(&l->ctx, r, err);
}

static int apply_later(loader *l, ob_scope scope, ob_err *err)
{
    for (later *f = l->fix; f; f = f->next) {
        if (f->t->res->scope != scope) continue;
        const char *sql = ob_arena_printf(l->a, "UPDATE \"%s\" SET \"%s\" = ? WHERE \"id\" = ?", f->t->name,
                                          f->t->cols[f->col]->name);
        ob_value v[] = {ob_v_text(f->value), ob_v_text(f->id)};
        if (ob_sql_run(l->ctx.db, sql, v, 2, err) != 0) return -1;
    }
    return 0;
}

/* Parse one line into its table and row object (owned by the caller). */
static int parse_line(const char *line, size_t n, const ob_table **t, json_t **row, json_t **doc, ob_err *err)
{
    json_error_t je;
    *doc = json_loadb(line, n, 0, &je);
    const char *name = json_string_value(json_object_get(*doc, "t"));
    *row = json_object_get(*doc, "r");
    *t = name ? ob_registry_find(name) : NULL;
    if (!*t || !json_is_object(*row)) {
        json_decref(*doc);
        return ob_err_set(err, OB_E_VALIDATION, "a backup line names no table of this binary: %.80s", line);
    }
    return 0;
}

typedef struct manifest_part {
    const char *kind, *file, *sha256, *tenant;
    const char *files_file, *files_sha256; /* a tenant's uploads, when the backup has them */
} manifest_part;

static int open_part(const char *dir, const manifest_part *p, ob_zreader **r, ob_err *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, p->file);
    return ob_zr_open(r, path, p->sha256, err);
}

/* The control part: platform rows no tenant owns, into an empty control
 * database. */
static int restore_control(ob_store *s, const char *dir, const manifest_part *p, ob_restore_report *rep, ob_err *err)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_zreader *zr = NULL;
    ob_conn *c = NULL;
    loader l = {.a = &a};
    ob_arena_init(&l.scratch, 0);
    int rc = open_part(dir, p, &zr, err);
    if (rc == 0) rc = ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err);
    if (rc == 0) rc = ob_migrate(c, OB_SCOPE_CONTROL, NULL, err);
    if (rc == 0) {
        ob_ctx_system(&l.ctx, &a, s, c, NULL);
        l.ctx.arena = &l.scratch; /* what inserting allocates goes with its batch */
        ob_stmt *st;
        rc = ob_db_prepare(c, "SELECT (SELECT COUNT(*) FROM tenants) + (SELECT COUNT(*) FROM plans)", &st, err);
        if (rc == 0) {
            rc = ob_stmt_step(st, err) == 1 && ob_stmt_col_i64(st, 0) == 0
                     ? 0
                     : ob_err_set(err, OB_E_CONFLICT, "restoring a whole backup needs an empty store (a new data "
                                                      "directory or database); restore one tenant with --tenant");
            ob_stmt_done(st);
        }
    }
    if (rc == 0) rc = ob_db_begin(c, err);
    const char *line;
    size_t n;
    int more;
    while (rc == 0 && (more = ob_zr_line(zr, &line, &n, err)) == 1) {
        const ob_table *t;
        json_t *row, *doc;
        rc = parse_line(line, n, &t, &row, &doc, err);
        if (rc != 0) break;
        rc = t->res->scope == OB_SCOPE_CONTROL ? load_row(&l, t, row, err)
                                               : ob_err_set(err, OB_E_VALIDATION, "a tenant row in the control part");
        json_decref(doc);
    }
    if (rc == 0 && more < 0) rc = -1;
    if (rc == 0) rc = apply_later(&l, OB_SCOPE_CONTROL, err);
    if (rc == 0) rc = ob_db_commit(c, err);
    if (c) ob_db_release(c);
    ob_zr_close(zr);
    if (rc == 0) rep->rows += l.rows;
    ob_arena_release(&l.scratch);
    ob_arena_release(&a);
    return rc;
}

/* A tenant part: its platform rows into the control database and its own
 * database created, migrated and filled; all or nothing. */
/* Both checksums before anything is written, so a damaged backup writes no
 * file and no row; then the files, so that no restored row ever names a file
 * that is not there yet. */
static int restore_files(const char *root, const char *dir, const manifest_part *p, const char *slug,
                         ob_restore_report *rep, ob_err *err)
{
    char path[1024], sum[65];
    snprintf(path, sizeof path, "%s/%s", dir, p->file);
    if (ob_file_sha256(path, sum, err) != 0) return -1;
    if (strcmp(sum, p->sha256) != 0)
        return ob_err_set(err, OB_E_VALIDATION, "%.200s: checksum %s does not match the manifest", path, sum);
    if (!root || !p->files_file) return 0;
    snprintf(path, sizeof path, "%s/%s", dir, p->files_file);
    if (ob_file_sha256(path, sum, err) != 0) return -1;
    if (strcmp(sum, p->files_sha256) != 0)
        return ob_err_set(err, OB_E_VALIDATION, "%.200s: checksum %s does not match the manifest", path, sum);
    int64_t n;
    if (ob_ops_files_load(root, slug, path, p->files_sha256, &n, err) != 0) return -1;
    rep->files += n;
    return 0;
}

static int restore_tenant(ob_store *s, const char *dir, const char *files_root, const manifest_part *p,
                          const char *slug, ob_restore_report *rep, ob_err *err)
{
    if (!ob_db_slug_valid(slug))
        return ob_err_set(err, OB_E_VALIDATION, "tenant slug \"%.60s\" must be lower-case letters, digits and dashes",
                          slug);
    if (ob_db_tenant_exists(s, slug))
        return ob_err_set(err, OB_E_CONFLICT, "a tenant \"%.60s\" exists already: delete it first or restore --as "
                                              "another slug", slug);
    if (restore_files(files_root, dir, p, slug, rep, err) != 0) return -1;
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_zreader *zr = NULL;
    ob_conn *c = NULL, *tc = NULL;
    loader cl = {.a = &a}, tl = {.a = &a};
    ob_arena_init(&cl.scratch, 0);
    ob_arena_init(&tl.scratch, 0);
    bool renamed = strcmp(slug, p->tenant) != 0, created = false;
    if (renamed) {
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        cl.new_id = ob_arena_strdup(&a, id);
        cl.slug = slug;
    }
    const char *tenant_id = cl.new_id;
    int rc = open_part(dir, p, &zr, err);
    if (rc == 0) rc = ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err);
    if (rc == 0) rc = ob_db_begin(c, err);
    if (rc == 0) {
        ob_ctx_system(&cl.ctx, &a, s, c, NULL);
        cl.ctx.arena = &cl.scratch;
    }
    const char *line;
    size_t n;
    int more;
    while (rc == 0 && (more = ob_zr_line(zr, &line, &n, err)) == 1) {
        const ob_table *t;
        json_t *row, *doc;
        rc = parse_line(line, n, &t, &row, &doc, err);
        if (rc != 0) break;
        if (t->res->scope == OB_SCOPE_CONTROL) {
            if (tc) rc = ob_err_set(err, OB_E_VALIDATION, "a platform row after the tenant's rows");
            else if (ob_ops_tenant_col(t) < 0) rc = ob_err_set(err, OB_E_VALIDATION, "a shared row in a tenant part");
            else rc = load_row(&cl, t, row, err);
            if (rc != 0 && err->code == OB_E_CONFLICT && strcmp(t->name, "tenants") == 0) /* a racing restore */
                rc = ob_err_set(err, OB_E_CONFLICT, "a tenant \"%.60s\" exists already: delete it first or "
                                                    "restore --as another slug", slug);
            if (rc == 0 && !tenant_id && strcmp(t->name, "tenants") == 0)
                tenant_id = ob_arena_strdup(&a, json_string_value(json_object_get(row, "id")));
        } else if (!tenant_id) {
            rc = ob_err_set(err, OB_E_VALIDATION, "a tenant part without its tenant row");
        } else {
            if (!tc) {
                rc = ob_db_create_tenant(s, slug, err);
                created = rc == 0;
                if (rc == 0) rc = ob_db_acquire(s, slug, tenant_id, OB_DB_WRITE, &tc, err);
                if (rc == 0) rc = ob_migrate(tc, OB_SCOPE_TENANT, NULL, err);
                if (rc == 0) rc = ob_db_bulk(tc, true, err); /* one transaction of every row and index */
                if (rc == 0) rc = ob_db_begin(tc, err);
                if (rc == 0) {
                    ob_ctx_system(&tl.ctx, &a, s, tc, NULL);
                    tl.ctx.arena = &tl.scratch;
                    tl.sealed_for = p->tenant;
                }
            }
            if (rc == 0) rc = load_row(&tl, t, row, err);
        }
        json_decref(doc);
    }
    if (rc == 0 && more < 0) rc = -1;
    if (rc == 0 && !tc) rc = ob_err_set(err, OB_E_VALIDATION, "the tenant part holds no database rows");
    if (rc == 0) rc = apply_later(&cl, OB_SCOPE_CONTROL, err);
    if (rc == 0) rc = apply_later(&tl, OB_SCOPE_TENANT, err);
    /* the tenant's database first: a control row without its database would
     * be a tenant that cannot open, a database without one is only unused */
    if (rc == 0) rc = ob_db_commit(tc, err);
    if (rc == 0) rc = ob_db_commit(c, err);
    if (tc) {
        ob_err ignored;
        if (!ob_db_in_txn(tc)) ob_db_bulk(tc, false, &ignored);
        ob_db_release(tc);
    }
    if (c) ob_db_release(c);
    ob_zr_close(zr);
    if (rc != 0 && created) {
        ob_err ignored;
        ob_db_drop_tenant(s, slug, &ignored);
    }
    if (rc == 0) {
        rep->rows += cl.rows + tl.rows;
        rep->tenants++;
    }
    ob_arena_release(&cl.scratch);
    ob_arena_release(&tl.scratch);
    ob_arena_release(&a);
    return rc;
}

static int read_manifest(const char *dir, json_t **m, ob_err *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_error_t je;
    *m = json_load_file(path, 0, &je);
    if (!*m) return ob_err_set(err, OB_E_NOT_FOUND, "%.200s: no readable backup manifest (%.100s)", path, je.text);
    const char *fmt = json_string_value(json_object_get(*m, "format"));
    json_int_t fv = json_integer_value(json_object_get(*m, "format_version"));
    json_int_t sv = json_integer_value(json_object_get(*m, "schema_version"));
    if (!fmt || strcmp(fmt, OB_BACKUP_FORMAT) != 0 || fv < 1 || !json_is_array(json_object_get(*m, "parts")))
        return ob_err_set(err, OB_E_VALIDATION, "%.200s is not an opsbase backup manifest", path);
    if (fv > OB_BACKUP_FORMAT_VERSION || sv > ob_registry_version())
        return ob_err_set(err, OB_E_CONFLICT,
                          "the backup is of schema version %lld (format %lld), newer than this binary's %d: restore "
                          "it with a newer opsbase",
                          (long long)sv, (long long)fv, ob_registry_version());
    return 0;
}

static manifest_part part_at(json_t *m, size_t i)
{
    json_t *p = json_array_get(json_object_get(m, "parts"), i);
    json_t *f = json_object_get(p, "files");
    return (manifest_part){json_string_value(json_object_get(p, "kind")), json_string_value(json_object_get(p, "file")),
                           json_string_value(json_object_get(p, "sha256")),
                           json_string_value(json_object_get(p, "tenant")),
                           json_string_value(json_object_get(f, "file")),
                           json_string_value(json_object_get(f, "sha256"))};
}

static bool rel_ok(const char *f)
{
    return f && !strstr(f, "..") && f[0] != '/';
}

static bool part_ok(const manifest_part *p)
{
    if (p->files_file && (!rel_ok(p->files_file) || !p->files_sha256)) return false;
    return p->kind && p->file && p->sha256 && !strstr(p->file, "..") && p->file[0] != '/' &&
           (strcmp(p->kind, "control") == 0 || (strcmp(p->kind, "tenant") == 0 && p->tenant));
}

int ob_restore(ob_store *s, const ob_restore_opts *o, ob_restore_report *rep, ob_err *err)
{
    memset(rep, 0, sizeof *rep);
    json_t *m;
    int rc = read_manifest(o->from_dir, &m, err);
    size_t np = rc == 0 ? json_array_size(json_object_get(m, "parts")) : 0;
    for (size_t i = 0; rc == 0 && i < np; i++) {
        manifest_part p = part_at(m, i);
        if (!part_ok(&p)) rc = ob_err_set(err, OB_E_VALIDATION, "the manifest's part %zu is malformed", i);
    }
    if (rc == 0 && o->tenant) {
        bool found = false;
        for (size_t i = 0; rc == 0 && i < np; i++) {
            manifest_part p = part_at(m, i);
            if (strcmp(p.kind, "tenant") != 0 || strcmp(p.tenant, o->tenant) != 0) continue;
            found = true;
            rc = restore_tenant(s, o->from_dir, o->files_root, &p, o->as ? o->as : o->tenant, rep, err);
        }
        if (rc == 0 && !found) rc = ob_err_set(err, OB_E_NOT_FOUND, "the backup holds no tenant \"%.60s\"", o->tenant);
    } else if (rc == 0) {
        if (strcmp(json_string_value(json_object_get(m, "scope")) ?: "", "all") != 0)
            rc = ob_err_set(err, OB_E_VALIDATION, "a backup of one tenant restores with --tenant");
        for (size_t i = 0; rc == 0 && i < np; i++) { /* the control part first: tenants refer to plans */
            manifest_part p = part_at(m, i);
            if (strcmp(p.kind, "control") == 0) rc = restore_control(s, o->from_dir, &p, rep, err);
        }
        for (size_t i = 0; rc == 0 && i < np; i++) {
            manifest_part p = part_at(m, i);
            if (strcmp(p.kind, "tenant") == 0) rc = restore_tenant(s, o->from_dir, o->files_root, &p, p.tenant, rep, err);
        }
    }
    json_decref(m);
    return rc;
}
