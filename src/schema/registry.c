/* registry.c - runtime views of the declared resources. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "schema/indexes.h"
#include "schema/registry.h"
#include "base/banned.h"

/* Given by ob_registry_use before the first use: the engine knows no table
 * and no audit writer of its own, so it can run over fixture tables too. */
static const ob_resource *const *declared;
static int NRES;
static ob_change_writer change_writer;
static const ob_colh *handles;
static int nhandles;

static const ob_column col_id = {"id", OB_F_ID, .max = 36, .flags = OB_REQUIRED | OB_SERVER | OB_IMPLICIT | OB_SORT,
                                 .doc = "UUIDv7, time ordered"};
static const ob_column col_created = {"created_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SERVER | OB_IMPLICIT | OB_SORT};
static const ob_column col_updated = {"updated_at", OB_F_TIMESTAMP, .flags = OB_REQUIRED | OB_SERVER | OB_IMPLICIT | OB_SORT};
static const ob_column col_version = {"version", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER | OB_IMPLICIT,
                                      .doc = "starts at 1, +1 per change; the ETag"};
static const ob_column col_deleted = {"deleted_at", OB_F_TIMESTAMP, .flags = OB_SERVER | OB_IMPLICIT,
                                      .doc = "soft delete: set by DELETE"};

static ob_table *tables;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int schema_version;

static void die(const char *table, const char *col, const char *why)
{
    fprintf(stderr, "opsbase: registry: table \"%s\" column \"%s\": %s\n", table, col ? col : "-", why);
    abort();
}

/* A searchable table's number in its database's full-text table: its rows
 * are the rowids (number << 40) + row rowid (ddl.c), so the number must stay
 * the table's for good. Taken from the name (FNV-1a folded to 22 bits), so
 * no catalog holds it and adding or removing another table never moves it;
 * two tables of one database whose names collide stop the start-up, and one
 * of them then declares a free number (ob_resource.fts_no). */
static int fts_no_of(const ob_resource *r)
{
    if (r->fts_no > 0) return r->fts_no;
    uint32_t h = 2166136261u;
    for (const char *p = r->table; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ (h >> 22)) & 0x3fffffu;
    return h ? (int)h : 1;
}

static void assign_fts_no(ob_table *t, int i)
{
    if (t->nsearch == 0) return;
    if (t->res->fts_no < 0 || t->res->fts_no > 0x3fffff) die(t->name, NULL, "fts_no out of 1..4194303");
    t->fts_no = fts_no_of(t->res);
    for (int j = 0; j < i; j++)
        if (tables[j].fts_no == t->fts_no && tables[j].res->scope == t->res->scope)
            die(t->name, NULL, "full-text number collides with another table's: declare a free fts_no");
}

static int find_decl(const char *name)
{
    for (int i = 0; i < NRES; i++)
        if (strcmp(declared[i]->table, name) == 0) return i;
    return -1;
}

static void check_column(const ob_resource *r, const ob_column *c)
{
    if (c->type == OB_F_REF) {
        int j = c->ref ? find_decl(c->ref) : -1;
        if (j < 0) die(r->table, c->name, "reference to an unknown table");
        if (declared[j]->scope != r->scope) die(r->table, c->name, "reference across databases");
    }
    if (c->type == OB_F_ENUM && !c->enm) die(r->table, c->name, "enum without values");
    if (c->type == OB_F_ENUM && c->dflt) {
        bool ok = false;
        for (int k = 0; k < c->enm->n; k++) ok |= strcmp(c->enm->values[k], c->dflt) == 0;
        if (!ok) die(r->table, c->name, "default is not one of the enum values");
    }
    if (c->type == OB_F_TEXT && c->max <= 0) die(r->table, c->name, "text without a max length");
    if ((c->flags & OB_SEARCH) && c->type != OB_F_TEXT) die(r->table, c->name, "only text is searchable");
    if (c->gen && !(c->flags & OB_SERVER)) die(r->table, c->name, "a generated column must be server-set");
    if ((c->flags & OB_CUSTOMER_WRITE) && (c->flags & (OB_SERVER | OB_STAFF)))
        die(r->table, c->name, "customer-writable and server-set or staff-only at once");
    if (c->number_prefix && (c->type != OB_F_TEXT || !(c->flags & (OB_SERVER | OB_GENERATED))))
        die(r->table, c->name, "a numbered column is server-set or filled when absent text");
    if (c->stamp != OB_STAMP_NONE) {
        if (!(c->flags & OB_SERVER)) die(r->table, c->name, "a stamped column must be server-set");
        if (c->stamp == OB_STAMP_NOW && c->type != OB_F_TIMESTAMP) die(r->table, c->name, "a time stamp needs a timestamp");
        if (c->stamp == OB_STAMP_ACTOR && !(c->type == OB_F_REF && !strcmp(c->ref, "users")) && c->type != OB_F_TEXT)
            die(r->table, c->name, "an actor stamp needs a reference to users or text");
        if (c->stamp_on && !r->fsm && !r->state)
            die(r->table, c->name, "a stamp on a state needs a state machine or a state column");
        if (c->clear_on && !c->stamp_on) die(r->table, c->name, "clear_on without stamp_on");
    } else if (c->stamp_on || c->clear_on) {
        die(r->table, c->name, "stamp_on or clear_on without a stamp");
    }
    if ((c->flags & OB_ENCRYPTED) &&
        ((c->type != OB_F_TEXT && c->type != OB_F_JSON) || (c->flags & (OB_SEARCH | OB_SORT | OB_UNIQUE | OB_INDEXED)) || c->gen))
        die(r->table, c->name, "an encrypted column is text or JSON, never searched, sorted, unique or indexed");
    if (c->blind_of) {
        bool named = false;
        for (int j = 0; j < r->ncols; j++)
            named |= strcmp(r->cols[j].name, c->blind_of) == 0 && (r->cols[j].flags & OB_ENCRYPTED);
        if (c->type != OB_F_TEXT || !(c->flags & OB_SERVER) || !named)
            die(r->table, c->name, "a lookup hash is server-set text naming an encrypted column of its row");
    }
    if (c->image_of) {
        bool named = false;
        for (int j = 0; j < r->ncols; j++) named |= strcmp(r->cols[j].name, c->image_of) == 0;
        if (c->type != OB_F_JSON || !named) die(r->table, c->name, "row image: a JSON column naming a column of its row");
    }
}

static void check_row_rule(const ob_resource *r, const ob_row_rule *rr)
{
    const ob_column *c = NULL;
    for (int j = 0; j < r->ncols; j++)
        if (strcmp(r->cols[j].name, rr->col) == 0) c = &r->cols[j];
    if (!c) die(r->table, rr->col, "customer row rule names an unknown column");
    if (!(c->flags & OB_REQUIRED)) die(r->table, rr->col, "customer row rule on a nullable column");
    bool ok = false;
    int64_t x;
    switch (c->type) {
    case OB_F_BOOL: ok = !strcmp(rr->equals, "true") || !strcmp(rr->equals, "false"); break;
    case OB_F_INT: ok = ob_parse_i64(rr->equals, &x) == 0; break;
    case OB_F_ENUM:
        for (int k = 0; k < c->enm->n; k++) ok |= strcmp(c->enm->values[k], rr->equals) == 0;
        break;
    default: break;
    }
    if (!ok) die(r->table, rr->col, "customer row rule value does not fit the column (bool, int or enum)");
}

static const ob_column *decl_col(const ob_resource *r, const char *name)
{
    for (int j = 0; name && j < r->ncols; j++)
        if (strcmp(r->cols[j].name, name) == 0) return &r->cols[j];
    return NULL;
}

/* Each action's declared input as a table of its own (no implicit columns),
 * so the validator that reads request bodies reads action bodies too. */
static const ob_table *const *build_inputs(const ob_resource *r)
{
    const ob_table **inputs = calloc((size_t)r->nactions, sizeof *inputs);
    if (!inputs) abort();
    for (int a = 0; a < r->nactions; a++) {
        const ob_action *act = &r->actions[a];
        if (!act->input) continue;
        ob_table *it = calloc(1, sizeof *it);
        ob_resource *ir = calloc(1, sizeof *ir);
        const ob_column **cols = calloc((size_t)act->ninput, sizeof *cols);
        if (!it || !ir || !cols) abort();
        size_t n = strlen(r->table) + strlen(act->verb) + 2;
        char *name = malloc(n);
        if (!name) abort();
        snprintf(name, n, "%s.%s", r->table, act->verb);
        /* a resource of its own: none of the table's checks, scope or hooks apply */
        ir->table = name;
        ir->doc = act->doc;
        ir->cols = act->input;
        ir->ncols = act->ninput;
        ir->perm = r->perm;
        ir->scope = r->scope;
        ir->flags = OB_RES_NO_API;
        it->res = ir;
        it->name = name;
        it->id_col = it->created_col = it->updated_col = it->version_col = it->deleted_col = it->state_col = -1;
        for (int j = 0; j < act->ninput; j++) {
            const ob_column *c = &act->input[j];
            check_column(r, c);
            if (c->flags & (OB_SERVER | OB_SEARCH | OB_UNIQUE | OB_INDEXED) || c->gen || c->stamp)
                die(name, c->name, "an action input is a plain field (no server, search, unique or index flags)");
            cols[j] = c;
        }
        it->cols = cols;
        it->ncols = act->ninput;
        inputs[a] = it;
    }
    return inputs;
}

/* Whether each item of a comma list is one of the enum's values. */
static bool enum_list(const ob_enum *e, const char *list)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        bool ok = false;
        for (int k = 0; k < e->n; k++) ok |= strlen(e->values[k]) == n && !strncmp(e->values[k], p, n);
        if (!ok) return false;
        p += n;
        if (*p) p++;
    }
    return true;
}

