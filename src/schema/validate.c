/* validate.c - request bodies into rows. */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "schema/sql.h"
#include "schema/validate.h"
#include "base/banned.h"

/* The largest magnitude up to which every integer is an exact double. */
#define OB_JSON_EXACT_INT 9007199254740992.0

/* Shortest decimal text of a double that reads back as the same double. */
static void shortest_double(double d, char *buf, size_t n)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) return;
    }
}

/* Whether s matches the declared pattern. Patterns are registry constants;
 * one that does not compile is a declaration bug and refuses every value. */
static bool matches(const char *pattern, const char *s)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) return false;
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* A JSON column with .enm: an array of distinct values of the enum, any case
 * in, stored as the canonical spelling (as enum columns are). */
static int enum_array_value(ob_arena *a, const ob_column *c, json_t *j, ob_value *v, const char **problem)
{
    if (!json_is_array(j)) return *problem = "must be an array", -1;
    ob_sb sb;
    ob_sb_init_arena(&sb, a, 64);
    ob_sb_addc(&sb, '[');
    size_t n = json_array_size(j);
    const char **seen = ob_arena_alloc(a, (n + 1) * sizeof *seen);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(j, i);
        const char *code = NULL;
        for (int k = 0; json_is_string(e) && k < c->enm->n; k++)
            if (strcasecmp(c->enm->values[k], json_string_value(e)) == 0 &&
                strlen(c->enm->values[k]) == json_string_length(e))
                code = c->enm->values[k];
        if (!code) return *problem = "holds a value that is not allowed", -1;
        for (size_t k = 0; k < i; k++)
            if (seen[k] == code) return *problem = "holds a value twice", -1;
        seen[i] = code;
        ob_sb_addf(&sb, "%s\"%s\"", i ? "," : "", code); /* enum values are plain snake_case */
    }
    ob_sb_addc(&sb, ']');
    *v = ob_v_textn(sb.buf, sb.len);
    return 0;
}

static int text_value(ob_arena *a, const ob_column *c, json_t *j, ob_value *v, const char **problem)
{
    if (!json_is_string(j)) return *problem = "must be a string", -1;
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    if (strlen(s) != n) return *problem = "must not contain NUL characters", -1;
    if (c->type == OB_F_TEXT) {
        if (c->max > 0 && (int64_t)ob_utf8_len(s, n) > c->max) return *problem = "is too long", -1;
        if ((c->flags & OB_REQUIRED) && n == 0) return *problem = "must not be empty", -1;
        if (c->pattern && !matches(c->pattern, s)) return *problem = "does not have the declared form", -1;
        if (!(c->flags & OB_LOWER)) {
            *v = ob_v_textn(ob_arena_strndup(a, s, n), n);
            return 0;
        }
        size_t m;
        char *low = ob_text_lower(a, s, n, &m);
        /* lower case can be longer (U+0130 becomes i and a combining dot) */
        if (c->max > 0 && (int64_t)ob_utf8_len(low, m) > c->max) return *problem = "is too long", -1;
        *v = ob_v_textn(low, m);
        return 0;
    }
    if (c->type == OB_F_ENUM) {
        for (int k = 0; k < c->enm->n; k++)
            if (strcasecmp(c->enm->values[k], s) == 0 && strlen(c->enm->values[k]) == n) {
                *v = ob_v_textn(c->enm->values[k], n);
                return 0;
            }
        return *problem = "is not one of the allowed values", -1;
    }
    if (c->type == OB_F_REF || c->type == OB_F_ID) {
        if (n != 36 || !ob_uuid_valid(s)) return *problem = "must be a record id", -1;
        *v = ob_v_textn(ob_ascii_lower(a, s), n);
        return 0;
    }
    if (c->type == OB_F_TIMESTAMP) {
        int64_t ms;
        if (n > 64 || ob_ts_parse(s, &ms) != 0) return *problem = "must be an RFC 3339 timestamp", -1;
        char *out = ob_arena_alloc(a, OB_TS_LEN);
        ob_ts_format(ms, out);
        *v = ob_v_textn(out, strlen(out));
        return 0;
    }
    if (c->type == OB_F_DATE) {
        int64_t days;
        if (n != 10 || ob_date_parse(s, &days) != 0) return *problem = "must be a date (YYYY-MM-DD)", -1;
        *v = ob_v_textn(ob_arena_strndup(a, s, n), n);
        return 0;
    }
    return *problem = "has an unsupported type", -1;
}

