/* books.c - double entry (003): journals that post only when balanced, and
 * the journals of an invoice's life: issuing debits the customer's
 * receivable and credits sales and output tax, a completed payment debits
 * cash and credits the receivable, cancelling reverses the issue. Each is
 * one journal posted in the event's own transaction. A paid invoice earns
 * its customer loyalty points. */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "domain/analytics/analytics.h"
#include "domain/finance/finance.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* The accounts the shop's events post to. */
#define ACC_CASH "1000", "Cash and bank", "asset"
#define ACC_RECEIVABLE "1100", "Accounts receivable", "asset"
#define ACC_TAX "2200", "Output tax", "liability"
#define ACC_SALES "4000", "Sales", "revenue"

typedef struct jline {
    const char *code, *name, *type;
    int64_t debit, credit;
} jline;

static int load(ob_ctx *ctx, const char *table, const char *id, ob_row **out, ob_err *err)
{
    return ob_sql_load_internal(ctx, ob_registry_find(table), id, out, err);
}

int ob_finance_entry_journal(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const char *jid = ob_row_text(row, ACCOUNTING_ENTRIES_JOURNAL_ID);
    if (!jid) {
        ob_err_set(err, OB_E_VALIDATION, NULL);
        ob_err_field_add(err, ACCOUNTING_ENTRIES_JOURNAL_ID.name, "is required: lines are posted as a journal");
        return -1;
    }
    ob_row *j;
    if (load(ctx, OB_TABLE_JOURNALS, jid, &j, err) != 0) return -1;
    if (strcmp(ob_row_text(j, JOURNALS_STATUS), "draft") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "journal %s is posted: correct it with another journal",
                          ob_row_text(j, JOURNALS_JOURNAL_NUMBER));
    ob_row_set_text(ctx->arena, row, ACCOUNTING_ENTRIES_JOURNAL_NUMBER, ob_row_text(j, JOURNALS_JOURNAL_NUMBER));
    return 0;
}

/* Posting: the journal's lines must have equal debits and credits, above 0. */
OB_EFFECT_FN(ob_journal_post)
{
    (void)old;
    const ob_table *t = ob_registry_find(OB_TABLE_ACCOUNTING_ENTRIES);
    const char *sql = ob_arena_printf(ctx->arena, "SELECT %s FROM \"accounting_entries\" WHERE \"journal_id\" = ?",
                                      ob_sql_cols(t));
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, ob_row_id(row), err);
    int64_t debit = 0, credit = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        ob_row *e = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, e, st);
        debit += ob_row_int(e, ACCOUNTING_ENTRIES_DEBIT, 0);
        credit += ob_row_int(e, ACCOUNTING_ENTRIES_CREDIT, 0);
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (debit != credit || debit == 0) {
        char d[32], c[32];
        ob_format_decimal(debit, 2, d, sizeof d);
        ob_format_decimal(credit, 2, c, sizeof c);
        return ob_err_set(err, OB_E_UNBALANCED_JOURNAL, "debits %s and credits %s differ or are 0: nothing posted", d,
                          c);
    }
    ob_row_set_int(row, JOURNALS_TOTAL_DEBIT, debit);
    ob_row_set_int(row, JOURNALS_TOTAL_CREDIT, credit);
    return 0;
}

static int journal_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    (void)ctx;
    if (strcmp(ob_row_text(old, JOURNALS_STATUS), "draft") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "a posted journal stays: correct it with another journal");
    return 0;
}

const ob_hooks ob_journal_hooks = {.before_delete = journal_before_delete};

/* One journal of an event: the lines (those of 0 left out), then the post
 * event with its balance check, all in the caller's transaction. */
