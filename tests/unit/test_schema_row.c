/* Unit tests for schema/row.c column handles and the registry's start-up
 * check of the generated handles (gen/columns.h) against the declarations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "domain/domains.h"
#include "gen/columns.h"
#include "base/banned.h"

/* The generated list, as the domain hands it to the registry. */
static const ob_colh all[] = {
#define H(table, idx, name) {table, idx, name},
    OB_GEN_COLUMNS(H)
#undef H
};
#define NALL ((int)OB_ARRAY_LEN(all))

static int setup(void **state)
{
    ob_fx_ctx *f = calloc(1, sizeof *f);
    ob_fx_ctx_init(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    ob_fx_ctx_release(*state);
    free(*state);
    return 0;
}

/* A handle's index is the column's place in the runtime table, implicit
 * columns first, whatever the table's flags. */
static void test_handles_are_registry_positions(void **state)
{
    (void)state;
    const ob_table *t = ob_fx_table("tickets");
    assert_int_equal(TICKETS_ID.idx, t->id_col);
    assert_int_equal(TICKETS_VERSION.idx, t->version_col);
    assert_int_equal(TICKETS_STATUS.idx, ob_table_col(t, "status"));
    assert_int_equal(TICKETS_STATUS.idx, t->state_col);
    assert_string_equal(TICKETS_STATUS.name, "status");
    assert_string_equal(TICKETS_STATUS.table, "tickets");
    /* append-only: no updated_at or version, so declared columns start at 2 */
    const ob_table *h = ob_fx_table("order_status_history");
    assert_int_equal(h->updated_col, -1);
    assert_int_equal(ORDER_STATUS_HISTORY_ORDER_ID.idx, ob_table_col(h, "order_id"));
    /* an action's input is a table of its own, without implicit columns */
    assert_string_equal(TICKETS_ASSIGN_IN_AGENT_ID.table, "tickets.assign");
    assert_int_equal(TICKETS_ASSIGN_IN_AGENT_ID.idx, 0);
    assert_int_equal(OB_GEN_COLUMN_COUNT, NALL);
}

static void test_accessors_read_and_write_through_handles(void **state)
{
    ob_fx_ctx *f = *state;
    ob_row *r = ob_row_new(&f->arena, ob_fx_table("tickets"));
    assert_null(ob_row_text(r, TICKETS_TITLE));
    assert_true(ob_row_is_null(r, TICKETS_TITLE));
    assert_false(ob_row_is_set(r, TICKETS_TITLE));
    assert_int_equal(ob_row_int(r, TICKETS_PRIORITY_LEVEL, 7), 7);

    ob_row_set_text(&f->arena, r, TICKETS_TITLE, "Printer on fire");
    ob_row_set_int(r, TICKETS_PRIORITY_LEVEL, 4);
    ob_row_set_text(&f->arena, r, TICKETS_ID, "0190aaaa-0000-7000-8000-000000000001");
    assert_string_equal(ob_row_text(r, TICKETS_TITLE), "Printer on fire");
    assert_int_equal(ob_row_int(r, TICKETS_PRIORITY_LEVEL, 0), 4);
    assert_string_equal(ob_row_id(r), "0190aaaa-0000-7000-8000-000000000001");
    assert_ptr_equal(ob_row_get(r, TICKETS_TITLE), &r->v[ob_table_col(r->t, "title")]);

    ob_row_set_null(r, TICKETS_TITLE);
    assert_true(ob_row_is_set(r, TICKETS_TITLE)); /* given, as null */
    assert_true(ob_row_is_null(r, TICKETS_TITLE));

    /* decimals are minor units at the column's scale */
    ob_row *item = ob_row_new(&f->arena, ob_fx_table("invoice_items"));
    ob_row_set_int(item, INVOICE_ITEMS_UNIT_PRICE, 1250);
    assert_int_equal(ob_row_get(item, INVOICE_ITEMS_UNIT_PRICE)->t, OB_V_DEC);
    assert_int_equal(ob_row_int(item, INVOICE_ITEMS_UNIT_PRICE, 0), 1250);

    ob_row *u = ob_row_new(&f->arena, ob_fx_table("users"));
    ob_row_set_bool(u, USERS_IS_OWNER, true);
    assert_int_equal(ob_row_get(u, USERS_IS_OWNER)->t, OB_V_BOOL);
    assert_int_equal(ob_row_int(u, USERS_IS_OWNER, 0), 1);
}

/* Run fn in a child; 1 when it died of SIGABRT having written `want` to
 * stderr. */
static int aborts_with(void (*fn)(void), const char *want)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    char buf[512] = {0};
    size_t n = 0;
    ssize_t k;
    while (n < sizeof buf - 1 && (k = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)k;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) return 0;
    if (!strstr(buf, want)) {
        fprintf(stderr, "stderr was: %s\n", buf);
        return 0;
    }
    return 1;
}

