/* ddl_enums.c - loosening the CHECKs of databases made before a later
 * declaration: an enum value added, a column sealed at rest.
 *
 * An enum column's CHECK lists its values (ddl.c add_checks). A value added
 * in a later release reaches new databases through CREATE TABLE, but ALTER
 * TABLE cannot change an existing CHECK: an upgraded database would refuse
 * the new value. After a migration applied versions, each enum column whose
 * stored CHECK lacks a declared value is widened to the declared list:
 *
 * - SQLite keeps the CHECK in the table's CREATE text. Loosening a CHECK
 *   does not change how rows are stored, so the text is rewritten in
 *   sqlite_schema (writable_schema) and schema_version is bumped so every
 *   connection re-reads it: the procedure SQLite documents for changes that
 *   leave the stored content valid. integrity_check runs afterwards.
 * - PostgreSQL names the constraint; it is dropped and added again with the
 *   full list, in one transaction.
 *
 * A column declared OB_ENCRYPTED after databases existed holds sealed text
 * (longer than its plain length, not JSON): its length and JSON checks are
 * removed the same way, and on PostgreSQL a json column becomes text.
 *
 * Only widening is done: a stored list with a value the registry no longer
 * declares is left as it is (values are never removed; rows may hold it).
 * Enum values are added with a schema version bump, so this runs exactly
 * when a binary's enums can be newer than the database's. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "schema/ddl.h"
#include "base/banned.h"

/* The declared CHECK of an enum column, as ddl.c writes it. */
static void enum_check(ob_sb *out, const ob_column *c)
{
    ob_sb_addf(out, "CHECK (\"%s\" IN (", c->name);
    for (int k = 0; k < c->enm->n; k++) {
        if (k) ob_sb_addc(out, ',');
        ob_sb_addc(out, '\'');
        for (const char *s = c->enm->values[k]; *s; s++) {
            if (*s == '\'') ob_sb_addc(out, '\'');
            ob_sb_addc(out, *s);
        }
        ob_sb_addc(out, '\'');
    }
    ob_sb_adds(out, "))");
}

/* Whether every value of the stored list text (between the parentheses) is
 * declared: then the declared list is a superset and widening is safe. */
static bool stored_values_declared(const char *list, size_t n, const ob_column *c)
{
    for (size_t i = 0; i < n;) {
        if (list[i] != '\'') {
            i++;
            continue;
        }
        size_t j = i + 1;
        char v[128];
        size_t k = 0;
        while (j < n && !(list[j] == '\'' && (j + 1 >= n || list[j + 1] != '\''))) {
            if (list[j] == '\'') j++; /* a doubled quote */
            if (k + 1 < sizeof v) v[k++] = list[j];
            j++;
        }
        v[k] = '\0';
        bool known = false;
        for (int e = 0; e < c->enm->n && !known; e++) known = strcmp(c->enm->values[e], v) == 0;
        if (!known) return false;
        i = j + 1;
    }
    return true;
}

/* SQLite: the table's CREATE text with its enum CHECKs widened; NULL when
 * nothing changes. */
static char *widened_sql(ob_arena *a, const ob_table *t, const char *sql, int *changed)
{
    ob_sb out;
    ob_sb_init_arena(&out, a, strlen(sql) + 256);
    ob_sb_adds(&out, sql);
    *changed = 0;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (c->type != OB_F_ENUM) continue;
        ob_sb want;
        ob_sb_init_arena(&want, a, 256);
        enum_check(&want, c);
        char head[128];
        snprintf(head, sizeof head, "CHECK (\"%s\" IN (", c->name);
        char *at = strstr(out.buf, want.buf) ? NULL : strstr(out.buf, head);
        char *end = at ? strstr(at + strlen(head), "))") : NULL;
        if (end && stored_values_declared(at + strlen(head), (size_t)(end - at - strlen(head)), c)) {
            size_t pre = (size_t)(at - out.buf), post = (size_t)(end + 2 - out.buf);
            ob_sb next;
            ob_sb_init_arena(&next, a, out.len + want.len);
            ob_sb_add(&next, out.buf, pre);
            ob_sb_add(&next, want.buf, want.len);
            ob_sb_adds(&next, out.buf + post);
            out = next;
            (*changed)++;
        }
    }
    /* an encrypted column holds sealed text: the length and JSON checks it
     * had before it was sealed no longer apply (ddl.c writes none now) */
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!(c->flags & OB_ENCRYPTED)) continue;
        char len_head[128], json_check[256];
        snprintf(len_head, sizeof len_head, " CHECK (length(\"%s\") <= ", c->name);
        snprintf(json_check, sizeof json_check, " CHECK (\"%s\" IS NULL OR json_valid(\"%s\"))", c->name, c->name);
        const char *cut[2] = {len_head, json_check};
        for (int k = 0; k < 2; k++) {
            char *at = strstr(out.buf, cut[k]);
            char *end = !at ? NULL : k == 0 ? strchr(at + strlen(len_head), ')') : at + strlen(json_check) - 1;
            if (!end) continue;
            ob_sb next;
            ob_sb_init_arena(&next, a, out.len);
            ob_sb_add(&next, out.buf, (size_t)(at - out.buf));
            ob_sb_adds(&next, end + 1);
            out = next;
            (*changed)++;
        }
    }
    return *changed ? out.buf : NULL;
}

