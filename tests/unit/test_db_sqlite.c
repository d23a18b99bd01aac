/* test_db_sqlite.c - the SQLite store behind db.h, in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "db/core.h" /* the pool's counters */
#include "fixture.h"
#include "base/banned.h"

typedef struct fixture {
    char dir[256];
    ob_store *store;
} fixture;

/* conn_memory 0: the default budget for idle connections */
static ob_store *open_store(const char *dir, const char *sync, size_t conn_memory)
{
    ob_store_opts o = { .data_dir = dir, .synchronous = sync, .conn_memory = conn_memory,
                        .create = true };
    ob_store *s = NULL;
    ob_err err;
    int rc = ob_store_open(&s, &o, &err);
    if (rc != 0)
        print_error("ob_store_open: %s\n", err.message);
    assert_int_equal(rc, 0);
    return s;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/ob_db_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    f->store = open_store(f->dir, NULL, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ob_store_close(f->store);
    ob_fx_rm_rf(f->dir);
    free(f);
    return 0;
}

static void make_tenant(ob_store *s, const char *slug, const char *ddl)
{
    ob_err err;
    assert_int_equal(ob_db_create_tenant(s, slug, &err), 0);
    if (ddl) {
        ob_conn *c;
        assert_int_equal(ob_db_acquire(s, slug, NULL, OB_DB_WRITE, &c, &err), 0);
        int rc = ob_db_exec(c, ddl, &err);
        if (rc)
            print_error("ddl: %s\n", err.message);
        assert_int_equal(rc, 0);
        ob_db_release(c);
    }
}

/* Run one statement with up to 3 values; returns the ob_stmt_step result. */
static int run(ob_conn *c, const char *sql, ob_err *err, int nv, ...)
{
    ob_stmt *st;
    if (ob_db_prepare(c, sql, &st, err))
        return -1;
    va_list ap;
    va_start(ap, nv);
    for (int i = 0; i < nv; i++) {
        ob_value v = va_arg(ap, ob_value);
        if (ob_stmt_bind(st, i + 1, &v, err)) {
            va_end(ap);
            ob_stmt_done(st);
            return -1;
        }
    }
    va_end(ap);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    return rc;
}

static int64_t count_rows(ob_store *s, const char *slug, const char *gen, const char *table)
{
    ob_conn *c;
    ob_err err;
    assert_int_equal(ob_db_acquire(s, slug, gen, OB_DB_READ, &c, &err), 0);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    ob_stmt *st;
    assert_int_equal(ob_db_prepare(c, sql, &st, &err), 0);
    assert_int_equal(ob_stmt_step(st, &err), 1);
    int64_t n = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    ob_db_release(c);
    return n;
}

static void test_slug_valid(void **state)
{
    (void)state;
    assert_true(ob_db_slug_valid("a"));
    assert_true(ob_db_slug_valid("acme-cargo2"));
    assert_true(ob_db_slug_valid("0"));
    char long_ok[64], long_bad[65];
    memset(long_ok, 'a', 63);
    long_ok[63] = '\0';
    memset(long_bad, 'a', 64);
    long_bad[64] = '\0';
    assert_true(ob_db_slug_valid(long_ok));
    assert_false(ob_db_slug_valid(long_bad));
    assert_false(ob_db_slug_valid(NULL));
    assert_false(ob_db_slug_valid(""));
    assert_false(ob_db_slug_valid("-a"));
    assert_false(ob_db_slug_valid("a-"));
    assert_false(ob_db_slug_valid("Acme"));
    assert_false(ob_db_slug_valid("a_b"));
    assert_false(ob_db_slug_valid("../x"));
    assert_false(ob_db_slug_valid("a.db"));
    assert_false(ob_db_slug_valid("a b"));
}

static void test_open_requires_create(void **state)
{
    fixture *f = *state;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/sub/data", f->dir);
    ob_store_opts o = { .data_dir = dir };
    ob_store *s = NULL;
    ob_err err;
    assert_int_equal(ob_store_open(&s, &o, &err), -1);
    assert_int_equal(err.code, OB_E_NOT_FOUND);
    assert_non_null(strstr(err.message, "opsbase migrate"));
    assert_null(s);

    o.create = true;
    assert_int_equal(ob_store_open(&s, &o, &err), 0);
    assert_int_equal(ob_store_engine(s), OB_DB_SQLITE);
    ob_store_close(s);

    struct stat sb;
    char path[400];
    snprintf(path, sizeof path, "%s/control.db", dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/tenants", dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);

    /* now it exists: opening without create works */
    o.create = false;
    assert_int_equal(ob_store_open(&s, &o, &err), 0);
    ob_conn *c;
    assert_int_equal(ob_db_acquire(s, NULL, NULL, OB_DB_WRITE, &c, &err), 0);
    assert_int_equal(ob_conn_engine(c), OB_DB_SQLITE);
    assert_int_equal(ob_db_exec(c, "CREATE TABLE plans(id TEXT PRIMARY KEY)", &err), 0);
    ob_db_release(c);
    ob_store_close(s);

    /* a file that is not a database is refused */
    char junkdir[300];
    snprintf(junkdir, sizeof junkdir, "%s/junk", f->dir);
    mkdir(junkdir, 0700);
    snprintf(path, sizeof path, "%s/control.db", junkdir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database file. ", fp);
    fclose(fp);
    o.data_dir = junkdir;
    assert_int_equal(ob_store_open(&s, &o, &err), -1);
    assert_int_equal(err.code, OB_E_STORAGE);

    o.data_dir = dir;
    o.synchronous = "sometimes";
    assert_int_equal(ob_store_open(&s, &o, &err), -1);
}

static void test_tenant_lifecycle(void **state)
{
    fixture *f = *state;
    ob_err err;
    ob_conn *c;
    assert_false(ob_db_tenant_exists(f->store, "acme"));
    assert_int_equal(ob_db_create_tenant(f->store, "acme", &err), 0);
    assert_true(ob_db_tenant_exists(f->store, "acme"));
    char path[400];
    struct stat sb;
    snprintf(path, sizeof path, "%s/tenants/acme.db", f->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_true(sb.st_size > 0); /* WAL mode is recorded in the header */
    assert_int_equal(ob_db_create_tenant(f->store, "acme", &err), -1);
    assert_int_equal(err.code, OB_E_CONFLICT);
    assert_int_equal(ob_db_create_tenant(f->store, "Bad!", &err), -1);
    assert_int_equal(err.code, OB_E_VALIDATION);

    /* acquire never creates */
    const char *bad[] = { "nope", "../control", "Acme", "a-", "", "a/b" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int m = 0; m < 2; m++) {
            c = (ob_conn *)&err; /* must be reset to NULL */
            assert_int_equal(ob_db_acquire(f->store, bad[i], NULL, m ? OB_DB_WRITE : OB_DB_READ,
                                           &c, &err), -1);
            assert_int_equal(err.code, OB_E_NOT_FOUND);
            assert_null(c);
        }
    }
    snprintf(path, sizeof path, "%s/tenants/nope.db", f->dir);
    assert_int_equal(stat(path, &sb), -1);

    assert_int_equal(ob_db_acquire(f->store, "acme", NULL, OB_DB_READ, &c, &err), 0);
    ob_db_release(c);
    assert_int_equal(ob_db_drop_tenant(f->store, "acme", &err), 0);
    assert_false(ob_db_tenant_exists(f->store, "acme"));
    snprintf(path, sizeof path, "%s/tenants/acme.db-wal", f->dir);
    assert_int_equal(stat(path, &sb), -1);
    assert_int_equal(ob_db_acquire(f->store, "acme", NULL, OB_DB_READ, &c, &err), -1);
    assert_int_equal(err.code, OB_E_NOT_FOUND);
    assert_int_equal(ob_db_drop_tenant(f->store, "acme", &err), -1);
    assert_int_equal(err.code, OB_E_NOT_FOUND);
    assert_int_equal(ob_db_drop_tenant(f->store, "../x", &err), -1);
    assert_int_equal(err.code, OB_E_NOT_FOUND);
}

static void test_values_roundtrip(void **state)
{
    fixture *f = *state;
    ob_err err;
    make_tenant(f->store, "t1",
                "CREATE TABLE v(id INTEGER PRIMARY KEY, i INTEGER, b INTEGER, r REAL, s TEXT,"
                " d INTEGER, n TEXT, e TEXT)");
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    ob_stmt *st;
    assert_int_equal(ob_db_prepare(c, "INSERT INTO v(i,b,r,s,d,n,e) VALUES(?,?,?,?,?,?,?)", &st, &err), 0);
    const char text[] = "h\xc3\xa9llo worldXXXX"; /* bound with length: no NUL at the end */
    ob_value vals[] = { ob_v_int(INT64_MIN), ob_v_bool(true), ob_v_real(2.5),
                        ob_v_textn(text, 12), ob_v_dec(125000, 2), ob_v_null(), ob_v_text(NULL) };
    for (int i = 0; i < 7; i++)
        assert_int_equal(ob_stmt_bind(st, i + 1, &vals[i], &err), 0);
    assert_int_equal(ob_stmt_step(st, &err), 0);
    ob_stmt_done(st);
    assert_int_equal(ob_db_changes(c), 1);

    assert_int_equal(ob_db_prepare(c, "INSERT INTO v(i,s) VALUES(?,?)", &st, &err), 0);
    assert_int_equal(ob_stmt_bind_i64(st, 1, 42, &err), 0);
    assert_int_equal(ob_stmt_bind_text(st, 2, "plain", &err), 0);
    assert_int_equal(ob_stmt_step(st, &err), 0);
    ob_stmt_done(st);
    /* binding out of range is an error, not a crash */
    assert_int_equal(ob_db_prepare(c, "SELECT ?", &st, &err), 0);
    assert_int_equal(ob_stmt_bind_i64(st, 2, 1, &err), -1);
    assert_int_equal(err.code, OB_E_INTERNAL);
    ob_stmt_done(st);
    ob_db_release(c);

    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_READ, &c, &err), 0);
    assert_int_equal(ob_db_prepare(c, "SELECT i,b,r,s,d,n,e FROM v ORDER BY id", &st, &err), 0);
    assert_int_equal(ob_stmt_ncols(st), 7);
    assert_string_equal(ob_stmt_col_name(st, 3), "s");
    assert_int_equal(ob_stmt_step(st, &err), 1);
    assert_int_equal(ob_stmt_col_type(st, 0), OB_V_INT);
    assert_true(ob_stmt_col_i64(st, 0) == INT64_MIN);
    assert_int_equal(ob_stmt_col_i64(st, 1), 1);
    assert_int_equal(ob_stmt_col_type(st, 2), OB_V_REAL);
    assert_true(ob_stmt_col_f64(st, 2) == 2.5);
    size_t n = 0;
    assert_int_equal(ob_stmt_col_type(st, 3), OB_V_TEXT);
    const char *s = ob_stmt_col_text(st, 3, &n);
    assert_int_equal(n, 12);
    assert_memory_equal(s, text, 12);
    assert_int_equal(s[12], '\0');
    assert_int_equal(ob_stmt_col_i64(st, 4), 125000);
    assert_int_equal(ob_stmt_col_type(st, 5), OB_V_NULL);
    assert_null(ob_stmt_col_text(st, 5, &n));
    assert_int_equal(n, 0);
    assert_int_equal(ob_stmt_col_type(st, 6), OB_V_NULL);
    assert_int_equal(ob_stmt_step(st, &err), 1);
    assert_int_equal(ob_stmt_col_i64(st, 0), 42);
    assert_string_equal(ob_stmt_col_text(st, 3, NULL), "plain");
    assert_int_equal(ob_stmt_step(st, &err), 0);
    ob_stmt_done(st);

    /* prepare errors: bad SQL, several statements */
    assert_int_equal(ob_db_prepare(c, "SELEC 1", &st, &err), -1);
    assert_int_equal(err.code, OB_E_INTERNAL);
    assert_int_equal(ob_db_prepare(c, "SELECT 1; SELECT 2", &st, &err), -1);
    assert_int_equal(ob_db_prepare(c, "SELECT 1;  ", &st, &err), 0);
    ob_stmt_done(st);
    ob_db_release(c);
}

static void test_constraint_mapping(void **state)
{
    fixture *f = *state;
    ob_err err;
    make_tenant(f->store, "t1",
                "CREATE TABLE customers(id TEXT PRIMARY KEY, customer_code TEXT UNIQUE,"
                " a TEXT, b TEXT, name TEXT NOT NULL DEFAULT 'x',"
                " priority INTEGER CONSTRAINT ck_priority CHECK (priority BETWEEN 1 AND 5),"
                " UNIQUE(a, b));"
                "CREATE TABLE orders(id TEXT PRIMARY KEY, customer_id TEXT REFERENCES customers(id));"
                "CREATE UNIQUE INDEX ix_lower ON customers(lower(name)) WHERE name <> 'x';");
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    const char *ins = "INSERT INTO customers(id, customer_code, a, b) VALUES(?,?,?,?)";
    assert_int_equal(run(c, ins, &err, 4, ob_v_text("c1"), ob_v_text("C-1"), ob_v_text("a"),
                         ob_v_text("b")), 0);

    assert_int_equal(run(c, ins, &err, 4, ob_v_text("c2"), ob_v_text("C-1"), ob_v_null(), ob_v_null()), -1);
    assert_int_equal(err.code, OB_E_CONFLICT);
    assert_string_equal(err.constraint, "customers.customer_code");
    assert_string_equal(err.field, "customer_code");

    assert_int_equal(run(c, ins, &err, 4, ob_v_text("c1"), ob_v_text("C-9"), ob_v_null(), ob_v_null()), -1);
    assert_int_equal(err.code, OB_E_CONFLICT);
    assert_string_equal(err.constraint, "customers.id");
    assert_string_equal(err.field, "id");

    assert_int_equal(run(c, ins, &err, 4, ob_v_text("c3"), ob_v_text("C-3"), ob_v_text("a"), ob_v_text("b")), -1);
    assert_int_equal(err.code, OB_E_CONFLICT);
    assert_string_equal(err.constraint, "customers.a,b");
    assert_string_equal(err.field, "a");

    const char *named = "INSERT INTO customers(id, name) VALUES(?,?)";
    assert_int_equal(run(c, named, &err, 2, ob_v_text("c4"), ob_v_text("Bob")), 0);
    assert_int_equal(run(c, named, &err, 2, ob_v_text("c5"), ob_v_text("BOB")), -1);
    assert_int_equal(err.code, OB_E_CONFLICT);
    assert_string_equal(err.constraint, "ix_lower");

    assert_int_equal(run(c, "INSERT INTO orders VALUES(?,?)", &err, 2, ob_v_text("o1"), ob_v_text("zz")), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_string_equal(err.constraint, "foreign_key");
    assert_int_equal(run(c, "INSERT INTO orders VALUES(?,?)", &err, 2, ob_v_text("o1"), ob_v_text("c1")), 0);
    assert_int_equal(run(c, "DELETE FROM customers WHERE id = ?", &err, 1, ob_v_text("c1")), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);

    assert_int_equal(run(c, "INSERT INTO customers(id, priority) VALUES(?,?)", &err, 2,
                         ob_v_text("c6"), ob_v_int(9)), -1);
    assert_int_equal(err.code, OB_E_VALIDATION);
    assert_string_equal(err.constraint, "ck_priority");

    assert_int_equal(run(c, "INSERT INTO customers(id, name) VALUES(?,?)", &err, 2,
                         ob_v_text("c7"), ob_v_null()), -1);
    assert_int_equal(err.code, OB_E_VALIDATION);
    assert_string_equal(err.field, "name");
    assert_string_equal(err.constraint, "customers.name");
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].name, "name");

    assert_int_equal(ob_db_exec(c, "CREATE TABLE bad(", &err), -1);
    assert_int_equal(err.code, OB_E_INTERNAL);
    assert_int_equal(ob_db_exec(c,
                                "CREATE TRIGGER no_zz BEFORE INSERT ON orders WHEN NEW.id = 'zz'"
                                " BEGIN SELECT RAISE(ABORT, 'zz is reserved'); END",
                                &err), 0);
    assert_int_equal(run(c, "INSERT INTO orders VALUES(?,NULL)", &err, 1, ob_v_text("zz")), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_string_equal(err.message, "zz is reserved");
    ob_db_release(c);
}

static void test_stmt_cache(void **state)
{
    fixture *f = *state;
    ob_err err;
    make_tenant(f->store, "t1", "CREATE TABLE x(a INTEGER)");
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    ob_stmt *a, *b, *d;
    const char *sql = "SELECT a FROM x WHERE a > ?";
    assert_int_equal(ob_db_prepare(c, sql, &a, &err), 0);
    ob_stmt_done(a);
    assert_int_equal(ob_db_prepare(c, sql, &b, &err), 0);
    assert_ptr_equal(a, b);
    /* same SQL while the cached one is in use: a separate statement */
    assert_int_equal(ob_db_prepare(c, sql, &d, &err), 0);
    assert_ptr_not_equal(b, d);
    ob_stmt_done(d);
    ob_stmt_done(b);
    /* more distinct statements than the cache holds */
    char q[64];
    for (int i = 0; i < 600; i++) {
        snprintf(q, sizeof q, "SELECT %d", i);
        assert_int_equal(ob_db_prepare(c, q, &d, &err), 0);
        assert_int_equal(ob_stmt_step(d, &err), 1);
        assert_int_equal(ob_stmt_col_i64(d, 0), i);
        ob_stmt_done(d);
    }
    /* a statement left busy is reset when the connection goes back */
    assert_int_equal(ob_db_prepare(c, sql, &a, &err), 0);
    ob_db_release(c);
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    assert_int_equal(ob_db_prepare(c, sql, &b, &err), 0);
    assert_ptr_equal(a, b);
    ob_stmt_done(b);
    ob_db_release(c);
}

static void test_transactions(void **state)
{
    fixture *f = *state;
    ob_err err;
    make_tenant(f->store, "t1",
                "CREATE TABLE p(id INTEGER PRIMARY KEY);"
                "CREATE TABLE k(id INTEGER PRIMARY KEY,"
                " p_id INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)");
    ob_conn *c;
    const char *ins = "INSERT INTO p(id) VALUES(?)";
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    assert_false(ob_db_in_txn(c));
    assert_int_equal(ob_db_begin(c, &err), 0);
    assert_true(ob_db_in_txn(c));
    assert_int_equal(ob_db_begin(c, &err), -1);
    assert_int_equal(run(c, ins, &err, 1, ob_v_int(1)), 0);
    ob_db_rollback(c);
    assert_false(ob_db_in_txn(c));
    assert_int_equal(ob_db_commit(c, &err), -1);
    ob_db_release(c);
    assert_int_equal(count_rows(f->store, "t1", NULL, "p"), 0);

    /* release rolls back an open transaction */
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    assert_int_equal(ob_db_begin(c, &err), 0);
    assert_int_equal(run(c, ins, &err, 1, ob_v_int(2)), 0);
    ob_db_release(c);
    assert_int_equal(count_rows(f->store, "t1", NULL, "p"), 0);

    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    assert_int_equal(ob_db_begin(c, &err), 0);
    assert_int_equal(run(c, ins, &err, 1, ob_v_int(3)), 0);
    /* a reader does not see uncommitted rows */
    assert_int_equal(count_rows(f->store, "t1", NULL, "p"), 0);
    assert_int_equal(ob_db_commit(c, &err), 0);
    assert_false(ob_db_in_txn(c));
    assert_int_equal(count_rows(f->store, "t1", NULL, "p"), 1);

    /* a deferred foreign key fails at commit, mapped, and leaves no txn */
    assert_int_equal(ob_db_begin(c, &err), 0);
    assert_int_equal(run(c, "INSERT INTO k VALUES(1, 99)", &err, 0), 0);
    assert_int_equal(ob_db_commit(c, &err), -1);
    assert_int_equal(err.code, OB_E_UNPROCESSABLE);
    assert_string_equal(err.constraint, "foreign_key");
    assert_false(ob_db_in_txn(c));
    ob_db_release(c);
    assert_int_equal(count_rows(f->store, "t1", NULL, "k"), 0);

    /* read transaction: a snapshot */
    ob_conn *r;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_READ, &r, &err), 0);
    assert_int_equal(ob_db_begin(r, &err), 0);
    assert_int_equal(run(r, "SELECT count(*) FROM p", &err, 0), 1);
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    assert_int_equal(run(c, ins, &err, 1, ob_v_int(4)), 0);
    ob_db_release(c);
    ob_stmt *st;
    assert_int_equal(ob_db_prepare(r, "SELECT count(*) FROM p", &st, &err), 0);
    assert_int_equal(ob_stmt_step(st, &err), 1);
    assert_int_equal(ob_stmt_col_i64(st, 0), 1);
    ob_stmt_done(st);
    assert_int_equal(ob_db_commit(r, &err), 0);
    /* a second reader of the same tenant on the same thread is its own */
    ob_conn *r2;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_READ, &r2, &err), 0);
    assert_ptr_not_equal(r, r2);
    ob_db_release(r2);
    ob_db_release(r);
    assert_int_equal(count_rows(f->store, "t1", NULL, "p"), 2);
}

