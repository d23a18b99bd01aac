/* crud.c - generic create, read, update, delete and actions. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "schema/reads.h"
#include "schema/crud.h"
#include "schema/quota.h"
#include "schema/ledger.h"
#include "schema/methods.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "base/banned.h"

int ob_crud_get(ob_ctx *ctx, const ob_table *t, const char *id, ob_row **out, ob_err *err)
{
    if (ob_sql_load(ctx, t, id, out, err) != 0) return -1;
    const ob_hooks *h = t->res->hooks;
    if (h && h->on_read && h->on_read(ctx, *out, err) != 0) return -1;
    ob_reads_note(ctx, t, id); /* a read request's personal rows are audited (schema/reads.h) */
    return 0;
}

/* A customer user's new rows belong to their customer. */
static void apply_customer_scope(ob_ctx *ctx, ob_row *row)
{
    const char *cid = ctx->who ? ctx->who->customer_id : NULL;
    const char *scope = row->t->res->customer_scope;
    if (!cid || ctx->who->is_system || !scope || strchr(scope, '.') || strcmp(scope, "id") == 0) return;
    /* a different customer given explicitly is left for the scoped reference
     * check to refuse, rather than silently replaced */
    int i = ob_row_col(row, scope);
    if (!row->set[i] || row->v[i].t == OB_V_NULL) ob_row_set_text_at(ctx->arena, row, i, cid);
}

/* Whether state is in the comma list `from` ("*" matches any). */
static bool state_in(const char *from, const char *state)
{
    if (strcmp(from, "*") == 0) return true;
    size_t n = strlen(state);
    for (const char *p = from; p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, state, n) == 0) return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* Whether the row moves into the states of `list` (on create: starts in
 * one); moving between two of them is staying. */
static bool enters(const char *list, const char *old_state, const char *state)
{
    return list && state && state_in(list, state) && !(old_state && state_in(list, old_state));
}

/* Write the declared stamps: create stamps when old is NULL, state stamps
 * when the row enters the states they name, and clear those entering their
 * clear_on states. A required actor stamp refuses a writer without a user
 * (the command line acting as the system). */
static int apply_stamps(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const ob_table *t = row->t;
    const char *state = NULL, *old_state = NULL;
    if (t->state_col >= 0 && row->set[t->state_col] && row->v[t->state_col].t == OB_V_TEXT)
        state = row->v[t->state_col].s;
    if (t->state_col >= 0 && old && old->v[t->state_col].t == OB_V_TEXT) old_state = old->v[t->state_col].s;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (c->stamp == OB_STAMP_NONE) continue;
        if (enters(c->clear_on, old_state, state)) {
            ob_row_set_null_at(row, i);
            continue;
        }
        if (c->stamp_on ? !enters(c->stamp_on, old_state, state) : old != NULL) continue;
        const char *v = c->stamp == OB_STAMP_NOW ? ctx->now : ctx->who ? ctx->who->user_id : NULL;
        if (!v && (c->flags & OB_REQUIRED)) {
            ob_err_set(err, OB_E_UNPROCESSABLE, "\"%s\" needs a signed-in user", c->name);
            snprintf(err->field, sizeof err->field, "%s", c->name);
            return -1;
        }
        if (v) ob_row_set_text_at(ctx->arena, row, i, v);
        else ob_row_set_null_at(row, i);
    }
    return 0;
}

/* Fill the declared numbers the client did not give: PREFIX-000001 from the
 * tenant's counter named after the table, in the row's transaction (a
 * refused row gives its number back). */
static int apply_numbers(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const ob_table *t = row->t;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!c->number_prefix || (row->set[i] && row->v[i].t != OB_V_NULL)) continue;
        int64_t n;
        if (ob_sql_seq_next(ctx, t->name, &n, err) != 0) return -1;
        ob_row_set_text_at(ctx->arena, row, i,
                           ob_arena_printf(ctx->arena, "%s-%06lld", c->number_prefix, (long long)n));
    }
    return 0;
}

/* Customer users write only customer data: rows tied to a customer by the
 * table's customer_scope. Shared reference data and internal tables are
 * staff's, whatever permission a role was given by mistake. */
