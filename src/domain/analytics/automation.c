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
 * ]
 * A rule that matches runs all its actions; each run writes one
 * automation_logs row (success, partial when some action failed, failed
 * when none ran) and bumps execution_count and last_executed. A rule that
 * is not active never runs. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/jsonw.h"
#include "domain/analytics/analytics.h"
#include "domain/notify/notify.h"
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
    if (!*ev) return bad(err, a, f, "event: must be %s", "inventory.low");
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
        if (!json_is_object(act) || !type || (strcmp(type, "reorder") && strcmp(type, "notify")))
            return bad(err, a, f, "%s.type: must be reorder or notify", part);
        const char *key;
        json_t *v;
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
        json_object_foreach(act, key, v) if (strcmp(key, "type") && strcmp(key, "template") && strcmp(key, "to"))
            return bad(err, a, f, "%s: notify takes template and to", ob_arena_printf(a, "%s.%s", part, key));
        const char *tpl = json_string_value(json_object_get(act, "template"));
        const char *to = json_string_value(json_object_get(act, "to"));
        if (!tpl || !*tpl || strlen(tpl) > 100)
            return bad(err, a, f, "%s.template: must be a notification template's code", part);
        if (!to || !*to || strlen(to) > 254) return bad(err, a, f, "%s.to: must be an address", part);
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

int ob_automation_run(ob_ctx *ctx, const ob_automation_rule *r, const ob_row *row, json_t *details, ob_err *err)
{
    json_t *acts = json_loads(r->actions ? r->actions : "[]", 0, NULL), *act;
    json_t *done = json_array();
    size_t i;
    int ran = 0, failed = 0;
    const char *problem = NULL;
    json_array_foreach(acts, i, act) {
        const char *type = json_string_value(json_object_get(act, "type"));
        if (type && !strcmp(type, "notify")) {
            ob_err nerr;
            if (ob_notify(ctx, json_string_value(json_object_get(act, "template")),
                          json_string_value(json_object_get(act, "to")), row, &nerr) != 0) {
                if (nerr.code != OB_E_UNPROCESSABLE && nerr.code != OB_E_VALIDATION) {
                    *err = nerr;
                    json_decref(acts);
                    json_decref(done);
                    return -1;
                }
                failed++;
                problem = ob_arena_printf(ctx->arena, "actions[%zu]: %s", i, nerr.message);
                json_array_append_new(done, json_pack("{s:s, s:s}", "type", "notify", "error", nerr.message));
                continue;
            }
            json_array_append_new(done, json_pack("{s:s, s:s?}", "type", "notify", "to",
                                                  json_string_value(json_object_get(act, "to"))));
        } else {
            /* reorder: applied by the caller before the run (the suggestion's point and quantity) */
            json_array_append_new(done, json_pack("{s:s?}", "type", type));
        }
        ran++;
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
    ob_row_set_text(ctx->arena, log, AUTOMATION_LOGS_EXECUTED_AT, ctx->now);
    if (ob_crud_insert_row(ctx, log, err) != 0) return -1;
    ob_row *old;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_AUTOMATION_RULES), r->id, &old, err) != 0) return -1;
    ob_row *upd = ob_row_copy(ctx->arena, old);
    ob_row_set_int(upd, AUTOMATION_RULES_EXECUTION_COUNT, ob_row_int(old, AUTOMATION_RULES_EXECUTION_COUNT, 0) + 1);
    ob_row_set_text(ctx->arena, upd, AUTOMATION_RULES_LAST_EXECUTED, ctx->now);
    return ob_crud_save(ctx, old, upd, "execute", err);
}
