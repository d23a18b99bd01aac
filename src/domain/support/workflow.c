/* workflow.c - the support desk's rules: SLA due times from the category,
 * auto-assignment to the least-loaded agent, agent load counters that follow
 * every status and assignee change, first response, and the plan limit. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/support/support.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "domain/notify/notify.h"
#include "domain/seeds.h"
#include "jobs/jobs.h"
#include "gen/columns.h"
#include "base/banned.h"

bool ob_ticket_status_active(const char *status)
{
    static const char *const active[] = {"open", "in_progress", "waiting_customer", "waiting_internal"};
    for (size_t i = 0; status && i < OB_ARRAY_LEN(active); i++)
        if (strcmp(status, active[i]) == 0) return true;
    return false;
}

/* The active agent with the fewest open tickets; ties go to the one assigned
 * least recently (never assigned first), then the oldest account. */
static int pick_agent(ob_ctx *ctx, const char *exclude, char out[OB_UUID_LEN], bool *found, ob_err *err)
{
    ob_stmt *st;
    *found = false;
    if (ob_db_prepare(ctx->db,
                      "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id AND ur.status = 'active' "
                      "JOIN roles r ON r.id = ur.role_id AND r.code = 'agent' AND r.status = 'active' "
                      "WHERE u.is_active AND u.status = 'active' AND u.deleted_at IS NULL "
                      "AND (ur.expires_at IS NULL OR ur.expires_at > ?) AND u.id <> ? "
                      "ORDER BY u.current_ticket_count ASC, u.last_assigned_at ASC NULLS FIRST, u.id ASC LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ctx->now, err);
    ob_stmt_bind_text(st, 2, exclude ? exclude : "", err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        snprintf(out, OB_UUID_LEN, "%s", ob_stmt_col_text(st, 0, NULL));
        *found = true;
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Move an agent's load by delta; an increment is an assignment. */
static int agent_load(ob_ctx *ctx, const char *agent_id, int delta, ob_err *err)
{
    const ob_table *ut = ob_registry_find(OB_TABLE_USERS);
    ob_row *old;
    if (ob_sql_load_internal(ctx, ut, agent_id, &old, err) != 0) {
        /* a deleted agent has no load to keep */
        return err->code == OB_E_NOT_FOUND ? 0 : -1;
    }
    ob_row *row = ob_row_copy(ctx->arena, old);
    int64_t n = ob_row_int(old, USERS_CURRENT_TICKET_COUNT, 0) + delta;
    ob_row_set_int(row, USERS_CURRENT_TICKET_COUNT, n < 0 ? 0 : n);
    if (delta > 0) ob_row_set_text(ctx->arena, row, USERS_LAST_ASSIGNED_AT, ctx->now);
    return ob_crud_save(ctx, old, row, delta > 0 ? "ticket_assigned" : "ticket_released", err);
}

static int ticket_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    ob_row_set_text(ctx->arena, row, TICKETS_STATUS, "open");
    int64_t resp = 60, resol = 480, level = 3;
    const char *cat = ob_row_text(row, TICKETS_CATEGORY_ID), *calendar = NULL;
    if (cat) {
        ob_row *c;
        if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_CATEGORIES), cat, &c, err) != 0) {
            if (err->code != OB_E_NOT_FOUND) return -1;
            ob_err_set(err, OB_E_UNPROCESSABLE, "\"category_id\" refers to a categories record that does not exist");
            snprintf(err->field, sizeof err->field, "%s", TICKETS_CATEGORY_ID.name);
            ob_err_field_add(err, TICKETS_CATEGORY_ID.name, "refers to a record that does not exist");
            err->code = OB_E_UNPROCESSABLE;
            return -1;
        }
        resp = ob_row_int(c, CATEGORIES_RESPONSE_SLA_MINUTES, resp);
        resol = ob_row_int(c, CATEGORIES_RESOLUTION_SLA_MINUTES, resol);
        level = ob_row_int(c, CATEGORIES_PRIORITY_LEVEL, level);
        calendar = ob_row_text(c, CATEGORIES_BUSINESS_CALENDAR_ID);
    }
    if (ob_row_is_null(row, TICKETS_PRIORITY_LEVEL)) ob_row_set_int(row, TICKETS_PRIORITY_LEVEL, level);
    /* minutes of the category's business calendar, else of the clock */
    int64_t mins[2] = {resp, resol}, at[2] = {ctx->now_ms + resp * 60000, ctx->now_ms + resol * 60000};
    if (calendar && ob_business_due(ctx, calendar, ctx->now_ms, mins, at, 2, err) != 0) return -1;
    char due[OB_TS_LEN];
    ob_ts_format(at[0], due);
    ob_row_set_text(ctx->arena, row, TICKETS_RESPONSE_DUE_AT, due);
    ob_ts_format(at[1], due);
    ob_row_set_text(ctx->arena, row, TICKETS_SLA_DUE_DATE, due);
    char agent[OB_UUID_LEN];
    bool found;
    if (pick_agent(ctx, NULL, agent, &found, err) != 0) return -1;
    if (found) {
        ob_row_set_text(ctx->arena, row, TICKETS_ASSIGNED_AGENT_ID, agent);
        ob_row_set_text(ctx->arena, row, TICKETS_ASSIGNED_AT, ctx->now);
    }
    return 0;
}

