/* media.c - jobs over uploaded content (media.h): image variants, OCR of
 * customer documents, and the purge of documents past their retention.
 *
 * The slow work runs in a kind's run() on a reader and leaves its outcome in
 * the job's result; settle() writes it on the writer, in the transaction
 * that records the job done, after loading the record again (it may have
 * changed or gone meanwhile). Made files are stored before that transaction:
 * a run whose record has gone leaves content no row names, which costs
 * space, never correctness. */
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "domain/domains.h"
#include "domain/files/media.h"
#include "files/files.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define THUMB_PX 256
#define OCR_MAX_PAGES 20
#define PURGE_BATCH 200
#define DAY_MS 86400000LL

/* ---- helpers ---- */

static const char *payload_id(ob_arena *a, const ob_row *job, const char *key)
{
    const char *p = ob_row_text(job, JOBS_PAYLOAD);
    json_t *j = json_loads(p ? p : "{}", 0, NULL);
    const char *v = json_string_value(json_object_get(j, key));
    const char *out = v && strlen(v) < OB_UUID_LEN ? ob_arena_strdup(a, v) : NULL;
    json_decref(j);
    return out;
}

/* The store, or 503: a worker started without one (it retries later). */
static const ob_file_store *store_or_fail(ob_err *err)
{
    const ob_file_store *s = ob_files_current();
    if (!s) ob_err_set(err, OB_E_UNAVAILABLE, "this process has no file store");
    return s;
}

/* Open the content of a files row. */
static int open_file(ob_ctx *ctx, const ob_file_store *s, const char *file_id, const ob_row **frow, int *fd,
                     ob_err *err)
{
    ob_row *f;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_FILES), file_id, &f, err) != 0) return -1;
    int64_t size;
    if (s->open(s, ctx->arena, ctx->tenant->slug, ob_row_text(f, FILES_STORAGE_KEY), fd, &size, err) != 0) return -1;
    *frow = f;
    return 0;
}

static void result_json(ob_sb *result, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    ob_sb_trim(result, result->len);
    if (s) ob_sb_adds(result, s);
    free(s);
    json_decref(j);
}

/* Store a made file and describe it for settle. */
static int store_made(ob_ctx *ctx, const ob_file_store *s, const char *path, json_t *into, const char *key,
                      ob_err *err)
{
    const char *sha, *skey;
    int64_t size;
    if (ob_file_store_add(s, ctx->arena, ctx->tenant->slug, path, &sha, &size, &skey, err) != 0) return -1;
    json_object_set_new(into, key, json_pack("{s:s, s:I, s:s}", "sha256", sha, "size", (json_int_t)size, "key", skey));
    return 0;
}

/* A files row for a made file (the server's: no uploader, no customer). */
static int insert_made(ob_ctx *ctx, json_t *made, const char *name, const char *purpose, const char **id, ob_err *err)
{
    ob_row *f = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_FILES));
    ob_row_set_text(ctx->arena, f, FILES_FILE_NAME, name);
    ob_row_set_text(ctx->arena, f, FILES_MIME_TYPE, "image/jpeg");
    ob_row_set_int(f, FILES_FILE_SIZE, json_integer_value(json_object_get(made, "size")));
    ob_row_set_text(ctx->arena, f, FILES_SHA256, json_string_value(json_object_get(made, "sha256")));
    ob_row_set_text(ctx->arena, f, FILES_STORAGE_KEY, json_string_value(json_object_get(made, "key")));
    ob_row_set_text(ctx->arena, f, FILES_PURPOSE, purpose);
    if (ob_crud_insert_row(ctx, f, err) != 0) return -1;
    *id = ob_row_id(f);
    return 0;
}

/* "photo.png" -> "photo.thumbnail.jpg" */
static const char *made_name(ob_arena *a, const char *name, const char *what)
{
    const char *dot = strrchr(name, '.');
    int n = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
    if (n > 150) n = 150;
    return ob_arena_printf(a, "%.*s.%s.jpg", n, name, what);
}

/* ---- images ---- */

