/* listq.c - parsing list parameters and cursors (no database here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/codec.h"
#include "schema/list.h"
#include "schema/rowjson.h"
#include "db/secrets.h"
#include "base/banned.h"

static int bad(ob_err *err, const char *param, const char *why)
{
    ob_err_set(err, OB_E_BAD_QUERY, "query parameter \"%.60s\" %s", param, why);
    snprintf(err->field, sizeof err->field, "%s", param);
    return -1;
}

static bool filterable(const ob_column *c)
{
    return !(c->flags & (OB_SECRET | OB_NOFILTER | OB_ENCRYPTED)) && c->type != OB_F_JSON;
}

/* A filter or cursor value from text, typed by the column. */
static int parse_value(ob_arena *a, const ob_column *c, const char *s, ob_value *v)
{
    switch (c->type) {
    case OB_F_INT: {
        int64_t x;
        if (ob_parse_i64(s, &x) != 0) return -1;
        *v = ob_v_int(x);
        return 0;
    }
    case OB_F_DECIMAL: {
        int64_t x;
        if (ob_parse_decimal(s, ob_col_scale(c), &x) != 0) return -1;
        *v = ob_v_dec(x, ob_col_scale(c));
        return 0;
    }
    case OB_F_REAL: {
        char *end;
        double d = strtod(s, &end);
        if (!*s || *end) return -1;
        *v = ob_v_real(d);
        return 0;
    }
    case OB_F_BOOL:
        if (strcmp(s, "true") == 0) *v = ob_v_bool(true);
        else if (strcmp(s, "false") == 0) *v = ob_v_bool(false);
        else return -1;
        return 0;
    case OB_F_TIMESTAMP: {
        int64_t ms;
        if (strlen(s) > 64 || ob_ts_parse(s, &ms) != 0) return -1;
        char *out = ob_arena_alloc(a, OB_TS_LEN);
        ob_ts_format(ms, out);
        *v = ob_v_text(out);
        return 0;
    }
    case OB_F_DATE: {
        int64_t d;
        if (strlen(s) != 10 || ob_date_parse(s, &d) != 0) return -1;
        *v = ob_v_text(ob_arena_strdup(a, s));
        return 0;
    }
    case OB_F_ENUM:
        for (int k = 0; k < c->enm->n; k++)
            if (strcasecmp(c->enm->values[k], s) == 0) {
                *v = ob_v_text(c->enm->values[k]);
                return 0;
            }
        return -1;
    case OB_F_ID:
    case OB_F_REF:
        if (!ob_uuid_valid(s)) return -1;
        *v = ob_v_text(ob_ascii_lower(a, s));
        return 0;
    default:
        /* a value may be as long as the column allows, in UTF-8 bytes */
        if (strlen(s) > (size_t)(c->max > 0 ? c->max * 4 : 4000)) return -1;
        *v = ob_v_text((c->flags & OB_LOWER) ? ob_text_lower(a, s, strlen(s), NULL) : ob_arena_strdup(a, s));
        return 0;
    }
}

static const struct {
    const char *name;
    ob_fop op;
} ops[] = {{"eq", OB_OP_EQ}, {"ne", OB_OP_NE}, {"gt", OB_OP_GT}, {"gte", OB_OP_GTE}, {"lt", OB_OP_LT},
           {"lte", OB_OP_LTE}, {"like", OB_OP_LIKE}, {"in", OB_OP_IN}, {"null", OB_OP_NULL}};

/* Equality on a sealed column is equality of its keyed hash (the column
 * declared .blind_of it); any other comparison would need the plaintext. */
static int sealed_filter(ob_ctx *ctx, ob_arena *a, const ob_table *t, int col, const char *key, const char *dot,
                         const char *val, ob_filter *f, ob_err *err)
{
    int blind = -1;
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i]->blind_of && strcmp(t->cols[i]->blind_of, t->cols[col]->name) == 0) blind = i;
    if (blind < 0 || (dot && strcmp(dot, ".eq") != 0))
        return bad(err, key, "is not a filterable field of this table");
    if (ob_col_withheld(ctx, t->cols[col])) return bad(err, key, "names a field that is hidden or masked for your role");
    char h[65];
    /* parsed with no connection (the query fuzzer): no tenant key to hash with */
    const char *tenant = ob_conn_tenant(ctx->db);
    if (!tenant) return ob_err_set(err, OB_E_BAD_QUERY, "a filter on %s needs a tenant", t->cols[col]->name);
    if (ob_secret_blind(h, tenant, t->name, t->cols[col]->name, val, strlen(val), err) != 0) return -1;
    f->col = blind;
    f->op = OB_OP_EQ;
    f->vals = ob_arena_alloc(a, sizeof(ob_value));
    f->nvals = 1;
    f->vals[0] = ob_v_text(ob_arena_strdup(a, h));
    return 0;
}

