/* list.c - running a parsed list query. */
#include <string.h>

#include "base/base.h"
#include "db/dialect.h"
#include "schema/ddl.h"
#include "schema/list.h"
#include "schema/reads.h"
#include "schema/rowjson.h"
#include "schema/sql.h"
#include "base/banned.h"

typedef struct params {
    ob_value *v;
    int n, cap;
    ob_arena *a;
} params;

static void push(params *p, ob_value v)
{
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        ob_value *nv = ob_arena_alloc(p->a, sizeof(ob_value) * (size_t)cap);
        if (p->n) memcpy(nv, p->v, sizeof(ob_value) * (size_t)p->n);
        p->v = nv;
        p->cap = cap;
    }
    p->v[p->n++] = v;
}

static const char *op_sql(ob_fop op)
{
    switch (op) {
    case OB_OP_NE: return "<>";
    case OB_OP_GT: return ">";
    case OB_OP_GTE: return ">=";
    case OB_OP_LT: return "<";
    case OB_OP_LTE: return "<=";
    default: return "=";
    }
}

/* '*' is the wildcard; % and _ are literal. */
static const char *like_pattern(ob_arena *a, const char *s)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, a, strlen(s) + 8);
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\') ob_sb_addc(&sb, '\\');
        ob_sb_addc(&sb, *s == '*' ? '%' : *s);
    }
    return sb.buf;
}

static void add_filter(ob_sb *sql, params *p, const ob_table *t, const ob_filter *f, ob_db_engine e)
{
    const char *name = t->cols[f->col]->name;
    switch (f->op) {
    case OB_OP_NULL:
        ob_sb_addf(sql, " AND \"%s\" IS %sNULL", name, f->is_null ? "" : "NOT ");
        break;
    case OB_OP_IN:
        ob_sb_addf(sql, " AND \"%s\" IN (", name);
        for (int i = 0; i < f->nvals; i++) {
            ob_sb_adds(sql, i ? ",?" : "?");
            push(p, f->vals[i]);
        }
        ob_sb_addc(sql, ')');
        break;
    case OB_OP_LIKE:
        ob_sb_addf(sql, " AND \"%s\" %s ? ESCAPE '\\'", name, ob_dialect_of(e)->ilike);
        push(p, ob_v_text(like_pattern(p->a, f->vals[0].s)));
        break;
    case OB_OP_NE: /* null counts as different */
        ob_sb_addf(sql, " AND (\"%s\" <> ? OR \"%s\" IS NULL)", name, name);
        push(p, f->vals[0]);
        break;
    default:
        ob_sb_addf(sql, " AND \"%s\" %s ?", name, op_sql(f->op));
        push(p, f->vals[0]);
    }
}

/* NULLS FIRST/LAST only where a null can occur. PostgreSQL's btree order is
 * ASC NULLS LAST, so it reads an index backwards only for plain DESC:
 * "created_at DESC NULLS LAST" made it read and sort every matching row
 * (80,000 for a status filter). A column NOT NULL in the table's DDL
 * (schema/ddl.c column_def: the id, every required column that is not
 * generated) gets no clause, which changes nothing but the plan. */
static const char *order_sql(const ob_column *c, bool desc, bool pg_search)
{
    bool never_null = c->type == OB_F_ID || (!c->gen && (c->flags & OB_REQUIRED));
    /* A PostgreSQL search outside pg_window keeps the clause, and so its
     * bitmap scan of the GIN index and top-N sort: offered an index walk, the
     * planner takes it for a word it has no statistics for (it guesses some
     * 4,000 matches in a million rows), and walks the whole index when the
     * word is rare or absent: 5 s at 1M rows (bench/results.md). */
    if (never_null && !pg_search) return desc ? "DESC" : "ASC";
    return desc ? "DESC NULLS LAST" : "ASC NULLS FIRST";
}