static int widen_sqlite(ob_conn *c, ob_scope scope, int *widened, ob_err *err)
{
    int rc = 0, total = 0, n = 0;
    ob_arena a;
    ob_arena_init(&a, 16384);
    const char **sqls = ob_arena_alloc(&a, (size_t)ob_registry_count() * sizeof *sqls);
    const ob_table **tabs = ob_arena_alloc(&a, (size_t)ob_registry_count() * sizeof *tabs);
    for (int i = 0; rc == 0 && i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope != scope) continue;
        ob_stmt *st;
        if ((rc = ob_db_prepare(c, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", &st, err)) != 0)
            break;
        ob_stmt_bind_text(st, 1, t->name, err);
        int got = ob_stmt_step(st, err);
        const char *sql = got == 1 ? ob_stmt_col_text(st, 0, NULL) : NULL;
        int changed = 0;
        const char *next = sql ? widened_sql(&a, t, sql, &changed) : NULL;
        ob_stmt_done(st);
        if (got < 0) rc = -1;
        if (!next) continue;
        sqls[n] = next;
        tabs[n++] = t;
        total += changed;
    }
    if (rc == 0 && n > 0) {
        int64_t ver = 0;
        ob_stmt *st;
        rc = ob_db_begin(c, err);
        if (rc == 0 && (rc = ob_db_prepare(c, "PRAGMA schema_version", &st, err)) == 0) {
            rc = ob_stmt_step(st, err) == 1 ? 0 : -1;
            ver = rc == 0 ? ob_stmt_col_i64(st, 0) : 0;
            ob_stmt_done(st);
        }
        if (rc == 0) rc = ob_db_exec(c, "PRAGMA writable_schema = ON", err);
        for (int k = 0; rc == 0 && k < n; k++) {
            if ((rc = ob_db_prepare(c, "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?", &st,
                                    err)) != 0)
                break;
            ob_stmt_bind_text(st, 1, sqls[k], err);
            ob_stmt_bind_text(st, 2, tabs[k]->name, err);
            rc = ob_stmt_step(st, err) < 0 ? -1 : 0;
            ob_stmt_done(st);
        }
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA schema_version = %lld", (long long)ver + 1);
        if (rc == 0) rc = ob_db_exec(c, bump, err);
        if (rc == 0) rc = ob_db_exec(c, "PRAGMA writable_schema = OFF", err);
        if (rc == 0) rc = ob_db_commit(c, err);
        else {
            ob_db_exec(c, "PRAGMA writable_schema = OFF", err);
            ob_db_rollback(c);
        }
        if (rc == 0 && (rc = ob_db_prepare(c, "PRAGMA integrity_check", &st, err)) == 0) {
            const char *ok = ob_stmt_step(st, err) == 1 ? ob_stmt_col_text(st, 0, NULL) : NULL;
            if (!ok || strcmp(ok, "ok") != 0)
                rc = ob_err_set(err, OB_E_INTERNAL, "integrity check after widening enum checks: %.200s",
                                ok ? ok : "no answer");
            ob_stmt_done(st);
        }
    }
    ob_arena_release(&a);
    if (widened) *widened = rc == 0 ? total : 0;
    return rc;
}

/* PostgreSQL: every single-column CHECK of the schema, matched to enum
 * columns by table and column; a definition lacking a declared value is
 * replaced under its own name. pg_get_constraintdef shows the list as
 * 'value'::text items, so presence is tested on that form. */
static int widen_pg(ob_conn *c, ob_scope scope, int *widened, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(c,
                      "SELECT cl.relname, a.attname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
                      "JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_attribute a ON a.attrelid = k.conrelid AND "
                      "a.attnum = k.conkey[1] WHERE k.contype = 'c' AND array_length(k.conkey, 1) = 1 AND "
                      "cl.relnamespace = current_schema()::regnamespace",
                      &st, err) != 0)
        return -1;
    ob_sb ddl;
    ob_sb_init(&ddl, 1024);
    int rc, total = 0;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        const char *tn = ob_stmt_col_text(st, 0, NULL), *cn = ob_stmt_col_text(st, 1, NULL);
        const char *con = ob_stmt_col_text(st, 2, NULL), *def = ob_stmt_col_text(st, 3, NULL);
        const ob_table *t = tn ? ob_registry_find(tn) : NULL;
        int ci = t && t->res->scope == scope && cn ? ob_table_col(t, cn) : -1;
        const ob_column *col = ci >= 0 ? t->cols[ci] : NULL;
        if (col && (col->flags & OB_ENCRYPTED)) { /* sealed text: its old length check goes */
            ob_sb_addf(&ddl, "ALTER TABLE \"%s\" DROP CONSTRAINT \"%s\";\n", tn, con);
            total++;
            continue;
        }
        if (!col || col->type != OB_F_ENUM || !def || !strstr(def, " ANY ")) continue;
        bool missing = false;
        for (int k = 0; k < col->enm->n && !missing; k++) {
            char item[160];
            snprintf(item, sizeof item, "'%s'::", col->enm->values[k]);
            missing = strstr(def, item) == NULL;
        }
        if (!missing) continue;
        ob_sb_addf(&ddl, "ALTER TABLE \"%s\" DROP CONSTRAINT \"%s\", ADD CONSTRAINT \"%s\" ", tn, con, con);
        enum_check(&ddl, col);
        ob_sb_adds(&ddl, ";\n");
        total++;
    }
    ob_stmt_done(st);
    /* an encrypted JSON column made before it was sealed is of type json */
    if (rc == 0 && (rc = ob_db_prepare(c,
                                       "SELECT table_name, column_name FROM information_schema.columns WHERE "
                                       "table_schema = current_schema() AND data_type = 'json'",
                                       &st, err)) == 0) {
        while ((rc = ob_stmt_step(st, err)) == 1) {
            const char *tn = ob_stmt_col_text(st, 0, NULL), *cn = ob_stmt_col_text(st, 1, NULL);
            const ob_table *t = tn ? ob_registry_find(tn) : NULL;
            int ci = t && t->res->scope == scope && cn ? ob_table_col(t, cn) : -1;
            if (ci < 0 || !(t->cols[ci]->flags & OB_ENCRYPTED)) continue;
            /* a json default cannot follow the type by itself: dropped, then set as text */
            const char *dflt = t->cols[ci]->dflt;
            ob_sb_addf(&ddl, "ALTER TABLE \"%s\" ALTER COLUMN \"%s\" DROP DEFAULT, ALTER COLUMN \"%s\" TYPE TEXT "
                             "USING \"%s\"::text", tn, cn, cn, cn);
            if (dflt && !strchr(dflt, '\'')) ob_sb_addf(&ddl, ", ALTER COLUMN \"%s\" SET DEFAULT '%s'", cn, dflt);
            ob_sb_adds(&ddl, ";\n");
            total++;
        }
        ob_stmt_done(st);
    }
    if (rc == 0 && ddl.len) {
        rc = ob_db_begin(c, err);
        if (rc == 0) rc = ob_db_exec(c, ddl.buf, err);
        if (rc == 0) rc = ob_db_commit(c, err);
        else ob_db_rollback(c);
    }
    ob_sb_release(&ddl);
    if (widened) *widened = rc == 0 ? total : 0;
    return rc < 0 ? -1 : 0;
}

int ob_ddl_widen_enums(ob_conn *c, ob_scope scope, int *widened, ob_err *err)
{
    return ob_conn_engine(c) == OB_DB_SQLITE ? widen_sqlite(c, scope, widened, err) : widen_pg(c, scope, widened, err);
}
