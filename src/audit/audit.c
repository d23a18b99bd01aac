/* audit.c - audit_logs rows. */
#include <string.h>

#include "audit/audit.h"
#include "audit/chain.h"
#include "base/base.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

static const ob_table *audit_table(void)
{
    static const ob_table *t;
    if (!t) t = ob_registry_find(OB_TABLE_AUDIT_LOGS);
    return t;
}

static ob_row *base_row(ob_ctx *ctx, const char *action, const char *etype, const char *eid, const char *user_id)
{
    ob_row *a = ob_row_new(ctx->arena, audit_table());
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_row_set_text(ctx->arena, a, AUDIT_LOGS_ID, id);
    ob_row_set_text(ctx->arena, a, AUDIT_LOGS_CREATED_AT, ctx->now);
    ob_row_set_text(ctx->arena, a, AUDIT_LOGS_USER_ID, user_id);
    ob_row_set_text(ctx->arena, a, AUDIT_LOGS_ACTION, action);
    ob_row_set_text(ctx->arena, a, AUDIT_LOGS_ENTITY_TYPE, etype);
    ob_row_set_text(ctx->arena, a, AUDIT_LOGS_ENTITY_ID, eid);
    ob_row_set_text(ctx->arena, a, AUDIT_LOGS_IP_ADDRESS, ctx->ip);
    if (ctx->user_agent) {
        size_t n = strlen(ctx->user_agent);
        ob_row_set_text(ctx->arena, a, AUDIT_LOGS_USER_AGENT,
                        ob_arena_strndup(ctx->arena, ctx->user_agent, n > 1000 ? 1000 : n));
    }
    ob_row_set_text(ctx->arena, a, AUDIT_LOGS_REQUEST_ID, ctx->request_id);
    ob_row_set_text(ctx->arena, a, AUDIT_LOGS_SESSION_ID, ctx->who ? ctx->who->session_id : NULL);
    return a;
}

static const char *row_image(ob_ctx *ctx, const ob_row *r)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, 512);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_row_json_sealed(&w, r, ob_conn_tenant(ctx->db));
    return sb.buf;
}

/* A change to a control table made by a super admin (the platform API),
 * chained into platform_audit_logs in the change's transaction. The
 * system's own changes (provisioning from the command line) are not. */
static ob_row *platform_row(ob_ctx *ctx, const char *action, const char *etype, const char *eid)
{
    ob_row *a = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_PLATFORM_AUDIT_LOGS));
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_ID, id);
    ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_CREATED_AT, ctx->now);
    ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_SUPER_ADMIN_ID, ctx->who ? ctx->who->user_id : NULL);
    ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_ACTION, action);
    ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_ENTITY_TYPE, etype);
    ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_ENTITY_ID, eid);
    ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_IP_ADDRESS, ctx->ip);
    ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_REQUEST_ID, ctx->request_id);
    return a;
}

static int platform_change(ob_ctx *ctx, const char *action, const ob_row *old, const ob_row *row, ob_err *err)
{
    if (!ctx->who || ctx->who->is_system) return 0;
    const ob_row *any = row ? row : old;
    ob_row *a = platform_row(ctx, action, any->t->name, ob_row_id(any));
    if (old) ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_OLD_VALUES, row_image(ctx, old));
    if (row) ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_NEW_VALUES, row_image(ctx, row));
    if (ob_audit_platform_link(ctx, a, err) != 0) return -1;
    return ob_sql_insert(ctx, a, err);
}

int ob_audit_platform_event(ob_ctx *ctx, const char *action, const char *entity_type, const char *entity_id,
                            const char *new_values_json, ob_err *err)
{
    ob_row *a = platform_row(ctx, action, entity_type, entity_id);
    if (new_values_json) ob_row_set_text(ctx->arena, a, PLATFORM_AUDIT_LOGS_NEW_VALUES, new_values_json);
    if (ob_audit_platform_link(ctx, a, err) != 0) return -1;
    return ob_sql_insert(ctx, a, err);
}

int ob_audit_change(ob_ctx *ctx, const char *action, const ob_row *old, const ob_row *row, ob_err *err)
{
    const ob_row *any = row ? row : old;
    const ob_table *t = any->t;
    if (t->res->flags & OB_RES_NO_AUDIT) return 0;
    /* control tables are audited by the platform audit log, not a tenant's */
    if (t->res->scope == OB_SCOPE_CONTROL) return platform_change(ctx, action, old, row, err);
    const char *eid = ob_row_id(any);
    ob_row *a = base_row(ctx, action, t->name, eid, ctx->who ? ctx->who->user_id : NULL);
    const char *old_image = old ? row_image(ctx, old) : NULL;
    /* an erasure's own row must not keep what it erased */
    if (old_image && strcmp(action, "erase") == 0) old_image = ob_audit_redact_image(ctx->arena, t, old_image);
    if (old) ob_row_set_text(ctx->arena, a, AUDIT_LOGS_OLD_VALUES, old_image);
    if (row) ob_row_set_text(ctx->arena, a, AUDIT_LOGS_NEW_VALUES, row_image(ctx, row));
    ob_sb ch;
    ob_sb_init_arena(&ch, ctx->arena, 128);
    ob_jsonw w;
    ob_jw_init(&w, &ch);
    ob_jw_arr_open(&w);
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (c->flags & OB_IMPLICIT) continue;
        bool changed = old && row ? !ob_row_col_equal(old, row, i) : (any->set[i] && any->v[i].t != OB_V_NULL);
        if (changed) ob_jw_str(&w, c->name); /* secrets are named, never shown */
    }
    ob_jw_arr_close(&w);
    ob_row_set_text(ctx->arena, a, AUDIT_LOGS_CHANGED_FIELDS, ch.buf);
    if (ob_audit_chain_link(ctx, a, err) != 0) return -1;
    return ob_sql_insert(ctx, a, err);
}

int ob_audit_event(ob_ctx *ctx, const char *action, const char *entity_type, const char *entity_id,
                   const char *user_id, const char *metadata_json, ob_err *err)
{
    ob_row *a = base_row(ctx, action, entity_type, entity_id, user_id);
    if (metadata_json) ob_row_set_text(ctx->arena, a, AUDIT_LOGS_METADATA, metadata_json);
    if (ob_audit_chain_link(ctx, a, err) != 0) return -1;
    return ob_sql_insert(ctx, a, err);
}

int ob_audit_events(ob_conn *db, const ob_audit_ev *ev, int n, ob_err *err)
{
    if (n <= 0) return 0;
    ob_ctx *c0 = ev[0].ctx;
    ob_row **rows = ob_arena_alloc(c0->arena, (size_t)n * sizeof *rows);
    for (int i = 0; i < n; i++) {
        ev[i].ctx->db = db;
        rows[i] = base_row(ev[i].ctx, ev[i].action, ev[i].entity_type, ev[i].entity_id, ev[i].user_id);
        if (ev[i].metadata_json) ob_row_set_text(ev[i].ctx->arena, rows[i], AUDIT_LOGS_METADATA, ev[i].metadata_json);
    }
    if (ob_audit_chain_link_many(c0, rows, n, err) != 0) return -1;
    return ob_sql_insert_many(c0, rows, n, err);
}
