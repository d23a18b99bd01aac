/* inventory.c - moving stock: the one way to post a ledger entry from code,
 * the inventory actions (adjust, count, reserve, release), the rules every
 * entry obeys (signs by kind, warehouse scope) and the reorder check that
 * follows an entry.
 *
 * Balances never change here: an entry is inserted and the engine's bounded
 * ledger moves the parent row by one conditional UPDATE (schema/ledger.c), so
 * a refused movement is 409 insufficient_stock and writes nothing. */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"


/* Entries posted by a workflow (receiving, a transfer, an action) are
 * scope-checked by that workflow against its own warehouse: a transfer's
 * in-transit entry lands in a warehouse its dispatcher need not manage. A
 * request runs on one thread, so the depth is per thread. */
static _Thread_local int posting;

int ob_stock_post(ob_ctx *ctx, const char *inventory_id, const char *kind, int64_t quantity, const char *ref_type,
                  const char *ref_id, const char *notes, ob_err *err)
{
    ob_row *e = ob_row_with_defaults(ctx, OB_TABLE_INVENTORY_TRANSACTIONS);
    ob_row_set_text(ctx->arena, e, INVENTORY_TRANSACTIONS_INVENTORY_ID, inventory_id);
    ob_row_set_text(ctx->arena, e, INVENTORY_TRANSACTIONS_TRANSACTION_TYPE, kind);
    ob_row_set_int(e, INVENTORY_TRANSACTIONS_QUANTITY, quantity);
    ob_row_set_text(ctx->arena, e, INVENTORY_TRANSACTIONS_REFERENCE_TYPE, ref_type);
    ob_row_set_text(ctx->arena, e, INVENTORY_TRANSACTIONS_REFERENCE_ID, ref_id);
    ob_row_set_text(ctx->arena, e, INVENTORY_TRANSACTIONS_NOTES, notes);
    posting++;
    int rc = ob_crud_insert_row(ctx, e, err);
    posting--;
    return rc;
}

int ob_stock_row(ob_ctx *ctx, const char *warehouse_id, const char *product_id, bool create, ob_row **out,
                 ob_err *err)
{
    const ob_table *t = ob_registry_find(OB_TABLE_INVENTORY);
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"id\" FROM \"inventory\" WHERE \"warehouse_id\" = ? AND \"product_id\" = ? "
                      "AND \"variant_id\" IS NULL",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, warehouse_id, err);
    ob_stmt_bind_text(st, 2, product_id, err);
    int rc = ob_stmt_step(st, err);
    const char *id = rc == 1 ? ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL)) : NULL;
    ob_stmt_done(st);
    if (rc < 0) return -1;
    if (id) return ob_sql_load_internal(ctx, t, id, out, err);
    if (!create) {
        *out = NULL;
        return 0;
    }
    /* the first goods of a product to reach a warehouse open its stock row */
    ob_row *row = ob_row_with_defaults(ctx, OB_TABLE_INVENTORY);
    ob_row_set_text(ctx->arena, row, INVENTORY_WAREHOUSE_ID, warehouse_id);
    ob_row_set_text(ctx->arena, row, INVENTORY_PRODUCT_ID, product_id);
    if (ob_crud_insert_row(ctx, row, err) != 0) return -1;
    *out = row;
    return 0;
}

/* A grant may be limited to the warehouses its user manages
 * (user_roles.warehouse_scope): the permission is warehouse-scoped when every
 * live grant that carries it is. Owners and the system are never scoped. */
