/* row.c - rows as column-aligned values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "db/secrets.h"
#include "schema/row.h"
#include "base/banned.h"

ob_row *ob_row_new(ob_arena *a, const ob_table *t)
{
    ob_row *r = ob_arena_zalloc(a, sizeof *r);
    r->t = t;
    r->v = ob_arena_zalloc(a, sizeof(ob_value) * (size_t)t->ncols);
    r->set = ob_arena_zalloc(a, sizeof(bool) * (size_t)t->ncols);
    return r;
}

ob_row *ob_row_copy(ob_arena *a, const ob_row *src)
{
    ob_row *r = ob_row_new(a, src->t);
    memcpy(r->v, src->v, sizeof(ob_value) * (size_t)src->t->ncols);
    memcpy(r->set, src->set, sizeof(bool) * (size_t)src->t->ncols);
    return r;
}

static _Noreturn void die_col(const ob_row *r, const char *table, const char *col, const char *why)
{
    fprintf(stderr, "opsbase: column \"%s\".\"%s\" used on a row of \"%s\": %s\n", table ? table : "?", col,
            r->t->name, why);
    abort();
}

/* The handle's index after checking it names a column of r's table. Table
 * names are usually the same literal (the linker merges them), so the
 * string compare runs only when they are not. */
static int col_of(const ob_row *r, ob_colh c)
{
    if (c.table != r->t->name && strcmp(c.table, r->t->name) != 0)
        die_col(r, c.table, c.name, "another table's handle");
    if (c.idx < 0 || c.idx >= r->t->ncols) die_col(r, c.table, c.name, "index out of range");
    return c.idx;
}

int ob_row_col(const ob_row *r, const char *name)
{
    int i = ob_table_col(r->t, name);
    if (i < 0) die_col(r, r->t->name, name ? name : "(null)", "no such column");
    return i;
}

static const char *text_at(const ob_row *r, int i)
{
    if (!r->set[i] || r->v[i].t != OB_V_TEXT) return NULL;
    return r->v[i].s;
}

static int64_t int_at(const ob_row *r, int i, int64_t dflt)
{
    if (!r->set[i] || r->v[i].t == OB_V_NULL || r->v[i].t == OB_V_TEXT) return dflt;
    return r->v[i].i;
}

static bool null_at(const ob_row *r, int i)
{
    return !r->set[i] || r->v[i].t == OB_V_NULL;
}

const char *ob_row_text_at(const ob_row *r, int i)
{
    return text_at(r, i);
}

void ob_row_set_text_at(ob_arena *a, ob_row *r, int i, const char *s)
{
    r->set[i] = true;
    if (!s) {
        r->v[i] = ob_v_null();
        return;
    }
    size_t n = strlen(s);
    r->v[i] = ob_v_textn(ob_arena_strndup(a, s, n), n);
}

void ob_row_set_int_at(ob_row *r, int i, int64_t v)
{
    r->set[i] = true;
    r->v[i] = r->t->cols[i]->type == OB_F_DECIMAL ? ob_v_dec(v, ob_col_scale(r->t->cols[i])) : ob_v_int(v);
}

static void set_bool_at(ob_row *r, int i, bool v)
{
    r->set[i] = true;
    r->v[i] = ob_v_bool(v);
}

void ob_row_set_null_at(ob_row *r, int i)
{
    r->set[i] = true;
    r->v[i] = ob_v_null();
}

/* ---------------------------------------------------------------- handles */

const ob_value *ob_row_get(const ob_row *r, ob_colh c)
{
    return &r->v[col_of(r, c)];
}

const char *ob_row_text(const ob_row *r, ob_colh c)
{
    return text_at(r, col_of(r, c));
}

int64_t ob_row_int(const ob_row *r, ob_colh c, int64_t dflt)
{
    return int_at(r, col_of(r, c), dflt);
}

bool ob_row_is_null(const ob_row *r, ob_colh c)
{
    return null_at(r, col_of(r, c));
}

bool ob_row_is_set(const ob_row *r, ob_colh c)
{
    return r->set[col_of(r, c)];
}

const char *ob_row_id(const ob_row *r)
{
    return r->t->id_col >= 0 ? text_at(r, r->t->id_col) : NULL;
}

