/* ddl.c - CREATE TABLE / INDEX and full-text index from the registry. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "db/dialect.h"
#include "schema/ddl.h"
#include "schema/indexes.h"
#include "base/banned.h"

static int since_of(int s)
{
    return s > 0 ? s : 1;
}

static const char *sql_type(ob_db_engine e, const ob_column *c)
{
    const ob_dialect *d = ob_dialect_of(e); /* why each type: db/dialect.c */
    switch (c->type) {
    case OB_F_INT: return d->t_int;
    case OB_F_DECIMAL: return d->t_decimal;
    case OB_F_REAL: return d->t_real;
    case OB_F_BOOL: return d->t_bool;
    case OB_F_TIMESTAMP: return d->t_timestamp;
    case OB_F_DATE: return d->t_date;
    case OB_F_JSON: return (c->flags & OB_ENCRYPTED) ? "TEXT" : d->t_json; /* sealed text, not JSON */
    default: return "TEXT";
    }
}

static void add_literal(ob_sb *out, const char *s)
{
    ob_sb_addc(out, '\'');
    for (; *s; s++) {
        if (*s == '\'') ob_sb_addc(out, '\'');
        ob_sb_addc(out, *s);
    }
    ob_sb_addc(out, '\'');
}

static void add_default(ob_sb *out, ob_db_engine e, const ob_column *c)
{
    if (!c->dflt || strcmp(c->dflt, "now") == 0 || strcmp(c->dflt, "today") == 0) return;
    ob_sb_adds(out, " DEFAULT ");
    switch (c->type) {
    case OB_F_INT:
        ob_sb_adds(out, c->dflt);
        break;
    case OB_F_BOOL:
        if (!ob_dialect_of(e)->bool_as_int) ob_sb_adds(out, c->dflt);
        else ob_sb_adds(out, strcmp(c->dflt, "true") == 0 ? "1" : "0");
        break;
    case OB_F_DECIMAL: {
        int64_t minor = 0;
        if (ob_parse_decimal(c->dflt, ob_col_scale(c), &minor) != 0) minor = 0;
        if (!ob_dialect_of(e)->decimal_as_minor) {
            char buf[40];
            ob_format_decimal(minor, ob_col_scale(c), buf, sizeof buf);
            ob_sb_adds(out, buf);
        } else {
            ob_sb_add_i64(out, minor);
        }
        break;
    }
    default:
        add_literal(out, c->dflt);
    }
}

static void add_checks(ob_sb *out, ob_db_engine e, const ob_column *c)
{
    const ob_dialect *d = ob_dialect_of(e);
    const char *n = c->name;
    /* a sealed value is longer than its plaintext and not JSON: validation holds the limits */
    if (c->flags & OB_ENCRYPTED) return;
    if (c->type == OB_F_TEXT && c->max > 0)
        ob_sb_addf(out, " CHECK (%s(\"%s\") <= %lld)", d->text_length, n,
                   (long long)c->max);
    if (c->type == OB_F_ENUM) {
        ob_sb_addf(out, " CHECK (\"%s\" IN (", n);
        for (int k = 0; k < c->enm->n; k++) {
            if (k) ob_sb_addc(out, ',');
            add_literal(out, c->enm->values[k]);
        }
        ob_sb_adds(out, "))");
    }
    if (c->type == OB_F_INT || c->type == OB_F_DECIMAL) {
        bool dec_pg = c->type == OB_F_DECIMAL && !d->decimal_as_minor;
        char buf[40];
        if (c->flags & OB_HAS_MIN) {
            if (dec_pg) ob_format_decimal(c->min, ob_col_scale(c), buf, sizeof buf);
            else snprintf(buf, sizeof buf, "%lld", (long long)c->min);
            ob_sb_addf(out, " CHECK (\"%s\" %s %s)", n, (c->flags & OB_MIN_EXCL) ? ">" : ">=", buf);
        }
        if (c->flags & OB_HAS_MAX) {
            if (dec_pg) ob_format_decimal(c->max, ob_col_scale(c), buf, sizeof buf);
            else snprintf(buf, sizeof buf, "%lld", (long long)c->max);
            ob_sb_addf(out, " CHECK (\"%s\" <= %s)", n, buf);
        }
    }
    /* REAL ranges (coordinates) are enforced by validation only: they were
     * declared after databases existed, and a CHECK that only new databases
     * carried would make the two differ */
    if (c->type == OB_F_BOOL && d->bool_as_int) ob_sb_addf(out, " CHECK (\"%s\" IN (0,1))", n);
    /* json_valid(NULL) is 0 before SQLite 3.45, so null is allowed explicitly */
    if (c->type == OB_F_JSON && d->json_check) ob_sb_addf(out, " CHECK (\"%s\" IS NULL OR json_valid(\"%s\"))", n, n);
}

static const char *on_delete_sql(ob_on_delete d)
{
    switch (d) {
    case OB_DEL_CASCADE: return " ON DELETE CASCADE";
    case OB_DEL_SET_NULL: return " ON DELETE SET NULL";
    default: return "";
    }
}