static int confined_write(ob_ctx *ctx, const ob_table *t, ob_err *err)
{
    if (!ob_ctx_confined(ctx) || t->res->customer_scope) return 0;
    return ob_err_set(err, OB_E_FORBIDDEN, "customer users cannot change %s records", t->name);
}

/* ob_resource.copy: fill the copied columns from the referenced row when
 * the reference is new or changed (old NULL: a create). */
static int apply_copy(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const ob_ref_copy *cp = row->t->res->copy;
    if (!cp) return 0;
    int ri = ob_table_col(row->t, cp->ref);
    bool given = row->set[ri] && row->v[ri].t == OB_V_TEXT;
    if (!given) {
        if (old || !cp->required) return 0;
        ob_err_set(err, OB_E_VALIDATION, NULL);
        return ob_err_field_add(err, cp->ref, "is required");
    }
    if (old && old->set[ri] && old->v[ri].t == OB_V_TEXT && strcmp(old->v[ri].s, row->v[ri].s) == 0) return 0;
    const ob_table *src = ob_registry_find(row->t->cols[ri]->ref);
    ob_row *from;
    if (ob_sql_load(ctx, src, row->v[ri].s, &from, err) != 0) {
        if (err->code != OB_E_NOT_FOUND) return -1;
        ob_err_set(err, OB_E_UNPROCESSABLE, NULL);
        return ob_err_field_add(err, cp->ref, "refers to a record that does not exist");
    }
    for (int i = 0; i < cp->ncols; i++) {
        int to = ob_table_col(row->t, cp->cols[i].to), fi = ob_table_col(src, cp->cols[i].from);
        row->v[to] = from->v[fi];
        row->set[to] = true;
    }
    return 0;
}

/* ob_column.sole_per: when row sets such a flag true (old NULL: a create,
 * else a change from false), the group's other rows with it true get it
 * false first, each through ob_crud_save (versioned, audited, hooked), so the
 * unique index over the flag never sees two. */
static int apply_sole(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err)
{
    const ob_table *t = row->t;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!c->sole_per || !row->set[i] || row->v[i].t == OB_V_NULL || !row->v[i].i) continue;
        if (old && old->set[i] && old->v[i].t != OB_V_NULL && old->v[i].i) continue;
        ob_sb sql;
        ob_sb_init_arena(&sql, ctx->arena, 128);
        ob_sb_addf(&sql, "SELECT \"id\" FROM \"%s\" WHERE \"%s\" = ? AND \"id\" <> ?%s", t->name, c->name,
                   t->deleted_col >= 0 ? " AND \"deleted_at\" IS NULL" : "");
        ob_value vals[10] = {ob_v_bool(true), row->v[t->id_col]};
        int n = 2;
        for (const char *p = c->sole_per; p && *p && n < 10;) {
            const char *end = strchr(p, ',');
            const char *name = end ? ob_arena_strndup(ctx->arena, p, (size_t)(end - p)) : p;
            int k = ob_table_col(t, name);
            ob_sb_addf(&sql, " AND \"%s\" = ?", name);
            vals[n++] = row->set[k] ? row->v[k] : old->v[k];
            p = end ? end + 1 : NULL;
        }
        ob_stmt *st;
        if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
        for (int k = 0; k < n; k++)
            if (ob_sql_bind_value(st, k + 1, &vals[k], err) != 0) {
                ob_stmt_done(st);
                return -1;
            }
        const char *ids[64];
        int nids = 0, rc;
        while ((rc = ob_stmt_step(st, err)) == 1 && nids < 64)
            ids[nids++] = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        ob_stmt_done(st);
        if (rc < 0) return -1;
        for (int k = 0; k < nids; k++) {
            ob_row *other;
            if (ob_sql_load_internal(ctx, t, ids[k], &other, err) != 0) return -1;
            ob_row *next = ob_row_copy(ctx->arena, other);
            next->v[i] = ob_v_bool(false);
            next->set[i] = true;
            if (ob_crud_save(ctx, other, next, "update", err) != 0) return -1;
        }
    }
    return 0;
}