void ob_row_set_text(ob_arena *a, ob_row *r, ob_colh c, const char *s)
{
    ob_row_set_text_at(a, r, col_of(r, c), s);
}

void ob_row_set_int(ob_row *r, ob_colh c, int64_t v)
{
    ob_row_set_int_at(r, col_of(r, c), v);
}

void ob_row_set_bool(ob_row *r, ob_colh c, bool v)
{
    set_bool_at(r, col_of(r, c), v);
}

void ob_row_set_null(ob_row *r, ob_colh c)
{
    ob_row_set_null_at(r, col_of(r, c));
}

/* Open the sealed columns of a freshly loaded row. A value that does not open
 * (a key this process lacks, tampering) is logged and kept as stored: writing
 * the row back keeps it sealed as it was (schema/sql.c), nothing is lost. */
static void open_sealed(ob_arena *a, ob_row *r, const char *tenant)
{
    const ob_table *t = r->t;
    const char *id = t->id_col >= 0 && r->v[t->id_col].t == OB_V_TEXT ? r->v[t->id_col].s : "";
    for (int i = 0; i < t->ncols; i++) {
        if (!(t->cols[i]->flags & OB_ENCRYPTED) || r->v[i].t != OB_V_TEXT) continue;
        ob_sb sb;
        ob_sb_init_arena(&sb, a, r->v[i].n);
        ob_err err = {0};
        if (ob_secret_open(&sb, tenant, t->name, id, t->cols[i]->name, r->v[i].s, r->v[i].n, &err) == 0)
            r->v[i] = ob_v_textn(sb.buf, sb.len);
        else
            ob_log(OB_LOG_ERROR, "secret_unreadable", "table", t->name, "id", id, "error", err.message, NULL);
    }
}

void ob_row_load_stored(ob_arena *a, ob_row *r, ob_stmt *st)
{
    const ob_table *t = r->t;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        r->set[i] = true;
        ob_vtype vt = ob_stmt_col_type(st, i);
        if (vt == OB_V_NULL) {
            r->v[i] = ob_v_null();
            continue;
        }
        switch (c->type) {
        case OB_F_INT:
            r->v[i] = ob_v_int(ob_stmt_col_i64(st, i));
            break;
        case OB_F_BOOL:
            r->v[i] = ob_v_bool(ob_stmt_col_i64(st, i) != 0);
            break;
        case OB_F_REAL:
            r->v[i] = ob_v_real(ob_stmt_col_f64(st, i));
            break;
        case OB_F_DECIMAL: {
            int64_t minor = 0;
            if (vt == OB_V_TEXT) { /* engines that return numeric as text */
                const char *s = ob_stmt_col_text(st, i, NULL);
                if (ob_parse_decimal(s, ob_col_scale(c), &minor) != 0) minor = 0;
            } else {
                minor = ob_stmt_col_i64(st, i);
            }
            r->v[i] = ob_v_dec(minor, ob_col_scale(c));
            break;
        }
        default: {
            size_t n = 0;
            const char *s = ob_stmt_col_text(st, i, &n);
            r->v[i] = ob_v_textn(ob_arena_strndup(a, s ? s : "", n), n);
            break;
        }
        }
    }
}

void ob_row_load(ob_arena *a, ob_row *r, ob_stmt *st)
{
    const ob_table *t = r->t;
    ob_row_load_stored(a, r, st);
    if (t->res && t->res->ncols) {
        bool sealed = false;
        for (int i = 0; i < t->ncols && !sealed; i++) sealed = (t->cols[i]->flags & OB_ENCRYPTED) != 0;
        if (sealed) open_sealed(a, r, ob_stmt_tenant(st));
    }
}

bool ob_row_col_equal(const ob_row *a, const ob_row *b, int i)
{
    const ob_value *x = &a->v[i], *y = &b->v[i];
    bool xn = !a->set[i] || x->t == OB_V_NULL, yn = !b->set[i] || y->t == OB_V_NULL;
    if (xn || yn) return xn == yn;
    if (x->t != y->t) return false;
    switch (x->t) {
    case OB_V_TEXT:
        return x->n == y->n && memcmp(x->s, y->s, x->n) == 0;
    case OB_V_REAL:
        return x->r == y->r;
    default:
        return x->i == y->i;
    }
}