/* The states stamps are written and cleared on are values of the state
 * column, a state machine's or the resource's own. */
static void check_states(const ob_resource *r, const ob_table *t)
{
    const ob_column *sc = t->cols[t->state_col];
    if (sc->type != OB_F_ENUM) die(r->table, sc->name, "a state column must be an enum");
    for (int j = 0; j < r->ncols; j++) {
        if (r->cols[j].stamp_on && !enum_list(sc->enm, r->cols[j].stamp_on))
            die(r->table, r->cols[j].name, "stamp_on names a state the enum does not have");
        if (r->cols[j].clear_on && !enum_list(sc->enm, r->cols[j].clear_on))
            die(r->table, r->cols[j].name, "clear_on names a state the enum does not have");
    }
}

/* States and event fields are checked against the declaration. */
static void check_fsm(const ob_resource *r, const ob_table *t)
{
    const ob_column *sc = t->cols[t->state_col];
    for (int a = 0; a < r->nactions; a++) {
        const ob_action *act = &r->actions[a];
        if (!act->to && !act->from) continue;
        if (!act->from || !enum_list(sc->enm, act->from) || (act->to && !enum_list(sc->enm, act->to)))
            die(r->table, act->verb, "an action's from (and to, if any) must name states of the state machine");
    }
    for (int i = 0; i < r->fsm->n; i++) {
        const ob_transition *tr = &r->fsm->rows[i];
        if ((strcmp(tr->from, "*") && !enum_list(sc->enm, tr->from)) || !enum_list(sc->enm, tr->to))
            die(r->table, tr->event, "transition names a state its column's enum does not have");
        for (const char *p = tr->fields; p && *p;) {
            size_t n = strcspn(p, ",");
            bool ok = false;
            for (int j = 0; j < r->ncols; j++)
                ok |= strlen(r->cols[j].name) == n && !strncmp(r->cols[j].name, p, n) &&
                      !(r->cols[j].flags & OB_SERVER);
            if (!ok) die(r->table, tr->event, "event field is not a client-writable column");
            p += n;
            if (*p) p++;
        }
    }
}

