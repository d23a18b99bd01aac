/* deletion.c - a tenant's erasure when its grace period is over (see
 * tenants.h, ob_tenant_purge_due). The tombstone is written first, in state
 * purging, then the database and files go, then the tombstone says done: a
 * purge cut short (a crash, a kill) leaves a purging tombstone that the next
 * run finishes from. */
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "db/secrets.h"
#include "platform/tenants.h"
#include "schema/registry.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

typedef struct due_tenant {
    const char *id, *slug, *due;
} due_tenant;

/* Suspended tenants whose deletion_due_at is at or before now. */
static int due_tenants(ob_store *s, ob_arena *a, int64_t now_ms, due_tenant **out, int *n, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    ob_stmt *st;
    int rc = ob_db_prepare(c,
                           "SELECT id, slug, deletion_due_at FROM tenants WHERE status = 'suspended' AND "
                           "deleted_at IS NULL AND deletion_due_at IS NOT NULL ORDER BY slug",
                           &st, err);
    int cap = 0;
    *out = NULL;
    *n = 0;
    while (rc == 0 && (rc = ob_stmt_step(st, err)) == 1) {
        const char *due = ob_stmt_col_text(st, 2, NULL);
        int64_t due_ms;
        rc = 0;
        if (!due || ob_ts_parse(due, &due_ms) != 0 || due_ms > now_ms) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            due_tenant *g = ob_arena_alloc(a, sizeof *g * (size_t)cap);
            if (*n) memcpy(g, *out, sizeof *g * (size_t)*n);
            *out = g;
        }
        (*out)[*n] = (due_tenant){ob_arena_strdup(a, ob_stmt_col_text(st, 0, NULL)),
                                  ob_arena_strdup(a, ob_stmt_col_text(st, 1, NULL)), ob_arena_strdup(a, due)};
        (*n)++;
    }
    if (rc >= 0 && st) ob_stmt_done(st);
    ob_db_release(c);
    return rc < 0 ? -1 : 0;
}

/* Rows of every tenant table, read in one snapshot: what the certificate
 * says was removed. */
static int count_rows(ob_store *s, const char *slug, json_t *tables, int64_t *total, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, slug, NULL, OB_DB_READ, &c, err) != 0) return -1;
    int rc = ob_db_begin(c, err);
    char sql[160];
    for (int i = 0; rc == 0 && i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope != OB_SCOPE_TENANT) continue;
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM \"%s\"", t->name);
        ob_stmt *st;
        if ((rc = ob_db_prepare(c, sql, &st, err)) != 0) break;
        int r = ob_stmt_step(st, err);
        int64_t k = r == 1 ? ob_stmt_col_i64(st, 0) : 0;
        ob_stmt_done(st);
        if (r < 0) rc = -1;
        else if (k > 0) {
            json_object_set_new(tables, t->name, json_integer(k));
            *total += k;
        }
    }
    ob_db_rollback(c);
    ob_db_release(c);
    return rc;
}

/* The tombstone, inserted in the control database in state purging before
 * the removal. 1: written; 0: another purge wrote this tenant's already. */