int ob_value_from_json(ob_arena *a, const ob_column *c, json_t *j, ob_value *v, const char **problem)
{
    if (json_is_null(j)) {
        if (c->flags & OB_REQUIRED) return *problem = "must not be null", -1;
        *v = ob_v_null();
        return 0;
    }
    switch (c->type) {
    case OB_F_INT: {
        json_int_t x;
        if (json_is_integer(j)) {
            x = json_integer_value(j);
        } else if (json_is_real(j)) {
            /* 30.0 is the integer 30 in JSON's number model (and how many
             * encoders write integers); a double names one integer only up to
             * 2^53, so beyond that it is refused rather than rounded */
            double d = json_real_value(j);
            if (d != floor(d)) return *problem = "must be an integer", -1;
            if (fabs(d) > OB_JSON_EXACT_INT) return *problem = "is out of range for an integer", -1;
            x = (json_int_t)d;
        } else {
            return *problem = "must be an integer", -1;
        }
        if ((c->flags & OB_HAS_MIN) && ((c->flags & OB_MIN_EXCL) ? x <= c->min : x < c->min))
            return *problem = "is below the minimum", -1;
        if ((c->flags & OB_HAS_MAX) && x > c->max) return *problem = "is above the maximum", -1;
        *v = ob_v_int(x);
        return 0;
    }
    case OB_F_DECIMAL: {
        char buf[64];
        const char *s;
        int scale = ob_col_scale(c);
        if (json_is_string(j)) {
            s = json_string_value(j);
            if (json_string_length(j) > 40) return *problem = "must be a decimal number", -1;
        } else if (json_is_integer(j)) {
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(j));
            s = buf;
        } else if (json_is_real(j)) {
            shortest_double(json_real_value(j), buf, sizeof buf);
            s = buf;
        } else {
            return *problem = "must be a decimal number", -1;
        }
        int64_t minor;
        if (ob_parse_decimal(s, scale, &minor) != 0) {
            const char *dot = strchr(s, '.');
            if (dot && strspn(dot + 1, "0123456789") == strlen(dot + 1) && (int)strlen(dot + 1) > scale)
                return *problem = "has too many decimal places", -1;
            return *problem = "must be a decimal number", -1;
        }
        if ((c->flags & OB_HAS_MIN) && ((c->flags & OB_MIN_EXCL) ? minor <= c->min : minor < c->min))
            return *problem = (c->flags & OB_MIN_EXCL) ? "must be greater than the minimum" : "is below the minimum", -1;
        if ((c->flags & OB_HAS_MAX) && minor > c->max) return *problem = "is above the maximum", -1;
        *v = ob_v_dec(minor, scale);
        return 0;
    }
    case OB_F_REAL:
        if (!json_is_number(j)) return *problem = "must be a number", -1;
        *v = ob_v_real(json_number_value(j));
        if (!isfinite(v->r)) return *problem = "must be a finite number", -1;
        if ((c->flags & OB_HAS_MIN) && ((c->flags & OB_MIN_EXCL) ? v->r <= (double)c->min : v->r < (double)c->min))
            return *problem = "is below the minimum", -1;
        if ((c->flags & OB_HAS_MAX) && v->r > (double)c->max) return *problem = "is above the maximum", -1;
        return 0;
    case OB_F_BOOL:
        if (!json_is_boolean(j)) return *problem = "must be true or false", -1;
        *v = ob_v_bool(json_is_true(j));
        return 0;
    case OB_F_JSON: {
        if ((c->flags & OB_HAS_MIN) && (!json_is_object(j) || (int64_t)json_object_size(j) < c->min))
            return *problem = c->min > 0 ? "must be a non-empty object" : "must be an object", -1;
        if (c->enm) return enum_array_value(a, c, j, v, problem);
        char *dump = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!dump) return *problem = "cannot be stored", -1;
        size_t n = strlen(dump);
        *v = ob_v_textn(ob_arena_strndup(a, dump, n), n);
        free(dump);
        return 0;
    }
    default:
        return text_value(a, c, j, v, problem);
    }
}

