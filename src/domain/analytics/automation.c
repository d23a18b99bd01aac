/* automation.c - automation rules: one documented shape, checked on write,
 * and the pieces the areas that raise an event use to run the rules.
 *
 * trigger_conditions = {
 *   "event": "inventory.low",      a stock entry leaves the inventory row's
 *                                  available units at or below its reorder
 *                                  point (the rule's reorder action may set
 *                                  the point); the event's row: inventory
 *   "where": {column: value, ...}  optional, at most 10: equality with the
 *                                  event row's columns (text, numbers,
 *                                  booleans; decimals as strings "12.50")
 * }
 * actions = [ 1 to 10 of
 *   {"type": "reorder", "reorder_point": n, "reorder_quantity": n}
 *       the suggestion's point and quantity (both optional, whole numbers,
 *       the quantity at least 1); inventory.low only,
 *   {"type": "notify", "template": code, "to": address}
 *       a message from the tenant's notification template with the event
 *       row's fields (an e-mail address or a phone number, per template)
 *   {"type": "follow_up", "days": n, "subject": text}
 *       a scheduled call with the event's customer, n days from the run
 *   {"type": "set_field", "field": column, "value": v}
 *       the event row's column set as a client's PATCH would set it (the
 *       engine validates the value at the run; a refusal fails the action);
 *       for inventory.low too (reorder_point, reorder_quantity: the stock
 *       columns are the ledger's), as its rules run after the stock entry
 *   {"type": "webhook", "subscription_id": id}
 *       a signed POST of {event, rule, data: the event row as it is after
 *       the run's earlier actions} to the
 *       tenant's webhook subscription, queued and retried as every delivery
 * ]
 * Rules run in the job automation.run, queued in the transaction of the
 * event: inventory.low's by the stock entry with the inventory row as the
 * entry left it captured in the payload (its where is matched on that
 * capture, its actions see it), so no rule runs inside the entry's
 * transaction and a failing action never undoes a stock movement.
 * A rule that matches runs all its actions; each run writes one
 * automation_logs row (success, partial when some action failed, failed
 * when none ran) and bumps execution_count and last_executed. A rule that
 * is not active never runs. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/jsonw.h"
#include "domain/analytics/analytics.h"
#include "domain/notify/notify.h"
#include "jobs/jobs.h"
#include "schema/crud.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"

#define MAX_WHERE 10
#define MAX_ACTIONS 10

typedef struct event_kind {
    const char *name, *table;
} event_kind;

static const event_kind events[] = {
    {"inventory.low", OB_TABLE_INVENTORY},
    {"invoice.paid", OB_TABLE_INVOICES},
    {"customer.birthday", OB_TABLE_CUSTOMERS},
};

static const event_kind *event_of(const char *name)
{
    for (size_t i = 0; name && i < OB_ARRAY_LEN(events); i++)
        if (!strcmp(events[i].name, name)) return &events[i];
    return NULL;
}

static int bad(ob_err *err, ob_arena *a, const char *field, const char *fmt, const char *part)
{
    ob_err_set(err, OB_E_VALIDATION, NULL);
    return ob_err_field_add(err, field, ob_arena_printf(a, fmt, part));
}

static bool readable_column(const ob_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i]->name, name)) return !(t->cols[i]->flags & OB_SECRET);
    return false;
}

static bool whole(json_t *v, json_int_t min)
{
    return json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= 1000000000;
}

static int check_trigger(ob_ctx *ctx, json_t *t, const event_kind **ev, ob_err *err)
{
    ob_arena *a = ctx->arena;
    const char *f = AUTOMATION_RULES_TRIGGER_CONDITIONS.name;
    if (!json_is_object(t)) return bad(err, a, f, "must be an object {event, where}%s", "");
    const char *key;
    json_t *v;
    json_object_foreach(t, key, v) if (strcmp(key, "event") && strcmp(key, "where"))
        return bad(err, a, f, "%s: unknown part (event, where)", key);
    *ev = event_of(json_string_value(json_object_get(t, "event")));
    if (!*ev) return bad(err, a, f, "event: must be %s", "inventory.low, invoice.paid or customer.birthday");
    json_t *where = json_object_get(t, "where");
    if (!where) return 0;
    if (!json_is_object(where) || json_object_size(where) > MAX_WHERE)
        return bad(err, a, f, "where: must be an object of at most 10 columns%s", "");
    const ob_table *tab = ob_registry_find((*ev)->table);
    json_object_foreach(where, key, v) {
        if (!readable_column(tab, key))
            return bad(err, a, f, "%s: not a column of the event's row", ob_arena_printf(a, "where.%s", key));
        if (!json_is_string(v) && !json_is_integer(v) && !json_is_boolean(v))
            return bad(err, a, f, "%s: must be a string, a whole number or a boolean",
                       ob_arena_printf(a, "where.%s", key));
    }
    return 0;
}

/* set_field: a column of the event's row a client may write. */
static int check_set_field(ob_arena *a, json_t *act, const event_kind *ev, const char *part, ob_err *err)
{
    const char *f = AUTOMATION_RULES_ACTIONS.name;
    const char *key;
    json_t *v;
    json_object_foreach(act, key, v) if (strcmp(key, "type") && strcmp(key, "field") && strcmp(key, "value"))
        return bad(err, a, f, "%s: set_field takes field and value", ob_arena_printf(a, "%s.%s", part, key));
    const char *field = json_string_value(json_object_get(act, "field"));
    const ob_table *t = ob_registry_find(ev->table);
    const ob_column *col = NULL;
    for (int i = 0; field && i < t->ncols; i++)
        if (!strcmp(t->cols[i]->name, field)) col = t->cols[i];
    if (!col || (col->flags & (OB_SECRET | OB_SERVER | OB_GENERATED | OB_IMMUTABLE)))
        return bad(err, a, f, "%s.field: must be a column of the event's row that a client may write", part);
    if (!json_object_get(act, "value")) return bad(err, a, f, "%s.value: is required (null clears)", part);
    return 0;
}

