/* core.c - the storage core's small helpers and the one mapping of engine
 * faults to ob_err: a driver classifies what its engine reported
 * (ob_db_fault), and every engine's errors then read alike to callers (see
 * db.h for the contract). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/core.h"
#include "base/banned.h"

uint64_t ob_db_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void *ob_db_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort();
    return p;
}

char *ob_db_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

void ob_db_copy_part(char *dst, size_t n, const char *src, size_t len)
{
    if (len >= n)
        len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* "table.a,b" in constraint, "a" in field: the shape callers match on. */
static int set_unique(ob_err *err, const ob_db_fault *f)
{
    char cols[96];
    size_t len = 0;
    for (size_t i = 0; i < f->columns_len && len + 1 < sizeof cols; i++)
        if (f->columns[i] != ' ' && f->columns[i] != '"')
            cols[len++] = f->columns[i];
    cols[len] = '\0';
    ob_err_set(err, OB_E_CONFLICT, "a record with the same '%s' exists", cols);
    ob_db_copy_part(err->field, sizeof err->field, cols, strcspn(cols, ","));
    /* only the first column keeps its table (SQLite's words name each) */
    size_t k = 0;
    if (f->table && *f->table) {
        ob_db_copy_part(err->constraint, sizeof err->constraint, f->table, strlen(f->table));
        k = strlen(err->constraint);
        if (k + 1 < sizeof err->constraint)
            err->constraint[k++] = '.';
    }
    ob_db_copy_part(err->constraint + k, sizeof err->constraint - k, cols, len);
    return -1;
}

int ob_db_fault_set(ob_err *err, const ob_db_fault *f)
{
    if (!err)
        return -1;
    const char *msg = f->message ? f->message : "";
    switch (f->kind) {
    case OB_DBF_UNIQUE:
        if (f->columns && f->columns_len)
            return set_unique(err, f);
        if (!f->name)
            return ob_err_set(err, OB_E_CONFLICT, NULL);
        /* a key over an expression: only the index can be named */
        ob_err_set(err, OB_E_CONFLICT, "a record with the same values exists ('%s')", f->name);
        snprintf(err->constraint, sizeof err->constraint, "%s", f->name);
        return -1;
    case OB_DBF_FOREIGN_KEY:
        ob_err_set(err, OB_E_UNPROCESSABLE,
                   "a referenced record does not exist, or the record is still referenced");
        snprintf(err->constraint, sizeof err->constraint, "foreign_key");
        return -1;
    case OB_DBF_CHECK: {
        const char *name = f->name && *f->name ? f->name : "check";
        ob_err_set(err, OB_E_VALIDATION, "check '%s' failed", name);
        snprintf(err->constraint, sizeof err->constraint, "%s", name);
        return -1;
    }
    case OB_DBF_NOT_NULL:
        if (!f->column || !*f->column)
            return ob_err_set(err, OB_E_VALIDATION, "a required value is missing");
        ob_err_set(err, OB_E_VALIDATION, "'%s' is required", f->column);
        if (f->table && *f->table)
            snprintf(err->constraint, sizeof err->constraint, "%s.%s", f->table, f->column);
        else
            snprintf(err->constraint, sizeof err->constraint, "%s", f->column);
        snprintf(err->field, sizeof err->field, "%s", f->column);
        ob_err_field_add(err, f->column, "required");
        return -1;
    case OB_DBF_RULE:
        /* a trigger's RAISE: a rule the schema enforces, so the caller sent
         * something the rule refuses, not a server fault */
        return ob_err_set(err, OB_E_UNPROCESSABLE, "%s", msg);
    case OB_DBF_STORAGE:
        return ob_err_set(err, OB_E_STORAGE, "storage error: %s", msg);
    case OB_DBF_INTERNAL:
    default:
        return ob_err_set(err, OB_E_INTERNAL, "database error: %s", msg);
    }
}