/* The columns a dedupe lists exist; a flag event names a boolean column. */
static void check_dedupe_and_flag_event(const ob_table *t)
{
    const ob_resource *r = t->res;
    for (const char *p = r->dedupe; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char name[64];
        if (n == 0 || n >= sizeof name) die(r->table, r->dedupe, "dedupe: a comma list of columns");
        memcpy(name, p, n);
        name[n] = 0;
        if (ob_table_col(t, name) < 0) die(r->table, r->dedupe, "dedupe names an unknown column");
        p = end ? end + 1 : NULL;
    }
    if (!r->flag_event) return;
    int c = ob_table_col(t, r->flag_event->col);
    if (c < 0 || (t->cols[c]->type != OB_F_BOOL && t->cols[c]->type != OB_F_TIMESTAMP) || !r->flag_event->name)
        die(r->table, r->flag_event->col, "flag event: a boolean or timestamp column and an event name");
}

static void check_ledger(const ob_resource *r)
{
    const ob_ledger *l = r->ledger;
    const ob_column *pc = decl_col(r, l->parent), *kc = decl_col(r, l->kind), *ac = decl_col(r, l->amount);
    if (!pc || pc->type != OB_F_REF || !(pc->flags & OB_REQUIRED)) die(r->table, l->parent, "ledger parent: a required reference");
    if (l->kind && (!kc || kc->type != OB_F_ENUM || !(kc->flags & OB_REQUIRED)))
        die(r->table, l->kind, "ledger kind: a required enum");
    if (!ac || (ac->type != OB_F_INT && ac->type != OB_F_DECIMAL) || !(ac->flags & OB_REQUIRED))
        die(r->table, l->amount, "ledger amount: a required int or decimal");
    if (!(r->flags & OB_RES_APPEND_ONLY)) die(r->table, NULL, "ledger entries must be append-only");
    if (l->refusal == OB_E_OK) die(r->table, NULL, "ledger without a refusal code");
    const ob_resource *parent = declared[find_decl(pc->ref)];
    for (int i = 0; i < l->nmoves; i++) {
        const ob_ledger_move *m = &l->moves[i];
        const ob_column *b = decl_col(parent, m->balance);
        if (!b || b->type != ac->type || ob_col_scale(b) != ob_col_scale(ac) || !(b->flags & OB_SERVER) ||
            !(b->flags & OB_REQUIRED) || !b->dflt)
            die(r->table, m->balance, "ledger balance: a required, server-set parent column with a default, "
                                      "of the amount's type and scale");
        if (m->sign != 1 && m->sign != -1) die(r->table, m->balance, "ledger move sign must be +1 or -1");
        bool ok = !m->when;
        for (int k = 0; kc && m->when && k < kc->enm->n; k++) ok |= strcmp(kc->enm->values[k], m->when) == 0;
        if (!ok || (m->when && !kc)) die(r->table, m->balance, "ledger move names an unknown kind");
    }
    if (l->nmoves > OB_LEDGER_MAX_BALANCES) die(r->table, NULL, "too many ledger moves");
    for (int i = 0; i < l->nbounds; i++) {
        const ob_ledger_bound *b = &l->bounds[i];
        if (!decl_col(parent, b->left) || (b->right && !decl_col(parent, b->right)) ||
            (b->op != OB_CMP_GTE && b->op != OB_CMP_LTE))
            die(r->table, b->left, "ledger bound: parent columns compared with >= or <=");
    }
}