/* The category's auto-response, when it has one, as the ticket's first
 * message: from the system, marked, so it is no first response. */
static int auto_respond(ob_ctx *ctx, const ob_row *ticket, ob_err *err)
{
    const char *cat = ob_row_text(ticket, TICKETS_CATEGORY_ID);
    ob_row *c;
    if (!cat) return 0;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_CATEGORIES), cat, &c, err) != 0) return -1;
    const char *text = ob_row_text(c, CATEGORIES_AUTO_RESPONSE);
    if (!text || !*text) return 0;
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, 256);
    static const char mark[] = "{{ticket_number}}";
    for (const char *p = text, *q; *p; p = q + sizeof mark - 1) {
        q = strstr(p, mark);
        if (!q) {
            ob_sb_adds(&sb, p);
            break;
        }
        ob_sb_add(&sb, p, (size_t)(q - p));
        ob_sb_adds(&sb, ob_row_text(ticket, TICKETS_TICKET_NUMBER));
    }
    ob_row *m = ob_row_with_defaults(ctx, OB_TABLE_TICKET_MESSAGES);
    ob_row_set_text(ctx->arena, m, TICKET_MESSAGES_TICKET_ID, ob_row_id(ticket));
    ob_row_set_text(ctx->arena, m, TICKET_MESSAGES_CONTENT, ob_arena_strndup(ctx->arena, sb.buf, 100000));
    ob_row_set_bool(m, TICKET_MESSAGES_IS_AUTO_RESPONSE, true);
    ob_row_set_text(ctx->arena, m, TICKET_MESSAGES_SENDER_TYPE, "system");
    return ob_crud_insert_row(ctx, m, err);
}

static int ticket_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    const char *agent = ob_row_text(row, TICKETS_ASSIGNED_AGENT_ID);
    if (agent && agent_load(ctx, agent, +1, err) != 0) return -1;
    return auto_respond(ctx, row, err);
}

/* The calendar of a ticket's category, or NULL (clock time). */
static int ticket_calendar(ob_ctx *ctx, const ob_row *ticket, const char **out, ob_err *err)
{
    *out = NULL;
    const char *cat = ob_row_text(ticket, TICKETS_CATEGORY_ID);
    if (!cat) return 0;
    ob_row *c;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_CATEGORIES), cat, &c, err) != 0)
        return err->code == OB_E_NOT_FOUND ? (ob_err_clear(err), 0) : -1;
    *out = ob_row_text(c, CATEGORIES_BUSINESS_CALENDAR_ID);
    return 0;
}

/* Leaving waiting_customer restarts the SLA clock the engine's stamp stopped
 * (sla_paused_at): each due time still ahead at the pause gets back the
 * working time it had left. The response due time only while unanswered. */
