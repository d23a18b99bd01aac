/* ledger.c - bounded ledgers: an entry moves its parent's balances by one
 * conditional UPDATE, or is refused and writes nothing.
 *
 * The UPDATE carries the bounds in its WHERE clause, written over the new
 * values ("b" + delta), so the database decides atomically: on SQLite the
 * tenant's single writer serializes entries; on PostgreSQL the row lock taken
 * by UPDATE makes a concurrent entry re-check the WHERE against the committed
 * balance. Either way, of two entries racing for the last unit exactly one
 * finds its bounds holding. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "schema/ledger.h"
#include "schema/sql.h"
#include "base/banned.h"

/* The delta of each parent column for this entry; returns how many. */
static int deltas(const ob_table *t, const ob_row *entry, const char **cols, int64_t *amounts)
{
    const ob_ledger *l = t->res->ledger;
    const char *kind = l->kind ? ob_row_text_at(entry, ob_row_col(entry, l->kind)) : NULL;
    int ai = ob_table_col(t, l->amount);
    int64_t amount = entry->v[ai].i;
    int n = 0;
    for (int i = 0; i < l->nmoves; i++) {
        const ob_ledger_move *m = &l->moves[i];
        if (m->when && (!kind || strcmp(m->when, kind) != 0)) continue;
        int k = 0;
        while (k < n && strcmp(cols[k], m->balance) != 0) k++;
        if (k == n) {
            cols[n] = m->balance;
            amounts[n++] = 0;
        }
        amounts[k] += m->sign * amount;
    }
    return n;
}

/* "b" + ? for a moved column, "b" for another; its delta goes to params. */
static void new_value(ob_sb *sql, const char *col, const char **cols, const int64_t *amounts, int n,
                      const ob_column *c, ob_value *params, int *np)
{
    for (int k = 0; k < n; k++)
        if (strcmp(cols[k], col) == 0) {
            ob_sb_addf(sql, "(\"%s\" + ?)", col);
            params[(*np)++] = c->type == OB_F_DECIMAL ? ob_v_dec(amounts[k], ob_col_scale(c)) : ob_v_int(amounts[k]);
            return;
        }
    ob_sb_addf(sql, "\"%s\"", col);
}

int ob_ledger_post(ob_ctx *ctx, const ob_row *entry, ob_err *err)
{
    const ob_table *t = entry->t;
    const ob_ledger *l = t->res->ledger;
    const ob_table *pt = ob_registry_find(t->cols[ob_table_col(t, l->parent)]->ref);
    const char *cols[OB_LEDGER_MAX_BALANCES];
    int64_t amounts[OB_LEDGER_MAX_BALANCES];
    int n = deltas(t, entry, cols, amounts);
    if (n == 0) return 0; /* an entry of a kind that moves nothing (a note in the ledger) */

    ob_value params[4 * OB_LEDGER_MAX_BALANCES + 8];
    int np = 0;
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 256);
    ob_sb_addf(&sql, "UPDATE \"%s\" SET ", pt->name);
    for (int k = 0; k < n; k++) {
        ob_sb_addf(&sql, "%s\"%s\" = ", k ? ", " : "", cols[k]);
        new_value(&sql, cols[k], cols, amounts, n, pt->cols[ob_table_col(pt, cols[k])], params, &np);
    }
    if (pt->version_col >= 0) ob_sb_adds(&sql, ", \"version\" = \"version\" + 1");
    if (pt->updated_col >= 0) {
        ob_sb_adds(&sql, ", \"updated_at\" = ?");
        params[np++] = ob_v_text(ctx->now);
    }
    ob_sb_adds(&sql, " WHERE \"id\" = ?");
    params[np++] = ob_v_text(ob_row_text_at(entry, ob_row_col(entry, l->parent)));
    if (pt->deleted_col >= 0) ob_sb_adds(&sql, " AND \"deleted_at\" IS NULL");
    for (int i = 0; i < l->nbounds; i++) {
        const ob_ledger_bound *b = &l->bounds[i];
        const ob_column *lc = pt->cols[ob_table_col(pt, b->left)];
        ob_sb_adds(&sql, " AND ");
        new_value(&sql, b->left, cols, amounts, n, lc, params, &np);
        ob_sb_adds(&sql, b->op == OB_CMP_GTE ? " >= " : " <= ");
        if (b->right) {
            new_value(&sql, b->right, cols, amounts, n, pt->cols[ob_table_col(pt, b->right)], params, &np);
        } else {
            ob_sb_adds(&sql, "?");
            params[np++] = lc->type == OB_F_DECIMAL ? ob_v_dec(b->constant, ob_col_scale(lc)) : ob_v_int(b->constant);
        }
    }
    ob_sb_addf(&sql, " RETURNING %s", ob_sql_cols(pt));

    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
    for (int i = 0; i < np; i++)
        if (ob_stmt_bind(st, i + 1, &params[i], err) != 0) {
            ob_stmt_done(st);
            return -1;
        }
    int rc = ob_stmt_step(st, err);
    ob_row *after = NULL;
    if (rc == 1) {
        after = ob_row_new(ctx->arena, pt);
        ob_row_load(ctx->arena, after, st);
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (rc == 0) {
        /* the parent exists (the reference was checked): a bound would break */
        return ob_err_set(err, l->refusal, "the %s entry would take %s of %s %s out of its bounds", t->name,
                          n == 1 ? cols[0] : "the balances", pt->name,
                          ob_row_text_at(entry, ob_row_col(entry, l->parent)));
    }
    /* the parent's change is audited like any other, its old image rebuilt
     * from the new one and the deltas */
    ob_row *before = ob_row_copy(ctx->arena, after);
    for (int k = 0; k < n; k++) before->v[ob_table_col(pt, cols[k])].i -= amounts[k];
    if (pt->version_col >= 0) before->v[pt->version_col].i--;
    if (pt->res->flags & OB_RES_AUTH) ob_registry_auth_changed();
    return ob_registry_record_change(ctx, t->name, before, after, err);
}