/* Rows strictly after the cursor in ORDER BY c ASC NULLS FIRST / DESC NULLS LAST. */
static void add_keyset(ob_sb *sql, params *p, const ob_table *t, const ob_listq *q)
{
    ob_sb_adds(sql, " AND (");
    for (int k = 0; k < q->nsort; k++) {
        if (k) ob_sb_adds(sql, " OR ");
        ob_sb_addc(sql, '(');
        for (int j = 0; j < k; j++) {
            const char *n = t->cols[q->sort[j]]->name;
            if (q->after[j].t == OB_V_NULL) {
                ob_sb_addf(sql, "\"%s\" IS NULL AND ", n);
            } else {
                ob_sb_addf(sql, "\"%s\" = ? AND ", n);
                push(p, q->after[j]);
            }
        }
        const char *n = t->cols[q->sort[k]]->name;
        bool null = q->after[k].t == OB_V_NULL;
        if (!q->desc[k]) {
            if (null) {
                ob_sb_addf(sql, "\"%s\" IS NOT NULL", n);
            } else {
                ob_sb_addf(sql, "\"%s\" > ?", n);
                push(p, q->after[k]);
            }
        } else {
            if (null) {
                ob_sb_adds(sql, "0 = 1");
            } else {
                ob_sb_addf(sql, "(\"%s\" < ? OR \"%s\" IS NULL)", n, n);
                push(p, q->after[k]);
            }
        }
        ob_sb_addc(sql, ')');
    }
    ob_sb_addc(sql, ')');
}

/* Words become quoted FTS5 strings joined by AND; operators are not passed through. */
static const char *fts_query(ob_arena *a, const char *q)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, a, strlen(q) + 16);
    const char *p = q;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p) break;
        if (sb.len) ob_sb_addc(&sb, ' ');
        ob_sb_addc(&sb, '"');
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            if (*p == '"') ob_sb_addc(&sb, '"');
            ob_sb_addc(&sb, *p++);
        }
        ob_sb_addc(&sb, '"');
    }
    return sb.len ? sb.buf : NULL;
}

/* SQLite, q= in a newest-first default order: walk the FTS5 doclist from its
 * highest rowid down and stop at the page. The old plan collected every match
 * and sorted it, so its cost grew with the table (1% of 1M rows is 10,000
 * rows). Rowid order is the order rows were stored, so these results come
 * "most recently added first" (docs/api.md): the default order except for rows
 * stored out of their creation order (concurrent creates in the same instant,
 * rows put back by a restore). An explicit sort= keeps the exact order. */
static bool fts_walk(const ob_table *t, const ob_listq *q)
{
    return q->sort_default && q->nsort == 2 && q->desc[0] && q->desc[1] && q->sort[1] == t->id_col &&
           strcmp(t->cols[q->sort[0]]->name, "created_at") == 0;
}

/* The matches as ob_m(ob_r), newest rowid first; after a cursor only rowids
 * below the cursor row's (or, when that row is gone, at or below the row
 * stored just before it: ids are UUIDv7, increasing with creation). */
static void fts_walk_from(ob_sb *sql, params *p, const ob_table *t, const ob_listq *q, const char *fq)
{
    const char *n = t->name;
    long long lo = ob_ddl_fts_lo(t);
    /* the database's full-text table holds t's rows at lo + rowid (ddl.c);
     * one lower and one upper bound, which FTS5 both uses to seek (with a
     * second upper bound it would seek by one and filter by the other) */
    ob_sb_addf(sql, "(SELECT rowid AS ob_r FROM ob_fts WHERE ob_fts MATCH ? AND rowid >= %lld", lo);
    push(p, ob_v_text(fq));
    if (q->after) {
        ob_sb_addf(sql,
                   " AND rowid < %lld + coalesce((SELECT rowid FROM \"%s\" WHERE \"id\" = ?), "
                   "(SELECT rowid FROM \"%s\" WHERE \"id\" < ? ORDER BY \"id\" DESC LIMIT 1) + 1)",
                   lo, n, n);
        push(p, q->after[q->nsort - 1]);
        push(p, q->after[q->nsort - 1]);
    } else {
        ob_sb_addf(sql, " AND rowid <= %lld", ob_ddl_fts_hi(t));
    }
    /* ob_r stays the full-text rowid so that ORDER BY ob_r is the index's own order */
    ob_sb_addf(sql, ") AS ob_m JOIN \"%s\" ON \"%s\".rowid = ob_m.ob_r - %lld", n, n, lo);
}

