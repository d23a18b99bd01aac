/* backup.h - backups and restores of the whole store or of one tenant.
 *
 * A backup is a directory: manifest.json (format, versions, engine, time, and
 * per part its file, SHA-256, size and row counts per table) and one
 * zstd-compressed file of JSON lines per part: `control.ndjson.zst` (the
 * platform rows no tenant owns: plans, features, ...) and
 * `tenants/<slug>.ndjson.zst` (the tenant's platform rows, then every row of
 * its database), each line {"t": table, "r": row as stored}, and beside it
 * `tenants/<slug>.files.zst`, the tenant's uploaded files (ops_int.h). Each database is
 * read inside one read snapshot, so a part is consistent while the server
 * keeps writing. The rows are the registry's, read and written through db.h:
 * the same code on both engines, and a backup restores on either.
 *
 * Backups hold secrets as stored (password hashes, sealed columns): sealed
 * values are read without being opened (ob_row_load_stored), so no backup or
 * export holds one in clear; the manifest's sealed_key_id names the master
 * key. A restore opens them with the part's tenant and seals them again for
 * the slug it restores as, computing their lookup hashes again. The files
 * are created 0600 in a 0700 directory.
 */
#ifndef OB_BACKUP_H
#define OB_BACKUP_H

#include <stdint.h>

#include "db/db.h"

typedef struct ob_backup_opts {
    const char *out_dir;  /* created; must not exist or be empty */
    const char *tenant;   /* NULL: the whole store */
    const char *version;  /* the binary's version, recorded in the manifest */
    const char *files_root; /* the data directory whose files/ holds uploads; NULL: leave them out */
} ob_backup_opts;

typedef struct ob_backup_report {
    int parts;
    int64_t rows, bytes, files;
} ob_backup_report;

int ob_backup(ob_store *s, const ob_backup_opts *o, ob_backup_report *rep, ob_err *err);

typedef struct ob_restore_opts {
    const char *from_dir;
    const char *tenant;   /* NULL: everything, into an empty store */
    const char *as;       /* with tenant: restore under this slug instead */
    const char *files_root; /* the data directory to put a tenant's files under; NULL: skip them */
} ob_restore_opts;

typedef struct ob_restore_report {
    int tenants;
    int64_t rows, files;
} ob_restore_report;

/* Refuses a backup of a newer schema than the binary's, a part whose checksum
 * differs from the manifest, a tenant that exists already, and (without
 * tenant) a store that has any tenant or plan. All or nothing per part. */
int ob_restore(ob_store *s, const ob_restore_opts *o, ob_restore_report *rep, ob_err *err);

#endif
