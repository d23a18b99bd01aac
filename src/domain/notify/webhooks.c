/* Outgoing webhooks: subscriptions to domain events (schema/events.h) and
 * their deliveries.
 *
 * Every audited change passes through ob_notify_record_change, which writes
 * the audit row and then, in the same transaction, one delivery row per
 * matching active subscription plus the job of its first attempt (a
 * transactional outbox): a change that rolls back announces nothing, one
 * that commits cannot lose its deliveries. Each attempt is a job of kind
 * webhooks.deliver: the POST runs outside the tenant's write lock, and the
 * outcome is written to the delivery (and the next attempt queued after the
 * back-off) in the transaction that completes the job. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/base.h"
#include "domain/domains.h"
#include "domain/notify/notify.h"
#include "jobs/jobs.h"
#include "jobs/webhooks.h"
#include "schema/crud.h"
#include "schema/events.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

OB_ENUM(delivery_status, "webhook_delivery_status", "pending", "delivered", "dead");

static const ob_column subscription_cols[] = {
    {"url", OB_F_TEXT, .max = 2000, .flags = OB_REQUIRED,
     .doc = "http(s) endpoint; private, loopback and reserved addresses are refused unless the operator "
            "allows them for the tenant (opsbase tenant set --webhooks-allow-private yes)"},
    {"events", OB_F_JSON, .flags = OB_REQUIRED,
     .doc = "event names to deliver, e.g. [\"tickets.created\", \"orders.status_changed\"], or [\"*\"]; "
            "every table's events are in docs/schema.md"},
    {"secret", OB_F_TEXT, .max = 200, .flags = OB_REQUIRED | OB_SECRET | OB_ENCRYPTED,
     .doc = "at least 16 characters; signs every delivery (Opsbase-Signature), never shown"},
    {"active", OB_F_BOOL, .flags = OB_REQUIRED, .dflt = "true", .doc = "an inactive subscription gets no new deliveries"},
    {"description", OB_F_TEXT, .max = 500},
};

static const ob_column delivery_cols[] = {
    {"subscription_id", OB_F_REF, .ref = "webhook_subscriptions", .on_delete = OB_DEL_CASCADE,
     .flags = OB_REQUIRED | OB_INDEXED},
    {"event", OB_F_TEXT, .max = 150, .flags = OB_REQUIRED | OB_SORT},
    {"payload", OB_F_JSON, .flags = OB_REQUIRED, .doc = "the body as sent, byte for byte (what the signature covers)"},
    {"status", OB_F_ENUM, .enm = &delivery_status, .flags = OB_REQUIRED | OB_SERVER | OB_SORT, .dflt = "pending",
     .doc = "pending: an attempt is due at next_attempt_at; delivered: a 2xx answer came; dead: every attempt "
            "failed (replay sends it again)"},
    {"attempts", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0"},
    {"next_attempt_at", OB_F_TIMESTAMP, .flags = OB_SERVER | OB_SORT},
    {"response_code", OB_F_INT, .flags = OB_SERVER, .doc = "HTTP status of the last attempt; null when none came"},
    {"last_error", OB_F_TEXT, .max = 2000, .flags = OB_SERVER},
    {"delivered_at", OB_F_TIMESTAMP, .flags = OB_SERVER},
};
static const ob_index delivery_idx[] = {{"status,next_attempt_at"}, {"created_at"}};

static bool allow_private(ob_ctx *ctx, ob_err *err, int *rc)
{
    json_t *set;
    *rc = ob_jobs_tenant_settings(ctx->store, ctx->tenant->slug, &set, err);
    bool yes = *rc == 0 && json_is_true(json_object_get(set, "webhooks_allow_private"));
    json_decref(set);
    return yes;
}

/* --- subscriptions -------------------------------------------------------- */

static int check_events(const char *text, ob_err *err)
{
    json_t *j = json_loads(text, 0, NULL);
    int rc = 0;
    if (!json_is_array(j) || json_array_size(j) == 0 || json_array_size(j) > 500) {
        rc = ob_err_set(err, OB_E_UNPROCESSABLE, "events: must be a non-empty array of event names");
    }
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v)
    {
        const char *s = json_string_value(v);
        /* the ONE Record subscriptions' own endpoints (webhooks_one_record.c)
         * name the one event no table change emits */
        if (rc == 0 && (!s || (strcmp(s, "*") != 0 && strcmp(s, OB_ONE_RECORD_WEBHOOK_EVENT) != 0 &&
                               !ob_event_known(s))))
            rc = ob_err_set(err, OB_E_UNPROCESSABLE, "events: \"%.100s\" is not an event (see docs/schema.md)",
                            s ? s : "(not a string)");
    }
    json_decref(j);
    return rc;
}

