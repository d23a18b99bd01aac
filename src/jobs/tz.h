/* tz.h - IANA time zones read from the system's zoneinfo files (TZif).
 *
 * Schedules run in the tenant's time zone while many tenants share one
 * process and its threads. The C library's zone (TZ, localtime_r) is one per
 * process, and switching it per call is neither thread safe nor cheap, so a
 * zone is read once from its TZif file into an immutable table of
 * transitions (plus the file's POSIX rule for times after the last one) and
 * cached for the life of the process; lookups then take no lock.
 */
#ifndef OB_TZ_H
#define OB_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef struct ob_tz ob_tz;

/* The zone of an IANA name ("Europe/Berlin"); NULL or "" is UTC. An unknown
 * or malformed name is OB_E_UNPROCESSABLE. The zone lives as long as the
 * process. */
int ob_tz_get(const char *name, const ob_tz **out, ob_err *err);
/* Parse a TZif image (tests); the caller frees with ob_tz_free. */
int ob_tz_parse(const unsigned char *buf, size_t n, ob_tz **out, ob_err *err);
void ob_tz_free(ob_tz *z);
/* Seconds east of UTC in force at the UTC instant t (seconds). */
int32_t ob_tz_offset(const ob_tz *z, int64_t t);

/* Proleptic Gregorian calendar: days since 1970-01-01 and back. */
int64_t ob_days_from_civil(int64_t y, int m, int d);
void ob_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* Day of week of a day number, 0 = Sunday. */
int ob_weekday(int64_t days);
int ob_month_days(int64_t y, int m);

#endif