/* webhook: one of the tenant's webhook subscriptions. */
static int check_webhook(ob_ctx *ctx, json_t *act, const char *part, ob_err *err)
{
    ob_arena *a = ctx->arena;
    const char *f = AUTOMATION_RULES_ACTIONS.name;
    const char *key;
    json_t *v;
    json_object_foreach(act, key, v) if (strcmp(key, "type") && strcmp(key, "subscription_id"))
        return bad(err, a, f, "%s: webhook takes subscription_id", ob_arena_printf(a, "%s.%s", part, key));
    const char *sub = json_string_value(json_object_get(act, "subscription_id"));
    int found = sub && strlen(sub) == 36
                    ? ob_sql_exists(ctx, ob_registry_find(OB_TABLE_WEBHOOK_SUBSCRIPTIONS), sub, err)
                    : 0;
    if (found < 0) return -1;
    if (!found) return bad(err, a, f, "%s.subscription_id: must be a webhook subscription of the tenant", part);
    return 0;
}

static int check_actions(ob_ctx *ctx, json_t *acts, const event_kind *ev, ob_err *err)
{
    ob_arena *a = ctx->arena;
    const char *f = AUTOMATION_RULES_ACTIONS.name;
    if (!json_is_array(acts) || json_array_size(acts) < 1 || json_array_size(acts) > MAX_ACTIONS)
        return bad(err, a, f, "must be an array of 1 to 10 actions%s", "");
    size_t i;
    json_t *act;
    json_array_foreach(acts, i, act) {
        const char *part = ob_arena_printf(a, "[%zu]", i);
        const char *type = json_string_value(json_object_get(act, "type"));
        if (!json_is_object(act) || !type ||
            (strcmp(type, "reorder") && strcmp(type, "notify") && strcmp(type, "follow_up") &&
             strcmp(type, "set_field") && strcmp(type, "webhook")))
            return bad(err, a, f, "%s.type: must be reorder, notify, follow_up, set_field or webhook", part);
        const char *key;
        json_t *v;
        if (!strcmp(type, "set_field")) {
            if (check_set_field(a, act, ev, part, err) != 0) return -1;
            continue;
        }
        if (!strcmp(type, "webhook")) {
            if (check_webhook(ctx, act, part, err) != 0) return -1;
            continue;
        }
        if (!strcmp(type, "reorder")) {
            if (strcmp(ev->name, "inventory.low") != 0)
                return bad(err, a, f, "%s.type: reorder is an action of inventory.low", part);
            json_object_foreach(act, key, v) {
                if (!strcmp(key, "type")) continue;
                if (!strcmp(key, "reorder_point") && whole(v, 0)) continue;
                if (!strcmp(key, "reorder_quantity") && whole(v, 1)) continue;
                return bad(err, a, f, "%s: reorder takes reorder_point (0 or more) and reorder_quantity (1 or more)",
                           ob_arena_printf(a, "%s.%s", part, key));
            }
            continue;
        }
        if (!strcmp(type, "follow_up")) {
            if (!strcmp(ev->name, "inventory.low"))
                return bad(err, a, f, "%s.type: follow_up is an action of a customer's event", part);
            json_object_foreach(act, key, v) {
                if (!strcmp(key, "type")) continue;
                if (!strcmp(key, "days") && json_is_integer(v) && json_integer_value(v) >= 0 &&
                    json_integer_value(v) <= 366)
                    continue;
                if (!strcmp(key, "subject") && json_is_string(v) && json_string_length(v) >= 1 &&
                    json_string_length(v) <= 255)
                    continue;
                return bad(err, a, f, "%s: follow_up takes days (0 to 366) and subject (1 to 255 characters)",
                           ob_arena_printf(a, "%s.%s", part, key));
            }
            if (!json_object_get(act, "subject")) return bad(err, a, f, "%s.subject: is required", part);
            continue;
        }
        json_object_foreach(act, key, v) if (strcmp(key, "type") && strcmp(key, "template") && strcmp(key, "to"))
            return bad(err, a, f, "%s: notify takes template and to", ob_arena_printf(a, "%s.%s", part, key));
        const char *tpl = json_string_value(json_object_get(act, "template"));
        const char *to = json_string_value(json_object_get(act, "to"));
        if (!tpl || !*tpl || strlen(tpl) > 100)
            return bad(err, a, f, "%s.template: must be a notification template's code", part);
        if (!to || !*to || strlen(to) > 254)
            return bad(err, a, f, "%s.to: must be an address, or customer (the customer's e-mail)", part);
        if (!strcmp(to, "customer") && !strcmp(ev->name, "inventory.low"))
            return bad(err, a, f, "%s.to: inventory.low has no customer", part);
    }
    return 0;
}

