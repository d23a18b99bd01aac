/* A person's erasure (issue 17): POST /api/v1/customers/{id}/erase overwrites
 * the customer's personal columns (OB_PERSONAL) with a pseudonym or null, in
 * their row and in every row that references it (contacts, orders, invoices,
 * payment methods, the portal login...), keeping every amount; redacts the
 * old values from the audit images of those rows and re-links the audit hash
 * chain; records who erased what in `erasures`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/base.h"
#include "domain/domains.h"
#include "schema/crud.h"
#include "schema/ctx.h"
#include "schema/erase.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "gen/columns.h"
#include "base/banned.h"

static const ob_column erasure_cols[] = {
    {"subject_type", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SERVER, .doc = "the erased record's table"},
    {"subject_id", OB_F_TEXT, .max = 36, .flags = OB_REQUIRED | OB_SERVER | OB_INDEXED, .doc = "the erased record's id"},
    {"reason", OB_F_TEXT, .max = 1000, .flags = OB_SERVER},
    {"pseudonym", OB_F_TEXT, .max = 100, .flags = OB_REQUIRED | OB_SERVER,
     .doc = "the value the erased text now holds in every record that named the person"},
    {"tables", OB_F_JSON, .flags = OB_REQUIRED | OB_SERVER, .doc = "rows rewritten, by table: {\"customers\": 1, ...}"},
    {"rows_erased", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0"},
    {"audit_rows_redacted", OB_F_INT, .flags = OB_REQUIRED | OB_SERVER, .dflt = "0",
     .doc = "audit rows whose images lost the personal values (the hash chain re-linked after them)"},
    {"erased_by", OB_F_REF, .ref = "users", .on_delete = OB_DEL_SET_NULL, .flags = OB_SERVER, .stamp = OB_STAMP_ACTOR},
};
const ob_resource ob_res_erasures = {
    .table = "erasures", .doc = "record of each person's erasure: who, when, what (never the erased values)",
    OB_COLS(erasure_cols), .perm = "customers", .perm_view = "customers.erase",
    .flags = OB_RES_READONLY | OB_RES_APPEND_ONLY, .default_sort = "-created_at", .since = 7,
};

/* 1 when an active legal hold covers the customer: the tenant's, the
 * customer's, or one on the record itself. */
static int held(ob_ctx *ctx, const char *id, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT COUNT(*) FROM \"legal_holds\" WHERE \"status\" = 'active' AND (\"scope\" = 'tenant' OR "
                      "(\"scope\" = 'customer' AND \"customer_id\" = ?) OR "
                      "(\"scope\" = 'record' AND \"entity_type\" = 'customers' AND \"entity_id\" = ?))",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, id, err);
    ob_stmt_bind_text(st, 2, id, err);
    int rc = ob_stmt_step(st, err);
    int64_t n = rc == 1 ? ob_stmt_col_i64(st, 0) : 0;
    ob_stmt_done(st);
    return rc < 0 ? -1 : n > 0;
}

typedef struct redaction {
    int64_t rows;     /* audit rows rewritten */
    int64_t from_seq; /* the first of them in the chain */
} redaction;

static int redact_each(ob_ctx *ctx, const ob_row *erased, void *arg, ob_err *err)
{
    redaction *r = arg;
    return ob_audit_redact(ctx, erased, &r->rows, &r->from_seq, err);
}

OB_ACTION_FN(ob_customer_erase)
{
    const char *id = ob_row_id(old);
    if (!ob_row_is_null(old, CUSTOMERS_ERASED_AT))
        return ob_err_set(err, OB_E_BAD_STATE, "the customer was erased at %s", ob_row_text(old, CUSTOMERS_ERASED_AT));
    int h = held(ctx, id, err);
    if (h < 0) return -1;
    if (h) return ob_err_set(err, OB_E_LEGAL_HOLD, "an active legal hold covers this customer: nothing was erased");
    const char *pseudonym = ob_erase_pseudonym(ctx->arena, id);
    json_t *tally = json_object();
    redaction red = {0};
    /* the customer's own audit rows first: the save after this action writes
     * the erasure's row, whose old image the audit writer redacts itself */
    int rc = ob_audit_redact(ctx, old, &red.rows, &red.from_seq, err);
    ob_erase_apply(ctx->arena, row, pseudonym);
    ob_row_set_text(ctx->arena, row, CUSTOMERS_ERASED_AT, ctx->now);
    json_object_set_new(tally, "customers", json_integer(1));
    if (rc == 0) rc = ob_erase_referencing(ctx, old->t, id, pseudonym, tally, redact_each, &red, err);
    if (rc == 0) rc = ob_audit_relink(ctx, red.from_seq, err);
    int64_t total = 0;
    const char *key;
    json_t *val;
    json_object_foreach(tally, key, val) total += json_integer_value(val);
    char *tables = json_dumps(tally, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(tally);
    if (rc != 0 || !tables) {
        free(tables);
        return rc != 0 ? -1 : ob_err_set(err, OB_E_INTERNAL, "out of memory");
    }
    ob_row *e = ob_row_with_defaults(ctx, OB_TABLE_ERASURES);
    ob_row_set_text(ctx->arena, e, ERASURES_SUBJECT_TYPE, OB_TABLE_CUSTOMERS);
    ob_row_set_text(ctx->arena, e, ERASURES_SUBJECT_ID, id);
    ob_row_set_text(ctx->arena, e, ERASURES_REASON, ob_row_text(ctx->input, CUSTOMERS_ERASE_IN_REASON));
    ob_row_set_text(ctx->arena, e, ERASURES_PSEUDONYM, pseudonym);
    ob_row_set_text(ctx->arena, e, ERASURES_TABLES, tables);
    free(tables);
    ob_row_set_int(e, ERASURES_ROWS_ERASED, total);
    ob_row_set_int(e, ERASURES_AUDIT_ROWS_REDACTED, red.rows);
    if (ob_crud_insert_row(ctx, e, err) != 0) return -1;
    ctx->reply = e;
    return 0;
}
