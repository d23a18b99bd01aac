/* test_jobs_idle.c - when a worker may pass an idle tenant over (jobs/idle.c):
 * only while its note is young enough, nothing was written to the tenant in
 * this process since the note's mark, and its files are unchanged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "fixture.h"
#include "jobs/jobs_int.h"
#include "base/banned.h"

typedef struct fixture {
    char dir[256];
    ob_store *store, *other; /* other: a second process on the same files */
} fixture;

static ob_store *open_store(const char *dir)
{
    ob_store_opts o = {.data_dir = dir, .create = true};
    ob_store *s = NULL;
    ob_err err;
    assert_int_equal(ob_store_open(&s, &o, &err), 0);
    return s;
}

static void write_to(ob_store *s, const char *sql)
{
    ob_conn *c;
    ob_err err;
    assert_int_equal(ob_db_acquire(s, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    assert_int_equal(ob_db_exec(c, sql, &err), 0);
    ob_db_release(c);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/ob_idle_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) return -1;
    f->store = open_store(f->dir);
    f->other = open_store(f->dir);
    ob_err err;
    assert_int_equal(ob_db_create_tenant(f->store, "t1", &err), 0);
    write_to(f->store, "CREATE TABLE x (v INTEGER)");
    ob_store_on_write(f->store, ob_jobs_idle_written, NULL);
    ob_jobs_idle_reset();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ob_store_on_write(f->store, NULL, NULL);
    ob_jobs_idle_reset();
    ob_store_close(f->other);
    ob_store_close(f->store);
    ob_fx_rm_rf(f->dir);
    free(f);
    return 0;
}

static void test_a_note_holds_until_its_moment(void **state)
{
    fixture *f = *state;
    ob_jobs_mark m;
    /* never visited: visit */
    assert_false(ob_jobs_idle_skip(f->store, "t1", 1000, &m));
    ob_jobs_idle_note("t1", &m, 5000);
    ob_jobs_mark m2;
    assert_true(ob_jobs_idle_skip(f->store, "t1", 4999, &m2));
    assert_false(ob_jobs_idle_skip(f->store, "t1", 5000, &m2));
    /* a tenant's note is its own */
    assert_false(ob_jobs_idle_skip(f->store, "t2", 1000, &m2));
    /* forgotten (the sweep ran something): visit */
    ob_jobs_idle_forget("t1");
    assert_false(ob_jobs_idle_skip(f->store, "t1", 1000, &m2));
}

static void test_a_write_in_this_process_ends_the_note(void **state)
{
    fixture *f = *state;
    ob_jobs_mark m;
    assert_false(ob_jobs_idle_skip(f->store, "t1", 1000, &m));
    ob_jobs_idle_note("t1", &m, 60000);
    assert_true(ob_jobs_idle_skip(f->store, "t1", 1000, &m));
    /* a writer given back: an enqueue, a schedule changed */
    ob_conn *c;
    ob_err err;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    ob_db_release(c);
    assert_false(ob_jobs_idle_skip(f->store, "t1", 1000, &m));
    /* a write between the mark and the note (during the sweep's read): the
     * note is made but not trusted */
    write_to(f->store, "INSERT INTO x VALUES (1)");
    ob_jobs_idle_note("t1", &m, 60000);
    ob_jobs_mark m2;
    assert_false(ob_jobs_idle_skip(f->store, "t1", 1000, &m2));
    ob_jobs_idle_note("t1", &m2, 60000);
    assert_true(ob_jobs_idle_skip(f->store, "t1", 1000, &m2));
}

static void test_a_commit_by_another_process_ends_the_note(void **state)
{
    fixture *f = *state;
    ob_jobs_mark m;
    assert_false(ob_jobs_idle_skip(f->store, "t1", 1000, &m));
    assert_true(m.has_stamp); /* SQLite has a stamp */
    ob_jobs_idle_note("t1", &m, 60000);
    assert_true(ob_jobs_idle_skip(f->store, "t1", 1000, &m));
    /* a read of its own leaves the stamp as it was */
    ob_conn *c;
    ob_err err;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_READ, &c, &err), 0);
    assert_int_equal(ob_db_exec(c, "SELECT count(*) FROM x", &err), 0);
    ob_db_release(c);
    assert_true(ob_jobs_idle_skip(f->store, "t1", 1000, &m));
    /* the other store is not hooked: only the files tell */
    for (int i = 0; i < 3; i++) {
        write_to(f->other, "INSERT INTO x VALUES (2)");
        assert_false(ob_jobs_idle_skip(f->store, "t1", 1000, &m));
        ob_jobs_idle_note("t1", &m, 60000);
        assert_true(ob_jobs_idle_skip(f->store, "t1", 1000, &m));
    }
}

static void test_emptied_table_trusts_no_older_mark(void **state)
{
    fixture *f = *state;
    ob_jobs_mark m;
    assert_false(ob_jobs_idle_skip(f->store, "t1", 1000, &m));
    ob_jobs_idle_reset();
    ob_jobs_idle_note("t1", &m, 60000);
    ob_jobs_mark m2;
    assert_false(ob_jobs_idle_skip(f->store, "t1", 1000, &m2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_note_holds_until_its_moment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_write_in_this_process_ends_the_note, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_commit_by_another_process_ends_the_note, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emptied_table_trusts_no_older_mark, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