static void column_def(ob_sb *out, ob_db_engine e, const ob_column *c)
{
    ob_sb_addf(out, "\"%s\" %s", c->name, sql_type(e, c));
    if (c->type == OB_F_ID) {
        ob_sb_adds(out, " PRIMARY KEY NOT NULL");
        return;
    }
    if (c->gen) { /* the expression is registry text, identical on both engines */
        ob_sb_addf(out, " GENERATED ALWAYS AS (%s) STORED", c->gen);
        return;
    }
    if (c->flags & OB_REQUIRED) ob_sb_adds(out, " NOT NULL");
    add_default(out, e, c);
    if (c->flags & OB_UNIQUE) ob_sb_adds(out, " UNIQUE");
    /* PostgreSQL wants the referenced table to exist: its keys come after all tables (fk_defs) */
    if (c->type == OB_F_REF && ob_dialect_of(e)->inline_refs)
        ob_sb_addf(out, " REFERENCES \"%s\"(\"id\")%s", c->ref, on_delete_sql(c->on_delete));
    add_checks(out, e, c);
}

static const char *cmp_sql(ob_cmp op)
{
    switch (op) {
    case OB_CMP_EQ: return "=";
    case OB_CMP_NE: return "<>";
    case OB_CMP_LT: return "<";
    case OB_CMP_LTE: return "<=";
    case OB_CMP_GT: return ">";
    default: return ">=";
    }
}

/* CREATE INDEX for one index of indexes.h's list (never a constraint: those
 * come with CREATE TABLE); the columns and WHERE are registry text. */
static void index_sql(ob_sb *out, const ob_table *t, const ob_index_def *d)
{
    ob_sb_addf(out, "CREATE %sINDEX IF NOT EXISTS \"%s\" ON \"%s\" (", d->unique ? "UNIQUE " : "", d->name, t->name);
    const char *p = d->cols;
    bool first = true;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        bool desc = *p == '-';
        if (!first) ob_sb_addc(out, ',');
        ob_sb_addc(out, '"');
        ob_sb_add(out, p + desc, n - desc);
        ob_sb_addc(out, '"');
        if (desc) ob_sb_adds(out, " DESC");
        first = false;
        p += n + (end ? 1 : 0);
    }
    ob_sb_addc(out, ')');
    if (d->where) ob_sb_addf(out, " WHERE %s", d->where);
    ob_sb_adds(out, ";\n");
}

/* Every index of t at version v (indexes.h: a column's own index carries
 * the columns lists sort by after it, so that a page of a list is read in
 * index order and never sorted: a sortable column is (col, id), the keyset
 * order; a filtering column of a table listed newest first is (col,
 * created_at, id), so "status=open, newest first" is one range). */
static void indexes_sql(ob_sb *out, const ob_table *t, int v)
{
    ob_index_def plan[OB_INDEX_MAX];
    int n = ob_index_plan(t, v, plan, OB_INDEX_MAX);
    for (int i = 0; i < n; i++)
        if (!plan[i].constraint) index_sql(out, t, &plan[i]);
}

/* SQLite full text before OB_FTS_ONE_SINCE: an external-content FTS5 table
 * per searchable table, with its four shadow tables and three triggers (245
 * of a tenant file's 353 tables, most of the schema every connection parses).
 * Kept only so that replaying versions 1..8 onto an old database leaves what
 * those versions left; the replay of OB_FTS_ONE_SINCE drops it all. */
static void legacy_fts_def(ob_sb *out, const ob_table *t, int v)
{
    const char *n = t->name;
    ob_sb cols, newv, oldv;
    ob_sb_init(&cols, 64);
    ob_sb_init(&newv, 64);
    ob_sb_init(&oldv, 64);
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!(c->flags & OB_SEARCH) || since_of(c->since) > v) continue;
        ob_sb_addf(&cols, ", \"%s\"", c->name);
        ob_sb_addf(&newv, ", new.\"%s\"", c->name);
        ob_sb_addf(&oldv, ", old.\"%s\"", c->name);
    }
    ob_sb_addf(out,
               "CREATE VIRTUAL TABLE IF NOT EXISTS \"%s_fts\" USING fts5(%s, content='%s', content_rowid='rowid', "
               "tokenize='unicode61 remove_diacritics 2');\n",
               n, cols.buf + 2, n);
    ob_sb_addf(out,
               "CREATE TRIGGER IF NOT EXISTS \"%s_fts_ai\" AFTER INSERT ON \"%s\" BEGIN "
               "INSERT INTO \"%s_fts\"(rowid%s) VALUES (new.rowid%s); END;\n",
               n, n, n, cols.buf, newv.buf);
    ob_sb_addf(out,
               "CREATE TRIGGER IF NOT EXISTS \"%s_fts_ad\" AFTER DELETE ON \"%s\" BEGIN "
               "INSERT INTO \"%s_fts\"(\"%s_fts\", rowid%s) VALUES ('delete', old.rowid%s); END;\n",
               n, n, n, n, cols.buf, oldv.buf);
    ob_sb_addf(out,
               "CREATE TRIGGER IF NOT EXISTS \"%s_fts_au\" AFTER UPDATE ON \"%s\" BEGIN "
               "INSERT INTO \"%s_fts\"(\"%s_fts\", rowid%s) VALUES ('delete', old.rowid%s); "
               "INSERT INTO \"%s_fts\"(rowid%s) VALUES (new.rowid%s); END;\n",
               n, n, n, n, cols.buf, oldv.buf, n, cols.buf, newv.buf);
    ob_sb_release(&cols);
    ob_sb_release(&newv);
    ob_sb_release(&oldv);
}

