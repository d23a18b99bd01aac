/* schedule.h - periodic backups, retention runs and tenant purges inside
 * `opsbase serve`. */
#ifndef OB_OPS_SCHEDULE_H
#define OB_OPS_SCHEDULE_H

#include <stdint.h>

#include "db/db.h"

typedef struct ob_backup_sched_opts {
    const char *dir;      /* each backup in DIR/<YYYYMMDDTHHMMSSZ>/; NULL: no backups */
    int64_t every_s;      /* the first at start-up, then one per interval */
    const char *archive_dir;   /* retention runs (ops/archive.h) into this root */
    int64_t archive_every_s;   /* 0: no retention runs; else the first after one interval */
    int64_t purge_every_s;     /* 0: no purges; else erase due tenants (platform/tenants.h
                                  ob_tenant_purge_due) at start-up, then once per interval */
    int64_t keep;         /* newest backups kept (0: any number) */
    int64_t keep_days;    /* none older than this (0: any age) */
    const char *version;
    const char *files_root;    /* the data directory: its files/ go into each tenant's backup */
} ob_backup_sched_opts;

typedef struct ob_backup_sched ob_backup_sched;

int ob_backup_sched_start(ob_backup_sched **out, ob_store *s, const ob_backup_sched_opts *o, ob_err *err);
/* Waits for a backup in progress to finish. NULL is a no-op. */
void ob_backup_sched_stop(ob_backup_sched *b);

#endif
