/* test_domain_ticket_fsm.c - the support desk's workflow on a real store:
 * ticket numbers, SLA due times, auto-assignment and agent load, the ticket
 * state machine (docs/api.md), the assign action, references and the plan
 * limits (domain/support/workflow.c through schema/crud.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/support/support.h"
#include "platform/tenants.h"
#include "domain/domains.h"
#include "schema/crud.h"
#include "schema/sql.h"
#include "fixture.h"
#include "gen/columns.h"
#include "base/banned.h"

#define NAGENTS 2

static const char *const MISSING_ID = "0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b";

typedef struct fx {
    char dir[256];
    ob_store *store;
    int ntenants;
    /* per test */
    ob_arena arena; /* tenant info and rows loaded for inspection */
    char slug[32];
    ob_tenant_info *info;
    char owner[OB_UUID_LEN];
    char agent[NAGENTS][OB_UUID_LEN];
    char customer[OB_UUID_LEN];
    char category[OB_UUID_LEN];
} fx;

/* One unit of work: a system context on the tenant's writer, in a transaction. */
typedef struct uow {
    ob_arena arena;
    ob_conn *c;
    ob_ctx ctx;
} uow;

static void uow_begin(fx *f, uow *u)
{
    ob_err err;
    ob_arena_init(&u->arena, 0);
    int rc = ob_db_acquire(f->store, f->slug, f->info->id, OB_DB_WRITE, &u->c, &err);
    if (rc != 0) print_error("acquire: %s\n", err.message);
    assert_int_equal(rc, 0);
    ob_ctx_system(&u->ctx, &u->arena, f->store, u->c, f->info);
    assert_int_equal(ob_db_begin(u->c, &err), 0);
}

/* Commit when the work succeeded, roll back when it failed. */
static void uow_end(uow *u, bool ok)
{
    ob_err err;
    if (ok) {
        int rc = ob_db_commit(u->c, &err);
        if (rc != 0) print_error("commit: %s\n", err.message);
        assert_int_equal(rc, 0);
    } else {
        ob_db_rollback(u->c);
    }
    ob_db_release(u->c);
    ob_arena_release(&u->arena);
}

static void copy_id(char out[OB_UUID_LEN], const ob_row *row)
{
    snprintf(out, OB_UUID_LEN, "%s", ob_row_id(row));
}

/* Create a row from a body (the reference is stolen); the id and the clock of
 * the transaction go to id/now when not NULL. */
static int do_create(fx *f, const char *table, json_t *body, char id[OB_UUID_LEN], ob_ctx *seen, ob_err *err)
{
    assert_non_null(body);
    uow u;
    uow_begin(f, &u);
    ob_row *row = NULL;
    ob_err_clear(err);
    int rc = ob_crud_create(&u.ctx, ob_fx_table(table), body, &row, err);
    if (rc == 0 && id) copy_id(id, row);
    if (seen) *seen = u.ctx;
    uow_end(&u, rc == 0);
    json_decref(body);
    return rc;
}

/* Run an event or action on a ticket (body may be NULL; stolen otherwise). */
static int do_action(fx *f, const char *id, const char *verb, json_t *body, char now[OB_TS_LEN], ob_err *err)
{
    uow u;
    uow_begin(f, &u);
    ob_row *row = NULL;
    ob_err_clear(err);
    int rc = ob_crud_action(&u.ctx, ob_fx_table("tickets"), id, verb, body, &row, err);
    if (now) memcpy(now, u.ctx.now, OB_TS_LEN);
    uow_end(&u, rc == 0);
    if (body) json_decref(body);
    return rc;
}

static int do_update(fx *f, const char *table, const char *id, json_t *body, ob_err *err)
{
    uow u;
    uow_begin(f, &u);
    ob_row *row = NULL;
    ob_err_clear(err);
    int rc = ob_crud_update(&u.ctx, ob_fx_table(table), id, body, -1, &row, err);
    uow_end(&u, rc == 0);
    json_decref(body);
    return rc;
}

static int do_delete(fx *f, const char *table, const char *id, ob_err *err)
{
    uow u;
    uow_begin(f, &u);
    ob_err_clear(err);
    int rc = ob_crud_delete(&u.ctx, ob_fx_table(table), id, -1, err);
    uow_end(&u, rc == 0);
    return rc;
}

static void must(int rc, const ob_err *err, const char *what)
{
    if (rc != 0) print_error("%s: %s (%s)\n", what, err->message, ob_err_code_str(err->code));
    assert_int_equal(rc, 0);
}

