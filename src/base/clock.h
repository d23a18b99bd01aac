/* clock.h - wall time and its one text form.
 *
 * Timestamps are exchanged and stored as RFC 3339 UTC with milliseconds,
 * "2026-11-22T10:15:30.123Z" (24 bytes + NUL), which sorts as text. Dates are
 * "YYYY-MM-DD". Parsing accepts an offset (+05:30) or Z, and optional
 * fractional seconds, and rejects impossible dates (2026-02-30).
 */
#ifndef OB_CLOCK_H
#define OB_CLOCK_H

#include <stdint.h>

#define OB_TS_LEN 25 /* buffer size for a timestamp, NUL included */

/* Milliseconds since the Unix epoch (realtime) and a monotonic microsecond clock. */
int64_t ob_now_ms(void);
int64_t ob_mono_us(void);

/* Format ms-since-epoch as RFC 3339 UTC with milliseconds into out[OB_TS_LEN]. */
void ob_ts_format(int64_t ms, char out[OB_TS_LEN]);
/* Parse an RFC 3339 timestamp; 0 on success. */
int ob_ts_parse(const char *s, int64_t *ms);
/* Parse "YYYY-MM-DD" strictly; 0 on success; days since epoch in *days. */
int ob_date_parse(const char *s, int64_t *days);
/* Days since epoch to "YYYY-MM-DD" (11 bytes with NUL). */
void ob_date_format(int64_t days, char out[11]);

#endif