static int sla_resume(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const char *was = ob_row_text(old, TICKETS_STATUS), *paused = ob_row_text(old, TICKETS_SLA_PAUSED_AT);
    if (!was || strcmp(was, "waiting_customer") != 0 || !paused ||
        strcmp(ob_row_text(row, TICKETS_STATUS), "waiting_customer") == 0)
        return 0;
    int64_t at, due[2];
    const char *calendar;
    if (ob_ts_parse(paused, &at) != 0 || ticket_calendar(ctx, old, &calendar, err) != 0) return err->code ? -1 : 0;
    bool answered = !ob_row_is_null(old, TICKETS_FIRST_RESPONSE_AT);
    const ob_colh cols[2] = {TICKETS_RESPONSE_DUE_AT, TICKETS_SLA_DUE_DATE};
    for (int i = 0; i < 2; i++) {
        const char *v = ob_row_text(old, cols[i]);
        if (!v || ob_ts_parse(v, &due[i]) != 0 || (i == 0 && answered)) due[i] = INT64_MIN;
    }
    if (ob_business_resume(ctx, calendar, at, ctx->now_ms, due, 2, err) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        if (due[i] == INT64_MIN) continue;
        char ts[OB_TS_LEN];
        ob_ts_format(due[i], ts);
        ob_row_set_text(ctx->arena, row, cols[i], ts);
    }
    return 0;
}

/* Keep agent load right across status and assignee changes. */
static int ticket_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (sla_resume(ctx, old, row, err) != 0) return -1;
    const char *oa =
        ob_ticket_status_active(ob_row_text(old, TICKETS_STATUS)) ? ob_row_text(old, TICKETS_ASSIGNED_AGENT_ID) : NULL;
    const char *na =
        ob_ticket_status_active(ob_row_text(row, TICKETS_STATUS)) ? ob_row_text(row, TICKETS_ASSIGNED_AGENT_ID) : NULL;
    if (oa && na && strcmp(oa, na) == 0) return 0;
    if (oa && agent_load(ctx, oa, -1, err) != 0) return -1;
    if (na && agent_load(ctx, na, +1, err) != 0) return -1;
    return 0;
}

/* A deleted ticket no longer weighs on its agent. */
static int ticket_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    const char *agent = ob_row_text(old, TICKETS_ASSIGNED_AGENT_ID);
    if (!agent || !ob_ticket_status_active(ob_row_text(old, TICKETS_STATUS))) return 0;
    return agent_load(ctx, agent, -1, err);
}

const ob_hooks ob_ticket_hooks = {
    .before_create = ticket_before_create,
    .after_create = ticket_after_create,
    .before_update = ticket_before_update,
    .before_delete = ticket_before_delete,
};

#define ACTIVE "open,in_progress,waiting_customer,waiting_internal"
static const ob_transition ticket_transitions[] = {
    /* event          from                                      to                  guard effect */
    {"start",         "open",                                   "in_progress",      NULL, NULL},
    {"wait_customer", "open,in_progress,waiting_internal",      "waiting_customer", NULL, NULL},
    {"wait_internal", "open,in_progress,waiting_customer",      "waiting_internal", NULL, NULL},
    {"resume",        "waiting_customer,waiting_internal",      "in_progress",      NULL, NULL},
    {"resolve",       ACTIVE,                                   "resolved",         NULL, NULL,
     .fields = "resolution_notes"},
    {"close",         "resolved",                               "closed",           NULL, NULL},
    {"reopen",        "resolved",                               "open",             NULL, NULL},
    {"cancel",        ACTIVE,                                   "cancelled",        NULL, NULL},
};
const ob_fsm ob_ticket_fsm = {"status", ticket_transitions, (int)OB_ARRAY_LEN(ticket_transitions), "edit"};