int ob_automation_check(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    const char *t = ob_row_text(row, AUTOMATION_RULES_TRIGGER_CONDITIONS);
    const char *acts = ob_row_text(row, AUTOMATION_RULES_ACTIONS);
    json_t *tj = json_loads(t ? t : "null", JSON_DECODE_ANY, NULL);
    json_t *aj = json_loads(acts ? acts : "null", JSON_DECODE_ANY, NULL);
    const event_kind *ev = NULL;
    int rc = check_trigger(ctx, tj, &ev, err);
    if (rc == 0) rc = check_actions(ctx, aj, ev, err);
    json_decref(tj);
    json_decref(aj);
    return rc;
}

/* Whether the event row (as its JSON image) holds every where pair. */
static bool where_holds(json_t *where, json_t *image)
{
    const char *key;
    json_t *v;
    json_object_foreach(where, key, v) {
        json_t *have = json_object_get(image, key);
        if (!have || !json_equal(have, v)) return false;
    }
    return true;
}

int ob_automation_match(ob_ctx *ctx, const char *event, const ob_row *row, ob_automation_rule **out, int *n,
                        ob_err *err)
{
    *out = NULL;
    *n = 0;
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, 512);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_row_json_raw(&w, row);
    json_t *image = json_loads(sb.buf, 0, NULL);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\", \"trigger_conditions\", \"actions\" FROM \"automation_rules\" "
                      "WHERE \"is_active\" = ? ORDER BY \"created_at\" DESC, \"id\" DESC",
                      &st, err) != 0) {
        json_decref(image);
        return -1;
    }
    ob_value yes = ob_v_bool(true);
    ob_stmt_bind(st, 1, &yes, err);
    int rc, cap = 0;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        json_t *t = json_loads(ob_stmt_col_text(st, 1, NULL), 0, NULL);
        bool hit = json_is_object(t) && json_is_string(json_object_get(t, "event")) &&
                   !strcmp(json_string_value(json_object_get(t, "event")), event) &&
                   where_holds(json_object_get(t, "where"), image);
        json_decref(t);
        if (!hit) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            ob_automation_rule *nw = ob_arena_alloc(ctx->arena, (size_t)cap * sizeof *nw);
            if (*n) memcpy(nw, *out, (size_t)*n * sizeof *nw);
            *out = nw;
        }
        (*out)[(*n)++] = (ob_automation_rule){ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)),
                                              ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 2, NULL))};
    }
    ob_stmt_done(st);
    json_decref(image);
    return rc < 0 ? -1 : 0;
}

