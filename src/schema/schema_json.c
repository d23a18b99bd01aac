/* schema_json.c - {"version":N,"tables":[{"name":...,"columns":[...]}]}. */
#include <stdio.h>

#include "base/base.h"
#include "schema/events.h"
#include "schema/indexes.h"
#include "schema/methods.h"
#include "schema/registry.h"
#include "schema/schema_json.h"
#include "base/banned.h"

const char *ob_ftype_name(int type)
{
    static const char *const names[] = {"text", "integer", "decimal", "real", "boolean", "timestamp",
                                        "date", "json", "enum", "reference", "id"};
    return type >= 0 && type < (int)OB_ARRAY_LEN(names) ? names[type] : "unknown";
}

static void flag(ob_jsonw *w, const char *key, unsigned flags, unsigned bit)
{
    if (flags & bit) ob_jw_kbool(w, key, true);
}

/* "key": ["GET", ...] of a route, as the server answers it (schema/methods.h). */
static void methods(ob_jsonw *w, const char *key, unsigned m)
{
    static const char *const names[] = {"GET", "POST", "PATCH", "DELETE"};
    ob_jw_key(w, key);
    ob_jw_arr_open(w);
    for (size_t i = 0; i < OB_ARRAY_LEN(names); i++)
        if (m & (1u << i)) ob_jw_str(w, names[i]);
    ob_jw_arr_close(w);
}

static const char *on_delete(ob_on_delete d)
{
    return d == OB_DEL_CASCADE ? "cascade" : d == OB_DEL_SET_NULL ? "set_null" : "restrict";
}

static void column(ob_jsonw *w, const ob_column *c)
{
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "name", c->name);
    ob_jw_kstr(w, "type", ob_ftype_name(c->type));
    if (c->type == OB_F_TEXT) ob_jw_ki64(w, "max_length", c->max);
    if (c->type == OB_F_DECIMAL) ob_jw_ki64(w, "scale", ob_col_scale(c));
    bool ranged = c->type == OB_F_INT || c->type == OB_F_DECIMAL || c->type == OB_F_REAL;
    if (ranged && (c->flags & OB_HAS_MIN)) {
        ob_jw_ki64(w, "min", c->min);
        if (c->flags & OB_MIN_EXCL) ob_jw_kbool(w, "min_exclusive", true);
    }
    if (ranged && (c->flags & OB_HAS_MAX)) ob_jw_ki64(w, "max", c->max);
    if (c->enm) { /* an enum, or a JSON array of its values */
        ob_jw_key(w, "values");
        ob_jw_arr_open(w);
        for (int k = 0; k < c->enm->n; k++) ob_jw_str(w, c->enm->values[k]);
        ob_jw_arr_close(w);
    }
    if (c->type == OB_F_REF) {
        ob_jw_kstr(w, "references", c->ref);
        ob_jw_kstr(w, "on_delete", on_delete(c->on_delete));
    }
    ob_jw_kbool(w, "nullable", !(c->flags & OB_REQUIRED));
    if (c->dflt) ob_jw_kstr(w, "default", c->dflt);
    flag(w, "unique", c->flags, OB_UNIQUE);
    flag(w, "indexed", c->flags, OB_INDEXED);
    flag(w, "searchable", c->flags, OB_SEARCH);
    flag(w, "sortable", c->flags, OB_SORT);
    flag(w, "server_set", c->flags, OB_SERVER);
    if (c->server_when) ob_jw_kstr(w, "server_set_when", c->server_when);
    flag(w, "immutable", c->flags, OB_IMMUTABLE);
    flag(w, "secret", c->flags, OB_SECRET);
    flag(w, "encrypted", c->flags, OB_ENCRYPTED);
    flag(w, "masked", c->flags, OB_MASKED);
    flag(w, "personal", c->flags, OB_PERSONAL);
    flag(w, "implicit", c->flags, OB_IMPLICIT);
    flag(w, "server_default", c->flags, OB_GENERATED);
    flag(w, "staff_only", c->flags, OB_STAFF);
    flag(w, "customer_writable", c->flags, OB_CUSTOMER_WRITE);
    if (c->image_of) ob_jw_kstr(w, "row_image_of", c->image_of);
    if (c->number_prefix) ob_jw_kstr(w, "number_prefix", c->number_prefix);
    if (c->stamp != OB_STAMP_NONE) {
        ob_jw_kstr(w, "stamp", c->stamp == OB_STAMP_NOW ? "now" : "actor");
        if (c->stamp_on) ob_jw_kstr(w, "stamp_on", c->stamp_on);
        if (c->clear_on) ob_jw_kstr(w, "clear_on", c->clear_on);
    }
    if (c->gen) ob_jw_kstr(w, "generated_as", c->gen);
    if (c->pattern) ob_jw_kstr(w, "pattern", c->pattern);
    if (c->doc) ob_jw_kstr(w, "doc", c->doc);
    ob_jw_obj_close(w);
}