typedef struct writer_job {
    ob_store *store;
    const char *slug;
    int base;
    int n;
    int failures;
} writer_job;

static void *writer_thread(void *arg)
{
    writer_job *j = arg;
    ob_err err;
    for (int i = 0; i < j->n; i++) {
        ob_conn *c;
        if (ob_db_acquire(j->store, j->slug, NULL, OB_DB_WRITE, &c, &err)) {
            j->failures++;
            continue;
        }
        if (ob_db_begin(c, &err) ||
            run(c, "INSERT INTO w(v) VALUES(?)", &err, 1, ob_v_int(j->base + i)) != 0 ||
            ob_db_commit(c, &err))
            j->failures++;
        ob_db_release(c);
        /* and read (a pooled reader, maybe opened by another thread) */
        ob_conn *r;
        if (ob_db_acquire(j->store, j->slug, NULL, OB_DB_READ, &r, &err) ||
            run(r, "SELECT count(*) FROM w", &err, 0) != 1)
            j->failures++;
        ob_db_release(r);
    }
    return NULL;
}

static void test_threads(void **state)
{
    fixture *f = *state;
    const char *ddl = "CREATE TABLE w(id INTEGER PRIMARY KEY, v INTEGER UNIQUE)";
    make_tenant(f->store, "one", ddl);
    make_tenant(f->store, "two", ddl);
    enum { N = 150, T = 6 };
    writer_job jobs[T];
    pthread_t th[T];
    /* two threads on different tenants, and four sharing tenant "one" */
    for (int i = 0; i < T; i++) {
        jobs[i] = (writer_job){ .store = f->store, .slug = i == 1 ? "two" : "one",
                                .base = i * 1000, .n = N };
        assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    assert_int_equal(count_rows(f->store, "one", NULL, "w"), (T - 1) * N);
    assert_int_equal(count_rows(f->store, "two", NULL, "w"), N);
}

static void test_writer_lock(void **state)
{
    fixture *f = *state;
    ob_err err;
    ob_store_close(f->store);
    ob_store_opts o = { .data_dir = f->dir, .busy_timeout_ms = 100 };
    assert_int_equal(ob_store_open(&f->store, &o, &err), 0);
    make_tenant(f->store, "t1", "CREATE TABLE w(id INTEGER PRIMARY KEY, v INTEGER)");
    ob_conn *c, *c2;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    /* the same thread asking again gets an error, not a deadlock */
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c2, &err), -1);
    assert_int_equal(err.code, OB_E_INTERNAL);
    /* another thread waits for the busy timeout, then gives up */
    writer_job j = { .store = f->store, .slug = "t1", .n = 1 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer_thread, &j), 0);
    pthread_join(th, NULL);
    assert_int_equal(j.failures, 1);
    ob_db_release(c);
    j.failures = 0;
    assert_int_equal(pthread_create(&th, NULL, writer_thread, &j), 0);
    pthread_join(th, NULL);
    assert_int_equal(j.failures, 0);
}