static int post_journal(ob_ctx *ctx, const char *source, const char *desc, const jline *lines, int n,
                        const char *invoice_id, const char *payment_id, ob_err *err)
{
    ob_row *j = ob_row_with_defaults(ctx, OB_TABLE_JOURNALS);
    ob_row_set_text(ctx->arena, j, JOURNALS_SOURCE, source);
    ob_row_set_text(ctx->arena, j, JOURNALS_DESCRIPTION, desc);
    if (ob_crud_insert_row(ctx, j, err) != 0) return -1;
    for (int i = 0; i < n; i++) {
        if (lines[i].debit == 0 && lines[i].credit == 0) continue;
        ob_row *e = ob_row_with_defaults(ctx, OB_TABLE_ACCOUNTING_ENTRIES);
        ob_row_set_text(ctx->arena, e, ACCOUNTING_ENTRIES_JOURNAL_ID, ob_row_id(j));
        ob_row_set_text(ctx->arena, e, ACCOUNTING_ENTRIES_ACCOUNT_CODE, lines[i].code);
        ob_row_set_text(ctx->arena, e, ACCOUNTING_ENTRIES_ACCOUNT_NAME, lines[i].name);
        ob_row_set_text(ctx->arena, e, ACCOUNTING_ENTRIES_ACCOUNT_TYPE, lines[i].type);
        ob_row_set_int(e, ACCOUNTING_ENTRIES_DEBIT, lines[i].debit);
        ob_row_set_int(e, ACCOUNTING_ENTRIES_CREDIT, lines[i].credit);
        ob_row_set_text(ctx->arena, e, ACCOUNTING_ENTRIES_DESCRIPTION, desc);
        ob_row_set_text(ctx->arena, e, ACCOUNTING_ENTRIES_INVOICE_ID, invoice_id);
        ob_row_set_text(ctx->arena, e, ACCOUNTING_ENTRIES_PAYMENT_ID, payment_id);
        if (ob_crud_insert_row(ctx, e, err) != 0) return -1;
    }
    ob_row *posted;
    return ob_crud_run_verb(ctx, ob_registry_find(OB_TABLE_JOURNALS), ob_row_id(j), "post", NULL, &posted, err);
}

OB_GUARD_FN(ob_invoice_can_issue)
{
    (void)ctx;
    if (ob_row_int(row, INVOICES_TOTAL_AMOUNT, 0) <= 0)
        return ob_err_set(err, OB_E_UNPROCESSABLE, "an invoice is issued with lines and a total above 0");
    return 0;
}

/* Sales net of discount and output tax make up the receivable. */
static int issue_lines(ob_ctx *ctx, const ob_row *inv, bool reverse, const char *source, const char *desc,
                       ob_err *err)
{
    int64_t total = ob_row_int(inv, INVOICES_TOTAL_AMOUNT, 0), tax = ob_row_int(inv, INVOICES_TAX_AMOUNT, 0);
    jline l[] = {{ACC_RECEIVABLE, total, 0}, {ACC_SALES, 0, total - tax}, {ACC_TAX, 0, tax}};
    for (size_t i = 0; reverse && i < sizeof l / sizeof l[0]; i++) {
        int64_t d = l[i].debit;
        l[i].debit = l[i].credit;
        l[i].credit = d;
    }
    return post_journal(ctx, source, desc, l, 3, ob_row_id(inv), NULL, err);
}

OB_EFFECT_FN(ob_invoice_issue)
{
    (void)old;
    if (ob_invoice_reserve(ctx, row, err) != 0) return -1;
    return issue_lines(ctx, row, false, "invoice_issue",
                       ob_arena_printf(ctx->arena, "invoice %s issued", ob_row_text(row, INVOICES_INVOICE_NUMBER)),
                       err);
}

OB_EFFECT_FN(ob_invoice_cancel)
{
    if (strcmp(ob_row_text(old, INVOICES_STATUS), "issued") != 0) return 0; /* a draft posted nothing */
    if (ob_invoice_release(ctx, row, err) != 0) return -1;
    return issue_lines(ctx, row, true, "invoice_cancel",
                       ob_arena_printf(ctx->arena, "invoice %s cancelled", ob_row_text(row, INVOICES_INVOICE_NUMBER)),
                       err);
}

static bool completed(const ob_row *p)
{
    return p && !strcmp(ob_row_text(p, PAYMENTS_PAYMENT_STATUS), "completed");
}

/* The points an invoice earned (its earned entries), those already taken
 * back by its refunds (its adjusted entries, negative) and its points in
 * full (the largest single earned entry: what its first full payment
 * earned, or a later one's when the tier's multiplier grew). */