/* The customer an event row is about: the row itself, or its customer_id. */
static int customer_of(ob_ctx *ctx, const ob_row *row, ob_row **out, ob_err *err)
{
    *out = NULL;
    const ob_table *ct = ob_registry_find(OB_TABLE_CUSTOMERS);
    if (row->t == ct) {
        *out = (ob_row *)row;
        return 0;
    }
    if (row->t != ob_registry_find(OB_TABLE_INVOICES)) return 0;
    return ob_sql_load_internal(ctx, ct, ob_row_text(row, INVOICES_CUSTOMER_ID), out, err);
}

/* A follow-up call with the customer days from now, by the rule's author
 * (who the crm.follow_ups job tells when it is overdue). */
static int follow_up(ob_ctx *ctx, json_t *act, const ob_row *rule, const ob_row *cust, ob_err *err)
{
    ob_row *c = ob_row_with_defaults(ctx, OB_TABLE_CUSTOMER_COMMUNICATION_HISTORY);
    json_t *days = json_object_get(act, "days");
    char due[OB_TS_LEN];
    ob_ts_format(ctx->now_ms + (json_is_integer(days) ? json_integer_value(days) : 0) * 86400000LL, due);
    ob_row_set_text(ctx->arena, c, CUSTOMER_COMMUNICATION_HISTORY_CUSTOMER_ID, ob_row_id(cust));
    ob_row_set_text(ctx->arena, c, CUSTOMER_COMMUNICATION_HISTORY_COMMUNICATION_TYPE, "call");
    ob_row_set_text(ctx->arena, c, CUSTOMER_COMMUNICATION_HISTORY_DIRECTION, "outbound");
    ob_row_set_text(ctx->arena, c, CUSTOMER_COMMUNICATION_HISTORY_SUBJECT,
                    ob_arena_strdup(ctx->arena, json_string_value(json_object_get(act, "subject"))));
    ob_row_set_text(ctx->arena, c, CUSTOMER_COMMUNICATION_HISTORY_CONTENT,
                    ob_arena_printf(ctx->arena, "raised by the automation rule \"%s\"",
                                    ob_row_text(rule, AUTOMATION_RULES_RULE_NAME)));
    ob_row_set_bool(c, CUSTOMER_COMMUNICATION_HISTORY_FOLLOW_UP_REQUIRED, true);
    ob_row_set_text(ctx->arena, c, CUSTOMER_COMMUNICATION_HISTORY_FOLLOW_UP_DATE, due);
    ob_row_set_text(ctx->arena, c, CUSTOMER_COMMUNICATION_HISTORY_STATUS, "scheduled");
    ob_row_set_text(ctx->arena, c, CUSTOMER_COMMUNICATION_HISTORY_CREATED_BY, ob_row_text(rule, AUTOMATION_RULES_CREATED_BY));
    return ob_crud_insert_row(ctx, c, err);
}

/* One signed POST to the rule's webhook subscription: the event, the rule
 * and the event row as the API shows it (the outbox signs and retries). */
static int rule_webhook(ob_ctx *ctx, json_t *act, const ob_row *rule, const ob_row *row, ob_err *err)
{
    const char *sub = json_string_value(json_object_get(act, "subscription_id"));
    int found = sub ? ob_sql_exists(ctx, ob_registry_find(OB_TABLE_WEBHOOK_SUBSCRIPTIONS), sub, err) : 0;
    if (found < 0) return -1;
    if (!found) return ob_err_set(err, OB_E_UNPROCESSABLE, "the webhook subscription no longer exists");
    ob_row *cur; /* as it is now: an earlier set_field of the run shows */
    if (ob_sql_load_internal(ctx, row->t, ob_row_id(row), &cur, err) != 0) return -1;
    json_t *trigger = json_loads(ob_row_text(rule, AUTOMATION_RULES_TRIGGER_CONDITIONS), 0, NULL);
    const char *event = ob_arena_strdup(ctx->arena, json_string_value(json_object_get(trigger, "event")));
    json_decref(trigger);
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, 1024);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "event", event);
    ob_jw_key(&w, "rule");
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "id", ob_row_id(rule));
    ob_jw_kstr(&w, "rule_name", ob_row_text(rule, AUTOMATION_RULES_RULE_NAME));
    ob_jw_obj_close(&w);
    ob_jw_key(&w, "data");
    ob_row_json_raw(&w, cur);
    ob_jw_obj_close(&w);
    return ob_webhook_outbox(ctx, sub, "automation.rule", sb.buf, err);
}