/* Whether a column declared server_when ("col=value") is the server's on row. */
static bool server_when_holds(const ob_row *row, const ob_column *c)
{
    const char *eq = strchr(c->server_when, '=');
    char col[64];
    if (!eq || (size_t)(eq - c->server_when) >= sizeof col) return false;
    memcpy(col, c->server_when, (size_t)(eq - c->server_when));
    col[eq - c->server_when] = '\0';
    int k = ob_table_col(row->t, col);
    const char *v = k >= 0 ? ob_row_text_at(row, k) : NULL;
    return v && strcmp(v, eq + 1) == 0;
}

static int readonly_on_row(const ob_column *c, ob_err *err)
{
    ob_err_set(err, OB_E_READONLY_FIELD, "field \"%s\" is set by the server on rows with %s", c->name,
               c->server_when);
    snprintf(err->field, sizeof err->field, "%s", c->name);
    return -1;
}

/* A create leaves server_when columns (text, enum, reference or date) at
 * their defaults on the rows they concern; checked after before_create,
 * which may decide the row's kind. */
static int check_server_when_create(const ob_row *row, ob_err *err)
{
    const ob_table *t = row->t;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!c->server_when || !server_when_holds(row, c)) continue;
        const char *v = ob_row_text_at(row, i);
        if (c->dflt ? !(v && strcmp(v, c->dflt) == 0) : v != NULL) return readonly_on_row(c, err);
    }
    return 0;
}

/* A PATCH may not name a server_when column on the rows it concerns. */
static int check_server_when_patch(const ob_row *old, const ob_row *patch, ob_err *err)
{
    const ob_table *t = old->t;
    for (int i = 0; patch && i < t->ncols; i++)
        if (patch->set[i] && t->cols[i]->server_when && server_when_holds(old, t->cols[i]))
            return readonly_on_row(t->cols[i], err);
    return 0;
}

int ob_crud_insert_row(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const ob_table *t = row->t;
    const ob_hooks *h = t->res->hooks;
    if (!row->set[t->id_col] || row->v[t->id_col].t == OB_V_NULL) {
        char id[OB_UUID_LEN];
        ob_uuid7(id);
        ob_row_set_text_at(ctx->arena, row, t->id_col, id);
    }
    ob_row_set_text_at(ctx->arena, row, t->created_col, ctx->now);
    if (t->updated_col >= 0) ob_row_set_text_at(ctx->arena, row, t->updated_col, ctx->now);
    if (t->version_col >= 0) ob_row_set_int_at(row, t->version_col, 1);
    if (apply_stamps(ctx, NULL, row, err) != 0 || apply_numbers(ctx, row, err) != 0 ||
        apply_copy(ctx, NULL, row, err) != 0)
        return -1;
    if (ob_quota_take(ctx, t, err) != 0) return -1;
    if (h && h->before_create && h->before_create(ctx, row, err) != 0) return -1;
    if (check_server_when_create(row, err) != 0) return -1;
    if (ob_validate_row(ctx, row, err) != 0) return -1;
    if (apply_sole(ctx, NULL, row, err) != 0) return -1;
    if (ob_sql_insert(ctx, row, err) != 0) return -1;
    if (t->res->ledger && ob_ledger_post(ctx, row, err) != 0) return -1;
    if (t->res->flags & OB_RES_AUTH) ob_registry_auth_changed();
    if (ob_registry_record_change(ctx, "create", NULL, row, err) != 0) return -1;
    if (h && h->after_create && h->after_create(ctx, row, err) != 0) return -1;
    return 0;
}

int ob_crud_body(ob_ctx *ctx, const ob_table *t, json_t *body, bool create, ob_row **out, ob_err *err)
{
    ob_row *row = ob_row_new(ctx->arena, t);
    if (ob_validate_body(ctx, t, body, row, create, err) != 0) return -1;
    *out = row;
    return 0;
}

/* The stored row a create repeats (ob_resource.dedupe): 1 and *out when
 * every dedupe column is given and one row has the same values, else 0. */
