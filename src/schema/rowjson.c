/* rowjson.c - row serialization and masking. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "db/secrets.h"
#include "schema/rowjson.h"
#include "base/banned.h"

static const char *const kind_names[] = {"", "phone", "email", "address", "sensitive"};

static bool json_has_role(const ob_principal *p, const char *json_text)
{
    json_t *arr = json_loads(json_text ? json_text : "[]", 0, NULL);
    bool hit = false;
    size_t i;
    json_t *v;
    if (json_is_array(arr))
        json_array_foreach(arr, i, v) {
            for (int k = 0; json_is_string(v) && k < p->nroles; k++)
                if (strcasecmp(p->roles[k], json_string_value(v)) == 0) hit = true;
        }
    json_decref(arr);
    return hit;
}

static void load_mask_rules(ob_ctx *ctx)
{
    ctx->mask_state = 1;
    ctx->mask_bits = 0;
    const ob_principal *p = ctx->who;
    if (!p || p->is_owner || p->is_system || !ctx->db) return;
    ob_err err;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT field_type, applies_to_roles, exempt_roles FROM data_masking_rules WHERE is_active",
                      &st, &err) != 0)
        return;
    while (ob_stmt_step(st, &err) == 1) {
        const char *kind = ob_stmt_col_text(st, 0, NULL);
        for (unsigned k = 1; k < OB_ARRAY_LEN(kind_names); k++) {
            if (!kind || strcmp(kind, kind_names[k]) != 0) continue;
            if (json_has_role(p, ob_stmt_col_text(st, 1, NULL)) && !json_has_role(p, ob_stmt_col_text(st, 2, NULL)))
                ctx->mask_bits |= 1u << k;
        }
    }
    ob_stmt_done(st);
}

bool ob_col_masked(ob_ctx *ctx, const ob_column *c)
{
    if (!(c->flags & OB_MASKED) || c->mask == OB_MASK_NONE) return false;
    if (!ctx->mask_state) load_mask_rules(ctx);
    return (ctx->mask_bits >> c->mask) & 1u;
}

const char *ob_mask_text(ob_arena *a, ob_mask_kind k, const char *s)
{
    size_t n = strlen(s);
    char *out = ob_arena_strndup(a, s, n);
    switch (k) {
    case OB_MASK_PHONE: /* keep the first 2 and last 4: 98****3210 */
        for (size_t i = 0; i < n; i++)
            if (n <= 6 ? i + 2 < n : (i >= 2 && i + 4 < n)) out[i] = '*';
        return out;
    case OB_MASK_EMAIL: { /* keep the first 2 characters of the local part */
        const char *at = strchr(s, '@');
        size_t keep = at ? (size_t)(at - s) : n;
        if (keep > 2) keep = 2;
        return ob_arena_printf(a, "%.*s**@***.***", (int)keep, s);
    }
    case OB_MASK_ADDRESS:
        return "******";
    case OB_MASK_SENSITIVE: /* show only the last 4 */
        for (size_t i = 0; i + 4 < n; i++) out[i] = '*';
        if (n <= 4)
            for (size_t i = 0; i < n; i++) out[i] = '*';
        return out;
    default:
        return out;
    }
}

bool ob_col_hidden(const ob_ctx *ctx, const ob_column *c)
{
    if (c->flags & OB_SECRET) return true;
    return ctx && (c->flags & OB_STAFF) && ob_ctx_confined(ctx);
}

bool ob_col_withheld(ob_ctx *ctx, const ob_column *c)
{
    return ob_col_hidden(ctx, c) || (ctx && ob_col_masked(ctx, c));
}

/* A stored row image (JSON object of one row of table `of`) as this reader
 * may see it: the imaged table's hidden columns dropped, its masked columns
 * masked. An image of an unknown table, or one that does not parse, is shown
 * as null rather than risk showing what its declaration would withhold. */
