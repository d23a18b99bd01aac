/* API keys (issue 17, feature api_access): a key is a bearer credential that
 * acts as the user who made it, narrowed to the permission codes it was
 * given (its scopes). The key is shown once, in the create response; only
 * its BLAKE2b hash is stored. Revoking (POST .../revoke, or DELETE) keeps the
 * row. Requests made with a key are resolved by src/auth/apikey.c. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "domain/domains.h"
#include "base/base.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define API_KEY_PREFIX "obk_"
#define MAX_SCOPES 200

OB_ENUM(api_key_status, "api_key_status", "active", "revoked");

static const ob_column api_key_cols[] = {
    {"name", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SORT, .doc = "what the key is for"},
    {"scopes", OB_F_JSON, .flags = OB_REQUIRED | OB_IMMUTABLE,
     .doc = "permission codes the key may use, e.g. [\"orders.view\"]: each one its creator holds (else 422)"},
    {"expires_at", OB_F_TIMESTAMP, .flags = OB_IMMUTABLE | OB_SORT, .doc = "in the future; null: never"},
    {"user_id", OB_F_REF, .ref = "users", .on_delete = OB_DEL_CASCADE, .flags = OB_SERVER | OB_INDEXED,
     .stamp = OB_STAMP_ACTOR, .doc = "the creator: the key acts as this user, narrowed to its scopes"},
    {"key_prefix", OB_F_TEXT, .max = 120, .flags = OB_SERVER, .doc = "the key's first characters, to recognise it"},
    {"key_hash", OB_F_TEXT, .max = 64, .flags = OB_SERVER | OB_SECRET | OB_UNIQUE,
     .doc = "BLAKE2b hash of the key; the key itself is never stored"},
    {"status", OB_F_ENUM, .enm = &api_key_status, .flags = OB_REQUIRED | OB_SERVER | OB_INDEXED, .dflt = "active"},
    {"revoked_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .stamp = OB_STAMP_NOW, .stamp_on = "revoked"},
    {"last_used_at", OB_F_TIMESTAMP, .flags = OB_SERVER, .doc = "written at most once a minute"},
};
static const ob_transition api_key_transitions[] = {
    {"revoke", "active", "revoked", NULL, NULL, "delete"},
};
static const ob_fsm api_key_fsm = {"status", api_key_transitions, 1, "edit"};
extern const ob_hooks ob_api_key_hooks;
const ob_resource ob_res_api_keys = {
    .table = "api_keys", .doc = "API keys: bearer credentials acting as their creator, narrowed to their scopes",
    OB_COLS(api_key_cols), .perm = "api_keys", .fsm = &api_key_fsm, .delete_action = "revoke",
    /* a key is its creator's credential: others' keys are for those who manage them */
    .own_col = "user_id", .perm_others = "api_keys.manage",
    .hooks = &ob_api_key_hooks, .default_sort = "-created_at", .since = 6,
};

/* Whether code names a permission of the tenant (not only one the owner,
 * who holds every code, would pass). */
static int perm_exists(ob_ctx *ctx, const char *code, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT 1 FROM permissions WHERE code = ?", &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, code, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    return rc;
}

static int check_scopes(ob_ctx *ctx, const char *text, ob_err *err)
{
    json_t *a = json_loads(text ? text : "", 0, NULL);
    int rc = 0;
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > MAX_SCOPES) {
        ob_err_set(err, OB_E_VALIDATION, NULL);
        rc = ob_err_field_add(err, "scopes", "an array of 1 to 200 permission codes");
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
            const char *code = json_string_value(v);
            if (!code) {
                ob_err_set(err, OB_E_VALIDATION, NULL);
                rc = ob_err_field_add(err, "scopes", "an array of 1 to 200 permission codes");
                break;
            }
            int found = perm_exists(ctx, code, err);
            if (found < 0) {
                rc = -1;
                break;
            }
            /* a key can never do more than the user making it */
            if (found == 0 || !ob_ctx_can(ctx, code)) {
                rc = ob_err_set(err, OB_E_UNPROCESSABLE, "scopes: \"%.80s\" is not a permission you hold", code);
                snprintf(err->field, sizeof err->field, "scopes");
                break;
            }
        }
    }
    json_decref(a);
    return rc;
}

static int api_key_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (!ctx->who || !ctx->who->user_id || !ctx->tenant)
        return ob_err_set(err, OB_E_UNPROCESSABLE, "an API key is made by a signed-in user");
    if (check_scopes(ctx, ob_row_text(row, API_KEYS_SCOPES), err) != 0) return -1;
    const char *exp = ob_row_text(row, API_KEYS_EXPIRES_AT);
    if (exp && strcmp(exp, ctx->now) <= 0) {
        ob_err_set(err, OB_E_UNPROCESSABLE, "expires_at: must be in the future");
        snprintf(err->field, sizeof err->field, "expires_at");
        return -1;
    }
    ob_sb key;
    ob_sb_init_arena(&key, ctx->arena, 96);
    ob_sb_addf(&key, "%s%s_", API_KEY_PREFIX, ctx->tenant->slug);
    size_t head = key.len;
    ob_random_b64url(&key, 32);
    char hash[65];
    ob_token_hash(key.buf, key.len, hash);
    ob_row_set_text(ctx->arena, row, API_KEYS_KEY_HASH, hash);
    ob_row_set_text(ctx->arena, row, API_KEYS_KEY_PREFIX, ob_arena_strndup(ctx->arena, key.buf, head + 6));
    /* shown once, in this response; no read returns it again */
    ctx->reveal = ob_arena_printf(ctx->arena, "{\"key\":\"%s\"}", key.buf);
    return 0;
}

const ob_hooks ob_api_key_hooks = {.before_create = api_key_before_create};
