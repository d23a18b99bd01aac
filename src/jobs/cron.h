/* cron.h - cron specs and the next time they match, in a time zone.
 *
 * A spec has five fields, "minute hour day-of-month month day-of-week", each
 * "*", a number, a range "a-b", a step "*" or range followed by "/n", or a
 * comma list of those; months and days of the week also by their English
 * three-letter names (JAN, MON; 0 and 7 are Sunday). When both day fields are
 * restricted, a day matching either one matches (as in every cron). An
 * optional sixth field in front gives seconds ("0-59/2 * * * * *"), for drills
 * and tests that cannot wait a minute per slot. @hourly, @daily (@midnight),
 * @weekly, @monthly and @yearly (@annually) are the usual shorthands.
 *
 * A spec names wall-clock times in the zone; each such time fires at most
 * once. Across a daylight-saving gap (02:30 that never happens) the slot
 * fires at the end of the gap, once however many slots fell into it; in an
 * overlap (01:30 that happens twice) it fires at the first occurrence only.
 */
#ifndef OB_CRON_H
#define OB_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "jobs/tz.h"

typedef struct ob_cron {
    uint64_t sec, min; /* bit n: second / minute n */
    uint32_t hour;     /* bits 0..23 */
    uint32_t dom;      /* bits 1..31 */
    uint16_t mon;      /* bits 1..12 */
    uint8_t dow;       /* bits 0..6, Sunday 0 */
    bool dom_star, dow_star;
} ob_cron;

/* Parse a spec; OB_E_UNPROCESSABLE with the reason when malformed. */
int ob_cron_parse(const char *spec, ob_cron *out, ob_err *err);
/* The first slot strictly after after_ms (UTC ms) in zone z, in UTC ms;
 * 0, or -1 when the spec matches nothing within five years (Feb 30). */
int ob_cron_next(const ob_cron *c, const ob_tz *z, int64_t after_ms, int64_t *out_ms);

#endif
