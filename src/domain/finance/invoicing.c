/* invoicing.c - invoice arithmetic (003): a line is priced from its piece
 * and the metal rate in force, every amount computed in exact minor units
 * with half-up rounding at the line, and the invoice's subtotal, discount and
 * tax are the sums of its lines, never typed. Lines change only while their
 * invoice is a draft. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/finance/finance.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

static int field_error(ob_err *err, const char *field, const char *problem)
{
    ob_err_set(err, OB_E_VALIDATION, NULL);
    ob_err_field_add(err, field, problem);
    return -1;
}

/* a x b / div, rounded half up; amounts are never negative here. -1 when the
 * result is beyond money's range. */
static int64_t mul_div(int64_t a, int64_t b, int64_t div)
{
    __int128 p = (__int128)a * b;
    p = (p + div / 2) / div;
    return p > OB_MONEY_MAX ? -1 : (int64_t)p;
}

/* Fineness from "916" or "22K": karats are the hallmarking fineness grades. */
static int fineness(const char *s, int64_t *out)
{
    static const struct {
        int karat, fine;
    } grades[] = {{24, 999}, {23, 958}, {22, 916}, {21, 875}, {20, 833}, {18, 750}, {14, 585}, {10, 417}, {9, 375}};
    int n = 0, len = 0;
    while (s[len] >= '0' && s[len] <= '9' && len < 4) n = n * 10 + (s[len++] - '0');
    if (len == 0) return -1;
    if (!s[len]) {
        if (n < 1 || n > 999) return -1;
        *out = n;
        return 0;
    }
    if ((s[len] != 'K' && s[len] != 'k') || s[len + 1]) return -1;
    for (size_t i = 0; i < sizeof grades / sizeof grades[0]; i++)
        if (grades[i].karat == n) {
            *out = grades[i].fine;
            return 0;
        }
    return -1;
}

static int load(ob_ctx *ctx, const char *table, const char *id, ob_row **out, ob_err *err)
{
    return ob_sql_load_internal(ctx, ob_registry_find(table), id, out, err);
}

/* A reference that names no row is left for validation to refuse (422, as
 * for any table): *out is NULL then. */
static int load_ref(ob_ctx *ctx, const char *table, const char *id, ob_row **out, ob_err *err)
{
    *out = NULL;
    if (load(ctx, table, id, out, err) == 0) return 0;
    if (err->code != OB_E_NOT_FOUND) return -1;
    *out = NULL;
    return 0;
}

/* Lines of a draft only: an issued invoice's lines are what was sold. */
static int draft_invoice(ob_ctx *ctx, const char *invoice_id, ob_err *err)
{
    ob_row *inv;
    if (load_ref(ctx, OB_TABLE_INVOICES, invoice_id, &inv, err) != 0) return -1;
    if (inv && strcmp(ob_row_text(inv, INVOICES_STATUS), "draft") != 0)
        return ob_err_set(err, OB_E_BAD_STATE, "the lines of a %s invoice cannot change: only a draft's can",
                          ob_row_text(inv, INVOICES_STATUS));
    return 0;
}

/* A piece on the line brings its metal, purity, weights and stones. */
static int take_piece(ob_ctx *ctx, ob_row *row, const ob_row **piece, ob_err *err)
{
    *piece = NULL;
    const char *pid = ob_row_text(row, INVOICE_ITEMS_PRODUCT_ID);
    if (!pid) return 0;
    ob_row *p;
    if (load_ref(ctx, OB_TABLE_PRODUCTS, pid, &p, err) != 0) return -1;
    if (!p || ob_row_is_null(p, PRODUCTS_NET_WEIGHT) || ob_row_is_null(p, PRODUCTS_METAL) ||
        ob_row_is_null(p, PRODUCTS_PURITY))
        return 0; /* not a piece: an ordinary catalogue line */
    *piece = p;
    ob_row_set_text(ctx->arena, row, INVOICE_ITEMS_METAL_TYPE, ob_row_text(p, PRODUCTS_METAL));
    char purity[24];
    snprintf(purity, sizeof purity, "%lld", (long long)ob_row_int(p, PRODUCTS_PURITY, 0));
    ob_row_set_text(ctx->arena, row, INVOICE_ITEMS_PURITY, purity);
    ob_row_set_int(row, INVOICE_ITEMS_GROSS_WEIGHT, ob_row_int(p, PRODUCTS_GROSS_WEIGHT, 0));
    ob_row_set_int(row, INVOICE_ITEMS_NET_WEIGHT, ob_row_int(p, PRODUCTS_NET_WEIGHT, 0));
    if (ob_row_is_null(row, INVOICE_ITEMS_STONE_CHARGES))
        ob_row_set_int(row, INVOICE_ITEMS_STONE_CHARGES, ob_row_int(p, PRODUCTS_STONE_CHARGES, 0));
    return 0;
}

