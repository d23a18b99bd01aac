/* tarball.h - a tenant's export as one archive file: the export directory
 * (ops/backup.h: manifest.json with per-part SHA-256 and row counts per table,
 * the rows as zstd-compressed JSON lines, the files) packed into a POSIX ustar
 * file, and unpacked again for an import.
 *
 * Only what an export holds is written or accepted: regular files and
 * directories with relative names of at most 99 bytes, no "..", no links.
 * The archive is written under a temporary name, synced and renamed, so a
 * crash leaves no half archive under the final name. */
#ifndef OB_OPS_TARBALL_H
#define OB_OPS_TARBALL_H

#include <stdint.h>

#include "db/db.h"
#include "ops/backup.h"

typedef struct ob_archive_report {
    int64_t rows, files, bytes; /* rows and uploaded files exported; the archive's size */
    char sha256[65];            /* of the archive file, hex */
} ob_archive_report;

/* Export one tenant (ob_backup into a scratch directory beside out_path)
 * and pack it into the archive out_path (must not exist). */
int ob_tenant_archive(ob_store *s, const char *tenant, const char *version, const char *files_root,
                      const char *out_path, ob_archive_report *rep, ob_err *err);

/* Unpack an archive into dir (created, 0700; must not exist). */
int ob_tar_extract(const char *tar_path, const char *dir, ob_err *err);

/* Remove a directory tree the export or import made (regular files and
 * directories only). */
void ob_tar_rmtree(const char *dir);

#endif
