/* row.c - rows as column-aligned values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
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

static int col_or_die(const ob_row *r, const char *col)
{
    int i = ob_table_col(r->t, col);
    if (i < 0) {
        fprintf(stderr, "opsbase: no column \"%s\" in \"%s\"\n", col, r->t->name);
        abort();
    }
    return i;
}

const ob_value *ob_row_get(const ob_row *r, const char *col)
{
    return &r->v[col_or_die(r, col)];
}

const char *ob_row_text(const ob_row *r, const char *col)
{
    int i = col_or_die(r, col);
    if (!r->set[i] || r->v[i].t != OB_V_TEXT) return NULL;
    return r->v[i].s;
}

int64_t ob_row_int(const ob_row *r, const char *col, int64_t dflt)
{
    int i = col_or_die(r, col);
    if (!r->set[i] || r->v[i].t == OB_V_NULL || r->v[i].t == OB_V_TEXT) return dflt;
    return r->v[i].i;
}

bool ob_row_is_null(const ob_row *r, const char *col)
{
    int i = col_or_die(r, col);
    return !r->set[i] || r->v[i].t == OB_V_NULL;
}

void ob_row_set_text(ob_arena *a, ob_row *r, const char *col, const char *s)
{
    int i = col_or_die(r, col);
    r->set[i] = true;
    if (!s) {
        r->v[i] = ob_v_null();
        return;
    }
    size_t n = strlen(s);
    r->v[i] = ob_v_textn(ob_arena_strndup(a, s, n), n);
}

void ob_row_set_int(ob_row *r, const char *col, int64_t v)
{
    int i = col_or_die(r, col);
    r->set[i] = true;
    r->v[i] = r->t->cols[i]->type == OB_F_DECIMAL ? ob_v_dec(v, ob_col_scale(r->t->cols[i])) : ob_v_int(v);
}

void ob_row_set_bool(ob_row *r, const char *col, bool v)
{
    int i = col_or_die(r, col);
    r->set[i] = true;
    r->v[i] = ob_v_bool(v);
}

void ob_row_set_null(ob_row *r, const char *col)
{
    int i = col_or_die(r, col);
    r->set[i] = true;
    r->v[i] = ob_v_null();
}

void ob_row_load(ob_arena *a, ob_row *r, ob_stmt *st)
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