/* The run of r on row, its log keyed by key when given (NULL: none). */
static int run_rule(ob_ctx *ctx, const ob_automation_rule *r, const ob_row *row, json_t *details, const char *key,
                    ob_err *err)
{
    ob_row *old, *cust = NULL;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_AUTOMATION_RULES), r->id, &old, err) != 0 ||
        customer_of(ctx, row, &cust, err) != 0)
        return -1;
    json_t *acts = json_loads(r->actions ? r->actions : "[]", 0, NULL), *act;
    json_t *done = json_array();
    size_t i;
    int ran = 0, failed = 0;
    const char *problem = NULL;
    json_array_foreach(acts, i, act) {
        const char *type = json_string_value(json_object_get(act, "type"));
        ob_err aerr;
        int rc = 0;
        json_t *outcome = json_pack("{s:s?}", "type", type);
        if (type && !strcmp(type, "notify")) {
            const char *to = json_string_value(json_object_get(act, "to"));
            if (to && !strcmp(to, "customer")) to = cust ? ob_row_text(cust, CUSTOMERS_EMAIL) : NULL;
            if (!to) rc = ob_err_set(&aerr, OB_E_UNPROCESSABLE, "the customer has no e-mail address");
            else rc = ob_notify(ctx, json_string_value(json_object_get(act, "template")), to, row, &aerr);
            if (rc == 0) json_object_set_new(outcome, "to", json_string(to));
        } else if (type && !strcmp(type, "follow_up")) {
            if (!cust) rc = ob_err_set(&aerr, OB_E_UNPROCESSABLE, "the event names no customer");
            else rc = follow_up(ctx, act, old, cust, &aerr);
        } else if (type && !strcmp(type, "set_field")) {
            json_t *body = json_object();
            json_object_set(body, json_string_value(json_object_get(act, "field")), json_object_get(act, "value"));
            ob_row *out;
            rc = ob_crud_update(ctx, row->t, ob_row_id(row), body, -1, &out, &aerr);
            json_decref(body);
        } else if (type && !strcmp(type, "webhook")) {
            rc = rule_webhook(ctx, act, old, row, &aerr);
        } /* reorder: applied by the caller before the run (the suggestion's point and quantity) */
        if (rc != 0) {
            if (aerr.code != OB_E_UNPROCESSABLE && aerr.code != OB_E_VALIDATION) {
                *err = aerr;
                json_decref(outcome);
                json_decref(acts);
                json_decref(done);
                return -1;
            }
            failed++;
            problem = ob_arena_printf(ctx->arena, "actions[%zu]: %s", i, aerr.message);
            json_object_set_new(outcome, "error", json_string(aerr.message));
        } else {
            ran++;
        }
        json_array_append_new(done, outcome);
    }
    json_decref(acts);
    json_object_set_new(details, "actions", done);
    ob_row *log = ob_row_with_defaults(ctx, OB_TABLE_AUTOMATION_LOGS);
    ob_row_set_text(ctx->arena, log, AUTOMATION_LOGS_RULE_ID, r->id);
    ob_row_set_text(ctx->arena, log, AUTOMATION_LOGS_EXECUTION_STATUS,
                    failed == 0 ? "success" : ran > 0 ? "partial" : "failed");
    char *txt = json_dumps(details, JSON_COMPACT);
    ob_row_set_text(ctx->arena, log, AUTOMATION_LOGS_EXECUTION_DETAILS, txt);
    free(txt);
    if (problem) ob_row_set_text(ctx->arena, log, AUTOMATION_LOGS_ERROR_MESSAGE, problem);
    if (key) ob_row_set_text(ctx->arena, log, AUTOMATION_LOGS_RUN_KEY, key);
    ob_row_set_text(ctx->arena, log, AUTOMATION_LOGS_EXECUTED_AT, ctx->now);
    if (ob_crud_insert_row(ctx, log, err) != 0) return -1;
    ob_row *upd = ob_row_copy(ctx->arena, old);
    ob_row_set_int(upd, AUTOMATION_RULES_EXECUTION_COUNT, ob_row_int(old, AUTOMATION_RULES_EXECUTION_COUNT, 0) + 1);
    ob_row_set_text(ctx->arena, upd, AUTOMATION_RULES_LAST_EXECUTED, ctx->now);
    return ob_crud_save(ctx, old, upd, "execute", err);
}

