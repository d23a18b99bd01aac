/* export_approval.c - an export above the tenant's require_approval_threshold.
 *
 * The request answers 202 with a pending export_logs row and, once, a
 * download token (32 random bytes, hex) that only its SHA-256 keeps
 * (export_logs.token_hash). An approver's `approve` event (declared in the
 * security area with its permission) queues exports.produce, which writes
 * the file again as the requester sees the rows, into the tenant's file
 * store, and starts the link's clock (export_link_expiry_hours). The
 * requester fetches it once with GET /api/v1/export_logs/{id}/download?token=:
 * the first fetch moves the row to downloaded in its write transaction, so
 * of two racing fetches one gets the file and the other 410, as does any
 * later one and any after expiry. A wrong token, or another user's export,
 * is 404. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api/api_int.h"
#include "api/export_int.h"
#include "auth/rbac.h"
#include "auth/session.h"
#include "base/base.h"
#include "files/files.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

static const ob_file_store *store_of_files;

static void sha256_hex(const char *s, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(out, 65, h, sizeof h);
}

void ob_export_pending(ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_row *log)
{
    (void)req;
    ob_err err;
    unsigned char raw[32];
    char token[65], hash[65];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, sizeof token, raw, sizeof raw);
    sha256_hex(token, hash);
    ob_row_set_text(ctx->arena, log, EXPORT_LOGS_TOKEN_HASH, hash);
    if (ob_export_record(ctx, log, &err) != 0) return ob_resp_error(resp, &err);
    ctx->reveal = ob_arena_printf(ctx->arena, "{\"download_token\":\"%s\",\"download_url\":\"/api/v1/export_logs/%s/download?token=%s\"}",
                                  token, ob_row_id(log), token);
    ob_api_row_resp(ctx, resp, log, 202);
}

/* The comma list of a JSON array of names ("[\"a\",\"b\"]" -> "a,b"). */
static const char *names_of(ob_arena *a, const char *json)
{
    json_t *arr = json_loads(json ? json : "[]", 0, NULL);
    ob_sb sb;
    ob_sb_init_arena(&sb, a, 256);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (i) ob_sb_addc(&sb, ',');
        if (json_is_string(v)) ob_sb_adds(&sb, json_string_value(v));
    }
    json_decref(arr);
    return sb.len ? sb.buf : NULL;
}

/* Copy the export (fd, at its start) to a spool file, hashing it, so the
 * file store can take it under its SHA-256. */
static int spool_copy(ob_arena *a, int fd, const char *spool, char **path, char sha[65], ob_err *err)
{
    *path = ob_arena_printf(a, "%s/exp-XXXXXX", spool);
    int out = mkstemp(*path);
    if (out < 0) return ob_err_set(err, OB_E_UNAVAILABLE, "the export could not be stored");
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    char buf[1 << 16];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = -1;
        if (n <= 0) break;
        crypto_hash_sha256_update(&st, (const unsigned char *)buf, (unsigned long long)n);
        for (ssize_t off = 0; off < n && rc == 0;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) rc = -1;
            else off += w;
        }
        if (rc) break;
    }
    if (rc == 0 && fsync(out) != 0) rc = -1;
    close(out);
    if (rc != 0) {
        unlink(*path);
        return ob_err_set(err, OB_E_UNAVAILABLE, "the export could not be stored");
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(sha, 65, h, sizeof h);
    return 0;
}

/* The requester as a session of theirs would be: roles, permissions,
 * owner flag and customer confinement; 422 when they are no longer active. */
static int requester(ob_ctx *ctx, const char *uid, ob_principal *p, ob_err *err)
{
    memset(p, 0, sizeof *p);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT email, name, is_owner, is_active, status, customer_id, user_type FROM users "
                      "WHERE id = ? AND deleted_at IS NULL",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, uid, err);
    int rc = ob_stmt_step(st, err);
    bool active = false, customer_type = false;
    const char *cid = NULL;
    if (rc == 1) {
        p->user_id = ob_arena_strdup(ctx->arena, uid);
        p->email = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        p->name = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 1, NULL));
        p->is_owner = ob_stmt_col_i64(st, 2) != 0;
        const char *status = ob_stmt_col_text(st, 4, NULL);
        active = ob_stmt_col_i64(st, 3) != 0 && status && !strcmp(status, "active");
        cid = ob_stmt_col_text(st, 5, NULL) ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 5, NULL)) : NULL;
        const char *utype = ob_stmt_col_text(st, 6, NULL);
        customer_type = utype && !strcmp(utype, "customer");
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (rc == 0 || !active) return ob_err_set(err, OB_E_UNPROCESSABLE, "the export's requester is no longer active");
    if (ob_rbac_load(ctx, uid, p, err) != 0) return -1;
    if (ob_principal_confined(p, customer_type)) p->customer_id = cid ? cid : "00000000-0000-0000-0000-000000000000";
    return 0;
}

/* exports.produce {"export_id"}: the approved export's file, as its
 * requester sees the rows now, into the file store; the row becomes
 * completed with the link's expiry. Any other status: nothing to do. */
