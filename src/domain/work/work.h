/* work.h - background work: the jobs table and the kinds of job. */
#ifndef OB_WORK_H
#define OB_WORK_H

#include "jobs/jobs.h"

/* Give the job workers the kinds this area defines. */
void ob_work_register(void);

#endif
