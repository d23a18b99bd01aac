/* sql.c - generated statements of the generic engine. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "db/secrets.h"
#include "schema/sql.h"
#include "base/banned.h"

typedef struct table_sql {
    char *cols, *by_id, *insert, *update;
} table_sql;

static table_sql *cache;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static char *build_select_cols(const ob_table *t)
{
    ob_sb sb;
    ob_sb_init(&sb, 256);
    for (int i = 0; i < t->ncols; i++) ob_sb_addf(&sb, "%s\"%s\"", i ? "," : "", t->cols[i]->name);
    return ob_sb_detach(&sb, NULL);
}

static void build(void)
{
    int n = ob_registry_count();
    cache = calloc((size_t)n, sizeof *cache);
    if (!cache) abort();
    for (int i = 0; i < n; i++) {
        const ob_table *t = ob_registry_at(i);
        table_sql *c = &cache[i];
        ob_sb sb;
        c->cols = build_select_cols(t);
        ob_sb_init(&sb, 256);
        ob_sb_addf(&sb, "SELECT %s FROM \"%s\" WHERE \"id\" = ?", c->cols, t->name);
        c->by_id = ob_sb_detach(&sb, NULL);
        ob_sb_addf(&sb, "INSERT INTO \"%s\" (", t->name);
        bool first_ins = true;
        for (int k = 0; k < t->ncols; k++) {
            if (t->cols[k]->gen) continue;
            ob_sb_addf(&sb, "%s\"%s\"", first_ins ? "" : ",", t->cols[k]->name);
            first_ins = false;
        }
        ob_sb_adds(&sb, ") VALUES (");
        first_ins = true;
        for (int k = 0; k < t->ncols; k++) {
            if (t->cols[k]->gen) continue;
            ob_sb_adds(&sb, first_ins ? "?" : ",?");
            first_ins = false;
        }
        ob_sb_addc(&sb, ')');
        c->insert = ob_sb_detach(&sb, NULL);
        ob_sb_addf(&sb, "UPDATE \"%s\" SET ", t->name);
        bool first = true;
        for (int k = 0; k < t->ncols; k++) {
            if (k == t->id_col || t->cols[k]->gen) continue;
            ob_sb_addf(&sb, "%s\"%s\" = ?", first ? "" : ", ", t->cols[k]->name);
            first = false;
        }
        ob_sb_adds(&sb, " WHERE \"id\" = ?");
        if (t->version_col >= 0) ob_sb_adds(&sb, " AND \"version\" = ?");
        c->update = ob_sb_detach(&sb, NULL);
    }
}

static table_sql *sql_of(const ob_table *t)
{
    pthread_once(&once, build);
    for (int i = 0; i < ob_registry_count(); i++)
        if (ob_registry_at(i) == t) return &cache[i];
    abort();
}

const char *ob_sql_cols(const ob_table *t)
{
    return sql_of(t)->cols;
}

const char *ob_sql_select_by_id(const ob_table *t)
{
    return sql_of(t)->by_id;
}

int ob_sql_bind_value(ob_stmt *st, int idx, const ob_value *v, ob_err *err)
{
    return ob_stmt_bind(st, idx, v, err);
}

/* A row rule's value, typed as its column (checked by the registry). */
static ob_value rule_value(const ob_table *t, const ob_row_rule *rr)
{
    const ob_column *c = t->cols[ob_table_col(t, rr->col)];
    if (c->type == OB_F_BOOL) return ob_v_bool(strcmp(rr->equals, "true") == 0);
    if (c->type == OB_F_INT) {
        int64_t x = 0;
        ob_parse_i64(rr->equals, &x);
        return ob_v_int(x);
    }
    return ob_v_text(rr->equals);
}

