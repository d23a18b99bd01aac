/* awb.c - air waybill numbers of air-cargo shipments (000): PPP-SSSSSSSC,
 * a 3-digit airline prefix, a 7-digit serial and its check digit (the serial
 * mod 7). Input with or without the dash or spaces is stored in the dashed
 * form, so the unique index sees one AWB however it was typed. Courier AWBs
 * (001) are the courier's own and are left alone. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/logistics/logistics.h"
#include "schema/crud.h"
#include "schema/row.h"
#include "gen/columns.h"
#include "base/banned.h"

static int bad_awb(ob_err *err, const char *why)
{
    ob_err_set(err, OB_E_VALIDATION, "awb_number %s", why);
    snprintf(err->field, sizeof err->field, "%s", SHIPMENTS_AWB_NUMBER.name);
    ob_err_field_add(err, SHIPMENTS_AWB_NUMBER.name, why);
    err->code = OB_E_VALIDATION;
    return -1;
}

/* 1 when the tenant's airlines name AWB prefixes and none is `prefix`, 0
 * when it is known or no airline has a prefix yet, -1 on error. */
static int unknown_prefix(ob_ctx *ctx, const char *prefix, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT COALESCE(SUM(CASE WHEN \"awb_prefix\" = ? THEN 1 ELSE 0 END), 0), COUNT(*) "
                      "FROM \"airlines\" WHERE \"awb_prefix\" IS NOT NULL",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, prefix, err);
    int rc = ob_stmt_step(st, err);
    int64_t known = rc == 1 ? ob_stmt_col_i64(st, 0) : 0, any = rc == 1 ? ob_stmt_col_i64(st, 1) : 0;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    return any > 0 && known == 0;
}

int ob_awb_normalize(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const char *type = ob_row_text(row, SHIPMENTS_SHIPMENT_TYPE);
    const char *awb = ob_row_text(row, SHIPMENTS_AWB_NUMBER);
    if (!type || strcmp(type, "air_cargo") != 0 || !awb) return 0;
    if (old) {
        const char *was = ob_row_text(old, SHIPMENTS_AWB_NUMBER);
        if (was && strcmp(was, awb) == 0) return 0;
    }
    char digits[12];
    size_t n = 0;
    for (const char *p = awb; *p; p++) {
        if (*p == '-' || *p == ' ') continue;
        if (*p < '0' || *p > '9' || n == 11) return bad_awb(err, "is PPP-SSSSSSSC: 11 digits, a dash after the 3rd");
        digits[n++] = *p;
    }
    if (n != 11) return bad_awb(err, "is PPP-SSSSSSSC: 11 digits, a dash after the 3rd");
    digits[n] = 0;
    int serial = 0;
    for (int i = 3; i < 10; i++) serial = serial * 10 + (digits[i] - '0');
    if (serial % 7 != digits[10] - '0') return bad_awb(err, "has a wrong check digit (the serial mod 7)");
    char prefix[4] = {digits[0], digits[1], digits[2], 0};
    int rc = unknown_prefix(ctx, prefix, err);
    if (rc < 0) return -1;
    if (rc) {
        ob_err_set(err, OB_E_UNPROCESSABLE, "no airline of this tenant has the AWB prefix %s", prefix);
        snprintf(err->field, sizeof err->field, "%s", SHIPMENTS_AWB_NUMBER.name);
        ob_err_field_add(err, SHIPMENTS_AWB_NUMBER.name, "has a prefix no airline of the tenant holds");
        err->code = OB_E_UNPROCESSABLE;
        return -1;
    }
    ob_row_set_text(ctx->arena, row, SHIPMENTS_AWB_NUMBER,
                    ob_arena_printf(ctx->arena, "%.3s-%s", digits, digits + 3));
    return 0;
}

int ob_awb_first_milestone(ob_ctx *ctx, const ob_row *ship, ob_err *err)
{
    const char *type = ob_row_text(ship, SHIPMENTS_SHIPMENT_TYPE);
    if (!type || strcmp(type, "air_cargo") != 0 || ob_row_is_null(ship, SHIPMENTS_AWB_NUMBER)) return 0;
    ob_row *ev = ob_row_with_defaults(ctx, OB_TABLE_TRACKING_EVENTS);
    ob_row_set_text(ctx->arena, ev, TRACKING_EVENTS_SHIPMENT_ID, ob_row_id(ship));
    ob_row_set_text(ctx->arena, ev, TRACKING_EVENTS_EVENT_CODE, "BKD");
    ob_row_set_text(ctx->arena, ev, TRACKING_EVENTS_EVENT_DESCRIPTION,
                    ob_arena_printf(ctx->arena, "booked under AWB %s", ob_row_text(ship, SHIPMENTS_AWB_NUMBER)));
    ob_row_set_text(ctx->arena, ev, TRACKING_EVENTS_EVENT_LOCATION, ob_row_text(ship, SHIPMENTS_ORIGIN_AIRPORT));
    ob_row_set_text(ctx->arena, ev, TRACKING_EVENTS_EVENT_DATETIME, ctx->now);
    ob_row_set_bool(ev, TRACKING_EVENTS_MILESTONE_FLAG, true);
    ob_row_set_text(ctx->arena, ev, TRACKING_EVENTS_SOURCE_SYSTEM, "opsbase");
    return ob_crud_insert_row(ctx, ev, err);
}