static void write_image(ob_ctx *ctx, ob_jsonw *w, const char *of, const char *text, size_t n)
{
    const ob_table *t = of ? ob_registry_find(of) : NULL;
    json_t *obj = t ? json_loadb(text, n, 0, NULL) : NULL;
    if (!json_is_object(obj)) {
        json_decref(obj);
        ob_jw_null(w);
        return;
    }
    const char *key;
    json_t *val;
    void *tmp;
    json_object_foreach_safe(obj, tmp, key, val) {
        int i = ob_table_col(t, key);
        if (i < 0) continue; /* a column dropped since: nothing declares how to show it */
        const ob_column *c = t->cols[i];
        if (!ob_col_hidden(ctx, c) && (c->flags & OB_ENCRYPTED) && json_is_string(val)) {
            /* sealed in the image as in its row (ob_row_json_sealed): open it, or leave it out */
            const char *sv = json_string_value(val);
            json_t *idv = json_object_get(obj, "id");
            ob_sb sb;
            ob_sb_init_arena(&sb, ctx->arena, 64);
            ob_err e = {0};
            if (ob_secret_looks_sealed(sv, strlen(sv)) && json_is_string(idv) && ctx->db &&
                ob_secret_open(&sb, ob_conn_tenant(ctx->db), t->name, json_string_value(idv), c->name, sv, strlen(sv),
                               &e) == 0) {
                json_object_set_new(obj, key, json_stringn(sb.buf, sb.len));
                val = json_object_get(obj, key);
            } else {
                json_object_del(obj, key);
                continue;
            }
        }
        if (ob_col_hidden(ctx, c)) json_object_del(obj, key);
        else if (json_is_string(val) && ob_col_masked(ctx, c))
            json_object_set_new(obj, key, json_string(ob_mask_text(ctx->arena, c->mask, json_string_value(val))));
    }
    char *dump = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!dump) {
        ob_jw_null(w);
        return;
    }
    ob_jw_raw(w, dump, strlen(dump));
    free(dump);
}

void ob_row_image_json(ob_ctx *ctx, ob_jsonw *w, const char *table, const char *text, size_t n)
{
    write_image(ctx, w, table, text, n);
}

static void write_value(ob_jsonw *w, const ob_column *c, const ob_value *v, const char *masked)
{
    if (v->t == OB_V_NULL) {
        ob_jw_null(w);
        return;
    }
    if (masked) {
        ob_jw_str(w, masked);
        return;
    }
    switch (c->type) {
    case OB_F_INT:
        ob_jw_i64(w, v->i);
        break;
    case OB_F_BOOL:
        ob_jw_bool(w, v->i != 0);
        break;
    case OB_F_REAL:
        ob_jw_f64(w, v->r);
        break;
    case OB_F_DECIMAL: {
        char buf[48];
        ob_format_decimal(v->i, ob_col_scale(c), buf, sizeof buf);
        ob_jw_str(w, buf);
        break;
    }
    case OB_F_JSON:
        ob_jw_raw(w, v->s, v->n);
        break;
    default:
        ob_jw_strn(w, v->s, v->n);
    }
}

static void row_json(ob_ctx *ctx, ob_jsonw *w, const ob_row *r, bool stored, const char *seal_tenant)
{
    const ob_table *t = r->t;
    ob_jw_obj_open(w);
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (!stored && ob_col_hidden(ctx, c)) continue;
        ob_value nv = ob_v_null();
        const ob_value *v = r->set[i] ? &r->v[i] : &nv;
        /* row images never carry a sealed column's plaintext: sealed as in the row, or left out */
        if (!ctx && !stored && (c->flags & OB_ENCRYPTED)) {
            if (!seal_tenant) continue;
            if (v->t == OB_V_TEXT && !ob_secret_looks_sealed(v->s, v->n)) {
                ob_sb sb;
                ob_sb_init(&sb, v->n * 2 + 64);
                ob_err e = {0};
                int rc = ob_secret_seal(&sb, seal_tenant, t->name, ob_row_id(r), c->name, v->s, v->n, &e);
                ob_jw_key(w, c->name);
                if (rc == 0) ob_jw_strn(w, sb.buf, sb.len);
                else ob_jw_null(w);
                ob_sb_release(&sb);
                continue;
            }
        }
        ob_jw_key(w, c->name);
        if (ctx && c->image_of && v->t == OB_V_TEXT) {
            int of = ob_table_col(t, c->image_of);
            write_image(ctx, w, of >= 0 && r->set[of] && r->v[of].t == OB_V_TEXT ? r->v[of].s : NULL, v->s, v->n);
            continue;
        }
        if ((c->flags & OB_ENCRYPTED) && v->t == OB_V_TEXT && ob_secret_looks_sealed(v->s, v->n)) {
            /* sealed text, even in a JSON column: written as a string */
            ob_jw_strn(w, v->s, v->n);
            continue;
        }
        const char *masked = NULL;
        if (ctx && v->t == OB_V_TEXT && ob_col_masked(ctx, c)) masked = ob_mask_text(ctx->arena, c->mask, v->s);
        write_value(w, c, v, masked);
    }
    ob_jw_obj_close(w);
}

void ob_row_json(ob_ctx *ctx, ob_jsonw *w, const ob_row *r)
{
    row_json(ctx, w, r, false, NULL);
}

void ob_row_json_raw(ob_jsonw *w, const ob_row *r)
{
    row_json(NULL, w, r, false, NULL);
}

void ob_row_json_sealed(ob_jsonw *w, const ob_row *r, const char *tenant)
{
    row_json(NULL, w, r, false, tenant);
}

void ob_row_json_stored(ob_jsonw *w, const ob_row *r)
{
    row_json(NULL, w, r, true, NULL);
}
