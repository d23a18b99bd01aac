/* hooks.c - inbound webhooks: POST /api/v1/hooks/<provider>/<tenant>/<id>,
 * where id is the sales channel the provider was given (connect returns the
 * path and the secret), or for provider courier the courier configuration
 * (its webhook action returns them; domain/logistics/courier_inbound.c).
 *
 * No session calls here: the signature is the caller's proof, checked before
 * anything is written, in constant time, with the channel's secret. A bad
 * one is answered 401 and leaves one security_violations row, nothing else.
 * A good one stores the raw body once per provider delivery id (a replay is
 * answered 200 and changes nothing) and is answered at once; the
 * inbound_webhooks row queues its processing job in the same transaction
 * (domain/notify/inbound.c), so the provider never waits for the work. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/base.h"
#include "base/uuid.h"
#include "platform/tenants.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* How far an Opsbase-Timestamp may be from now: a captured request cannot
 * be replayed under a new delivery id after that. */
#define SKEW_S 300

typedef struct provider {
    const char *name;         /* the path segment and inbound_webhooks.provider */
    const char *channel_type; /* the channel type it serves; NULL: any */
    const char *sig, *delivery, *topic;
    bool timestamped;         /* Opsbase-Signature over "<Opsbase-Timestamp>.<body>" */
    bool courier;             /* the id is a courier configuration's, not a sales channel's */
} provider;

static const provider providers[] = {
    {"shopify", "shopify", "X-Shopify-Hmac-Sha256", "X-Shopify-Webhook-Id", "X-Shopify-Topic", false, false},
    {"woocommerce", "woocommerce", "X-WC-Webhook-Signature", "X-WC-Webhook-Delivery-ID", "X-WC-Webhook-Topic", false,
     false},
    {"generic", NULL, "Opsbase-Signature", "Opsbase-Delivery", "Opsbase-Event", true, false},
    {"courier", NULL, "Opsbase-Signature", "Opsbase-Delivery", "Opsbase-Event", true, true},
};

static void hmac(const char *secret, const char *prefix, const char *body, size_t n,
                 unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    if (prefix) {
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, strlen(prefix));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    }
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, n);
    crypto_auth_hmacsha256_final(&st, mac);
}

static bool same(const char *got, const char *want)
{
    size_t n = strlen(want);
    return got && strlen(got) == n && sodium_memcmp(got, want, n) == 0;
}

/* Whether the request carries the provider's signature of its body. Shopify
 * and WooCommerce: base64 of HMAC-SHA256(body). Generic: v1=<hex of
 * HMAC-SHA256("<Opsbase-Timestamp>.<body>")>, the timestamp within SKEW_S. */
static bool signed_ok(const provider *p, const ob_req *req, const char *secret, int64_t now_ms)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    const char *got = req->header(req, p->sig);
    if (!got) return false;
    if (!p->timestamped) {
        char b64[sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        hmac(secret, NULL, req->body, req->body_len, mac);
        sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
        return same(got, b64);
    }
    const char *ts = req->header(req, "Opsbase-Timestamp");
    int64_t sec;
    if (!ts || ob_parse_i64(ts, &sec) != 0 || llabs(sec - now_ms / 1000) > SKEW_S) return false;
    char want[3 + 2 * crypto_auth_hmacsha256_BYTES + 1] = "v1=";
    hmac(secret, ts, req->body, req->body_len, mac);
    sodium_bin2hex(want + 3, sizeof want - 3, mac, sizeof mac);
    return same(got, want);
}

/* The tenant's channel (or courier configuration) behind the path, on a
 * reader, and its webhook secret; 404 for every way it is not there (no
 * tenant, no channel, another provider's, not connected, an inactive courier
 * or one never given a webhook), so the path reveals nothing. */
