/* fulfil.c - what the order events do to stock: confirm reserves every
 * mapped line through the stock ledger (all or nothing), cancel gives the
 * held units back, ship turns them into sale entries and marks the lines
 * fulfilled.
 *
 * Nothing here moves a balance: every movement is an inventory_transactions
 * entry posted by ob_stock_post (inventory.c), whose bounded ledger refuses
 * what would oversell. What an order holds is read back from its own
 * entries (reference_type "order"), so no second record of it can drift. */
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

/* An order is a basket, not a catalogue: lines beyond this are refused. */
#define MAX_LINES 500

typedef struct line {
    const char *id;
    const char *product_id; /* NULL: the channel's product is not mapped */
    const char *variant_id;
    const char *label;      /* sku, else name: how a refusal names the line */
    int64_t quantity;
} line;

static int lines_of(ob_ctx *ctx, const char *order_id, line **out, int *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\", \"product_id\", \"variant_id\", COALESCE(\"sku\", \"name\"), \"quantity\" "
                      "FROM \"order_items\" WHERE \"order_id\" = ? ORDER BY \"created_at\", \"id\"",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, order_id, err);
    *out = ob_arena_alloc(ctx->arena, MAX_LINES * sizeof **out);
    *n = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (*n == MAX_LINES) {
            ob_stmt_done(st);
            return ob_err_set(err, OB_E_UNPROCESSABLE, "an order of more than %d lines cannot be fulfilled",
                              MAX_LINES);
        }
        line *l = &(*out)[(*n)++];
        const char *p = ob_stmt_col_text(st, 1, NULL), *v = ob_stmt_col_text(st, 2, NULL);
        l->id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        l->product_id = p ? ob_arena_strdup(ctx->arena, p) : NULL;
        l->variant_id = v ? ob_arena_strdup(ctx->arena, v) : NULL;
        l->label = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 3, NULL));
        l->quantity = ob_stmt_col_i64(st, 4);
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

typedef struct lot {
    const char *inventory_id;
    int64_t units;
} lot;

/* The stock rows of a line's product (its variant, or no variant), most
 * available first, and what each has available now. */
static int lots_of(ob_ctx *ctx, const line *l, lot **out, int *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      l->variant_id
                          ? "SELECT \"id\", \"quantity_on_hand\" - \"quantity_reserved\" FROM \"inventory\" "
                            "WHERE \"product_id\" = ? AND \"variant_id\" = ? "
                            "ORDER BY 2 DESC, \"id\" LIMIT 50"
                          : "SELECT \"id\", \"quantity_on_hand\" - \"quantity_reserved\" FROM \"inventory\" "
                            "WHERE \"product_id\" = ? AND \"variant_id\" IS NULL "
                            "ORDER BY 2 DESC, \"id\" LIMIT 50",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, l->product_id, err);
    if (l->variant_id) ob_stmt_bind_text(st, 2, l->variant_id, err);
    *out = ob_arena_alloc(ctx->arena, 50 * sizeof **out);
    *n = 0;
    int rc;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        (*out)[*n].inventory_id = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
        (*out)[*n].units = ob_stmt_col_i64(st, 1);
        (*n)++;
    }
    ob_stmt_done(st);
    return rc < 0 ? -1 : 0;
}

/* Reserve one line from its rows, fullest first. *short_by is what could
 * not be held (0: all of it); a reserve the ledger refuses (a racing order
 * took the units since they were read) counts as short, not as a fault. */
static int reserve_line(ob_ctx *ctx, const char *order_id, const char *number, const line *l, int64_t *short_by,
                        ob_err *err)
{
    lot *lots;
    int n;
    if (lots_of(ctx, l, &lots, &n, err) != 0) return -1;
    int64_t left = l->quantity;
    for (int i = 0; i < n && left > 0; i++) {
        int64_t take = lots[i].units < left ? lots[i].units : left;
        if (take <= 0) break;
        if (ob_stock_post(ctx, lots[i].inventory_id, "reserve", take, "order", order_id, number, err) != 0) {
            if (err->code != OB_E_INSUFFICIENT_STOCK) return -1;
            ob_err_clear(err);
            break;
        }
        left -= take;
    }
    *short_by = left;
    return 0;
}

