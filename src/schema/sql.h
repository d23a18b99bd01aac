/* sql.h - the SQL the generic engine runs, built only from registry
 * identifiers; every value is bound. Texts that depend only on the table are
 * built once and kept for the life of the process. */
#ifndef OB_SQL_H
#define OB_SQL_H

#include "schema/ctx.h"
#include "schema/row.h"

/* "id","created_at",... for t (all columns, declaration order). */
const char *ob_sql_cols(const ob_table *t);
/* SELECT <cols> FROM t WHERE id = ? */
const char *ob_sql_select_by_id(const ob_table *t);

/* Bind a row value for column i of its table at idx. */
int ob_sql_bind_value(ob_stmt *st, int idx, const ob_value *v, ob_err *err);

/* 1 when a live row with this id exists in t (soft-deleted rows do not
 * count), 0 when not, -1 on error. A customer user sees only their own rows
 * of customer-scoped tables; other tables are checked tenant-wide. */
int ob_sql_exists(ob_ctx *ctx, const ob_table *t, const char *id, ob_err *err);
/* Load a live row by id; 0 found, -1 with OB_E_NOT_FOUND or another error.
 * Applies the principal's customer scope. */
int ob_sql_load(ob_ctx *ctx, const ob_table *t, const char *id, ob_row **out, ob_err *err);
/* The same without customer scoping, for workflows that must read rows the
 * principal cannot (an agent's counters when a customer opens a ticket). */
int ob_sql_load_internal(ob_ctx *ctx, const ob_table *t, const char *id, ob_row **out, ob_err *err);
/* Run one statement with n bound values, stepping it once (INSERT, UPDATE,
 * DELETE); rows it returns are ignored. */
int ob_sql_run(ob_conn *c, const char *sql, const ob_value *vals, int n, ob_err *err);
/* Step a prepared statement to its end and finish it, keeping its first
 * column as text (ctx's arena; NULL for null): the ids a job reads before it
 * writes, since writing while the statement is open is not portable. */
int ob_sql_texts(ob_ctx *ctx, ob_stmt *st, const char ***out, size_t *n, ob_err *err);
/* Next value of a named per-tenant counter (1, 2, ...). */
int ob_sql_seq_next(ob_ctx *ctx, const char *name, int64_t *out, ob_err *err);
/* The next n values of a named per-tenant counter, taken in one statement:
 * *last is the last of them (the first is *last - n + 1). n >= 1. */
int ob_sql_seq_take(ob_ctx *ctx, const char *name, int64_t n, int64_t *last, ob_err *err);
/* INSERT the full row. */
int ob_sql_insert(ob_ctx *ctx, const ob_row *row, ob_err *err);
/* INSERT n rows of one table with no generated columns, in order, with
 * multi-row INSERTs of power-of-two sizes (at most OB_SQL_INSERT_MANY_MAX
 * rows each), so a connection's statement cache holds a few texts however
 * n varies: a batch of 64 is one statement, one of 63 six. */
#define OB_SQL_INSERT_MANY_MAX 64
int ob_sql_insert_many(ob_ctx *ctx, ob_row *const *rows, int n, ob_err *err);
/* UPDATE every column of row where id and the old version match; version and
 * updated_at of row must already be the new ones. OB_E_VERSION when the stored
 * version moved. */
int ob_sql_update(ob_ctx *ctx, const ob_row *row, int64_t old_version, ob_err *err);
/* DELETE by id (hard delete). */
int ob_sql_delete(ob_ctx *ctx, const ob_table *t, const char *id, ob_err *err);

/* Customer scoping: for customer users append " AND ..." confining t to the
 * principal's customer (customer_scope) and to the rows the customer row rules
 * allow, its own and, for "parent.col" scopes, the parent's. The values to
 * bind, in order, go to params (room for OB_SQL_SCOPE_MAX); returns how many. */
#define OB_SQL_SCOPE_MAX (2 * OB_ROW_RULES_MAX + 2) /* + the own_col of ob_resource */
int ob_sql_scope(const ob_ctx *ctx, const ob_table *t, ob_sb *sql, ob_value *params);


#endif
