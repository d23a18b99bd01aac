/* indexes.c - which indexes a table has at a version (indexes.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "schema/indexes.h"
#include "base/banned.h"

static int since_of(int s)
{
    return s > 0 ? s : 1;
}

static bool wants_index(const ob_table *t, const ob_column *c)
{
    if (c->flags & OB_UNIQUE) return false; /* the unique constraint indexes it */
    if (c->flags & OB_INDEXED) return true;
    /* references are indexed so deletes and joins do not scan */
    if (c->type == OB_F_REF) return true;
    /* sortable columns get an index so keyset pages stay cheap at any depth */
    return (c->flags & OB_SORT) && c->type != OB_F_ID && t->res->default_sort != NULL;
}

static ob_index_def *slot(ob_index_def *out, int *n, int max, const ob_table *t)
{
    if (*n >= max) {
        fprintf(stderr, "opsbase: registry: table \"%s\": more than %d indexes\n", t->name, max);
        abort();
    }
    ob_index_def *d = &out[(*n)++];
    memset(d, 0, sizeof *d);
    d->decl = -1;
    return d;
}

/* A column's own index: the columns lists sort by follow it, so that a page
 * of a list is read in index order and never sorted (ddl.c says why). */
static void column_def(ob_index_def *d, const ob_table *t, const ob_column *c)
{
    const char *ds = t->res->default_sort;
    bool by_created = ds && (strcmp(ds, "-created_at") == 0 || strcmp(ds, "created_at") == 0);
    const char *tail = "";
    if ((c->flags & OB_SORT) && c->type != OB_F_ID) tail = ",id";
    else if (by_created && strcmp(c->name, "created_at") != 0) tail = ",created_at,id";
    snprintf(d->name, sizeof d->name, "ix_%s_%s", t->name, c->name);
    snprintf(d->cols, sizeof d->cols, "%s%s", c->name, tail);
    d->column = c->name;
    d->since = since_of(c->since);
}

/* Declared index name: ix_<table>_<cols with '_' for ',' and 'd' for '-'>,
 * "_p" when partial. */
static void declared_def(ob_index_def *d, const ob_table *t, const ob_index *ix, int j)
{
    ob_sb n;
    ob_sb_init(&n, 128);
    ob_sb_addf(&n, "ix_%s_", t->name);
    for (const char *p = ix->cols; *p; p++) ob_sb_addc(&n, (*p == ',') ? '_' : (*p == '-') ? 'd' : *p);
    if (ix->where) ob_sb_adds(&n, "_p");
    snprintf(d->name, sizeof d->name, "%s", n.buf);
    ob_sb_release(&n);
    snprintf(d->cols, sizeof d->cols, "%s", ix->cols);
    d->where = ix->where;
    d->unique = ix->unique;
    d->since = since_of(ix->since);
    d->decl = j;
}

static bool same_where(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The k-th column of a list ("a,-b"): its name (length in *len) and direction. */
static const char *nth_col(const char *cols, int k, size_t *len, bool *desc)
{
    const char *p = cols;
    for (int i = 0; i < k && p; i++) {
        p = strchr(p, ',');
        if (p) p++;
    }
    if (!p || !*p) return NULL;
    *desc = *p == '-';
    if (*desc) p++;
    const char *end = strchr(p, ',');
    *len = end ? (size_t)(end - p) : strlen(p);
    return p;
}

static int ncols_of(const char *cols)
{
    int n = 1;
    for (const char *p = cols; *p; p++) n += *p == ',';
    return n;
}

/* Whether x's columns lead y's, in order, with directions all equal or all
 * reversed (a b-tree is read both ways), under the same WHERE. */
static bool leads(const ob_index_def *x, const ob_index_def *y)
{
    if (!same_where(x->where, y->where)) return false;
    int nx = ncols_of(x->cols);
    if (nx > ncols_of(y->cols)) return false;
    int flipped = -1;
    for (int k = 0; k < nx; k++) {
        size_t lx, ly;
        bool dx, dy;
        const char *px = nth_col(x->cols, k, &lx, &dx), *py = nth_col(y->cols, k, &ly, &dy);
        if (!px || !py || lx != ly || memcmp(px, py, lx) != 0) return false;
        int f = dx != dy;
        if (flipped >= 0 && f != flipped) return false;
        flipped = f;
    }
    return true;
}

/* Whether y makes x unneeded: x is a non-unique index leading y, and y is
 * longer, unique, or the same columns made first (one of two equal stays). */
static bool covered(const ob_index_def *x, int xi, const ob_index_def *y, int yi)
{
    if (x->unique || x->constraint || xi == yi || !leads(x, y)) return false;
    return ncols_of(y->cols) > ncols_of(x->cols) || y->unique || yi < xi;
}

static bool unique_alone(const ob_table *t, const ob_column *c, int v)
{
    for (int j = 0; j < t->res->nindexes; j++) {
        const ob_index *ix = &t->res->indexes[j];
        if (ix->unique && !ix->where && since_of(ix->since) <= v && strcmp(ix->cols, c->name) == 0) return true;
    }
    return false;
}

/* Every index the declarations ask for at v, constraints first; fix: apply
 * the rules of OB_INDEX_FIX_SINCE (a unique one replaces a column's own). */
static int candidates(const ob_table *t, int v, bool fix, ob_index_def *out, int max)
{
    int n = 0;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (since_of(c->since) > v || !(c->type == OB_F_ID || (c->flags & OB_UNIQUE)) || c->gen) continue;
        ob_index_def *d = slot(out, &n, max, t);
        snprintf(d->cols, sizeof d->cols, "%s", c->name);
        d->unique = d->constraint = true;
        d->since = since_of(c->since);
        d->column = c->name;
    }
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (since_of(c->since) > v || !wants_index(t, c)) continue;
        if (fix && unique_alone(t, c, v)) continue;
        column_def(slot(out, &n, max, t), t, c);
    }
    for (int j = 0; j < t->res->nindexes; j++)
        if (since_of(t->res->indexes[j].since) <= v) declared_def(slot(out, &n, max, t), t, &t->res->indexes[j], j);
    return n;
}

