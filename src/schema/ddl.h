/* ddl.h - DDL rendered from the registry, and versioned migrations.
 *
 * Schema version N contains every table, column and index whose `since` is
 * <= N (0 counts as 1). Migrating a database from version a to b creates the
 * tables born in each version, adds the columns and indexes added in it (from
 * OB_INDEX_FIX_SINCE also dropping the indexes schema/indexes.h no longer
 * lists), and records the version in schema_migrations, one transaction per
 * version.
 * A new database (no version, none of the scope's tables) gets all versions in
 * one transaction, laid out as the replay would leave it (same column order,
 * indexes, keys and full-text tables on both engines).
 */
#ifndef OB_DDL_H
#define OB_DDL_H

#include "base/strbuf.h"
#include "db/db.h"
#include "schema/registry.h"

/* CREATE TABLE (+ indexes; PostgreSQL's full-text index; SQLite's per-table
 * full-text table only for v < OB_FTS_ONE_SINCE) for t at version v. */
void ob_ddl_create_table(ob_sb *out, ob_db_engine e, const ob_table *t, int v);

/* SQLite since OB_FTS_ONE_SINCE: a database's one full-text table ob_fts
 * holds searchable table t's rows at rowids lo..hi, row rowid + lo. */
long long ob_ddl_fts_lo(const ob_table *t);
long long ob_ddl_fts_hi(const ob_table *t);

/* PostgreSQL since OB_PG_TSV_SINCE: a searchable table's stored generated
 * tsvector column (GIN-indexed as ix_<t>_fts), which list.c's q= filters.
 * Not a registry column: never read into a row, never written. */
#define OB_DDL_PG_TSV "ob_tsv"

/* The schema version recorded in a database (0 when none). */
int ob_schema_version(ob_conn *c, ob_err *err);
/* Migrate the control database (scope CONTROL) or a tenant database (TENANT)
 * to the registry's version. Refuses (OB_E_UNAVAILABLE) a database that is
 * newer than this binary. *applied receives how many versions were applied. */
int ob_migrate(ob_conn *c, ob_scope scope, int *applied, ob_err *err);
/* Widen the CHECK of every enum column whose stored list lacks a declared
 * value (ddl_enums.c); ob_migrate calls it after applying versions.
 * *widened (optional) receives how many columns were widened. */
int ob_ddl_widen_enums(ob_conn *c, ob_scope scope, int *widened, ob_err *err);

#endif