/* Metal value, wastage and making of a line priced by weight. The rate is
 * the one in force when the line is first written and is kept after that
 * (a line re-priced by a change keeps its snapshot). */
static int price_by_weight(ob_ctx *ctx, const ob_row *old, ob_row *row, const ob_row *piece, ob_err *err)
{
    ob_row_set_null(row, INVOICE_ITEMS_METAL_VALUE);
    ob_row_set_null(row, INVOICE_ITEMS_WASTAGE_AMOUNT);
    const char *metal = ob_row_text(row, INVOICE_ITEMS_METAL_TYPE), *purity_s = ob_row_text(row, INVOICE_ITEMS_PURITY);
    /* a weight without a metal is a note on an ordinary line */
    if (ob_row_is_null(row, INVOICE_ITEMS_NET_WEIGHT) || !metal) {
        ob_row_set_null(row, INVOICE_ITEMS_RATE_PER_GRAM);
        return 0;
    }
    int64_t purity;
    if (!purity_s) return field_error(err, INVOICE_ITEMS_PURITY.name, "is required with net_weight");
    if (fineness(purity_s, &purity) != 0)
        return field_error(err, INVOICE_ITEMS_PURITY.name, "must be a fineness (916) or a karat (22K)");
    int64_t rate;
    bool same = old && !ob_row_is_null(old, INVOICE_ITEMS_RATE_PER_GRAM) &&
                !strcmp(ob_row_text(old, INVOICE_ITEMS_METAL_TYPE) ? ob_row_text(old, INVOICE_ITEMS_METAL_TYPE) : "",
                        metal) &&
                !strcmp(ob_row_text(old, INVOICE_ITEMS_PURITY) ? ob_row_text(old, INVOICE_ITEMS_PURITY) : "", purity_s);
    if (same) {
        rate = ob_row_int(old, INVOICE_ITEMS_RATE_PER_GRAM, 0);
    } else {
        int found = ob_metal_rate_at(ctx, metal, purity, ctx->now, &rate, err);
        if (found < 0) return -1;
        if (!found)
            return ob_err_set(err, OB_E_UNPROCESSABLE, "no rate of %.20s %lld is in force: enter one in metal_rates",
                              metal, (long long)purity);
    }
    int64_t net = ob_row_int(row, INVOICE_ITEMS_NET_WEIGHT, 0);
    /* grams have 3 places and the rate 2: the product has 5, rounded to 2 */
    int64_t value = mul_div(net, rate, 1000);
    if (value < 0) return field_error(err, INVOICE_ITEMS_NET_WEIGHT.name, "times the rate is too large");
    ob_row_set_int(row, INVOICE_ITEMS_RATE_PER_GRAM, rate);
    ob_row_set_int(row, INVOICE_ITEMS_METAL_VALUE, value);
    ob_row_set_int(row, INVOICE_ITEMS_QUANTITY, 1000); /* one piece */
    ob_row_set_int(row, INVOICE_ITEMS_UNIT_PRICE, value);
    int64_t wastage = 0;
    if (piece) {
        /* percents have 2 places: x / 100 / 100 */
        wastage = mul_div(value, ob_row_int(piece, PRODUCTS_WASTAGE_PERCENT, 0), 10000);
        const char *rule = ob_row_text(piece, PRODUCTS_MAKING_CHARGE_TYPE);
        int64_t v = ob_row_int(piece, PRODUCTS_MAKING_CHARGE_VALUE, 0), making = 0;
        if (rule && !strcmp(rule, "percent")) making = mul_div(value, v, 10000);
        else if (rule && !strcmp(rule, "per_gram")) making = mul_div(net, v, 1000);
        else if (rule && !strcmp(rule, "fixed")) making = v;
        if (making < 0 || wastage < 0) return field_error(err, INVOICE_ITEMS_NET_WEIGHT.name, "is too large");
        if (rule) ob_row_set_int(row, INVOICE_ITEMS_MAKING_CHARGES, making);
    }
    ob_row_set_int(row, INVOICE_ITEMS_WASTAGE_AMOUNT, wastage);
    return 0;
}

/* taxable = quantity x unit_price (half up to the cent) + making + wastage +
 * stones - discount; tax = tax_rate percent of it, half up; total = both. */