/* SQLite full text since OB_FTS_ONE_SINCE: ONE contentless FTS5 table per
 * database, ob_fts, whose columns c0..c(k-1) hold a table's searchable
 * columns in declared order (k the most any table has; the rest NULL), so a
 * quoted term or phrase matches within one column, as with a table each.
 * A row's full-text rowid is (fts_no << 40) + its rowid (registry.c: fts_no
 * is the table's for good), so one table's rows are one rowid range and a
 * search is MATCH plus that range, walked newest first by list.c.
 * Contentless: the index holds no copy of the text; SQLite 3.40 has no
 * contentless_delete, so the delete and update triggers pass the old values
 * with the 'delete' command. columnsize=0: nothing ranks by length. */
#define FTS_SHIFT 40

long long ob_ddl_fts_lo(const ob_table *t)
{
    return (long long)t->fts_no << FTS_SHIFT;
}

long long ob_ddl_fts_hi(const ob_table *t)
{
    return ob_ddl_fts_lo(t) + ((1LL << FTS_SHIFT) - 1);
}

static bool in_fts(const ob_table *t, ob_scope scope, int v)
{
    return t->res->scope == scope && t->nsearch > 0 && since_of(t->res->since) <= v;
}

/* ", c0, c1" and ", <p>."a", <p>."b"" for t's searchable columns at version v */
static void fts_cols(ob_sb *cols, ob_sb *vals, const char *prefix, const ob_table *t, int v)
{
    int k = 0;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!(c->flags & OB_SEARCH) || since_of(c->since) > v) continue;
        if (cols) ob_sb_addf(cols, ", c%d", k);
        ob_sb_addf(vals, ", %s\"%s\"", prefix, c->name);
        k++;
    }
}

static void fts_triggers(ob_sb *out, const ob_table *t, int v, bool replace)
{
    const char *n = t->name;
    long long lo = ob_ddl_fts_lo(t);
    ob_sb cols, newv, oldv;
    ob_sb_init(&cols, 64);
    ob_sb_init(&newv, 64);
    ob_sb_init(&oldv, 64);
    fts_cols(&cols, &newv, "new.", t, v);
    fts_cols(NULL, &oldv, "old.", t, v);
    /* an update that sets none of the searchable columns leaves the entry as
     * it is (most updates: a status, a stamp); a generated column changes
     * without being set, so a table with one searchable re-indexes always */
    ob_sb of;
    ob_sb_init(&of, 64);
    bool gen = false;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!(c->flags & OB_SEARCH) || since_of(c->since) > v) continue;
        gen = gen || c->gen;
        ob_sb_addf(&of, "%s\"%s\"", of.len ? ", " : " OF ", c->name);
    }
    if (replace)
        ob_sb_addf(out, "DROP TRIGGER IF EXISTS \"%s_fts_ai\";\nDROP TRIGGER IF EXISTS \"%s_fts_ad\";\n"
                        "DROP TRIGGER IF EXISTS \"%s_fts_au\";\n", n, n, n);
    ob_sb_addf(out,
               "CREATE TRIGGER IF NOT EXISTS \"%s_fts_ai\" AFTER INSERT ON \"%s\" BEGIN "
               "INSERT INTO ob_fts(rowid%s) VALUES (%lld + new.rowid%s); END;\n",
               n, n, cols.buf, lo, newv.buf);
    ob_sb_addf(out,
               "CREATE TRIGGER IF NOT EXISTS \"%s_fts_ad\" AFTER DELETE ON \"%s\" BEGIN "
               "INSERT INTO ob_fts(ob_fts, rowid%s) VALUES ('delete', %lld + old.rowid%s); END;\n",
               n, n, cols.buf, lo, oldv.buf);
    ob_sb_addf(out,
               "CREATE TRIGGER IF NOT EXISTS \"%s_fts_au\" AFTER UPDATE%s ON \"%s\" BEGIN "
               "INSERT INTO ob_fts(ob_fts, rowid%s) VALUES ('delete', %lld + old.rowid%s); "
               "INSERT INTO ob_fts(rowid%s) VALUES (%lld + new.rowid%s); END;\n",
               n, gen ? "" : of.buf, n, cols.buf, lo, oldv.buf, cols.buf, lo, newv.buf);
    ob_sb_release(&of);
    ob_sb_release(&cols);
    ob_sb_release(&newv);
    ob_sb_release(&oldv);
}

/* The full-text table of scope's database at version v with its triggers.
 * rebuild (a migration): dropped and made again, filled from every
 * searchable table; the one statement that reads all the text, run only by
 * a version that changes what is searchable. */