static void check_copy(const ob_resource *r)
{
    const ob_ref_copy *cp = r->copy;
    const ob_column *rc = decl_col(r, cp->ref);
    if (!rc || rc->type != OB_F_REF || find_decl(rc->ref) < 0) die(r->table, cp->ref, "copy: a reference column");
    const ob_resource *src = declared[find_decl(rc->ref)];
    for (int i = 0; i < cp->ncols; i++) {
        const ob_column *to = decl_col(r, cp->cols[i].to), *from = decl_col(src, cp->cols[i].from);
        if (!to || !(to->flags & OB_SERVER)) die(r->table, cp->cols[i].to, "copy: the target must be server-set");
        if (!from || from->type != to->type) die(r->table, cp->cols[i].to, "copy: a source column of the same type");
    }
}

/* A variant names a server-set reference to the upload table, and a name
 * no other route of a record takes. A sole flag is a boolean over declared
 * columns. A server_when rule names a text or enum column and a value. */
static void check_variants_and_sole(const ob_resource *r)
{
    for (int i = 0; i < r->nvariants; i++) {
        const ob_file_variant *v = &r->variants[i];
        const ob_column *c = decl_col(r, v->ref);
        int j = c && c->type == OB_F_REF ? find_decl(c->ref) : -1;
        if (j < 0 || !(declared[j]->flags & OB_RES_UPLOAD) || !(c->flags & OB_SERVER))
            die(r->table, v->ref, "variant: a server-set reference to an upload table");
        if (!strcmp(v->name, "content")) die(r->table, v->name, "variant: 'content' is the upload's own route");
    }
    for (int i = 0; i < r->ncols; i++) {
        const ob_column *c = &r->cols[i];
        if (!c->sole_per) continue;
        if (c->type != OB_F_BOOL) die(r->table, c->name, "sole_per on a column that is not boolean");
        char buf[128];
        snprintf(buf, sizeof buf, "%s", c->sole_per);
        for (char *p = buf, *e; p; p = e ? e + 1 : NULL) {
            e = strchr(p, ',');
            if (e) *e = 0;
            if (!decl_col(r, p)) die(r->table, c->name, "sole_per names an unknown column");
        }
    }
    for (int i = 0; i < r->ncols; i++) {
        const ob_column *c = &r->cols[i];
        if (!c->server_when) continue;
        char buf[64];
        snprintf(buf, sizeof buf, "%s", c->server_when);
        char *eq = strchr(buf, '=');
        if (eq) *eq = 0;
        const ob_column *k = eq ? decl_col(r, buf) : NULL;
        if (!k || (k->type != OB_F_ENUM && k->type != OB_F_TEXT) || !eq[1])
            die(r->table, c->name, "server_when: \"col=value\" over a text or enum column");
        if (c->type == OB_F_INT || c->type == OB_F_DECIMAL || c->type == OB_F_REAL || c->type == OB_F_BOOL ||
            c->type == OB_F_JSON || (c->flags & OB_SERVER))
            die(r->table, c->name, "server_when on a column the rule cannot compare, or one always server-set");
    }
}