static int invoice_points(ob_ctx *ctx, const char *inv_id, int64_t *earned, int64_t *taken, int64_t *full,
                          ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT COALESCE(SUM(CASE WHEN \"transaction_type\" = 'earned' THEN \"points\" ELSE 0 END), 0), "
                      "COALESCE(-SUM(CASE WHEN \"transaction_type\" = 'adjusted' THEN \"points\" ELSE 0 END), 0), "
                      "COALESCE(MAX(CASE WHEN \"transaction_type\" = 'earned' THEN \"points\" ELSE 0 END), 0) "
                      "FROM \"customer_loyalty_points\" WHERE \"reference_type\" = 'invoice' AND \"reference_id\" = ?",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, inv_id, err);
    int rc = ob_stmt_step(st, err);
    *earned = rc == 1 ? ob_stmt_col_i64(st, 0) : 0;
    *taken = rc == 1 ? ob_stmt_col_i64(st, 1) : 0;
    *full = rc == 1 ? ob_stmt_col_i64(st, 2) : 0;
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Points for a paid invoice (003 loyalty): floor(total / 100) x the
 * multiplier of the customer's tier in the oldest active programme; none
 * without one. The entry moves the customer's balance (crm's ledger). */
static int earn_points(ob_ctx *ctx, const ob_row *inv, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_LOYALTY_PROGRAMS);
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"loyalty_programs\" WHERE \"is_active\" "
                                      "ORDER BY \"created_at\", \"id\" LIMIT 1",
                                      ob_sql_cols(t));
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    int rc = ob_stmt_step(st, err);
    ob_row *prog = NULL;
    if (rc == 1) {
        prog = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, prog, st);
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (!prog) return 0;
    ob_row *cust;
    if (load(ctx, OB_TABLE_CUSTOMERS, ob_row_text(inv, INVOICES_CUSTOMER_ID), &cust, err) != 0) return -1;
    json_int_t mult = 1;
    const char *tiers = ob_row_text(prog, LOYALTY_PROGRAMS_TIER_MULTIPLIERS);
    json_t *j = tiers ? json_loads(tiers, 0, NULL) : NULL;
    json_t *m = j ? json_object_get(j, ob_row_text(cust, CUSTOMERS_CUSTOMER_TIER)) : NULL;
    if (json_is_integer(m) && json_integer_value(m) >= 0 && json_integer_value(m) <= 1000) mult = json_integer_value(m);
    json_decref(j);
    /* the total is in hundredths: one point per 100 whole units */
    int64_t points = ob_row_int(inv, INVOICES_TOTAL_AMOUNT, 0) / 10000 * (int64_t)mult;
    /* paid in full again after refunds: only what the invoice no longer
     * holds, so the points it holds never exceed floor(paid / 100) x the
     * multiplier however often it is refunded and paid */
    int64_t earned, taken, full;
    if (invoice_points(ctx, ob_row_id(inv), &earned, &taken, &full, err) != 0) return -1;
    points -= earned - taken;
    if (points <= 0) return 0;
    ob_row *e = ob_row_with_defaults(ctx, OB_TABLE_CUSTOMER_LOYALTY_POINTS);
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_CUSTOMER_ID, ob_row_text(inv, INVOICES_CUSTOMER_ID));
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_LOYALTY_PROGRAM_ID, ob_row_id(prog));
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_TRANSACTION_TYPE, "earned");
    ob_row_set_int(e, CUSTOMER_LOYALTY_POINTS_POINTS, points);
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_REFERENCE_TYPE, "invoice");
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_REFERENCE_ID, ob_row_id(inv));
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_DESCRIPTION,
                    ob_arena_printf(ctx->arena, "invoice %s paid", ob_row_text(inv, INVOICES_INVOICE_NUMBER)));
    /* valid for the programme's days from the day paid in the tenant's zone */
    if (!ob_row_is_null(prog, LOYALTY_PROGRAMS_POINTS_VALIDITY_DAYS)) {
        char until[11];
        int64_t today;
        if (ob_kpi_today(ctx, &today, err) != 0) return -1;
        ob_date_format(today + ob_row_int(prog, LOYALTY_PROGRAMS_POINTS_VALIDITY_DAYS, 0), until);
        ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_EXPIRY_DATE, until);
    }
    return ob_crud_insert_row(ctx, e, err);
}

/* A payment of an invoice counts when it becomes completed: cash against
 * the receivable, and the invoice partially paid or paid. */