static void fts_one_def(ob_sb *out, ob_scope scope, int v, bool rebuild)
{
    int k = 0;
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (!in_fts(t, scope, v)) continue;
        int n = 0;
        for (int j = 0; j < t->ncols; j++)
            if ((t->cols[j]->flags & OB_SEARCH) && since_of(t->cols[j]->since) <= v) n++;
        if (n > k) k = n;
    }
    if (k == 0) return;
    if (rebuild) ob_sb_adds(out, "DROP TABLE IF EXISTS ob_fts;\n");
    ob_sb_adds(out, "CREATE VIRTUAL TABLE IF NOT EXISTS ob_fts USING fts5(");
    for (int j = 0; j < k; j++) ob_sb_addf(out, "%sc%d", j ? ", " : "", j);
    ob_sb_adds(out, ", content='', columnsize=0, tokenize='unicode61 remove_diacritics 2');\n");
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (!in_fts(t, scope, v)) continue;
        fts_triggers(out, t, v, rebuild);
        if (!rebuild) continue;
        ob_sb cols, vals;
        ob_sb_init(&cols, 64);
        ob_sb_init(&vals, 64);
        fts_cols(&cols, &vals, "", t, v);
        ob_sb_addf(out, "INSERT INTO ob_fts(rowid%s) SELECT %lld + rowid%s FROM \"%s\";\n", cols.buf,
                   ob_ddl_fts_lo(t), vals.buf, t->name);
        ob_sb_release(&cols);
        ob_sb_release(&vals);
    }
}

/* The per-table full-text tables and triggers of before OB_FTS_ONE_SINCE
 * (and of tables since removed from the registry), found in the catalog:
 * their drops, triggers first. */
static int legacy_fts_drops(ob_conn *c, ob_sb *out, ob_err *err)
{
    static const char *const kinds[2][2] = {
        {"TRIGGER", "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB '*_fts_a[iud]'"},
        {"TABLE", "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB '*_fts' "
                  "AND sql LIKE 'CREATE VIRTUAL TABLE%'"}};
    for (int k = 0; k < 2; k++) {
        ob_stmt *st;
        if (ob_db_prepare(c, kinds[k][1], &st, err) != 0) return -1;
        int rc;
        while ((rc = ob_stmt_step(st, err)) == 1) {
            ob_sb_addf(out, "DROP %s IF EXISTS \"", kinds[k][0]);
            for (const char *p = ob_stmt_col_text(st, 0, NULL); p && *p; p++) {
                if (*p == '"') ob_sb_addc(out, '"');
                ob_sb_addc(out, *p);
            }
            ob_sb_adds(out, "\";\n");
        }
        ob_stmt_done(st);
        if (rc < 0) return -1;
    }
    return 0;
}

/* PostgreSQL full text: the searchable columns of version v as one tsvector;
 * 'simple' lower-cases without stemming, like FTS5's unicode61. */
static void pg_fts_expr(ob_sb *out, const ob_table *t, int v)
{
    ob_sb_adds(out, "to_tsvector('simple', ");
    bool first = true;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!(c->flags & OB_SEARCH) || since_of(c->since) > v) continue;
        ob_sb_addf(out, "%scoalesce(\"%s\", '')", first ? "" : " || ' ' || ", c->name);
        first = false;
    }
    ob_sb_adds(out, ")");
}

/* Since OB_PG_TSV_SINCE: the tsvector is a stored generated column,
 * OB_DDL_PG_TSV, indexed by GIN. A search filters it at the cost of a
 * comparison, so the planner can walk the created_at index newest first and
 * stop at the page; the expression index left a bitmap scan of every match
 * and a sort (or a to_tsvector per row walked, tens of µs each). The column
 * is dropped and added again whenever its expression changes (PostgreSQL 15
 * cannot alter a generated expression), which rewrites the table once. It is
 * no registry column, so no read, write, export or backup names it. */
static void pg_tsv_def(ob_sb *out, const ob_table *t, int v)
{
    const char *n = t->name;
    ob_sb_addf(out, "DROP INDEX IF EXISTS \"ix_%s_fts\";\nALTER TABLE \"%s\" DROP COLUMN IF EXISTS \"%s\";\n"
                    "ALTER TABLE \"%s\" ADD COLUMN \"%s\" tsvector GENERATED ALWAYS AS (",
               n, n, OB_DDL_PG_TSV, n, OB_DDL_PG_TSV);
    pg_fts_expr(out, t, v);
    ob_sb_addf(out, ") STORED;\nCREATE INDEX \"ix_%s_fts\" ON \"%s\" USING GIN (\"%s\");\n", n, n, OB_DDL_PG_TSV);
}

/* PostgreSQL full text of version v: before OB_PG_TSV_SINCE an expression GIN
 * index over the searchable columns, since then pg_tsv_def. */
static void pg_fts_def(ob_sb *out, const ob_table *t, int v)
{
    if (v >= OB_PG_TSV_SINCE) {
        pg_tsv_def(out, t, v);
        return;
    }
    ob_sb_addf(out, "DROP INDEX IF EXISTS \"ix_%s_fts\";\nCREATE INDEX \"ix_%s_fts\" ON \"%s\" USING GIN (",
               t->name, t->name, t->name);
    pg_fts_expr(out, t, v);
    ob_sb_adds(out, ");\n");
}