static void insert_marker(ob_store *s, const char *slug, const char *gen, const char *v)
{
    ob_conn *c;
    ob_err err;
    assert_int_equal(ob_db_acquire(s, slug, gen, OB_DB_WRITE, &c, &err), 0);
    assert_int_equal(run(c, "INSERT INTO m(v) VALUES(?)", &err, 1, ob_v_text(v)), 0);
    ob_db_release(c);
}

static void read_marker(ob_store *s, const char *slug, const char *gen, char *out, size_t n)
{
    ob_conn *c;
    ob_err err;
    assert_int_equal(ob_db_acquire(s, slug, gen, OB_DB_READ, &c, &err), 0);
    ob_stmt *st;
    assert_int_equal(ob_db_prepare(c, "SELECT group_concat(v) FROM m", &st, &err), 0);
    assert_int_equal(ob_stmt_step(st, &err), 1);
    const char *v = ob_stmt_col_text(st, 0, NULL);
    snprintf(out, n, "%s", v ? v : "");
    ob_stmt_done(st);
    ob_db_release(c);
}

typedef struct reader_job {
    ob_store *store;
    pthread_barrier_t *bar;
    char first[32], second[32];
} reader_job;

static void *reader_thread(void *arg)
{
    reader_job *j = arg;
    read_marker(j->store, "t1", NULL, j->first, sizeof j->first);
    pthread_barrier_wait(j->bar); /* main drops and recreates the tenant */
    pthread_barrier_wait(j->bar);
    read_marker(j->store, "t1", NULL, j->second, sizeof j->second);
    return NULL;
}

