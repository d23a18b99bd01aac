/* Unit tests of the engine-neutral storage core (src/db/core*.c): the write
 * lock table, the statement cache, the bind check, the write-lock counter and
 * the mapping of engine faults to ob_err. The core is driven through the
 * SQLite driver, the one that needs no server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/core.h"
#include "db/dialect.h"
#include "fixture.h"
#include "base/banned.h"

typedef struct fixture {
    char dir[256];
    ob_store *store;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/ob_core_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    /* a short busy timeout, so the lock test's wait is short */
    ob_store_opts o = { .data_dir = f->dir, .busy_timeout_ms = 200, .create = true };
    ob_err err;
    if (ob_store_open(&f->store, &o, &err))
        return -1;
    if (ob_db_create_tenant(f->store, "t1", &err))
        return -1;
    ob_conn *c;
    if (ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err))
        return -1;
    int rc = ob_db_exec(c, "CREATE TABLE m(k INTEGER, v TEXT)", &err);
    ob_db_release(c);
    *state = f;
    return rc;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ob_store_close(f->store);
    ob_fx_rm_rf(f->dir);
    free(f);
    return 0;
}

static uint64_t write_locks(ob_store *s)
{
    ob_db_pool_stats st;
    ob_db_core_stats(s, &st);
    return st.write_locks;
}

/* ----------------------------------------------------------- lock table */

typedef struct lock_job {
    ob_store *store;
    int rc;
    ob_errcode code;
    double waited_ms;
} lock_job;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void *take_writer(void *arg)
{
    lock_job *j = arg;
    ob_conn *c;
    ob_err err;
    double t0 = now_ms();
    j->rc = ob_db_acquire(j->store, "t1", NULL, OB_DB_WRITE, &c, &err);
    j->waited_ms = now_ms() - t0;
    if (j->rc == 0)
        ob_db_release(c);
    else
        j->code = err.code;
    return NULL;
}

/* One writer per database: a second thread waits for the busy timeout and
 * gets a storage error; the same thread asking twice gets an error, not a
 * deadlock; another database's writer is not held up; once released, the
 * lock is free again. */
static void test_lock_table(void **state)
{
    fixture *f = *state;
    ob_err err;
    ob_conn *w;
    assert_int_equal(ob_db_create_tenant(f->store, "t2", &err), 0);
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &w, &err), 0);

    ob_conn *again;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &again, &err), -1);
    assert_int_equal(err.code, OB_E_INTERNAL);

    lock_job j = { .store = f->store };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, take_writer, &j), 0);
    pthread_join(th, NULL);
    assert_int_equal(j.rc, -1);
    assert_int_equal(j.code, OB_E_STORAGE);
    assert_true(j.waited_ms >= 150);

    ob_conn *other;
    assert_int_equal(ob_db_acquire(f->store, "t2", NULL, OB_DB_WRITE, &other, &err), 0);
    ob_db_release(other);
    ob_db_release(w);

    lock_job k = { .store = f->store };
    assert_int_equal(pthread_create(&th, NULL, take_writer, &k), 0);
    pthread_join(th, NULL);
    assert_int_equal(k.rc, 0);
}

/* Write locks are counted; readers never take one. */
static void test_reads_take_no_write_lock(void **state)
{
    fixture *f = *state;
    ob_err err;
    uint64_t before = write_locks(f->store);
    for (int i = 0; i < 5; i++) {
        ob_conn *r;
        assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_READ, &r, &err), 0);
        assert_int_equal(ob_db_begin(r, &err), 0);
        ob_stmt *st;
        assert_int_equal(ob_db_prepare(r, "SELECT count(*) FROM m", &st, &err), 0);
        assert_int_equal(ob_stmt_step(st, &err), 1);
        ob_stmt_done(st);
        assert_int_equal(ob_db_commit(r, &err), 0);
        ob_db_release(r);
        ob_conn *ctl;
        assert_int_equal(ob_db_acquire(f->store, NULL, NULL, OB_DB_READ, &ctl, &err), 0);
        ob_db_release(ctl);
    }
    assert_int_equal(write_locks(f->store), before);
    ob_conn *w;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &w, &err), 0);
    ob_db_release(w);
    assert_int_equal(write_locks(f->store), before + 1);
}

/* ------------------------------------------------------ statement cache */

/* The same text gives the same cached statement back once done; while it
 * is busy, a one-off runs beside it without disturbing its rows. */
