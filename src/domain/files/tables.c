/* The files area: uploaded content (issue 12). A row is made only by an
 * upload (POST /api/v1/files, OB_RES_UPLOAD): every column is the server's,
 * read from the bytes as they streamed in, and the content is stored once
 * per tenant by its SHA-256 (src/files). Rows are facts, never changed. */
#include "domain/domains.h"
#include "domain/files/media.h"
#include "base/banned.h"

static const ob_column file_cols[] = {
    {"file_name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SERVER | OB_SORT | OB_SEARCH,
     .doc = "the name the client gave, sanitized: no path, no control or reserved characters"},
    {"mime_type", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SERVER | OB_INDEXED,
     .doc = "read from the content (libmagic), never from the name or the client's Content-Type"},
    {"file_size", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER | OB_SORT | OB_HAS_MIN, .min = 0, .doc = "bytes"},
    {"sha256", OB_F_TEXT, .max = 64, .flags = OB_REQUIRED | OB_SERVER | OB_INDEXED,
     .doc = "SHA-256 hex of the content, computed while it streamed in; the download's ETag"},
    {"storage_key", OB_F_TEXT, .max = 200, .flags = OB_REQUIRED | OB_SERVER | OB_STAFF | OB_NOFILTER,
     .doc = "where the file store keeps the content, relative to the tenant's folder"},
    {"purpose", OB_F_TEXT, .max = 50, .flags = OB_LOWER | OB_INDEXED | OB_CUSTOMER_WRITE,
     .doc = "what the file is for (customer_document, receipt, image...), from the upload's purpose field"},
    {"customer_id", OB_F_REF, .ref = "customers", .on_delete = OB_DEL_CASCADE, .flags = OB_INDEXED | OB_IMMUTABLE,
     .doc = "the customer the file belongs to: a customer user's own, or given by staff; customer users see only "
            "their customer's files"},
    {"uploaded_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER | OB_STAFF,
     .stamp = OB_STAMP_ACTOR},
    {"record_table", OB_F_TEXT, .max = 64, .flags = OB_IMMUTABLE | OB_CUSTOMER_WRITE, .since = 8,
     .doc = "the table of the record the file is attached to (with record_id); the record must be one the uploader "
            "may see"},
    {"record_id", OB_F_TEXT, .max = 36, .flags = OB_INDEXED | OB_IMMUTABLE | OB_CUSTOMER_WRITE, .since = 8,
     .doc = "the id of that record: a record page lists its files by record_table and record_id"},
};
const ob_resource ob_res_files = {
    .table = "files", .doc = "uploaded files: name, type read from the content, size and SHA-256",
    OB_COLS(file_cols), .perm = "files", .customer_scope = "customer_id",
    .flags = OB_RES_APPEND_ONLY | OB_RES_UPLOAD, .default_sort = "-created_at", .since = 4,
    .hooks = &ob_file_hooks,
};