static void test_drop_recreate(void **state)
{
    fixture *f = *state;
    ob_err err;
    const char *ddl = "CREATE TABLE m(v TEXT)";
    make_tenant(f->store, "t1", ddl);
    insert_marker(f->store, "t1", "g1", "old");
    char got[32];
    read_marker(f->store, "t1", "g1", got, sizeof got);
    assert_string_equal(got, "old");

    /* another thread keeps a cached reader across the drop */
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    reader_job j = { .store = f->store, .bar = &bar };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reader_thread, &j), 0);
    pthread_barrier_wait(&bar);

    assert_int_equal(ob_db_drop_tenant(f->store, "t1", &err), 0);
    assert_int_equal(ob_db_acquire(f->store, "t1", "g1", OB_DB_WRITE, &(ob_conn *){ 0 }, &err), -1);
    assert_int_equal(err.code, OB_E_NOT_FOUND);
    make_tenant(f->store, "t1", ddl);
    insert_marker(f->store, "t1", "g2", "new");
    read_marker(f->store, "t1", "g2", got, sizeof got);
    assert_string_equal(got, "new");
    read_marker(f->store, "t1", NULL, got, sizeof got);
    assert_string_equal(got, "new");

    pthread_barrier_wait(&bar);
    pthread_join(th, NULL);
    pthread_barrier_destroy(&bar);
    assert_string_equal(j.first, "old");
    assert_string_equal(j.second, "new");

    /* the stale reader closed at thread exit must not have taken the new
     * tenant's WAL with it */
    ob_store_close(f->store);
    f->store = open_store(f->dir, NULL, 0);
    read_marker(f->store, "t1", NULL, got, sizeof got);
    assert_string_equal(got, "new");
}