static void test_stmt_cache(void **state)
{
    fixture *f = *state;
    ob_err err;
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    assert_int_equal(ob_db_exec(c, "INSERT INTO m VALUES (1,'a'),(2,'b'),(3,'c')", &err), 0);
    const char *sql = "SELECT k FROM m ORDER BY k";
    ob_stmt *a, *b, *again;
    assert_int_equal(ob_db_prepare(c, sql, &a, &err), 0);
    assert_true(OB_DB_STMT(a)->cached);
    assert_int_equal(ob_stmt_step(a, &err), 1);
    assert_int_equal(ob_stmt_col_i64(a, 0), 1);

    assert_int_equal(ob_db_prepare(c, sql, &b, &err), 0); /* a is busy */
    assert_ptr_not_equal(a, b);
    assert_false(OB_DB_STMT(b)->cached);
    assert_ptr_equal(OB_DB_STMT(b)->parent, OB_DB_STMT(a));
    assert_int_equal(OB_DB_STMT(a)->oneoffs, 1);
    int n = 0;
    while (ob_stmt_step(b, &err) == 1)
        n++;
    assert_int_equal(n, 3);
    ob_stmt_done(b);
    assert_int_equal(OB_DB_STMT(a)->oneoffs, 0);

    assert_int_equal(ob_stmt_step(a, &err), 1); /* a went on where it was */
    assert_int_equal(ob_stmt_col_i64(a, 0), 2);
    ob_stmt_done(a);
    assert_int_equal(ob_db_prepare(c, sql, &again, &err), 0);
    assert_ptr_equal(again, a);
    assert_int_equal(ob_stmt_step(again, &err), 1); /* done reset it */
    assert_int_equal(ob_stmt_col_i64(again, 0), 1);
    ob_stmt_done(again);
    ob_db_release(c);
}

/* The cache keeps at most the driver's cap, dropping the least recently
 * used idle statement, and never one that is busy. */
static void test_stmt_cache_bound(void **state)
{
    fixture *f = *state;
    ob_err err;
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_READ, &c, &err), 0);
    ob_db_conn *base = OB_DB_CONN(c);
    int cap = base->drv->stmt_cap;
    ob_stmt *held;
    assert_int_equal(ob_db_prepare(c, "SELECT 0", &held, &err), 0);
    char sql[64];
    for (int i = 1; i <= cap + 20; i++) {
        ob_stmt *st;
        snprintf(sql, sizeof sql, "SELECT %d", i);
        assert_int_equal(ob_db_prepare(c, sql, &st, &err), 0);
        ob_stmt_done(st);
        assert_true(base->nstmts <= cap);
    }
    assert_int_equal(base->nstmts, cap);
    /* the busy one survived, and is the oldest in the cache */
    assert_ptr_equal(base->lru_tail, OB_DB_STMT(held));
    assert_int_equal(ob_stmt_step(held, &err), 1);
    ob_stmt_done(held);
    /* the most recent ones are still cached: preparing one adds nothing */
    snprintf(sql, sizeof sql, "SELECT %d", cap + 20);
    ob_stmt *st;
    assert_int_equal(ob_db_prepare(c, sql, &st, &err), 0);
    assert_int_equal(base->nstmts, cap);
    ob_stmt_done(st);
    ob_db_release(c);
}

/* --------------------------------------------------------------- binds */

/* A failed bind is an error, and the statement then refuses to run until it
 * is done, so an overlooked bind result cannot write a row with a value
 * missing. */
static void test_bind_errors_are_checked(void **state)
{
    fixture *f = *state;
    ob_err err;
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    ob_stmt *st;
    const char *ins = "INSERT INTO m(k, v) VALUES (?, ?)";
    assert_int_equal(ob_db_prepare(c, ins, &st, &err), 0);
    assert_int_equal(OB_DB_STMT(st)->nparams, 2);
    assert_int_equal(ob_stmt_bind_i64(st, 1, 7, &err), 0);
    assert_int_equal(ob_stmt_bind_text(st, 3, "x", &err), -1); /* no third placeholder */
    assert_int_equal(err.code, OB_E_INTERNAL);
    assert_int_equal(ob_stmt_bind_i64(st, 0, 1, &err), -1);
    ob_value bad = { .t = (ob_vtype)42 };
    assert_int_equal(ob_stmt_bind(st, 2, &bad, &err), -1);
    assert_int_equal(ob_stmt_step(st, &err), -1);
    assert_int_equal(err.code, OB_E_INTERNAL);
    assert_non_null(strstr(err.message, "could not be bound"));
    ob_stmt_done(st);

    /* nothing was written; done cleared the failure */
    assert_int_equal(ob_db_prepare(c, "SELECT count(*) FROM m WHERE k = 7", &st, &err), 0);
    assert_int_equal(ob_stmt_step(st, &err), 1);
    assert_int_equal(ob_stmt_col_i64(st, 0), 0);
    ob_stmt_done(st);
    assert_int_equal(ob_db_prepare(c, ins, &st, &err), 0);
    assert_int_equal(ob_stmt_bind_i64(st, 1, 7, &err), 0);
    assert_int_equal(ob_stmt_bind_text(st, 2, "seven", &err), 0);
    assert_int_equal(ob_stmt_step(st, &err), 0);
    ob_stmt_done(st);
    assert_int_equal(ob_db_changes(c), 1);
    ob_db_release(c);
}