int ob_automation_run(ob_ctx *ctx, const ob_automation_rule *r, const ob_row *row, json_t *details, ob_err *err)
{
    return run_rule(ctx, r, row, details, NULL, err);
}

/* Whether rule_id has run for key already. */
static int ran_for(ob_ctx *ctx, const char *rule_id, const char *key, bool *yes, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT 1 FROM \"automation_logs\" WHERE \"rule_id\" = ? AND \"run_key\" = ?", &st,
                      err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, rule_id, err);
    ob_stmt_bind_text(st, 2, key, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    *yes = rc == 1;
    return rc < 0 ? -1 : 0;
}

/* Whether an active rule waits for event (a job is queued only then). */
static int any_rule(ob_ctx *ctx, const char *event, bool *yes, ob_err *err)
{
    *yes = false;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT \"trigger_conditions\" FROM \"automation_rules\" WHERE \"is_active\" = ?", &st,
                      err) != 0)
        return -1;
    ob_value on = ob_v_bool(true);
    ob_stmt_bind(st, 1, &on, err);
    int rc;
    while (!*yes && (rc = ob_stmt_step(st, err)) == 1) {
        json_t *t = json_loads(ob_stmt_col_text(st, 0, NULL), 0, NULL);
        const char *e = json_string_value(json_object_get(t, "event"));
        *yes = e && !strcmp(e, event);
        json_decref(t);
    }
    ob_stmt_done(st);
    return *yes || rc >= 0 ? 0 : -1;
}

int ob_automation_raise(ob_ctx *ctx, const char *event, const char *id, ob_err *err)
{
    bool yes;
    if (any_rule(ctx, event, &yes, err) != 0) return -1;
    if (!yes) return 0;
    json_t *p = json_pack("{s:s, s:s}", "event", event, "id", id);
    char *txt = json_dumps(p, JSON_COMPACT);
    const char *payload = ob_arena_strdup(ctx->arena, txt);
    free(txt);
    json_decref(p);
    return ob_job_enqueue(ctx, "automation.run", payload, 3, err);
}

int ob_automation_raise_row(ob_ctx *ctx, const char *event, const ob_row *row, json_t *details, ob_err *err)
{
    bool yes;
    if (any_rule(ctx, event, &yes, err) != 0) return -1;
    if (!yes) return 0;
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, 1024);
    ob_jsonw w;
    ob_jw_init(&w, &sb);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "event", event);
    ob_jw_kstr(&w, "id", ob_row_id(row));
    ob_jw_key(&w, "row");
    ob_row_json_raw(&w, row);
    ob_jw_obj_close(&w);
    json_t *p = json_loads(sb.buf, 0, NULL);
    if (!p) return ob_err_set(err, OB_E_INTERNAL, "the event's row could not be captured");
    if (details) json_object_set(p, "details", details);
    char *txt = json_dumps(p, JSON_COMPACT);
    const char *payload = ob_arena_strdup(ctx->arena, txt);
    free(txt);
    json_decref(p);
    return ob_job_enqueue(ctx, "automation.run", payload, 3, err);
}

/* The event's row as the payload captured it: the stored row with every
 * captured column's value put back (a column since dropped is skipped). */
static int captured(ob_ctx *ctx, const ob_table *t, const char *id, json_t *cap, ob_row **out, ob_err *err)
{
    ob_row *now;
    if (ob_sql_load_internal(ctx, t, id, &now, err) != 0) return -1;
    ob_row *r = ob_row_copy(ctx->arena, now);
    const char *key;
    json_t *v;
    json_object_foreach(cap, key, v) {
        int i = -1;
        for (int k = 0; k < t->ncols; k++)
            if (!strcmp(t->cols[k]->name, key)) i = k;
        if (i < 0 || !strcmp(key, "id")) continue;
        const ob_column *c = t->cols[i];
        int64_t minor;
        if (json_is_null(v)) ob_row_set_null_at(r, i);
        else if (json_is_integer(v) && c->type == OB_F_INT) ob_row_set_int_at(r, i, (int64_t)json_integer_value(v));
        else if (json_is_boolean(v)) ob_row_set_bool(r, OB_COLH(t->name, i, key), json_is_true(v));
        else if (json_is_string(v) && c->type == OB_F_DECIMAL) {
            if (ob_parse_decimal(json_string_value(v), c->scale, &minor) == 0) ob_row_set_int_at(r, i, minor);
        } else if (json_is_string(v)) ob_row_set_text_at(ctx->arena, r, i, json_string_value(v));
    }
    *out = r;
    return 0;
}

