/* import.h - many rows of one table in one transaction, from CSV (a header
 * row of column names) or NDJSON (one JSON object a line).
 *
 * Every row goes through the create path of the table (the same validation,
 * hooks, stamps, numbering, references, unique keys and audit as a POST),
 * each under its own savepoint, inside one write transaction: a row that
 * fails is undone alone and reported, and the rows after it are still
 * checked, so a file's every error comes back at once. Unique conflicts
 * within the file are found the same way (an earlier row of the file is
 * already in the transaction). The transaction commits only when nothing
 * failed and this is no dry run; otherwise it rolls back: all rows or none.
 * Used by POST /api/v1/<table>/import and `opsbase import`. */
#ifndef OB_API_IMPORT_H
#define OB_API_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "schema/ctx.h"
#include "schema/registry.h"

typedef struct ob_import_result {
    int64_t rows;     /* data rows read */
    int64_t valid;    /* rows that passed */
    json_t *errors;   /* [{"row", "field", "code", "message"}]; the caller decrefs */
    bool written;     /* committed */
} ob_import_result;

/* Called every 1,000 rows and once at the end. */
typedef void (*ob_import_progress)(void *arg, int64_t done);

/* Import data (len bytes) into t as ctx's principal. ctx->db is a reader
 * or NULL; the tenant's writer is taken for the run. Rows are numbered
 * from 1: CSV's first line after the header, NDJSON's first line. -1 with
 * err when the file cannot be read at all (400: a header naming an unknown
 * column, a malformed line) or the database fails; row problems are not
 * errors, they are out->errors. */
int ob_import_run(ob_ctx *ctx, const ob_table *t, const char *data, size_t len, bool ndjson, bool dry_run,
                  ob_import_progress progress, void *arg, ob_import_result *out, ob_err *err);

#endif