/* ------------------------------------------------------------- errors */

/* Both drivers' faults become the same ob_err. */
static void test_fault_mapping(void **state)
{
    (void)state;
    ob_err err;
    ob_db_fault u = { .kind = OB_DBF_UNIQUE, .table = "users", .columns = "tenant, \"email\"",
                      .columns_len = strlen("tenant, \"email\"") };
    assert_int_equal(ob_db_fault_set(&err, &u), -1);
    assert_int_equal(err.code, OB_E_CONFLICT);
    assert_string_equal(err.constraint, "users.tenant,email");
    assert_string_equal(err.field, "tenant");

    ob_db_fault ix = { .kind = OB_DBF_UNIQUE, .name = "ux_lower_email" };
    ob_db_fault_set(&err, &ix);
    assert_int_equal(err.code, OB_E_CONFLICT);
    assert_string_equal(err.constraint, "ux_lower_email");

    ob_db_fault nn = { .kind = OB_DBF_NOT_NULL, .table = "tickets", .column = "title" };
    ob_db_fault_set(&err, &nn);
    assert_int_equal(err.code, OB_E_VALIDATION);
    assert_string_equal(err.constraint, "tickets.title");
    assert_string_equal(err.field, "title");
    assert_int_equal(err.nfields, 1);

    ob_db_fault fk = { .kind = OB_DBF_FOREIGN_KEY };
    ob_db_fault_set(&err, &fk);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_string_equal(err.constraint, "foreign_key");

    ob_db_fault ck = { .kind = OB_DBF_CHECK };
    ob_db_fault_set(&err, &ck);
    assert_int_equal(err.code, OB_E_VALIDATION);
    assert_string_equal(err.constraint, "check");

    ob_db_fault io = { .kind = OB_DBF_STORAGE, .message = "disk I/O error" };
    ob_db_fault_set(&err, &io);
    assert_int_equal(err.code, OB_E_STORAGE);
    assert_string_equal(err.message, "storage error: disk I/O error");
    assert_int_equal(ob_db_fault_set(NULL, &io), -1); /* a NULL err is allowed */
}

/* A real unique violation through the SQLite driver reads the same. */
static void test_unique_violation(void **state)
{
    fixture *f = *state;
    ob_err err;
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    assert_int_equal(ob_db_exec(c, "CREATE TABLE u(a TEXT, b TEXT, UNIQUE(a, b))", &err), 0);
    assert_int_equal(ob_db_exec(c, "INSERT INTO u VALUES ('x','y')", &err), 0);
    assert_int_equal(ob_db_exec(c, "INSERT INTO u VALUES ('x','y')", &err), -1);
    assert_int_equal(err.code, OB_E_CONFLICT);
    assert_string_equal(err.constraint, "u.a,b");
    assert_string_equal(err.field, "a");
    ob_db_release(c);
}

/* ------------------------------------------------------------- helpers */

static void test_hash_and_dialect(void **state)
{
    (void)state;
    /* FNV-1a 64 of "" and "a" (published test vectors) */
    assert_true(ob_db_hash("") == 0xcbf29ce484222325ULL);
    assert_true(ob_db_hash("a") == 0xaf63dc4c8601ec8cULL);
    const ob_dialect *s = ob_dialect_of(OB_DB_SQLITE), *p = ob_dialect_of(OB_DB_POSTGRES);
    assert_int_equal(s->engine, OB_DB_SQLITE);
    assert_int_equal(p->engine, OB_DB_POSTGRES);
    assert_true(s->decimal_as_minor && !p->decimal_as_minor);
    assert_string_equal(p->ilike, "ILIKE");
    assert_true(s->fts5 && !p->fts5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_take_no_write_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stmt_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stmt_cache_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_errors_are_checked, setup, teardown),
        cmocka_unit_test(test_fault_mapping),
        cmocka_unit_test_setup_teardown(test_unique_violation, setup, teardown),
        cmocka_unit_test(test_hash_and_dialect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