static int image_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    const char *mime = ob_row_text(row, IMAGES_MIME_TYPE);
    if (!ob_row_text(row, IMAGES_FILE_ID) || !mime || strncmp(mime, "image/", 6) != 0) return 0;
    const char *payload = ob_arena_printf(ctx->arena, "{\"image_id\":\"%s\"}", ob_row_id(row));
    return ob_job_enqueue(ctx, "images.process", payload, 5, err);
}

const ob_hooks ob_image_hooks = {.after_create = image_after_create};

int ob_image_process_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    const char *id = payload_id(ctx->arena, job, "image_id");
    if (!id) return ob_err_set(err, OB_E_UNPROCESSABLE, "payload.image_id is required");
    const ob_file_store *s = store_or_fail(err);
    if (!s) return -1;
    ob_row *img;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_IMAGES), id, &img, err) != 0) return -1;
    const char *file_id = ob_row_text(img, IMAGES_FILE_ID);
    if (!file_id) return ob_err_set(err, OB_E_UNPROCESSABLE, "the image has no uploaded file");
    const ob_row *f;
    int fd;
    if (open_file(ctx, s, file_id, &f, &fd, err) != 0) return -1;
    ob_image_info info;
    int rc = ob_image_variants(s, ctx->arena, fd, THUMB_PX, &info, err);
    close(fd);
    if (rc != 0) return -1;
    json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:i}", "image_id", id, "width", info.width, "height", info.height,
                          "thumb_width", info.thumb_width, "thumb_height", info.thumb_height);
    if (store_made(ctx, s, info.thumb_path, j, "thumbnail", err) != 0) {
        unlink(info.compressed_path);
        json_decref(j);
        return -1;
    }
    if (store_made(ctx, s, info.compressed_path, j, "compressed", err) != 0) {
        json_decref(j);
        return -1;
    }
    result_json(result, j);
    return 0;
}

int ob_image_process_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err)
{
    if (rc != 0) {
        /* content libvips cannot read stays without variants: retrying cannot help */
        if (rerr->code != OB_E_UNPROCESSABLE) {
            *err = *rerr;
            return -1;
        }
        json_t *j = json_pack("{s:s}", "unreadable", rerr->message);
        result_json(result, j);
        return 0;
    }
    json_t *r = json_loads(result->buf, 0, NULL);
    const char *id = json_string_value(json_object_get(r, "image_id"));
    const ob_table *t = ob_registry_find(OB_TABLE_IMAGES);
    ob_row *old;
    int lrc = id ? ob_sql_load_internal(ctx, t, id, &old, err) : -1;
    if (lrc != 0) {
        json_decref(r);
        if (id && err->code == OB_E_NOT_FOUND) return 0; /* deleted meanwhile */
        return id ? -1 : ob_err_set(err, OB_E_INTERNAL, "the run left no image id");
    }
    (void)job;
    const char *name = ob_row_text(old, IMAGES_FILE_NAME);
    json_t *th = json_object_get(r, "thumbnail"), *co = json_object_get(r, "compressed");
    const char *thumb_id, *comp_id;
    if (insert_made(ctx, th, made_name(ctx->arena, name, "thumbnail"), "thumbnail", &thumb_id, err) != 0 ||
        insert_made(ctx, co, made_name(ctx->arena, name, "compressed"), "compressed", &comp_id, err) != 0) {
        json_decref(r);
        return -1;
    }
    ob_row *row = ob_row_copy(ctx->arena, old);
    ob_row_set_int(row, IMAGES_WIDTH, json_integer_value(json_object_get(r, "width")));
    ob_row_set_int(row, IMAGES_HEIGHT, json_integer_value(json_object_get(r, "height")));
    ob_row_set_text(ctx->arena, row, IMAGES_THUMBNAIL_PATH, json_string_value(json_object_get(th, "key")));
    ob_row_set_text(ctx->arena, row, IMAGES_COMPRESSED_PATH, json_string_value(json_object_get(co, "key")));
    ob_row_set_text(ctx->arena, row, IMAGES_THUMBNAIL_FILE_ID, thumb_id);
    ob_row_set_text(ctx->arena, row, IMAGES_COMPRESSED_FILE_ID, comp_id);
    json_decref(r);
    return ob_crud_save(ctx, old, row, "processed", err);
}