static void read_ticket_handle_on_a_user(void)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_row *u = ob_row_new(&a, ob_registry_find("users"));
    (void)ob_row_text(u, TICKETS_STATUS);
}

static void write_user_handle_on_a_ticket(void)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_row *t = ob_row_new(&a, ob_registry_find("tickets"));
    ob_row_set_text(&a, t, USERS_STATUS, "active");
}

static void table_handle_on_its_action_input(void)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    const ob_table *t = ob_registry_find("tickets");
    ob_row *in = ob_row_new(&a, t->inputs[0]);
    (void)ob_row_text(in, TICKETS_ASSIGNED_AGENT_ID);
}

/* A handle of another table is a programming error, caught on first use
 * with both tables named, reading or writing. */
static void test_wrong_table_handle_aborts(void **state)
{
    (void)state;
    assert_true(aborts_with(read_ticket_handle_on_a_user, "\"tickets\".\"status\" used on a row of \"users\""));
    assert_true(aborts_with(write_user_handle_on_a_ticket, "\"users\".\"status\" used on a row of \"tickets\""));
    assert_true(aborts_with(table_handle_on_its_action_input,
                            "\"tickets\".\"assigned_agent_id\" used on a row of \"tickets.assign\""));
}

static void test_action_input_handles(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_table *t = ob_fx_table("tickets");
    ob_row *in = ob_row_new(&f->arena, t->inputs[0]);
    assert_false(ob_row_is_set(in, TICKETS_ASSIGN_IN_AGENT_ID));
    ob_row_set_text(&f->arena, in, TICKETS_ASSIGN_IN_AGENT_ID, "0190aaaa-0000-7000-8000-000000000002");
    assert_string_equal(ob_row_text(in, TICKETS_ASSIGN_IN_AGENT_ID), "0190aaaa-0000-7000-8000-000000000002");
    assert_null(ob_row_id(in)); /* an input has no id */
}

/* The start-up check: the generated list is exactly the registry's columns;
 * any drift (a stale index, a renamed column, an unknown table, a column
 * without a handle, a handle twice) is refused with what drifted. */
static void test_drift_check(void **state)
{
    (void)state;
    char why[256];
    assert_int_equal(ob_registry_check_handles(all, NALL, why, sizeof why), 0);

    ob_colh *h = malloc(sizeof all);
    memcpy(h, all, sizeof all);
    int k = 0;
    while (strcmp(h[k].table, "tickets") || strcmp(h[k].name, "status")) k++;

    h[k].idx++; /* a column added in front without regenerating */
    assert_int_equal(ob_registry_check_handles(h, NALL, why, sizeof why), -1);
    assert_non_null(strstr(why, "\"tickets\".\"status\""));
    h[k] = all[k];

    h[k].name = "state"; /* renamed in the declaration */
    assert_int_equal(ob_registry_check_handles(h, NALL, why, sizeof why), -1);
    assert_non_null(strstr(why, "the table's column there is \"status\""));
    h[k] = all[k];

    h[k].table = "ticket"; /* a table renamed or removed */
    assert_int_equal(ob_registry_check_handles(h, NALL, why, sizeof why), -1);
    assert_non_null(strstr(why, "no such table"));
    h[k] = all[k];

    h[k] = h[k + 1]; /* two handles of one column, none of another */
    assert_int_equal(ob_registry_check_handles(h, NALL, why, sizeof why), -1);
    assert_non_null(strstr(why, "two handles"));
    h[k] = all[k];

    /* a column declared after the header was generated has no handle */
    memmove(&h[k], &h[k + 1], sizeof *h * (size_t)(NALL - k - 1));
    assert_int_equal(ob_registry_check_handles(h, NALL - 1, why, sizeof why), -1);
    assert_string_equal(why, "\"tickets\".\"status\" has no handle");
    free(h);
}

int main(void)
{
    ob_domain_register(); /* runs the same check, aborting on drift */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handles_are_registry_positions),
        cmocka_unit_test_setup_teardown(test_accessors_read_and_write_through_handles, setup, teardown),
        cmocka_unit_test(test_wrong_table_handle_aborts),
        cmocka_unit_test_setup_teardown(test_action_input_handles, setup, teardown),
        cmocka_unit_test(test_drift_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