static int find_duplicate(ob_ctx *ctx, const ob_table *t, const ob_row *row, ob_row **out, ob_err *err)
{
    ob_sb sql;
    ob_sb_init_arena(&sql, ctx->arena, 128);
    ob_sb_addf(&sql, "SELECT \"id\" FROM \"%s\" WHERE 1 = 1", t->name);
    ob_value vals[8];
    int n = 0;
    for (const char *p = t->res->dedupe; p && *p && n < 8;) {
        const char *end = strchr(p, ',');
        const char *name = end ? ob_arena_strndup(ctx->arena, p, (size_t)(end - p)) : p;
        int c = ob_table_col(t, name);
        if (!row->set[c] || row->v[c].t == OB_V_NULL) return 0;
        ob_sb_addf(&sql, " AND \"%s\" = ?", name);
        vals[n++] = row->v[c];
        p = end ? end + 1 : NULL;
    }
    ob_sb_adds(&sql, " LIMIT 1");
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
    for (int i = 0; i < n; i++)
        if (ob_sql_bind_value(st, i + 1, &vals[i], err) != 0) {
            ob_stmt_done(st);
            return -1;
        }
    int rc = ob_stmt_step(st, err);
    const char *id = rc == 1 ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)) : NULL;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (!id) return 0;
    return ob_sql_load(ctx, t, id, out, err) == 0 ? 1 : -1;
}

int ob_crud_create_or_find(ob_ctx *ctx, const ob_table *t, ob_row *row, ob_row **out, bool *found, ob_err *err)
{
    *found = false;
    if (t->res->flags & OB_RES_READONLY) return ob_err_set(err, OB_E_METHOD, "\"%s\" is read-only", t->name);
    if (confined_write(ctx, t, err) != 0) return -1;
    apply_customer_scope(ctx, row);
    if (t->res->dedupe) {
        int rc = find_duplicate(ctx, t, row, out, err);
        if (rc != 0) {
            *found = rc == 1;
            return rc < 0 ? -1 : 0;
        }
    }
    if (ob_crud_insert_row(ctx, row, err) != 0) return -1;
    *out = row;
    return 0;
}

int ob_crud_create_row(ob_ctx *ctx, const ob_table *t, ob_row *row, ob_row **out, ob_err *err)
{
    bool found;
    return ob_crud_create_or_find(ctx, t, row, out, &found, err);
}

int ob_crud_create(ob_ctx *ctx, const ob_table *t, json_t *body, ob_row **out, ob_err *err)
{
    ob_row *row;
    if (ob_crud_body(ctx, t, body, true, &row, err) != 0) return -1;
    return ob_crud_create_row(ctx, t, row, out, err);
}

static bool row_changed(const ob_row *old, const ob_row *row)
{
    for (int i = 0; i < row->t->ncols; i++)
        if (!ob_row_col_equal(old, row, i)) return true;
    return false;
}

int ob_crud_save(ob_ctx *ctx, const ob_row *old, ob_row *row, const char *action, ob_err *err)
{
    const ob_table *t = row->t;
    const ob_hooks *h = t->res->hooks;
    if (apply_stamps(ctx, old, row, err) != 0 || apply_copy(ctx, old, row, err) != 0) return -1;
    if (h && h->before_update && h->before_update(ctx, old, row, err) != 0) return -1;
    if (!row_changed(old, row)) return 0;
    int64_t old_version = t->version_col >= 0 ? old->v[t->version_col].i : 0;
    if (t->updated_col >= 0) ob_row_set_text_at(ctx->arena, row, t->updated_col, ctx->now);
    if (t->version_col >= 0) ob_row_set_int_at(row, t->version_col, old_version + 1);
    if (ob_validate_row(ctx, row, err) != 0) return -1;
    if (apply_sole(ctx, old, row, err) != 0) return -1;
    if (ob_sql_update(ctx, row, old_version, err) != 0) return -1;
    if (t->res->flags & OB_RES_AUTH) ob_registry_auth_changed();
    if (ob_registry_record_change(ctx, action, old, row, err) != 0) return -1;
    if (h && h->after_update && h->after_update(ctx, old, row, err) != 0) return -1;
    return 0;
}