/* The committed row, read on a read connection into the test's arena. */
static ob_row *load(fx *f, const char *table, const char *id)
{
    ob_err err;
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, f->slug, f->info->id, OB_DB_READ, &c, &err), 0);
    ob_ctx ctx;
    ob_ctx_system(&ctx, &f->arena, f->store, c, f->info);
    ob_row *row = NULL;
    int rc = ob_sql_load_internal(&ctx, ob_fx_table(table), id, &row, &err);
    ob_db_release(c);
    if (rc != 0) print_error("load %s %s: %s\n", table, id, err.message);
    assert_int_equal(rc, 0);
    return row;
}

/* One integer from SQL with one text parameter (NULL: none). */
static int64_t sql_int(fx *f, const char *sql, const char *arg)
{
    ob_err err;
    ob_conn *c;
    ob_stmt *st;
    assert_int_equal(ob_db_acquire(f->store, f->slug, f->info->id, OB_DB_READ, &c, &err), 0);
    assert_int_equal(ob_db_prepare(c, sql, &st, &err), 0);
    if (arg) assert_int_equal(ob_stmt_bind_text(st, 1, arg, &err), 0);
    assert_int_equal(ob_stmt_step(st, &err), 1);
    int64_t n = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    ob_db_release(c);
    return n;
}

static void user_id(fx *f, const char *email, char out[OB_UUID_LEN])
{
    ob_err err;
    ob_conn *c;
    ob_stmt *st;
    assert_int_equal(ob_db_acquire(f->store, f->slug, f->info->id, OB_DB_READ, &c, &err), 0);
    assert_int_equal(ob_db_prepare(c, "SELECT id FROM users WHERE email = ?", &st, &err), 0);
    assert_int_equal(ob_stmt_bind_text(st, 1, email, &err), 0);
    assert_int_equal(ob_stmt_step(st, &err), 1);
    snprintf(out, OB_UUID_LEN, "%s", ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    ob_db_release(c);
}

static int64_t load_count(fx *f, const char *user)
{
    return ob_row_int(load(f, "users", user), USERS_CURRENT_TICKET_COUNT, -1);
}

static int64_t agent_count(fx *f, int k)
{
    return load_count(f, f->agent[k]);
}

static int agent_index(fx *f, const char *id)
{
    for (int k = 0; id && k < NAGENTS; k++)
        if (strcmp(f->agent[k], id) == 0) return k;
    return -1;
}

static void ts_plus_minutes(int64_t ms, int64_t minutes, char out[OB_TS_LEN])
{
    ob_ts_format(ms + minutes * 60000, out);
}

/* Each agent's counter equals their tickets in an active status. */
static void check_agent_counts(fx *f)
{
    for (int k = 0; k < NAGENTS; k++) {
        int64_t want = sql_int(f,
                               "SELECT COUNT(*) FROM tickets WHERE assigned_agent_id = ? AND status IN "
                               "('open','in_progress','waiting_customer','waiting_internal')",
                               f->agent[k]);
        int64_t got = agent_count(f, k);
        if (got != want) print_error("agent %d: current_ticket_count %lld, active tickets %lld\n", k, (long long)got,
                                     (long long)want);
        assert_int_equal(got, want);
    }
}

/* Provision a tenant with an owner and agents, a customer and a category. */
static void make_tenant(fx *f, int64_t ticket_limit, int64_t agent_limit, int nagents)
{
    ob_err err;
    snprintf(f->slug, sizeof f->slug, "t%d", ++f->ntenants);
    ob_tenant_new t = {.slug = f->slug, .plan_code = "business", .owner_email = "owner@desk.test",
                       .owner_password = "owner-password-1", .ticket_limit = ticket_limit,
                       .agent_limit = agent_limit};
    must(ob_tenant_create(f->store, &t, &err), &err, "tenant create");
    for (int k = 0; k < nagents; k++) {
        char email[64];
        snprintf(email, sizeof email, "agent%d@desk.test", k + 1);
        char gen[32];
        must(ob_tenant_add_user(f->store, f->slug, email, NULL, "agent", "agent-password-1", gen, &err), &err,
             "add agent");
    }
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, NULL, NULL, OB_DB_READ, &c, &err), 0);
    int rc = ob_tenant_lookup(c, &f->arena, f->slug, &f->info, &err);
    ob_db_release(c);
    must(rc, &err, "tenant lookup");
    user_id(f, "owner@desk.test", f->owner);
    for (int k = 0; k < nagents; k++) {
        char email[64];
        snprintf(email, sizeof email, "agent%d@desk.test", k + 1);
        user_id(f, email, f->agent[k]);
    }
    must(do_create(f, "customers", json_pack("{s:s}", "name", "Acme Corp"), f->customer, NULL, &err), &err,
         "customer");
    must(do_create(f, "categories",
                   json_pack("{s:s, s:i, s:i, s:i}", "name", "Network", "response_sla_minutes", 30,
                             "resolution_sla_minutes", 240, "priority_level", 4),
                   f->category, NULL, &err),
         &err, "category");
}

