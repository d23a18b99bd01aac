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

#endif