/* Copy the fields a validated body gave (patch->set) onto row. */
static void apply_patch(ob_row *row, const ob_row *patch)
{
    for (int i = 0; patch && i < row->t->ncols; i++) {
        if (!patch->set[i]) continue;
        row->v[i] = patch->v[i];
        row->set[i] = true;
    }
}

static int check_if_match(const ob_table *t, const ob_row *old, int64_t if_match, ob_err *err)
{
    if (if_match < 0 || t->version_col < 0) return 0;
    if (old->v[t->version_col].i != if_match)
        return ob_err_set(err, OB_E_VERSION, "the record is at version %lld, not %lld",
                          (long long)old->v[t->version_col].i, (long long)if_match);
    return 0;
}

int ob_crud_update_row(ob_ctx *ctx, const ob_table *t, const char *id, const ob_row *patch, int64_t if_match,
                       ob_row **out, ob_err *err)
{
    if (!(ob_methods(t, OB_ROUTE_RECORD) & OB_M_PATCH))
        return ob_err_set(err, OB_E_METHOD, "records of \"%s\" cannot be changed", t->name);
    if (confined_write(ctx, t, err) != 0) return -1;
    ob_row *old;
    if (ob_sql_load(ctx, t, id, &old, err) != 0) return -1;
    if (check_if_match(t, old, if_match, err) != 0) return -1;
    if (check_server_when_patch(old, patch, err) != 0) return -1;
    ob_row *row = ob_row_copy(ctx->arena, old);
    apply_patch(row, patch);
    if (ob_crud_save(ctx, old, row, "update", err) != 0) return -1;
    *out = row;
    return 0;
}

int ob_crud_update(ob_ctx *ctx, const ob_table *t, const char *id, json_t *body, int64_t if_match, ob_row **out,
                   ob_err *err)
{
    ob_row *patch;
    if (ob_crud_body(ctx, t, body, false, &patch, err) != 0) return -1;
    return ob_crud_update_row(ctx, t, id, patch, if_match, out, err);
}

/* Refuse when a live row of any table references id through a RESTRICT key. */
static int check_restrict(ob_ctx *ctx, const ob_table *t, const char *id, ob_err *err)
{
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *child = ob_registry_at(i);
        if (child->res->scope != t->res->scope) continue;
        /* history (logs, ledgers) may point at a soft-deleted row: it still exists */
        if (child->res->flags & (OB_RES_APPEND_ONLY | OB_RES_READONLY)) continue;
        for (int k = 0; k < child->ncols; k++) {
            const ob_column *c = child->cols[k];
            if (c->type != OB_F_REF || c->on_delete != OB_DEL_RESTRICT || strcmp(c->ref, t->name) != 0) continue;
            ob_sb sql;
            ob_sb_init_arena(&sql, ctx->arena, 128);
            ob_sb_addf(&sql, "SELECT 1 FROM \"%s\" WHERE \"%s\" = ?%s LIMIT 1", child->name, c->name,
                       child->deleted_col >= 0 ? " AND \"deleted_at\" IS NULL" : "");
            ob_stmt *st;
            if (ob_db_prepare(ctx->db, sql.buf, &st, err) != 0) return -1;
            ob_stmt_bind_text(st, 1, id, err);
            int rc = ob_stmt_step(st, err);
            ob_stmt_done(st);
            if (rc < 0) return -1;
            if (rc == 1) {
                ob_err_set(err, OB_E_IN_USE, "the %s record is referenced by %s.%s", t->name, child->name, c->name);
                return -1;
            }
        }
    }
    return 0;
}

