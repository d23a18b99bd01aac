/* gateway.c - capture and refund of a payment (issue #15). Each is a
 * payment_transactions entry, the bounded ledger over the payment's
 * captured_amount and refunded_amount, so a refund beyond what was captured
 * is refused by the same conditional UPDATE that would move it (422
 * refund_exceeds_capture), racing requests included. payment_status follows
 * the balances. The money itself goes through the tenant's gateway: until an
 * adapter is configured, the simulator, which accepts every request. */
#include <string.h>

#include "base/base.h"
#include "domain/finance/finance.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "gen/columns.h"
#include "base/banned.h"

/* The simulator's transaction id: unique, recognisably not a real gateway's. */
static const char *sim_txn_id(ob_ctx *ctx)
{
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    return ob_arena_printf(ctx->arena, "sim_%s", id);
}

/* payment_status from the balances: all captured and none refunded is
 * completed, all refunded is refunded, part captured is processing. */
static const char *status_of(int64_t amount, int64_t captured, int64_t refunded)
{
    if (captured > 0 && refunded == captured) return "refunded";
    if (captured == amount) return "completed";
    return captured > 0 ? "processing" : "pending";
}

static int post(ob_ctx *ctx, const ob_row *old, ob_row *row, const char *kind, int64_t amount, ob_err *err)
{
    ob_row *t = ob_row_with_defaults(ctx, OB_TABLE_PAYMENT_TRANSACTIONS);
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_PAYMENT_ID, ob_row_id(old));
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_TRANSACTION_TYPE, kind);
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_STATUS, "succeeded");
    ob_row_set_int(t, PAYMENT_TRANSACTIONS_AMOUNT, amount);
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_CURRENCY, ob_row_text(old, PAYMENTS_CURRENCY));
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_PAYMENT_GATEWAY, "simulator");
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_GATEWAY_TRANSACTION_ID, sim_txn_id(ctx));
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_PROCESSED_AT, ctx->now);
    if (ob_crud_insert_row(ctx, t, err) != 0) return -1;
    int64_t captured = ob_row_int(old, PAYMENTS_CAPTURED_AMOUNT, 0), refunded = ob_row_int(old, PAYMENTS_REFUNDED_AMOUNT, 0);
    if (!strcmp(kind, "capture")) captured += amount;
    else refunded += amount;
    ob_row_set_text(ctx->arena, row, PAYMENTS_PAYMENT_STATUS,
                    status_of(ob_row_int(old, PAYMENTS_AMOUNT, 0), captured, refunded));
    if (!ob_row_text(old, PAYMENTS_PAYMENT_GATEWAY))
        ob_row_set_text(ctx->arena, row, PAYMENTS_PAYMENT_GATEWAY, "simulator");
    return 0;
}

OB_ACTION_FN(ob_payment_capture)
{
    int64_t amount = ob_row_int(ctx->input, PAYMENTS_CAPTURE_IN_AMOUNT, 0);
    const char *status = ob_row_text(old, PAYMENTS_PAYMENT_STATUS);
    if (!strcmp(status, "failed") || !strcmp(status, "cancelled") || !strcmp(status, "refunded"))
        return ob_err_set(err, OB_E_BAD_STATE, "a %s payment takes no capture", status);
    /* said before the ledger's bound would: the bound's own code is the refund's */
    if (amount > ob_row_int(old, PAYMENTS_AMOUNT, 0) - ob_row_int(old, PAYMENTS_CAPTURED_AMOUNT, 0))
        return ob_err_set(err, OB_E_CAPTURE_EXCEEDS_AMOUNT, NULL);
    return post(ctx, old, row, "capture", amount, err);
}

OB_ACTION_FN(ob_payment_refund)
{
    int64_t amount = ob_row_int(ctx->input, PAYMENTS_REFUND_IN_AMOUNT, 0);
    if (post(ctx, old, row, "refund", amount, err) != 0) return -1;
    /* money back on an invoice's payment: the invoice owes it again. Its
     * journal posts through a verb of its own, which resets ctx->input: the
     * payment's save that follows is still this action's, not a hand write */
    const ob_row *in = ctx->input;
    int rc = ob_invoice_refunded(ctx, old, amount, err);
    ctx->input = in;
    return rc;
}