static int subscription_check(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const char *url = ob_row_text(row, WEBHOOK_SUBSCRIPTIONS_URL);
    const char *events = ob_row_text(row, WEBHOOK_SUBSCRIPTIONS_EVENTS);
    const char *secret = ob_row_text(row, WEBHOOK_SUBSCRIPTIONS_SECRET);
    /* missing required fields are the validator's to refuse (400) */
    if (!url || !events || !secret) return 0;
    if (secret && strlen(secret) < 16) return ob_err_set(err, OB_E_UNPROCESSABLE, "secret: at least 16 characters");
    if (check_events(events, err) != 0) return -1;
    if (old && strcmp(ob_row_text(old, WEBHOOK_SUBSCRIPTIONS_URL), url) == 0) return 0;
    int rc;
    bool priv = allow_private(ctx, err, &rc);
    if (rc) return -1;
    return ob_webhook_check_target(url, priv, err);
}

static int subscription_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    return subscription_check(ctx, NULL, row, err);
}

static int subscription_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    return subscription_check(ctx, old, row, err);
}

static const ob_hooks subscription_hooks = {.before_create = subscription_before_create,
                                            .before_update = subscription_before_update};

const ob_resource ob_res_webhook_subscriptions = {
    .table = "webhook_subscriptions", .doc = "endpoints that receive signed POSTs of the tenant's domain events",
    OB_COLS(subscription_cols), OB_CONFIG_PERMS("webhooks"), .hooks = &subscription_hooks, .since = 3,
};

/* --- deliveries ----------------------------------------------------------- */

static int enqueue_attempt(ob_ctx *ctx, const char *delivery_id, int64_t attempt, const char *at, ob_err *err)
{
    char payload[128];
    snprintf(payload, sizeof payload, "{\"delivery_id\":\"%s\",\"attempt\":%lld}", delivery_id, (long long)attempt);
    return ob_job_enqueue_at(ctx, "webhooks.deliver", payload, 3, at, err);
}

static int delivery_replay(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    ob_row_set_int(row, WEBHOOK_DELIVERIES_ATTEMPTS, 0);
    ob_row_set_text(ctx->arena, row, WEBHOOK_DELIVERIES_NEXT_ATTEMPT_AT, ctx->now);
    ob_row_set_null(row, WEBHOOK_DELIVERIES_DELIVERED_AT);
    ob_row_set_null(row, WEBHOOK_DELIVERIES_RESPONSE_CODE);
    ob_row_set_null(row, WEBHOOK_DELIVERIES_LAST_ERROR);
    return enqueue_attempt(ctx, ob_row_id(row), 1, NULL, err);
}

static const ob_transition delivery_transitions[] = {
    /* event    from              to         guard effect           perm */
    {"replay", "delivered,dead", "pending", NULL, delivery_replay, "replay"},
};
static const ob_fsm delivery_fsm = {"status", delivery_transitions, (int)OB_ARRAY_LEN(delivery_transitions),
                                    "replay"};

const ob_resource ob_res_webhook_deliveries = {
    .table = "webhook_deliveries", .doc = "each event sent to a subscription: attempts, outcome, replay",
    OB_COLS(delivery_cols), OB_INDEXES(delivery_idx), .perm = "webhooks",
    .flags = OB_RES_READONLY | OB_RES_NO_AUDIT, .fsm = &delivery_fsm, .default_sort = "-created_at", .since = 3,
};

/* --- the outbox ----------------------------------------------------------- */

static bool subscribed(const char *events_json, const char *name)
{
    json_t *j = json_loads(events_json ? events_json : "[]", 0, NULL);
    bool yes = false;
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v)
    {
        const char *s = json_string_value(v);
        if (s && (strcmp(s, "*") == 0 || strcmp(s, name) == 0)) yes = true;
    }
    json_decref(j);
    return yes;
}

static const char *body_of(ob_ctx *ctx, const char *id, const char *name, const ob_row *old, const ob_row *row)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, 1024);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "id", id);
    ob_jw_kstr(&w, "event", name);
    ob_jw_kstr(&w, "created_at", ctx->now);
    ob_jw_kstr(&w, "tenant", ctx->tenant->slug);
    ob_jw_key(&w, "data");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "table", (row ? row : old)->t->name);
    ob_jw_key(&w, "object");
    ob_row_json_raw(&w, row ? row : old);
    if (old && row) {
        ob_jw_key(&w, "previous");
        ob_row_json_raw(&w, old);
    }
    ob_jw_obj_close(&w);
    ob_jw_obj_close(&w);
    return sb.buf;
}