static int produce_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    if (!store_of_files) return ob_err_set(err, OB_E_UNAVAILABLE, "this process has no file store");
    json_t *pl = json_loads(ob_row_text(job, JOBS_PAYLOAD) ? ob_row_text(job, JOBS_PAYLOAD) : "{}", 0, NULL);
    const char *id = ob_arena_strdup(ctx->arena, json_string_value(json_object_get(pl, "export_id")) ?
                                                     json_string_value(json_object_get(pl, "export_id")) : "");
    json_decref(pl);
    const ob_table *lt = ob_registry_find(OB_TABLE_EXPORT_LOGS);
    ob_row *old;
    if (ob_sql_load_internal(ctx, lt, id, &old, err) != 0) return -1;
    const char *status = ob_row_text(old, EXPORT_LOGS_STATUS);
    if (strcmp(status, "approved") != 0) {
        ob_sb_addf(result, "{\"skipped\":\"%s\"}", status);
        return 0;
    }
    const ob_table *t = ob_registry_find(ob_row_text(old, EXPORT_LOGS_EXPORT_TYPE));
    if (!t) return ob_err_set(err, OB_E_UNPROCESSABLE, "the export names no table");
    /* the rows as the requester sees them (masking, scope, columns) */
    ob_principal p;
    if (requester(ctx, ob_row_text(old, EXPORT_LOGS_USER_ID), &p, err) != 0) return -1;
    const ob_principal *system = ctx->who;
    ctx->who = &p;
    ctx->mask_state = 0;
    ob_kv params[OB_MAX_QUERY_PARAMS + 2];
    int np = 0;
    json_t *f = json_loads(ob_row_text(old, EXPORT_LOGS_FILTERS_APPLIED) ? ob_row_text(old, EXPORT_LOGS_FILTERS_APPLIED)
                                                                          : "{}",
                           0, NULL);
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v) {
        if (np == OB_MAX_QUERY_PARAMS || !json_is_string(v)) continue;
        params[np++] = (ob_kv){ob_arena_strdup(ctx->arena, key), ob_arena_strdup(ctx->arena, json_string_value(v))};
    }
    json_decref(f);
    ob_exporter x = {.ctx = ctx, .t = t, .format = ob_row_text(old, EXPORT_LOGS_FILE_FORMAT), .fd = -1};
    const char *spool = ob_arena_printf(ctx->arena, "%s/spool", store_of_files->root);
    int rc = ob_export_pick_columns(&x, names_of(ctx->arena, ob_row_text(old, EXPORT_LOGS_COLUMNS_EXPORTED)), err);
    if (rc == 0) rc = ob_export_write(&x, spool, params, np, ob_row_text(old, EXPORT_LOGS_WATERMARK_TEXT), -1, err);
    ctx->who = system;
    ctx->mask_state = 0;
    if (rc != 0) return -1;
    char *path, sha[65];
    rc = spool_copy(ctx->arena, x.fd, spool, &path, sha, err);
    close(x.fd);
    const char *fkey = NULL;
    if (rc == 0) rc = store_of_files->put(store_of_files, ctx->arena, ctx->tenant->slug, sha, path, &fkey, err);
    if (rc != 0) return -1;
    ob_export_rules rules;
    if (ob_export_rules_read(ctx, &rules, err) != 0) return -1;
    char expires[OB_TS_LEN];
    ob_ts_format(ctx->now_ms + rules.link_hours * 3600 * 1000, expires);
    ob_row *row = ob_row_copy(ctx->arena, old);
    ob_row_set_text(ctx->arena, row, EXPORT_LOGS_STATUS, "completed");
    ob_row_set_text(ctx->arena, row, EXPORT_LOGS_FILE_KEY, fkey);
    ob_row_set_int(row, EXPORT_LOGS_ROW_COUNT, x.rows);
    ob_row_set_int(row, EXPORT_LOGS_FILE_SIZE_BYTES, x.bytes);
    ob_row_set_text(ctx->arena, row, EXPORT_LOGS_DOWNLOAD_EXPIRES_AT, expires);
    if (ob_crud_save(ctx, old, row, "produce", err) != 0) return -1;
    ob_sb_addf(result, "{\"rows\":%lld,\"bytes\":%lld}", (long long)x.rows, (long long)x.bytes);
    return 0;
}

static const ob_job_kind api_kinds[] = {
    {"exports.produce", true, produce_run,
     "write an approved export (payload.export_id) into the file store for its one-time download (queued by "
     "the approval)"},
    {"reports.mail", false, ob_report_mail_run,
     "send a scheduled report run's message (payload.log_id, a notification_logs row naming the run) with the "
     "result as CSV, XLSX and PDF attachments (queued by reports.scheduled)",
     ob_report_mail_settle},
    {"reports.render", false, ob_report_render_run,
     "write a custom report run's result (payload.report_run_id) as CSV, XLSX and PDF files into the file store, "
     "named by the run, then queue a scheduled run's messages (queued by every run; failures logged on the run and "
     "retried)",
     ob_report_render_settle},
    {"platform.tenant_export", false, ob_platform_export_run,
     "write a tenant's export archive (payload.export_id, a tenant_exports row in the control database) under "
     "DATA/exports/ (queued by POST /api/v1/platform/tenants/{id}/export)"},
};

