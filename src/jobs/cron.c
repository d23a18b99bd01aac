/* cron.c - parse cron specs and find their next slot in a zone (cron.h).
 *
 * The search walks the zone's wall clock, which has no gaps or repeats, with
 * coarse skips (a month, a day, an hour that cannot match), and maps each
 * matching wall-clock time to UTC only then: its first occurrence, or the end
 * of the daylight-saving gap it falls in. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "jobs/cron.h"
#include "base/banned.h"

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

typedef struct field_spec {
    const char *what;
    int lo, hi;
    const char *const *names; /* names[i] is lo + i */
    int nnames;
} field_spec;

/* One number or name at *p; advances *p. */
static int value(const char **p, const char *end, const field_spec *f, int *out)
{
    const char *s = *p;
    if (s < end && isdigit((unsigned char)*s)) {
        int v = 0;
        while (s < end && isdigit((unsigned char)*s) && v < 1000) v = v * 10 + (*s++ - '0');
        *p = s;
        *out = v;
        return 0;
    }
    for (int i = 0; i < f->nnames; i++)
        if (end - s >= 3 && strncasecmp(s, f->names[i], 3) == 0) {
            *p = s + 3;
            *out = f->lo + i;
            return 0;
        }
    return -1;
}

static int field(const char *s, const char *end, const field_spec *f, uint64_t *bits, bool *star, ob_err *err)
{
    *bits = 0;
    *star = *s == '*';
    while (s < end) {
        const char *item = s;
        int a = f->lo, b = f->hi, step = 1;
        bool range = false;
        if (*s == '*') {
            s++;
            range = true;
        } else {
            if (value(&s, end, f, &a) != 0) goto bad;
            b = a;
            if (s < end && *s == '-') {
                s++;
                if (value(&s, end, f, &b) != 0) goto bad;
                range = true;
            }
        }
        if (s < end && *s == '/') {
            s++;
            if (s >= end || !isdigit((unsigned char)*s)) goto bad;
            step = 0;
            while (s < end && isdigit((unsigned char)*s) && step < 1000) step = step * 10 + (*s++ - '0');
            if (step < 1) goto bad;
            if (!range) b = f->hi; /* "5/15": from 5 to the end */
        }
        if (s < end && *s != ',') goto bad;
        if (s < end) s++;
        /* 7 is Sunday too */
        int hi = f->names == day_names ? 7 : f->hi;
        if (a < f->lo || b > hi || a > b) {
            return ob_err_set(err, OB_E_UNPROCESSABLE, "cron %s \"%.*s\" is out of range %d-%d", f->what,
                              (int)(s - item), item, f->lo, f->hi);
        }
        for (int v = a; v <= b; v += step) *bits |= 1ULL << (f->names == day_names && v == 7 ? 0 : v);
        if (s == end && s[-1] == ',') goto bad;
        continue;
    bad:
        return ob_err_set(err, OB_E_UNPROCESSABLE, "cron %s \"%.*s\" is not understood", f->what,
                          (int)(end - item), item);
    }
    if (!*bits) return ob_err_set(err, OB_E_UNPROCESSABLE, "cron %s is empty", f->what);
    return 0;
}

