/* ops_int.h - what backup.c and restore.c share. */
#ifndef OB_OPS_INT_H
#define OB_OPS_INT_H

#include "base/arena.h"
#include "db/db.h"
#include "schema/registry.h"

#define OB_BACKUP_FORMAT "opsbase-backup"
#define OB_BACKUP_FORMAT_VERSION 1

/* The column of a control table that ties its rows to one tenant ("id" for
 * tenants itself), or -1 for platform rows no tenant owns. */
int ob_ops_tenant_col(const ob_table *t);

/* The id of the tenant named slug (not deleted), from the control database. */
int ob_ops_tenant_id(ob_conn *c, ob_arena *a, const char *slug, const char **id, ob_err *err);

#endif
