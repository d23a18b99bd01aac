/* kpis.c - the figures of a KPI target, measured from the tenant's data.
 *
 * Days are the tenant's (settings.timezone): the reference day D is today in
 * that zone, held within [period_start, period_end]. Each known kpi_name has
 * a window of days ending on D and a figure over it; the trend compares the
 * figure with the one over the same number of days just before the window.
 * Sales are invoices issued and not cancelled (issued, partially_paid, paid,
 * overdue) by invoice_date. All figures are exact: minor units of 2 places
 * (grams and ratios rounded half up to 2 places). See docs/kpis.md. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "base/clock.h"
#include "domain/analytics/analytics.h"
#include "jobs/jobs.h"
#include "jobs/tz.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

#define DAY_MS 86400000LL
#define SALES_STATES "('issued', 'partially_paid', 'paid', 'overdue')"

/* Days are day numbers since 1970-01-01 (the tenant's calendar). */
typedef struct window {
    int64_t first, last;
} window;

static void day_text(int64_t day, char out[11])
{
    int64_t y;
    int m, d;
    ob_civil_from_days(day, &y, &m, &d);
    snprintf(out, 11, "%04lld-%02d-%02d", (long long)y, m, d);
}

static int64_t day_of(const char *date)
{
    char ts[40];
    int64_t ms = 0;
    if (!date) return 0;
    snprintf(ts, sizeof ts, "%.10sT00:00:00Z", date);
    if (ob_ts_parse(ts, &ms) != 0) return 0;
    return ms / DAY_MS;
}

/* The UTC instant of a local midnight, as a stored timestamp. */
static void midnight_utc(const ob_tz *z, int64_t day, char out[OB_TS_LEN])
{
    int64_t local = day * DAY_MS;
    int64_t guess = local - (int64_t)ob_tz_offset(z, local / 1000) * 1000;
    ob_ts_format(local - (int64_t)ob_tz_offset(z, guess / 1000) * 1000, out);
}

/* A decimal aggregate: minor units on SQLite, numeric text on PostgreSQL. */
static int64_t dec_col(ob_stmt *st, int i, int scale)
{
    const char *text = ob_stmt_col_text(st, i, NULL);
    int64_t v = 0;
    if (text && strchr(text, '.')) ob_parse_decimal(text, scale, &v);
    else v = ob_stmt_col_i64(st, i);
    return v;
}

/* n / d half up (both >= 0), 0 when d is 0. */
static int64_t div_half_up(__int128 n, __int128 d)
{
    if (d <= 0) return 0;
    __int128 q = (2 * n + d) / (2 * d);
    return q > INT64_MAX ? INT64_MAX : (int64_t)q;
}