static bool same_name(const char *a, const char *b)
{
    return *a && strncmp(a, b, OB_INDEX_NAME_SIGNIFICANT) == 0;
}

int ob_index_plan(const ob_table *t, int v, ob_index_def *out, int max)
{
    ob_index_def all[OB_INDEX_MAX];
    bool fix = v >= OB_INDEX_FIX_SINCE;
    int n = candidates(t, v, fix, all, OB_INDEX_MAX), k = 0;
    for (int i = 0; i < n; i++) {
        bool keep = true;
        for (int j = 0; keep && j < n; j++) {
            if (fix) keep = !covered(&all[i], i, &all[j], j);
            /* before: the database skipped a name it already had */
            else keep = all[i].constraint || j >= i || !same_name(all[i].name, all[j].name);
        }
        if (!keep) continue;
        if (k >= max) {
            fprintf(stderr, "opsbase: registry: table \"%s\": more than %d indexes\n", t->name, max);
            abort();
        }
        out[k++] = all[i];
    }
    return k;
}

bool ob_index_same(const ob_index_def *a, const ob_index_def *b)
{
    return strcmp(a->name, b->name) == 0 && strcmp(a->cols, b->cols) == 0 && a->unique == b->unique &&
           same_where(a->where, b->where);
}

static void describe(char *buf, size_t len, const ob_index_def *d)
{
    if (d->column && !d->unique)
        snprintf(buf, len, "column %s's own index (%s)", d->column, d->cols);
    else
        snprintf(buf, len, "declared %sindex (%s)%s%s", d->unique ? "unique " : "non-unique ", d->cols,
                 d->where ? " where " : "", d->where ? d->where : "");
}

int ob_index_check(const ob_table *t, int v, char *why, size_t whylen)
{
    ob_index_def all[OB_INDEX_MAX];
    char a[384], b[384];
    int n = 0;
    for (int j = 0; j < t->res->nindexes; j++)
        declared_def(slot(all, &n, OB_INDEX_MAX, t), t, &t->res->indexes[j], j);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (same_name(all[i].name, all[j].name)) {
                describe(a, sizeof a, &all[i]);
                describe(b, sizeof b, &all[j]);
                snprintf(why, whylen, "%s and %s are both named \"%.*s\": declare one of them", a, b,
                         OB_INDEX_NAME_SIGNIFICANT, all[i].name);
                return -1;
            }
    n = ob_index_plan(t, v, all, OB_INDEX_MAX);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (!all[i].constraint && same_name(all[i].name, all[j].name)) {
                describe(a, sizeof a, &all[i]);
                describe(b, sizeof b, &all[j]);
                snprintf(why, whylen,
                         "%s and %s would both be named \"%.*s\" (the database would make only the first): "
                         "change one's columns or drop it",
                         a, b, OB_INDEX_NAME_SIGNIFICANT, all[i].name);
                return -1;
            }
    return 0;
}