/* A column default as a value; "now" and "today" read the request clock. */
static void default_value(ob_ctx *ctx, const ob_column *c, ob_value *v)
{
    const char *d = c->dflt;
    if (strcmp(d, "now") == 0) {
        *v = ob_v_textn(ctx->now, strlen(ctx->now));
        return;
    }
    if (strcmp(d, "today") == 0) {
        *v = ob_v_textn(ob_arena_strndup(ctx->arena, ctx->now, 10), 10);
        return;
    }
    switch (c->type) {
    case OB_F_INT: {
        int64_t x = 0;
        ob_parse_i64(d, &x);
        *v = ob_v_int(x);
        break;
    }
    case OB_F_BOOL:
        *v = ob_v_bool(strcmp(d, "true") == 0);
        break;
    case OB_F_DECIMAL: {
        int64_t x = 0;
        ob_parse_decimal(d, ob_col_scale(c), &x);
        *v = ob_v_dec(x, ob_col_scale(c));
        break;
    }
    default:
        *v = ob_v_textn(d, strlen(d));
    }
}

/* Whether c is the column of t's customer_scope ("customer_id", or the
 * "ticket_id" of "ticket_id.customer_id"). */
static bool scope_column(const ob_table *t, const ob_column *c)
{
    const char *scope = t->res->customer_scope;
    if (!scope) return false;
    size_t n = strcspn(scope, ".");
    return strlen(c->name) == n && strncmp(c->name, scope, n) == 0;
}

int ob_validate_body(ob_ctx *ctx, const ob_table *t, json_t *body, ob_row *row, bool create, ob_err *err)
{
    const char *key;
    json_t *val;
    ob_err_clear(err);
    /* Structural problems first: they name one field and stop. */
    json_object_foreach(body, key, val) {
        int i = ob_table_col(t, key);
        if (i < 0 || (t->cols[i]->flags & (OB_SECRET | OB_SERVER)) == (OB_SECRET | OB_SERVER)) {
            ob_err_set(err, OB_E_UNKNOWN_FIELD, "unknown field \"%.60s\"", key);
            snprintf(err->field, sizeof err->field, "%s", key);
            return -1;
        }
        const ob_column *c = t->cols[i];
        if ((c->flags & OB_STAFF) && ob_ctx_confined(ctx)) { /* staff-only: as absent as an unknown field */
            ob_err_set(err, OB_E_UNKNOWN_FIELD, "unknown field \"%.60s\"", key);
            snprintf(err->field, sizeof err->field, "%s", key);
            return -1;
        }
        if ((c->flags & OB_SERVER) || (!create && (c->flags & OB_IMMUTABLE))) {
            ob_err_set(err, OB_E_READONLY_FIELD, "field \"%s\" cannot be written", key);
            snprintf(err->field, sizeof err->field, "%s", key);
            return -1;
        }
        /* customer users write only what is declared theirs to write (fails
         * closed), and the column tying the row to them, which the scoped
         * reference check confines to their own */
        if (ob_ctx_confined(ctx) && !(c->flags & OB_CUSTOMER_WRITE) && !scope_column(t, c)) {
            ob_err_set(err, OB_E_READONLY_FIELD, "field \"%s\" cannot be written by customer users", key);
            snprintf(err->field, sizeof err->field, "%s", key);
            return -1;
        }
    }
    json_object_foreach(body, key, val) {
        int i = ob_table_col(t, key);
        const char *problem = NULL;
        ob_value v;
        if (ob_value_from_json(ctx->arena, t->cols[i], val, &v, &problem) != 0) {
            ob_err_field_add(err, key, problem);
            continue;
        }
        row->v[i] = v;
        row->set[i] = true;
    }
    if (create) {
        for (int i = 0; i < t->ncols; i++) {
            const ob_column *c = t->cols[i];
            if (row->set[i] || !c->dflt) continue;
            default_value(ctx, c, &row->v[i]);
            row->set[i] = true;
        }
    }
    if (err->nfields > 0) {
        err->code = OB_E_VALIDATION;
        snprintf(err->message, sizeof err->message, "%s", ob_err_default_msg(OB_E_VALIDATION));
        return -1;
    }
    return 0;
}

