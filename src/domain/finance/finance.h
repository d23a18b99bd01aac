/* finance.h - hooks of the finance area: generated numbers, the tenant's
 * currency as the default, computed invoice lines, double-entry lines and
 * the single company profile. */
#ifndef OB_DOMAIN_FINANCE_H
#define OB_DOMAIN_FINANCE_H

#include "schema/validate.h"
#include "schema/registry.h"

/* Records who entered an expense. */
extern const ob_hooks ob_expense_hooks;
/* Generates invoice_number (INV-000001), fills currency and created_by. */
extern const ob_hooks ob_invoice_hooks;
/* Computes line_total from quantity, price, charges, discount and tax. */
extern const ob_hooks ob_invoice_item_hooks;
/* One of debit and credit, never both; fills currency and created_by. */
extern const ob_hooks ob_accounting_entry_hooks;
/* One company profile per tenant: a second create is a conflict. */
extern const ob_hooks ob_company_settings_hooks;

/* A completed payment of an invoice posts cash against the receivable and
 * moves the invoice to partially_paid or paid (books.c). */
extern const ob_hooks ob_payment_hooks;

/* A ledger line's journal: required, a draft; fills journal_number. */
int ob_finance_entry_journal(ob_ctx *ctx, ob_row *row, ob_err *err);


/* Money columns' upper bound in minor units (as commerce's). */
#define OB_MONEY_MAX 999999999999LL
/* Keeps company_settings' rate columns at the rates in force. */
extern const ob_hooks ob_metal_rate_hooks;

/* The rate per gram (minor units) of metal at purity in force at `at`
 * (RFC 3339): 1 with *rate set, 0 when there is none, -1 on error. */
int ob_metal_rate_at(ob_ctx *ctx, const char *metal, int64_t purity, const char *at, int64_t *rate, ob_err *err);

/* An invoice's stock (sale.c): issue reserves every product line's units
 * (409 insufficient_stock when a piece is sold or held elsewhere), cancel
 * releases them, being paid in full turns them into sale entries. */
int ob_invoice_reserve(ob_ctx *ctx, const ob_row *inv, ob_err *err);
int ob_invoice_release(ob_ctx *ctx, const ob_row *inv, ob_err *err);
int ob_invoice_sell(ob_ctx *ctx, const ob_row *inv, ob_err *err);
/* A refund of `amount` on a completed payment (before the refund moved its
 * status): the invoice it paid owes that again (books.c). */
int ob_invoice_refunded(ob_ctx *ctx, const ob_row *pay, int64_t amount, ob_err *err);

#endif