static void test_lru_bounds(void **state)
{
    fixture *f = *state;
    ob_err err;
    ob_store_close(f->store);
    /* a budget of one byte: every idle tenant connection is closed at once */
    f->store = open_store(f->dir, "normal", 1);
    const char *slugs[] = { "a", "b", "c", "d", "e" };
    for (int i = 0; i < 5; i++)
        make_tenant(f->store, slugs[i], "CREATE TABLE m(v TEXT)");
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 5; i++) {
            insert_marker(f->store, slugs[i], NULL, slugs[i]);
            char got[32];
            ob_conn *keep;
            /* hold one reader while others come and go */
            assert_int_equal(ob_db_acquire(f->store, slugs[(i + 1) % 5], NULL, OB_DB_READ, &keep, &err), 0);
            read_marker(f->store, slugs[i], NULL, got, sizeof got);
            ob_db_release(keep);
            assert_int_equal(got[0], slugs[i][0]);
        }
    assert_int_equal(count_rows(f->store, "c", NULL, "m"), 3);
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, "a", NULL, OB_DB_WRITE, &c, &err), 0);
    assert_string_equal(ob_db_synchronous(c), "normal");
    ob_db_release(c);
    ob_db_pool_stats st;
    ob_db_core_stats(f->store, &st);
    /* only the control database's connections outlive their release */
    assert_int_equal(st.idle, st.open);
    assert_true(st.evictions > 0);
    ob_conn *ctl;
    assert_int_equal(ob_db_acquire(f->store, NULL, NULL, OB_DB_READ, &ctl, &err), 0);
    ob_db_release(ctl);
    ob_db_pool_stats st2;
    ob_db_core_stats(f->store, &st2);
    assert_true(st2.open <= 2);
}