/* PostgreSQL, q= in a newest-first default order on a table of at least
 * PG_WINDOW_MIN_ROWS rows (the planner's estimate): the matches among the newest
 * PG_WINDOW rows the list would show, read newest first, filtered by the stored
 * tsvector (ddl.c pg_tsv_def) and stopped at the page. A word in one row of a
 * hundred fills a page of 50 after about 5,000 rows, whatever the table's
 * size; the plain search reads every match of the GIN index and sorts them
 * (10,000 random rows at 1M). When the window holds less than a page the plain
 * search runs instead (ob_list_run): a rare word has few matches to sort. The
 * window is a prefix of the list's own order, so its matches are the first
 * ones of the whole search. A smaller table is searched the plain way: a
 * walk of thousands of rows costs more than reading and sorting its few
 * hundred matches (an absent word at 10k rows: 13 ms through the window, 0.3
 * ms without, bench/results.md); for a word in 1% of the rows the two cost
 * the same near 50,000 rows (a match read from the GIN index, at random in the
 * table, costs about ten rows walked). The size is checked inside the window
 * statement, so a small table pays one extra statement that reads no row. */
#define PG_WINDOW 10000
#define PG_WINDOW_MIN_ROWS 50000

static bool pg_window(ob_db_engine e, const ob_table *t, const ob_listq *q)
{
    return !ob_dialect_of(e)->fts5 && fts_walk(t, q);
}

/* deleted, scope and filters; "t" names the table (the window's inner query) */
static void add_where(ob_ctx *ctx, ob_sb *sql, params *p, const ob_table *t, const ob_listq *q, ob_db_engine e)
{
    if (t->deleted_col >= 0) ob_sb_adds(sql, " AND \"deleted_at\" IS NULL");
    ob_value scope[OB_SQL_SCOPE_MAX];
    int nscope = ob_sql_scope(ctx, t, sql, scope);
    for (int i = 0; i < nscope; i++) push(p, scope[i]);
    for (int i = 0; i < q->nf; i++) add_filter(sql, p, t, &q->f[i], e);
}

static void add_order(ob_sb *sql, const ob_table *t, const ob_listq *q, bool pg_search)
{
    ob_sb_adds(sql, " ORDER BY ");
    for (int i = 0; i < q->nsort; i++)
        ob_sb_addf(sql, "%s\"%s\" %s", i ? ", " : "", t->cols[q->sort[i]]->name,
                   order_sql(t->cols[q->sort[i]], q->desc[i], pg_search));
}

static void pg_window_sql(ob_ctx *ctx, ob_sb *sql, params *p, const ob_table *t, const ob_listq *q)
{
    ob_db_engine e = ob_conn_engine(ctx->db);
    const char *n = t->name;
    /* the inner query is a plain list (its plan is a list's: created_at
     * backwards); a LIMIT keeps PostgreSQL from pushing the match into it */
    ob_sb_addf(sql, "SELECT %s FROM (SELECT %s, \"%s\".\"%s\" FROM \"%s\" WHERE 1 = 1", ob_sql_cols(t), ob_sql_cols(t),
               n, OB_DDL_PG_TSV, n);
    add_where(ctx, sql, p, t, q, e);
    if (q->after) add_keyset(sql, p, t, q);
    add_order(sql, t, q, false);
    /* same ORDER BY outside, so the rows stream in the inner order, unsorted */
    ob_sb_addf(sql, " LIMIT %d) AS \"%s\" WHERE \"%s\".\"%s\" @@ plainto_tsquery('simple', ?)", PG_WINDOW, n, n,
               OB_DDL_PG_TSV);
    push(p, ob_v_text(q->q));
    ob_sb_addf(sql, " AND (SELECT reltuples FROM pg_class WHERE oid = to_regclass('\"%s\"')) >= %d", n,
               PG_WINDOW_MIN_ROWS);
    add_order(sql, t, q, false);
    ob_sb_adds(sql, " LIMIT ?");
    push(p, ob_v_int(q->limit + 1));
}

static int prepare_bound(ob_ctx *ctx, const char *sql, const params *p, ob_stmt **st, ob_err *err)
{
    if (ob_db_prepare(ctx->db, sql, st, err) != 0) return -1;
    for (int i = 0; i < p->n; i++)
        if (ob_stmt_bind(*st, i + 1, &p->v[i], err) != 0) {
            ob_stmt_done(*st);
            return -1;
        }
    return 0;
}

