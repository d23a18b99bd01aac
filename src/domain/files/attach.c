/* attach.c - a file attached to a record (files.record_table and
 * record_id, schema version 8): the console's record page lists a record's
 * files by these two columns. The record must exist and be one the uploader
 * may see, so a record's list never shows a file that names it without
 * having been allowed to; a record the uploader cannot reach is 404, as if
 * it did not exist. */
#include <string.h>

#include "domain/files/media.h"
#include "gen/columns.h"
#include "schema/crud.h"
#include "base/banned.h"

static int file_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const char *name = ob_row_text(row, FILES_RECORD_TABLE), *id = ob_row_text(row, FILES_RECORD_ID);
    if (!name && !id) return 0;
    if (!name || !id) {
        ob_err_set(err, OB_E_VALIDATION, "record_table and record_id go together");
        return ob_err_field_add(err, name ? "record_id" : "record_table", "is required with the other");
    }
    const ob_table *t = ob_registry_find(name);
    if (!t || t->res->scope != OB_SCOPE_TENANT || (t->res->flags & OB_RES_NO_API) || strcmp(name, "files") == 0) {
        ob_err_set(err, OB_E_VALIDATION, "record_table names no table a file may be attached to");
        return ob_err_field_add(err, "record_table", "is not a table of records");
    }
    const char *view = t->res->perm_view ? t->res->perm_view
                                         : ob_arena_printf(ctx->arena, "%s.view", t->res->perm ? t->res->perm : name);
    if (!ob_ctx_can(ctx, view)) return ob_err_set(err, OB_E_NOT_FOUND, "%s record not found", name);
    ob_row *rec;
    return ob_crud_get(ctx, t, id, &rec, err);
}

const ob_hooks ob_file_hooks = {.before_create = file_before_create};