static int scoped_only(ob_ctx *ctx, const char *perm, bool *scoped, ob_err *err)
{
    *scoped = false;
    if (!ctx->who || ctx->who->is_system || ctx->who->is_owner || !ctx->who->user_id) return 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT CASE WHEN ur.\"warehouse_scope\" THEN 1 ELSE 0 END FROM \"user_roles\" ur "
                      "JOIN \"role_permissions\" rp ON rp.\"role_id\" = ur.\"role_id\" "
                      "JOIN \"permissions\" p ON p.\"id\" = rp.\"permission_id\" "
                      "WHERE ur.\"user_id\" = ? AND ur.\"status\" = 'active' AND p.\"code\" = ? "
                      "AND (ur.\"expires_at\" IS NULL OR ur.\"expires_at\" > ?)",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, ctx->who->user_id, err);
    ob_stmt_bind_text(st, 2, perm, err);
    ob_stmt_bind_text(st, 3, ctx->now, err);
    int rc;
    bool any_scoped = false, any_open = false;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        if (ob_stmt_col_i64(st, 0)) any_scoped = true;
        else any_open = true;
    }
    ob_stmt_done(st);
    if (rc < 0) return -1;
    *scoped = any_scoped && !any_open;
    return 0;
}

int ob_stock_scope(ob_ctx *ctx, const char *warehouse_id, const char *perm, ob_err *err)
{
    bool scoped;
    if (scoped_only(ctx, perm, &scoped, err) != 0) return -1;
    if (!scoped) return 0;
    const char *manager = NULL;
    if (warehouse_id) {
        ob_row *w;
        if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_WAREHOUSES), warehouse_id, &w, err) != 0) return -1;
        manager = ob_row_text(w, WAREHOUSES_MANAGER_ID);
    }
    if (manager && strcmp(manager, ctx->who->user_id) == 0) return 0;
    return ob_err_set(err, OB_E_FORBIDDEN, "your \"%s\" is limited to the warehouses you manage", perm);
}

/* The warehouse of an inventory row, for the scope check. A row that does
 * not exist is left to the reference check, which names the field. */
static int scope_of_inventory(ob_ctx *ctx, const char *inventory_id, const char *perm, ob_err *err)
{
    ob_row *inv;
    if (!inventory_id) return 0;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_INVENTORY), inventory_id, &inv, err) != 0) {
        if (err->code != OB_E_NOT_FOUND) return -1;
        ob_err_clear(err);
        return 0;
    }
    return ob_stock_scope(ctx, ob_row_text(inv, INVENTORY_WAREHOUSE_ID), perm, err);
}

/* The sign each kind's quantity must have: +1 above zero, -1 below, 0 either
 * (not zero). A reserve of -5 would be a release in disguise. */
static int kind_sign(const char *kind)
{
    static const char *const pos[] = {"purchase", "return", "transfer_in", "reserve", "release", "in_transit", NULL};
    static const char *const neg[] = {"sale", "transfer_out", "variance", NULL};
    for (int i = 0; pos[i]; i++)
        if (strcmp(kind, pos[i]) == 0) return 1;
    for (int i = 0; neg[i]; i++)
        if (strcmp(kind, neg[i]) == 0) return -1;
    return 0;
}

static const char *perm_of(const char *kind)
{
    return kind && (!strcmp(kind, "reserve") || !strcmp(kind, "release")) ? "inventory.reserve" : "inventory.adjust";
}

static int txn_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const char *kind = ob_row_text(row, INVENTORY_TRANSACTIONS_TRANSACTION_TYPE);
    int64_t q = ob_row_int(row, INVENTORY_TRANSACTIONS_QUANTITY, 0);
    if (kind && strcmp(kind, "transfer") == 0) {
        ob_err_set(err, OB_E_VALIDATION, "one or more fields are invalid");
        return ob_err_field_add(err, "transaction_type", "transfer is history: post transfer_out and transfer_in");
    }
    int sign = kind ? kind_sign(kind) : 0;
    if (q == 0 || (sign > 0 && q < 0) || (sign < 0 && q > 0)) {
        ob_err_set(err, OB_E_VALIDATION, "one or more fields are invalid");
        return ob_err_field_add(err, "quantity",
                                sign > 0 ? "must be above 0 for this kind" : sign < 0 ? "must be below 0 for this kind"
                                                                                    : "must not be 0");
    }
    if (posting) return 0;
    return scope_of_inventory(ctx, ob_row_text(row, INVENTORY_TRANSACTIONS_INVENTORY_ID), perm_of(kind), err);
}

