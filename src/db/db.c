/* db.c - db.h for callers: picks the engine at ob_store_open; connections
 * and statements go through the engine-neutral core (core.h), the rest is
 * forwarded through the engine's ob_db_ops table (db_int.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/core.h"
#include "base/banned.h"

/* Every engine struct starts with its ops pointer. */
#define OPS(p) (*(const ob_db_ops *const *)(const void *)(p))

int ob_db_err(ob_err *err, ob_errcode code, const char *fmt, ...)
{
    if (!err)
        return -1;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ob_err_set(err, code, "%s", buf);
}

ob_value ob_v_text(const char *s)
{
    return s ? ob_v_textn(s, strlen(s)) : ob_v_null();
}

bool ob_db_slug_valid(const char *slug)
{
    if (!slug)
        return false;
    size_t n = 0;
    for (const char *p = slug; *p; p++, n++) {
        char ch = *p;
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && (ch != '-' || n == 0))
            return false;
        if (n >= 63)
            return false;
    }
    return n > 0 && slug[n - 1] != '-';
}

static bool is_pg_url(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

int ob_store_open(ob_store **out, const ob_store_opts *opts, ob_err *err)
{
    *out = NULL;
    if (!opts->url || !*opts->url)
        return ob_sqlite_ops.store_open(out, opts, err);
    if (!is_pg_url(opts->url))
        return ob_db_err(err, OB_E_BAD_REQUEST,
                         "the database URL must start with postgres:// or postgresql://");
    return ob_pg_ops.store_open(out, opts, err);
}

void ob_store_close(ob_store *s)
{
    if (s)
        OPS(s)->store_close(s);
}

ob_db_engine ob_store_engine(const ob_store *s)
{
    return OPS(s)->engine;
}

void ob_store_stats_get(ob_store *s, ob_store_stats *out)
{
    ob_db_pool_stats st;
    ob_db_core_stats(s, &st);
    *out = (ob_store_stats){st.open, st.idle, st.databases, (int64_t)st.bytes, (int64_t)st.opens,
                            (int64_t)st.evictions, (int64_t)st.write_locks};
}

int ob_db_create_tenant(ob_store *s, const char *slug, ob_err *err)
{
    if (!ob_db_slug_valid(slug)) {
        ob_db_err(err, OB_E_VALIDATION, "the tenant slug is not valid");
        if (err)
            ob_err_field_add(err, "slug", "lower-case letters, digits and inner hyphens, 1-63");
        return -1;
    }
    /* Under the tenant's write lock, so a concurrent drop of the same slug
     * runs entirely before or after. */
    ob_db_slot *w;
    if (ob_db_core_lock(s, slug, &w, err))
        return -1;
    int rc = OPS(s)->create_tenant(s, slug, err);
    ob_db_core_unlock(s, w);
    if (rc && err && err->code == OB_E_CONFLICT) /* the engine's "exists" */
        snprintf(err->field, sizeof err->field, "slug");
    return rc;
}

int ob_db_drop_tenant(ob_store *s, const char *slug, ob_err *err)
{
    if (!ob_db_slug_valid(slug))
        return ob_db_err(err, OB_E_NOT_FOUND, "no such tenant");
    /* Waits for a writer in flight and closes the writer connection. */
    ob_db_slot *w;
    if (ob_db_core_lock(s, slug, &w, err))
        return -1;
    int rc = OPS(s)->drop_tenant(s, slug, err);
    /* After the removal: idle readers are closed now, acquired ones when
     * they come back (core_pool.c). */
    if (rc == 0) {
        ob_db_core_dropped(s, slug);
        ob_db_core_seen_forget(s, slug);
    }
    ob_db_core_unlock(s, w);
    return rc;
}

int ob_db_peek_version(ob_store *s, const char *slug, int *version, ob_err *err)
{
    *version = -1;
    return OPS(s)->driver.peek_version ? OPS(s)->driver.peek_version(s, slug, version, err) : 0;
}

bool ob_db_tenant_exists(ob_store *s, const char *slug)
{
    return OPS(s)->tenant_exists(s, slug);
}

void ob_store_on_first_use(ob_store *s, ob_db_first_use_fn fn, void *arg)
{
    OB_DB_CORE(s)->first_use = fn;
    OB_DB_CORE(s)->first_use_arg = arg;
}

/* The tenant whose first-use check this thread is running: its own acquires
 * of that tenant go straight through. */
static _Thread_local const char *checking;

/* Run the first-use check of a tenant not yet seen by this store. */
static int first_use(ob_store *s, const char *slug, const char *generation, ob_err *err)
{
    ob_db_store *core = OB_DB_CORE(s);
    if (!core->first_use || (checking && strcmp(checking, slug) == 0) || ob_db_core_seen(s, slug))
        return 0;
    const char *outer = checking;
    checking = slug;
    int rc = core->first_use(s, slug, generation, core->first_use_arg, err);
    checking = outer;
    if (rc == 0)
        ob_db_core_seen_add(s, slug);
    return rc;
}

int ob_db_first_use_by(ob_store *s, const char *slug, int (*fn)(void *arg, ob_err *err), void *arg, ob_err *err)
{
    const char *outer = checking;
    checking = slug;
    int rc = fn(arg, err);
    checking = outer;
    if (rc == 0 && OB_DB_CORE(s)->first_use) ob_db_core_seen_add(s, slug);
    return rc;
}

int ob_db_acquire(ob_store *s, const char *tenant, const char *generation, ob_db_mode mode,
                  ob_conn **out, ob_err *err)
{
    *out = NULL;
    /* Validate before a path or schema name is formed: a request names the tenant. */
    if (tenant && !ob_db_slug_valid(tenant))
        return ob_db_err(err, OB_E_NOT_FOUND, "no such tenant");
    if (tenant && *tenant && first_use(s, tenant, generation, err))
        return -1;
    return ob_db_core_acquire(s, tenant ? tenant : "", generation, mode, out, err);
}

int ob_db_each_tenant(ob_store *s, int (*fn)(const char *slug, void *ctx), void *ctx, ob_err *err)
{
    return OPS(s)->each_tenant(s, fn, ctx, err);
}

void ob_store_on_write(ob_store *s, ob_db_write_fn fn, void *arg)
{
    ob_db_store *core = OB_DB_CORE(s);
    core->on_write_arg = arg; /* before fn: a reader that sees fn sees its arg */
    core->on_write = fn;
}

int ob_db_tenant_stamp(ob_store *s, const char *slug, uint64_t *stamp)
{
    *stamp = 0;
    if (!slug || !ob_db_slug_valid(slug) || OPS(s)->engine != OB_DB_SQLITE)
        return 0;
    return ob_sqlite_tenant_stamp(s, slug, stamp);
}

void ob_db_release(ob_conn *c)
{
    if (!c)
        return;
    ob_db_conn *dc = OB_DB_CONN(c);
    ob_db_store *core = OB_DB_CORE(dc->store);
    bool told = dc->mode == OB_DB_WRITE && dc->slug[0];
    char slug[OB_DB_SLUG_MAX];
    if (told)
        ob_db_copy_part(slug, sizeof slug, dc->slug, strlen(dc->slug));
    ob_db_core_release(c);
    /* after the release: what was committed is visible to every reader */
    ob_db_write_fn fn = told ? core->on_write : NULL;
    if (fn)
        fn(slug, core->on_write_arg);
}

ob_db_engine ob_conn_engine(const ob_conn *c)
{
    return OPS(c)->engine;
}

const char *ob_conn_tenant(const ob_conn *c)
{
    /* no connection (a list query parsed on its own, as the query fuzzer
     * does): no tenant, so no tenant key; the caller's sealing fails cleanly */
    if (!c) return NULL;
    return ((const ob_db_conn *)(const void *)c)->slug;
}

const char *ob_stmt_tenant(const ob_stmt *st)
{
    return ((const ob_db_stmt *)(const void *)st)->conn->slug;
}

int ob_db_exec(ob_conn *c, const char *sql, ob_err *err)
{
    return OPS(c)->exec(c, sql, err);
}

int ob_db_template_load(ob_conn *c, const char *key, bool *loaded, ob_err *err)
{
    *loaded = false;
    if (ob_conn_engine(c) != OB_DB_SQLITE || OB_DB_CONN(c)->in_txn)
        return 0;
    OB_DB_CONN(c)->remeasure = true;
    return ob_sqlite_template_load(c, key, loaded, err);
}

void ob_db_template_save(ob_conn *c, const char *key)
{
    if (ob_conn_engine(c) == OB_DB_SQLITE && !OB_DB_CONN(c)->in_txn)
        ob_sqlite_template_save(c, key);
}

/* 256 MiB while loading, then the driver's default again (sqlite_conn.c). */
int ob_db_bulk(ob_conn *c, bool on, ob_err *err)
{
    if (ob_conn_engine(c) != OB_DB_SQLITE)
        return 0;
    OB_DB_CONN(c)->remeasure = true;
    return ob_db_exec(c, on ? "PRAGMA cache_size=-262144" : "PRAGMA cache_size=-" OB_SQLITE_CACHE_KIB_STR, err);
}

int ob_db_begin(ob_conn *c, ob_err *err)
{
    if (OB_DB_CONN(c)->in_txn || OPS(c)->txn_open(c))
        return ob_db_err(err, OB_E_INTERNAL, "a transaction is already open");
    return OPS(c)->begin(c, err);
}

int ob_db_commit(ob_conn *c, ob_err *err)
{
    if (!OPS(c)->txn_open(c)) {
        /* begun, and the engine ended it on its own (a failed statement, a
         * busy or full disk): the caller learns the write did not happen */
        bool was = OB_DB_CONN(c)->in_txn;
        OB_DB_CONN(c)->in_txn = false;
        if (was)
            return ob_db_err(err, OB_E_STORAGE,
                             "storage error: the transaction was rolled back by the database");
        return ob_db_err(err, OB_E_INTERNAL, "no transaction is open");
    }
    return OPS(c)->commit(c, err);
}

void ob_db_rollback(ob_conn *c)
{
    OPS(c)->rollback(c);
}

bool ob_db_in_txn(const ob_conn *c)
{
    /* True also when the engine already rolled back on its own, so the caller
     * still ends the transaction and learns from commit that it failed. */
    return OB_DB_CONN(c)->in_txn || OPS(c)->txn_open(c);
}

int ob_db_prepare(ob_conn *c, const char *sql, ob_stmt **out, ob_err *err)
{
    return ob_db_core_prepare(c, sql, out, err);
}

int64_t ob_db_changes(ob_conn *c)
{
    return OPS(c)->changes(c);
}

const char *ob_db_synchronous(ob_conn *c)
{
    return OPS(c)->synchronous(c);
}

int ob_db_check(ob_conn *c, char *result, size_t n, ob_err *err)
{
    return OPS(c)->check(c, result, n, err);
}

int ob_stmt_bind(ob_stmt *st, int idx, const ob_value *v, ob_err *err)
{
    return ob_db_core_bind(st, idx, v, err);
}

int ob_stmt_bind_text(ob_stmt *st, int idx, const char *s, ob_err *err)
{
    ob_value v = ob_v_text(s);
    return ob_db_core_bind(st, idx, &v, err);
}

int ob_stmt_bind_i64(ob_stmt *st, int idx, int64_t v, ob_err *err)
{
    ob_value iv = ob_v_int(v);
    return ob_db_core_bind(st, idx, &iv, err);
}

int ob_stmt_step(ob_stmt *st, ob_err *err)
{
    return ob_db_core_step(st, err);
}

int ob_stmt_ncols(ob_stmt *st)
{
    return OPS(st)->ncols(st);
}

const char *ob_stmt_col_name(ob_stmt *st, int i)
{
    return OPS(st)->col_name(st, i);
}

ob_vtype ob_stmt_col_type(ob_stmt *st, int i)
{
    return OPS(st)->col_type(st, i);
}

int64_t ob_stmt_col_i64(ob_stmt *st, int i)
{
    return OPS(st)->col_i64(st, i);
}

double ob_stmt_col_f64(ob_stmt *st, int i)
{
    return OPS(st)->col_f64(st, i);
}

const char *ob_stmt_col_text(ob_stmt *st, int i, size_t *n)
{
    return OPS(st)->col_text(st, i, n);
}

void ob_stmt_done(ob_stmt *st)
{
    if (st)
        ob_db_core_stmt_done(st);
}

int ob_db_move_tenant(ob_store *s, const char *slug, const ob_move_opts *o, ob_move_report *rep, ob_err *err)
{
    memset(rep, 0, sizeof *rep);
    if (ob_store_engine(s) != OB_DB_POSTGRES)
        return ob_db_err(err, OB_E_UNPROCESSABLE,
                         "tenant placements are PostgreSQL's: a SQLite store keeps every tenant in its data directory");
    if (!ob_db_slug_valid(slug))
        return ob_db_err(err, OB_E_BAD_REQUEST, "invalid tenant slug");
    if (!o->to_url || !*o->to_url)
        return ob_db_err(err, OB_E_BAD_REQUEST, "the target server's URL is required");
    return ob_pg_move_tenant(s, slug, o, rep, err);
}