OB_EFFECT_FN(ob_order_confirm)
{
    (void)old;
    const char *id = ob_row_id(row), *number = ob_row_text(row, ORDERS_ORDER_NUMBER);
    line *lines;
    int n;
    if (lines_of(ctx, id, &lines, &n, err) != 0) return -1;
    /* every line is tried, so the refusal names all that are short; the
     * request's transaction then rolls back what the others held */
    int shorts = 0;
    ob_err refusal;
    ob_err_clear(&refusal);
    for (int i = 0; i < n; i++) {
        if (!lines[i].product_id) continue;
        int64_t short_by;
        if (reserve_line(ctx, id, number, &lines[i], &short_by, err) != 0) return -1;
        if (short_by == 0) continue;
        if (shorts++ == 0)
            ob_err_set(&refusal, OB_E_INSUFFICIENT_STOCK, "there is not enough stock to confirm order %s", number);
        ob_err_field_add(&refusal, lines[i].label,
                         ob_arena_printf(ctx->arena, "%lld of %lld units are not available",
                                         (long long)short_by, (long long)lines[i].quantity));
    }
    if (shorts == 0) return 0;
    *err = refusal;
    return -1;
}

/* What the order holds on each stock row: its reserve entries less its
 * release entries. */
static int held(ob_ctx *ctx, const char *order_id, lot **out, int *n, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"inventory_id\", SUM(CASE WHEN \"transaction_type\" = 'reserve' THEN \"quantity\" "
                      "ELSE -\"quantity\" END) FROM \"inventory_transactions\" WHERE \"reference_type\" = 'order' "
                      "AND \"reference_id\" = ? AND \"transaction_type\" IN ('reserve', 'release') "
                      "GROUP BY \"inventory_id\" ORDER BY \"inventory_id\"",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, order_id, err);
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

OB_EFFECT_FN(ob_order_cancel)
{
    (void)old;
    const char *id = ob_row_id(row), *number = ob_row_text(row, ORDERS_ORDER_NUMBER);
    lot *lots;
    int n;
    if (held(ctx, id, &lots, &n, err) != 0) return -1;
    for (int i = 0; i < n; i++)
        if (ob_stock_post(ctx, lots[i].inventory_id, "release", lots[i].units, "order", id, number, err) != 0)
            return -1;
    return 0;
}

/* Every line leaves whole: its held units become a release and a sale on
 * the same row, and the line counts as fulfilled. */
OB_EFFECT_FN(ob_order_ship)
{
    (void)old;
    const char *id = ob_row_id(row), *number = ob_row_text(row, ORDERS_ORDER_NUMBER);
    lot *lots;
    int n;
    if (held(ctx, id, &lots, &n, err) != 0) return -1;
    for (int i = 0; i < n; i++)
        if (ob_stock_post(ctx, lots[i].inventory_id, "release", lots[i].units, "order", id, number, err) != 0 ||
            ob_stock_post(ctx, lots[i].inventory_id, "sale", -lots[i].units, "order", id, number, err) != 0)
            return -1;
    line *lines;
    int nl;
    if (lines_of(ctx, id, &lines, &nl, err) != 0) return -1;
    const ob_table *items = ob_registry_find(OB_TABLE_ORDER_ITEMS);
    for (int i = 0; i < nl; i++) {
        ob_row *item, *to;
        if (ob_sql_load_internal(ctx, items, lines[i].id, &item, err) != 0) return -1;
        to = ob_row_copy(ctx->arena, item);
        ob_row_set_int(to, ORDER_ITEMS_FULFILLED_QUANTITY, lines[i].quantity);
        if (ob_crud_save(ctx, item, to, "fulfil", err) != 0) return -1;
    }
    ob_row_set_text(ctx->arena, row, ORDERS_FULFILLMENT_STATUS, "fulfilled");
    return 0;
}
