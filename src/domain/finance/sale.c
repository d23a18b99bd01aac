/* sale.c - what an invoice's life does to stock (003): issuing holds every
 * line's piece through the stock ledger (reserve entries, all or nothing),
 * cancelling gives the held units back, and being paid in full turns them
 * into sale entries: the piece leaves stock when the customer has paid for
 * it, not before, so a piece on an unpaid invoice can still come back to
 * the shelf by cancelling.
 *
 * Nothing here moves a balance itself: every movement is an
 * inventory_transactions entry (commerce's ob_stock_post), whose bounded
 * ledger refuses a reserve beyond what is available (409
 * insufficient_stock), racing invoices included. What an invoice holds is
 * read back from its own entries (reference_type "invoice"), so selling
 * twice or releasing twice moves nothing. */
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "domain/finance/finance.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* An invoice is a sale of a few pieces: more lines than this are refused. */
#define MAX_LINES 500
/* Stock rows of one product tried for a line. */
#define MAX_LOTS 50

typedef struct lot {
    const char *inventory_id;
    int64_t units;
} lot;

/* The stock rows of a product (no variant), most available first. */
static int lots_of(ob_ctx *ctx, const char *product_id, lot *out, int *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\", \"quantity_on_hand\" - \"quantity_reserved\" FROM \"inventory\" "
                      "WHERE \"product_id\" = ? AND \"variant_id\" IS NULL ORDER BY 2 DESC, \"id\" LIMIT 50",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, product_id, err);
    *n = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1 && *n < MAX_LOTS) {
        out[*n].inventory_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        out[(*n)++].units = ob_stmt_col_i64(st, 1);
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Hold `units` of a product; *short_by is what could not be held. A reserve
 * the ledger refuses (a racing invoice took the piece since it was read)
 * counts as short, not as a fault. */
static int reserve(ob_ctx *ctx, const char *inv_id, const char *number, const char *product_id, int64_t units,
                   int64_t *short_by, ob_err *err)
{
    lot lots[MAX_LOTS];
    int n;
    if (lots_of(ctx, product_id, lots, &n, err) != 0) return -1;
    for (int i = 0; i < n && units > 0; i++) {
        int64_t take = lots[i].units < units ? lots[i].units : units;
        if (take <= 0) break;
        if (ob_stock_post(ctx, lots[i].inventory_id, "reserve", take, "invoice", inv_id, number, err) != 0) {
            if (err->code != OB_E_INSUFFICIENT_STOCK) return -1;
            ob_err_clear(err);
            break;
        }
        units -= take;
    }
    *short_by = units;
    return 0;
}

int ob_invoice_reserve(ob_ctx *ctx, const ob_row *inv, ob_err *err)
{
    const char *id = ob_row_id(inv), *number = ob_row_text(inv, INVOICES_INVOICE_NUMBER);
    const ob_table *t = ob_registry_find(OB_TABLE_INVOICE_ITEMS);
    const char *sql = ob_arena_printf(ctx->arena,
                                      "SELECT %s FROM \"invoice_items\" WHERE \"invoice_id\" = ? "
                                      "AND \"product_id\" IS NOT NULL ORDER BY \"sort_order\", \"id\"",
                                      ob_sql_cols(t));
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, id, err);
    ob_row **lines = ob_arena_alloc(ctx->arena, MAX_LINES * sizeof *lines);
    int n = 0, rc;
    while ((rc = ob_stmt_step(st, err)) == 1 && n < MAX_LINES) {
        lines[n] = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, lines[n++], st);
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    /* every line is tried, so the refusal names all that are short; the
     * request's transaction then rolls back what the others held */
    int shorts = 0;
    ob_err refusal;
    ob_err_clear(&refusal);
    for (int i = 0; i < n; i++) {
        /* quantity has 3 places: stock moves in whole units */
        int64_t qty = ob_row_int(lines[i], INVOICE_ITEMS_QUANTITY, 0);
        const char *label = ob_row_text(lines[i], INVOICE_ITEMS_DESCRIPTION);
        if (qty % 1000 != 0)
            return ob_err_set(err, OB_E_UNPROCESSABLE,
                              "line \"%.60s\" sells a product in part units: stock moves in whole ones", label);
        int64_t units = qty / 1000, short_by;
        if (reserve(ctx, id, number, ob_row_text(lines[i], INVOICE_ITEMS_PRODUCT_ID), units, &short_by, err) != 0)
            return -1;
        if (short_by == 0) continue;
        if (shorts++ == 0)
            ob_err_set(&refusal, OB_E_INSUFFICIENT_STOCK,
                       "invoice %s cannot be issued: a piece on it is not in stock (sold or held by another invoice)",
                       number);
        ob_err_field_add(&refusal, label,
                         ob_arena_printf(ctx->arena, "%lld of %lld units are not available", (long long)short_by,
                                         (long long)units));
    }
    if (shorts == 0) return 0;
    *err = refusal;
    return -1;
}

/* What the invoice holds on each stock row: its reserve entries less its
 * release entries. */
static int held(ob_ctx *ctx, const char *inv_id, lot **out, int *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"inventory_id\", SUM(CASE WHEN \"transaction_type\" = 'reserve' THEN \"quantity\" "
                      "ELSE -\"quantity\" END) FROM \"inventory_transactions\" WHERE \"reference_type\" = 'invoice' "
                      "AND \"reference_id\" = ? AND \"transaction_type\" IN ('reserve', 'release') "
                      "GROUP BY \"inventory_id\" ORDER BY \"inventory_id\"",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, inv_id, err);
    *out = ob_arena_alloc(ctx->arena, MAX_LINES * sizeof **out);
    *n = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1 && *n < MAX_LINES) {
        int64_t units = ob_stmt_col_i64(st, 1);
        if (units <= 0) continue;
        (*out)[*n].inventory_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        (*out)[(*n)++].units = units;
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Give back what the invoice holds; with sell, each released unit leaves
 * as a sale entry on the same row. */
static int let_go(ob_ctx *ctx, const ob_row *inv, bool sell, ob_err *err)
{
    const char *id = ob_row_id(inv), *number = ob_row_text(inv, INVOICES_INVOICE_NUMBER);
    lot *lots;
    int n;
    if (held(ctx, id, &lots, &n, err) != 0) return -1;
    for (int i = 0; i < n; i++) {
        if (ob_stock_post(ctx, lots[i].inventory_id, "release", lots[i].units, "invoice", id, number, err) != 0)
            return -1;
        if (sell && ob_stock_post(ctx, lots[i].inventory_id, "sale", -lots[i].units, "invoice", id, number, err) != 0)
            return -1;
    }
    return 0;
}

int ob_invoice_release(ob_ctx *ctx, const ob_row *inv, ob_err *err)
{
    return let_go(ctx, inv, false, err);
}

int ob_invoice_sell(ob_ctx *ctx, const ob_row *inv, ob_err *err)
{
    return let_go(ctx, inv, true, err);
}