void ob_ddl_create_table(ob_sb *out, ob_db_engine e, const ob_table *t, int v)
{
    ob_sb_addf(out, "CREATE TABLE IF NOT EXISTS \"%s\" (\n", t->name);
    bool first = true;
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (since_of(c->since) > v) continue;
        ob_sb_adds(out, first ? "  " : ",\n  ");
        column_def(out, e, c);
        first = false;
    }
    for (int i = 0; i < t->res->nchecks; i++) {
        const ob_check *ck = &t->res->checks[i];
        ob_sb_addf(out, ",\n  CONSTRAINT \"%s\" CHECK (\"%s\" IS NULL OR \"%s\" IS NULL OR \"%s\" %s \"%s\")",
                   ck->name, ck->left, ck->right, ck->left, cmp_sql(ck->op), ck->right);
    }
    ob_sb_adds(out, "\n);\n");
    indexes_sql(out, t, v);
    /* since OB_FTS_ONE_SINCE SQLite's full text is the database's (fts_one_def) */
    if (t->nsearch > 0 && ob_dialect_of(e)->fts5 && v < OB_FTS_ONE_SINCE) legacy_fts_def(out, t, v);
    if (t->nsearch > 0 && !ob_dialect_of(e)->fts5) pg_fts_def(out, t, v);
}

static bool has_constraint(ob_conn *c, const char *name);

/* PostgreSQL: the foreign keys of the columns that version v added, once every
 * table exists (those a re-applied version finds in place are kept). */
static void fk_defs(ob_sb *out, ob_conn *conn, const ob_table *t, int v)
{
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        int born = since_of(t->res->since), added = since_of(c->since);
        if (c->type != OB_F_REF || c->gen || (added > born ? added : born) != v) continue;
        char name[200];
        snprintf(name, sizeof name, "fk_%s_%s", t->name, c->name);
        if (conn && has_constraint(conn, name)) continue;
        ob_sb_addf(out, "ALTER TABLE \"%s\" ADD CONSTRAINT \"fk_%s_%s\" FOREIGN KEY (\"%s\") REFERENCES \"%s\"(\"id\")%s;\n",
                   t->name, t->name, c->name, c->name, c->ref, on_delete_sql(c->on_delete));
    }
}

/* The column's index, if it has one, is made by index_changes. */
static void add_column_ddl(ob_sb *out, ob_db_engine e, const ob_table *t, const ob_column *c)
{
    ob_sb_addf(out, "ALTER TABLE \"%s\" ADD COLUMN ", t->name);
    column_def(out, e, c);
    ob_sb_adds(out, ";\n");
}

int ob_schema_version(ob_conn *c, ob_err *err)
{
    /* PostgreSQL's IF NOT EXISTS does not hold against a concurrent create:
     * two processes meeting a new database both create the table, and the
     * later one fails on the catalog's unique index once the first commits.
     * Tried again, the table then exists. */
    int made = -1;
    for (int i = 0; i < 3 && made != 0; i++)
        made = ob_db_exec(c,
                          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                          "applied_at TEXT NOT NULL, description TEXT NOT NULL)",
                          err);
    if (made != 0) return -1;
    ob_stmt *st;
    if (ob_db_prepare(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &st, err) != 0) return -1;
    int rc = ob_stmt_step(st, err);
    int v = rc == 1 ? (int)ob_stmt_col_i64(st, 0) : -1;
    ob_stmt_done(st);
    return v;
}

/* Whether t already has column col: a version's columns are added only where
 * missing, so that re-applying a version to a database that has part of it
 * (rolled back by hand, or restored) completes it instead of failing. */
static bool has_column(ob_conn *c, const ob_table *t, const char *col)
{
    char sql[256];
    /* qualified: SQLite reads an unknown bare "name" as a string, not an error */
    snprintf(sql, sizeof sql, "SELECT \"%s\".\"%s\" FROM \"%s\" LIMIT 0", t->name, col, t->name);
    ob_stmt *st;
    ob_err ignored;
    if (ob_db_prepare(c, sql, &st, &ignored) != 0) return false;
    ob_stmt_done(st);
    return true;
}

static bool has_constraint(ob_conn *c, const char *name)
{
    ob_stmt *st;
    ob_err ignored;
    if (ob_db_prepare(c, "SELECT 1 FROM pg_constraint WHERE conname = ? AND connamespace = current_schema()::regnamespace",
                      &st, &ignored) != 0)
        return false;
    ob_stmt_bind_text(st, 1, name, &ignored);
    bool found = ob_stmt_step(st, &ignored) == 1;
    ob_stmt_done(st);
    return found;
}

/* Whether the rows of t hold d, a unique index to be made over them: a
 * duplicate (NULLs never are) fails the migration with a message naming the
 * table, the index and the value, before anything is changed, rather than
 * with the engine's words in the middle of the version. */