/* The window's rows, up to limit + 1, into *rows; *n their count. */
static int pg_window_rows(ob_ctx *ctx, const ob_table *t, const ob_listq *q, ob_row ***rows, int *n, ob_err *err)
{
    params p = {.a = ctx->arena};
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 1024);
    pg_window_sql(ctx, &sql, &p, t, q);
    ob_stmt *st;
    if (prepare_bound(ctx, sql.buf, &p, &st, err) != 0) return -1;
    *rows = ob_arena_alloc(ctx->arena, sizeof(ob_row *) * (size_t)(q->limit + 1));
    *n = 0;
    int rc = 0;
    while (*n <= q->limit && (rc = ob_stmt_step(st, err)) == 1) {
        ob_row *r = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, r, st);
        (*rows)[(*n)++] = r;
    }
    ob_stmt_done(st);
    return *n <= q->limit && rc < 0 ? -1 : 0;
}

int ob_list_run(ob_ctx *ctx, const ob_table *t, const ob_listq *q, ob_jsonw *w, ob_err *err)
{
    ob_db_engine e = ob_conn_engine(ctx->db);
    const char *fq = q->q ? fts_query(ctx->arena, q->q) : NULL;
    if (fq && pg_window(e, t, q)) {
        ob_row **rows;
        int n;
        if (pg_window_rows(ctx, t, q, &rows, &n, err) != 0) return -1;
        if (n > q->limit) { /* a full page from the window: the answer */
            ob_jw_obj_open(w);
            ob_jw_key(w, "data");
            ob_jw_arr_open(w);
            for (int i = 0; i < q->limit; i++) {
                ob_row_json(ctx, w, rows[i]);
                ob_reads_note(ctx, t, ob_row_id(rows[i]));
            }
            ob_jw_arr_close(w);
            ob_jw_kstr(w, "next_cursor", ob_listq_cursor(ctx->arena, q, rows[q->limit - 1]));
            ob_jw_obj_close(w);
            return 0;
        }
    }
    params p = {.a = ctx->arena};
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 512);
    bool walk = fq && ob_dialect_of(e)->fts5 && fts_walk(t, q);
    ob_sb_addf(&sql, "SELECT %s FROM ", ob_sql_cols(t));
    if (walk) fts_walk_from(&sql, &p, t, q, fq);
    else ob_sb_addf(&sql, "\"%s\"", t->name);
    ob_sb_adds(&sql, " WHERE 1 = 1");
    add_where(ctx, &sql, &p, t, q, e);
    if (fq && !ob_dialect_of(e)->fts5) {
        /* every word must occur, like the quoted FTS5 terms */
        ob_sb_addf(&sql, " AND \"%s\".\"%s\" @@ plainto_tsquery('simple', ?)", t->name, OB_DDL_PG_TSV);
        push(&p, ob_v_text(q->q));
    } else if (fq && !walk) {
        ob_sb_addf(&sql, " AND \"%s\".rowid IN (SELECT rowid - %lld FROM ob_fts WHERE ob_fts MATCH ? AND rowid >= %lld "
                   "AND rowid <= %lld)", t->name, ob_ddl_fts_lo(t), ob_ddl_fts_lo(t), ob_ddl_fts_hi(t));
        push(&p, ob_v_text(fq));
    }
    if (walk) {
        ob_sb_adds(&sql, " ORDER BY ob_m.ob_r DESC");
    } else {
        if (q->after) add_keyset(&sql, &p, t, q);
        add_order(&sql, t, q, fq && !ob_dialect_of(e)->fts5);
    }
    ob_sb_adds(&sql, " LIMIT ?");
    push(&p, ob_v_int(q->limit + 1));

    ob_stmt *st;
    if (prepare_bound(ctx, sql.buf, &p, &st, err) != 0) return -1;
    ob_jw_obj_open(w);
    ob_jw_key(w, "data");
    ob_jw_arr_open(w);
    ob_row *row = ob_row_new(ctx->arena, t);
    int n = 0, rc;
    const char *next = NULL;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (n == q->limit) {
            next = ob_listq_cursor(ctx->arena, q, row);
            break;
        }
        ob_row_load(ctx->arena, row, st);
        ob_row_json(ctx, w, row);
        ob_reads_note(ctx, t, ob_row_id(row));
        n++;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    ob_jw_arr_close(w);
    ob_jw_kstr(w, "next_cursor", next);
    ob_jw_obj_close(w);
    return 0;
}