/* Run the matching rules on one event row; *ran counts the runs. */
static int run_on(ob_ctx *ctx, const char *event, const ob_row *row, json_t *base, const char *key, int *ran,
                  ob_err *err)
{
    ob_automation_rule *rules;
    int n;
    if (ob_automation_match(ctx, event, row, &rules, &n, err) != 0) return -1;
    for (int i = 0; i < n; i++) {
        bool done = false;
        if (key && ran_for(ctx, rules[i].id, key, &done, err) != 0) return -1;
        if (done) continue; /* this occasion was greeted today */
        json_t *d = json_is_object(base) ? json_deep_copy(base) : json_object();
        json_object_set_new(d, "event", json_string(event));
        json_object_set_new(d, "table", json_string(row->t->name));
        json_object_set_new(d, "id", json_string(ob_row_id(row)));
        if (key) json_object_set_new(d, "run_key", json_string(key));
        int rc = run_rule(ctx, &rules[i], row, d, key, err);
        json_decref(d);
        if (rc != 0) return -1;
        (*ran)++;
    }
    return 0;
}

/* customer.birthday: the customers whose date_of_birth falls on today's
 * month and day in the tenant's zone (29 February on 28 February of other
 * years). */
static int birthdays(ob_ctx *ctx, int *ran, ob_err *err)
{
    int64_t today;
    if (ob_kpi_today(ctx, &today, err) != 0) return -1;
    char d[11];
    ob_date_format(today, d);
    bool leap_less = !strcmp(d + 5, "02-28");
    int year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
    leap_less = leap_less && !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0);
    const ob_table *t = ob_registry_find(OB_TABLE_CUSTOMERS);
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT \"id\" FROM \"customers\" WHERE \"date_of_birth\" IS NOT NULL%s "
                                      "ORDER BY \"id\"",
                                      t->deleted_col >= 0 ? " AND \"deleted_at\" IS NULL" : "");
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    const char **ids;
    size_t n;
    if (ob_sql_texts(ctx, st, &ids, &n, err) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        ob_row *c;
        if (ob_sql_load_internal(ctx, t, ids[i], &c, err) != 0) return -1;
        const char *dob = ob_row_text(c, CUSTOMERS_DATE_OF_BIRTH);
        if (!dob || strlen(dob) < 10) continue;
        bool hit = !strncmp(dob + 5, d + 5, 5) || (leap_less && !strncmp(dob + 5, "02-29", 5));
        /* one greeting per customer, occasion and day, however often the sweep runs */
        const char *key = ob_arena_printf(ctx->arena, "customer.birthday:%s:%s", ids[i], d);
        if (hit && run_on(ctx, "customer.birthday", c, NULL, key, ran, err) != 0) return -1;
    }
    return 0;
}

int ob_automation_job_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    const char *text = ob_row_text(job, JOBS_PAYLOAD);
    json_t *p = json_loads(text ? text : "{}", 0, NULL);
    const char *event = ob_arena_strdup(ctx->arena, json_string_value(json_object_get(p, "event")) ?
                                                        json_string_value(json_object_get(p, "event")) : "");
    const char *id = json_string_value(json_object_get(p, "id")) ?
                         ob_arena_strdup(ctx->arena, json_string_value(json_object_get(p, "id"))) : NULL;
    json_t *cap = json_object_get(p, "row"), *details = json_object_get(p, "details");
    const event_kind *ev = event_of(event);
    int ran = 0, rc = 0;
    if (!ev) {
        rc = ob_err_set(err, OB_E_UNPROCESSABLE, "payload.event must be inventory.low, invoice.paid or customer.birthday");
    } else if (!id && !strcmp(ev->name, "customer.birthday")) {
        rc = birthdays(ctx, &ran, err);
    } else if (!id || (!strcmp(ev->name, "inventory.low") && !json_is_object(cap))) {
        rc = ob_err_set(err, OB_E_UNPROCESSABLE, "payload.id is required (and payload.row for inventory.low)");
    } else {
        ob_row *row;
        const ob_table *t = ob_registry_find(ev->table);
        rc = json_is_object(cap) ? captured(ctx, t, id, cap, &row, err) : ob_sql_load_internal(ctx, t, id, &row, err);
        if (rc == 0) rc = run_on(ctx, ev->name, row, details, NULL, &ran, err);
    }
    json_decref(p);
    if (rc != 0) return -1;
    ob_sb_addf(result, "{\"ran\":%d}", ran);
    return 0;
}