static int settle(ob_ctx *ctx, const ob_row *old, const ob_row *pay, ob_err *err)
{
    const char *inv_id = ob_row_text(pay, PAYMENTS_INVOICE_ID);
    if (!inv_id || !completed(pay) || completed(old)) return 0;
    ob_row *inv;
    if (load(ctx, OB_TABLE_INVOICES, inv_id, &inv, err) != 0) return -1;
    if (strcmp(ob_row_text(inv, INVOICES_CUSTOMER_ID), ob_row_text(pay, PAYMENTS_CUSTOMER_ID)) != 0)
        return ob_err_set(err, OB_E_NOT_FOUND, "the customer has no invoice %.40s", inv_id);
    const char *status = ob_row_text(inv, INVOICES_STATUS);
    if (strcmp(status, "issued") != 0 && strcmp(status, "partially_paid") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "an invoice that is \"%s\" takes no payment", status);
    int64_t amount = ob_row_int(pay, PAYMENTS_AMOUNT, 0), total = ob_row_int(inv, INVOICES_TOTAL_AMOUNT, 0),
            paid = ob_row_int(inv, INVOICES_AMOUNT_PAID, 0);
    if (amount > total - paid) {
        char due[32];
        ob_format_decimal(total - paid, 2, due, sizeof due);
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the payment is more than the %s due on the invoice", due);
    }
    jline l[] = {{ACC_CASH, amount, 0}, {ACC_RECEIVABLE, 0, amount}};
    const char *desc = ob_arena_printf(ctx->arena, "payment of invoice %s", ob_row_text(inv, INVOICES_INVOICE_NUMBER));
    if (post_journal(ctx, "invoice_payment", desc, l, 2, inv_id, ob_row_id(pay), err) != 0) return -1;
    ob_row *next = ob_row_copy(ctx->arena, inv);
    ob_row_set_int(next, INVOICES_AMOUNT_PAID, paid + amount);
    ob_row_set_text(ctx->arena, next, INVOICES_STATUS, paid + amount == total ? "paid" : "partially_paid");
    if (ob_crud_save(ctx, inv, next, "pay", err) != 0) return -1;
    if (paid + amount < total) return 0;
    /* paid in full: the pieces leave stock, the customer earns points and
     * the automation rules of invoice.paid run in a job */
    if (ob_invoice_sell(ctx, next, err) != 0 || earn_points(ctx, next, err) != 0) return -1;
    return ob_automation_raise(ctx, "invoice.paid", inv_id, err);
}

/* A refund takes back the points the invoice earned in proportion to the
 * money refunded so far: floor(earned x refunded / total), less what earlier
 * refunds took (rounding down: a customer keeps a part point; a full refund
 * takes them all); earned is the invoice's points in full, so a refund
 * after it was paid again takes back against what it holds now. Never below a zero balance: points already spent stay
 * spent, and the entry takes only what the customer still holds. */
static int take_back_points(ob_ctx *ctx, const ob_row *inv, int64_t paid_after, ob_err *err)
{
    int64_t earned, taken, full, total = ob_row_int(inv, INVOICES_TOTAL_AMOUNT, 0);
    if (total <= 0) return 0;
    if (invoice_points(ctx, ob_row_id(inv), &earned, &taken, &full, err) != 0) return -1;
    if (earned <= 0) return 0;
    int64_t refunded = total - paid_after;
    /* what it may keep: its points in full less floor(full x refunded /
     * total); with one payment in full, floor(earned x refunded / total)
     * less earlier take-backs as before */
    int64_t keep = full - (int64_t)((__int128)full * refunded / total);
    int64_t due = earned - taken - keep;
    ob_row *cust;
    if (load(ctx, OB_TABLE_CUSTOMERS, ob_row_text(inv, INVOICES_CUSTOMER_ID), &cust, err) != 0) return -1;
    int64_t balance = ob_row_int(cust, CUSTOMERS_LOYALTY_POINTS, 0);
    if (due > balance) due = balance;
    if (due <= 0) return 0;
    ob_row *e = ob_row_with_defaults(ctx, OB_TABLE_CUSTOMER_LOYALTY_POINTS);
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_CUSTOMER_ID, ob_row_text(inv, INVOICES_CUSTOMER_ID));
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_TRANSACTION_TYPE, "adjusted");
    ob_row_set_int(e, CUSTOMER_LOYALTY_POINTS_POINTS, -due);
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_REFERENCE_TYPE, "invoice");
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_REFERENCE_ID, ob_row_id(inv));
    ob_row_set_text(ctx->arena, e, CUSTOMER_LOYALTY_POINTS_DESCRIPTION,
                    ob_arena_printf(ctx->arena, "refund on invoice %s", ob_row_text(inv, INVOICES_INVOICE_NUMBER)));
    return ob_crud_insert_row(ctx, e, err);
}