static int unique_holds(ob_conn *c, const ob_table *t, const ob_index_def *d, int v, ob_err *err)
{
    ob_sb cols, q;
    int ncols = 0;
    ob_sb_init(&cols, 64);
    ob_sb_init(&q, 256);
    bool missing = false;
    for (const char *p = d->cols; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        bool desc = *p == '-';
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(n - desc), p + desc);
        missing = missing || !has_column(c, t, name);
        ncols++;
        ob_sb_addf(&cols, "%s\"%s\"", cols.len ? ", " : "", name);
        ob_sb_addf(&q, "%s\"%s\" IS NOT NULL", q.len ? " AND " : "", name);
        p += n + (end ? 1 : 0);
    }
    int rc = 0;
    if (!missing) { /* a column this version adds holds nothing yet */
        ob_sb sql;
        ob_sb_init(&sql, 512);
        ob_sb_addf(&sql, "SELECT %s, COUNT(*) FROM \"%s\" WHERE %s%s%s%s GROUP BY %s HAVING COUNT(*) > 1 LIMIT 1",
                   cols.buf, t->name, q.buf, d->where ? " AND (" : "", d->where ? d->where : "", d->where ? ")" : "",
                   cols.buf);
        ob_stmt *st;
        rc = ob_db_prepare(c, sql.buf, &st, err);
        ob_sb_release(&sql);
        if (rc == 0) {
            int found = ob_stmt_step(st, err);
            if (found < 0) rc = -1;
            else if (found == 1) {
                const char *val = ob_stmt_col_text(st, 0, NULL);
                /* unavailable: under serve the tenant's first use answers 503 until it is repaired,
                 * as a tenant newer than the binary does */
                rc = ob_err_set(err, OB_E_UNAVAILABLE,
                                "%s has %lld rows with %s = %.40s: schema version %d cannot make the unique index %s; "
                                "nothing was changed",
                                t->name, (long long)ob_stmt_col_i64(st, ncols), cols.buf, val ? val : "",
                                v, d->name);
            }
            ob_stmt_done(st);
        }
    }
    ob_sb_release(&cols);
    ob_sb_release(&q);
    return rc;
}

/* The indexes version v changes on a table made before it: those in
 * indexes.h's list at v and not at v - 1 are made; from OB_INDEX_FIX_SINCE
 * on, those of v - 1 no longer in it, or made otherwise under their name
 * (audit_logs' seq, unique since), are dropped first. Before, a version only
 * added: its replay leaves what it left. */
static int index_changes(ob_sb *out, ob_conn *c, const ob_table *t, int v, ob_err *err)
{
    ob_index_def was[OB_INDEX_MAX], now[OB_INDEX_MAX];
    int nw = ob_index_plan(t, v - 1, was, OB_INDEX_MAX), nn = ob_index_plan(t, v, now, OB_INDEX_MAX);
    for (int i = 0; v >= OB_INDEX_FIX_SINCE && i < nw; i++) {
        bool kept = was[i].constraint;
        for (int j = 0; !kept && j < nn; j++) kept = ob_index_same(&was[i], &now[j]);
        if (!kept) ob_sb_addf(out, "DROP INDEX IF EXISTS \"%s\";\n", was[i].name);
    }
    for (int j = 0; j < nn; j++) {
        bool had = now[j].constraint;
        for (int i = 0; !had && i < nw; i++) had = ob_index_same(&was[i], &now[j]);
        if (had) continue;
        if (now[j].unique && unique_holds(c, t, &now[j], v, err) != 0) return -1;
        index_sql(out, t, &now[j]);
    }
    return 0;
}