void ob_schema_json(ob_sb *out)
{
    ob_jsonw w;
    ob_jw_init(&w, out);
    ob_jw_obj_open(&w);
    ob_jw_ki64(&w, "version", ob_registry_version());
    ob_jw_key(&w, "tables");
    ob_jw_arr_open(&w);
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        const ob_resource *r = t->res;
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "name", t->name);
        ob_jw_kstr(&w, "database", r->scope == OB_SCOPE_CONTROL ? "control" : "tenant");
        if (r->doc) ob_jw_kstr(&w, "doc", r->doc);
        ob_jw_kstr(&w, "permission_module", r->perm);
        {
            /* the codes the gate checks, overrides applied, so clients and
             * tests need not restate them */
            static const char *const verbs[] = {"view", "create", "edit", "delete"};
            const char *over[] = {r->perm_view, r->perm_create, r->perm_edit, r->perm_delete};
            char code[128];
            ob_jw_key(&w, "permissions");
            ob_jw_obj_open(&w);
            for (int v = 0; v < 4; v++) {
                if (!over[v]) snprintf(code, sizeof code, "%s.%s", r->perm, verbs[v]);
                ob_jw_kstr(&w, verbs[v], over[v] ? over[v] : code);
            }
            ob_jw_obj_close(&w);
        }
        ob_jw_kbool(&w, "api", !(r->flags & OB_RES_NO_API));
        ob_jw_kbool(&w, "read_only", (r->flags & OB_RES_READONLY) != 0);
        ob_jw_kbool(&w, "soft_delete", (r->flags & OB_RES_SOFT_DELETE) != 0);
        ob_jw_kbool(&w, "append_only", (r->flags & OB_RES_APPEND_ONLY) != 0);
        /* rows made by uploading content, not by a JSON create */
        if (r->flags & OB_RES_UPLOAD) ob_jw_kbool(&w, "upload", true);
        /* GET .../{id}/content serves an uploaded file */
        if (ob_registry_content_of(t)) ob_jw_kbool(&w, "content", true);
        /* GET .../{id}/<name> serves a file made from it (ob_resource.variants) */
        if (r->nvariants) {
            ob_jw_key(&w, "variants");
            ob_jw_arr_open(&w);
            for (int k = 0; k < r->nvariants; k++) ob_jw_str(&w, r->variants[k].name);
            ob_jw_arr_close(&w);
        }
        /* GET .../{id}/<name> answers JSON read from the record (ob_resource.views) */
        if (r->nviews) {
            ob_jw_key(&w, "views");
            ob_jw_arr_open(&w);
            for (int k = 0; k < r->nviews; k++) ob_jw_str(&w, r->views[k].name);
            ob_jw_arr_close(&w);
        }
        if (r->copy) {
            ob_jw_key(&w, "copy");
            ob_jw_obj_open(&w);
            ob_jw_kstr(&w, "reference", r->copy->ref);
            ob_jw_kbool(&w, "required", r->copy->required);
            ob_jw_key(&w, "columns");
            ob_jw_obj_open(&w);
            for (int k = 0; k < r->copy->ncols; k++) ob_jw_kstr(&w, r->copy->cols[k].to, r->copy->cols[k].from);
            ob_jw_obj_close(&w);
            ob_jw_obj_close(&w);
        }
        {
            /* the domain events its changes emit (webhooks subscribe to these) */
            ob_arena a;
            ob_arena_init(&a, 0);
            const char **ev;
            int nev = ob_events_of_table(t, &a, &ev);
            if (nev) {
                ob_jw_key(&w, "events");
                ob_jw_arr_open(&w);
                for (int k = 0; k < nev; k++) ob_jw_str(&w, ev[k]);
                ob_jw_arr_close(&w);
            }
            ob_arena_release(&a);
        }
        if (!(r->flags & OB_RES_NO_API)) {
            ob_jw_key(&w, "methods");
            ob_jw_obj_open(&w);
            methods(&w, "collection", ob_methods(t, OB_ROUTE_COLLECTION));
            methods(&w, "record", ob_methods(t, OB_ROUTE_RECORD));
            ob_jw_obj_close(&w);
        }
        if (r->customer_scope) ob_jw_kstr(&w, "customer_scope", r->customer_scope);
        if (r->nactions) {
            ob_jw_key(&w, "actions");
            ob_jw_arr_open(&w);
            for (int k = 0; k < r->nactions; k++) {
                const ob_action *a = &r->actions[k];
                char code[128];
                snprintf(code, sizeof code, "%s.%s", r->perm, a->perm);
                ob_jw_obj_open(&w);
                ob_jw_kstr(&w, "verb", a->verb);
                ob_jw_kstr(&w, "permission", code);
                if (a->doc) ob_jw_kstr(&w, "doc", a->doc);
                ob_jw_key(&w, "input");
                ob_jw_arr_open(&w);
                for (int j = 0; j < a->ninput; j++) column(&w, &a->input[j]);
                ob_jw_arr_close(&w);
                ob_jw_obj_close(&w);
            }
            ob_jw_arr_close(&w);
        }
        if (r->ledger) {
            static const char *const cmp[] = {"=", "<>", "<", "<=", ">", ">="};
            const ob_ledger *l = r->ledger;
            ob_jw_key(&w, "ledger");
            ob_jw_obj_open(&w);
            ob_jw_kstr(&w, "parent", l->parent);
            if (l->kind) ob_jw_kstr(&w, "kind", l->kind);
            ob_jw_kstr(&w, "amount", l->amount);
            ob_jw_key(&w, "moves");
            ob_jw_arr_open(&w);
            for (int k = 0; k < l->nmoves; k++) {
                ob_jw_obj_open(&w);
                if (l->moves[k].when) ob_jw_kstr(&w, "when", l->moves[k].when);
                ob_jw_kstr(&w, "balance", l->moves[k].balance);
                ob_jw_ki64(&w, "sign", l->moves[k].sign);
                ob_jw_obj_close(&w);
            }
            ob_jw_arr_close(&w);
            ob_jw_key(&w, "bounds");
            ob_jw_arr_open(&w);
            for (int k = 0; k < l->nbounds; k++) {
                const ob_ledger_bound *b = &l->bounds[k];
                char text[160];
                if (b->right) snprintf(text, sizeof text, "%s %s %s", b->left, cmp[b->op], b->right);
                else snprintf(text, sizeof text, "%s %s %lld", b->left, cmp[b->op], (long long)b->constant);
                ob_jw_str(&w, text);
            }
            ob_jw_arr_close(&w);
            ob_jw_kstr(&w, "refusal", ob_err_code_str(l->refusal));
            ob_jw_obj_close(&w);
        }
        if (r->quota) {
            static const char *const limits[] = {"none", "tickets_per_month", "orders_per_month"};
            ob_jw_key(&w, "quota");
            ob_jw_obj_open(&w);
            ob_jw_kstr(&w, "limit", limits[r->quota->limit]);
            ob_jw_kstr(&w, "period", "month");
            ob_jw_obj_close(&w);
        }
        if (r->retention) {
            const ob_retention *rt = r->retention;
            ob_jw_key(&w, "retention");
            ob_jw_obj_open(&w);
            ob_jw_ki64(&w, "days", rt->days);
            ob_jw_kstr(&w, "age_column", rt->age_col ? rt->age_col : "created_at");
            if (rt->when) ob_jw_kstr(&w, "when", rt->when);
            if (rt->customer_col) ob_jw_kstr(&w, "customer_column", rt->customer_col);
            if (rt->source) ob_jw_kstr(&w, "source", rt->source);
            ob_jw_obj_close(&w);
        }
        if (r->ncustomer_rows) {
            ob_jw_key(&w, "customer_rows");
            ob_jw_arr_open(&w);
            for (int k = 0; k < r->ncustomer_rows; k++) {
                ob_jw_obj_open(&w);
                ob_jw_kstr(&w, "column", r->customer_rows[k].col);
                ob_jw_kstr(&w, "equals", r->customer_rows[k].equals);
                ob_jw_obj_close(&w);
            }
            ob_jw_arr_close(&w);
        }
        ob_jw_key(&w, "columns");
        ob_jw_arr_open(&w);
        for (int k = 0; k < t->ncols; k++) column(&w, t->cols[k]);
        ob_jw_arr_close(&w);
        if (r->dedupe) ob_jw_kstr(&w, "dedupe", r->dedupe);
        ob_jw_key(&w, "indexes");
        ob_jw_arr_open(&w);
        ob_index_def plan[OB_INDEX_MAX];
        int nplan = ob_index_plan(t, ob_registry_version(), plan, OB_INDEX_MAX);
        for (int k = 0; k < r->nindexes; k++) {
            ob_jw_obj_open(&w);
            ob_jw_kstr(&w, "columns", r->indexes[k].cols);
            ob_jw_kbool(&w, "unique", r->indexes[k].unique);
            if (r->indexes[k].where) ob_jw_kstr(&w, "where", r->indexes[k].where);
            bool made = false; /* not made: another index leads with its columns (indexes.h) */
            for (int m = 0; m < nplan && !made; m++) made = plan[m].decl == k;
            if (!made) ob_jw_kbool(&w, "covered", true);
            ob_jw_obj_close(&w);
        }
        ob_jw_arr_close(&w);
        if (r->nchecks) {
            static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">="};
            ob_jw_key(&w, "checks");
            ob_jw_arr_open(&w);
            for (int k = 0; k < r->nchecks; k++) {
                ob_jw_obj_open(&w);
                ob_jw_kstr(&w, "name", r->checks[k].name);
                ob_jw_kstr(&w, "left", r->checks[k].left);
                ob_jw_kstr(&w, "op", ops[r->checks[k].op]);
                ob_jw_kstr(&w, "right", r->checks[k].right);
                ob_jw_obj_close(&w);
            }
            ob_jw_arr_close(&w);
        }
        if (r->fsm) {
            ob_jw_key(&w, "state_machine");
            ob_jw_obj_open(&w);
            ob_jw_kstr(&w, "column", r->fsm->column);
            ob_jw_key(&w, "transitions");
            ob_jw_arr_open(&w);
            for (int k = 0; k < r->fsm->n; k++) {
                ob_jw_obj_open(&w);
                ob_jw_kstr(&w, "event", r->fsm->rows[k].event);
                ob_jw_kstr(&w, "from", r->fsm->rows[k].from);
                ob_jw_kstr(&w, "to", r->fsm->rows[k].to);
                const char *pv = r->fsm->rows[k].perm ? r->fsm->rows[k].perm : r->fsm->perm ? r->fsm->perm : "edit";
                char code[128];
                snprintf(code, sizeof code, "%s.%s", r->perm, pv);
                ob_jw_kstr(&w, "permission", code);
                if (r->fsm->rows[k].fields) ob_jw_kstr(&w, "fields", r->fsm->rows[k].fields);
                ob_jw_obj_close(&w);
            }
            ob_jw_arr_close(&w);
            ob_jw_obj_close(&w);
        }
        ob_jw_obj_close(&w);
    }
    ob_jw_arr_close(&w);
    ob_jw_obj_close(&w);
}