/* Sum of total_amount (minor units) and count of the sales in w. */
static int sales(ob_ctx *ctx, window w, int64_t *sum, int64_t *count, ob_err *err)
{
    char a[11], b[11];
    day_text(w.first, a);
    day_text(w.last, b);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT COALESCE(SUM(\"total_amount\"), 0), COUNT(*) FROM \"invoices\" WHERE \"status\" IN "
                      SALES_STATES " AND \"invoice_date\" >= ? AND \"invoice_date\" <= ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, a, err);
    ob_stmt_bind_text(st, 2, b, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *sum = dec_col(st, 0, 2), *count = ob_stmt_col_i64(st, 1);
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Net grams of gold on the lines of the sales in w (3 places). */
static int gold_grams(ob_ctx *ctx, window w, int64_t *mg, ob_err *err)
{
    char a[11], b[11];
    day_text(w.first, a);
    day_text(w.last, b);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT COALESCE(SUM(l.\"net_weight\"), 0) FROM \"invoice_items\" l JOIN \"invoices\" i ON "
                      "i.\"id\" = l.\"invoice_id\" WHERE l.\"metal_type\" = 'gold' AND i.\"status\" IN " SALES_STATES
                      " AND i.\"invoice_date\" >= ? AND i.\"invoice_date\" <= ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, a, err);
    ob_stmt_bind_text(st, 2, b, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *mg = dec_col(st, 0, 3);
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* One integer from SQL over the UTC instants of w's local days. */
static int count_in(ob_ctx *ctx, const ob_tz *z, const char *sql, window w, int64_t *out, ob_err *err)
{
    char a[OB_TS_LEN], b[OB_TS_LEN];
    midnight_utc(z, w.first, a);
    midnight_utc(z, w.last + 1, b);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, a, err);
    ob_stmt_bind_text(st, 2, b, err);
    int rc = ob_stmt_step(st, err);
    if (rc == 1) *out = ob_stmt_col_i64(st, 0);
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* The figure of a KPI over w, in minor units of 2 places; 0 = measured,
 * 1 = not a known name (left alone), -1 error. */
static int figure(ob_ctx *ctx, const ob_tz *z, const char *name, window w, int64_t *out, ob_err *err)
{
    int64_t sum = 0, n = 0;
    if (!strcmp(name, "daily_sales") || !strcmp(name, "monthly_sales")) {
        if (sales(ctx, w, &sum, &n, err) != 0) return -1;
        *out = sum;
    } else if (!strcmp(name, "average_invoice_value")) {
        if (sales(ctx, w, &sum, &n, err) != 0) return -1;
        *out = sum >= 0 ? div_half_up(sum, n) : -div_half_up(-(__int128)sum, n);
    } else if (!strcmp(name, "gold_sold_grams")) {
        if (gold_grams(ctx, w, &sum, err) != 0) return -1;
        *out = div_half_up(sum, 10); /* milligrams to 2 places */
    } else if (!strcmp(name, "customer_acquisition")) {
        if (count_in(ctx, z,
                     "SELECT COUNT(*) FROM \"customers\" WHERE \"deleted_at\" IS NULL AND \"created_at\" >= ? "
                     "AND \"created_at\" < ?",
                     w, &n, err) != 0)
            return -1;
        *out = n * 100;
    } else if (!strcmp(name, "inventory_turnover")) {
        int64_t on_hand = 0;
        if (count_in(ctx, z,
                     "SELECT -COALESCE(SUM(\"quantity\"), 0) FROM \"inventory_transactions\" WHERE "
                     "\"transaction_type\" = 'sale' AND \"created_at\" >= ? AND \"created_at\" < ?",
                     w, &n, err) != 0)
            return -1;
        ob_stmt *st;
        if (ob_db_prepare(ctx->db, "SELECT COALESCE(SUM(\"quantity_on_hand\"), 0) FROM \"inventory\"", &st, err) != 0)
            return -1;
        int rc = ob_stmt_step(st, err);
        if (rc == 1) on_hand = ob_stmt_col_i64(st, 0);
        ob_stmt_done(st);
        if (rc < 0) return -1;
        *out = n > 0 ? div_half_up((__int128)n * 100, on_hand) : 0;
    } else {
        return 1;
    }
    return 0;
}

/* The window of a KPI for reference day d (a day within its period). */
static window window_of(const char *name, int64_t d, int64_t period_start)
{
    window w = {period_start, d};
    if (!strcmp(name, "daily_sales")) {
        w.first = d;
    } else if (!strcmp(name, "monthly_sales")) {
        int64_t y;
        int m, dd;
        ob_civil_from_days(d, &y, &m, &dd);
        w.first = ob_days_from_civil(y, m, 1);
    }
    return w;
}

bool ob_kpi_known(const char *name)
{
    static const char *const known[] = {"daily_sales", "monthly_sales", "average_invoice_value",
                                        "inventory_turnover", "customer_acquisition", "gold_sold_grams"};
    for (size_t i = 0; name && i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(name, known[i])) return true;
    return false;
}

int ob_kpi_today(ob_ctx *ctx, int64_t *day, ob_err *err)
{
    const ob_tz *z;
    if (ob_jobs_tenant_zone(ctx->store, ctx->tenant->slug, &z, err) != 0) return -1;
    *day = (ctx->now_ms + (int64_t)ob_tz_offset(z, ctx->now_ms / 1000) * 1000) / DAY_MS;
    return 0;
}

int ob_kpi_measure_days(ob_ctx *ctx, const char *name, int64_t ps, int64_t pe, int64_t *value, const char **trend,
                        ob_err *err)
{
    const ob_tz *z;
    int64_t today;
    if (ob_jobs_tenant_zone(ctx->store, ctx->tenant->slug, &z, err) != 0 || ob_kpi_today(ctx, &today, err) != 0)
        return -1;
    int64_t d = today < ps ? ps : today > pe ? pe : today;
    window w = window_of(name, d, ps);
    int64_t len = w.last - w.first + 1, now = 0, before = 0;
    window prev = {w.first - len, w.first - 1};
    int rc = figure(ctx, z, name, w, &now, err);
    if (rc != 0) return rc;
    if (figure(ctx, z, name, prev, &before, err) < 0) return -1;
    *value = now;
    if (trend) *trend = now > before ? "up" : now < before ? "down" : "stable";
    return 0;
}

int ob_kpi_measure(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const char *name = ob_row_text(row, KPI_TARGETS_KPI_NAME), *trend = NULL;
    if (!name) return 0;
    int64_t value = 0;
    int rc = ob_kpi_measure_days(ctx, name, day_of(ob_row_text(row, KPI_TARGETS_PERIOD_START)),
                                 day_of(ob_row_text(row, KPI_TARGETS_PERIOD_END)), &value, &trend, err);
    if (rc != 0) return rc < 0 ? -1 : 0;
    ob_row_set_int(row, KPI_TARGETS_CURRENT_VALUE, value);
    ob_row_set_text(ctx->arena, row, KPI_TARGETS_TREND_DIRECTION, trend);
    return 0;
}

/* Job kpis.compute: measure every active target whose period has begun
 * (in the tenant's calendar) and save the ones whose figures moved. */
int ob_kpis_compute_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err)
{
    (void)job;
    const ob_table *t = ob_registry_find(OB_TABLE_KPI_TARGETS);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT \"id\" FROM \"kpi_targets\" WHERE \"is_active\" ORDER BY \"id\"", &st, err) != 0)
        return -1;
    const char **ids;
    size_t n;
    if (ob_sql_texts(ctx, st, &ids, &n, err) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        ob_row *old;
        if (ob_sql_load_internal(ctx, t, ids[i], &old, err) != 0) return -1;
        /* the update hook measures; a save with nothing changed is a no-op */
        if (ob_crud_save(ctx, old, ob_row_copy(ctx->arena, old), "compute", err) != 0) return -1;
    }
    ob_sb_addf(result, "{\"targets\":%zu}", n);
    return 0;
}