static void check_retention(const ob_table *t)
{
    const ob_retention *rt = t->res->retention;
    if (rt->days < 1) die(t->name, NULL, "retention of less than a day");
    int age = rt->age_col ? ob_table_col(t, rt->age_col) : t->created_col;
    if (age < 0 || t->cols[age]->type != OB_F_TIMESTAMP) die(t->name, rt->age_col, "retention age: a timestamp column");
    if (rt->customer_col) {
        int c = ob_table_col(t, rt->customer_col);
        if (c < 0 || t->cols[c]->type != OB_F_REF || strcmp(t->cols[c]->ref, "customers") != 0)
            die(t->name, rt->customer_col, "retention customer: a reference to customers");
    }
    if (t->res->scope != OB_SCOPE_TENANT) die(t->name, NULL, "retention on a control table");
    if (t->res->ledger) die(t->name, NULL, "retention on a ledger: its balance is the sum of all its entries");
}

static int check_handles(const ob_colh *list, int n, char *why, size_t whylen);

static void build(void)
{
    if (!declared) {
        fprintf(stderr, "opsbase: registry: used before any table was declared (ob_registry_use)\n");
        abort();
    }
    tables = calloc((size_t)NRES, sizeof *tables);
    if (!tables) abort();
    for (int i = 0; i < NRES; i++) {
        const ob_resource *r = declared[i];
        ob_table *t = &tables[i];
        bool append = r->flags & OB_RES_APPEND_ONLY;
        bool soft = r->flags & OB_RES_SOFT_DELETE;
        int n = 2 + (append ? 0 : 2) + (soft ? 1 : 0) + r->ncols;
        const ob_column **cols = calloc((size_t)n, sizeof *cols);
        if (!cols) abort();
        int k = 0;
        t->res = r;
        t->name = r->table;
        t->updated_col = t->version_col = t->deleted_col = t->state_col = -1;
        t->id_col = k;
        cols[k++] = &col_id;
        t->created_col = k;
        cols[k++] = &col_created;
        if (!append) {
            t->updated_col = k;
            cols[k++] = &col_updated;
            t->version_col = k;
            cols[k++] = &col_version;
        }
        if (soft) {
            t->deleted_col = k;
            cols[k++] = &col_deleted;
        }
        for (int j = 0; j < r->ncols; j++) {
            const ob_column *c = &r->cols[j];
            for (int m = 0; m < k; m++)
                if (strcmp(cols[m]->name, c->name) == 0) die(r->table, c->name, "declared twice");
            check_column(r, c);
            if (c->flags & OB_SEARCH) t->nsearch++;
            if (strcmp(r->fsm ? r->fsm->column : r->state ? r->state : "", c->name) == 0) t->state_col = k;
            if (c->gen) t->ngen++;
            cols[k++] = c;
            if (c->since > schema_version) schema_version = c->since;
        }
        if (r->fsm && t->state_col < 0) die(r->table, r->fsm->column, "state machine column not declared");
        if (r->fsm && r->state) die(r->table, r->state, "a state column beside a state machine");
        if (r->state && t->state_col < 0) die(r->table, r->state, "state column not declared");
        for (int j = 0; j < r->ncustomer_rows; j++) check_row_rule(r, &r->customer_rows[j]);
        if (r->ledger) check_ledger(r);
        if (r->copy) check_copy(r);
        check_variants_and_sole(r);
        if (r->ncustomer_rows > OB_ROW_RULES_MAX) die(r->table, NULL, "too many customer row rules");
        if (r->own_col) {
            int oc = -1;
            for (int j = 0; j < r->ncols; j++)
                if (strcmp(r->cols[j].name, r->own_col) == 0) oc = j;
            if (oc < 0 || r->cols[oc].type != OB_F_REF || strcmp(r->cols[oc].ref, "users") != 0 || !r->perm_others)
                die(r->table, r->own_col, "own_col is a users reference of the table, with perm_others");
        }
        t->cols = cols;
        t->ncols = k;
        if (r->nactions) t->inputs = build_inputs(r);
        if (r->fsm) check_fsm(r, t);
        if (t->state_col >= 0) check_states(r, t);
        if (r->since > schema_version) schema_version = r->since;
        for (int j = 0; j < r->nindexes; j++)
            if (r->indexes[j].since > schema_version) schema_version = r->indexes[j].since;
    }
    if (schema_version < OB_FTS_ONE_SINCE) schema_version = OB_FTS_ONE_SINCE;
    if (schema_version < OB_INDEX_FIX_SINCE) schema_version = OB_INDEX_FIX_SINCE;
    if (schema_version < OB_PG_TSV_SINCE) schema_version = OB_PG_TSV_SINCE;
    for (int i = 0; i < NRES; i++) {
        char iwhy[768];
        if (ob_index_check(&tables[i], schema_version, iwhy, sizeof iwhy) != 0) die(tables[i].name, NULL, iwhy);
    }
    for (int i = 0; i < NRES; i++) assign_fts_no(&tables[i], i);
    for (int i = 0; i < NRES; i++)
        if (tables[i].res->retention) check_retention(&tables[i]);
    for (int i = 0; i < NRES; i++) check_dedupe_and_flag_event(&tables[i]);
    for (int i = 0; i < NRES; i++)
        for (int j = 0; j < tables[i].res->nchecks; j++) {
            const ob_check *ck = &tables[i].res->checks[j];
            if (ob_table_col(&tables[i], ck->left) < 0 || ob_table_col(&tables[i], ck->right) < 0)
                die(tables[i].name, ck->name, "check names an unknown column");
        }
    char why[256];
    if (handles && check_handles(handles, nhandles, why, sizeof why) != 0) {
        fprintf(stderr, "opsbase: registry: column handles do not match the declarations (rebuild: "
                        "gen/columns.h is generated from them): %s\n", why);
        abort();
    }
}

