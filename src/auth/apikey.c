/* apikey.c - resolving an API key into a principal (apikey.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "auth/apikey.h"
#include "auth/rbac.h"
#include "auth/session.h"
#include "base/base.h"
#include "platform/tenants.h"
#include "base/banned.h"

#define LAST_USED_EVERY_MS 60000

bool ob_apikey_is_key(const char *token)
{
    return token && strncmp(token, OB_APIKEY_PREFIX, sizeof OB_APIKEY_PREFIX - 1) == 0;
}

static int invalid(ob_err *err)
{
    return ob_err_set(err, OB_E_UNAUTHENTICATED, "the API key is not valid, has expired or has been revoked");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keep only the principal's permissions that are among the scopes (a JSON
 * array of codes); the result stays sorted, as ob_ctx_can's search needs. */
static void narrow(ob_arena *a, ob_principal *p, const char *scopes)
{
    json_t *arr = json_loads(scopes ? scopes : "[]", 0, NULL);
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    const char **keep = ob_arena_alloc(a, sizeof(char *) * (n + 1));
    int nk = 0;
    for (size_t i = 0; i < n; i++) {
        const char *code = json_string_value(json_array_get(arr, i));
        if (code && bsearch(&code, p->perms, (size_t)p->nperms, sizeof(char *), cmp_str))
            keep[nk++] = ob_arena_strdup(a, code);
    }
    json_decref(arr);
    qsort(keep, (size_t)nk, sizeof(char *), cmp_str);
    p->perms = keep;
    p->nperms = nk;
    p->is_owner = false; /* an owner's key holds its scopes, not every code */
}

/* last_used_at at most once a minute: the condition makes a second process
 * (or thread) that read the same old value write nothing. */
static void touch(ob_ctx *ctx, const char *key_id, const char *last)
{
    int64_t last_ms;
    if (last && ob_ts_parse(last, &last_ms) == 0 && ctx->now_ms - last_ms < LAST_USED_EVERY_MS) return;
    char before[OB_TS_LEN];
    ob_ts_format(ctx->now_ms - LAST_USED_EVERY_MS, before);
    ob_conn *w;
    ob_err ignored;
    if (ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &w, &ignored) != 0) return;
    ob_stmt *u;
    if (ob_db_prepare(w, "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR "
                         "last_used_at <= ?)", &u, &ignored) == 0) {
        ob_stmt_bind_text(u, 1, ctx->now, &ignored);
        ob_stmt_bind_text(u, 2, key_id, &ignored);
        ob_stmt_bind_text(u, 3, before, &ignored);
        ob_stmt_step(u, &ignored);
        ob_stmt_done(u);
    }
    ob_db_release(w);
}

int ob_apikey_authenticate(ob_ctx *ctx, const char *tok, ob_err *err)
{
    size_t n = strlen(tok);
    const char *slug_start = tok + sizeof OB_APIKEY_PREFIX - 1;
    const char *us = n < 200 ? strchr(slug_start, '_') : NULL;
    if (!us || us == slug_start || strlen(us + 1) < 43) return invalid(err);
    char *slug = ob_arena_strndup(ctx->arena, slug_start, (size_t)(us - slug_start));
    char hash[65];
    ob_token_hash(tok, n, hash);
    ob_tenant_info *ti;
    ob_conn *c;
    if (ob_db_acquire(ctx->store, NULL, NULL, OB_DB_READ, &c, err) != 0) return -1;
    int rc = ob_tenant_lookup(c, ctx->arena, slug, &ti, err);
    ob_db_release(c);
    if (rc != 0) return err->code == OB_E_NOT_FOUND ? invalid(err) : -1;
    ctx->tenant = ti;
    if (ob_db_acquire(ctx->store, ti->slug, ti->id, OB_DB_READ, &c, err) != 0)
        return err->code == OB_E_NOT_FOUND ? invalid(err) : -1;
    ctx->db = c;
    ob_stmt *st;
    if (ob_db_prepare(c,
                      "SELECT k.id, k.user_id, k.scopes, k.expires_at, k.status, k.last_used_at, u.email, u.name, "
                      "u.is_active, u.status, u.customer_id, u.user_type, u.locked_until FROM api_keys k JOIN users u "
                      "ON u.id = k.user_id WHERE k.key_hash = ? AND u.deleted_at IS NULL",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, hash, err);
    rc = ob_stmt_step(st, err);
    if (rc != 1) {
        ob_stmt_done(st);
        return rc < 0 ? -1 : invalid(err);
    }
#define COL(i) (ob_stmt_col_text(st, (i), NULL) ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, (i), NULL)) : NULL)
    const char *key_id = COL(0), *scopes = COL(2), *expires = COL(3), *status = COL(4), *last = COL(5);
    ob_principal *p = ob_arena_zalloc(ctx->arena, sizeof *p);
    p->user_id = COL(1);
    p->email = COL(6);
    p->name = COL(7);
    bool active = ob_stmt_col_i64(st, 8) != 0 && !strcmp(ob_stmt_col_text(st, 9, NULL), "active");
    const char *cid = COL(10), *utype = COL(11), *locked = COL(12);
#undef COL
    ob_stmt_done(st);
    if (strcmp(status, "active") != 0 || (expires && strcmp(expires, ctx->now) <= 0)) return invalid(err);
    if (!active || (locked && strcmp(locked, ctx->now) > 0))
        return ob_err_set(err, OB_E_UNAUTHENTICATED, "the account is not active");
    if (ob_rbac_load(ctx, p->user_id, p, err) != 0) return -1;
    /* the creator's flag decides, as for a session; then the scopes narrow */
    p->is_owner = false;
    narrow(ctx->arena, p, scopes);
    if (ob_principal_confined(p, utype && !strcmp(utype, "customer")))
        p->customer_id = cid ? cid : "00000000-0000-0000-0000-000000000000";
    ctx->who = p;
    touch(ctx, key_id, last);
    return 0;
}