int ob_invoice_refunded(ob_ctx *ctx, const ob_row *pay, int64_t amount, ob_err *err)
{
    const char *inv_id = ob_row_text(pay, PAYMENTS_INVOICE_ID);
    /* only a completed payment counted towards its invoice */
    if (!inv_id || !completed(pay)) return 0;
    ob_row *inv;
    if (load(ctx, OB_TABLE_INVOICES, inv_id, &inv, err) != 0) return -1;
    int64_t paid = ob_row_int(inv, INVOICES_AMOUNT_PAID, 0);
    if (amount > paid) amount = paid; /* never below nothing paid */
    if (amount == 0) return 0;
    jline l[] = {{ACC_RECEIVABLE, amount, 0}, {ACC_CASH, 0, amount}};
    const char *desc = ob_arena_printf(ctx->arena, "refund on invoice %s", ob_row_text(inv, INVOICES_INVOICE_NUMBER));
    if (post_journal(ctx, "invoice_refund", desc, l, 2, inv_id, ob_row_id(pay), err) != 0) return -1;
    /* the pieces sold stay sold: a refund returns money, a return is its
     * own movement; what is owed again is receivable again */
    ob_row *next = ob_row_copy(ctx->arena, inv);
    ob_row_set_int(next, INVOICES_AMOUNT_PAID, paid - amount);
    ob_row_set_text(ctx->arena, next, INVOICES_STATUS, paid - amount == 0 ? "issued" : "partially_paid");
    if (ob_crud_save(ctx, inv, next, "refund", err) != 0) return -1;
    return take_back_points(ctx, inv, paid - amount, err);
}

/* A payment of an invoice is in the books once completed: what undoes it
 * is the refund action (a ledger entry that moves the invoice back), never
 * a typed status. By hand, a pending or processing payment may become
 * completed (cash counted at the desk), failed or cancelled; refunded is the
 * refund action's, and money captured through the gateway sets the status
 * from its ledger (gateway.c). Actions (ctx->input set) are not hand
 * writes. */
static int hand_status(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err)
{
    if (ctx->input || ob_row_is_null(row, PAYMENTS_INVOICE_ID)) return 0;
    const char *to = ob_row_text(row, PAYMENTS_PAYMENT_STATUS), *from = old ? ob_row_text(old, PAYMENTS_PAYMENT_STATUS) : NULL;
    if (from && !strcmp(from, to)) return 0;
    if (!strcmp(to, "refunded"))
        return ob_err_set(err, OB_E_BAD_STATE, "a payment of an invoice is refunded by its refund action");
    if (from && (!strcmp(from, "completed") || !strcmp(from, "refunded")))
        return ob_err_set(err, OB_E_BAD_STATE, "a %s payment of an invoice changes only by its refund action", from);
    if (old && ob_row_int(old, PAYMENTS_CAPTURED_AMOUNT, 0) > 0)
        return ob_err_set(err, OB_E_BAD_STATE, "the payment's status follows its gateway captures");
    return 0;
}

/* Cash completed by hand is captured in full on the payment's own ledger (a
 * charge entry), so its refund action has something to give back. */
static int count_cash(ob_ctx *ctx, bool by_action, const ob_row *old, const ob_row *row, ob_err *err)
{
    if (by_action || ob_row_is_null(row, PAYMENTS_INVOICE_ID) || !completed(row) || completed(old) ||
        ob_row_int(row, PAYMENTS_CAPTURED_AMOUNT, 0) > 0)
        return 0;
    ob_row *t = ob_row_with_defaults(ctx, OB_TABLE_PAYMENT_TRANSACTIONS);
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_PAYMENT_ID, ob_row_id(row));
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_TRANSACTION_TYPE, "charge");
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_STATUS, "succeeded");
    ob_row_set_int(t, PAYMENT_TRANSACTIONS_AMOUNT, ob_row_int(row, PAYMENTS_AMOUNT, 0));
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_CURRENCY, ob_row_text(row, PAYMENTS_CURRENCY));
    const char *method = ob_row_text(row, PAYMENTS_PAYMENT_METHOD);
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_PAYMENT_GATEWAY, method ? method : "cash");
    ob_row_set_text(ctx->arena, t, PAYMENT_TRANSACTIONS_PROCESSED_AT, ctx->now);
    return ob_crud_insert_row(ctx, t, err);
}

static int payment_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    return hand_status(ctx, NULL, row, err);
}

static int payment_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    return hand_status(ctx, old, row, err);
}

/* read before settling: the journal it posts runs a verb of its own, which
 * resets ctx->input */
static int payment_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    bool by_action = ctx->input != NULL;
    if (settle(ctx, NULL, row, err) != 0) return -1;
    return count_cash(ctx, by_action, NULL, row, err);
}

static int payment_after_update(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err)
{
    bool by_action = ctx->input != NULL;
    if (settle(ctx, old, row, err) != 0) return -1;
    return count_cash(ctx, by_action, old, row, err);
}

const ob_hooks ob_payment_hooks = {.before_create = payment_before_create,
                                   .before_update = payment_before_update,
                                   .after_create = payment_after_create,
                                   .after_update = payment_after_update};