typedef struct pool_job {
    ob_store *store;
    const char *slug;
    int failures;
} pool_job;

/* One write and one read of slug, then back to the pool. */
static void *pool_thread(void *arg)
{
    pool_job *j = arg;
    ob_err err;
    ob_conn *c;
    if (ob_db_acquire(j->store, j->slug, NULL, OB_DB_WRITE, &c, &err) != 0)
        j->failures++;
    else {
        if (run(c, "INSERT INTO m(v) VALUES('x')", &err, 0) != 0)
            j->failures++;
        ob_db_release(c);
    }
    if (ob_db_acquire(j->store, j->slug, NULL, OB_DB_READ, &c, &err) != 0)
        j->failures++;
    else {
        if (run(c, "SELECT count(*) FROM m", &err, 0) != 1)
            j->failures++;
        ob_db_release(c);
    }
    return NULL;
}

/* Idle connections are shared by threads and stay open within the budget:
 * many threads over a few tenants open each tenant's reader and writer once. */
static void test_pool_shared(void **state)
{
    fixture *f = *state;
    const char *slugs[] = { "a", "b", "c" };
    for (int i = 0; i < 3; i++)
        make_tenant(f->store, slugs[i], "CREATE TABLE m(v TEXT)");
    ob_db_pool_stats before, after;
    ob_db_core_stats(f->store, &before);
    /* one thread after the other: each finds the previous thread's readers */
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < 3; i++) {
            pool_job j = { .store = f->store, .slug = slugs[i] };
            pthread_t th;
            assert_int_equal(pthread_create(&th, NULL, pool_thread, &j), 0);
            pthread_join(th, NULL);
            assert_int_equal(j.failures, 0);
        }
    ob_db_core_stats(f->store, &after);
    /* the writers were opened by make_tenant's DDL; the first round opened
     * a reader per tenant and later rounds reused them */
    assert_int_equal(after.opens - before.opens, 3);
    assert_int_equal(after.evictions, 0);
    assert_int_equal(after.idle, after.open);
    assert_true(after.bytes > 0);
    assert_int_equal(count_rows(f->store, "b", NULL, "m"), 4);

    /* a drop closes the tenant's idle connections and a recreated tenant
     * starts from an empty file */
    ob_err err;
    assert_int_equal(ob_db_drop_tenant(f->store, "b", &err), 0);
    ob_db_pool_stats dropped;
    ob_db_core_stats(f->store, &dropped);
    assert_int_equal(dropped.open, after.open - 2);
    make_tenant(f->store, "b", "CREATE TABLE m(v TEXT)");
    assert_int_equal(count_rows(f->store, "b", NULL, "m"), 0);
}