static int parse_filter(ob_ctx *ctx, ob_arena *a, const ob_table *t, const char *key, const char *val,
                        ob_filter *f, ob_err *err)
{
    const char *dot = strchr(key, '.');
    size_t nlen = dot ? (size_t)(dot - key) : strlen(key);
    char name[64];
    if (nlen == 0 || nlen >= sizeof name) return bad(err, key, "is not a field of this table");
    memcpy(name, key, nlen);
    name[nlen] = 0;
    int col = ob_table_col(t, name);
    if (col >= 0 && (t->cols[col]->flags & OB_ENCRYPTED) && ctx) return sealed_filter(ctx, a, t, col, key, dot, val, f, err);
    if (col < 0 || !filterable(t->cols[col])) return bad(err, key, "is not a filterable field of this table");
    if (ctx && ob_col_withheld(ctx, t->cols[col]))
        return bad(err, key, "names a field that is hidden or masked for your role");
    f->col = col;
    f->op = OB_OP_EQ;
    if (dot) {
        bool found = false;
        for (size_t i = 0; i < OB_ARRAY_LEN(ops); i++)
            if (strcmp(dot + 1, ops[i].name) == 0) {
                f->op = ops[i].op;
                found = true;
            }
        if (!found) return bad(err, key, "uses an unknown operator");
    }
    const ob_column *c = t->cols[col];
    if (f->op == OB_OP_NULL) {
        if (strcmp(val, "true") == 0) f->is_null = true;
        else if (strcmp(val, "false") == 0) f->is_null = false;
        else return bad(err, key, "must be true or false");
        return 0;
    }
    if (f->op == OB_OP_LIKE && c->type != OB_F_TEXT) return bad(err, key, "like works on text fields only");
    if (f->op == OB_OP_IN) {
        int n = 1;
        for (const char *p = val; *p; p++) n += *p == ',';
        if (n > OB_LIST_MAX_IN) return bad(err, key, "has too many values");
        f->vals = ob_arena_alloc(a, sizeof(ob_value) * (size_t)n);
        f->nvals = 0;
        const char *p = val;
        for (;;) {
            const char *end = strchr(p, ',');
            char *item = ob_arena_strndup(a, p, end ? (size_t)(end - p) : strlen(p));
            if (parse_value(a, c, item, &f->vals[f->nvals++]) != 0) return bad(err, key, "has an invalid value");
            if (!end) break;
            p = end + 1;
        }
        return 0;
    }
    f->vals = ob_arena_alloc(a, sizeof(ob_value));
    f->nvals = 1;
    if (f->op == OB_OP_LIKE) {
        if (strlen(val) > 1000) return bad(err, key, "is too long");
        f->vals[0] = ob_v_text(ob_arena_strdup(a, val));
        return 0;
    }
    if (parse_value(a, c, val, &f->vals[0]) != 0) return bad(err, key, "has an invalid value");
    return 0;
}

static int parse_sort(ob_ctx *ctx, const ob_table *t, const char *spec, ob_listq *q, ob_err *err)
{
    const char *p = spec;
    q->nsort = 0;
    bool has_id = false;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        bool desc = *p == '-';
        char name[64];
        if (n - desc == 0 || n - desc >= sizeof name) return bad(err, "sort", "names an unknown field");
        memcpy(name, p + desc, n - desc);
        name[n - desc] = 0;
        int col = ob_table_col(t, name);
        if (col < 0 || !(t->cols[col]->flags & OB_SORT)) return bad(err, "sort", "names a field that is not sortable");
        if (ctx && ob_col_withheld(ctx, t->cols[col])) return bad(err, "sort", "names a hidden or masked field");
        for (int i = 0; i < q->nsort; i++)
            if (q->sort[i] == col) return bad(err, "sort", "names a field twice");
        if (q->nsort >= OB_LIST_MAX_SORT) return bad(err, "sort", "has too many fields");
        q->sort[q->nsort] = col;
        q->desc[q->nsort++] = desc;
        has_id |= col == t->id_col;
        if (!end) break;
        p = end + 1;
        if (!*p) return bad(err, "sort", "ends with a comma");
    }
    if (!has_id) { /* id breaks ties, so pages never skip or repeat rows */
        q->sort[q->nsort] = t->id_col;
        q->desc[q->nsort] = q->nsort > 0 ? q->desc[q->nsort - 1] : false;
        q->nsort++;
    }
    return 0;
}

static const char *canonical_sort(ob_arena *a, const ob_table *t, const ob_listq *q)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, a, 64);
    for (int i = 0; i < q->nsort; i++) ob_sb_addf(&sb, "%s%s%s", i ? "," : "", q->desc[i] ? "-" : "", t->cols[q->sort[i]]->name);
    return sb.buf;
}