static int txn_after_create(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    return ob_reorder_check(ctx, ob_row_text(row, INVENTORY_TRANSACTIONS_INVENTORY_ID), err);
}

const ob_hooks ob_inventory_txn_hooks = {
    .before_create = txn_before_create,
    .after_create = txn_after_create,
};

/* Actions post entries through the ledger; the engine applies what run()
 * changes on top of the row the entries moved (schema/crud.c). */
int ob_inventory_adjust(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)row;
    int64_t q = ob_row_int(ctx->input, INVENTORY_ADJUST_IN_QUANTITY, 0);
    if (scope_of_inventory(ctx, ob_row_id(old), "inventory.adjust", err) != 0) return -1;
    if (q == 0) {
        ob_err_set(err, OB_E_VALIDATION, "one or more fields are invalid");
        return ob_err_field_add(err, "quantity", "must not be 0");
    }
    return ob_stock_post(ctx, ob_row_id(old), "adjustment", q, "adjustment", NULL,
                         ob_row_text(ctx->input, INVENTORY_ADJUST_IN_REASON), err);
}

int ob_inventory_count(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    int64_t counted = ob_row_int(ctx->input, INVENTORY_COUNT_IN_COUNTED, 0);
    int64_t diff = counted - ob_row_int(old, INVENTORY_QUANTITY_ON_HAND, 0);
    const char *why = ob_row_text(ctx->input, INVENTORY_COUNT_IN_REASON);
    if (scope_of_inventory(ctx, ob_row_id(old), "inventory.adjust", err) != 0) return -1;
    if (diff != 0 &&
        ob_stock_post(ctx, ob_row_id(old), "adjustment", diff, "adjustment", NULL,
                      why ? why : ob_arena_printf(ctx->arena, "count: %lld found", (long long)counted),
                      err) != 0)
        return -1;
    ob_row_set_text(ctx->arena, row, INVENTORY_LAST_COUNTED_AT, ctx->now);
    return 0;
}

/* reserve and release: the same input under each action's own handles */
static int hold(ob_ctx *ctx, const ob_row *old, const char *kind, ob_colh quantity, ob_colh ref_type, ob_colh ref_id,
                ob_err *err)
{
    if (scope_of_inventory(ctx, ob_row_id(old), perm_of(kind), err) != 0) return -1;
    return ob_stock_post(ctx, ob_row_id(old), kind, ob_row_int(ctx->input, quantity, 0),
                         ob_row_text(ctx->input, ref_type), ob_row_text(ctx->input, ref_id), NULL, err);
}

int ob_inventory_reserve(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)row;
    return hold(ctx, old, "reserve", INVENTORY_RESERVE_IN_QUANTITY, INVENTORY_RESERVE_IN_REFERENCE_TYPE,
                INVENTORY_RESERVE_IN_REFERENCE_ID, err);
}

int ob_inventory_release(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)row;
    return hold(ctx, old, "release", INVENTORY_RELEASE_IN_QUANTITY, INVENTORY_RELEASE_IN_REFERENCE_TYPE,
                INVENTORY_RELEASE_IN_REFERENCE_ID, err);
}

static int product_key(ob_ctx *ctx, ob_row *row)
{
    const char *sku = ob_row_text(row, PRODUCTS_SKU);
    ob_row_set_text(ctx->arena, row, PRODUCTS_SKU_KEY, sku ? ob_text_lower(ctx->arena, sku, strlen(sku), NULL) : NULL);
    return 0;
}

static int product_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    (void)err;
    return product_key(ctx, row);
}

static int product_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    (void)err;
    return product_key(ctx, row);
}

const ob_hooks ob_product_hooks = {
    .before_create = product_before_create,
    .before_update = product_before_update,
};
