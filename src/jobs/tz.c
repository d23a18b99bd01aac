/* tz.c - TZif zones (RFC 8536) and their POSIX rule, without the C
 * library's process-wide zone (see tz.h for why). */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "jobs/tz.h"
#include "base/banned.h"

/* A POSIX TZ rule date: Mm.w.d (kind 'M'), Jn (no Feb 29, 'J') or n ('n'),
 * at `secs` local time. */
typedef struct tz_date {
    char kind;
    int m, w, d, n;
    int32_t secs;
} tz_date;

typedef struct tz_rule {
    bool ok, has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    tz_date start, end;
} tz_rule;

struct ob_tz {
    int n;            /* transitions */
    int64_t *at;      /* UTC seconds, ascending */
    int32_t *off;     /* offset in force from at[i] */
    int32_t first;    /* offset before the first transition */
    tz_rule rule;     /* after the last transition (footer) */
};

int64_t ob_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ob_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int ob_weekday(int64_t days)
{
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int ob_month_days(int64_t y, int m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : md[m - 1];
}

/* --- the POSIX rule ------------------------------------------------------ */

static const char *rule_name(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return q ? q + 1 : NULL;
    }
    const char *q = p;
    while (isalpha((unsigned char)*q)) q++;
    return q - p >= 3 ? q : NULL;
}

/* [+-]hh[:mm[:ss]] into seconds; NULL when malformed. */
static const char *rule_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    int32_t v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)*p)) return i == 0 ? NULL : p;
        while (isdigit((unsigned char)*p)) v[i] = v[i] * 10 + (*p++ - '0');
        if (v[i] > 200) return NULL;
        if (i < 2 && *p == ':') p++;
        else break;
    }
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    return p;
}

static const char *rule_num(const char *p, int *out)
{
    if (!isdigit((unsigned char)*p)) return NULL;
    int v = 0;
    while (isdigit((unsigned char)*p) && v < 1000) v = v * 10 + (*p++ - '0');
    *out = v;
    return p;
}

static const char *rule_date(const char *p, tz_date *d)
{
    memset(d, 0, sizeof *d);
    d->secs = 7200; /* 02:00 unless given */
    if (*p == 'M') {
        d->kind = 'M';
        if (!(p = rule_num(p + 1, &d->m)) || *p++ != '.' || !(p = rule_num(p, &d->w)) || *p++ != '.' ||
            !(p = rule_num(p, &d->d)))
            return NULL;
        if (d->m < 1 || d->m > 12 || d->w < 1 || d->w > 5 || d->d > 6) return NULL;
    } else {
        d->kind = *p == 'J' ? 'J' : 'n';
        if (*p == 'J') p++;
        if (!(p = rule_num(p, &d->n)) || d->n > 365) return NULL;
    }
    if (*p == '/' && !(p = rule_hms(p + 1, &d->secs))) return NULL;
    return p;
}

/* "EST5EDT,M3.2.0,M11.1.0": offsets are west of UTC in the string. */
static void rule_parse(const char *s, tz_rule *r)
{
    memset(r, 0, sizeof *r);
    const char *p = rule_name(s);
    int32_t w;
    if (!p || !(p = rule_hms(p, &w))) return;
    r->std_off = -w;
    r->ok = true;
    if (!*p) return;
    const char *q = rule_name(p);
    if (!q) return;
    p = q;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = rule_hms(p, &w))) goto bad;
        r->dst_off = -w;
    }
    if (*p++ != ',' || !(p = rule_date(p, &r->start)) || *p++ != ',' || !(p = rule_date(p, &r->end)) || *p) goto bad;
    r->has_dst = true;
    return;
bad:
    r->ok = false;
}

/* Local seconds of year y at which rule date d happens. */
static int64_t rule_when(const tz_date *d, int64_t y)
{
    int64_t day;
    if (d->kind == 'M') {
        int64_t first = ob_days_from_civil(y, d->m, 1);
        int dom = 1 + (d->d - ob_weekday(first) + 7) % 7 + 7 * (d->w - 1);
        while (dom > ob_month_days(y, d->m)) dom -= 7;
        day = first + dom - 1;
    } else if (d->kind == 'J') {
        day = ob_days_from_civil(y, 1, 1) + d->n - 1 + (leap(y) && d->n >= 60);
    } else {
        day = ob_days_from_civil(y, 1, 1) + d->n;
    }
    return day * 86400 + d->secs;
}

