/* finance.h - hooks of the finance area: generated numbers, the tenant's
 * currency as the default, computed invoice lines, double-entry lines and
 * the single company profile. */
#ifndef OB_DOMAIN_FINANCE_H
#define OB_DOMAIN_FINANCE_H

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

#endif
