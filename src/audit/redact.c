/* redact.c - a person's erasure in the audit trail (see audit.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/chain.h"
#include "base/base.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

const char *ob_audit_redact_image(ob_arena *a, const ob_table *t, const char *image)
{
    json_t *o = image ? json_loads(image, JSON_DECODE_ANY, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        return image;
    }
    bool changed = false;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        json_t *v = json_object_get(o, c->name);
        if (!(c->flags & OB_PERSONAL) || !v || json_is_null(v)) continue;
        json_object_set_new(o, c->name, json_null());
        changed = true;
    }
    const char *out = image;
    if (changed) {
        char *dump = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (dump) out = ob_arena_strdup(a, dump);
        free(dump);
    }
    json_decref(o);
    return out;
}

int ob_audit_redact(ob_ctx *ctx, const ob_row *erased, int64_t *redacted, int64_t *from_seq, ob_err *err)
{
    const ob_table *at = ob_registry_find(OB_TABLE_AUDIT_LOGS);
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"audit_logs\" WHERE \"entity_type\" = ? AND \"entity_id\" = ?",
                                      ob_sql_cols(at));
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, erased->t->name, err);
    ob_stmt_bind_text(st, 2, ob_row_id(erased), err);
    ob_row **rows = NULL;
    int n = 0, cap = 0, rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            ob_row **grown = ob_arena_alloc(ctx->arena, sizeof *grown * (size_t)cap);
            if (n) memcpy(grown, rows, sizeof *grown * (size_t)n);
            rows = grown;
        }
        rows[n] = ob_row_new(ctx->arena, at);
        ob_row_load(ctx->arena, rows[n], st);
        n++;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    for (int i = 0; i < n; i++) {
        ob_row *r = rows[i];
        const char *ov = ob_row_is_null(r, AUDIT_LOGS_OLD_VALUES) ? NULL : ob_row_text(r, AUDIT_LOGS_OLD_VALUES);
        const char *nv = ob_row_is_null(r, AUDIT_LOGS_NEW_VALUES) ? NULL : ob_row_text(r, AUDIT_LOGS_NEW_VALUES);
        const char *ro = ob_audit_redact_image(ctx->arena, erased->t, ov);
        const char *rn = ob_audit_redact_image(ctx->arena, erased->t, nv);
        if (ro == ov && rn == nv) continue;
        ob_row_set_text(ctx->arena, r, AUDIT_LOGS_OLD_VALUES, ro);
        ob_row_set_text(ctx->arena, r, AUDIT_LOGS_NEW_VALUES, rn);
        if (ob_sql_update(ctx, r, 0, err) != 0) return -1;
        (*redacted)++;
        if (!ob_row_is_null(r, AUDIT_LOGS_SEQ)) {
            int64_t seq = ob_row_int(r, AUDIT_LOGS_SEQ, 0);
            if (*from_seq == 0 || seq < *from_seq) *from_seq = seq;
        }
    }
    return 0;
}