/* ---- customer documents: OCR ---- */

static bool ocr_readable(const char *mime)
{
    return mime && (!strcmp(mime, "application/pdf") || !strncmp(mime, "image/", 6));
}

int ob_document_queue_ocr(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    if (!ob_row_text(row, CUSTOMER_DOCUMENTS_FILE_ID) || !ocr_readable(ob_row_text(row, CUSTOMER_DOCUMENTS_MIME_TYPE)))
        return 0;
    const char *payload = ob_arena_printf(ctx->arena, "{\"document_id\":\"%s\"}", ob_row_id(row));
    return ob_job_enqueue(ctx, "documents.ocr", payload, 5, err);
}

int ob_document_ocr_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    const char *id = payload_id(ctx->arena, job, "document_id");
    if (!id) return ob_err_set(err, OB_E_UNPROCESSABLE, "payload.document_id is required");
    const ob_file_store *s = store_or_fail(err);
    if (!s) return -1;
    ob_row *doc;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_CUSTOMER_DOCUMENTS), id, &doc, err) != 0) return -1;
    const char *file_id = ob_row_text(doc, CUSTOMER_DOCUMENTS_FILE_ID);
    if (!file_id) return ob_err_set(err, OB_E_UNPROCESSABLE, "the document has no uploaded file");
    const ob_row *f;
    int fd;
    if (open_file(ctx, s, file_id, &f, &fd, err) != 0) return -1;
    const char *text;
    int conf;
    int64_t t0 = ob_mono_us();
    int rc = ob_ocr_read(ctx->arena, fd, ob_row_text(f, FILES_MIME_TYPE), OCR_MAX_PAGES, &text, &conf, err);
    close(fd);
    if (rc != 0) return -1;
    json_t *j = json_pack("{s:s, s:s, s:i, s:I}", "document_id", id, "text", text, "confidence", conf, "ms",
                          (json_int_t)((ob_mono_us() - t0) / 1000));
    if (!j) return ob_err_set(err, OB_E_UNPROCESSABLE, "the recognised text is not UTF-8");
    result_json(result, j);
    return 0;
}

int ob_document_ocr_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err)
{
    (void)job;
    if (rc != 0 && rerr->code != OB_E_UNPROCESSABLE) {
        *err = *rerr;
        return -1;
    }
    json_t *r = rc == 0 ? json_loads(result->buf, 0, NULL) : NULL;
    const char *id = rc == 0 ? json_string_value(json_object_get(r, "document_id")) : payload_id(ctx->arena, job, "document_id");
    const ob_table *t = ob_registry_find(OB_TABLE_CUSTOMER_DOCUMENTS);
    ob_row *old;
    if (!id || ob_sql_load_internal(ctx, t, id, &old, err) != 0) {
        json_decref(r);
        if (id && err->code == OB_E_NOT_FOUND) return 0; /* purged or deleted meanwhile */
        return id ? -1 : ob_err_set(err, OB_E_INTERNAL, "the run left no document id");
    }
    ob_row *row = ob_row_copy(ctx->arena, old);
    /* a file with no readable picture is processed too: there is nothing more to read */
    ob_row_set_bool(row, CUSTOMER_DOCUMENTS_OCR_PROCESSED, true);
    if (rc == 0) {
        const char *text = json_string_value(json_object_get(r, "text"));
        json_int_t conf = json_integer_value(json_object_get(r, "confidence"));
        if (text && *text) ob_row_set_text(ctx->arena, row, CUSTOMER_DOCUMENTS_OCR_CONTENT, text);
        else ob_row_set_null(row, CUSTOMER_DOCUMENTS_OCR_CONTENT);
        ob_row_set_int(row, CUSTOMER_DOCUMENTS_OCR_CONFIDENCE, conf < 0 ? 0 : conf > 100 ? 100 : conf);
        /* the job keeps a summary, not a second copy of the text */
        json_t *sum = json_pack("{s:s, s:I, s:I, s:o}", "document_id", id, "chars", (json_int_t)(text ? strlen(text) : 0),
                                "confidence", conf, "ms", json_incref(json_object_get(r, "ms")));
        result_json(result, sum);
    } else {
        result_json(result, json_pack("{s:s, s:s}", "document_id", id, "unreadable", rerr->message));
    }
    json_decref(r);
    return ob_crud_save(ctx, old, row, "ocr", err);
}

