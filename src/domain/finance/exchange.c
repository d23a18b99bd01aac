/* exchange.c - old gold (003): the fine weight of what the customer brings,
 * less the melting deduction, valued at the 24K rate, and the metal ledger
 * entries that record it; with an invoice, the value is paid on it. */
#include <string.h>

#include "base/base.h"
#include "domain/finance/finance.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* a x b / div, half up; the inputs here are bounded well inside int64 */
static int64_t mul_div(int64_t a, int64_t b, int64_t div)
{
    return (int64_t)(((__int128)a * b + div / 2) / div);
}

static int pay_invoice(ob_ctx *ctx, ob_row *row, ob_err *err);

static int exchange_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    int64_t gross = ob_row_int(row, OLD_GOLD_EXCHANGES_GROSS_WEIGHT, 0),
            purity = ob_row_int(row, OLD_GOLD_EXCHANGES_PURITY, 0),
            pct = ob_row_int(row, OLD_GOLD_EXCHANGES_MELTING_DEDUCTION_PERCENT, 0);
    int64_t fine = mul_div(gross, purity, 1000), deducted = mul_div(fine, pct, 10000), credited = fine - deducted;
    const char *metal = ob_row_text(row, OLD_GOLD_EXCHANGES_METAL);
    if (!metal) return 0; /* validation names it */
    int64_t rate;
    int found = ob_metal_rate_at(ctx, metal, 999, ctx->now, &rate, err);
    if (found < 0) return -1;
    ob_row_set_int(row, OLD_GOLD_EXCHANGES_FINE_WEIGHT, fine);
    ob_row_set_int(row, OLD_GOLD_EXCHANGES_DEDUCTED_WEIGHT, deducted);
    ob_row_set_int(row, OLD_GOLD_EXCHANGES_CREDITED_WEIGHT, credited);
    if (!found) {
        /* the metal is received all the same; only paying with it needs a value */
        const char *inv = ob_row_text(row, OLD_GOLD_EXCHANGES_INVOICE_ID);
        int known = inv ? ob_sql_exists(ctx, ob_registry_find(OB_TABLE_INVOICES), inv, err) : 0;
        if (known < 0) return -1;
        if (known) /* an unknown one is validation's to refuse */
            return ob_err_set(err, OB_E_UNPROCESSABLE,
                              "no rate of %.20s 999 is in force to value it: enter one in metal_rates", metal);
        return 0;
    }
    ob_row_set_int(row, OLD_GOLD_EXCHANGES_RATE_PER_GRAM, rate);
    /* grams 3 places x rate 2 places: 5, half up to 2 */
    ob_row_set_int(row, OLD_GOLD_EXCHANGES_VALUE, mul_div(credited, rate, 1000));
    return pay_invoice(ctx, row, err);
}

/* With an invoice, the value pays towards it like any completed payment
 * (written first, so the exchange records its payment). */
static int pay_invoice(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const char *inv = ob_row_text(row, OLD_GOLD_EXCHANGES_INVOICE_ID);
    if (!inv || ob_row_int(row, OLD_GOLD_EXCHANGES_VALUE, 0) == 0) return 0;
    ob_row *p = ob_row_with_defaults(ctx, OB_TABLE_PAYMENTS);
    ob_row_set_text(ctx->arena, p, PAYMENTS_CUSTOMER_ID, ob_row_text(row, OLD_GOLD_EXCHANGES_CUSTOMER_ID));
    ob_row_set_text(ctx->arena, p, PAYMENTS_INVOICE_ID, inv);
    ob_row_set_int(p, PAYMENTS_AMOUNT, ob_row_int(row, OLD_GOLD_EXCHANGES_VALUE, 0));
    ob_row_set_text(ctx->arena, p, PAYMENTS_PAYMENT_METHOD, "old_gold");
    ob_row_set_text(ctx->arena, p, PAYMENTS_PAYMENT_STATUS, "completed");
    ob_row_set_text(ctx->arena, p, PAYMENTS_PAYMENT_DATE, ctx->now);
    ob_row_set_text(ctx->arena, p, PAYMENTS_DESCRIPTION, "old gold exchange");
    if (ob_crud_insert_row(ctx, p, err) != 0) return -1;
    ob_row_set_text(ctx->arena, row, OLD_GOLD_EXCHANGES_PAYMENT_ID, ob_row_id(p));
    return 0;
}