static int bury(ob_store *s, ob_arena *a, const due_tenant *d, const char *now, json_t *tables, int64_t total,
                const char **tomb_id, ob_err *err)
{
    json_t *cert = json_pack("{s:s, s:s, s:s, s:s, s:O, s:I, s:s}", "slug", d->slug, "tenant_id", d->id,
                             "deletion_due_at", d->due, "deleted_at", now, "tables", tables, "rows_removed",
                             (json_int_t)total, "key_id", ob_secrets_key_id() ? ob_secrets_key_id() : "");
    char *text = cert ? json_dumps(cert, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *tables_text = json_dumps(tables, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(cert);
    if (!text || !tables_text) {
        free(text);
        free(tables_text);
        return ob_err_set(err, OB_E_INTERNAL, "out of memory");
    }
    char sum[65], sig[65];
    ob_sha256 h;
    ob_sha256_init(&h);
    ob_sha256_update(&h, text, strlen(text));
    ob_sha256_final(&h, sum);
    int rc = ob_secret_blind(sig, "platform", "tenant_tombstones", "certificate", text, strlen(text), err);
    ob_conn *c = NULL;
    if (rc == 0) rc = ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err);
    if (rc == 0) {
        ob_ctx ctx;
        ob_ctx_system(&ctx, a, s, c, NULL);
        snprintf(ctx.now, sizeof ctx.now, "%s", now);
        ob_row *r = ob_row_new(a, ob_registry_find(OB_TABLE_TENANT_TOMBSTONES));
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_ID, id);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_CREATED_AT, now);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_SLUG, d->slug);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_TENANT_ID, d->id);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_DELETION_DUE_AT, d->due);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_DELETED_AT, now);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_TABLES, tables_text);
        ob_row_set_int(r, TENANT_TOMBSTONES_ROWS_REMOVED, total);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_CHECKSUM, sum);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_CERTIFICATE, text);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_SIGNATURE, sig);
        ob_row_set_text(a, r, TENANT_TOMBSTONES_STATE, "purging");
        rc = ob_db_begin(c, err);
        if (rc == 0) rc = ob_sql_insert(&ctx, r, err);
        if (rc == 0) rc = ob_db_commit(c, err);
        else ob_db_rollback(c);
        ob_db_release(c);
        if (rc == 0) *tomb_id = ob_arena_strdup(a, id);
    }
    free(text);
    free(tables_text);
    if (rc == 0) return 1;
    return err->code == OB_E_CONFLICT ? 0 : -1; /* the unique tenant_id: another purge is on it */
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

/* Remove the tenant's database, control rows and files, unless the slug
 * belongs to another tenant by now (created after the erasure began). */
static int remove_tenant(ob_store *s, const char *slug, const char *tenant_id, const char *files_root, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    ob_stmt *st;
    int rc = ob_db_prepare(c, "SELECT id FROM tenants WHERE slug = ?", &st, err);
    bool other = false;
    if (rc == 0) {
        ob_stmt_bind_text(st, 1, slug, err);
        int r = ob_stmt_step(st, err);
        if (r == 1) other = strcmp(ob_stmt_col_text(st, 0, NULL), tenant_id) != 0;
        if (r < 0) rc = -1;
        ob_stmt_done(st);
    }
    ob_db_release(c);
    if (rc != 0) return -1;
    if (other) return 0;
    /* gone already (a purge cut short after the removal): nothing to do */
    if (ob_tenant_delete(s, slug, err) != 0 && err->code != OB_E_NOT_FOUND) return -1;
    if (files_root) {
        /* uploads live under the data directory in both storage modes */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/files/%s", files_root, slug);
        if (access(dir, F_OK) == 0 && nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
            return ob_err_set(err, OB_E_STORAGE, "could not remove every file under %.300s", dir);
    }
    return 0;
}

static int mark_done(ob_store *s, const char *tombstone_id, const char *now, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, err) != 0) return -1;
    ob_value v[] = {ob_v_text(now), ob_v_text(tombstone_id)};
    int rc = ob_db_begin(c, err);
    if (rc == 0)
        rc = ob_sql_run(c, "UPDATE tenant_tombstones SET state = 'done', completed_at = ? WHERE id = ? AND state = 'purging'",
                        v, 2, err);
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    ob_db_release(c);
    return rc;
}

/* Whether a tombstone for tenant_id exists: 1 yes, 0 no, -1 error. */
static int buried(ob_store *s, const char *tenant_id, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    ob_stmt *st = NULL;
    int rc = ob_db_prepare(c, "SELECT 1 FROM tenant_tombstones WHERE tenant_id = ?", &st, err);
    if (rc == 0) rc = ob_stmt_bind_text(st, 1, tenant_id, err);
    if (rc == 0) rc = ob_stmt_step(st, err);
    if (st) ob_stmt_done(st);
    ob_db_release(c);
    return rc < 0 ? -1 : rc;
}

typedef struct pending {
    const char *id, *slug, *tenant_id;
} pending;

/* A purge removes a tenant in seconds; a tombstone purging for longer was
 * left by a purge cut short. A younger one may be another process's purge
 * under way, which must not be raced to the drop. */