int ob_sql_scope(const ob_ctx *ctx, const ob_table *t, ob_sb *sql, ob_value *params)
{
    int n = 0;
    /* rows of their own only (an API key and its creator), unless the principal may reach all */
    if (t->res->own_col && ctx->who && !ob_ctx_can(ctx, t->res->perm_others)) {
        ob_sb_addf(sql, " AND \"%s\".\"%s\" = ?", t->name, t->res->own_col);
        params[n++] = ob_v_text(ctx->who->user_id);
    }
    if (!ob_ctx_confined(ctx)) return n;
    const char *scope = t->res->customer_scope;
    for (int i = 0; i < t->res->ncustomer_rows; i++) {
        const ob_row_rule *rr = &t->res->customer_rows[i];
        ob_sb_addf(sql, " AND \"%s\".\"%s\" = ?", t->name, rr->col);
        params[n++] = rule_value(t, rr);
    }
    if (!scope && (t->res->flags & OB_RES_SHARED)) return n;
    if (!scope) {
        /* a customer user reaches only tables tied to a customer */
        ob_sb_adds(sql, " AND 0 = 1");
        return n;
    }
    params[n++] = ob_v_text(ctx->who->customer_id);
    const char *dot = strchr(scope, '.');
    if (!dot) {
        ob_sb_addf(sql, " AND \"%s\".\"%s\" = ?", t->name, scope);
        return n;
    }
    /* "ref_col.col": the row's ref_col points at a row whose col is the customer */
    int rc = ob_table_col(t, ob_arena_strndup(ctx->arena, scope, (size_t)(dot - scope)));
    const char *ref = rc >= 0 ? t->cols[rc]->ref : NULL;
    if (!ref) abort();
    ob_sb_addf(sql, " AND \"%s\".\"%.*s\" IN (SELECT \"id\" FROM \"%s\" WHERE \"%s\" = ?", t->name,
               (int)(dot - scope), scope, ref, dot + 1);
    /* the parent's own rules hold too: a message of a ticket the customer
     * cannot see is not theirs to see */
    const ob_table *pt = ob_registry_find(ref);
    for (int i = 0; pt && i < pt->res->ncustomer_rows; i++) {
        const ob_row_rule *rr = &pt->res->customer_rows[i];
        ob_sb_addf(sql, " AND \"%s\" = ?", rr->col);
        params[n++] = rule_value(pt, rr);
    }
    ob_sb_addc(sql, ')');
    return n;
}

/* Bind the scope's parameters from position first on. */
static int bind_scope(ob_stmt *st, int first, const ob_value *params, int n, ob_err *err)
{
    for (int i = 0; i < n; i++)
        if (ob_stmt_bind(st, first + i, &params[i], err) != 0) return -1;
    return 0;
}

int ob_sql_exists(ob_ctx *ctx, const ob_table *t, const char *id, ob_err *err)
{
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 128);
    ob_sb_addf(&sql, "SELECT 1 FROM \"%s\" WHERE \"id\" = ?", t->name);
    if (t->deleted_col >= 0) ob_sb_adds(&sql, " AND \"deleted_at\" IS NULL");
    ob_value params[OB_SQL_SCOPE_MAX];
    /* references to tables that are not customer data (categories, users)
     * are checked tenant-wide; customer data and rule-bound rows in scope */
    int np = t->res->customer_scope || t->res->ncustomer_rows ? ob_sql_scope(ctx, t, &sql, params) : 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
    if (ob_stmt_bind_text(st, 1, id, err) != 0 || bind_scope(st, 2, params, np, err) != 0) {
        ob_stmt_done(st);
        return -1;
    }
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    return rc;
}

static int load(ob_ctx *ctx, const ob_table *t, const char *id, bool scoped, ob_row **out, ob_err *err)
{
    if (!id || !ob_uuid_valid(id)) return ob_err_set(err, OB_E_NOT_FOUND, NULL);
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 256);
    ob_sb_adds(&sql, ob_sql_select_by_id(t));
    if (t->deleted_col >= 0) ob_sb_adds(&sql, " AND \"deleted_at\" IS NULL");
    ob_value params[OB_SQL_SCOPE_MAX];
    int np = scoped ? ob_sql_scope(ctx, t, &sql, params) : 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
    char lower[OB_UUID_LEN];
    for (int i = 0; i < 37; i++) lower[i] = (char)((id[i] >= 'A' && id[i] <= 'F') ? id[i] + 32 : id[i]);
    if (ob_stmt_bind_text(st, 1, lower, err) != 0 || bind_scope(st, 2, params, np, err) != 0) {
        ob_stmt_done(st);
        return -1;
    }
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        *out = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, *out, st);
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (rc == 0) return ob_err_set(err, OB_E_NOT_FOUND, "no such %s record", t->name);
    return 0;
}