static int cmp_values(const ob_value *a, const ob_value *b)
{
    if (a->t == OB_V_TEXT) {
        int r = strcmp(a->s, b->s);
        return (r > 0) - (r < 0);
    }
    if (a->t == OB_V_REAL) return (a->r > b->r) - (a->r < b->r);
    return (a->i > b->i) - (a->i < b->i);
}

static bool cmp_holds(ob_cmp op, int r)
{
    switch (op) {
    case OB_CMP_EQ: return r == 0;
    case OB_CMP_NE: return r != 0;
    case OB_CMP_LT: return r < 0;
    case OB_CMP_LTE: return r <= 0;
    case OB_CMP_GT: return r > 0;
    default: return r >= 0;
    }
}

int ob_validate_row(ob_ctx *ctx, const ob_row *row, ob_err *err)
{
    const ob_table *t = row->t;
    ob_err_clear(err);
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        bool null = !row->set[i] || row->v[i].t == OB_V_NULL;
        if (null && (c->flags & OB_REQUIRED) && !(c->flags & OB_SERVER)) ob_err_field_add(err, c->name, "is required");
    }
    for (int k = 0; k < t->res->nchecks; k++) {
        const ob_check *ck = &t->res->checks[k];
        int l = ob_table_col(t, ck->left), r = ob_table_col(t, ck->right);
        if (!row->set[l] || !row->set[r] || row->v[l].t == OB_V_NULL || row->v[r].t == OB_V_NULL) continue;
        if (!cmp_holds(ck->op, cmp_values(&row->v[l], &row->v[r]))) {
            char msg[96];
            snprintf(msg, sizeof msg, "must be compatible with \"%s\" (%s)", ck->right, ck->name);
            ob_err_field_add(err, ck->left, msg);
        }
    }
    if (err->nfields > 0) {
        err->code = OB_E_VALIDATION;
        snprintf(err->message, sizeof err->message, "%s", ob_err_default_msg(OB_E_VALIDATION));
        return -1;
    }
    for (int i = 0; i < t->ncols; i++) {
        const ob_column *c = t->cols[i];
        if (c->type != OB_F_REF || !row->set[i] || row->v[i].t != OB_V_TEXT) continue;
        int found = ob_sql_exists(ctx, ob_registry_find(c->ref), row->v[i].s, err);
        if (found < 0) return -1;
        if (!found) {
            if (err->nfields == 0) {
                snprintf(err->message, sizeof err->message, "\"%s\" refers to a %s record that does not exist",
                         c->name, c->ref);
                snprintf(err->field, sizeof err->field, "%s", c->name);
            }
            ob_err_field_add(err, c->name, "refers to a record that does not exist");
            err->code = OB_E_UNPROCESSABLE;
        }
    }
    return err->nfields > 0 ? -1 : 0;
}

ob_row *ob_row_with_defaults(ob_ctx *ctx, const char *table)
{
    const ob_table *t = ob_registry_find(table);
    ob_row *row = ob_row_new(ctx->arena, t);
    json_t *empty = json_object();
    ob_err ignore;
    /* an empty body names no field, so nothing can be refused: the defaults */
    ob_validate_body(ctx, t, empty, row, true, &ignore);
    json_decref(empty);
    return row;
}
