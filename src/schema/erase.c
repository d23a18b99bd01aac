/* erase.c - a person's erasure (see erase.h). */
#include <jansson.h>
#include <string.h>

#include "schema/erase.h"
#include "schema/sql.h"
#include "base/banned.h"

const char *ob_erase_pseudonym(ob_arena *a, const char *subject_id)
{
    size_t n = strlen(subject_id);
    return ob_arena_printf(a, "erased-%s", subject_id + (n > 12 ? n - 12 : 0));
}

bool ob_erase_has_personal(const ob_table *t)
{
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i]->flags & OB_PERSONAL) return true;
    return false;
}

int ob_erase_apply(ob_arena *a, ob_row *row, const char *pseudonym)
{
    const ob_table *t = row->t;
    int changed = 0;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!(c->flags & OB_PERSONAL) || !row->set[i] || row->v[i].t == OB_V_NULL) continue;
        if (c->type == OB_F_TEXT && !(c->flags & OB_ENCRYPTED)) {
            /* a unique column (a user's e-mail) takes the row's id too, so
             * two rows of one person do not collide */
            const char *id = ob_row_id(row);
            size_t idn = id ? strlen(id) : 0;
            const char *p = (c->flags & OB_UNIQUE) && idn > 6
                                ? ob_arena_printf(a, "%s-%s", pseudonym, id + idn - 6) : pseudonym;
            size_t n = strlen(p);
            if (c->max > 0 && n > (size_t)c->max) n = (size_t)c->max;
            const char *v = ob_arena_strndup(a, p, n);
            if (row->v[i].s && strcmp(row->v[i].s, v) == 0) continue;
            ob_row_set_text_at(a, row, i, v);
        } else if (!(c->flags & OB_REQUIRED)) {
            ob_row_set_null_at(row, i);
        } else if (c->type == OB_F_JSON) {
            if (row->v[i].s && strcmp(row->v[i].s, "{}") == 0) continue;
            ob_row_set_text_at(a, row, i, "{}"); /* an address object with nothing in it */
        } else {
            continue;
        }
        changed++;
    }
    return changed;
}

/* Rewrite one stored row: version and updated_at move as for any update, so
 * a client holding the old version gets a conflict rather than undoing it. */
static int erase_row(ob_ctx *ctx, ob_row *old, const char *pseudonym, ob_err *err)
{
    const ob_table *t = old->t;
    ob_row *row = ob_row_copy(ctx->arena, old);
    if (ob_erase_apply(ctx->arena, row, pseudonym) == 0) return 0;
    int64_t old_version = t->version_col >= 0 ? old->v[t->version_col].i : 0;
    if (t->updated_col >= 0) ob_row_set_text_at(ctx->arena, row, t->updated_col, ctx->now);
    if (t->version_col >= 0) ob_row_set_int_at(row, t->version_col, old_version + 1);
    if (ob_sql_update(ctx, row, old_version, err) != 0) return -1;
    if (ob_registry_record_change(ctx, "erase", old, row, err) != 0) return -1;
    return 1;
}

/* How far an erasure follows references: rows naming the subject (1), rows
 * naming those (2: a shipment of the customer's order), and one more (3). */
#define ERASE_DEPTH 3

typedef struct walk {
    const ob_table *root;  /* the subject's table: a row of it is another person */
    const char *pseudonym;
    json_t *tally;
    json_t *seen;          /* "table/id" of every row visited: each is erased once */
    ob_erase_each each;
    void *arg;
} walk;

static int erase_level(ob_ctx *ctx, walk *w, const ob_table *t, const char *id, int depth, ob_err *err);

static int erase_by(ob_ctx *ctx, walk *w, const ob_table *rt, const ob_column *ref, const char *id, int depth,
                    ob_err *err)
{
    const char *sql = ob_arena_printf(ctx->arena, "SELECT %s FROM \"%s\" WHERE \"%s\" = ? ORDER BY \"id\"",
                                      ob_sql_cols(rt), rt->name, ref->name);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, id, err);
    /* read them all first: the updates run on the same connection */
    ob_row **rows = NULL;
    int n = 0, cap = 0, rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            ob_row **grown = ob_arena_alloc(ctx->arena, sizeof *grown * (size_t)cap);
            if (n) memcpy(grown, rows, sizeof *grown * (size_t)n);
            rows = grown;
        }
        rows[n] = ob_row_new(ctx->arena, rt);
        ob_row_load(ctx->arena, rows[n], st);
        n++;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    int64_t done = 0;
    for (int i = 0; i < n; i++) {
        const char *key = ob_arena_printf(ctx->arena, "%s/%s", rt->name, ob_row_id(rows[i]));
        if (json_object_get(w->seen, key)) continue; /* reached by another path (an NDR case names its order too) */
        json_object_set_new(w->seen, key, json_true());
        if (w->each && w->each(ctx, rows[i], w->arg, err) != 0) return -1;
        int r = erase_row(ctx, rows[i], w->pseudonym, err);
        if (r < 0) return -1;
        done += r;
        if (depth < ERASE_DEPTH && erase_level(ctx, w, rt, ob_row_id(rows[i]), depth + 1, err) != 0) return -1;
    }
    if (done) {
        json_t *had = json_object_get(w->tally, rt->name);
        json_object_set_new(w->tally, rt->name, json_integer(done + (had ? json_integer_value(had) : 0)));
    }
    return 0;
}

/* The rows of tables with personal columns that reference (t, id). */
static int erase_level(ob_ctx *ctx, walk *w, const ob_table *t, const char *id, int depth, ob_err *err)
{
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *rt = ob_registry_at(i);
        /* a row of the subject's own table naming it (a related customer) is
         * another person's: theirs stays; so is a row of the same table
         * naming this one (an order's parent order) */
        if (rt == w->root || rt == t || rt->res->scope != t->res->scope || !ob_erase_has_personal(rt)) continue;
        for (int k = 0; k < rt->ncols; k++) {
            const ob_column *c = rt->cols[k];
            if (c->type != OB_F_REF || !c->ref || strcmp(c->ref, t->name) != 0) continue;
            if (erase_by(ctx, w, rt, c, id, depth, err) != 0) return -1;
        }
    }
    return 0;
}

int ob_erase_referencing(ob_ctx *ctx, const ob_table *t, const char *id, const char *pseudonym, json_t *tally,
                         ob_erase_each each, void *arg, ob_err *err)
{
    walk w = {.root = t, .pseudonym = pseudonym, .tally = tally, .seen = json_object(), .each = each, .arg = arg};
    int rc = erase_level(ctx, &w, t, id, 1, err);
    json_decref(w.seen);
    return rc;
}
