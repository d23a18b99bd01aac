/* clock.c - wall and monotonic clocks, RFC 3339 timestamps and dates.
 *
 * Calendar arithmetic is done here (proleptic Gregorian, years 0001..9999)
 * rather than through timegm/mktime, which depend on TZ and on the platform's
 * time_t range. */
#include "base/clock.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/banned.h"

#define MS_PER_DAY INT64_C(86400000)

static const int cum_days[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };

int64_t ob_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ob_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* Days from 0001-01-01 to the given date (y >= 1). */
static int64_t days_since_0001(int y, int m, int d)
{
    int64_t py = y - 1;
    int64_t days = py * 365 + py / 4 - py / 100 + py / 400;
    days += cum_days[m - 1] + (m > 2 && is_leap(y) ? 1 : 0);
    return days + d - 1;
}

/* 1970-01-01 counted from 0001-01-01. */
#define EPOCH_FROM_0001 INT64_C(719162)

static int64_t days_from_civil(int y, int m, int d)
{
    return days_since_0001(y, m, d) - EPOCH_FROM_0001;
}

/* Inverse of days_from_civil for days in range (0001-01-01..9999-12-31). */
static void civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t n = days + EPOCH_FROM_0001; /* >= 0 */
    int64_t year = 400 * (n / 146097);
    n %= 146097;
    int64_t c = n / 36524; /* centuries; the 4th ends on the 400-year leap day */
    if (c == 4)
        c = 3;
    n -= c * 36524;
    int64_t q = n / 1461;
    n %= 1461;
    int64_t r = n / 365; /* years in the 4-year cycle; the 4th is the leap day */
    if (r == 4)
        r = 3;
    n -= r * 365;
    year += c * 100 + q * 4 + r + 1;
    int mon = 1;
    while (n >= month_days((int)year, mon)) {
        n -= month_days((int)year, mon);
        mon++;
    }
    *y = (int)year;
    *m = mon;
    *d = (int)n + 1;
}

#define MIN_DAYS (-EPOCH_FROM_0001)
#define MAX_DAYS (INT64_C(3652058) - EPOCH_FROM_0001) /* 9999-12-31 */

static char *put_digits(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

static char *put_date(char *p, int y, int m, int d)
{
    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    return put_digits(p, d, 2);
}

void ob_ts_format(int64_t ms, char out[OB_TS_LEN])
{
    /* Clamp to the representable years so the output is always 24 chars. */
    const int64_t lo = MIN_DAYS * MS_PER_DAY;
    const int64_t hi = (MAX_DAYS + 1) * MS_PER_DAY - 1;
    if (ms < lo)
        ms = lo;
    if (ms > hi)
        ms = hi;
    int64_t secs = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        /* Only possible with a narrow time_t; fall back to our arithmetic. */
        int64_t days = secs / 86400, sod = secs % 86400;
        if (sod < 0) {
            sod += 86400;
            days -= 1;
        }
        int y, m, d;
        civil_from_days(days, &y, &m, &d);
        tm.tm_year = y - 1900;
        tm.tm_mon = m - 1;
        tm.tm_mday = d;
        tm.tm_hour = (int)(sod / 3600);
        tm.tm_min = (int)(sod / 60 % 60);
        tm.tm_sec = (int)(sod % 60);
    }
    char *p = put_date(out, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    *p++ = 'T';
    p = put_digits(p, tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, tm.tm_sec, 2);
    *p++ = '.';
    p = put_digits(p, (int)frac, 3);
    *p++ = 'Z';
    *p = '\0';
}

/* Read exactly n ASCII digits. */
static bool read_digits(const char **pp, int n, int *out)
{
    const char *p = *pp;
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *pp = p + n;
    *out = v;
    return true;
}

static bool expect(const char **pp, char c)
{
    if (**pp != c)
        return false;
    (*pp)++;
    return true;
}

/* YYYY-MM-DD with a real calendar date; advances *pp. */
static bool read_date(const char **pp, int64_t *days)
{
    int y, m, d;
    if (!read_digits(pp, 4, &y) || !expect(pp, '-') || !read_digits(pp, 2, &m) ||
        !expect(pp, '-') || !read_digits(pp, 2, &d))
        return false;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
        return false;
    *days = days_from_civil(y, m, d);
    return true;
}

int ob_ts_parse(const char *s, int64_t *ms)
{
    if (!s)
        return -1;
    const char *p = s;
    int64_t days;
    int hh, mi, ss;
    if (!read_date(&p, &days))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (!read_digits(&p, 2, &hh) || !expect(&p, ':') || !read_digits(&p, 2, &mi) ||
        !expect(&p, ':') || !read_digits(&p, 2, &ss))
        return -1;
    if (hh > 23 || mi > 59 || ss > 59)
        return -1;
    int frac_ms = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        /* Keep milliseconds, truncate the rest so ordering is preserved. */
        while (*p >= '0' && *p <= '9') {
            if (nd < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            if (nd < 10)
                nd++;
            p++;
        }
        if (nd < 1 || nd > 9)
            return -1;
        for (int i = nd; i < 3; i++)
            frac_ms *= 10;
    }
    int64_t offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int oh, om;
        p++;
        if (!read_digits(&p, 2, &oh) || !expect(&p, ':') || !read_digits(&p, 2, &om))
            return -1;
        if (oh > 23 || om > 59)
            return -1;
        offset_min = sign * (oh * 60 + om);
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    int64_t local = days * MS_PER_DAY + ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + frac_ms;
    *ms = local - offset_min * 60000;
    return 0;
}

int ob_date_parse(const char *s, int64_t *days)
{
    if (!s)
        return -1;
    const char *p = s;
    int64_t d;
    if (!read_date(&p, &d) || *p != '\0')
        return -1;
    *days = d;
    return 0;
}

void ob_date_format(int64_t days, char out[11])
{
    if (days < MIN_DAYS)
        days = MIN_DAYS;
    if (days > MAX_DAYS)
        days = MAX_DAYS;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    char *p = put_date(out, y, m, d);
    *p = '\0';
}
