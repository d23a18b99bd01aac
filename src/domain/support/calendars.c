/* calendars.c - business calendars: weekly working hours in a time zone,
 * with holidays, and SLA due times counted in business minutes.
 *
 * A category may point to a calendar (categories.business_calendar_id); a
 * new ticket of that category is then due when the category's response
 * and resolution minutes have elapsed inside the calendar's hours, skipping
 * nights, days without hours and holidays. The hours are wall-clock times
 * of the calendar's zone (the tenant's, tenants.settings.timezone, when it
 * names none), so a due time follows daylight saving like the people who
 * work it. Declared here, before categories, which reference it. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/domains.h"
#include "domain/support/support.h"
#include "jobs/jobs.h"
#include "jobs/tz.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

extern const ob_hooks ob_calendar_hooks;
static const ob_column calendar_cols[] = {
    {"name", OB_F_TEXT, .max = 255, .flags = OB_REQUIRED | OB_SORT | OB_SEARCH},
    {"timezone", OB_F_TEXT, .max = 64,
     .doc = "IANA zone of the hours (Asia/Kolkata); null: the tenant's (tenants.settings.timezone)"},
    {"hours", OB_F_JSON, .flags = OB_REQUIRED,
     .doc = "working hours per weekday, wall clock: {\"mon\": [[\"09:00\", \"13:00\"], [\"14:00\", \"18:00\"]], "
            "\"tue\": ...}; days left out are closed; at least one interval in the week"},
    {"holidays", OB_F_JSON, .flags = OB_REQUIRED, .dflt = "[]", .doc = "closed days: [\"2026-12-25\", ...]"},
};
const ob_resource ob_res_business_calendars = {
    .table = "business_calendars", .doc = "weekly business hours and holidays that SLA due times count in",
    OB_COLS(calendar_cols), .perm = "categories", .hooks = &ob_calendar_hooks, .default_sort = "name", .since = 4,
};

#define MAX_SPANS 6
#define DAY_MS 86400000LL

static const char *const wdays[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

typedef struct calendar {
    const ob_tz *z;
    int nspan[7];
    int span[7][MAX_SPANS][2]; /* minutes of the local day: [start, end) */
    json_t *holidays;          /* array of "YYYY-MM-DD" */
} calendar;

static int hhmm(json_t *v, bool end, int *out)
{
    const char *s = json_string_value(v);
    int h, m;
    char tail;
    if (!s || strlen(s) != 5 || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 || m < 0 || m > 59 || h < 0 ||
        h > (end ? 24 : 23) || (h == 24 && m != 0))
        return -1;
    *out = h * 60 + m;
    return 0;
}

static int bad(ob_err *err, const char *field, const char *why)
{
    ob_err_set(err, OB_E_UNPROCESSABLE, NULL);
    return ob_err_field_add(err, field, why);
}

/* Parse and check a calendar row; c->holidays is a new reference. */
static int parse(const ob_row *row, const char *zone, calendar *c, ob_err *err)
{
    memset(c, 0, sizeof *c);
    if (ob_tz_get(zone, &c->z, err) != 0) return bad(err, "timezone", "is not a known IANA time zone");
    const char *htext = ob_row_text(row, BUSINESS_CALENDARS_HOURS), *dtext = ob_row_text(row, BUSINESS_CALENDARS_HOLIDAYS);
    json_t *hours = json_loads(htext ? htext : "null", 0, NULL);
    int rc = json_is_object(hours) ? 0 : bad(err, "hours", "must be an object of weekdays");
    int total = 0;
    const char *key;
    json_t *spans;
    json_object_foreach(hours, key, spans) {
        if (rc) break;
        int d = -1;
        for (int i = 0; i < 7; i++)
            if (!strcmp(key, wdays[i])) d = i;
        if (d < 0 || !json_is_array(spans) || json_array_size(spans) > MAX_SPANS) {
            rc = bad(err, "hours", "keys are sun..sat, each at most 6 [\"HH:MM\", \"HH:MM\"] intervals");
            break;
        }
        size_t i;
        json_t *sp;
        json_array_foreach(spans, i, sp) {
            int a, b;
            if (json_array_size(sp) != 2 || hhmm(json_array_get(sp, 0), false, &a) || hhmm(json_array_get(sp, 1), true, &b) ||
                b <= a || (c->nspan[d] && a < c->span[d][c->nspan[d] - 1][1])) {
                rc = bad(err, "hours", "an interval is [\"HH:MM\", \"HH:MM\"], start before end, in day order");
                break;
            }
            c->span[d][c->nspan[d]][0] = a;
            c->span[d][c->nspan[d]++][1] = b;
            total++;
        }
    }
    json_decref(hours);
    if (rc == 0 && total == 0) rc = bad(err, "hours", "has no working interval");
    c->holidays = json_loads(dtext ? dtext : "[]", 0, NULL);
    if (rc == 0 && !json_is_array(c->holidays)) rc = bad(err, "holidays", "must be an array of dates");
    size_t i;
    json_t *hd;
    json_array_foreach(c->holidays, i, hd) {
        int64_t day;
        if (rc == 0 && (!json_is_string(hd) || ob_date_parse(json_string_value(hd), &day) != 0))
            rc = bad(err, "holidays", "must be dates YYYY-MM-DD");
    }
    if (rc) {
        json_decref(c->holidays);
        c->holidays = NULL;
    }
    return rc;
}