/* One delivery and the job of its first attempt, in the caller's transaction. */
static int outbox_insert(ob_ctx *ctx, const char *id, const char *sub, const char *event, const char *body,
                         ob_err *err)
{
    ob_row *d = ob_row_new(ctx->arena, ob_registry_find(OB_TABLE_WEBHOOK_DELIVERIES));
    ob_row_set_text(ctx->arena, d, WEBHOOK_DELIVERIES_ID, id);
    ob_row_set_text(ctx->arena, d, WEBHOOK_DELIVERIES_SUBSCRIPTION_ID, sub);
    ob_row_set_text(ctx->arena, d, WEBHOOK_DELIVERIES_EVENT, event);
    ob_row_set_text(ctx->arena, d, WEBHOOK_DELIVERIES_PAYLOAD, body);
    ob_row_set_text(ctx->arena, d, WEBHOOK_DELIVERIES_STATUS, "pending");
    ob_row_set_int(d, WEBHOOK_DELIVERIES_ATTEMPTS, 0);
    ob_row_set_text(ctx->arena, d, WEBHOOK_DELIVERIES_NEXT_ATTEMPT_AT, ctx->now);
    if (ob_crud_insert_row(ctx, d, err) != 0) return -1;
    return enqueue_attempt(ctx, id, 1, NULL, err);
}

static int emit(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err)
{
    const char *names[OB_EVENTS_PER_CHANGE];
    int n = ob_events_of_change(old, row, ctx->arena, names);
    if (n == 0) return 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT id, events FROM webhook_subscriptions WHERE active = ?", &st, err) != 0)
        return -1;
    ob_value on = ob_v_bool(true);
    int rc = ob_stmt_bind(st, 1, &on, err);
    /* collect first: inserting while the statement is open is not portable */
    const char **subs = NULL, **evs = NULL;
    int ns = 0, cap = 0;
    while (rc == 0) {
        int got = ob_stmt_step(st, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        if (ns == cap) {
            cap = cap ? 2 * cap : 16;
            const char **s2 = ob_arena_alloc(ctx->arena, sizeof *s2 * (size_t)cap * 2);
            if (ns) {
                memcpy(s2, subs, sizeof *s2 * (size_t)ns);
                memcpy(s2 + cap, evs, sizeof *s2 * (size_t)ns);
            }
            subs = s2;
            evs = s2 + cap;
        }
        subs[ns] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        const char *e = ob_stmt_col_text(st, 1, NULL);
        evs[ns++] = ob_arena_strdup(ctx->arena, e ? e : "[]");
    }
    ob_stmt_done(st);
    for (int s = 0; rc == 0 && s < ns; s++)
        for (int k = 0; rc == 0 && k < n; k++) {
            if (!subscribed(evs[s], names[k])) continue;
            char id[OB_UUID_LEN];
            ob_uuid7(id);
            rc = outbox_insert(ctx, id, subs[s], names[k], body_of(ctx, id, names[k], old, row), err);
        }
    return rc;
}

int ob_webhook_outbox(ob_ctx *ctx, const char *subscription_id, const char *event, const char *body, ob_err *err)
{
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    return outbox_insert(ctx, id, subscription_id, event, body, err);
}

int ob_notify_record_change(ob_ctx *ctx, const char *action, const ob_row *old, const ob_row *row, ob_err *err)
{
    if (ob_audit_change(ctx, action, old, row, err) != 0) return -1;
    if (old && strcmp(action, "erase") == 0) {
        /* an erasure's payload ("previous") must not carry what it erased */
        ob_row *o = ob_row_copy(ctx->arena, old);
        for (int i = 0; i < o->t->ncols; i++)
            if (o->t->cols[i]->flags & OB_PERSONAL) ob_row_set_null_at(o, i);
        old = o;
    }
    return emit(ctx, old, row, err);
}

/* --- one attempt ---------------------------------------------------------- */

/* The delivery a job is for, when the job is still its current attempt. */
static const ob_row *current(ob_ctx *ctx, const ob_row *job, int64_t *attempt, ob_err *err, int *rc)
{
    *rc = 0;
    json_t *p = json_loads(ob_row_text(job, JOBS_PAYLOAD), 0, NULL);
    const char *id = json_string_value(json_object_get(p, "delivery_id"));
    *attempt = json_integer_value(json_object_get(p, "attempt"));
    ob_row *d = NULL;
    if (id && ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_WEBHOOK_DELIVERIES), id, &d, err) != 0) {
        if (err->code != OB_E_NOT_FOUND) *rc = -1;
        d = NULL;
    }
    json_decref(p);
    /* replayed, or the subscription deleted: this job has nothing to do */
    if (d && (strcmp(ob_row_text(d, WEBHOOK_DELIVERIES_STATUS), "pending") != 0 ||
              ob_row_int(d, WEBHOOK_DELIVERIES_ATTEMPTS, 0) != *attempt - 1))
        d = NULL;
    return d;
}