static int find_channel(ob_ctx *ctx, const provider *p, const char *slug, const char *id, ob_row **out,
                        const char **secret, ob_err *err)
{
    ob_tenant_info *ti;
    ob_conn *c;
    if (!ob_uuid_valid(id)) return ob_err_set(err, OB_E_NOT_FOUND, NULL);
    if (ob_tenant_open(ctx->store, ctx->arena, slug, OB_DB_READ, &ti, &c, err) != 0) {
        if (err->code == OB_E_NOT_FOUND) ob_err_set(err, OB_E_NOT_FOUND, NULL);
        return -1;
    }
    ctx->db = c;
    ctx->tenant = ti;
    if (p->courier) {
        if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_COURIER_CONFIGS), id, out, err) != 0) return -1;
        *secret = ob_row_text(*out, COURIER_CONFIGS_WEBHOOK_SECRET);
        if (!*secret || !**secret || !ob_row_int(*out, COURIER_CONFIGS_IS_ACTIVE, 0))
            return ob_err_set(err, OB_E_NOT_FOUND, NULL);
        return 0;
    }
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_SALES_CHANNELS), id, out, err) != 0) return -1;
    *secret = ob_row_text(*out, SALES_CHANNELS_WEBHOOK_SECRET);
    if ((p->channel_type && strcmp(ob_row_text(*out, SALES_CHANNELS_CHANNEL_TYPE_CODE), p->channel_type) != 0) ||
        !*secret || !**secret || strcmp(ob_row_text(*out, SALES_CHANNELS_STATUS), "disconnected") == 0)
        return ob_err_set(err, OB_E_NOT_FOUND, NULL);
    return 0;
}

static int violation(ob_ctx *ctx, const ob_req *req, const provider *p, const char *channel_id, ob_err *err)
{
    ob_row *v = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_SECURITY_VIOLATIONS));
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_VIOLATION_TYPE, "invalid_webhook_signature");
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_DESCRIPTION,
                    ob_arena_printf(ctx->arena, "a %s webhook for %s %s without a valid signature", p->name,
                                    p->courier ? "courier configuration" : "sales channel", channel_id));
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_SEVERITY, "medium");
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_IP_ADDRESS, ctx->ip);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_USER_AGENT,
                    ctx->user_agent ? ob_arena_strndup(ctx->arena, ctx->user_agent, 1000) : NULL);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_REQUEST_PATH, ob_arena_strndup(ctx->arena, req->raw_path, 500));
    ob_row_set_bool(v, SECURITY_VIOLATIONS_BLOCKED, true);
    ob_row_set_text(ctx->arena, v, SECURITY_VIOLATIONS_METADATA, "{}");
    return ob_crud_insert_row(ctx, v, err);
}

/* The stored delivery of this id, or a new one; *dup says which. */
static int store(ob_ctx *ctx, const provider *p, const char *channel_id, const char *delivery, const char *topic,
                 const ob_req *req, const char **id, bool *dup, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT id FROM inbound_webhooks WHERE provider = ? AND source_id = ? AND delivery_id = ?", &st,
                      err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, p->name, err);
    ob_stmt_bind_text(st, 2, channel_id, err);
    ob_stmt_bind_text(st, 3, delivery, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (rc < 0) return -1;
    *dup = rc == 1;
    if (*dup) return 0;
    ob_row *row = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_INBOUND_WEBHOOKS));
    ob_row_set_text(ctx->arena, row, INBOUND_WEBHOOKS_PROVIDER, p->name);
    ob_row_set_text(ctx->arena, row, INBOUND_WEBHOOKS_SOURCE_ID, channel_id);
    ob_row_set_text(ctx->arena, row, INBOUND_WEBHOOKS_DELIVERY_ID, delivery);
    ob_row_set_text(ctx->arena, row, INBOUND_WEBHOOKS_TOPIC, topic);
    ob_row_set_text(ctx->arena, row, INBOUND_WEBHOOKS_PAYLOAD, ob_arena_strndup(ctx->arena, req->body, req->body_len));
    ob_row_set_text(ctx->arena, row, INBOUND_WEBHOOKS_STATUS, "received");
    if (ob_crud_insert_row(ctx, row, err) != 0) return -1;
    *id = ob_row_id(row);
    return 0;
}

