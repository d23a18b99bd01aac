/* events.c - domain event names from the registry (events.h). */
#include <string.h>

#include "base/base.h"
#include "schema/events.h"
#include "base/banned.h"

bool ob_events_emitted(const ob_table *t)
{
    return !(t->res->flags & OB_RES_NO_AUDIT) && t->res->scope == OB_SCOPE_TENANT;
}

/* The column holding the row's state: the state machine's, else an enum
 * named status; NULL when none, or when rows never change. */
static int state_col(const ob_table *t)
{
    if (t->res->flags & OB_RES_APPEND_ONLY) return -1;
    if (t->state_col >= 0) return t->state_col;
    int i = ob_table_col(t, "status");
    return i >= 0 && t->cols[i]->type == OB_F_ENUM && t->cols[i]->enm ? i : -1;
}

/* A state named like a generic event would make two events one name. */
static bool generic(const char *v)
{
    return !strcmp(v, "created") || !strcmp(v, "updated") || !strcmp(v, "deleted");
}

int ob_events_of_table(const ob_table *t, ob_arena *a, const char ***out)
{
    *out = NULL;
    if (!ob_events_emitted(t)) return 0;
    int si = state_col(t);
    const ob_column *sc = si >= 0 ? t->cols[si] : NULL;
    int cap = 4 + (sc && sc->enm ? sc->enm->n + 1 : 0), n = 0;
    const char **v = ob_arena_alloc(a, sizeof *v * (size_t)cap);
    v[n++] = ob_arena_printf(a, "%s.created", t->name);
    bool append = (t->res->flags & OB_RES_APPEND_ONLY) != 0;
    if (!append) v[n++] = ob_arena_printf(a, "%s.updated", t->name);
    if (!append || (t->res->flags & OB_RES_LINK)) v[n++] = ob_arena_printf(a, "%s.deleted", t->name);
    if (t->res->flag_event) v[n++] = ob_arena_printf(a, "%s.%s", t->name, t->res->flag_event->name);
    if (sc && sc->enm) {
        v[n++] = ob_arena_printf(a, "%s.%s_changed", t->name, sc->name);
        for (int i = 0; i < sc->enm->n; i++)
            if (!generic(sc->enm->values[i])) v[n++] = ob_arena_printf(a, "%s.%s", t->name, sc->enm->values[i]);
    }
    *out = v;
    return n;
}

/* A flag column is on when true (a boolean) or set at all (a timestamp, as
 * tickets.sla_breached_at: the moment is worth keeping, the event is the same). */
static bool flag_on(const ob_row *row, int c)
{
    if (row->v[c].t == OB_V_NULL) return false;
    return row->t->cols[c]->type != OB_F_BOOL || row->v[c].i != 0;
}

int ob_events_of_change(const ob_row *old, const ob_row *row, ob_arena *a, const char *out[OB_EVENTS_PER_CHANGE])
{
    const ob_table *t = (row ? row : old)->t;
    if (!ob_events_emitted(t)) return 0;
    if (!old) {
        out[0] = ob_arena_printf(a, "%s.created", t->name);
        const ob_flag_event *fe = t->res->flag_event;
        if (!fe) return 1;
        int c = ob_table_col(t, fe->col);
        if (!row->set[c] || !flag_on(row, c)) return 1;
        out[1] = ob_arena_printf(a, "%s.%s", t->name, fe->name);
        return 2;
    }
    if (!row) {
        out[0] = ob_arena_printf(a, "%s.deleted", t->name);
        return 1;
    }
    int n = 0;
    out[n++] = ob_arena_printf(a, "%s.updated", t->name);
    const ob_flag_event *fe = t->res->flag_event;
    if (fe) {
        int c = ob_table_col(t, fe->col);
        if (flag_on(row, c) && !flag_on(old, c))
            out[n++] = ob_arena_printf(a, "%s.%s", t->name, fe->name);
    }
    int si = state_col(t);
    if (si >= 0 && !ob_row_col_equal(old, row, si)) {
        const ob_column *sc = t->cols[si];
        const char *to = ob_row_text_at(row, si);
        out[n++] = ob_arena_printf(a, "%s.%s_changed", t->name, sc->name);
        if (to && !generic(to)) out[n++] = ob_arena_printf(a, "%s.%s", t->name, to);
    }
    return n;
}

bool ob_event_known(const char *name)
{
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (!dot) return false;
    char table[128];
    size_t n = (size_t)(dot - name);
    if (n >= sizeof table) return false;
    memcpy(table, name, n);
    table[n] = 0;
    const ob_table *t = ob_registry_find(table);
    if (!t) return false;
    ob_arena a;
    ob_arena_init(&a, 0);
    const char **v;
    int k = ob_events_of_table(t, &a, &v);
    bool found = false;
    for (int i = 0; i < k && !found; i++) found = strcmp(v[i], name) == 0;
    ob_arena_release(&a);
    return found;
}