/* ---- customer documents: retention ---- */

void ob_document_retention(ob_ctx *ctx, const ob_row *old, ob_row *row)
{
    int64_t days = ob_row_int(row, CUSTOMER_DOCUMENTS_RETENTION_DAYS, 0);
    if (old && ob_row_int(old, CUSTOMER_DOCUMENTS_RETENTION_DAYS, 0) == days &&
        !ob_row_is_null(old, CUSTOMER_DOCUMENTS_PURGE_AFTER) == (days > 0))
        return;
    int64_t created;
    const char *c = ob_row_text(row, CUSTOMER_DOCUMENTS_CREATED_AT);
    if (days <= 0 || !c || ob_ts_parse(c, &created) != 0) {
        ob_row_set_null(row, CUSTOMER_DOCUMENTS_PURGE_AFTER);
        return;
    }
    char at[OB_TS_LEN];
    ob_ts_format(created + days * DAY_MS, at);
    ob_row_set_text(ctx->arena, row, CUSTOMER_DOCUMENTS_PURGE_AFTER, at);
}

/* Whether any row of the tenant still references files row id. */
static int file_referenced(ob_ctx *ctx, const char *id, ob_err *err)
{
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope != OB_SCOPE_TENANT) continue;
        for (int k = 0; k < t->ncols; k++) {
            const ob_column *c = t->cols[k];
            if (c->type != OB_F_REF || c->gen || strcmp(c->ref, OB_TABLE_FILES) != 0) continue;
            const char *sql = ob_arena_printf(ctx->arena, "SELECT 1 FROM \"%s\" WHERE \"%s\" = ? LIMIT 1", t->name,
                                              c->name);
            ob_stmt *st;
            if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
            ob_stmt_bind_text(st, 1, id, err);
            int rc = ob_stmt_step(st, err);
            ob_stmt_done(st);
            if (rc != 0) return rc;
        }
    }
    return 0;
}

/* After a document went: its files row goes when nothing else names it, and
 * the content when no files row of the tenant has its SHA-256 any more. */
static int drop_file(ob_ctx *ctx, const ob_file_store *s, const char *file_id, int *removed, ob_err *err)
{
    const ob_table *ft = ob_registry_find(OB_TABLE_FILES);
    ob_row *f;
    if (ob_sql_load_internal(ctx, ft, file_id, &f, err) != 0) return err->code == OB_E_NOT_FOUND ? 0 : -1;
    int rc = file_referenced(ctx, file_id, err);
    if (rc != 0) return rc < 0 ? -1 : 0;
    if (ob_sql_delete(ctx, ft, file_id, err) != 0) return -1;
    if (ob_registry_record_change(ctx, "purged", f, NULL, err) != 0) return -1;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT 1 FROM \"files\" WHERE \"sha256\" = ? LIMIT 1", &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, ob_row_text(f, FILES_SHA256), err);
    rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc != 0) return rc < 0 ? -1 : 0;
    /* last: a failure above rolls back with the content still there */
    if (s->remove(s, ctx->arena, ctx->tenant->slug, ob_row_text(f, FILES_STORAGE_KEY), err) != 0) return -1;
    (*removed)++;
    return 0;
}

/* Documents stored before purge_after existed (schema 5) have none: give
 * them theirs, a batch a run, before looking for what is due. */
static int fill_purge_after(ob_ctx *ctx, const ob_table *t, int *filled, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\" FROM \"customer_documents\" WHERE \"purge_after\" IS NULL AND "
                      "\"retention_days\" > 0 LIMIT 200",
                      &st, err) != 0)
        return -1;
    const char *ids[PURGE_BATCH];
    int n = 0, rc;
    while (n < PURGE_BATCH && (rc = ob_stmt_step(st, err)) == 1)
        ids[n++] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (rc < 0) return -1;
    for (int i = 0; i < n; i++) {
        ob_row *old;
        if (ob_sql_load_internal(ctx, t, ids[i], &old, err) != 0) return -1;
        ob_row *row = ob_row_copy(ctx->arena, old);
        ob_document_retention(ctx, NULL, row);
        if (ob_crud_save(ctx, old, row, "retention", err) != 0) return -1;
    }
    *filled = n;
    return 0;
}