/* Run fn's writes in one transaction on the tenant's writer. */
static int in_write(ob_ctx *ctx, int (*fn)(ob_ctx *, void *, ob_err *), void *arg, ob_err *err)
{
    ob_conn *w;
    if (ob_db_acquire(ctx->store, ctx->tenant->slug, ctx->tenant->id, OB_DB_WRITE, &w, err) != 0) return -1;
    ob_conn *reader = ctx->db;
    ctx->db = w;
    ob_ctx_stamp(ctx);
    int rc = ob_db_begin(w, err);
    if (rc == 0) rc = fn(ctx, arg, err);
    if (rc == 0) rc = ob_db_commit(w, err);
    if (rc != 0) ob_db_rollback(w);
    ob_db_release(w);
    ctx->db = reader;
    return rc;
}

typedef struct hook_call {
    const provider *p;
    const ob_req *req;
    const char *channel_id, *delivery, *topic, *id;
    bool dup;
} hook_call;

static int do_violation(ob_ctx *ctx, void *arg, ob_err *err)
{
    hook_call *h = arg;
    return violation(ctx, h->req, h->p, h->channel_id, err);
}

static int do_store(ob_ctx *ctx, void *arg, ob_err *err)
{
    hook_call *h = arg;
    return store(ctx, h->p, h->channel_id, h->delivery, h->topic, h->req, &h->id, &h->dup, err);
}

void ob_api_hook(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)app;
    static const ob_principal system = {.is_system = true, .name = "webhook"};
    ob_err err;
    const provider *p = NULL;
    for (size_t i = 0; i < OB_ARRAY_LEN(providers); i++)
        if (!strcmp(call->route->segs[3], providers[i].name)) p = &providers[i];
    if (!p) {
        ob_err_set(&err, OB_E_INTERNAL, "no provider for this route");
        return ob_resp_error(resp, &err);
    }
    ctx->who = &system;
    ob_row *ch;
    const char *secret = NULL;
    if (find_channel(ctx, p, req->seg[4], call->id, &ch, &secret, &err) != 0) return ob_resp_error(resp, &err);
    req->tenant = ctx->tenant->slug;
    hook_call h = {.p = p, .req = req, .channel_id = ob_row_id(ch)};
    if (!signed_ok(p, req, secret, ctx->now_ms)) {
        if (in_write(ctx, do_violation, &h, &err) != 0) return ob_resp_error(resp, &err);
        ob_err_set(&err, OB_E_BAD_SIGNATURE, "the %s signature does not match the body", p->sig);
        return ob_resp_error(resp, &err);
    }
    h.delivery = req->header(req, p->delivery);
    h.topic = req->header(req, p->topic);
    if (!h.delivery || !*h.delivery || strlen(h.delivery) > 255 || !h.topic || !*h.topic || strlen(h.topic) > 100) {
        ob_err_set(&err, OB_E_BAD_REQUEST, "the headers %s (1 to 255 characters) and %s (1 to 100) are required",
                   p->delivery, p->topic);
        return ob_resp_error(resp, &err);
    }
    if (req->body_len == 0 || !ob_utf8_valid(req->body, req->body_len)) {
        ob_err_set(&err, OB_E_BAD_JSON, "the body must be UTF-8 text");
        return ob_resp_error(resp, &err);
    }
    int rc = in_write(ctx, do_store, &h, &err);
    /* two copies racing: the unique index lets one in, the other is a replay */
    if (rc != 0 && err.code == OB_E_CONFLICT) rc = in_write(ctx, do_store, &h, &err);
    if (rc != 0) return ob_resp_error(resp, &err);
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "id", h.id);
    ob_jw_kstr(&w, "status", h.dup ? "duplicate" : "received");
    ob_jw_obj_close(&w);
    resp->status = 200;
}