static int apply_version(ob_conn *c, ob_scope scope, int v, ob_err *err)
{
    ob_db_engine e = ob_conn_engine(c);
    ob_sb sql;
    ob_sb_init(&sql, 8192);
    /* SQLite: the version that made the full-text table one per database
     * replaces the old ones; a later version that adds a searchable table or
     * column fills it again (a contentless table cannot re-read one table) */
    bool fts_rebuild = v == OB_FTS_ONE_SINCE;
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope != scope) continue;
        int born = since_of(t->res->since);
        if (born == v) {
            ob_ddl_create_table(&sql, e, t, v);
            fts_rebuild = fts_rebuild || t->nsearch > 0;
        } else if (born < v) {
            bool search_added = false;
            for (int j = 0; j < t->ncols; j++)
                if (since_of(t->cols[j]->since) == v && t->cols[j]->since > 0 && !has_column(c, t, t->cols[j]->name)) {
                    add_column_ddl(&sql, e, t, t->cols[j]);
                    search_added = search_added || (t->cols[j]->flags & OB_SEARCH);
                }
            /* PostgreSQL: a version that adds a searchable column, and the
             * one that made the tsvector a stored column, rebuild it */
            if (!ob_dialect_of(e)->fts5 && t->nsearch > 0 && (search_added || v == OB_PG_TSV_SINCE))
                pg_fts_def(&sql, t, v);
            fts_rebuild = fts_rebuild || search_added;
            if (index_changes(&sql, c, t, v, err) != 0) {
                ob_sb_release(&sql);
                return -1;
            }
        }
    }
    for (int i = 0; !ob_dialect_of(e)->inline_refs && i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope == scope && since_of(t->res->since) <= v) fk_defs(&sql, c, t, v);
    }
    int rc = ob_db_begin(c, err);
    /* PostgreSQL: OB_PG_TSV_SINCE rewrites every searchable table (a stored
     * column added), minutes for a million rows, past the session's statement
     * timeout (pg_conn.c), which rolled the version back; lifted for this
     * transaction only */
    if (rc == 0 && !ob_dialect_of(e)->fts5 && v == OB_PG_TSV_SINCE)
        rc = ob_db_exec(c, "SET LOCAL statement_timeout = 0", err);
    if (rc == 0 && ob_dialect_of(e)->fts5 && fts_rebuild && v >= OB_FTS_ONE_SINCE) {
        /* drops read from the catalog inside the transaction, run before the rest */
        ob_sb pre;
        ob_sb_init(&pre, 4096);
        rc = legacy_fts_drops(c, &pre, err);
        if (rc == 0 && pre.len) rc = ob_db_exec(c, pre.buf, err);
        ob_sb_release(&pre);
        fts_one_def(&sql, scope, v, true);
    }
    if (rc == 0 && sql.len) rc = ob_db_exec(c, sql.buf, err);
    ob_sb_release(&sql);
    if (rc == 0) {
        ob_stmt *st;
        char now[OB_TS_LEN];
        ob_ts_format(ob_now_ms(), now);
        rc = ob_db_prepare(c, "INSERT INTO schema_migrations (version, applied_at, description) VALUES (?, ?, ?)", &st,
                           err);
        if (rc == 0) {
            ob_stmt_bind_i64(st, 1, v, err);
            ob_stmt_bind_text(st, 2, now, err);
            ob_stmt_bind_text(st, 3, "registry schema", err);
            rc = ob_stmt_step(st, err) < 0 ? -1 : 0;
            ob_stmt_done(st);
        }
    }
    if (rc == 0) return ob_db_commit(c, err);
    ob_db_rollback(c);
    return -1;
}

/* A table as replaying its versions one by one leaves it: the columns of its
 * first version in declared order, then those of each later version appended,
 * as ALTER TABLE ADD COLUMN would; PostgreSQL's full-text index has all the
 * searchable columns (the replay rebuilds it), and so has SQLite's full-text
 * table, made once for the whole database by create_fresh (fts_one_def). */
static void fresh_table(ob_sb *out, ob_db_engine e, const ob_table *t, int want)
{
    int born = since_of(t->res->since);
    ob_sb_addf(out, "CREATE TABLE IF NOT EXISTS \"%s\" (\n", t->name);
    bool first = true;
    for (int v = born; v <= want; v++)
        for (int i = 0; i < t->ncols; i++) {
            const ob_column *c = t->cols[i];
            int at = v == born ? (since_of(c->since) <= born ? born : 0) : (c->since == v ? v : 0);
            if (at != v) continue;
            ob_sb_adds(out, first ? "  " : ",\n  ");
            column_def(out, e, c);
            first = false;
        }
    for (int i = 0; i < t->res->nchecks; i++) {
        const ob_check *ck = &t->res->checks[i];
        ob_sb_addf(out, ",\n  CONSTRAINT \"%s\" CHECK (\"%s\" IS NULL OR \"%s\" IS NULL OR \"%s\" %s \"%s\")",
                   ck->name, ck->left, ck->right, ck->left, cmp_sql(ck->op), ck->right);
    }
    ob_sb_adds(out, "\n);\n");
    indexes_sql(out, t, want);
    if (t->nsearch > 0 && !ob_dialect_of(e)->fts5) pg_fts_def(out, t, want);
}

/* Whether none of scope's tables exists yet (a new database): a database with
 * some of them but no recorded version (rolled back by hand) is replayed,
 * which completes what is there. One catalog query, so that PostgreSQL is not
 * asked once a table. */