static int group_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f) return -1;
    ob_domain_register();
    ob_fx_tmpdir(f->dir, sizeof f->dir, "ob_fsm");
    ob_store_opts o = {.data_dir = f->dir, .synchronous = "normal", .create = true};
    ob_err err;
    if (ob_store_open(&f->store, &o, &err) != 0) {
        print_error("store: %s\n", err.message);
        return -1;
    }
    int n = 0;
    if (ob_migrate_all(f->store, false, &n, &err) != 0) {
        print_error("migrate: %s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    fx *f = *state;
    ob_store_close(f->store);
    ob_fx_rm_rf(f->dir);
    free(f);
    return 0;
}

static int setup(void **state)
{
    fx *f = *state;
    ob_arena_init(&f->arena, 0);
    make_tenant(f, -1, -1, NAGENTS);
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    ob_arena_release(&f->arena);
    f->info = NULL;
    return 0;
}

static json_t *ticket_body(fx *f, const char *title, bool with_category)
{
    json_t *b = json_pack("{s:s, s:s, s:s}", "title", title, "description", "it does not work", "customer_id",
                          f->customer);
    if (with_category) json_object_set_new(b, "category_id", json_string(f->category));
    return b;
}

typedef struct ticket {
    char id[OB_UUID_LEN];
    char agent[OB_UUID_LEN];
} ticket;

static void new_ticket(fx *f, ticket *t)
{
    ob_err err;
    must(do_create(f, "tickets", ticket_body(f, "Printer on fire", true), t->id, NULL, &err), &err, "ticket");
    const char *a = ob_row_text(load(f, "tickets", t->id), TICKETS_ASSIGNED_AGENT_ID);
    assert_non_null(a);
    snprintf(t->agent, OB_UUID_LEN, "%s", a);
}

static void test_create_numbers_sla_assignment(void **state)
{
    fx *f = *state;
    ob_err err;
    char id[OB_UUID_LEN], due[OB_TS_LEN];
    ob_ctx seen;

    /* with a category: its SLA minutes and priority level */
    must(do_create(f, "tickets", ticket_body(f, "Printer on fire", true), id, &seen, &err), &err, "ticket 1");
    ob_row *t = load(f, "tickets", id);
    assert_string_equal(ob_row_text(t, TICKETS_TICKET_NUMBER), "TKT-000001");
    assert_string_equal(ob_row_text(t, TICKETS_STATUS), "open");
    assert_string_equal(ob_row_text(t, TICKETS_PRIORITY), "medium");
    assert_int_equal(ob_row_int(t, TICKETS_PRIORITY_LEVEL, -1), 4);
    assert_int_equal(ob_row_int(t, TICKETS_VERSION, -1), 1);
    assert_string_equal(ob_row_text(t, TICKETS_CREATED_AT), seen.now);
    assert_string_equal(ob_row_text(t, TICKETS_CATEGORY_ID), f->category);
    assert_string_equal(ob_row_text(t, TICKETS_CUSTOMER_ID), f->customer);
    assert_true(ob_row_is_null(t, TICKETS_CREATED_BY)); /* the system has no user */
    ts_plus_minutes(seen.now_ms, 30, due);
    assert_string_equal(ob_row_text(t, TICKETS_RESPONSE_DUE_AT), due);
    ts_plus_minutes(seen.now_ms, 240, due);
    assert_string_equal(ob_row_text(t, TICKETS_SLA_DUE_DATE), due);
    assert_string_equal(ob_row_text(t, TICKETS_ASSIGNED_AGENT_ID), f->agent[0]);
    assert_string_equal(ob_row_text(t, TICKETS_ASSIGNED_AT), seen.now);
    assert_true(ob_row_is_null(t, TICKETS_RESOLVED_AT));
    assert_true(ob_row_is_null(t, TICKETS_FIRST_RESPONSE_AT));
    ob_row *a0 = load(f, "users", f->agent[0]);
    assert_int_equal(ob_row_int(a0, USERS_CURRENT_TICKET_COUNT, -1), 1);
    assert_string_equal(ob_row_text(a0, USERS_LAST_ASSIGNED_AT), seen.now);
    assert_int_equal(agent_count(f, 1), 0);
    assert_int_equal(load_count(f, f->owner), 0); /* the owner is not an agent */

    /* without a category: 60 and 480 minutes, the given priority level */
    json_t *b = ticket_body(f, "No category", false);
    json_object_set_new(b, "priority_level", json_integer(2));
    json_object_set_new(b, "priority", json_string("HIGH"));
    must(do_create(f, "tickets", b, id, &seen, &err), &err, "ticket 2");
    t = load(f, "tickets", id);
    assert_string_equal(ob_row_text(t, TICKETS_TICKET_NUMBER), "TKT-000002");
    assert_int_equal(ob_row_int(t, TICKETS_PRIORITY_LEVEL, -1), 2);
    assert_string_equal(ob_row_text(t, TICKETS_PRIORITY), "high");
    assert_true(ob_row_is_null(t, TICKETS_CATEGORY_ID));
    ts_plus_minutes(seen.now_ms, 60, due);
    assert_string_equal(ob_row_text(t, TICKETS_RESPONSE_DUE_AT), due);
    ts_plus_minutes(seen.now_ms, 480, due);
    assert_string_equal(ob_row_text(t, TICKETS_SLA_DUE_DATE), due);
    assert_string_equal(ob_row_text(t, TICKETS_ASSIGNED_AGENT_ID), f->agent[1]);

    /* with a category and an explicit level: the body wins */
    b = ticket_body(f, "Level one", true);
    json_object_set_new(b, "priority_level", json_integer(1));
    must(do_create(f, "tickets", b, id, NULL, &err), &err, "ticket 3");
    t = load(f, "tickets", id);
    assert_string_equal(ob_row_text(t, TICKETS_TICKET_NUMBER), "TKT-000003");
    assert_int_equal(ob_row_int(t, TICKETS_PRIORITY_LEVEL, -1), 1);

    /* the least loaded agent, ties to the least recently assigned */
    assert_string_equal(ob_row_text(t, TICKETS_ASSIGNED_AGENT_ID), f->agent[0]);
    for (int i = 4; i <= 8; i++) {
        must(do_create(f, "tickets", ticket_body(f, "More", i % 2), id, NULL, &err), &err, "ticket");
        t = load(f, "tickets", id);
        char num[16];
        snprintf(num, sizeof num, "TKT-%06d", i);
        assert_string_equal(ob_row_text(t, TICKETS_TICKET_NUMBER), num);
        assert_string_equal(ob_row_text(t, TICKETS_ASSIGNED_AGENT_ID), f->agent[(i - 1) % 2]);
    }
    assert_int_equal(agent_count(f, 0), 4);
    assert_int_equal(agent_count(f, 1), 4);
    check_agent_counts(f);

    /* client-set server fields are refused, and nothing is written */
    b = ticket_body(f, "Sneaky", false);
    json_object_set_new(b, "ticket_number", json_string("TKT-999999"));
    assert_int_equal(do_create(f, "tickets", b, NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_READONLY_FIELD);
    assert_string_equal(err.field, "ticket_number");
    b = ticket_body(f, "Sneaky", false);
    json_object_set_new(b, "assigned_agent_id", json_string(f->agent[1]));
    assert_int_equal(do_create(f, "tickets", b, NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_READONLY_FIELD);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM tickets", NULL), 8);
}

/* docs/api.md: event -> the status reached from each status (NULL: 422). */
static const char *const STATES[] = {"open", "in_progress", "waiting_customer", "waiting_internal",
                                     "resolved", "closed", "cancelled"};
#define NSTATES ((int)OB_ARRAY_LEN(STATES))
static const char *const PATH[][2] = {
    {NULL, NULL}, {"start", NULL}, {"wait_customer", NULL}, {"wait_internal", NULL},
    {"resolve", NULL}, {"resolve", "close"}, {"cancel", NULL},
};
static const struct {
    const char *event;
    const char *to[7];
} TABLE[] = {
    /*                open                in_progress         waiting_customer  waiting_internal    resolved  closed cancelled */
    {"start",         {"in_progress",      NULL,               NULL,             NULL,               NULL,     NULL,  NULL}},
    {"wait_customer", {"waiting_customer", "waiting_customer", NULL,             "waiting_customer", NULL,     NULL,  NULL}},
    {"wait_internal", {"waiting_internal", "waiting_internal", "waiting_internal", NULL,             NULL,     NULL,  NULL}},
    {"resume",        {NULL,               NULL,               "in_progress",    "in_progress",      NULL,     NULL,  NULL}},
    {"resolve",       {"resolved",         "resolved",         "resolved",       "resolved",         NULL,     NULL,  NULL}},
    {"close",         {NULL,               NULL,               NULL,             NULL,               "closed", NULL,  NULL}},
    {"reopen",        {NULL,               NULL,               NULL,             NULL,               "open",   NULL,  NULL}},
    {"cancel",        {"cancelled",        "cancelled",        "cancelled",      "cancelled",        NULL,     NULL,  NULL}},
};

static void test_transition_table(void **state)
{
    fx *f = *state;
    ob_err err;
    for (size_t e = 0; e < OB_ARRAY_LEN(TABLE); e++) {
        for (int s = 0; s < NSTATES; s++) {
            ticket t;
            new_ticket(f, &t);
            for (int p = 0; p < 2 && PATH[s][p]; p++)
                must(do_action(f, t.id, PATH[s][p], NULL, NULL, &err), &err, PATH[s][p]);
            ob_row *before = load(f, "tickets", t.id);
            assert_string_equal(ob_row_text(before, TICKETS_STATUS), STATES[s]);
            int64_t load_before = load_count(f, t.agent);
            char now[OB_TS_LEN];
            int rc = do_action(f, t.id, TABLE[e].event, NULL, now, &err);
            ob_row *after = load(f, "tickets", t.id);
            int64_t load_after = load_count(f, t.agent);
            const char *to = TABLE[e].to[s];
            if (to) {
                if (rc != 0) print_error("%s from %s refused: %s\n", TABLE[e].event, STATES[s], err.message);
                assert_int_equal(rc, 0);
                assert_string_equal(ob_row_text(after, TICKETS_STATUS), to);
                assert_int_equal(ob_row_int(after, TICKETS_VERSION, 0), ob_row_int(before, TICKETS_VERSION, 0) + 1);
                assert_string_equal(ob_row_text(after, TICKETS_UPDATED_AT), now);
                int64_t delta = (int64_t)ob_ticket_status_active(to) - (int64_t)ob_ticket_status_active(STATES[s]);
                assert_int_equal(load_after, load_before + delta);
                if (strcmp(to, "resolved") == 0) assert_string_equal(ob_row_text(after, TICKETS_RESOLVED_AT), now);
                if (strcmp(to, "closed") == 0) assert_string_equal(ob_row_text(after, TICKETS_CLOSED_AT), now);
                if (strcmp(TABLE[e].event, "reopen") == 0) assert_true(ob_row_is_null(after, TICKETS_RESOLVED_AT));
                if (ob_ticket_status_active(to) && strcmp(TABLE[e].event, "reopen") != 0)
                    assert_true(ob_row_is_null(after, TICKETS_RESOLVED_AT));
            } else {
                if (rc == 0) print_error("%s from %s accepted\n", TABLE[e].event, STATES[s]);
                assert_int_equal(rc, -1);
                assert_int_equal(err.code, OB_E_BAD_STATE);
                assert_non_null(strstr(err.message, STATES[s]));
                for (int i = 0; i < after->t->ncols; i++) assert_true(ob_row_col_equal(before, after, i));
                assert_int_equal(load_after, load_before);
            }
        }
    }
    check_agent_counts(f);

    ticket t;
    new_ticket(f, &t);
    assert_int_equal(do_action(f, t.id, "explode", NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_NO_ROUTE);
    assert_int_equal(do_action(f, MISSING_ID, "start", NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_NOT_FOUND);
}

static void test_resolve_reopen_cancel(void **state)
{
    fx *f = *state;
    ob_err err;
    char now[OB_TS_LEN];
    ticket t;
    new_ticket(f, &t);
    int k = agent_index(f, t.agent);
    assert_true(k >= 0);
    assert_int_equal(agent_count(f, k), 1);

    must(do_action(f, t.id, "start", NULL, NULL, &err), &err, "start");
    assert_int_equal(agent_count(f, k), 1);
    /* an event body sets other writable fields with the change */
    must(do_action(f, t.id, "resolve", json_pack("{s:s}", "resolution_notes", "replaced the toner"), now, &err), &err,
         "resolve");
    ob_row *r = load(f, "tickets", t.id);
    assert_string_equal(ob_row_text(r, TICKETS_STATUS), "resolved");
    assert_string_equal(ob_row_text(r, TICKETS_RESOLVED_AT), now);
    assert_string_equal(ob_row_text(r, TICKETS_RESOLUTION_NOTES), "replaced the toner");
    assert_int_equal(agent_count(f, k), 0);

    must(do_action(f, t.id, "reopen", NULL, NULL, &err), &err, "reopen");
    r = load(f, "tickets", t.id);
    assert_string_equal(ob_row_text(r, TICKETS_STATUS), "open");
    assert_true(ob_row_is_null(r, TICKETS_RESOLVED_AT));
    assert_string_equal(ob_row_text(r, TICKETS_ASSIGNED_AGENT_ID), t.agent);
    assert_int_equal(agent_count(f, k), 1);

    /* an event takes only the fields it declares: start none, so not the status */
    ob_row *before = load(f, "tickets", t.id);
    assert_int_equal(do_action(f, t.id, "start", json_pack("{s:s}", "status", "closed"), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNKNOWN_FIELD);
    assert_string_equal(err.field, "status");
    assert_int_equal(do_action(f, t.id, "start", json_pack("{s:i}", "nope", 1), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNKNOWN_FIELD);
    assert_int_equal(do_action(f, t.id, "start", json_pack("{s:i}", "priority_level", 9), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNKNOWN_FIELD);
    /* a declared field is validated as in a PATCH */
    assert_int_equal(do_action(f, t.id, "resolve", json_pack("{s:i}", "resolution_notes", 9), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_VALIDATION);
    ob_row *after = load(f, "tickets", t.id);
    for (int i = 0; i < after->t->ncols; i++) assert_true(ob_row_col_equal(before, after, i));

    /* nor can a PATCH */
    assert_int_equal(do_update(f, "tickets", t.id, json_pack("{s:s}", "status", "resolved"), &err), -1);
    assert_int_equal(err.code, OB_E_READONLY_FIELD);
    assert_int_equal(do_update(f, "tickets", t.id, json_pack("{s:s}", "customer_id", MISSING_ID), &err), -1);
    assert_int_equal(err.code, OB_E_READONLY_FIELD);
    assert_string_equal(err.field, "customer_id");
    must(do_update(f, "tickets", t.id, json_pack("{s:s}", "priority", "Urgent"), &err), &err, "patch");
    r = load(f, "tickets", t.id);
    assert_string_equal(ob_row_text(r, TICKETS_PRIORITY), "urgent");
    assert_int_equal(ob_row_int(r, TICKETS_VERSION, 0), ob_row_int(after, TICKETS_VERSION, 0) + 1);
    assert_int_equal(agent_count(f, k), 1);

    must(do_action(f, t.id, "resolve", NULL, NULL, &err), &err, "resolve again");
    must(do_action(f, t.id, "close", NULL, now, &err), &err, "close");
    r = load(f, "tickets", t.id);
    assert_string_equal(ob_row_text(r, TICKETS_STATUS), "closed");
    assert_string_equal(ob_row_text(r, TICKETS_CLOSED_AT), now);
    assert_int_equal(agent_count(f, k), 0);
    assert_int_equal(do_action(f, t.id, "reopen", NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_BAD_STATE);
    assert_int_equal(agent_count(f, k), 0);

    /* cancel releases the agent too */
    ticket c;
    new_ticket(f, &c);
    int kc = agent_index(f, c.agent);
    int64_t n = agent_count(f, kc);
    must(do_action(f, c.id, "wait_customer", NULL, NULL, &err), &err, "wait");
    assert_int_equal(agent_count(f, kc), n);
    must(do_action(f, c.id, "cancel", NULL, NULL, &err), &err, "cancel");
    assert_string_equal(ob_row_text(load(f, "tickets", c.id), TICKETS_STATUS), "cancelled");
    assert_int_equal(agent_count(f, kc), n - 1);
    assert_int_equal(do_action(f, c.id, "resume", NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_BAD_STATE);
    check_agent_counts(f);
}

static void test_assign(void **state)
{
    fx *f = *state;
    ob_err err;
    char now[OB_TS_LEN];
    ticket t;
    new_ticket(f, &t);
    assert_string_equal(t.agent, f->agent[0]);
    assert_int_equal(agent_count(f, 0), 1);
    assert_int_equal(agent_count(f, 1), 0);

    /* to a named agent: the load moves with the ticket */
    must(do_action(f, t.id, "assign", json_pack("{s:s}", "agent_id", f->agent[1]), now, &err), &err, "assign");
    ob_row *r = load(f, "tickets", t.id);
    assert_string_equal(ob_row_text(r, TICKETS_ASSIGNED_AGENT_ID), f->agent[1]);
    assert_string_equal(ob_row_text(r, TICKETS_ASSIGNED_AT), now);
    assert_string_equal(ob_row_text(r, TICKETS_STATUS), "open");
    assert_int_equal(agent_count(f, 0), 0);
    assert_int_equal(agent_count(f, 1), 1);

    /* {}: to the least-loaded other agent */
    must(do_action(f, t.id, "assign", json_object(), NULL, &err), &err, "auto assign");
    assert_string_equal(ob_row_text(load(f, "tickets", t.id), TICKETS_ASSIGNED_AGENT_ID), f->agent[0]);
    assert_int_equal(agent_count(f, 0), 1);
    assert_int_equal(agent_count(f, 1), 0);
    must(do_action(f, t.id, "assign", NULL, NULL, &err), &err, "auto assign without body");
    assert_string_equal(ob_row_text(load(f, "tickets", t.id), TICKETS_ASSIGNED_AGENT_ID), f->agent[1]);
    assert_int_equal(agent_count(f, 0), 0);
    assert_int_equal(agent_count(f, 1), 1);

    /* to the same agent, id in upper case: nothing moves */
    char up[OB_UUID_LEN];
    snprintf(up, sizeof up, "%s", f->agent[1]);
    for (char *p = up; *p; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    must(do_action(f, t.id, "assign", json_pack("{s:s}", "agent_id", up), NULL, &err), &err, "assign same");
    assert_string_equal(ob_row_text(load(f, "tickets", t.id), TICKETS_ASSIGNED_AGENT_ID), f->agent[1]);
    assert_int_equal(agent_count(f, 0), 0);
    assert_int_equal(agent_count(f, 1), 1);

    /* refused: nothing changes */
    ob_row *before = load(f, "tickets", t.id);
    assert_int_equal(do_action(f, t.id, "assign", json_pack("{s:s}", "agent_id", f->owner), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_non_null(ob_fx_field_problem(&err, "agent_id"));
    assert_int_equal(do_action(f, t.id, "assign", json_pack("{s:s}", "agent_id", MISSING_ID), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_int_equal(do_action(f, t.id, "assign", json_pack("{s:s}", "agent_id", "agent-1"), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_VALIDATION);
    assert_non_null(ob_fx_field_problem(&err, "agent_id"));
    assert_int_equal(do_action(f, t.id, "assign", json_pack("{s:i}", "agent_id", 7), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_VALIDATION);
    assert_int_equal(do_action(f, t.id, "assign", json_pack("{s:s}", "agent", f->agent[0]), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNKNOWN_FIELD);
    assert_string_equal(err.field, "agent");
    ob_row *after = load(f, "tickets", t.id);
    for (int i = 0; i < after->t->ncols; i++) assert_true(ob_row_col_equal(before, after, i));
    assert_int_equal(agent_count(f, 0), 0);
    assert_int_equal(agent_count(f, 1), 1);

    /* an inactive agent is neither picked nor assignable */
    must(do_update(f, "users", f->agent[0], json_pack("{s:b}", "is_active", 0), &err), &err, "deactivate");
    assert_int_equal(do_action(f, t.id, "assign", json_object(), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_int_equal(do_action(f, t.id, "assign", json_pack("{s:s}", "agent_id", f->agent[0]), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    ticket t2;
    new_ticket(f, &t2);
    assert_string_equal(t2.agent, f->agent[1]);
    assert_int_equal(agent_count(f, 1), 2);
    must(do_update(f, "users", f->agent[0], json_pack("{s:b}", "is_active", 1), &err), &err, "reactivate");

    /* not once the ticket is done with */
    must(do_action(f, t.id, "resolve", NULL, NULL, &err), &err, "resolve");
    assert_int_equal(agent_count(f, 1), 1);
    assert_int_equal(do_action(f, t.id, "assign", json_pack("{s:s}", "agent_id", f->agent[0]), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_BAD_STATE);
    assert_int_equal(agent_count(f, 0), 0);
    assert_int_equal(agent_count(f, 1), 1);
    check_agent_counts(f);
}

static void test_references(void **state)
{
    fx *f = *state;
    ob_err err;

    /* a missing category */
    json_t *b = ticket_body(f, "Lost", false);
    json_object_set_new(b, "category_id", json_string(MISSING_ID));
    assert_int_equal(do_create(f, "tickets", b, NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_non_null(ob_fx_field_problem(&err, "category_id"));

    /* a missing customer */
    b = json_pack("{s:s, s:s, s:s}", "title", "t", "description", "d", "customer_id", MISSING_ID);
    assert_int_equal(do_create(f, "tickets", b, NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_string_equal(err.field, "customer_id");
    assert_non_null(ob_fx_field_problem(&err, "customer_id"));

    /* required fields missing */
    assert_int_equal(do_create(f, "tickets", json_pack("{s:s}", "title", "t"), NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_VALIDATION);
    assert_string_equal(ob_fx_field_problem(&err, "description"), "is required");
    assert_string_equal(ob_fx_field_problem(&err, "customer_id"), "is required");

    /* all rolled back: no ticket, no number used, no load */
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM tickets", NULL), 0);
    assert_int_equal(agent_count(f, 0), 0);
    assert_int_equal(agent_count(f, 1), 0);
    ticket t;
    new_ticket(f, &t);
    assert_string_equal(ob_row_text(load(f, "tickets", t.id), TICKETS_TICKET_NUMBER), "TKT-000001");

    /* a PATCH to a missing category is refused and changes nothing */
    ob_row *before = load(f, "tickets", t.id);
    assert_int_equal(do_update(f, "tickets", t.id, json_pack("{s:s}", "category_id", MISSING_ID), &err), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_string_equal(err.field, "category_id");
    ob_row *after = load(f, "tickets", t.id);
    for (int i = 0; i < after->t->ncols; i++) assert_true(ob_row_col_equal(before, after, i));

    /* a soft-deleted customer no longer takes tickets */
    char gone[OB_UUID_LEN];
    must(do_create(f, "customers", json_pack("{s:s}", "name", "Gone Ltd"), gone, NULL, &err), &err, "customer");
    must(do_delete(f, "customers", gone, &err), &err, "delete customer");
    b = json_pack("{s:s, s:s, s:s}", "title", "t", "description", "d", "customer_id", gone);
    assert_int_equal(do_create(f, "tickets", b, NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_string_equal(err.field, "customer_id");
    check_agent_counts(f);
}

/* Auto-assignment skips an agent whose agent role has expired
 * (user_roles.expires_at in the past); naming that agent in the assign
 * action must be refused the same way. */
static void test_assign_expired_role(void **state)
{
    fx *f = *state;
    ob_err err;
    char role_row[OB_UUID_LEN];
    {
        ob_conn *c;
        ob_stmt *st;
        assert_int_equal(ob_db_acquire(f->store, f->slug, f->info->id, OB_DB_READ, &c, &err), 0);
        assert_int_equal(ob_db_prepare(c,
                                       "SELECT ur.id FROM user_roles ur JOIN roles r ON r.id = ur.role_id "
                                       "WHERE ur.user_id = ? AND r.code = 'agent'",
                                       &st, &err),
                         0);
        assert_int_equal(ob_stmt_bind_text(st, 1, f->agent[1], &err), 0);
        assert_int_equal(ob_stmt_step(st, &err), 1);
        snprintf(role_row, sizeof role_row, "%s", ob_stmt_col_text(st, 0, NULL));
        ob_stmt_done(st);
        ob_db_release(c);
    }
    must(do_update(f, "user_roles", role_row, json_pack("{s:s}", "expires_at", "2020-01-01T00:00:00Z"), &err), &err,
         "expire the role");

    ticket t;
    new_ticket(f, &t);
    assert_string_equal(t.agent, f->agent[0]);
    new_ticket(f, &t); /* agent 1 would be next, but the role has expired */
    assert_string_equal(t.agent, f->agent[0]);
    assert_int_equal(do_action(f, t.id, "assign", json_object(), NULL, &err), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);

    int rc = do_action(f, t.id, "assign", json_pack("{s:s}", "agent_id", f->agent[1]), NULL, &err);
    if (rc == 0) print_error("a ticket was assigned to an agent whose role expired\n");
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_string_equal(ob_row_text(load(f, "tickets", t.id), TICKETS_ASSIGNED_AGENT_ID), f->agent[0]);
    assert_int_equal(agent_count(f, 1), 0);
}

/* docs/api.md: current_ticket_count counts the agent's tickets in an active
 * status. Deleting an active ticket must give its agent the load back. */
static void test_delete_releases_agent(void **state)
{
    fx *f = *state;
    ob_err err;
    ticket t;
    new_ticket(f, &t);
    int k = agent_index(f, t.agent);
    assert_int_equal(agent_count(f, k), 1);
    must(do_delete(f, "tickets", t.id, &err), &err, "delete ticket");
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM tickets", NULL), 0);
    check_agent_counts(f);
}

static void test_plan_limits(void **state)
{
    fx *f = *state;
    ob_err err;
    /* replace the test's tenant with one allowing 2 tickets a month and 1 agent */
    ob_arena_release(&f->arena);
    ob_arena_init(&f->arena, 0);
    make_tenant(f, 2, 1, 1);
    assert_int_equal(f->info->ticket_limit, 2);
    assert_int_equal(f->info->agent_limit, 1);

    char gen[32];
    assert_int_equal(ob_tenant_add_user(f->store, f->slug, "agent2@desk.test", NULL, "agent", "agent-password-1", gen,
                                        &err),
                     -1);
    assert_int_equal(err.code, OB_E_PLAN_LIMIT);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM users WHERE email = ?", "agent2@desk.test"), 0);
    /* other roles are not limited */
    must(ob_tenant_add_user(f->store, f->slug, "viewer@desk.test", NULL, "viewer", "viewer-password-1", gen, &err),
         &err, "viewer");

    ticket t;
    new_ticket(f, &t);
    new_ticket(f, &t);
    assert_int_equal(do_create(f, "tickets", ticket_body(f, "one too many", true), NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_PLAN_LIMIT);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM tickets", NULL), 2);
    assert_int_equal(agent_count(f, 0), 2);
    /* the limit is on creating tickets, not on working them */
    must(do_action(f, t.id, "resolve", NULL, NULL, &err), &err, "resolve");
    assert_int_equal(do_create(f, "tickets", ticket_body(f, "still too many", false), NULL, NULL, &err), -1);
    assert_int_equal(err.code, OB_E_PLAN_LIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_numbers_sla_assignment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transition_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_reopen_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_references, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assign_expired_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_releases_agent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
