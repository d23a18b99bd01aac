/* loyalty.c - 003's loyalty points: redeeming pays points towards an
 * invoice at the active programme's point value. The points leave through
 * the customer_loyalty_points ledger (a balance never below 0: 409), the
 * money arrives as a completed payment of the invoice (finance/books.c), in
 * one transaction. Points are earned when an invoice is paid (books.c). */
#include <string.h>

#include "base/base.h"
#include "domain/crm/crm.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"

/* The programme in force: the oldest active one. */
static int active_program(ob_ctx *ctx, ob_row **out, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_LOYALTY_PROGRAMS);
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"loyalty_programs\" WHERE \"is_active\" "
                                      "ORDER BY \"created_at\", \"id\" LIMIT 1",
                                      ob_sql_cols(t));
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    int rc = ob_stmt_step(st, err);
    *out = NULL;
    if (rc == 1) {
        *out = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, *out, st);
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

OB_ACTION_FN(ob_customer_redeem_points)
{
    (void)row;
    int64_t points = ob_row_int(ctx->input, CUSTOMERS_REDEEM_POINTS_IN_POINTS, 0);
    const char *inv_id = ob_row_text(ctx->input, CUSTOMERS_REDEEM_POINTS_IN_INVOICE_ID);
    ob_row *inv;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_INVOICES), inv_id, &inv, err) != 0) return -1;
    if (strcmp(ob_row_text(inv, INVOICES_CUSTOMER_ID), ob_row_id(old)) != 0)
        return ob_err_set(err, OB_E_NOT_FOUND, "the customer has no invoice %.40s", inv_id);
    ob_row *prog;
    if (active_program(ctx, &prog, err) != 0) return -1;
    if (!prog || ob_row_is_null(prog, LOYALTY_PROGRAMS_POINT_VALUE))
        return ob_err_set(err, OB_E_UNPROCESSABLE, "no active loyalty programme gives points a value");
    __int128 amount = (__int128)points * ob_row_int(prog, LOYALTY_PROGRAMS_POINT_VALUE, 0);
    if (amount <= 0 || amount > 999999999999LL)
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the points are worth nothing or too much to pay with");
    ob_row *e = ob_row_with_defaults(ctx, OB_TABLE_CUSTOMER_LOYALTY_POINTS);
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_CUSTOMER_ID, ob_row_id(old));
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_LOYALTY_PROGRAM_ID, ob_row_id(prog));
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_TRANSACTION_TYPE, "redeemed");
    ob_row_set_int(e, CUSTOMER_LOYALTY_POINTS_POINTS, -points);
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_REFERENCE_TYPE, "invoice");
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_REFERENCE_ID, inv_id);
    if (ob_crud_insert_row(ctx, e, err) != 0) return -1;
    ob_row *p = ob_row_with_defaults(ctx, OB_TABLE_PAYMENTS);
    ob_row_set_text(ctx->arena, p, PAYMENTS_CUSTOMER_ID, ob_row_id(old));
    ob_row_set_text(ctx->arena, p, PAYMENTS_INVOICE_ID, inv_id);
    ob_row_set_int(p, PAYMENTS_AMOUNT, (int64_t)amount);
    ob_row_set_text(ctx->arena, p, PAYMENTS_CURRENCY, ob_row_text(inv, INVOICES_CURRENCY));
    ob_row_set_text(ctx->arena, p, PAYMENTS_PAYMENT_METHOD, "loyalty_points");
    ob_row_set_text(ctx->arena, p, PAYMENTS_PAYMENT_STATUS, "completed");
    ob_row_set_text(ctx->arena, p, PAYMENTS_PAYMENT_DATE, ctx->now);
    ob_row_set_text(ctx->arena, p, PAYMENTS_DESCRIPTION, "loyalty points redeemed");
    return ob_crud_insert_row(ctx, p, err);
}