/* Every table, then every action input, numbered by its first column in
 * one sequence, so that each column of the registry has one slot. */
static int handle_slot(const char *table, int *ncols)
{
    int base = 0;
    for (int i = 0; i < NRES; i++) {
        const ob_table *t = &tables[i];
        if (!strcmp(t->name, table)) {
            *ncols = t->ncols;
            return base;
        }
        base += t->ncols;
        for (int a = 0; t->inputs && a < t->res->nactions; a++) {
            if (!t->inputs[a]) continue;
            if (!strcmp(t->inputs[a]->name, table)) {
                *ncols = t->inputs[a]->ncols;
                return base;
            }
            base += t->inputs[a]->ncols;
        }
    }
    *ncols = base; /* not found: the total */
    return -1;
}

static const ob_column *handle_col(const char *table, int idx)
{
    const char *dot = strchr(table, '.');
    for (int i = 0; i < NRES; i++) {
        const ob_table *t = &tables[i];
        if (!dot) {
            if (!strcmp(t->name, table)) return t->cols[idx];
            continue;
        }
        for (int a = 0; t->inputs && a < t->res->nactions; a++)
            if (t->inputs[a] && !strcmp(t->inputs[a]->name, table)) return t->inputs[a]->cols[idx];
    }
    return NULL;
}