int ob_sql_load(ob_ctx *ctx, const ob_table *t, const char *id, ob_row **out, ob_err *err)
{
    return load(ctx, t, id, true, out, err);
}

int ob_sql_load_internal(ob_ctx *ctx, const ob_table *t, const char *id, ob_row **out, ob_err *err)
{
    return load(ctx, t, id, false, out, err);
}

int ob_sql_run(ob_conn *c, const char *sql, const ob_value *vals, int n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(c, sql, &st, err) != 0) return -1;
    for (int i = 0; i < n; i++)
        if (ob_stmt_bind(st, i + 1, &vals[i], err) != 0) {
            ob_stmt_done(st);
            return -1;
        }
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

int ob_sql_seq_take(ob_ctx *ctx, const char *name, int64_t n, int64_t *last, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "INSERT INTO sequences (id, created_at, name, value) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (name) DO UPDATE SET value = sequences.value + excluded.value RETURNING value",
                      &st, err) != 0)
        return -1;
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_stmt_bind_text(st, 1, id, err);
    ob_stmt_bind_text(st, 2, ctx->now, err);
    ob_stmt_bind_text(st, 3, name, err);
    ob_stmt_bind_i64(st, 4, n, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *last = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    if (rc == 0) return ob_err_set(err, OB_E_INTERNAL, "sequence \"%s\" returned nothing", name);
    return rc < 0 ? -1 : 0;
}

int ob_sql_seq_next(ob_ctx *ctx, const char *name, int64_t *out, ob_err *err)
{
    return ob_sql_seq_take(ctx, name, 1, out, err);
}

/* Generated columns are computed by the engine: read them back into the row. */
static int reload_generated(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const ob_table *t = row->t;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, ob_sql_select_by_id(t), &st, err) != 0) return -1;
    ob_stmt_bind(st, 1, &row->v[t->id_col], err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) {
        ob_row *fresh = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, fresh, st);
        for (int i = 0; i < t->ncols; i++)
            if (t->cols[i]->gen) {
                row->v[i] = fresh->v[i];
                row->set[i] = true;
            }
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* The value column i is stored as: sealed for an encrypted column (a value
 * already in sealed form is one that did not open when loaded, kept as it
 * was), the keyed hash of the named column's plaintext for a lookup hash
 * (also set in the row, so the caller's row matches what is stored). */
static int stored_value(ob_ctx *ctx, ob_row *row, int i, ob_value *out, ob_err *err)
{
    const ob_table *t = row->t;
    const ob_column *c = t->cols[i];
    *out = row->set[i] ? row->v[i] : ob_v_null();
    if (c->blind_of) {
        int of = ob_table_col(t, c->blind_of);
        if (!row->set[of] || row->v[of].t != OB_V_TEXT) {
            *out = ob_v_null();
        } else {
            char h[65];
            if (ob_secret_blind(h, ob_conn_tenant(ctx->db), t->name, c->blind_of, row->v[of].s, row->v[of].n, err) != 0)
                return -1;
            *out = ob_v_text(ob_arena_strdup(ctx->arena, h));
        }
        row->v[i] = *out;
        row->set[i] = true;
        return 0;
    }
    if (!(c->flags & OB_ENCRYPTED) || out->t != OB_V_TEXT || ob_secret_looks_sealed(out->s, out->n)) return 0;
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, out->n * 2 + 64);
    if (ob_secret_seal(&sb, ob_conn_tenant(ctx->db), t->name, ob_row_id(row), c->name, out->s, out->n, err) != 0)
        return -1;
    *out = ob_v_textn(sb.buf, sb.len);
    return 0;
}

int ob_sql_insert(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    const ob_table *t = row->t;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql_of(t)->insert, &st, err) != 0) return -1;
    int idx = 1;
    for (int i = 0; i < t->ncols; i++) {
        ob_value v;
        if (t->cols[i]->gen) continue;
        if (stored_value(ctx, (ob_row *)row, i, &v, err) != 0 || ob_stmt_bind(st, idx++, &v, err) != 0) {
            ob_stmt_done(st);
            return -1;
        }
    }
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc < 0 && !err->resource[0]) snprintf(err->resource, sizeof err->resource, "%s", t->name);
    if (rc >= 0 && t->ngen) return reload_generated(ctx, (ob_row *)row, err);
    return rc < 0 ? -1 : 0;
}

