/* platform_export.c - a tenant's export as one archive made by a job
 * (issue 17, docs/privacy.md): POST /api/v1/platform/tenants/{id}/export
 * records a tenant_exports row and queues platform.tenant_export in the
 * tenant's job queue, answering 202; the job packs the export (ops/tarball.h)
 * under DATA/exports/ and completes the row; GET
 * /api/v1/platform/tenant_exports/{id}/download sends the archive. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/export_int.h"
#include "audit/audit.h"
#include "base/base.h"
#include "files/files.h"
#include "jobs/jobs.h"
#include "ops/tarball.h"
#include "platform/tenants.h"
#include "schema/crud.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define EXPORT_KIND "platform.tenant_export"

/* The id and slug of a tenant that is not deleted (nor being provisioned),
 * on the control connection. */
static int live_tenant(ob_ctx *ctx, const char *id, const char **slug, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT slug FROM tenants WHERE id = ? AND deleted_at IS NULL AND status <> 'provisioning'", &st,
                      err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, id, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *slug = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (rc < 0) return -1;
    return rc == 1 ? 0 : ob_err_set(err, OB_E_NOT_FOUND, "no such tenant");
}

/* The request row and its platform audit row, in one control transaction. */
static int record_request(ob_ctx *ctx, const char *tenant_id, const char *slug, ob_row **out, ob_err *err)
{
    ob_conn *w, *r = ctx->db;
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_WRITE, &w, err) != 0) return -1;
    ctx->db = w;
    ob_row *row = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_TENANT_EXPORTS));
    ob_row_set_text(ctx->arena, row, TENANT_EXPORTS_TENANT_ID, tenant_id);
    ob_row_set_text(ctx->arena, row, TENANT_EXPORTS_SLUG, slug);
    ob_row_set_text(ctx->arena, row, TENANT_EXPORTS_STATUS, "queued");
    ob_row_set_text(ctx->arena, row, TENANT_EXPORTS_REQUESTED_BY, ctx->who->user_id);
    int rc = ob_db_begin(w, err);
    if (rc == 0) rc = ob_crud_insert_row(ctx, row, err);
    if (rc == 0) {
        const char *detail = ob_arena_printf(ctx->arena, "{\"export_id\":\"%s\",\"tenant\":\"%s\"}", ob_row_id(row), slug);
        rc = ob_audit_platform_event(ctx, "export", "tenants", tenant_id, detail, err);
    }
    if (rc == 0) rc = ob_db_commit(w, err);
    else ob_db_rollback(w);
    ob_db_release(w);
    ctx->db = r;
    *out = row;
    return rc;
}

/* Queue the job in the tenant's own queue: the workers sweep tenants. */
static int queue_job(ob_ctx *ctx, ob_app *app, const char *tenant_id, const char *slug, const char *export_id,
                     ob_err *err)
{
    ob_conn *w;
    if (ob_db_acquire(ctx->store, slug, tenant_id, OB_DB_WRITE, &w, err) != 0) return -1;
    ob_tenant_info ti = {.id = tenant_id, .slug = slug};
    ob_ctx tctx;
    ob_ctx_system(&tctx, ctx->arena, ctx->store, w, &ti);
    const char *payload = ob_arena_printf(ctx->arena, "{\"export_id\":\"%s\",\"version\":\"%s\"}", export_id,
                                          app->version ? app->version : "");
    int rc = ob_db_begin(w, err);
    /* one attempt: a failed export is recorded on its row and asked for again */
    if (rc == 0) rc = ob_job_enqueue(&tctx, EXPORT_KIND, payload, 1, err);
    if (rc == 0) rc = ob_db_commit(w, err);
    else ob_db_rollback(w);
    ob_db_release(w);
    return rc;
}

/* Save changes to a tenant_exports row on the control writer (no hooks, no
 * audit: the table declares none). fill() changes the copy. */
typedef void (*fill_fn)(ob_arena *a, ob_row *row, void *arg);
static int update_row(ob_store *s, const char *id, fill_fn fill, void *arg, ob_err *err)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_conn *w;
    int rc = ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &w, err);
    if (rc == 0) {
        ob_ctx c;
        ob_ctx_system(&c, &a, s, w, NULL);
        ob_row *old;
        rc = ob_db_begin(w, err);
        if (rc == 0) rc = ob_sql_load_internal(&c, ob_registry_find(OB_TABLE_TENANT_EXPORTS), id, &old, err);
        if (rc == 0) {
            ob_row *row = ob_row_copy(&a, old);
            fill(&a, row, arg);
            rc = ob_crud_save(&c, old, row, "update", err);
        }
        if (rc == 0) rc = ob_db_commit(w, err);
        else ob_db_rollback(w);
        ob_db_release(w);
    }
    ob_arena_release(&a);
    return rc;
}

static void fill_running(ob_arena *a, ob_row *row, void *arg)
{
    (void)arg;
    ob_row_set_text(a, row, TENANT_EXPORTS_STATUS, "running");
}

typedef struct outcome {
    const char *file_name, *error, *now;
    const ob_archive_report *rep;
} outcome;

