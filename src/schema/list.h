/* list.h - the generic list: filters, sort, keyset cursor, full-text q=.
 *
 * Parsing is separate from running so that the parser can be tested and
 * fuzzed without a database. A parsed query holds only registry column
 * indexes and typed values; the SQL is built from those. */
#ifndef OB_LIST_H
#define OB_LIST_H

#include "base/jsonw.h"
#include "base/kv.h"
#include "schema/ctx.h"
#include "schema/row.h"

#define OB_LIST_MAX_FILTERS 32
#define OB_LIST_MAX_SORT 6
#define OB_LIST_MAX_IN 100
#define OB_LIST_DEFAULT_LIMIT 50
#define OB_LIST_MAX_LIMIT 200
#define OB_LIST_MAX_CURSOR 16384 /* as long as a request line may be */

typedef enum ob_fop { OB_OP_EQ, OB_OP_NE, OB_OP_GT, OB_OP_GTE, OB_OP_LT, OB_OP_LTE, OB_OP_LIKE, OB_OP_IN, OB_OP_NULL } ob_fop;

typedef struct ob_filter {
    int col;
    ob_fop op;
    ob_value *vals;   /* one value, or nvals for IN; NULL: a bool in is_null */
    int nvals;
    bool is_null;
} ob_filter;

typedef struct ob_listq {
    ob_filter f[OB_LIST_MAX_FILTERS];
    int nf;
    int sort[OB_LIST_MAX_SORT + 1]; /* column indexes; id always last */
    bool desc[OB_LIST_MAX_SORT + 1];
    int nsort;
    const char *sort_spec;           /* canonical text, bound into the cursor */
    bool sort_default;               /* no sort= given: the table's default order */
    int limit;
    const char *q;                   /* full-text words, or NULL */
    ob_value *after;                 /* cursor: values of the sort columns, or NULL */
} ob_listq;

/* Parse the query parameters of a list request. ctx is required: its arena
 * holds the parsed values, and its principal decides which fields are
 * masked (and so not usable in filters or sorts). Errors are OB_E_BAD_QUERY
 * naming the parameter. */
int ob_listq_parse(ob_ctx *ctx, const ob_table *t, const ob_kv *params, int n, ob_listq *q, ob_err *err);
/* Encode the cursor that continues after row r. */
const char *ob_listq_cursor(ob_arena *a, const ob_listq *q, const ob_row *r);

/* Run a list and write {"data":[...],"next_cursor":...}. */
int ob_list_run(ob_ctx *ctx, const ob_table *t, const ob_listq *q, ob_jsonw *w, ob_err *err);

#endif