/* The metal's oldest account, opened by its first exchange. */
static int metal_account(ob_ctx *ctx, const char *metal, const char **id, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\" FROM \"metal_accounts\" WHERE \"metal\" = ? ORDER BY \"created_at\", \"id\" LIMIT 1",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, metal, err);
    int rc = ob_stmt_step(st, err);
    *id = rc == 1 ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)) : NULL;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (*id) return 0;
    ob_row *acc = ob_row_with_defaults(ctx, OB_TABLE_METAL_ACCOUNTS);
    ob_row_set_text(ctx->arena, acc, METAL_ACCOUNTS_METAL, metal);
    if (ob_crud_insert_row(ctx, acc, err) != 0) return -1;
    *id = ob_row_id(acc);
    return 0;
}

static int post_metal(ob_ctx *ctx, const char *account, const char *kind, int64_t grams, const ob_row *ex,
                      ob_err *err)
{
    if (grams == 0) return 0;
    ob_row *e = ob_row_with_defaults(ctx, OB_TABLE_METAL_LEDGER);
    ob_row_set_text(ctx->arena, e, METAL_LEDGER_METAL_ACCOUNT_ID, account);
    ob_row_set_text(ctx->arena, e, METAL_LEDGER_ENTRY_TYPE, kind);
    ob_row_set_int(e, METAL_LEDGER_FINE_WEIGHT, grams);
    ob_row_set_text(ctx->arena, e, METAL_LEDGER_CUSTOMER_ID, ob_row_text(ex, OLD_GOLD_EXCHANGES_CUSTOMER_ID));
    ob_row_set_text(ctx->arena, e, METAL_LEDGER_EXCHANGE_ID, ob_row_id(ex));
    return ob_crud_insert_row(ctx, e, err);
}

static int exchange_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    const char *account;
    if (metal_account(ctx, ob_row_text(row, OLD_GOLD_EXCHANGES_METAL), &account, err) != 0) return -1;
    if (post_metal(ctx, account, "received", ob_row_int(row, OLD_GOLD_EXCHANGES_FINE_WEIGHT, 0), row, err) != 0 ||
        post_metal(ctx, account, "deducted", ob_row_int(row, OLD_GOLD_EXCHANGES_DEDUCTED_WEIGHT, 0), row, err) != 0)
        return -1;
    return 0;
}

const ob_hooks ob_exchange_hooks = {.before_create = exchange_before_create, .after_create = exchange_after_create};

/* Entries that take metal in or out carry a positive weight; an adjustment
 * either sign. */
static int entry_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)ctx;
    const char *kind = ob_row_text(row, METAL_LEDGER_ENTRY_TYPE);
    if (kind && strcmp(kind, "adjustment") != 0 && ob_row_int(row, METAL_LEDGER_FINE_WEIGHT, 0) <= 0) {
        ob_err_set(err, OB_E_VALIDATION, NULL);
        ob_err_field_add(err, METAL_LEDGER_FINE_WEIGHT.name, "must be above 0 for this entry_type");
        return -1;
    }
    if (kind && !strcmp(kind, "adjustment") && ob_row_int(row, METAL_LEDGER_FINE_WEIGHT, 0) == 0) {
        ob_err_set(err, OB_E_VALIDATION, NULL);
        ob_err_field_add(err, METAL_LEDGER_FINE_WEIGHT.name, "must not be 0");
        return -1;
    }
    return 0;
}

const ob_hooks ob_metal_entry_hooks = {.before_create = entry_before_create};