/* A reader acquired before its tenant is dropped is closed when released,
 * not pooled: the next acquire must see the recreated file. */
static void test_pool_drop_in_use(void **state)
{
    fixture *f = *state;
    ob_err err;
    make_tenant(f->store, "t1", "CREATE TABLE m(v TEXT)");
    insert_marker(f->store, "t1", NULL, "old");
    ob_conn *r;
    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_READ, &r, &err), 0);
    assert_int_equal(ob_db_drop_tenant(f->store, "t1", &err), 0);
    make_tenant(f->store, "t1", "CREATE TABLE m(v TEXT)");
    insert_marker(f->store, "t1", NULL, "new");
    ob_db_release(r);
    char got[32];
    read_marker(f->store, "t1", NULL, got, sizeof got);
    assert_string_equal(got, "new");
}

/* Another process (here a second store on the same directory, with a pool of
 * its own) deletes a tenant and makes it again under the same generation, as
 * `opsbase tenant delete` and `restore --tenant` do: the first store's pooled
 * readers and writer must not go on with the unlinked old file. */
static void test_pool_replaced_by_another_store(void **state)
{
    fixture *f = *state;
    ob_err err;
    make_tenant(f->store, "t1", "CREATE TABLE m(v TEXT)");
    insert_marker(f->store, "t1", "g1", "old");
    ob_conn *r1, *r2; /* two idle readers and the writer pooled */
    assert_int_equal(ob_db_acquire(f->store, "t1", "g1", OB_DB_READ, &r1, &err), 0);
    assert_int_equal(ob_db_acquire(f->store, "t1", "g1", OB_DB_READ, &r2, &err), 0);
    ob_db_release(r1);
    ob_db_release(r2);

    ob_store *other = open_store(f->dir, NULL, 0);
    assert_int_equal(ob_db_drop_tenant(other, "t1", &err), 0);
    /* deleted and not yet made again: nothing of the old file is served */
    assert_int_equal(ob_db_acquire(f->store, "t1", "g1", OB_DB_READ, &r1, &err), -1);
    assert_int_equal(err.code, OB_E_NOT_FOUND);
    make_tenant(other, "t1", "CREATE TABLE m(v TEXT)");
    insert_marker(other, "t1", "g1", "restored");
    ob_store_close(other);

    ob_db_pool_stats before, after;
    ob_db_core_stats(f->store, &before);
    char got[64];
    read_marker(f->store, "t1", "g1", got, sizeof got);
    assert_string_equal(got, "restored");
    /* the writer too: a write lands in the new file */
    insert_marker(f->store, "t1", "g1", "later");
    read_marker(f->store, "t1", "g1", got, sizeof got);
    assert_string_equal(got, "restored,later");
    ob_db_core_stats(f->store, &after);
    /* the stale readers went at the failed acquire above; the stale writer
     * was closed here, and a reader and the writer opened on the new file */
    assert_int_equal(after.opens - before.opens, 2);
    assert_int_equal(after.open, before.open + 1);

    /* closing the stale handles took neither the new file's WAL nor its rows */
    ob_store_close(f->store);
    f->store = open_store(f->dir, NULL, 0);
    read_marker(f->store, "t1", NULL, got, sizeof got);
    assert_string_equal(got, "restored,later");
}

