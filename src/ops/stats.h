/* stats.h - the platform's monitoring figures (GET /api/v1/platform/stats):
 * the statements that took the most time, the largest tenants with their
 * largest tables, connections and the job queues. Bounded whatever the
 * deployment's size: OB_STATS_TOP_STATEMENTS statements, the first
 * OB_STATS_SCAN_TENANTS tenants (slug order) looked at and the
 * OB_STATS_TOP_TENANTS largest of them shown, each with its
 * OB_STATS_TOP_TABLES tables with the most rows. */
#ifndef OB_STATS_H
#define OB_STATS_H

#include "base/arena.h"
#include "base/jsonw.h"
#include "db/db.h"

#define OB_STATS_TOP_STATEMENTS 20
#define OB_STATS_SCAN_TENANTS 100
/* ...and for at most this long: tenants_scanned says how many were. */
#define OB_STATS_SCAN_MS 2000
#define OB_STATS_TOP_TENANTS 10
#define OB_STATS_TOP_TABLES 10

/* Write the figures as one JSON object to w; 0, or -1 with err when the
 * control database cannot be read. */
int ob_stats_write(ob_store *s, ob_arena *a, ob_jsonw *w, ob_err *err);

#endif
