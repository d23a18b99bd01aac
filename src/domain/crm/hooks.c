/* hooks.c - customer relationships: fill the NOT NULL columns a client may
 * leave out (the uploader, the author, the file name) and stamp who recorded
 * tags and points; a document's retention and OCR are the files area's. */
#include <string.h>

#include "base/base.h"
#include "domain/crm/crm.h"
#include "domain/files/media.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "gen/columns.h"
#include "base/banned.h"

/* Set col to the signed-in user unless the client gave it; the system (CLI)
 * has no user, so a missing value is then reported by validation. */
static void default_to_caller(ob_ctx *ctx, ob_row *row, ob_colh col)
{
    if (ob_row_is_null(row, col) && ctx->who && ctx->who->user_id)
        ob_row_set_text(ctx->arena, row, col, ctx->who->user_id);
}

/* The file name is what follows the last '/' or '\' of the path (the whole
 * path when it has none; nothing when the path ends in a separator). */
static void default_file_name(ob_ctx *ctx, ob_row *row)
{
    const char *path = ob_row_text(row, CUSTOMER_DOCUMENTS_FILE_PATH);
    if (!ob_row_is_null(row, CUSTOMER_DOCUMENTS_FILE_NAME) || !path) return;
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\') base = p + 1;
    if (*base) ob_row_set_text(ctx->arena, row, CUSTOMER_DOCUMENTS_FILE_NAME, base);
}

static int document_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)err;
    default_file_name(ctx, row);
    default_to_caller(ctx, row, CUSTOMER_DOCUMENTS_UPLOADED_BY);
    ob_document_retention(ctx, NULL, row);
    return 0;
}

static int document_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)err;
    ob_document_retention(ctx, old, row);
    return 0;
}

/* the file's text is read by a job (domain/files/media.c) */
static int document_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    return ob_document_queue_ocr(ctx, row, err);
}

const ob_hooks ob_customer_document_hooks = {.before_create = document_before_create,
                                             .before_update = document_before_update,
                                             .after_create = document_after_create};

static int communication_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)err;
    default_to_caller(ctx, row, CUSTOMER_COMMUNICATION_HISTORY_CREATED_BY);
    return 0;
}

/* A follow-up moved to another date (or required again) is a new one: the
 * overdue notice of the old one does not count for it (followups.c). */
static int communication_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)ctx, (void)err;
    const char *was = ob_row_text(old, CUSTOMER_COMMUNICATION_HISTORY_FOLLOW_UP_DATE),
               *now = ob_row_text(row, CUSTOMER_COMMUNICATION_HISTORY_FOLLOW_UP_DATE);
    bool moved = (was == NULL) != (now == NULL) || (was && now && strcmp(was, now) != 0) ||
                 ob_row_int(old, CUSTOMER_COMMUNICATION_HISTORY_FOLLOW_UP_REQUIRED, 0) !=
                     ob_row_int(row, CUSTOMER_COMMUNICATION_HISTORY_FOLLOW_UP_REQUIRED, 0);
    if (moved) ob_row_set_null(row, CUSTOMER_COMMUNICATION_HISTORY_FOLLOW_UP_NOTIFIED_AT);
    return 0;
}

const ob_hooks ob_communication_hooks = {.before_create = communication_before_create,
                                         .before_update = communication_before_update};