static int check(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)ctx;
    /* a missing hours is the validator's to report (400, required) */
    if (!ob_row_text(row, BUSINESS_CALENDARS_HOURS)) return 0;
    calendar c;
    if (parse(row, ob_row_text(row, BUSINESS_CALENDARS_TIMEZONE), &c, err) != 0) return -1;
    json_decref(c.holidays);
    return 0;
}

static int check_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    return check(ctx, row, err);
}

const ob_hooks ob_calendar_hooks = {.before_create = check, .before_update = check_update};

static bool holiday(const calendar *c, int64_t day)
{
    char d[11];
    ob_date_format(day, d);
    size_t i;
    json_t *v;
    json_array_foreach(c->holidays, i, v) {
        if (!strcmp(json_string_value(v), d)) return true;
    }
    return false;
}

/* The UTC instant of a wall-clock time of the zone (ms): the offset in
 * force there, found from a first guess (a gap's time moves forward). */
static int64_t to_utc(const ob_tz *z, int64_t local_ms)
{
    int64_t guess = local_ms - (int64_t)ob_tz_offset(z, local_ms / 1000) * 1000;
    return local_ms - (int64_t)ob_tz_offset(z, guess / 1000) * 1000;
}

/* The working intervals of a local day, as UTC instants, clipped to start
 * at `from`; returns how many (empty ones left out). */
static int day_spans(const calendar *c, int64_t day, int64_t from, int64_t out[MAX_SPANS][2])
{
    if (holiday(c, day)) return 0;
    int wd = ob_weekday(day), k = 0;
    for (int i = 0; i < c->nspan[wd]; i++) {
        int64_t a = to_utc(c->z, day * DAY_MS + (int64_t)c->span[wd][i][0] * 60000);
        int64_t b = to_utc(c->z, day * DAY_MS + (int64_t)c->span[wd][i][1] * 60000);
        if (a < from) a = from;
        if (b <= a) continue;
        out[k][0] = a;
        out[k++][1] = b;
    }
    return k;
}

static int64_t local_day(const calendar *c, int64_t ms)
{
    int64_t local = ms + (int64_t)ob_tz_offset(c->z, ms / 1000) * 1000;
    return local >= 0 ? local / DAY_MS : (local - DAY_MS + 1) / DAY_MS;
}

/* The instant `ms` milliseconds of working time after start_ms. */
static int64_t add_ms(const calendar *c, int64_t start_ms, int64_t ms)
{
    int64_t left = ms, day = local_day(c, start_ms);
    /* a week has working time (checked at save), so this ends; the bound
     * covers a calendar whose every day is a holiday for years */
    for (int n = 0; n < 3660; n++, day++) {
        int64_t sp[MAX_SPANS][2];
        int k = day_spans(c, day, start_ms, sp);
        for (int i = 0; i < k; i++) {
            if (left <= sp[i][1] - sp[i][0]) return sp[i][0] + left;
            left -= sp[i][1] - sp[i][0];
        }
    }
    return start_ms + ms; /* no working time found: wall-clock time */
}

/* Working milliseconds in [a, b). */
static int64_t between(const calendar *c, int64_t a, int64_t b)
{
    int64_t sum = 0;
    for (int64_t day = local_day(c, a), n = 0; a < b && n < 3660; day++, n++) {
        int64_t sp[MAX_SPANS][2];
        int k = day_spans(c, day, a, sp);
        for (int i = 0; i < k; i++) {
            if (sp[i][0] >= b) return sum;
            sum += (sp[i][1] < b ? sp[i][1] : b) - sp[i][0];
        }
    }
    return sum;
}

/* Load and parse a calendar; c->holidays is the caller's to release. */
static int load(ob_ctx *ctx, const char *calendar_id, calendar *c, ob_err *err)
{
    ob_row *row;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_BUSINESS_CALENDARS), calendar_id, &row, err) != 0)
        return -1;
    const char *zone = ob_row_text(row, BUSINESS_CALENDARS_TIMEZONE);
    const ob_tz *tz = NULL;
    if (!zone && ob_jobs_tenant_zone(ctx->store, ctx->tenant->slug, &tz, err) != 0) return -1;
    if (parse(row, zone, c, err) != 0) return -1;
    if (!zone) c->z = tz;
    return 0;
}

int ob_business_due(ob_ctx *ctx, const char *calendar_id, int64_t start_ms, const int64_t *minutes, int64_t *due,
                    int n, ob_err *err)
{
    calendar c;
    if (load(ctx, calendar_id, &c, err) != 0) return -1;
    for (int i = 0; i < n; i++) due[i] = add_ms(&c, start_ms, minutes[i] * 60000);
    json_decref(c.holidays);
    return 0;
}

int ob_business_resume(ob_ctx *ctx, const char *calendar_id, int64_t paused_ms, int64_t resumed_ms, int64_t *due,
                       int n, ob_err *err)
{
    calendar c = {0};
    if (calendar_id && load(ctx, calendar_id, &c, err) != 0) return -1;
    for (int i = 0; i < n; i++) {
        if (due[i] <= paused_ms) continue; /* already late when the clock stopped: it stays late */
        if (!calendar_id) {
            due[i] += resumed_ms - paused_ms;
            continue;
        }
        due[i] = add_ms(&c, resumed_ms, between(&c, paused_ms, due[i]));
    }
    if (calendar_id) json_decref(c.holidays);
    return 0;
}