#define PURGE_STALE_MS (2 * 60 * 1000)

/* Tombstones a purge left in state purging, oldest first. */
static int pending_tombstones(ob_store *s, ob_arena *a, int64_t now_ms, pending **out, int *n, ob_err *err)
{
    ob_conn *c;
    if (ob_db_acquire(s, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    ob_stmt *st;
    char before[OB_TS_LEN];
    ob_ts_format(ob_now_ms() - PURGE_STALE_MS, before);
    (void)now_ms; /* staleness is measured on the real clock, whatever time the run is given */
    int rc = ob_db_prepare(c,
                           "SELECT id, slug, tenant_id FROM tenant_tombstones WHERE state = 'purging' AND created_at < ? "
                           "ORDER BY id",
                           &st, err);
    if (rc == 0) ob_stmt_bind_text(st, 1, before, err);
    int cap = 0;
    *out = NULL;
    *n = 0;
    while (rc == 0 && (rc = ob_stmt_step(st, err)) == 1) {
        rc = 0;
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            pending *g = ob_arena_alloc(a, sizeof *g * (size_t)cap);
            if (*n) memcpy(g, *out, sizeof *g * (size_t)*n);
            *out = g;
        }
        (*out)[(*n)++] = (pending){ob_arena_strdup(a, ob_stmt_col_text(st, 0, NULL)),
                                   ob_arena_strdup(a, ob_stmt_col_text(st, 1, NULL)),
                                   ob_arena_strdup(a, ob_stmt_col_text(st, 2, NULL))};
    }
    if (rc >= 0 && st) ob_stmt_done(st);
    ob_db_release(c);
    return rc < 0 ? -1 : 0;
}

int ob_tenant_purge_due(ob_store *s, ob_arena *a, int64_t now_ms, const char *files_root, ob_slugs *purged,
                        ob_err *err)
{
    memset(purged, 0, sizeof *purged);
    /* the certificate is signed before the removal: make sure it can be */
    if (!ob_secrets_ready()) return ob_err_set(err, OB_E_INTERNAL, "no master key: a deletion certificate cannot be signed");
    char now[OB_TS_LEN];
    ob_ts_format(now_ms, now);
    /* first what an earlier purge began and did not finish */
    pending *left;
    int nleft;
    if (pending_tombstones(s, a, now_ms, &left, &nleft, err) != 0) return -1;
    due_tenant *due;
    int n;
    if (due_tenants(s, a, now_ms, &due, &n, err) != 0) return -1;
    purged->v = ob_arena_alloc(a, sizeof *purged->v * (size_t)(n + nleft + 1));
    for (int i = 0; i < nleft; i++) {
        if (remove_tenant(s, left[i].slug, left[i].tenant_id, files_root, err) != 0) return -1;
        if (mark_done(s, left[i].id, now, err) != 0) return -1;
        purged->v[purged->n++] = left[i].slug;
    }
    for (int i = 0; i < n; i++) {
        json_t *tables = json_object();
        int64_t total = 0;
        int rc = count_rows(s, due[i].slug, tables, &total, err);
        if (rc != 0 && err->code == OB_E_NOT_FOUND) {
            json_decref(tables); /* another purge removed it meanwhile; its tombstone says so */
            continue;
        }
        /* On PostgreSQL another purge can drop the schema under this count:
         * a table gone from a tenant connection reads as a move (retryable).
         * When that purge's tombstone is there, the tenant is its to finish. */
        ob_err again;
        if (rc != 0 && err->code == OB_E_UNAVAILABLE && buried(s, due[i].id, &again) == 1) {
            json_decref(tables);
            continue;
        }
        const char *tomb = NULL;
        if (rc == 0) rc = bury(s, a, &due[i], now, tables, total, &tomb, err);
        json_decref(tables);
        if (rc < 0) return -1;
        if (rc == 0) continue; /* another process's purge holds it and finishes it */
        if (remove_tenant(s, due[i].slug, due[i].id, files_root, err) != 0) return -1;
        if (mark_done(s, tomb, now, err) != 0) return -1;
        purged->v[purged->n++] = due[i].slug;
    }
    return 0;
}
