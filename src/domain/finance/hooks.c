/* hooks.c - finance: what the declarations alone cannot say. Invoice numbers
 * when none is given, the company's currency as the default,
 * one-sided ledger lines and a single company profile. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/finance/finance.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* The currency of new money rows when the company has not set one. */
#define FALLBACK_CURRENCY "USD"

/* Who entered the row: the signed-in user (none for the system). */
static void stamp_creator(ob_ctx *ctx, ob_row *row, ob_colh created_by)
{
    if (ctx->who && ctx->who->user_id) ob_row_set_text(ctx->arena, row, created_by, ctx->who->user_id);
}

/* Fill a missing currency from company_settings, so invoices and ledger
 * lines default to the tenant's own currency rather than a fixed one. */
static int default_currency(ob_ctx *ctx, ob_row *row, ob_colh currency, ob_err *err)
{
    if (!ob_row_is_null(row, currency)) return 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT currency FROM company_settings ORDER BY created_at LIMIT 1", &st, err) != 0)
        return -1;
    int rc = ob_stmt_step(st, err);
    const char *cur = rc == 1 ? ob_stmt_col_text(st, 0, NULL) : NULL;
    ob_row_set_text(ctx->arena, row, currency, cur && *cur ? cur : FALLBACK_CURRENCY);
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

static int expense_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)err;
    stamp_creator(ctx, row, EXPENSES_CREATED_BY);
    return 0;
}

const ob_hooks ob_expense_hooks = {.before_create = expense_before_create};

OB_ACTION_FN(ob_expense_receipt)
{
    (void)old;
    const char *file_id = ob_row_text(ctx->input, EXPENSES_RECEIPT_IN_FILE_ID);
    ob_row *file;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_FILES), file_id, &file, err) != 0) return -1;
    ob_row_set_text(ctx->arena, row, EXPENSES_RECEIPT_FILE_ID, ob_row_id(file));
    return 0;
}

static int invoice_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    stamp_creator(ctx, row, INVOICES_CREATED_BY);
    return default_currency(ctx, row, INVOICES_CURRENCY, err);
}

const ob_hooks ob_invoice_hooks = {.before_create = invoice_before_create};

/* A field-level validation error from a hook. */
static int field_error(ob_err *err, const char *field, const char *problem)
{
    ob_err_set(err, OB_E_VALIDATION, NULL);
    ob_err_field_add(err, field, problem);
    return -1;
}

/* A ledger line moves money on one side only: exactly one of debit and
 * credit is above zero; it joins a draft journal (books.c), whose number it
 * carries. */
static int entry_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    int64_t debit = ob_row_int(row, ACCOUNTING_ENTRIES_DEBIT, 0),
            credit = ob_row_int(row, ACCOUNTING_ENTRIES_CREDIT, 0);
    if ((debit > 0) == (credit > 0))
        return field_error(err, ACCOUNTING_ENTRIES_DEBIT.name,
                           debit > 0 ? "and credit cannot both be set: use two lines"
                                     : "or credit must be greater than 0");
    if (ob_finance_entry_journal(ctx, row, err) != 0) return -1;
    stamp_creator(ctx, row, ACCOUNTING_ENTRIES_CREATED_BY);
    return default_currency(ctx, row, ACCOUNTING_ENTRIES_CURRENCY, err);
}

const ob_hooks ob_accounting_entry_hooks = {.before_create = entry_before_create};

static int company_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)row;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT 1 FROM company_settings LIMIT 1", &st, err) != 0) return -1;
    int rc = ob_stmt_step(st, err);
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (rc == 1)
        return ob_err_set(err, OB_E_CONFLICT, "the company settings exist already: change them with PATCH");
    return 0;
}

const ob_hooks ob_company_settings_hooks = {.before_create = company_before_create};
