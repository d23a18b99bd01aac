/* hooks.c - customer relationships: fill the NOT NULL columns a client may
 * leave out (the uploader, the author, the file name) and stamp who recorded
 * tags and points; a document's retention and OCR are the files area's. */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "base/clock.h"
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

OB_ACTION_FN(ob_customer_document_verify)
{
    if (ob_row_int(old, CUSTOMER_DOCUMENTS_IS_VERIFIED, 0))
        return ob_err_set(err, OB_E_BAD_STATE, "the document is already verified");
    ob_row_set_bool(row, CUSTOMER_DOCUMENTS_IS_VERIFIED, true);
    if (ctx->who && ctx->who->user_id) ob_row_set_text(ctx->arena, row, CUSTOMER_DOCUMENTS_VERIFIED_BY, ctx->who->user_id);
    ob_row_set_text(ctx->arena, row, CUSTOMER_DOCUMENTS_VERIFIED_AT, ctx->now);
    return 0;
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



/* special_occasions is read by the occasions report (api/report_crm.c):
 * {"birthday": "1985-03-14", ...} or [{"type": "birthday", "date": "..."}],
 * a date being YYYY-MM-DD or MM-DD; anything else is refused, naming it. */
static bool occasion_date(const char *s)
{
    if (!s) return false;
    size_t n = strlen(s);
    if (n == 10) {
        int64_t days;
        return ob_date_parse(s, &days) == 0;
    }
    if (n != 5 || s[2] != '-') return false;
    int m = (s[0] - '0') * 10 + (s[1] - '0'), d = (s[3] - '0') * 10 + (s[4] - '0');
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9')) return false;
    return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1];
}

static int occasions_check(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const char *text = ob_row_text(row, CUSTOMER_PREFERENCES_SPECIAL_OCCASIONS);
    if (!text) return 0;
    json_t *j = json_loads(text, 0, NULL);
    const char *why = NULL;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (!why && !occasion_date(json_string_value(v)))
                why = ob_arena_printf(ctx->arena, "has %.60s without a date YYYY-MM-DD or MM-DD", k);
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; !why && i < json_array_size(j); i++) {
            json_t *e = json_array_get(j, i);
            json_t *name = json_object_get(e, "type");
            if (!name) name = json_object_get(e, "name");
            if (!json_is_string(name) || !occasion_date(json_string_value(json_object_get(e, "date"))))
                why = ob_arena_printf(ctx->arena, "entry %zu needs a type and a date YYYY-MM-DD or MM-DD", i);
        }
    } else if (!json_is_null(j)) {
        why = "must be {\"birthday\": \"YYYY-MM-DD\", ...} or [{\"type\", \"date\"}, ...]";
    }
    json_decref(j);
    if (!why) return 0;
    ob_err_set(err, OB_E_VALIDATION, NULL);
    ob_err_field_add(err, CUSTOMER_PREFERENCES_SPECIAL_OCCASIONS.name, why);
    return -1;
}

static int preference_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    return occasions_check(ctx, row, err);
}

static int preference_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    return occasions_check(ctx, row, err);
}

const ob_hooks ob_customer_preference_hooks = {.before_create = preference_before_create,
                                               .before_update = preference_before_update};