/* POST /tickets/{id}/assign {"agent_id": ...} or {} to auto-assign. */
int ob_ticket_assign(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (!ob_ticket_status_active(ob_row_text(old, TICKETS_STATUS)))
        return ob_err_set(err, OB_E_BAD_STATE, "a ticket that is \"%s\" cannot be assigned",
                          ob_row_text(old, TICKETS_STATUS));
    /* validated: an existing user or absent */
    const char *agent_id = ob_row_text(ctx->input, TICKETS_ASSIGN_IN_AGENT_ID);
    char picked[OB_UUID_LEN];
    if (agent_id) {
        int64_t n = 0;
        ob_stmt *st;
        if (ob_db_prepare(ctx->db,
                          "SELECT COUNT(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id AND ur.status = "
                          "'active' JOIN roles r ON r.id = ur.role_id AND r.code = 'agent' AND r.status = 'active' "
                          "WHERE u.id = ? AND u.is_active AND u.status = 'active' AND u.deleted_at IS NULL "
                          "AND (ur.expires_at IS NULL OR ur.expires_at > ?)",
                          &st, err) != 0)
            return -1;
        ob_stmt_bind_text(st, 1, agent_id, err);
        ob_stmt_bind_text(st, 2, ctx->now, err);
        if (ob_stmt_step(st, err) == 1) n = ob_stmt_col_i64(st, 0);
        ob_stmt_done(st);
        if (n == 0) {
            ob_err_set(err, OB_E_UNPROCESSABLE, "\"agent_id\" is not an active agent");
            ob_err_field_add(err, TICKETS_ASSIGN_IN_AGENT_ID.name, "is not an active agent");
            err->code = OB_E_UNPROCESSABLE;
            return -1;
        }
    } else {
        bool found;
        if (pick_agent(ctx, ob_row_text(old, TICKETS_ASSIGNED_AGENT_ID), picked, &found, err) != 0) return -1;
        if (!found) return ob_err_set(err, OB_E_UNPROCESSABLE, "there is no other active agent to assign");
        agent_id = picked;
    }
    ob_row_set_text(ctx->arena, row, TICKETS_ASSIGNED_AGENT_ID, agent_id);
    ob_row_set_text(ctx->arena, row, TICKETS_ASSIGNED_AT, ctx->now);
    return 0;
}


static int message_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)err;
    const ob_principal *p = ctx->who;
    /* sender_type is server-set: "system" here comes from the server's own
     * message (an auto-response), whoever's request made it */
    const char *given = ob_row_text(row, TICKET_MESSAGES_SENDER_TYPE);
    bool system = !p || p->is_system || (given && strcmp(given, "system") == 0);
    ob_row_set_text(ctx->arena, row, TICKET_MESSAGES_SENDER_ID, system ? NULL : p->user_id);
    const char *type = system ? "system" : p->customer_id ? "customer" : "agent";
    ob_row_set_text(ctx->arena, row, TICKET_MESSAGES_SENDER_TYPE, type);
    return 0;
}

static int message_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    if (ob_row_int(row, TICKET_MESSAGES_IS_INTERNAL, 0) || ob_row_int(row, TICKET_MESSAGES_IS_AUTO_RESPONSE, 0))
        return 0;
    if (strcmp(ob_row_text(row, TICKET_MESSAGES_SENDER_TYPE), "agent") != 0) return 0;
    ob_row *old;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_TICKETS), ob_row_text(row, TICKET_MESSAGES_TICKET_ID), &old,
                             err) != 0)
        return -1;
    if (!ob_row_is_null(old, TICKETS_FIRST_RESPONSE_AT)) return 0;
    ob_row *t = ob_row_copy(ctx->arena, old);
    ob_row_set_text(ctx->arena, t, TICKETS_FIRST_RESPONSE_AT, ctx->now);
    return ob_crud_save(ctx, old, t, "first_response", err);
}

const ob_hooks ob_message_hooks = {
    .before_create = message_before_create,
    .after_create = message_after_create,
};

/* POST /tickets/{id}/rate {"rating": 1-5, "comment": ...}: once, on a
 * resolved or closed ticket (the declaration holds the state). */
OB_ACTION_FN(ob_ticket_rate)
{
    if (!ob_row_is_null(old, TICKETS_CUSTOMER_SATISFACTION))
        return ob_err_set(err, OB_E_CONFLICT, "the ticket is already rated");
    int64_t r = ob_row_int(ctx->input, TICKETS_RATE_IN_RATING, 0);
    if (r < 1 || r > 5) {
        ob_err_set(err, OB_E_UNPROCESSABLE, "\"rating\" is 1 to 5");
        ob_err_field_add(err, TICKETS_RATE_IN_RATING.name, "must be 1 to 5");
        err->code = OB_E_UNPROCESSABLE;
        return -1;
    }
    ob_row_set_int(row, TICKETS_CUSTOMER_SATISFACTION, r);
    ob_row_set_text(ctx->arena, row, TICKETS_SATISFACTION_FEEDBACK, ob_row_text(ctx->input, TICKETS_RATE_IN_COMMENT));
    return 0;
}

/* --- the job tickets.sla_check ------------------------------------------- */

