/* Inbound webhooks: one mechanism for every provider that calls us (a sales
 * channel's order events, later couriers).
 *
 * The API (api/hooks.c) verifies the provider's signature before anything
 * else and stores the raw body here, once per (provider, source, delivery
 * id): a provider's retry of the same delivery finds its row and changes
 * nothing. Creating the row queues its processing job in the same
 * transaction (the after_create hook), so a stored delivery is always
 * processed, with the job queue's retries, and the answer to the provider
 * never waits for the work. */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "base/codec.h"
#include "domain/domains.h"
#include "domain/notify/notify.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

OB_ENUM(inbound_provider, "inbound_provider", "shopify", "woocommerce", "generic", "courier");
OB_ENUM(inbound_status, "inbound_status", "received", "processed", "ignored");

static const ob_column inbound_cols[] = {
    {"provider", OB_F_ENUM, .enm = &inbound_provider, .flags = OB_REQUIRED | OB_SORT,
     .doc = "whose signature and payload form: shopify (X-Shopify-Hmac-Sha256), woocommerce "
            "(X-WC-Webhook-Signature), generic (Opsbase-Signature), courier (Opsbase-Signature, a courier's scans)"},
    {"source_id", OB_F_TEXT, .max = 36, .flags = OB_REQUIRED | OB_INDEXED,
     .doc = "the endpoint it came to: the sales channel's id (the courier configuration's for courier)"},
    {"delivery_id", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED,
     .doc = "the provider's id of the delivery (X-Shopify-Webhook-Id, X-WC-Webhook-Delivery-ID, Opsbase-Delivery); "
            "a second delivery with the same id is a replay and changes nothing"},
    {"topic", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED, .doc = "the provider's event: orders/create, order.updated, ..."},
    {"payload", OB_F_TEXT, .max = 4000000, .flags = OB_REQUIRED, .doc = "the body as received, byte for byte"},
    {"status", OB_F_ENUM, .enm = &inbound_status, .flags = OB_REQUIRED | OB_SERVER | OB_SORT, .dflt = "received",
     .doc = "received: stored, its job queued (failed attempts are the job's); processed: applied (result_id); "
            "ignored: nothing to apply (an unknown topic, or an order no longer pending), see note"},
    {"result_id", OB_F_TEXT, .max = 36, .flags = OB_SERVER,
     .doc = "the record it created or updated (an order; a shipment for courier)"},
    {"note", OB_F_TEXT, .max = 2000, .flags = OB_SERVER},
    {"processed_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
};
static const ob_index inbound_idx[] = {{"provider,source_id,delivery_id", .unique = true}, {"created_at"}};
extern const ob_hooks ob_inbound_hooks;
const ob_resource ob_res_inbound_webhooks = {
    .table = "inbound_webhooks", .doc = "webhooks received from providers, verified, stored raw, processed by a job",
    OB_COLS(inbound_cols), OB_INDEXES(inbound_idx), .perm = "webhooks", .hooks = &ob_inbound_hooks,
    .flags = OB_RES_READONLY | OB_RES_NO_AUDIT, .default_sort = "-created_at", .since = 4,
};

/* The job carries the row's id; the work reads the row, so a retry sees
 * what the last attempt left (processed rows are skipped). */
static int inbound_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    const char *payload = ob_arena_printf(ctx->arena, "{\"inbound_id\":\"%s\"}", ob_row_id(row));
    bool courier = strcmp(ob_row_text(row, INBOUND_WEBHOOKS_PROVIDER), "courier") == 0;
    return ob_job_enqueue(ctx, courier ? "couriers.inbound" : "inbound.process", payload, 8, err);
}

const ob_hooks ob_inbound_hooks = {.after_create = inbound_after_create};

const char *ob_inbound_secret(ob_ctx *ctx, const char *given)
{
    const char *secret = given;
    if (!secret || !*secret) {
        ob_sb sb;
        ob_sb_init_arena(&sb, ctx->arena, 64);
        ob_random_b64url(&sb, 32);
        secret = sb.buf;
    }
    ob_sb out;
    ob_sb_init_arena(&out, ctx->arena, 128);
    ob_jsonw w;
    ob_jw_init(&w, &out);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "webhook_secret", secret);
    ob_jw_obj_close(&w);
    ctx->reveal = out.buf;
    return secret;
}

int ob_inbound_take(ob_ctx *ctx, const ob_row *job, ob_row **out, ob_sb *result, ob_err *err)
{
    *out = NULL;
    json_t *pl = json_loads(ob_row_text(job, JOBS_PAYLOAD), 0, NULL);
    const json_t *v = json_object_get(pl, "inbound_id");
    const char *id = ob_arena_strdup(ctx->arena, json_is_string(v) ? json_string_value(v) : "");
    json_decref(pl);
    ob_row *in;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_INBOUND_WEBHOOKS), id, &in, err) != 0) return -1;
    /* at least once: a run after the one that applied it finds it done */
    if (strcmp(ob_row_text(in, INBOUND_WEBHOOKS_STATUS), "received") != 0) {
        ob_sb_addf(result, "{\"status\":\"%s\"}", ob_row_text(in, INBOUND_WEBHOOKS_STATUS));
        return 0;
    }
    *out = in;
    return 0;
}

int ob_inbound_settle(ob_ctx *ctx, const ob_row *in, const char *status, const char *result_id, const char *note,
                      ob_err *err)
{
    ob_row *row = ob_row_copy(ctx->arena, in);
    ob_row_set_text(ctx->arena, row, INBOUND_WEBHOOKS_STATUS, status);
    ob_row_set_text(ctx->arena, row, INBOUND_WEBHOOKS_RESULT_ID, result_id);
    ob_row_set_text(ctx->arena, row, INBOUND_WEBHOOKS_NOTE, note);
    ob_row_set_text(ctx->arena, row, INBOUND_WEBHOOKS_PROCESSED_AT, ctx->now);
    return ob_crud_save(ctx, in, row, "process", err);
}