/* An int, or a decimal in minor units: SQLite stores those as integers,
 * PostgreSQL's numeric reads as text. */
static int64_t minor_units(ob_stmt *st, int i, const ob_column *c)
{
    int64_t v = 0;
    if (c->type == OB_F_DECIMAL && ob_stmt_col_type(st, i) == OB_V_TEXT)
        ob_parse_decimal(ob_stmt_col_text(st, i, NULL), ob_col_scale(c), &v);
    else
        v = ob_stmt_col_i64(st, i);
    return v;
}

int ob_ledger_check(ob_ctx *ctx, const ob_table *t, ob_ledger_report_fn report, void *arg, int64_t *bad,
                    ob_err *err)
{
    const ob_ledger *l = t->res->ledger;
    const ob_table *pt = ob_registry_find(t->cols[ob_table_col(t, l->parent)]->ref);
    *bad = 0;
    /* one pass per balance column: default + the sum of its moves, per parent */
    for (int i = 0; i < l->nmoves; i++) {
        const char *bal = l->moves[i].balance;
        bool seen = false;
        for (int j = 0; j < i; j++) seen |= strcmp(l->moves[j].balance, bal) == 0;
        if (seen) continue;
        const ob_column *bc = pt->cols[ob_table_col(pt, bal)];
        ob_sb sql;
        ob_sb_init_arena(&sql, ctx->arena, 512);
        ob_sb_addf(&sql, "SELECT p.\"id\", p.\"%s\", COALESCE(SUM(", bal);
        ob_value kinds[OB_LEDGER_MAX_BALANCES];
        int nk = 0;
        bool first = true;
        for (int j = 0; j < l->nmoves; j++) {
            const ob_ledger_move *m = &l->moves[j];
            if (strcmp(m->balance, bal) != 0) continue;
            ob_sb_adds(&sql, first ? "" : " + ");
            first = false;
            if (m->when) {
                ob_sb_addf(&sql, "CASE WHEN e.\"%s\" = ? THEN ", l->kind);
                kinds[nk++] = ob_v_text(m->when);
            }
            ob_sb_addf(&sql, "%se.\"%s\"", m->sign < 0 ? "-" : "", l->amount);
            if (m->when) ob_sb_adds(&sql, " ELSE 0 END");
        }
        ob_sb_addf(&sql, "), 0) FROM \"%s\" p LEFT JOIN \"%s\" e ON e.\"%s\" = p.\"id\" GROUP BY p.\"id\", p.\"%s\"",
                   pt->name, t->name, l->parent, bal);
        ob_stmt *st;
        if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
        for (int k = 0; k < nk; k++)
            if (ob_stmt_bind(st, k + 1, &kinds[k], err) != 0) {
                ob_stmt_done(st);
                return -1;
            }
        int64_t dflt = 0;
        if (bc->type == OB_F_DECIMAL) ob_parse_decimal(bc->dflt, ob_col_scale(bc), &dflt);
        else ob_parse_i64(bc->dflt, &dflt);
        int rc;
        while ((rc = ob_stmt_step(st, err)) == 1) {
            int64_t have = minor_units(st, 1, bc), sum = minor_units(st, 2, bc);
            if (have != dflt + sum) {
                (*bad)++;
                if (report) report(arg, pt->name, ob_stmt_col_text(st, 0, NULL), bal, have, dflt + sum);
            }
        }
        ob_stmt_done(st);
        if (rc < 0) return -1;
    }
    return 0;
}