int ob_crud_delete(ob_ctx *ctx, const ob_table *t, const char *id, int64_t if_match, ob_err *err)
{
    if (!(ob_methods(t, OB_ROUTE_RECORD) & OB_M_DELETE))
        return ob_err_set(err, OB_E_METHOD, "records of \"%s\" cannot be deleted", t->name);
    if (confined_write(ctx, t, err) != 0) return -1;
    const ob_hooks *h = t->res->hooks;
    ob_row *old;
    if (ob_sql_load(ctx, t, id, &old, err) != 0) return -1;
    if (check_if_match(t, old, if_match, err) != 0) return -1;
    if (h && h->before_delete && h->before_delete(ctx, old, err) != 0) return -1;
    if (t->deleted_col >= 0) {
        /* a soft delete keeps the row, so the database cannot enforce RESTRICT: do it here */
        if (check_restrict(ctx, t, ob_row_text_at(old, t->id_col), err) != 0) return -1;
        ob_row *row = ob_row_copy(ctx->arena, old);
        ob_row_set_text_at(ctx->arena, row, t->deleted_col, ctx->now);
        int64_t old_version = t->version_col >= 0 ? old->v[t->version_col].i : 0;
        if (t->updated_col >= 0) ob_row_set_text_at(ctx->arena, row, t->updated_col, ctx->now);
        if (t->version_col >= 0) ob_row_set_int_at(row, t->version_col, old_version + 1);
        if (ob_sql_update(ctx, row, old_version, err) != 0) return -1;
    } else if (ob_sql_delete(ctx, t, ob_row_text_at(old, t->id_col), err) != 0) {
        return -1;
    }
    if (t->res->flags & OB_RES_AUTH) ob_registry_auth_changed();
    return ob_registry_record_change(ctx, "delete", old, NULL, err);
}

static const ob_action *find_action(const ob_table *t, const char *verb)
{
    for (int i = 0; i < t->res->nactions; i++)
        if (strcmp(t->res->actions[i].verb, verb) == 0) return &t->res->actions[i];
    return NULL;
}

static bool fsm_has_event(const ob_fsm *f, const char *verb)
{
    for (int i = 0; f && i < f->n; i++)
        if (strcmp(f->rows[i].event, verb) == 0) return true;
    return false;
}

const char *ob_crud_action_perm(const ob_table *t, const char *verb)
{
    const ob_action *a = find_action(t, verb);
    if (a) return a->perm;
    const ob_fsm *f = t->res->fsm;
    for (int i = 0; f && i < f->n; i++)
        if (strcmp(f->rows[i].event, verb) == 0)
            return f->rows[i].perm ? f->rows[i].perm : f->perm ? f->perm : "edit";
    return NULL;
}

/* Whether name is in the comma list (NULL: empty). */
static bool in_list(const char *list, const char *name)
{
    return list && state_in(list, name);
}

/* An action or an event's effect may write the row itself through other
 * tables (a ledger entry moving this row's balances): what run() changed is
 * then applied on top of the row as stored now, so the save neither undoes
 * those writes nor fails on the version they bumped. */
static int rebase(ob_ctx *ctx, const ob_table *t, ob_row **old, ob_row **row, ob_err *err)
{
    if (t->version_col < 0) return 0;
    ob_row *now;
    if (ob_sql_load_internal(ctx, t, ob_row_id(*old), &now, err) != 0) return -1;
    if (now->v[t->version_col].i == (*old)->v[t->version_col].i) return 0;
    ob_row *next = ob_row_copy(ctx->arena, now);
    for (int i = 0; i < t->ncols; i++)
        if (!ob_row_col_equal(*old, *row, i)) {
            next->v[i] = (*row)->v[i];
            next->set[i] = (*row)->set[i];
        }
    *old = now;
    *row = next;
    return 0;
}

/* Refuse a body field key with code, naming it. */
static int refuse_field(ob_err *err, const char *what, const char *verb, const char *key)
{
    ob_err_set(err, OB_E_UNKNOWN_FIELD, "the %s %s takes no field \"%.60s\"", verb, what, key);
    snprintf(err->field, sizeof err->field, "%.60s", key);
    return -1;
}

