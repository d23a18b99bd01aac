/* archive.h - retention runs: rows past their table's retention (declared
 * as ob_resource.retention, overridable per tenant in
 * tenants.settings.retention.<table> = days; soft-deleted rows after
 * OB_RETENTION_DELETED_DAYS) move to zstd-compressed JSON-line files,
 * DIR/<tenant>/<table>/<YYYY-MM>/<run>.ndjson.zst, listed with their SHA-256 in
 * DIR/<tenant>/<run>.manifest.json, and are deleted in batches. Each batch
 * writes an audit row (action "archive", its count, cutoff and file). Active
 * legal holds (legal_holds) stop it for the tenant, a customer or a record. */
#ifndef OB_ARCHIVE_H
#define OB_ARCHIVE_H

#include <stdint.h>

#include "db/db.h"

typedef struct ob_archive_opts {
    const char *dir;     /* the archive root */
    const char *tenant;  /* NULL: every tenant */
    int64_t now_ms;      /* the clock the ages are measured against */
} ob_archive_opts;

typedef struct ob_archive_report {
    int tenants, held_tenants;
    int64_t rows;
} ob_archive_report;

int ob_archive_run(ob_store *s, const ob_archive_opts *o, ob_archive_report *rep, ob_err *err);

/* Put the rows of one run (its manifest) back into the tenant, for
 * inspection; rows whose id exists are skipped. *rows counts those inserted. */
int ob_archive_restore(ob_store *s, const char *manifest_path, const char *tenant, int64_t *rows, ob_err *err);

#endif