/* A rule of the shape before this one (reorder rules only had behaviour):
 * trigger_conditions {product_id?, warehouse_id?} and actions
 * {reorder_point?, reorder_quantity?}, in the shape above: inventory.low
 * where those columns, one reorder action. NULL when text is not of it. */
static json_t *old_trigger(const char *text)
{
    json_t *t = json_loads(text ? text : "null", JSON_DECODE_ANY, NULL);
    if (!json_is_object(t) || json_object_get(t, "event")) {
        json_decref(t);
        return NULL;
    }
    json_t *where = json_object(), *v;
    const char *key;
    json_object_foreach(t, key, v) if ((!strcmp(key, "product_id") || !strcmp(key, "warehouse_id")) &&
                                       json_is_string(v)) json_object_set(where, key, v);
    json_decref(t);
    json_t *out = json_pack("{s:s}", "event", "inventory.low");
    if (json_object_size(where)) json_object_set(out, "where", where);
    json_decref(where);
    return out;
}

static json_t *old_actions(const char *text)
{
    json_t *a = json_loads(text ? text : "null", JSON_DECODE_ANY, NULL);
    json_t *act = json_pack("{s:s}", "type", "reorder");
    json_t *p = json_object_get(a, "reorder_point"), *q = json_object_get(a, "reorder_quantity");
    if (json_is_integer(p) && json_integer_value(p) >= 0) json_object_set(act, "reorder_point", p);
    if (json_is_integer(q) && json_integer_value(q) >= 1) json_object_set(act, "reorder_quantity", q);
    json_decref(a);
    json_t *out = json_array();
    json_array_append_new(out, act);
    return out;
}

int ob_automation_migrate(ob_ctx *ctx, int *n, ob_err *err)
{
    *n = 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\", \"trigger_conditions\", \"actions\" FROM \"automation_rules\" "
                      "WHERE \"rule_type\" = 'reorder' ORDER BY \"id\"",
                      &st, err) != 0)
        return -1;
    typedef struct fix {
        const char *id, *trigger, *actions;
    } fix;
    fix *list = NULL;
    int cap = 0, rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        json_t *t = old_trigger(ob_stmt_col_text(st, 1, NULL));
        if (!t) continue;
        json_t *acts = json_loads(ob_stmt_col_text(st, 2, NULL) ? ob_stmt_col_text(st, 2, NULL) : "null",
                                  JSON_DECODE_ANY, NULL);
        json_t *a = json_is_array(acts) ? json_incref(acts) : old_actions(ob_stmt_col_text(st, 2, NULL));
        json_decref(acts);
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            fix *nw = ob_arena_alloc(ctx->arena, (size_t)cap * sizeof *nw);
            if (*n) memcpy(nw, list, (size_t)*n * sizeof *nw);
            list = nw;
        }
        char *tt = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS), *at = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
        list[(*n)++] = (fix){ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)), ob_arena_strdup(ctx->arena, tt),
                             ob_arena_strdup(ctx->arena, at)};
        free(tt);
        free(at);
        json_decref(t);
        json_decref(a);
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    for (int i = 0; i < *n; i++) {
        ob_value v[] = {ob_v_text(list[i].trigger), ob_v_text(list[i].actions), ob_v_text(ctx->now),
                        ob_v_text(list[i].id)};
        if (ob_sql_run(ctx->db,
                       "UPDATE \"automation_rules\" SET \"trigger_conditions\" = ?, \"actions\" = ?, "
                       "\"updated_at\" = ?, \"version\" = \"version\" + 1 WHERE \"id\" = ?",
                       v, 4, err) != 0)
            return -1;
    }
    return 0;
}