static void fill_outcome(ob_arena *a, ob_row *row, void *arg)
{
    const outcome *o = arg;
    ob_row_set_text(a, row, TENANT_EXPORTS_STATUS, o->error ? "failed" : "done");
    ob_row_set_text(a, row, TENANT_EXPORTS_FINISHED_AT, o->now);
    if (o->error) {
        ob_row_set_text(a, row, TENANT_EXPORTS_ERROR, o->error);
        return;
    }
    ob_row_set_text(a, row, TENANT_EXPORTS_FILE_NAME, o->file_name);
    ob_row_set_text(a, row, TENANT_EXPORTS_SHA256, o->rep->sha256);
    ob_row_set_int(row, TENANT_EXPORTS_SIZE_BYTES, o->rep->bytes);
    ob_row_set_int(row, TENANT_EXPORTS_ROWS, o->rep->rows);
    ob_row_set_int(row, TENANT_EXPORTS_FILES, o->rep->files);
}

/* The job: on a reader of the tenant (it takes no write lock of the tenant;
 * the export reads in its own snapshot). */
int ob_platform_export_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    const ob_file_store *files = ob_api_file_store();
    if (!files || !files->root) return ob_err_set(err, OB_E_UNAVAILABLE, "this process has no data directory");
    json_t *pl = json_loads(ob_row_text(job, JOBS_PAYLOAD) ? ob_row_text(job, JOBS_PAYLOAD) : "{}", 0, NULL);
    const char *id = json_string_value(json_object_get(pl, "export_id"));
    const char *version = json_string_value(json_object_get(pl, "version"));
    id = ob_arena_strdup(ctx->arena, id ? id : "");
    version = ob_arena_strdup(ctx->arena, version && *version ? version : "unknown");
    json_decref(pl);
    if (update_row(ctx->store, id, fill_running, NULL, err) != 0) return -1;
    const char *dir = ob_arena_printf(ctx->arena, "%s/exports", files->root);
    ob_sb name;
    ob_sb_init_arena(&name, ctx->arena, 96);
    ob_sb_addf(&name, "%s-%lld-", ctx->tenant->slug, (long long)ctx->now_ms);
    ob_random_b64url(&name, 6);
    ob_sb_adds(&name, ".tar");
    ob_archive_report rep;
    ob_err xerr;
    ob_err_clear(&xerr);
    int rc = 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) rc = ob_err_set(&xerr, OB_E_STORAGE, "cannot create %s", dir);
    if (rc == 0)
        rc = ob_tenant_archive(ctx->store, ctx->tenant->slug, version, files->root,
                               ob_arena_printf(ctx->arena, "%s/%s", dir, name.buf), &rep, &xerr);
    char now[OB_TS_LEN];
    ob_ts_format(ob_now_ms(), now);
    outcome o = {.file_name = name.buf, .error = rc == 0 ? NULL : xerr.message, .now = now, .rep = &rep};
    if (update_row(ctx->store, id, fill_outcome, &o, err) != 0) return -1;
    if (rc != 0) {
        *err = xerr;
        return -1;
    }
    ob_sb_addf(result, "{\"export_id\":\"%s\",\"file_name\":\"%s\",\"rows\":%lld,\"sha256\":\"%s\"}", id, name.buf,
               (long long)rep.rows, rep.sha256);
    return 0;
}

void ob_api_platform_export(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)req;
    ob_err err;
    const char *slug = NULL;
    if (live_tenant(ctx, call->id, &slug, &err) != 0) return ob_resp_error(resp, &err);
    if (!app->files || !app->files->root) {
        ob_err_set(&err, OB_E_UNAVAILABLE, "this server keeps no files: exports need its data directory");
        return ob_resp_error(resp, &err);
    }
    ob_row *row;
    if (record_request(ctx, call->id, slug, &row, &err) != 0) return ob_resp_error(resp, &err);
    if (queue_job(ctx, app, call->id, slug, ob_row_id(row), &err) != 0) {
        /* the request stays visible, failed, rather than queued for ever */
        outcome o = {.error = err.message, .now = ctx->now};
        ob_err uerr;
        update_row(ctx->store, ob_row_id(row), fill_outcome, &o, &uerr);
        return ob_resp_error(resp, &err);
    }
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_row_json(ctx, &w, row);
    ob_resp_header(resp, "Location", ob_arena_printf(ctx->arena, "/api/v1/platform/tenant_exports/%s", ob_row_id(row)));
    resp->status = 202;
}

void ob_api_platform_export_download(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)req;
    ob_err err;
    ob_row *row;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_TENANT_EXPORTS), call->id, &row, &err) != 0)
        return ob_resp_error(resp, &err);
    if (strcmp(ob_row_text(row, TENANT_EXPORTS_STATUS), "done") != 0) {
        ob_err_set(&err, OB_E_BAD_STATE, "the export is %s, not done", ob_row_text(row, TENANT_EXPORTS_STATUS));
        return ob_resp_error(resp, &err);
    }
    const char *name = ob_row_text(row, TENANT_EXPORTS_FILE_NAME);
    int fd = -1;
    struct stat st;
    if (app->files && app->files->root) {
        fd = open(ob_arena_printf(ctx->arena, "%s/exports/%s", app->files->root, name), O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &st) != 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) {
        ob_err_set(&err, OB_E_GONE, "the archive is no longer on this server");
        return ob_resp_error(resp, &err);
    }
    ob_resp_header(resp, "Content-Type", "application/x-tar");
    ob_resp_header(resp, "Content-Disposition", ob_arena_printf(ctx->arena, "attachment; filename=\"%s\"", name));
    ob_resp_header(resp, "X-Checksum-SHA256", ob_row_text(row, TENANT_EXPORTS_SHA256));
    ob_resp_header(resp, "Cache-Control", "no-store");
    resp->status = 200;
    resp->file_fd = fd;
    resp->file_off = 0;
    resp->file_len = (int64_t)st.st_size;
}