static int line_amounts(ob_row *row, ob_err *err)
{
    int64_t qty = ob_row_int(row, INVOICE_ITEMS_QUANTITY, 0), price = ob_row_int(row, INVOICE_ITEMS_UNIT_PRICE, 0);
    int64_t base = mul_div(qty, price, 1000);
    if (base < 0) return field_error(err, INVOICE_ITEMS_QUANTITY.name, "times unit_price is too large");
    int64_t add[] = {ob_row_int(row, INVOICE_ITEMS_MAKING_CHARGES, 0), ob_row_int(row, INVOICE_ITEMS_WASTAGE_AMOUNT, 0),
                     ob_row_int(row, INVOICE_ITEMS_STONE_CHARGES, 0)};
    for (size_t i = 0; i < sizeof add / sizeof add[0]; i++) base += add[i]; /* each at most OB_MONEY_MAX */
    int64_t taxable = base - ob_row_int(row, INVOICE_ITEMS_DISCOUNT_AMOUNT, 0);
    if (taxable < 0) return field_error(err, INVOICE_ITEMS_DISCOUNT_AMOUNT.name, "is larger than the line amount");
    int64_t tax = mul_div(taxable, ob_row_int(row, INVOICE_ITEMS_TAX_RATE, 0), 10000);
    if (taxable > OB_MONEY_MAX || tax < 0 || taxable + tax > OB_MONEY_MAX)
        return field_error(err, INVOICE_ITEMS_UNIT_PRICE.name, "gives a line total that is too large");
    ob_row_set_int(row, INVOICE_ITEMS_TAX_AMOUNT, tax);
    ob_row_set_int(row, INVOICE_ITEMS_LINE_TOTAL, taxable + tax);
    return 0;
}

static int compute(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    const ob_row *piece;
    if (take_piece(ctx, row, &piece, err) != 0) return -1;
    if (price_by_weight(ctx, old, row, piece, err) != 0) return -1;
    return line_amounts(row, err);
}

/* The invoice's subtotal (lines before discount and tax), discount and tax
 * as the sums of its lines, leaving out one being deleted. */
static int invoice_totals(ob_ctx *ctx, const char *invoice_id, const char *without, ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_INVOICE_ITEMS);
    const char *sql = ob_arena_printf(ctx->arena, "SELECT %s FROM \"invoice_items\" WHERE \"invoice_id\" = ?",
                                      ob_sql_cols(t));
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, sql, &st, err) != 0) return -1;
    ob_stmt_bind_text(st, 1, invoice_id, err);
    int64_t sub = 0, disc = 0, tax = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        ob_row *it = ob_row_new(ctx->arena, t);
        ob_row_load(ctx->arena, it, st);
        if (without && !strcmp(ob_row_id(it), without)) continue;
        int64_t line = ob_row_int(it, INVOICE_ITEMS_LINE_TOTAL, 0), d = ob_row_int(it, INVOICE_ITEMS_DISCOUNT_AMOUNT, 0),
                x = ob_row_int(it, INVOICE_ITEMS_TAX_AMOUNT, 0);
        sub += line - x + d;
        disc += d;
        tax += x;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (sub > OB_MONEY_MAX || tax > OB_MONEY_MAX)
        return ob_err_set(err, OB_E_UNPROCESSABLE, "the invoice's total would be too large");
    ob_row *old;
    if (load(ctx, OB_TABLE_INVOICES, invoice_id, &old, err) != 0) return -1;
    ob_row *inv = ob_row_copy(ctx->arena, old);
    ob_row_set_int(inv, INVOICES_SUBTOTAL, sub);
    ob_row_set_int(inv, INVOICES_DISCOUNT_AMOUNT, disc);
    ob_row_set_int(inv, INVOICES_TAX_AMOUNT, tax);
    return ob_crud_save(ctx, old, inv, "update", err);
}

static int item_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_row_is_null(row, INVOICE_ITEMS_INVOICE_ID)) return 0; /* validation names it */
    if (draft_invoice(ctx, ob_row_text(row, INVOICE_ITEMS_INVOICE_ID), err) != 0) return -1;
    return compute(ctx, NULL, row, err);
}

static int item_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (draft_invoice(ctx, ob_row_text(old, INVOICE_ITEMS_INVOICE_ID), err) != 0) return -1;
    return compute(ctx, old, row, err);
}

static int item_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    return invoice_totals(ctx, ob_row_text(row, INVOICE_ITEMS_INVOICE_ID), NULL, err);
}

static int item_after_update(ob_ctx *ctx, const ob_row *old, const ob_row *row, ob_err *err)
{
    (void)old;
    return invoice_totals(ctx, ob_row_text(row, INVOICE_ITEMS_INVOICE_ID), NULL, err);
}

static int item_before_delete(ob_ctx *ctx, const ob_row *old, ob_err *err)
{
    const char *inv = ob_row_text(old, INVOICE_ITEMS_INVOICE_ID);
    if (draft_invoice(ctx, inv, err) != 0) return -1;
    return invoice_totals(ctx, inv, ob_row_id(old), err);
}

const ob_hooks ob_invoice_item_hooks = {.before_create = item_before_create,
                                        .before_update = item_before_update,
                                        .after_create = item_after_create,
                                        .after_update = item_after_update,
                                        .before_delete = item_before_delete};