static bool is_empty(ob_conn *c, ob_scope scope)
{
    ob_sb sql;
    ob_sb_init(&sql, 4096);
    ob_sb_adds(&sql, ob_conn_engine(c) == OB_DB_SQLITE
                         ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ("
                         : "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                           "AND table_name IN (");
    bool first = true;
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope != scope) continue;
        ob_sb_addf(&sql, "%s'%s'", first ? "" : ", ", t->name); /* registry names: [a-z_] */
        first = false;
    }
    ob_sb_adds(&sql, ")");
    ob_stmt *st;
    ob_err ignored;
    bool empty = false;
    if (ob_db_prepare(c, sql.buf, &st, &ignored) == 0) {
        empty = ob_stmt_step(st, &ignored) == 1 && ob_stmt_col_i64(st, 0) == 0;
        ob_stmt_done(st);
    }
    ob_sb_release(&sql);
    return empty;
}

/* A new database gets every version in one transaction, with the schema the
 * version-by-version replay would leave (fresh_table): on SQLite each ALTER
 * TABLE ADD COLUMN of the replay re-reads the whole schema, which made a
 * tenant's creation parse it some sixty times. */
static int create_fresh(ob_conn *c, ob_scope scope, int want, ob_err *err)
{
    ob_db_engine e = ob_conn_engine(c);
    ob_sb sql;
    ob_sb_init(&sql, 65536);
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope == scope && since_of(t->res->since) <= want) fresh_table(&sql, e, t, want);
    }
    for (int i = 0; !ob_dialect_of(e)->inline_refs && i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope != scope) continue;
        for (int v = since_of(t->res->since); v <= want; v++) fk_defs(&sql, NULL, t, v);
    }
    if (ob_dialect_of(e)->fts5) fts_one_def(&sql, scope, want, false);
    /* The template of this exact schema text (SQLite): its pages copied,
     * the DDL not run again. */
    char key[65];
    ob_sha256 h;
    ob_sha256_init(&h);
    ob_sha256_update(&h, sql.buf ? sql.buf : "", sql.len);
    ob_sha256_final(&h, key);
    /* Tenants only: a tenant's file is made by one process (O_EXCL) and
     * migrated by it, while two commands on a new data directory may both
     * find its control database empty, and a page copy made by the later one
     * would overwrite what the first wrote since; a data directory makes one
     * control database, so a template of it would never be used anyway. */
    bool templated = scope == OB_SCOPE_TENANT;
    bool loaded = false;
    if (templated && ob_db_template_load(c, key, &loaded, err) != 0) {
        ob_sb_release(&sql);
        return -1;
    }
    char now[OB_TS_LEN];
    ob_ts_format(ob_now_ms(), now);
    if (loaded) { /* the template's versions, applied now */
        ob_sb_release(&sql);
        ob_stmt *st;
        if (ob_db_prepare(c, "UPDATE schema_migrations SET applied_at = ?", &st, err) != 0) return -1;
        ob_stmt_bind_text(st, 1, now, err);
        int urc = ob_stmt_step(st, err) < 0 ? -1 : 0;
        ob_stmt_done(st);
        return urc;
    }
    int rc = ob_db_begin(c, err);
    if (rc == 0 && sql.len) rc = ob_db_exec(c, sql.buf, err);
    ob_sb_release(&sql);
    for (int v = 1; rc == 0 && v <= want; v++) {
        ob_stmt *st;
        rc = ob_db_prepare(c, "INSERT INTO schema_migrations (version, applied_at, description) VALUES (?, ?, ?)", &st,
                           err);
        if (rc == 0) {
            ob_stmt_bind_i64(st, 1, v, err);
            ob_stmt_bind_text(st, 2, now, err);
            ob_stmt_bind_text(st, 3, "registry schema", err);
            rc = ob_stmt_step(st, err) < 0 ? -1 : 0;
            ob_stmt_done(st);
        }
    }
    if (rc == 0) rc = ob_db_commit(c, err);
    else ob_db_rollback(c);
    if (rc == 0 && templated) ob_db_template_save(c, key);
    return rc;
}

/* After a version failed to apply: true when the database is at version v or
 * beyond all the same, made so by another process that read the same old
 * version and applied it first (two commands on a new data directory, two
 * servers meeting a tenant behind). Its transaction committed whole and ours
 * rolled back whole, so there is nothing to undo; err is cleared. */
static bool made_by_another(ob_conn *c, int v, ob_err *err)
{
    ob_err again;
    int now = ob_schema_version(c, &again);
    if (now < v) return false;
    *err = (ob_err){0};
    return true;
}

int ob_migrate(ob_conn *c, ob_scope scope, int *applied, ob_err *err)
{
    int have = ob_schema_version(c, err);
    int want = ob_registry_version();
    if (applied) *applied = 0;
    if (have < 0) return -1;
    if (have > want)
        return ob_err_set(err, OB_E_UNAVAILABLE,
                          "the database is at schema version %d but this binary knows only up to %d: upgrade opsbase",
                          have, want);
    if (have == 0 && want > 0 && is_empty(c, scope)) {
        if (create_fresh(c, scope, want, err) != 0 && !made_by_another(c, want, err)) return -1;
        if (applied) *applied = want;
        have = want;
    }
    for (int v = have + 1; v <= want; v++) {
        if (apply_version(c, scope, v, err) != 0) {
            if (!made_by_another(c, v, err)) return -1;
            v = ob_schema_version(c, err); /* it may have gone further */
            if (v < 0) return -1;
        }
        if (applied) (*applied)++;
    }
    /* an enum value added since the database was made: its CHECK widens */
    if (have > 0 && have < want && ob_ddl_widen_enums(c, scope, NULL, err) != 0) return -1;
    if (ob_conn_dialect(c)->version_stamp) { /* the stamp ob_db_peek_version reads */
        /* setting it writes and syncs the file even when unchanged, and serve
         * migrates the control database at every start: read it first */
        ob_stmt *st;
        if (ob_db_prepare(c, "PRAGMA user_version", &st, err) != 0) return -1;
        int rc = ob_stmt_step(st, err);
        int64_t stamped = rc == 1 ? ob_stmt_col_i64(st, 0) : -1;
        ob_stmt_done(st);
        if (rc < 0) return -1;
        if (stamped == want) return 0;
        char sql[48];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", want);
        return ob_db_exec(c, sql, err);
    }
    return 0;
}