static int parse_cursor(ob_arena *a, const ob_table *t, const char *text, ob_listq *q, ob_err *err)
{
    ob_sb raw;
    ob_sb_init_arena(&raw, a, 128);
    if (strlen(text) > OB_LIST_MAX_CURSOR || ob_b64url_decode(&raw, text, strlen(text)) != 0) return bad(err, "cursor", "is not valid");
    json_t *j = json_loadb(raw.buf, raw.len, JSON_REJECT_DUPLICATES, NULL);
    json_t *s = json_object_get(j, "s"), *v = json_object_get(j, "v");
    int rc = 0;
    if (!json_is_object(j) || !json_is_string(s) || !json_is_array(v) || strcmp(json_string_value(s), q->sort_spec) != 0 ||
        (int)json_array_size(v) != q->nsort) {
        rc = bad(err, "cursor", "does not belong to this query");
    } else {
        q->after = ob_arena_zalloc(a, sizeof(ob_value) * (size_t)q->nsort);
        for (int i = 0; i < q->nsort && rc == 0; i++) {
            json_t *x = json_array_get(v, (size_t)i);
            const ob_column *c = t->cols[q->sort[i]];
            if (json_is_null(x)) {
                q->after[i] = ob_v_null();
            } else if (json_is_string(x)) {
                if (parse_value(a, c, json_string_value(x), &q->after[i]) != 0) rc = bad(err, "cursor", "is not valid");
            } else {
                rc = bad(err, "cursor", "is not valid");
            }
        }
        if (rc == 0 && q->after[q->nsort - 1].t == OB_V_NULL) rc = bad(err, "cursor", "is not valid");
    }
    json_decref(j);
    return rc;
}

int ob_listq_parse(ob_ctx *ctx, const ob_table *t, const ob_kv *params, int n, ob_listq *q, ob_err *err)
{
    ob_arena *a = ctx->arena;
    memset(q, 0, sizeof *q);
    q->limit = OB_LIST_DEFAULT_LIMIT;
    const char *sort = NULL, *cursor = NULL;
    for (int i = 0; i < n; i++) {
        const char *k = params[i].key, *v = params[i].val ? params[i].val : "";
        bool special = strcmp(k, "limit") == 0 || strcmp(k, "sort") == 0 || strcmp(k, "cursor") == 0 || strcmp(k, "q") == 0;
        if (special)
            for (int j = 0; j < i; j++)
                if (strcmp(params[j].key, k) == 0) return bad(err, k, "is given twice");
        if (strcmp(k, "limit") == 0) {
            int64_t x;
            if (ob_parse_i64(v, &x) != 0 || x < 1 || x > OB_LIST_MAX_LIMIT) return bad(err, k, "must be 1 to 200");
            q->limit = (int)x;
        } else if (strcmp(k, "sort") == 0) {
            sort = v;
        } else if (strcmp(k, "cursor") == 0) {
            cursor = v;
        } else if (strcmp(k, "q") == 0) {
            if (t->nsearch == 0) return bad(err, k, "is not available: this table has no searchable fields");
            /* a search over a field hidden or masked for this role would reveal
             * it, one guess at a time */
            for (int c = 0; c < t->ncols; c++)
                if ((t->cols[c]->flags & OB_SEARCH) && ob_col_withheld(ctx, t->cols[c]))
                    return bad(err, k, "is not available to your role: it would search hidden or masked fields");
            if (strlen(v) > 500) return bad(err, k, "is too long");
            q->q = v;
        } else {
            if (q->nf >= OB_LIST_MAX_FILTERS) return bad(err, k, "is one filter too many");
            if (parse_filter(ctx, a, t, k, v, &q->f[q->nf], err) != 0) return -1;
            q->nf++;
        }
    }
    q->sort_default = !sort;
    if (!sort) sort = t->res->default_sort ? t->res->default_sort : "id";
    if (!*sort) return bad(err, "sort", "is empty");
    if (parse_sort(ctx, t, sort, q, err) != 0) return -1;
    q->sort_spec = canonical_sort(a, t, q);
    if (cursor && parse_cursor(a, t, cursor, q, err) != 0) return -1;
    return 0;
}

const char *ob_listq_cursor(ob_arena *a, const ob_listq *q, const ob_row *r)
{
    ob_sb js, out;
    ob_sb_init_arena(&js, a, 128);
    ob_sb_init_arena(&out, a, 192);
    ob_jsonw w;
    ob_jw_init(&w, &js);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "s", q->sort_spec);
    ob_jw_key(&w, "v");
    ob_jw_arr_open(&w);
    for (int i = 0; i < q->nsort; i++) {
        const ob_column *c = r->t->cols[q->sort[i]];
        const ob_value *v = &r->v[q->sort[i]];
        char buf[48];
        switch (v->t) {
        case OB_V_NULL: ob_jw_null(&w); break;
        case OB_V_TEXT: ob_jw_strn(&w, v->s, v->n); break;
        case OB_V_BOOL: ob_jw_str(&w, v->i ? "true" : "false"); break;
        case OB_V_DEC: ob_format_decimal(v->i, ob_col_scale(c), buf, sizeof buf); ob_jw_str(&w, buf); break;
        case OB_V_REAL: snprintf(buf, sizeof buf, "%.17g", v->r); ob_jw_str(&w, buf); break;
        default: snprintf(buf, sizeof buf, "%lld", (long long)v->i); ob_jw_str(&w, buf); break;
        }
    }
    ob_jw_arr_close(&w);
    ob_jw_obj_close(&w);
    ob_b64url_encode(&out, js.buf, js.len);
    return out.buf;
}