int ob_webhook_deliver_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    int64_t attempt;
    int rc;
    const ob_row *d = current(ctx, job, &attempt, err, &rc);
    if (rc) return -1;
    if (!d) {
        ob_sb_addf(result, "{\"skipped\":true}");
        return 0;
    }
    ob_row *sub;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_WEBHOOK_SUBSCRIPTIONS),
                             ob_row_text(d, WEBHOOK_DELIVERIES_SUBSCRIPTION_ID), &sub, err) != 0)
        return -1;
    long code = 0;
    ob_err perr;
    ob_err_clear(&perr);
    if (ob_row_int(sub, WEBHOOK_SUBSCRIPTIONS_ACTIVE, 1) == 0) {
        ob_err_set(&perr, OB_E_UNPROCESSABLE, "the subscription is not active");
    } else {
        bool priv = allow_private(ctx, err, &rc);
        if (rc) return -1;
        ob_webhook_post(ob_row_text(sub, WEBHOOK_SUBSCRIPTIONS_URL), priv, ob_row_text(d, WEBHOOK_DELIVERIES_EVENT),
                        ob_row_id(d), ob_row_text(sub, WEBHOOK_SUBSCRIPTIONS_SECRET),
                        ob_row_text(d, WEBHOOK_DELIVERIES_PAYLOAD), &code, &perr);
    }
    ob_jsonw w;
    ob_jw_init(&w, result);
    ob_jw_obj_open(&w);
    ob_jw_ki64(&w, "attempt", attempt);
    ob_jw_key(&w, "response_code");
    if (code) ob_jw_i64(&w, code);
    else ob_jw_null(&w);
    ob_jw_key(&w, "error");
    if (perr.code != OB_E_OK) ob_jw_str(&w, perr.message);
    else ob_jw_null(&w);
    ob_jw_obj_close(&w);
    return 0;
}

int ob_webhook_deliver_settle(ob_ctx *ctx, const ob_row *job, int jrc, const ob_err *jerr, ob_sb *result, ob_err *err)
{
    if (jrc != 0) {
        *err = *jerr;
        return -1;
    }
    int64_t attempt;
    int rc;
    const ob_row *d = current(ctx, job, &attempt, err, &rc);
    if (rc || !d) return rc;
    json_t *r = json_loads(result->buf ? result->buf : "{}", 0, NULL);
    if (json_is_true(json_object_get(r, "skipped"))) {
        json_decref(r);
        return 0;
    }
    json_int_t code = json_integer_value(json_object_get(r, "response_code"));
    const char *why = json_string_value(json_object_get(r, "error"));
    ob_webhook_cfg cfg = ob_webhooks_cfg();
    ob_row *nd = ob_row_copy(ctx->arena, d);
    ob_row_set_int(nd, WEBHOOK_DELIVERIES_ATTEMPTS, attempt);
    if (code) ob_row_set_int(nd, WEBHOOK_DELIVERIES_RESPONSE_CODE, code);
    else ob_row_set_null(nd, WEBHOOK_DELIVERIES_RESPONSE_CODE);
    if (code >= 200 && code < 300) {
        ob_row_set_text(ctx->arena, nd, WEBHOOK_DELIVERIES_STATUS, "delivered");
        ob_row_set_text(ctx->arena, nd, WEBHOOK_DELIVERIES_DELIVERED_AT, ctx->now);
        ob_row_set_null(nd, WEBHOOK_DELIVERIES_NEXT_ATTEMPT_AT);
        ob_row_set_null(nd, WEBHOOK_DELIVERIES_LAST_ERROR);
    } else {
        char msg[64];
        snprintf(msg, sizeof msg, "the endpoint answered %lld", (long long)code);
        ob_row_set_text(ctx->arena, nd, WEBHOOK_DELIVERIES_LAST_ERROR,
                        why ? ob_arena_printf(ctx->arena, "%.1900s", why) : msg);
        if (attempt >= cfg.max_attempts) {
            ob_row_set_text(ctx->arena, nd, WEBHOOK_DELIVERIES_STATUS, "dead");
            ob_row_set_null(nd, WEBHOOK_DELIVERIES_NEXT_ATTEMPT_AT);
        } else {
            char at[OB_TS_LEN];
            ob_ts_format(ctx->now_ms + ob_webhook_backoff_ms(cfg.backoff_ms, (int)attempt, randombytes_random()), at);
            ob_row_set_text(ctx->arena, nd, WEBHOOK_DELIVERIES_NEXT_ATTEMPT_AT, at);
            rc = enqueue_attempt(ctx, ob_row_id(d), attempt + 1, at, err);
        }
    }
    json_decref(r);
    if (rc == 0) rc = ob_crud_save(ctx, d, nd, "attempt", err);
    return rc;
}