static int32_t rule_offset(const tz_rule *r, int64_t t)
{
    if (!r->has_dst) return r->std_off;
    int64_t y;
    int m, d;
    int64_t local = t + r->std_off;
    ob_civil_from_days(local >= 0 ? local / 86400 : (local - 86399) / 86400, &y, &m, &d);
    /* the change to DST happens in standard time, the change back in DST */
    int64_t start = rule_when(&r->start, y) - r->std_off, end = rule_when(&r->end, y) - r->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* --- TZif ---------------------------------------------------------------- */

static int64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    if (n == 4) return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

void ob_tz_free(ob_tz *z)
{
    if (!z) return;
    free(z->at);
    free(z->off);
    free(z);
}

int ob_tz_parse(const unsigned char *buf, size_t n, ob_tz **out, ob_err *err)
{
    /* counts: isut, isstd, leap, time, type, char */
    int64_t c[6];
    size_t pos = 0;
    int tsize = 4;
    for (int pass = 0; pass < 2; pass++) {
        if (n - pos < 44 || memcmp(buf + pos, "TZif", 4) != 0) goto bad;
        for (int i = 0; i < 6; i++) c[i] = be(buf + pos + 20 + 4 * i, 4);
        for (int i = 0; i < 6; i++)
            if (c[i] < 0 || c[i] > 100000) goto bad;
        bool v2 = buf[pos + 4] >= '2';
        pos += 44;
        size_t block = (size_t)(c[3] * tsize + c[3] + c[4] * 6 + c[5] + c[2] * (tsize + 4) + c[1] + c[0]);
        if (n - pos < block) goto bad;
        /* a version 2+ file repeats the data with 64-bit times: use that */
        if (pass == 0 && v2) {
            pos += block;
            tsize = 8;
            continue;
        }
        break;
    }
    int64_t ntime = c[3], ntype = c[4];
    if (ntype < 1) goto bad;
    const unsigned char *times = buf + pos, *idx = times + ntime * tsize, *types = idx + ntime;
    ob_tz *z = calloc(1, sizeof *z);
    if (!z) return ob_err_set(err, OB_E_INTERNAL, "out of memory");
    z->n = (int)ntime;
    z->at = calloc((size_t)ntime + 1, sizeof *z->at);
    z->off = calloc((size_t)ntime + 1, sizeof *z->off);
    if (!z->at || !z->off) {
        ob_tz_free(z);
        return ob_err_set(err, OB_E_INTERNAL, "out of memory");
    }
    for (int64_t i = 0; i < ntime; i++) {
        if (idx[i] >= ntype) {
            ob_tz_free(z);
            goto bad;
        }
        z->at[i] = be(times + i * tsize, tsize);
        z->off[i] = (int32_t)be(types + idx[i] * 6, 4);
    }
    z->first = (int32_t)be(types, 4);
    const unsigned char *end = types + ntype * 6 + c[5] + c[2] * (tsize + 4) + c[1] + c[0];
    /* footer: "\n<POSIX TZ>\n" (version 2+) */
    if (tsize == 8 && end < buf + n && *end == '\n') {
        const unsigned char *nl = memchr(end + 1, '\n', (size_t)(buf + n - end - 1));
        if (nl && nl - end - 1 < 128) {
            char s[128];
            memcpy(s, end + 1, (size_t)(nl - end - 1));
            s[nl - end - 1] = 0;
            rule_parse(s, &z->rule);
        }
    }
    *out = z;
    return 0;
bad:
    return ob_err_set(err, OB_E_UNPROCESSABLE, "not a valid zoneinfo file");
}

int32_t ob_tz_offset(const ob_tz *z, int64_t t)
{
    if (z->n == 0 || t < z->at[0]) return z->n == 0 && z->rule.ok ? rule_offset(&z->rule, t) : z->first;
    if (t >= z->at[z->n - 1] && z->rule.ok) return rule_offset(&z->rule, t);
    int lo = 0, hi = z->n - 1; /* the last transition at or before t */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (z->at[mid] <= t) lo = mid;
        else hi = mid - 1;
    }
    return z->off[lo];
}

/* --- the process-wide cache ---------------------------------------------- */

typedef struct tz_entry {
    char name[64];
    ob_tz *z;
    struct tz_entry *next;
} tz_entry;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static tz_entry *cache;
static ob_tz utc_zone;

/* An IANA name: letters, digits, '_', '-', '+', and '/' between parts; no
 * "..", so the name cannot leave the zoneinfo directory. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 64 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "..") || strstr(s, "//")) return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_-+/", *p)) return false;
    return true;
}

static int load(const char *name, ob_tz **out, ob_err *err)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    FILE *f = fopen(path, "rb");
    if (!f) return ob_err_set(err, OB_E_UNPROCESSABLE, "unknown time zone \"%s\"", name);
    unsigned char *buf = malloc(1 << 17);
    size_t n = buf ? fread(buf, 1, 1 << 17, f) : 0;
    fclose(f);
    int rc = buf ? ob_tz_parse(buf, n, out, err) : ob_err_set(err, OB_E_INTERNAL, "out of memory");
    free(buf);
    if (rc) ob_err_set(err, OB_E_UNPROCESSABLE, "unknown time zone \"%s\"", name);
    return rc;
}

int ob_tz_get(const char *name, const ob_tz **out, ob_err *err)
{
    if (!name || !*name || strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
        *out = &utc_zone;
        return 0;
    }
    if (!name_ok(name)) return ob_err_set(err, OB_E_UNPROCESSABLE, "\"%.64s\" is not an IANA time zone name", name);
    pthread_mutex_lock(&cache_mu);
    int rc = 0;
    tz_entry *e = cache;
    while (e && strcmp(e->name, name) != 0) e = e->next;
    if (!e) {
        ob_tz *z;
        rc = load(name, &z, err);
        if (rc == 0 && !(e = calloc(1, sizeof *e))) {
            ob_tz_free(z);
            rc = ob_err_set(err, OB_E_INTERNAL, "out of memory");
        }
        if (rc == 0) {
            snprintf(e->name, sizeof e->name, "%s", name);
            e->z = z;
            e->next = cache;
            cache = e;
        }
    }
    if (rc == 0) *out = e->z;
    pthread_mutex_unlock(&cache_mu);
    return rc;
}