/* The priority a breach raises a ticket to: its category's breach_priority,
 * else one step up; never lower than it is. */
static const char *raised_priority(ob_ctx *ctx, const ob_row *ticket, ob_err *err)
{
    static const char *const order[] = {"low", "medium", "high", "urgent"};
    const char *now = ob_row_text(ticket, TICKETS_PRIORITY), *want = NULL;
    int cur = 0;
    for (int i = 0; i < 4; i++)
        if (now && strcmp(now, order[i]) == 0) cur = i;
    const char *cat = ob_row_text(ticket, TICKETS_CATEGORY_ID);
    ob_row *c;
    if (cat && ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_CATEGORIES), cat, &c, err) == 0)
        want = ob_row_text(c, CATEGORIES_BREACH_PRIORITY);
    else if (err->code == OB_E_NOT_FOUND)
        ob_err_clear(err);
    else if (cat)
        return NULL;
    int to = cur < 3 ? cur + 1 : 3;
    for (int i = 0; want && i < 4; i++)
        if (strcmp(want, order[i]) == 0) to = i > cur ? i : cur;
    return order[to];
}

/* Tell the assigned agent, when the tenant has an active template for it. */
static int notify_breach(ob_ctx *ctx, const ob_row *ticket, ob_err *err)
{
    const char *agent = ob_row_text(ticket, TICKETS_ASSIGNED_AGENT_ID);
    if (!agent) return 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT COUNT(*) FROM notification_templates WHERE code = ? AND is_active = ?", &st,
                      err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, OB_TICKET_BREACH_TEMPLATE, err);
    ob_value yes = ob_v_bool(true);
    ob_sql_bind_value(st, 2, &yes, err);
    int64_t n = 0;
    int rc = ob_stmt_step(st, err);
    if (rc == 1) n = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    if (rc < 0) return -1;
    ob_row *user;
    if (n == 0) return 0;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_USERS), agent, &user, err) != 0)
        return err->code == OB_E_NOT_FOUND ? (ob_err_clear(err), 0) : -1;
    return ob_notify(ctx, OB_TICKET_BREACH_TEMPLATE, ob_row_text(user, USERS_EMAIL), ticket, err);
}

int ob_ticket_sla_check(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    (void)job;
    /* active tickets whose clock runs (not waiting for the customer), past
     * the response due time while unanswered or past the resolution one */
    enum { BATCH = 500 };
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\" FROM \"tickets\" WHERE \"sla_breached_at\" IS NULL "
                      "AND \"status\" IN ('open', 'in_progress', 'waiting_internal') "
                      "AND ((\"first_response_at\" IS NULL AND \"response_due_at\" <= ?) OR \"sla_due_date\" <= ?) "
                      "ORDER BY \"id\" LIMIT 500",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ctx->now, err);
    ob_stmt_bind_text(st, 2, ctx->now, err);
    const char *ids[BATCH];
    int n = 0, rc = 0;
    while (n < BATCH && (rc = ob_stmt_step(st, err)) == 1)
        ids[n++] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    if (rc < 0) return -1;
    const ob_table *t = ob_registry_find(OB_TABLE_TICKETS);
    for (int i = 0; i < n; i++) {
        ob_row *old;
        if (ob_sql_load_internal(ctx, t, ids[i], &old, err) != 0) return -1;
        ob_row *row = ob_row_copy(ctx->arena, old);
        ob_row_set_text(ctx->arena, row, TICKETS_SLA_BREACHED_AT, ctx->now);
        const char *prio = raised_priority(ctx, old, err);
        if (!prio) return -1;
        ob_row_set_text(ctx->arena, row, TICKETS_PRIORITY, prio);
        if (ob_crud_save(ctx, old, row, "sla_breach", err) != 0 || notify_breach(ctx, row, err) != 0) return -1;
    }
    ob_sb_addf(result, "{\"breached\":%d}", n);
    return 0;
}

/* Seeded in every tenant: the ticket SLAs are watched from the start (every
 * five minutes, each breach marked once), not once staff schedule it. */
int ob_seed_support(ob_ctx *ctx, ob_err *err)
{
    return ob_schedule_seed(ctx, "check ticket SLAs", "*/5 * * * *", "tickets.sla_check", err);
}
