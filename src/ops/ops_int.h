/* ops_int.h - what backup.c and restore.c share. */
#ifndef OB_OPS_INT_H
#define OB_OPS_INT_H

#include "base/arena.h"
#include "db/db.h"
#include <jansson.h>

#include "schema/registry.h"
#include "schema/row.h"

#define OB_BACKUP_FORMAT "opsbase-backup"
#define OB_BACKUP_FORMAT_VERSION 1

/* The column of a control table that ties its rows to one tenant ("id" for
 * tenants itself), or -1 for platform rows no tenant owns. */
int ob_ops_tenant_col(const ob_table *t);

/* The id of the tenant named slug (not deleted), from the control database. */
int ob_ops_tenant_id(ob_conn *c, ob_arena *a, const char *slug, const char **id, ob_err *err);

/* A stored row (a backup or archive line's "r") as a row of t; OB_E_VALIDATION
 * when a value does not hold its column's type or the id is missing. */
int ob_ops_row_from_json(ob_arena *a, const ob_table *t, json_t *obj, ob_row **out, ob_err *err);

/* A tenant's uploaded files (DATA/files/<slug>/) as one zstd part of its
 * backup, and back under another or the same slug (files.c). */
typedef struct ob_ops_files {
    char sha256[65];
    int64_t bytes, count;
} ob_ops_files;
int ob_ops_files_dump(const char *root, const char *slug, const char *out, ob_ops_files *f, ob_err *err);
/* Checks the part's SHA-256 first and every file's content against its name. */
int ob_ops_files_load(const char *root, const char *slug, const char *in, const char *sha256, int64_t *count,
                      ob_err *err);

#endif