int ob_document_purge_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    (void)job;
    const ob_file_store *s = store_or_fail(err);
    if (!s) return -1;
    const ob_table *t = ob_registry_find(OB_TABLE_CUSTOMER_DOCUMENTS);
    int filled = 0;
    if (fill_purge_after(ctx, t, &filled, err) != 0) return -1;
    /* due, not held by the document's flag nor by an active legal hold on the
     * record, its customer or the tenant */
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT d.\"id\" FROM \"customer_documents\" d WHERE d.\"purge_after\" IS NOT NULL "
                      "AND d.\"purge_after\" <= ? AND d.\"legal_hold\" = ? AND NOT EXISTS (SELECT 1 FROM "
                      "\"legal_holds\" h WHERE h.\"status\" = 'active' AND (h.\"scope\" = 'tenant' OR "
                      "(h.\"scope\" = 'customer' AND h.\"customer_id\" = d.\"customer_id\") OR "
                      "(h.\"scope\" = 'record' AND h.\"entity_type\" = 'customer_documents' AND "
                      "h.\"entity_id\" = d.\"id\"))) ORDER BY d.\"purge_after\" LIMIT 200",
                      &st, err) != 0)
        return -1;
    ob_value v[] = {ob_v_text(ctx->now), ob_v_bool(false)};
    const char *ids[PURGE_BATCH];
    int n = 0, rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) rc = ob_sql_bind_value(st, i + 1, &v[i], err);
    while (rc == 0 && n < PURGE_BATCH && (rc = ob_stmt_step(st, err)) == 1) {
        ids[n++] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        rc = 0;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    int removed = 0;
    for (int i = 0; i < n; i++) {
        ob_row *old;
        if (ob_sql_load_internal(ctx, t, ids[i], &old, err) != 0) return -1;
        if (ob_sql_delete(ctx, t, ids[i], err) != 0) return -1;
        if (ob_registry_record_change(ctx, "purged", old, NULL, err) != 0) return -1;
        const char *fid = ob_row_text(old, CUSTOMER_DOCUMENTS_FILE_ID);
        if (fid && drop_file(ctx, s, fid, &removed, err) != 0) return -1;
    }
    /* a full batch leaves more: the next slot (or a job queued now) goes on */
    if ((n == PURGE_BATCH || filled == PURGE_BATCH) && ob_job_enqueue(ctx, "documents.purge", NULL, 3, err) != 0)
        return -1;
    ob_sb_addf(result, "{\"purged\":%d,\"files_removed\":%d}", n, removed);
    return 0;
}

/* ---- seed ---- */

int ob_seed_files(ob_ctx *ctx, ob_err *err)
{
    /* one per tenant: a tenant may change its time or disable it; one that
     * deletes it gets it back from the next migration's seeding */
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT 1 FROM \"schedules\" WHERE \"kind\" = 'documents.purge' LIMIT 1", &st, err) !=
        0)
        return -1;
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc != 0) return rc < 0 ? -1 : 0;
    const ob_tz *utc;
    char next[OB_TS_LEN];
    if (ob_tz_get("UTC", &utc, err) != 0 || ob_schedule_next(utc, "0 3 * * *", ctx->now_ms, next, err) != 0) return -1;
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_value v[] = {ob_v_text(id), ob_v_text(ctx->now), ob_v_text(ctx->now), ob_v_text(next)};
    return ob_sql_run(ctx->db,
                      "INSERT INTO \"schedules\" (\"id\", \"created_at\", \"updated_at\", \"version\", \"name\", "
                      "\"cron\", \"kind\", \"payload\", \"enabled\", \"next_run_at\") VALUES (?, ?, ?, 1, "
                      "'purge expired customer documents', '0 3 * * *', 'documents.purge', '{}', TRUE, ?) "
                      "ON CONFLICT DO NOTHING",
                      v, 4, err);
}