static void test_synchronous_and_check(void **state)
{
    fixture *f = *state;
    ob_err err;
    make_tenant(f->store, "t1",
                "CREATE TABLE p(id INTEGER PRIMARY KEY);"
                "CREATE TABLE k(id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id))");
    ob_conn *c;
    assert_int_equal(ob_db_acquire(f->store, NULL, NULL, OB_DB_READ, &c, &err), 0);
    assert_string_equal(ob_db_synchronous(c), "full");
    char res[128];
    assert_int_equal(ob_db_check(c, res, sizeof res, &err), 0);
    assert_string_equal(res, "ok");
    ob_db_release(c);

    assert_int_equal(ob_db_acquire(f->store, "t1", NULL, OB_DB_WRITE, &c, &err), 0);
    assert_string_equal(ob_db_synchronous(c), "full");
    assert_int_equal(ob_db_check(c, res, sizeof res, &err), 0);
    assert_string_equal(res, "ok");
    assert_int_equal(ob_db_exec(c, "PRAGMA foreign_keys=OFF; INSERT INTO k VALUES(1, 7);"
                                   " PRAGMA foreign_keys=ON;", &err), 0);
    assert_int_equal(ob_db_check(c, res, sizeof res, &err), 0);
    assert_string_equal(res, "foreign_key_check: 1 rows");
    ob_db_release(c);
}

static int collect(const char *slug, void *ctx)
{
    char *buf = ctx;
    size_t len = strlen(buf);
    snprintf(buf + len, 256 - len, "%s%s", len ? "," : "", slug);
    return 0;
}

static int stop_after_first(const char *slug, void *ctx)
{
    (void)slug;
    (*(int *)ctx)++;
    return 7;
}

static void test_each_tenant(void **state)
{
    fixture *f = *state;
    ob_err err;
    char buf[256] = "";
    assert_int_equal(ob_db_each_tenant(f->store, collect, buf, &err), 0);
    assert_string_equal(buf, "");
    make_tenant(f->store, "b", NULL);
    make_tenant(f->store, "a", NULL);
    make_tenant(f->store, "c-1", NULL);
    /* strays that are not tenants */
    const char *strays[] = { "Bad.db", "x.txt", "-x.db", ".db" };
    for (size_t i = 0; i < sizeof strays / sizeof strays[0]; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/tenants/%s", f->dir, strays[i]);
        int fd = open(path, O_CREAT | O_WRONLY, 0600);
        assert_true(fd >= 0);
        close(fd);
    }
    ob_conn *c; /* leaves -wal/-shm files around while open */
    assert_int_equal(ob_db_acquire(f->store, "a", NULL, OB_DB_READ, &c, &err), 0);
    assert_int_equal(ob_db_each_tenant(f->store, collect, buf, &err), 0);
    ob_db_release(c);
    assert_string_equal(buf, "a,b,c-1");
    int calls = 0;
    assert_int_equal(ob_db_each_tenant(f->store, stop_after_first, &calls, &err), 7);
    assert_int_equal(calls, 1);
}

static void test_v_text(void **state)
{
    (void)state;
    ob_value v = ob_v_text(NULL);
    assert_int_equal(v.t, OB_V_NULL);
    v = ob_v_text("abc");
    assert_int_equal(v.t, OB_V_TEXT);
    assert_int_equal(v.n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slug_valid),
        cmocka_unit_test(test_v_text),
        cmocka_unit_test_setup_teardown(test_open_requires_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenant_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constraint_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stmt_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_recreate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lru_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_drop_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_replaced_by_another_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_synchronous_and_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_tenant, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
