/* ready.h - what /readyz checks: the database, the job queues and the disk.
 *
 * Each check has a status and its figures; the probe is ready only when all
 * pass. The job figures are the job sweep's counts, as /metrics reads them
 * (ob_metrics_jobs): the probe opens one tenant (the database check's)
 * however many there are. */
#ifndef OB_READY_H
#define OB_READY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/jsonw.h"
#include "db/db.h"

typedef struct ob_ready_cfg {
    const char *data_dir;     /* whose file system must keep min_free_bytes free */
    int64_t min_free_bytes;   /* the disk check fails below this */
    int64_t max_job_age_s;    /* the jobs check fails when a due job has waited longer */
} ob_ready_cfg;

/* Run the checks and write {"status": "ready"|"not_ready", "failed": [...],
 * "checks": {"database": {...}, "jobs": {...}, "disk": {...}}} to w; true
 * when every check passed. */
bool ob_ready_check(ob_store *s, const ob_ready_cfg *cfg, ob_jsonw *w);

#endif