const ob_file_store *ob_api_file_store(void)
{
    return store_of_files;
}

void ob_api_jobs_use(const ob_file_store *files)
{
    store_of_files = files;
    ob_jobs_use_more(api_kinds, (int)OB_ARRAY_LEN(api_kinds));
}

/* The one download, claimed in a write transaction: 0 with the row that
 * was completed; else err (404, 410 used or expired, 422 not ready). */
static int claim(ob_ctx *ctx, const char *id, const char *token, ob_row **out, ob_err *err)
{
    const ob_table *lt = ob_registry_find(OB_TABLE_EXPORT_LOGS);
    ob_row *old;
    if (ob_sql_load_internal(ctx, lt, id, &old, err) != 0) return -1;
    char hash[65];
    sha256_hex(token, hash);
    const char *stored = ob_row_text(old, EXPORT_LOGS_TOKEN_HASH);
    /* someone else's export, or a wrong token: as if there were none */
    if (strcmp(ob_row_text(old, EXPORT_LOGS_USER_ID), ctx->who->user_id ? ctx->who->user_id : "") != 0 || !stored ||
        strlen(stored) != 64 || sodium_memcmp(stored, hash, 64) != 0)
        return ob_err_set(err, OB_E_NOT_FOUND, NULL);
    const char *status = ob_row_text(old, EXPORT_LOGS_STATUS);
    if (!strcmp(status, "downloaded") || !strcmp(status, "expired"))
        return ob_err_set(err, OB_E_GONE, "the link was used or has expired");
    if (strcmp(status, "completed") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "the export is \"%s\", not ready to download", status);
    int64_t until = 0;
    const char *exp = ob_row_text(old, EXPORT_LOGS_DOWNLOAD_EXPIRES_AT);
    ob_row *row = ob_row_copy(ctx->arena, old);
    if (!exp || ob_ts_parse(exp, &until) != 0 || until <= ctx->now_ms) {
        ob_row_set_text(ctx->arena, row, EXPORT_LOGS_STATUS, "expired");
        if (ob_crud_save(ctx, old, row, "expire", err) != 0) return -1;
        *out = NULL; /* committed, then 410 */
        return 0;
    }
    ob_row_set_text(ctx->arena, row, EXPORT_LOGS_STATUS, "downloaded");
    ob_row_set_int(row, EXPORT_LOGS_DOWNLOAD_COUNT, ob_row_int(old, EXPORT_LOGS_DOWNLOAD_COUNT, 0) + 1);
    if (ob_crud_save(ctx, old, row, "download", err) != 0) return -1;
    *out = row;
    return 0;
}

void ob_api_export_download(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    ob_err err;
    const char *token = NULL;
    for (int i = 0; i < req->nquery; i++)
        if (!strcmp(req->query[i].key, "token")) token = req->query[i].val;
    if (!token || !*token) {
        ob_err_set(&err, OB_E_BAD_QUERY, "token is required");
        return ob_resp_error(resp, &err);
    }
    if (!app->files) {
        ob_err_set(&err, OB_E_UNAVAILABLE, "exports are not available");
        return ob_resp_error(resp, &err);
    }
    ob_conn *writer, *reader = ctx->db;
    if (ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &writer, &err) != 0)
        return ob_resp_error(resp, &err);
    ctx->db = writer;
    ob_row *row = NULL;
    int rc = ob_db_begin(writer, &err);
    if (rc == 0) rc = claim(ctx, call->id, token, &row, &err);
    if (rc == 0) rc = ob_db_commit(writer, &err);
    if (rc != 0) ob_db_rollback(writer);
    ob_db_release(writer);
    ctx->db = reader;
    if (rc != 0) return ob_resp_error(resp, &err);
    if (!row) {
        ob_err_set(&err, OB_E_GONE, "the link has expired");
        return ob_resp_error(resp, &err);
    }
    int fd;
    int64_t size;
    if (app->files->open(app->files, ctx->arena, ctx->tenant->slug, ob_row_text(row, EXPORT_LOGS_FILE_KEY), &fd, &size,
                         &err) != 0)
        return ob_resp_error(resp, &err);
    const char *format = ob_row_text(row, EXPORT_LOGS_FILE_FORMAT);
    ob_resp_header(resp, "Content-Type", ob_export_mime(format));
    ob_resp_header(resp, "Content-Disposition", ob_arena_printf(ctx->arena, "attachment; filename=\"%s.%s\"",
                                                                ob_row_text(row, EXPORT_LOGS_EXPORT_TYPE), format));
    ob_resp_header(resp, "X-Export-Rows",
                   ob_arena_printf(ctx->arena, "%lld", (long long)ob_row_int(row, EXPORT_LOGS_ROW_COUNT, 0)));
    ob_resp_header(resp, "Cache-Control", "no-store");
    resp->status = 200;
    resp->file_fd = fd;
    resp->file_off = 0;
    resp->file_len = size;
}
