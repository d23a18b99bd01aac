/* policy.c - session policy from the tenant's security settings. */
#include <string.h>

#include "auth/policy.h"
#include "base/base.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

int ob_policy_load(ob_ctx *ctx, ob_session_policy *out, ob_err *err)
{
    /* the registry's defaults stand for a missing row (a tenant made before
     * the settings row existed) */
    out->idle_ms = 30LL * 60000;
    out->max_sessions = 3;
    out->refuse_over_limit = false;
    out->ip_binding = false;
    out->access_ms = 15LL * 60000;
    out->mfa_required = false;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT session_timeout_minutes, max_concurrent_sessions, session_limit_action, "
                      "ip_binding_enabled, access_token_minutes, mfa_required FROM security_settings WHERE scope = 'tenant'",
                      &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        out->idle_ms = ob_stmt_col_i64(st, 0) * 60000;
        out->max_sessions = ob_stmt_col_i64(st, 1);
        const char *action = ob_stmt_col_text(st, 2, NULL);
        out->refuse_over_limit = action && strcmp(action, "refuse") == 0;
        out->ip_binding = ob_stmt_col_i64(st, 3) != 0;
        out->access_ms = ob_stmt_col_i64(st, 4) * 60000;
        out->mfa_required = ob_stmt_col_i64(st, 5) != 0;
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

int64_t ob_policy_touch_ms(int64_t idle_ms)
{
    int64_t q = idle_ms / 4;
    return q < 60000 ? q : 60000;
}

int ob_policy_admit(ob_ctx *ctx, const char *user_id, const ob_session_policy *pol, ob_err *err)
{
    /* live: not ended, not past its lifetime, not idle past the timeout */
    char idle_cut[OB_TS_LEN];
    ob_ts_format(ctx->now_ms - pol->idle_ms, idle_cut);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT id FROM user_sessions WHERE user_id = ? AND terminated_at IS NULL AND is_active AND "
                      "expires_at > ? AND last_activity_at > ? ORDER BY created_at DESC, id DESC",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, user_id, err);
    ob_stmt_bind_text(st, 2, ctx->now, err);
    ob_stmt_bind_text(st, 3, idle_cut, err);
    /* newest first: the ones past the first max - 1 make room for this one */
    const char *excess[64];
    int64_t n = 0;
    int nx = 0, rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (++n >= pol->max_sessions && nx < (int)(sizeof excess / sizeof excess[0]))
            excess[nx++] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (nx == 0) return 0;
    if (pol->refuse_over_limit)
        return ob_err_set(err, OB_E_SESSION_LIMIT,
                          "this account already has %lld live sessions, the most the policy allows: sign out of one "
                          "first",
                          (long long)pol->max_sessions);
    for (int i = 0; i < nx; i++) {
        ob_value v[] = {ob_v_text(ctx->now), ob_v_bool(false), ob_v_text(excess[i])};
        if (ob_sql_run(ctx->db,
                       "UPDATE user_sessions SET terminated_at = ?, is_active = ?, "
                       "termination_reason = 'max_sessions_exceeded' WHERE id = ?",
                       v, 3, err) != 0)
            return -1;
    }
    ob_registry_auth_changed(); /* cached principals of the ended sessions */
    return 0;
}

int ob_policy_violation(ob_ctx *ctx, const char *user_id, const char *type, const char *severity,
                        const char *description, ob_err *err)
{
    ob_row *v = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_SECURITY_VIOLATIONS));
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_USER_ID, user_id);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_VIOLATION_TYPE, type);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_DESCRIPTION, description);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_SEVERITY, severity);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_IP_ADDRESS, ctx->ip);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_USER_AGENT,
                    ctx->user_agent ? ob_arena_strndup(ctx->arena, ctx->user_agent, 1000) : NULL);
    ob_row_set_bool(v, SECURITY_VIOLATIONS_BLOCKED, true);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_METADATA, "{}");
    if (ob_crud_insert_row(ctx, v, err) != 0) return -1;
    /* and an alert for security staff to work (status open) */
    ob_row *a = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_SECURITY_ALERTS));
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_ALERT_TYPE, type);
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_SEVERITY, severity);
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_DESCRIPTION, description);
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_USER_ID, user_id);
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_IP_ADDRESS, ctx->ip);
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_STATUS, "open");
    return ob_crud_insert_row(ctx, a, err);
}

/* Whether the user has a session whose column equals v (NULL equals NULL). */
static int seen(ob_ctx *ctx, const char *user_id, const char *col, const char *v, ob_err *err)
{
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 160);
    if (v) ob_sb_addf(&sql, "SELECT 1 FROM user_sessions WHERE user_id = ? AND %s = ? LIMIT 1", col);
    else ob_sb_addf(&sql, "SELECT 1 FROM user_sessions WHERE user_id = ? AND %s IS NULL LIMIT 1", col);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, user_id, err);
    if (v) ob_stmt_bind_text(st, 2, v, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    return rc;
}

int ob_policy_signin_alert(ob_ctx *ctx, const char *user_id, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT 1 FROM user_sessions WHERE user_id = ? LIMIT 1", &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, user_id, err);
    int before = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (before <= 0) return before; /* a first sign-in has nothing to differ from */
    const char *ua = ctx->user_agent ? ob_arena_strndup(ctx->arena, ctx->user_agent, 1000) : NULL;
    int device = seen(ctx, user_id, "user_agent", ua, err);
    int address = device < 0 ? -1 : seen(ctx, user_id, "ip_address", ctx->ip, err);
    if (device < 0 || address < 0) return -1;
    if (device && address) return 0;
    ob_row *a = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_SECURITY_ALERTS));
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_ALERT_TYPE, device ? "new_address_login" : "new_device_login");
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_SEVERITY, "medium");
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_DESCRIPTION,
                    ob_arena_printf(ctx->arena, "sign-in from %s%s%s", device ? "" : "a new device",
                                    !device && !address ? " and " : "", address ? "" : "a new address"));
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_USER_ID, user_id);
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_IP_ADDRESS, ctx->ip);
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_ADDITIONAL_DATA,
                    ob_arena_printf(ctx->arena, "{\"new_device\":%s,\"new_address\":%s}", device ? "false" : "true",
                                    address ? "false" : "true"));
    ob_row_set_text(ctx->arena, a, SECURITY_ALERTS_STATUS, "open");
    return ob_crud_insert_row(ctx, a, err);
}