static const struct {
    const char *name, *spec;
} shorthands[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

int ob_cron_parse(const char *spec, ob_cron *out, ob_err *err)
{
    memset(out, 0, sizeof *out);
    if (!spec) return ob_err_set(err, OB_E_UNPROCESSABLE, "cron spec is empty");
    while (isspace((unsigned char)*spec)) spec++;
    for (size_t i = 0; i < OB_ARRAY_LEN(shorthands); i++) {
        size_t n = strlen(shorthands[i].name);
        if (strncasecmp(spec, shorthands[i].name, n) == 0 && (!spec[n] || isspace((unsigned char)spec[n]))) {
            spec = shorthands[i].spec;
            break;
        }
    }
    const char *start[7], *stop[7];
    int n = 0;
    for (const char *p = spec; *p;) {
        while (isspace((unsigned char)*p)) p++;
        if (!*p) break;
        if (n == 6) return ob_err_set(err, OB_E_UNPROCESSABLE, "cron spec has more than six fields");
        start[n] = p;
        while (*p && !isspace((unsigned char)*p)) p++;
        stop[n++] = p;
    }
    if (n != 5 && n != 6)
        return ob_err_set(err, OB_E_UNPROCESSABLE,
                          "cron spec needs five fields (minute hour day-of-month month day-of-week), "
                          "or six with seconds first");
    static const field_spec fs[] = {
        {"second", 0, 59, NULL, 0},  {"minute", 0, 59, NULL, 0}, {"hour", 0, 23, NULL, 0},
        {"day of month", 1, 31, NULL, 0}, {"month", 1, 12, month_names, 12}, {"day of week", 0, 6, day_names, 7},
    };
    uint64_t bits[6];
    bool star[6];
    int skip = n == 5 ? 1 : 0;
    bits[0] = 1; /* five fields: at second 0 */
    for (int i = 0; i < n; i++)
        if (field(start[i], stop[i], &fs[i + skip], &bits[i + skip], &star[i + skip], err) != 0) return -1;
    out->sec = bits[0];
    out->min = bits[1];
    out->hour = (uint32_t)bits[2];
    out->dom = (uint32_t)bits[3];
    out->mon = (uint16_t)bits[4];
    out->dow = (uint8_t)bits[5];
    out->dom_star = star[3];
    out->dow_star = star[5];
    return 0;
}

static bool day_matches(const ob_cron *c, int dom, int dow)
{
    bool d = c->dom >> dom & 1, w = c->dow >> dow & 1;
    if (c->dom_star && c->dow_star) return true;
    if (c->dom_star) return w;
    if (c->dow_star) return d;
    return d || w;
}

/* The first UTC instant at which the zone's clock shows local time L: the
 * earlier of two in an overlap, the end of the gap when L is in one. */
static int64_t to_utc(const ob_tz *z, int64_t local)
{
    int32_t off[2] = {ob_tz_offset(z, local - 86400), ob_tz_offset(z, local + 86400)};
    int64_t best = INT64_MAX;
    for (int i = 0; i < 2; i++) {
        int64_t t = local - off[i];
        if (ob_tz_offset(z, t) == off[i] && t < best) best = t;
    }
    if (best != INT64_MAX) return best;
    /* a gap: the change happened between the two readings */
    int64_t lo = local - (off[0] > off[1] ? off[0] : off[1]), hi = local - (off[0] > off[1] ? off[1] : off[0]);
    int32_t after = ob_tz_offset(z, hi);
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ob_tz_offset(z, mid) == after) hi = mid;
        else lo = mid;
    }
    return hi;
}

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

int ob_cron_next(const ob_cron *c, const ob_tz *z, int64_t after_ms, int64_t *out_ms)
{
    int64_t after = floor_div(after_ms, 1000);
    /* a wall-clock time before the one showing at `after` has occurred (or, in
     * a gap, never will): the search starts a second later */
    int64_t local = after + ob_tz_offset(z, after) + 1;
    int64_t limit = local + (int64_t)366 * 5 * 86400;
    for (int guard = 0; local < limit && guard < 5000000; guard++) {
        int64_t days = floor_div(local, 86400), sod = local - days * 86400;
        int64_t y;
        int m, d;
        ob_civil_from_days(days, &y, &m, &d);
        if (!(c->mon >> m & 1)) {
            local = ob_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400;
            continue;
        }
        if (!day_matches(c, d, ob_weekday(days))) {
            local = (days + 1) * 86400;
            continue;
        }
        int h = (int)(sod / 3600), mi = (int)(sod % 3600 / 60), s = (int)(sod % 60);
        if (!(c->hour >> h & 1)) {
            local = days * 86400 + (int64_t)(h + 1) * 3600;
            continue;
        }
        if (!(c->min >> mi & 1)) {
            local = days * 86400 + (int64_t)h * 3600 + (int64_t)(mi + 1) * 60;
            continue;
        }
        if (!(c->sec >> s & 1)) {
            local++;
            continue;
        }
        int64_t t = to_utc(z, local);
        if (t > after) {
            *out_ms = t * 1000;
            return 0;
        }
        local++;
    }
    return -1;
}
