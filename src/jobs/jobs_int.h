/* jobs_int.h - what jobs.c and worker.c share. */
#ifndef OB_JOBS_INT_H
#define OB_JOBS_INT_H

#include "jobs/jobs.h"

/* Wake this process's workers (a job was enqueued). */
void ob_jobs_wake(void);

#endif