int ob_crud_verb_body(ob_ctx *ctx, const ob_table *t, const char *verb, json_t *body, ob_row **out, ob_err *err)
{
    const ob_action *act = find_action(t, verb);
    const ob_fsm *f = t->res->fsm;
    *out = NULL;
    if (!act && !fsm_has_event(f, verb)) return ob_err_set(err, OB_E_NO_ROUTE, "\"%s\" has no action \"%.40s\"", t->name, verb);
    if (act) {
        const ob_table *it = t->inputs ? t->inputs[act - t->res->actions] : NULL;
        if (it) {
            ob_row *in = ob_row_new(ctx->arena, it);
            json_t *empty = body ? NULL : json_object();
            int rc = ob_validate_body(ctx, it, body ? body : empty, in, true, err);
            if (rc == 0) rc = ob_validate_row(ctx, in, err);
            json_decref(empty);
            if (rc != 0) return -1;
            *out = in;
        } else if (body && json_object_size(body) > 0) {
            /* an action that declares no input takes no fields */
            return refuse_field(err, "action", verb, json_object_iter_key(json_object_iter(body)));
        }
        return 0;
    }
    /* an event takes only the fields it declares (in any of its rows),
     * validated like a PATCH into a row holding just those fields */
    const char *key;
    json_t *val;
    if (!body || json_object_size(body) == 0) return 0;
    json_object_foreach(body, key, val) {
        bool declared = false;
        for (int i = 0; i < f->n && !declared; i++)
            declared = strcmp(f->rows[i].event, verb) == 0 && in_list(f->rows[i].fields, key);
        if (!declared) return refuse_field(err, "event", verb, key);
    }
    return ob_crud_body(ctx, t, body, false, out, err);
}

int ob_crud_run_verb(ob_ctx *ctx, const ob_table *t, const char *id, const char *verb, const ob_row *in,
                     ob_row **out, ob_err *err)
{
    const ob_action *act = find_action(t, verb);
    const ob_fsm *f = t->res->fsm;
    if (!act && !fsm_has_event(f, verb)) return ob_err_set(err, OB_E_NO_ROUTE, "\"%s\" has no action \"%.40s\"", t->name, verb);
    if (confined_write(ctx, t, err) != 0) return -1;
    ob_row *old;
    if (ob_sql_load(ctx, t, id, &old, err) != 0) return -1;
    ob_row *row = ob_row_copy(ctx->arena, old);
    ctx->input = NULL;
    if (act) {
        ctx->input = in;
        if (act->from) {
            const char *state = old->v[t->state_col].s;
            if (!state_in(act->from, state))
                return ob_err_set(err, OB_E_BAD_STATE, "cannot %s a %s record that is \"%s\"", verb, t->name, state);
            if (act->to) ob_row_set_text_at(ctx->arena, row, t->state_col, act->to);
        }
        if (act->run(ctx, old, row, err) != 0) return -1;
    } else {
        const char *state = old->v[t->state_col].s;
        const ob_transition *tr = NULL;
        for (int i = 0; i < f->n && !tr; i++)
            if (strcmp(f->rows[i].event, verb) == 0 && state_in(f->rows[i].from, state)) tr = &f->rows[i];
        if (!tr)
            return ob_err_set(err, OB_E_BAD_STATE, "cannot %s a %s record that is \"%s\"", verb, t->name, state);
        /* a field this row of the event does not take */
        for (int i = 0; in && i < t->ncols; i++) {
            if (!in->set[i] || in_list(tr->fields, t->cols[i]->name)) continue;
            ob_err_set(err, OB_E_UNKNOWN_FIELD, "the %s event from \"%s\" takes no field \"%.60s\"", verb, state,
                       t->cols[i]->name);
            snprintf(err->field, sizeof err->field, "%.60s", t->cols[i]->name);
            return -1;
        }
        apply_patch(row, in);
        ob_row_set_text_at(ctx->arena, row, t->state_col, tr->to);
        if (tr->guard && tr->guard(ctx, row, err) != 0) return -1;
        if (tr->effect && tr->effect(ctx, old, row, err) != 0) return -1;
    }
    if (rebase(ctx, t, &old, &row, err) != 0) return -1;
    if (ob_crud_save(ctx, old, row, verb, err) != 0) return -1;
    *out = row;
    return 0;
}

int ob_crud_action(ob_ctx *ctx, const ob_table *t, const char *id, const char *verb, json_t *body, ob_row **out,
                   ob_err *err)
{
    ob_row *in;
    if (ob_crud_verb_body(ctx, t, verb, body, &in, err) != 0) return -1;
    return ob_crud_run_verb(ctx, t, id, verb, in, out, err);
}