int ob_sql_update(ob_ctx *ctx, const ob_row *row, int64_t old_version, ob_err *err)
{
    const ob_table *t = row->t;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql_of(t)->update, &st, err) != 0) return -1;
    int idx = 1;
    for (int i = 0; i < t->ncols; i++) {
        if (i == t->id_col || t->cols[i]->gen) continue;
        ob_value v;
        if (stored_value(ctx, (ob_row *)row, i, &v, err) != 0) {
            ob_stmt_done(st);
            return -1;
        }
        ob_stmt_bind(st, idx++, &v, err);
    }
    ob_stmt_bind(st, idx++, &row->v[t->id_col], err);
    if (t->version_col >= 0) ob_stmt_bind_i64(st, idx++, old_version, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (ob_db_changes(ctx->db) != 1) return ob_err_set(err, OB_E_VERSION, NULL);
    return t->ngen ? reload_generated(ctx, (ob_row *)row, err) : 0;
}

int ob_sql_delete(ob_ctx *ctx, const ob_table *t, const char *id, ob_err *err)
{
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 64);
    ob_sb_addf(&sql, "DELETE FROM \"%s\" WHERE \"id\" = ?", t->name);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, id, err);
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc < 0 && err->code == OB_E_UNPROCESSABLE) {
        ob_err_set(err, OB_E_IN_USE, "the %s record is referenced by other records", t->name);
    }
    return rc < 0 ? -1 : 0;
}

int ob_sql_texts(ob_ctx *ctx, ob_stmt *st, const char ***out, size_t *n, ob_err *err)
{
    const char **v = NULL;
    size_t cap = 0;
    int rc;
    *n = 0;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            const char **grown = ob_arena_alloc(ctx->arena, cap * sizeof *grown);
            if (*n) memcpy(grown, v, *n * sizeof *grown);
            v = grown;
        }
        const char *t = ob_stmt_col_text(st, 0, NULL);
        v[(*n)++] = t ? ob_arena_strdup(ctx->arena, t) : NULL;
    }
    ob_stmt_done(st);
    *out = v;
    return rc < 0 ? -1 : 0;
}

/* The INSERT of n rows of t (arena): the one-row text with n - 1 more
 * parenthesised groups of placeholders. */
static const char *insert_n(ob_ctx *ctx, const ob_table *t, int n)
{
    const char *one = sql_of(t)->insert, *values = strstr(one, ") VALUES (");
    const char *group = values + strlen(") VALUES ");
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, strlen(one) + (size_t)n * (strlen(group) + 1));
    ob_sb_adds(&sb, one);
    for (int i = 1; i < n; i++) {
        ob_sb_addc(&sb, ',');
        ob_sb_adds(&sb, group);
    }
    return sb.buf;
}

int ob_sql_insert_many(ob_ctx *ctx, ob_row *const *rows, int n, ob_err *err)
{
    if (n <= 0) return 0;
    const ob_table *t = rows[0]->t;
    if (t->ngen) return ob_err_set(err, OB_E_INTERNAL, "\"%s\" has generated columns: insert its rows one by one", t->name);
    for (int done = 0; done < n;) {
        int k = OB_SQL_INSERT_MANY_MAX;
        while (k > n - done) k /= 2;
        ob_stmt *st;
        if (ob_db_prepare(ctx->db, insert_n(ctx, t, k), &st, err) != 0) return -1;
        int idx = 1;
        for (int r = done; r < done + k; r++) {
            if (rows[r]->t != t) {
                ob_stmt_done(st);
                return ob_err_set(err, OB_E_INTERNAL, "rows of several tables in one insert");
            }
            for (int i = 0; i < t->ncols; i++) {
                ob_value v;
                if (stored_value(ctx, rows[r], i, &v, err) != 0 || ob_stmt_bind(st, idx++, &v, err) != 0) {
                    ob_stmt_done(st);
                    return -1;
                }
            }
        }
        int rc = ob_stmt_step(st, err);
        ob_stmt_done(st);
        if (rc < 0) {
            if (!err->resource[0]) snprintf(err->resource, sizeof err->resource, "%s", t->name);
            return -1;
        }
        done += k;
    }
    return 0;
}