/* The check on built tables (build() runs it inside the once). */
static int check_handles(const ob_colh *list, int n, char *why, size_t whylen)
{
    int total;
    handle_slot("", &total);
    bool *seen = calloc((size_t)total + 1, sizeof *seen);
    if (!seen) abort();
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        const ob_colh *h = &list[k];
        int ncols, base = handle_slot(h->table, &ncols);
        if (base < 0) {
            snprintf(why, whylen, "handle of \"%s\".\"%s\": no such table", h->table, h->name);
            rc = -1;
        } else if (h->idx < 0 || h->idx >= ncols || strcmp(handle_col(h->table, h->idx)->name, h->name) != 0) {
            snprintf(why, whylen, "handle of \"%s\".\"%s\" at %d: the table's column there is \"%s\"", h->table,
                     h->name, h->idx, h->idx >= 0 && h->idx < ncols ? handle_col(h->table, h->idx)->name : "-");
            rc = -1;
        } else if (seen[base + h->idx]) {
            snprintf(why, whylen, "\"%s\".\"%s\" has two handles", h->table, h->name);
            rc = -1;
        } else {
            seen[base + h->idx] = true;
        }
    }
    for (int i = 0; i < NRES && rc == 0; i++) {
        /* every column has a handle: report the first without one */
        int ncols, base = handle_slot(tables[i].name, &ncols);
        for (int j = 0; j < ncols && rc == 0; j++)
            if (!seen[base + j]) {
                snprintf(why, whylen, "\"%s\".\"%s\" has no handle", tables[i].name, tables[i].cols[j]->name);
                rc = -1;
            }
        for (int a = 0; tables[i].inputs && a < tables[i].res->nactions && rc == 0; a++) {
            const ob_table *it = tables[i].inputs[a];
            if (!it) continue;
            base = handle_slot(it->name, &ncols);
            for (int j = 0; j < ncols && rc == 0; j++)
                if (!seen[base + j]) {
                    snprintf(why, whylen, "\"%s\".\"%s\" has no handle", it->name, it->cols[j]->name);
                    rc = -1;
                }
        }
    }
    free(seen);
    return rc;
}

int ob_registry_check_handles(const ob_colh *list, int n, char *why, size_t whylen)
{
    ob_registry_init();
    return check_handles(list, n, why, whylen);
}

void ob_registry_use_handles(const ob_colh *list, int n)
{
    if (handles) return;
    handles = list;
    nhandles = n;
}

void ob_registry_use(const ob_resource *const *list, int n, ob_change_writer audit)
{
    /* the first declaration wins: the built tables point into it */
    if (declared) return;
    declared = list;
    NRES = n;
    change_writer = audit;
}

int ob_registry_record_change(ob_ctx *ctx, const char *action, const ob_row *old, const ob_row *row, ob_err *err)
{
    return change_writer ? change_writer(ctx, action, old, row, err) : 0;
}

void ob_registry_init(void)
{
    pthread_once(&once, build);
}

int ob_registry_count(void)
{
    ob_registry_init();
    return NRES;
}

const ob_table *ob_registry_at(int i)
{
    ob_registry_init();
    return (i >= 0 && i < NRES) ? &tables[i] : NULL;
}

const ob_table *ob_registry_find(const char *name)
{
    ob_registry_init();
    if (!name) return NULL;
    for (int i = 0; i < NRES; i++)
        if (strcmp(tables[i].name, name) == 0) return &tables[i];
    return NULL;
}

int ob_table_col(const ob_table *t, const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i]->name, name) == 0) return i;
    return -1;
}

int ob_registry_version(void)
{
    ob_registry_init();
    return schema_version;
}

static _Atomic uint64_t auth_epoch = 1;

uint64_t ob_registry_auth_epoch(void)
{
    return auth_epoch;
}

void ob_registry_auth_changed(void)
{
    auth_epoch++;
}

int ob_col_scale(const ob_column *c)
{
    return c->scale > 0 ? c->scale : 2;
}

const ob_table *ob_registry_content_of(const ob_table *t)
{
    if (t->res->flags & OB_RES_UPLOAD) return t;
    if (!t->res->copy) return NULL;
    int ri = ob_table_col(t, t->res->copy->ref);
    const ob_table *src = ri >= 0 ? ob_registry_find(t->cols[ri]->ref) : NULL;
    return src && (src->res->flags & OB_RES_UPLOAD) ? src : NULL;
}
