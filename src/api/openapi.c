/* openapi.c - the OpenAPI 3.1 document, written straight from the registry.
 *
 * Streaming: each part is written into the output with the JSON writer as it
 * is derived; there is no intermediate tree. What a client may send follows
 * the engine's own rules, and each helper names the rule it mirrors:
 * validate.c (writable, required and nullable fields), listq.c (filters,
 * sort, q, limit), api/resource.c and crud.c (methods, headers, events,
 * actions, permissions) and resp.c (the error body). Everything comes out in
 * the registry's order, so the output is the same on every call.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/openapi.h"
#include "api/route.h"
#include "base/base.h"
#include "schema/list.h"
#include "schema/methods.h"
#include "schema/registry.h"
#include "gen/columns.h"
#include "base/banned.h"

#define SCHEMAS "#/components/schemas/"
#define PARAMS "#/components/parameters/"
#define RESPONSES "#/components/responses/"
#define HEADERS "#/components/headers/"

/* Longest q= listq.c accepts. */
#define Q_MAX_LEN 500

/* The writer and a scratch buffer for composed text (patterns, notes). */
typedef struct oa {
    ob_jsonw w;
    ob_sb tmp;
} oa;

/* How a column is being described: in a record the server sends, in a
 * create or update body, or as a query filter value. */
typedef enum col_mode { MODE_RECORD, MODE_CREATE, MODE_UPDATE, MODE_PARAM } col_mode;

/* ---- registry rules ---------------------------------------------------- */

static bool has_api(const ob_table *t)
{
    return !(t->res->flags & OB_RES_NO_API);
}

/* The methods resource.c routes, from the one rule in schema/methods.h. */
static bool can_post(const ob_table *t)
{
    return ob_methods(t, OB_ROUTE_COLLECTION) & OB_M_POST;
}

static bool can_patch(const ob_table *t)
{
    return ob_methods(t, OB_ROUTE_RECORD) & OB_M_PATCH;
}

static bool visible(const ob_column *c)
{
    return !(c->flags & OB_SECRET);
}

/* validate.c: secret and server-set fields are refused in any body; immutable
 * ones after create. */
static bool writable(const ob_column *c, col_mode m)
{
    if (c->flags & OB_SERVER) return false; /* a secret that is not server-set is write-only */
    return m != MODE_UPDATE || !(c->flags & OB_IMMUTABLE);
}

/* validate_row() requires these unless a default fills them. */
static bool required_on_create(const ob_column *c)
{
    return (c->flags & OB_REQUIRED) && !(c->flags & (OB_SERVER | OB_GENERATED)) && !c->dflt;
}

/* Names listq.c reads as list parameters, never as filters. */
static bool list_param_name(const char *name)
{
    return !strcmp(name, "limit") || !strcmp(name, "sort") || !strcmp(name, "cursor") || !strcmp(name, "q");
}

/* listq.c: secret, no-filter and JSON columns are not filterable. */
static bool filterable(const ob_column *c)
{
    return !(c->flags & (OB_SECRET | OB_NOFILTER | OB_ENCRYPTED)) && c->type != OB_F_JSON && !list_param_name(c->name);
}

static bool sortable(const ob_column *c)
{
    return (c->flags & OB_SORT) && visible(c);
}

/* A table's update schema exists when PATCH does (events describe their own
 * bodies, from the fields they declare). */
static bool has_update_schema(const ob_table *t)
{
    return can_patch(t);
}

/* Only tables with a version send ETag and check If-Match (crud.c). */
static bool versioned(const ob_table *t)
{
    return t->version_col >= 0;
}

/* ---- small writers ----------------------------------------------------- */

static void kref(ob_jsonw *w, const char *prefix, const char *name)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s", prefix, name);
    ob_jw_kstr(w, "$ref", buf);
}

/* {"$ref": prefix name} as a value. */
static void ref_obj(ob_jsonw *w, const char *prefix, const char *name)
{
    ob_jw_obj_open(w);
    kref(w, prefix, name);
    ob_jw_obj_close(w);
}

static void kref_obj(ob_jsonw *w, const char *key, const char *prefix, const char *name)
{
    ob_jw_key(w, key);
    ref_obj(w, prefix, name);
}

/* "type": T, or [T, "null"] for a nullable value. */
static void type_kw(ob_jsonw *w, const char *type, bool nullable)
{
    ob_jw_key(w, "type");
    if (!nullable) {
        ob_jw_str(w, type);
        return;
    }
    ob_jw_arr_open(w);
    ob_jw_str(w, type);
    ob_jw_str(w, "null");
    ob_jw_arr_close(w);
}

/* key: {"type": type, ["format"], ["description"]}; type NULL omits it. */
static void kprop(ob_jsonw *w, const char *key, const char *type, const char *format, const char *desc)
{
    ob_jw_key(w, key);
    ob_jw_obj_open(w);
    if (type) ob_jw_kstr(w, "type", type);
    if (format) ob_jw_kstr(w, "format", format);
    if (desc) ob_jw_kstr(w, "description", desc);
    ob_jw_obj_close(w);
}

/* key: ["a", "b", ...] from a NULL-terminated list. */
static void kstrs(ob_jsonw *w, const char *key, ...)
{
    va_list ap;
    va_start(ap, key);
    ob_jw_key(w, key);
    ob_jw_arr_open(w);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) ob_jw_str(w, s);
    ob_jw_arr_close(w);
    va_end(ap);
}

/* Open name: {"type": "object", ["description"], "properties": { */
static void object_open(ob_jsonw *w, const char *name, const char *desc)
{
    if (name) ob_jw_key(w, name);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "object");
    if (desc) ob_jw_kstr(w, "description", desc);
    ob_jw_key(w, "properties");
    ob_jw_obj_open(w);
}

/* The figures of a support report group or total: exact decimals as strings, null when nothing was measured. */
static void support_figures(ob_jsonw *w)
{
    static const char *const counts[] = {"tickets", "response_measured", "response_met", "resolution_measured",
                                         "resolution_met", "responded", "csat_count"};
    static const char *const decs[][2] = {
        {"response_compliance_pct", "response_met / response_measured x 100, 2 places"},
        {"resolution_compliance_pct", "resolution_met / resolution_measured x 100, 2 places"},
        {"first_response_mean_minutes", "2 places"},
        {"first_response_median_minutes", "2 places"},
        {"csat_average", "mean rating 1-5, 2 places"}};
    for (size_t i = 0; i < OB_ARRAY_LEN(counts); i++) kprop(w, counts[i], "integer", NULL, NULL);
    for (size_t i = 0; i < OB_ARRAY_LEN(decs); i++) {
        ob_jw_key(w, decs[i][0]);
        ob_jw_obj_open(w);
        type_kw(w, "string", true);
        ob_jw_kstr(w, "description", decs[i][1]);
        ob_jw_obj_close(w);
    }
}

/* The figures of a P&L group or total: money as decimal strings. */
static void pnl_figures(ob_jsonw *w)
{
    static const char *const money[] = {"gross_revenue", "platform_fee", "payment_gateway_fee", "shipping_cost",
                                        "product_cost", "other_costs", "expenses", "net_revenue", "profit"};
    kprop(w, "orders", "integer", NULL, "delivered orders (revenue records)");
    for (size_t i = 0; i < sizeof money / sizeof money[0]; i++) kprop(w, money[i], "string", NULL, "2 places");
}

/* "content": {"application/json": {"schema": {"$ref": ...}}} */
static void content_ref(ob_jsonw *w, const char *type, const char *schema)
{
    ob_jw_key(w, "content");
    ob_jw_obj_open(w);
    ob_jw_key(w, type);
    ob_jw_obj_open(w);
    kref_obj(w, "schema", SCHEMAS, schema);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
}

static void json_content_ref(ob_jsonw *w, const char *schema)
{
    content_ref(w, "application/json", schema);
}

/* ---- column schemas ---------------------------------------------------- */

static const char *schema_type(ob_ftype t)
{
    switch (t) {
    case OB_F_INT: return "integer";
    case OB_F_REAL: return "number";
    case OB_F_BOOL: return "boolean";
    case OB_F_JSON: return NULL;
    default: return "string";
    }
}

/* Decimals travel as strings: the server writes exactly `scale` fraction
 * digits; input may have fewer. A body may also give a JSON number
 * (validate.c takes it, as existing clients send it), so body schemas are
 * [string, number]: the pattern constrains the string, minimum and maximum
 * the number. For strings the bounds stay in extensions as decimal text. */
static void decimal_kw(oa *o, const ob_column *c, col_mode m)
{
    int scale = ob_col_scale(c);
    char num[48];
    bool body = m == MODE_CREATE || m == MODE_UPDATE;
    ob_sb_reset(&o->tmp);
    if (m == MODE_RECORD)
        ob_sb_addf(&o->tmp, "^-?[0-9]+\\.[0-9]{%d}$", scale);
    else
        ob_sb_addf(&o->tmp, "^-?[0-9]+(\\.[0-9]{1,%d})?$", scale);
    ob_jw_kstr(&o->w, "pattern", o->tmp.buf);
    if (m == MODE_PARAM) return;
    if (c->flags & OB_HAS_MIN) {
        ob_format_decimal(c->min, scale, num, sizeof num);
        ob_jw_kstr(&o->w, (c->flags & OB_MIN_EXCL) ? "x-exclusiveMinimum" : "x-minimum", num);
        if (body) {
            ob_jw_key(&o->w, (c->flags & OB_MIN_EXCL) ? "exclusiveMinimum" : "minimum");
            ob_jw_raw(&o->w, num, strlen(num));
        }
    }
    if (c->flags & OB_HAS_MAX) {
        ob_format_decimal(c->max, scale, num, sizeof num);
        ob_jw_kstr(&o->w, "x-maximum", num);
        if (body) {
            ob_jw_key(&o->w, "maximum");
            ob_jw_raw(&o->w, num, strlen(num));
        }
    }
}

/* Enum input (bodies and filters) is matched in any case (validate.c,
 * listq.c): "HIGH" is "high". JSON Schema has no case-insensitive enum and
 * ECMA-262 patterns no inline flags, so each letter becomes a class:
 * ^([Hh][Ii][Gg][Hh]|...)$. Records keep the plain enum: the server always
 * writes the canonical lower-case value. */
static void enum_pattern(oa *o, const ob_enum *e)
{
    ob_sb *p = &o->tmp;
    ob_sb_reset(p);
    ob_sb_adds(p, "^(");
    for (int k = 0; k < e->n; k++) {
        if (k) ob_sb_addc(p, '|');
        for (const char *ch = e->values[k]; *ch; ch++) {
            if (*ch >= 'a' && *ch <= 'z') ob_sb_addf(p, "[%c%c]", *ch - 'a' + 'A', *ch);
            else if ((*ch >= '0' && *ch <= '9') || *ch == '_') ob_sb_addc(p, *ch);
            else ob_sb_addf(p, "\\%c", *ch);
        }
    }
    ob_sb_adds(p, ")$");
    ob_jw_kstr(&o->w, "pattern", p->buf);
}

/* "examples": the canonical values of an enum. */
static void enum_examples(ob_jsonw *w, const ob_enum *e)
{
    ob_jw_key(w, "examples");
    ob_jw_arr_open(w);
    for (int k = 0; k < e->n; k++) ob_jw_str(w, e->values[k]);
    ob_jw_arr_close(w);
}

/* A declared default as a typed JSON value; "now" and "today" are not
 * literals and are described instead. */
static void default_kw(ob_jsonw *w, const ob_column *c)
{
    const char *d = c->dflt;
    if (!strcmp(d, "now") || !strcmp(d, "today")) return;
    int64_t x;
    switch (c->type) {
    case OB_F_INT:
        if (ob_parse_i64(d, &x) != 0) return;
        ob_jw_key(w, "default");
        ob_jw_i64(w, x);
        return;
    case OB_F_BOOL:
        ob_jw_kbool(w, "default", !strcmp(d, "true"));
        return;
    case OB_F_DECIMAL: {
        char num[48];
        if (ob_parse_decimal(d, ob_col_scale(c), &x) != 0) return;
        ob_format_decimal(x, ob_col_scale(c), num, sizeof num);
        ob_jw_kstr(w, "default", num);
        return;
    }
    case OB_F_JSON: /* the declaration's own JSON text ("{}", "[]") */
        ob_jw_key(w, "default");
        ob_jw_raw(w, d, strlen(d));
        return;
    case OB_F_REAL:
        return; /* no real column has a default; text would be the wrong type */
    default:
        ob_jw_kstr(w, "default", d);
    }
}

/* The column's doc followed by what the flags add for a reader. */
static void col_description(oa *o, const ob_column *c, col_mode m)
{
    ob_sb *s = &o->tmp;
    ob_sb_reset(s);
    if (c->doc) ob_sb_adds(s, c->doc);
#define NOTE(text) (ob_sb_adds(s, s->len ? "; " : ""), ob_sb_adds(s, (text)))
    if (c->type == OB_F_REF && c->ref && m != MODE_PARAM) {
        NOTE("id of a ");
        ob_sb_adds(s, c->ref);
        ob_sb_adds(s, " record");
    }
    if (m == MODE_CREATE && c->dflt && !strcmp(c->dflt, "now")) NOTE("defaults to the time of the request");
    if (m == MODE_CREATE && c->dflt && !strcmp(c->dflt, "today")) NOTE("defaults to the date of the request");
    if (m == MODE_CREATE && (c->flags & OB_IMMUTABLE)) NOTE("cannot be changed after create");
    if (m == MODE_RECORD && (c->flags & OB_SERVER)) NOTE("set by the server");
    if (c->server_when && m != MODE_PARAM) {
        NOTE("set by the server on rows with ");
        ob_sb_adds(s, c->server_when);
    }
    if (c->enm && m != MODE_RECORD) NOTE("accepted in any case, stored lower case");
    /* uniqueItems compares exactly; validate.c also refuses "pdf" with "PDF" */
    if (c->type == OB_F_JSON && c->enm && m != MODE_RECORD) NOTE("no value twice, in any case");
    if (c->type == OB_F_DECIMAL && (m == MODE_CREATE || m == MODE_UPDATE))
        NOTE("a decimal string, or a JSON number with no more fraction digits than the scale");
    if ((c->flags & OB_LOWER) && m != MODE_RECORD) NOTE("stored lower case");
    if (c->flags & OB_MASKED) {
        if (m == MODE_PARAM)
            NOTE("refused for roles that see this field masked");
        else if (m == MODE_RECORD)
            NOTE("masked for roles the tenant's masking rules name");
    }
#undef NOTE
    if (s->len) ob_jw_kstr(&o->w, "description", s->buf);
}

/* The JSON Schema of one column value. Nullable columns (not OB_REQUIRED)
 * take [T, "null"]: the record writes null for them and a body may clear
 * them. A filter value is never null (field.null= exists for that). */
static void col_schema(oa *o, const ob_column *c, col_mode m)
{
    ob_jsonw *w = &o->w;
    bool nullable = !(c->flags & OB_REQUIRED) && m != MODE_PARAM;
    const char *type = schema_type(c->type);
    bool body = m == MODE_CREATE || m == MODE_UPDATE;
    if (c->type == OB_F_JSON && c->enm) type = "array";
    ob_jw_obj_open(w);
    if (c->flags & OB_SECRET) ob_jw_kbool(w, "writeOnly", true);
    if (c->type == OB_F_DECIMAL && body) { /* a decimal string or a JSON number */
        ob_jw_key(w, "type");
        ob_jw_arr_open(w);
        ob_jw_str(w, "string");
        ob_jw_str(w, "number");
        if (nullable) ob_jw_str(w, "null");
        ob_jw_arr_close(w);
    } else if (type) type_kw(w, type, nullable);
    else if (c->flags & OB_REQUIRED) { /* any JSON value but null */
        ob_jw_key(w, "not");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", "null");
        ob_jw_obj_close(w);
    }
    switch (c->type) {
    case OB_F_TEXT: /* bounds describe values, not filters (a.gt=x is fine) */
        if ((c->flags & OB_REQUIRED) && m != MODE_PARAM) ob_jw_ki64(w, "minLength", 1);
        if (c->max > 0 && m != MODE_PARAM) ob_jw_ki64(w, "maxLength", c->max);
        if (c->pattern && m != MODE_PARAM) ob_jw_kstr(w, "pattern", c->pattern);
        break;
    case OB_F_INT:
        ob_jw_kstr(w, "format", "int64");
        if (m == MODE_PARAM) break;
        if (c->flags & OB_HAS_MIN) ob_jw_ki64(w, (c->flags & OB_MIN_EXCL) ? "exclusiveMinimum" : "minimum", c->min);
        if (c->flags & OB_HAS_MAX) ob_jw_ki64(w, "maximum", c->max);
        break;
    case OB_F_DECIMAL:
        decimal_kw(o, c, m);
        break;
    case OB_F_REAL:
        ob_jw_kstr(w, "format", "double");
        if (m == MODE_PARAM) break;
        if (c->flags & OB_HAS_MIN) ob_jw_ki64(w, (c->flags & OB_MIN_EXCL) ? "exclusiveMinimum" : "minimum", c->min);
        if (c->flags & OB_HAS_MAX) ob_jw_ki64(w, "maximum", c->max);
        break;
    case OB_F_TIMESTAMP:
        ob_jw_kstr(w, "format", "date-time");
        break;
    case OB_F_DATE:
        ob_jw_kstr(w, "format", "date");
        break;
    case OB_F_ENUM:
        if (c->enm->name) ob_jw_kstr(w, "title", c->enm->name);
        if (m != MODE_RECORD) {
            enum_pattern(o, c->enm);
            enum_examples(w, c->enm);
            break;
        }
        ob_jw_key(w, "enum");
        ob_jw_arr_open(w);
        for (int k = 0; k < c->enm->n; k++) ob_jw_str(w, c->enm->values[k]);
        if (nullable) ob_jw_null(w);
        ob_jw_arr_close(w);
        break;
    case OB_F_JSON: /* with an enum: an array of distinct values (validate.c) */
        if (!c->enm) break;
        ob_jw_kbool(w, "uniqueItems", true);
        ob_jw_key(w, "items");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", "string");
        if (c->enm->name) ob_jw_kstr(w, "title", c->enm->name);
        if (m == MODE_RECORD) {
            ob_jw_key(w, "enum");
            ob_jw_arr_open(w);
            for (int k = 0; k < c->enm->n; k++) ob_jw_str(w, c->enm->values[k]);
            ob_jw_arr_close(w);
        } else {
            enum_pattern(o, c->enm);
            enum_examples(w, c->enm);
        }
        ob_jw_obj_close(w);
        break;
    case OB_F_REF:
        ob_jw_kstr(w, "format", "uuid");
        if (c->ref) ob_jw_kstr(w, "x-references", c->ref);
        break;
    case OB_F_ID:
        ob_jw_kstr(w, "format", "uuid");
        break;
    default:
        break;
    }
    if (m == MODE_RECORD && (c->flags & OB_SERVER)) ob_jw_kbool(w, "readOnly", true);
    if (m == MODE_CREATE && c->dflt) default_kw(w, c);
    col_description(o, c, m);
    ob_jw_obj_close(w);
}

/* ---- component schemas ------------------------------------------------- */

/* Whether a column is a property of the record (as rowjson.c writes it:
 * every non-secret column) or of a create or update body. */
static bool in_schema(const ob_column *c, col_mode m)
{
    return m == MODE_RECORD ? visible(c) : writable(c, m);
}

/* The record lists every property as required: the server always writes
 * each one (null when unset). A create body requires what validation does. */
static bool in_required(const ob_column *c, col_mode m)
{
    return m == MODE_RECORD ? visible(c) : m == MODE_CREATE && writable(c, m) && required_on_create(c);
}

/* "<t>", "<t>_create" or "<t>_update". Bodies refuse any other field
 * (unknown_field, readonly_field), hence additionalProperties false; an
 * update body has no required list. */
static void table_schema(oa *o, const ob_table *t, col_mode m)
{
    static const char *const suffix[] = {[MODE_RECORD] = "", [MODE_CREATE] = "_create", [MODE_UPDATE] = "_update"};
    static const char *const desc[] = {[MODE_CREATE] = "fields a client may give on create",
                                       [MODE_UPDATE] = "fields a client may change; all optional"};
    ob_jsonw *w = &o->w;
    char name[160];
    snprintf(name, sizeof name, "%s%s", t->name, suffix[m]);
    object_open(w, name, m == MODE_RECORD ? t->res->doc : desc[m]);
    for (int i = 0; i < t->ncols; i++) {
        if (!in_schema(t->cols[i], m)) continue;
        ob_jw_key(w, t->cols[i]->name);
        col_schema(o, t->cols[i], m);
    }
    ob_jw_obj_close(w);
    if (m != MODE_UPDATE) {
        ob_jw_key(w, "required");
        ob_jw_arr_open(w);
        for (int i = 0; i < t->ncols; i++)
            if (in_required(t->cols[i], m)) ob_jw_str(w, t->cols[i]->name);
        ob_jw_arr_close(w);
    }
    if (m != MODE_RECORD) ob_jw_kbool(w, "additionalProperties", false);
    ob_jw_obj_close(w);
}

/* "<t>_list": {"data": [record], "next_cursor": string|null} */
static void list_schema(oa *o, const ob_table *t)
{
    ob_jsonw *w = &o->w;
    char name[160];
    snprintf(name, sizeof name, "%s_list", t->name);
    object_open(w, name, NULL);
    ob_jw_key(w, "data");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "array");
    kref_obj(w, "items", SCHEMAS, t->name);
    ob_jw_obj_close(w);
    ob_jw_key(w, "next_cursor");
    ob_jw_obj_open(w);
    type_kw(w, "string", true);
    ob_jw_kstr(w, "description", "pass as cursor= with the same filters and sort for the next page; null on the last");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "data", "next_cursor", NULL);
    ob_jw_obj_close(w);
}

/* The error body resp.c writes; code lists every wire code but "ok", which
 * resp.c never sends. */
static void error_schema(ob_jsonw *w)
{
    object_open(w, "error", "every error; status and code come from one table");
    object_open(w, "error", NULL);
    ob_jw_key(w, "code");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "string");
    ob_jw_key(w, "enum");
    ob_jw_arr_open(w);
    for (int c = OB_E_OK + 1; c < OB_E__COUNT; c++) ob_jw_str(w, ob_err_code_str((ob_errcode)c));
    ob_jw_arr_close(w);
    ob_jw_obj_close(w);
    kprop(w, "message", "string", NULL, NULL);
    kprop(w, "field", "string", NULL, "the field the error is about, when there is one");
    kprop(w, "constraint", "string", NULL, "the violated constraint, on some 4xx");
    ob_jw_key(w, "fields");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "object");
    ob_jw_kstr(w, "description", "each failed field and its problem");
    kprop(w, "additionalProperties", "string", NULL, NULL);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "code", "message", NULL);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "error", NULL);
    ob_jw_obj_close(w);
}

static void deleted_schema(ob_jsonw *w)
{
    object_open(w, "deleted", "the answer to DELETE");
    kprop(w, "id", "string", "uuid", NULL);
    ob_jw_key(w, "deleted");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "boolean");
    ob_jw_kbool(w, "const", true);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "id", "deleted", NULL);
    ob_jw_obj_close(w);
}

/* "user": the users record when that table is served, else any object. */
static void kuser(ob_jsonw *w)
{
    const ob_table *u = ob_registry_find(OB_TABLE_USERS);
    if (u && has_api(u))
        kref_obj(w, "user", SCHEMAS, "users");
    else
        kprop(w, "user", "object", NULL, NULL);
}

/* A login body field: a non-empty string of at most max characters. */
static void login_field(ob_jsonw *w, const char *name, int64_t max, const char *format, const char *desc)
{
    ob_jw_key(w, name);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "string");
    ob_jw_ki64(w, "minLength", 1);
    ob_jw_ki64(w, "maxLength", max);
    if (format) ob_jw_kstr(w, "format", format);
    if (desc) ob_jw_kstr(w, "description", desc);
    ob_jw_obj_close(w);
}

static void string_array(ob_jsonw *w, const char *key, const char *desc)
{
    ob_jw_key(w, key);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "array");
    kprop(w, "items", "string", NULL, NULL);
    ob_jw_kstr(w, "description", desc);
    ob_jw_obj_close(w);
}

/* The super admin: {id, email[, name]}. */
static void ksuper_admin(ob_jsonw *w)
{
    object_open(w, "super_admin", NULL);
    kprop(w, "id", "string", "uuid", NULL);
    kprop(w, "email", "string", "email", NULL);
    kprop(w, "name", "string", NULL, "in GET /platform/auth/me");
    ob_jw_obj_close(w);
    kstrs(w, "required", "id", "email", NULL);
    ob_jw_obj_close(w);
}

/* Bodies of the platform sign-in (platform.c). */
static void platform_schemas(ob_jsonw *w)
{
    object_open(w, "platform_login", NULL);
    login_field(w, "email", 255, "email", NULL);
    login_field(w, "password", 256, "password", NULL);
    ob_jw_obj_close(w);
    kstrs(w, "required", "email", "password", NULL);
    ob_jw_kbool(w, "additionalProperties", false);
    ob_jw_obj_close(w);

    object_open(w, "platform_verify", NULL);
    login_field(w, "challenge", 100, NULL, "the challenge POST /platform/auth/login answered");
    login_field(w, "code", 10, NULL, "the 6-digit TOTP code; each code is accepted once");
    ob_jw_obj_close(w);
    kstrs(w, "required", "challenge", "code", NULL);
    ob_jw_kbool(w, "additionalProperties", false);
    ob_jw_obj_close(w);

    object_open(w, "platform_challenge", NULL);
    kprop(w, "mfa_required", "boolean", NULL, "always true: super admins sign in with a second factor");
    kprop(w, "challenge", "string", NULL, "for POST /platform/auth/mfa/verify, within 5 minutes; 5 wrong codes end it");
    kprop(w, "expires_at", "string", "date-time", NULL);
    kprop(w, "mfa_enrolment", "boolean", NULL, "true the first time: secret and otpauth_uri follow, shown once");
    kprop(w, "secret", "string", NULL, "the TOTP secret (base32); the first code confirms it");
    kprop(w, "otpauth_uri", "string", NULL, "the secret as an otpauth:// URI for an authenticator app");
    ob_jw_obj_close(w);
    kstrs(w, "required", "mfa_required", "challenge", "expires_at", "mfa_enrolment", NULL);
    ob_jw_obj_close(w);

    object_open(w, "platform_session", NULL);
    kprop(w, "token", "string", NULL, "obp_...: shown once; send as Authorization: Bearer <token> to /platform routes");
    kprop(w, "token_type", "string", NULL, "Bearer");
    kprop(w, "expires_at", "string", "date-time", NULL);
    ksuper_admin(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "token", "token_type", "expires_at", "super_admin", NULL);
    ob_jw_obj_close(w);

    object_open(w, "platform_me", NULL);
    ksuper_admin(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "super_admin", NULL);
    ob_jw_obj_close(w);
}

/* Bodies of the auth routes (auth_routes.c) and of the probes. */
static void auth_schemas(ob_jsonw *w)
{
    object_open(w, "auth_login", NULL);
    login_field(w, "tenant", 100, NULL, "the tenant's slug");
    login_field(w, "email", 255, "email", NULL);
    login_field(w, "password", 256, "password", NULL);
    ob_jw_obj_close(w);
    kstrs(w, "required", "tenant", "email", "password", NULL);
    ob_jw_kbool(w, "additionalProperties", false);
    ob_jw_obj_close(w);

    object_open(w, "auth_session", NULL);
    kprop(w, "token", "string", NULL, "shown once; send as Authorization: Bearer <token>");
    ob_jw_key(w, "token_type");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "string");
    ob_jw_kstr(w, "const", "Bearer");
    ob_jw_obj_close(w);
    kprop(w, "expires_at", "string", "date-time", "when the bearer token stops working");
    kprop(w, "refresh_token", "string", NULL, "shown once; POST /api/v1/auth/refresh exchanges it for the next pair");
    kprop(w, "session_expires_at", "string", "date-time", "the end of the sign-in and of its refresh tokens");
    kuser(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "token", "token_type", "expires_at", "refresh_token", "session_expires_at", "user", NULL);
    ob_jw_obj_close(w);

    object_open(w, "auth_refresh", NULL);
    login_field(w, "refresh_token", 200, "password", "the refresh token of the last sign-in or refresh");
    ob_jw_obj_close(w);
    kstrs(w, "required", "refresh_token", NULL);
    ob_jw_kbool(w, "additionalProperties", false);
    ob_jw_obj_close(w);

    object_open(w, "auth_mfa_password", NULL);
    login_field(w, "password", 256, "password", "the signed-in user's password, again");
    ob_jw_obj_close(w);
    kstrs(w, "required", "password", NULL);
    ob_jw_kbool(w, "additionalProperties", false);
    ob_jw_obj_close(w);

    object_open(w, "auth_mfa_code", NULL);
    login_field(w, "code", 10, NULL, "6 digits from the authenticator");
    ob_jw_obj_close(w);
    kstrs(w, "required", "code", NULL);
    ob_jw_kbool(w, "additionalProperties", false);
    ob_jw_obj_close(w);

    object_open(w, "auth_mfa_verify", NULL);
    login_field(w, "challenge", 200, NULL, "from the sign-in's answer");
    login_field(w, "code", 10, NULL, "6 digits from the authenticator; or");
    login_field(w, "recovery_code", 40, NULL, "one of the recovery codes, each good once");
    ob_jw_obj_close(w);
    kstrs(w, "required", "challenge", NULL);
    ob_jw_kbool(w, "additionalProperties", false);
    ob_jw_obj_close(w);

    object_open(w, "auth_mfa_secret", NULL);
    kprop(w, "secret", "string", NULL, "base32");
    kprop(w, "otpauth_uri", "string", NULL, NULL);
    ob_jw_obj_close(w);
    kstrs(w, "required", "secret", "otpauth_uri", NULL);
    ob_jw_obj_close(w);

    object_open(w, "auth_mfa_state", NULL);
    kprop(w, "mfa_enabled", "boolean", NULL, NULL);
    string_array(w, "recovery_codes", "on confirm only");
    ob_jw_obj_close(w);
    kstrs(w, "required", "mfa_enabled", NULL);
    ob_jw_obj_close(w);

    object_open(w, "auth_tokens", NULL);
    kprop(w, "token", "string", NULL, "shown once; send as Authorization: Bearer <token>");
    kprop(w, "token_type", "string", NULL, "Bearer");
    kprop(w, "expires_at", "string", "date-time", "when the bearer token stops working");
    kprop(w, "refresh_token", "string", NULL, "shown once; the next refresh");
    kprop(w, "session_expires_at", "string", "date-time", NULL);
    ob_jw_obj_close(w);
    kstrs(w, "required", "token", "token_type", "expires_at", "refresh_token", "session_expires_at", NULL);
    ob_jw_obj_close(w);

    object_open(w, "auth_me", NULL);
    kuser(w);
    object_open(w, "tenant", NULL);
    kprop(w, "id", "string", "uuid", NULL);
    kprop(w, "slug", "string", NULL, NULL);
    kprop(w, "name", "string", NULL, NULL);
    ob_jw_key(w, "plan");
    ob_jw_obj_open(w);
    type_kw(w, "string", true);
    ob_jw_kstr(w, "description", "the plan's code");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    string_array(w, "roles", "role codes");
    string_array(w, "permissions", "effective permission codes");
    ob_jw_obj_close(w);
    kstrs(w, "required", "user", "tenant", "roles", "permissions", NULL);
    ob_jw_obj_close(w);

    platform_schemas(w);

    ob_jw_key(w, "openapi");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "object");
    ob_jw_kstr(w, "description", "an OpenAPI 3.1 document");
    kstrs(w, "required", "openapi", "info", "paths", NULL);
    ob_jw_obj_close(w);

    object_open(w, "report", "GET /api/v1/reports/inventory");
    kprop(w, "report", "string", NULL, "inventory");
    kprop(w, "from", "string", "date", NULL);
    kprop(w, "to", "string", "date", NULL);
    ob_jw_key(w, "warehouse_id");
    ob_jw_obj_open(w);
    type_kw(w, "string", true);
    ob_jw_obj_close(w);
    ob_jw_key(w, "days");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "array");
    ob_jw_key(w, "items");
    object_open(w, NULL, NULL);
    kprop(w, "date", "string", "date", NULL);
    kprop(w, "units_sold", "integer", NULL, "units out by sale entries that day");
    kprop(w, "units_received", "integer", NULL, "units in by purchase and transfer_in entries");
    kprop(w, "stock_outs", "integer", NULL, "inventory rows with nothing available when the day was rolled up");
    kprop(w, "inventory_value", "string", NULL, "on hand x cost price, 2 places");
    kprop(w, "turnover", "string", NULL, "units sold / units on hand, 4 places");
    ob_jw_obj_close(w);
    kstrs(w, "required", "date", "units_sold", "units_received", "stock_outs", "inventory_value", "turnover", NULL);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "report", "from", "to", "warehouse_id", "days", NULL);
    ob_jw_obj_close(w);

    /* GET /api/v1/reports/pnl: one figures object per group and the totals */
    object_open(w, "report_pnl", "GET /api/v1/reports/pnl");
    kprop(w, "report", "string", NULL, "pnl");
    kprop(w, "from", "string", "date", NULL);
    kprop(w, "to", "string", "date", NULL);
    kprop(w, "group", "string", NULL, "day, month or channel");
    ob_jw_key(w, "rows");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "array");
    ob_jw_key(w, "items");
    object_open(w, NULL, NULL);
    kprop(w, "key", "string", NULL,
          "the day (YYYY-MM-DD), month (YYYY-MM), or channel id (unassigned: expenses without one)");
    pnl_figures(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "key", "orders", "gross_revenue", "net_revenue", "profit", NULL);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_key(w, "totals");
    object_open(w, NULL, NULL);
    pnl_figures(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "orders", "gross_revenue", "net_revenue", "profit", NULL);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "report", "from", "to", "group", "rows", "totals", NULL);
    ob_jw_obj_close(w);

    /* GET /api/v1/reports/support and GET /api/v1/tickets/{id}/suggestions */
    object_open(w, "report_support", "GET /api/v1/reports/support");
    kprop(w, "report", "string", NULL, "support");
    kprop(w, "from", "string", "date", NULL);
    kprop(w, "to", "string", "date", NULL);
    kprop(w, "group", "string", NULL, "category or agent");
    ob_jw_key(w, "rows");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "array");
    ob_jw_key(w, "items");
    object_open(w, NULL, NULL);
    kprop(w, "key", "string", NULL, "the category's or agent's id; none: tickets without one");
    ob_jw_key(w, "name");
    ob_jw_obj_open(w);
    type_kw(w, "string", true);
    ob_jw_kstr(w, "description", "the category's name or the agent's e-mail");
    ob_jw_obj_close(w);
    support_figures(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "key", "name", "tickets", NULL);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_key(w, "totals");
    object_open(w, NULL, NULL);
    support_figures(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "tickets", NULL);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "report", "from", "to", "group", "rows", "totals", NULL);
    ob_jw_obj_close(w);

    object_open(w, "report_ndr", "GET /api/v1/reports/ndr");
    kprop(w, "report", "string", NULL, "ndr");
    kprop(w, "from", "string", "date", NULL);
    kprop(w, "to", "string", "date", NULL);
    kprop(w, "as_of", "string", "date-time", "the time the ages are counted to");
    ob_jw_key(w, "open_cases");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "object");
    ob_jw_kstr(w, "description",
               "cases reported in the period still open, in_progress or reattempt_scheduled: by_reason "
               "[{reason_code, cases}], by_age_days [{age_days: 0-1, 2-3, 4-7 or 8+, cases}], total");
    ob_jw_obj_close(w);
    ob_jw_key(w, "delivery");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "object");
    ob_jw_kstr(w, "description",
               "courier shipments delivered in the period: delivered, first_attempt (never an NDR case), "
               "first_attempt_rate_pct (a decimal string, null when none)");
    ob_jw_obj_close(w);
    ob_jw_key(w, "rto_by_courier");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "array");
    ob_jw_kstr(w, "description",
               "per courier configuration: courier_config_id, name, ended (delivered or returned in the "
               "period), rto, rto_rate_pct");
    ob_jw_key(w, "items");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "object");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w); /* properties */
    kstrs(w, "required", "report", "from", "to", "as_of", "open_cases", "delivery", "rto_by_courier", NULL);
    ob_jw_obj_close(w);

    object_open(w, "ticket_suggestions", "GET /api/v1/tickets/{id}/suggestions");
    kprop(w, "ticket_id", "string", NULL, NULL);
    ob_jw_key(w, "terms");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "array");
    ob_jw_kstr(w, "description", "the ticket's words the documents were ranked by");
    ob_jw_key(w, "items");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "string");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_key(w, "documents");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "array");
    ob_jw_key(w, "items");
    object_open(w, NULL, NULL);
    kprop(w, "id", "string", NULL, "a documents row");
    kprop(w, "title", "string", NULL, NULL);
    kprop(w, "is_public", "boolean", NULL, NULL);
    kprop(w, "score", "integer", NULL, "2 per word in the title, 1 per word in the content");
    ob_jw_obj_close(w);
    kstrs(w, "required", "id", "title", "is_public", "score", NULL);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "ticket_id", "terms", "documents", NULL);
    ob_jw_obj_close(w);

    object_open(w, "audit_verify", "GET /api/v1/audit_logs/verify");
    kprop(w, "holds", "boolean", NULL, "false when a row breaks the chain");
    kprop(w, "rows", "integer", NULL, "chained rows checked");
    kprop(w, "first_seq", "integer", NULL, "the first chained row present (earlier ones may be archived)");
    kprop(w, "unchained", "integer", NULL, "rows older than the chain");
    ob_jw_key(w, "broken");
    ob_jw_obj_open(w);
    type_kw(w, "object", true);
    ob_jw_kstr(w, "description", "the first row that breaks the chain: seq, id and why; null when it holds");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "holds", "rows", "first_seq", "unchained", "broken", NULL);
    ob_jw_obj_close(w);

    /* ONE Record: the cargo ontology's terms, under @vocab */
    object_open(w, "one_record_shipment", "GET /api/v1/one-record/logistics-objects/{id} (application/ld+json)");
    kprop(w, "@context", "object", NULL, "cargo and @vocab: https://onerecord.iata.org/ns/cargo#");
    kprop(w, "@id", "string", "uri", "this object's URL");
    kprop(w, "@type", "string", NULL, "cargo:Shipment");
    kprop(w, "waybill", "object", NULL,
          "cargo:Waybill: waybillType MASTER, waybillPrefix (3 digits), waybillNumber (8 digits), "
          "departureLocation and arrivalLocation (cargo:Location with locationCodes [{code}])");
    kprop(w, "totalPieceCount", "integer", NULL, "pieces");
    kprop(w, "totalGrossWeight", "object", NULL, "cargo:Value: numericalValue (exact, 3 places) and unit KGM");
    ob_jw_key(w, "events");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "array");
    ob_jw_kstr(w, "description",
               "cargo:LogisticsEvent objects, oldest first: @id, eventCode {code}, eventName, eventDate, "
               "eventTimeType, eventLocation");
    ob_jw_key(w, "items");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "object");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    kstrs(w, "required", "@context", "@id", "@type", "waybill", "events", NULL);
    ob_jw_obj_close(w);

    object_open(w, "one_record_event", "a ONE Record LogisticsEvent (JSON-LD, application/ld+json or application/json)");
    kprop(w, "@id", "string", NULL, "the event's IRI at its sender: stored as external_event_id (a repeat is 200)");
    kprop(w, "@type", "string", NULL, "cargo:LogisticsEvent when given");
    kprop(w, "eventCode", "object", NULL, "a Cargo-iQ code: \"DEP\" or {\"code\": \"DEP\"}");
    kprop(w, "eventDate", "string", "date-time", NULL);
    kprop(w, "eventLocation", "object", NULL, "a code, or a cargo:Location with locationCodes [{code}]");
    kprop(w, "eventName", "string", NULL, "stored as event_description");
    ob_jw_obj_close(w);
    kstrs(w, "required", "eventCode", NULL);
    ob_jw_obj_close(w);

    object_open(w, "view_data", "GET /api/v1/<table>/{id}/<view>: JSON the domain reads from the record");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);

    object_open(w, "status", "{\"status\": word} of the probes and logout");
    kprop(w, "status", "string", NULL, NULL);
    ob_jw_obj_close(w);
    kstrs(w, "required", "status", NULL);
    ob_jw_obj_close(w);
}

static void schemas(oa *o)
{
    ob_jsonw *w = &o->w;
    ob_jw_key(w, "schemas");
    ob_jw_obj_open(w);
    error_schema(w);
    deleted_schema(w);
    auth_schemas(w);
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (!has_api(t)) continue;
        table_schema(o, t, MODE_RECORD);
        /* an upload table's POST takes the file, not a JSON body */
        if (can_post(t) && !(t->res->flags & OB_RES_UPLOAD)) table_schema(o, t, MODE_CREATE);
        if (has_update_schema(t)) table_schema(o, t, MODE_UPDATE);
        list_schema(o, t);
    }
    ob_jw_obj_close(w);
}

/* ---- shared responses, parameters, headers ----------------------------- */

static bool status_listed(int status);

/* One response per HTTP status of the error table that some operation
 * lists, each naming its codes; the statuses no operation lists (limits of
 * the HTTP layer, rate limits, server errors) are described once, under the
 * "default" response every operation has, rather than left unused. */
static void error_responses(oa *o)
{
    ob_jsonw *w = &o->w;
    ob_sb others;
    ob_sb_init(&others, 256);
    ob_jw_key(w, "responses");
    ob_jw_obj_open(w);
    for (int c = OB_E_OK + 1; c < OB_E__COUNT; c++) {
        int status = ob_err_http_status((ob_errcode)c);
        if (!status_listed(status)) {
            ob_sb_addf(&others, "; %d %s", status, ob_err_code_str((ob_errcode)c));
            continue;
        }
        bool first = true;
        for (int p = OB_E_OK + 1; p < c; p++) first &= ob_err_http_status((ob_errcode)p) != status;
        if (!first) continue;
        ob_sb_reset(&o->tmp);
        for (int k = c; k < OB_E__COUNT; k++) {
            if (ob_err_http_status((ob_errcode)k) != status) continue;
            ob_sb_addf(&o->tmp, "%s%s: %s", o->tmp.len ? "; " : "", ob_err_code_str((ob_errcode)k),
                       ob_err_default_msg((ob_errcode)k));
        }
        char name[32];
        snprintf(name, sizeof name, "error_%d", status);
        ob_jw_key(w, name);
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "description", o->tmp.buf);
        if (status == 429) {
            ob_jw_key(w, "headers");
            ob_jw_obj_open(w);
            kref_obj(w, "Retry-After", HEADERS, "Retry-After");
            ob_jw_obj_close(w);
        }
        json_content_ref(w, "error");
        ob_jw_obj_close(w);
    }
    ob_jw_key(w, "error");
    ob_jw_obj_open(w);
    ob_sb_reset(&o->tmp);
    ob_sb_addf(&o->tmp, "any other error of the error table%s", others.buf ? others.buf : "");
    ob_jw_kstr(w, "description", o->tmp.buf);
    json_content_ref(w, "error");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_sb_release(&others);
}

/* name: {"name", "in", "description", "required", "schema": { ... left open */
static void param_open(ob_jsonw *w, const char *key, const char *name, const char *in, const char *desc,
                       const char *type)
{
    if (key) ob_jw_key(w, key);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "name", name);
    ob_jw_kstr(w, "in", in);
    if (desc) ob_jw_kstr(w, "description", desc);
    ob_jw_kbool(w, "required", !strcmp(in, "path"));
    ob_jw_key(w, "schema");
    ob_jw_obj_open(w);
    if (type) ob_jw_kstr(w, "type", type);
}

static void param_close(ob_jsonw *w)
{
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
}

static void shared_parameters(ob_jsonw *w)
{
    ob_jw_key(w, "parameters");
    ob_jw_obj_open(w);
    param_open(w, "id", "id", "path", "the record's id", "string");
    ob_jw_kstr(w, "format", "uuid");
    param_close(w);
    param_open(w, "if_match", "If-Match", "header",
               "the version from ETag (\"3\", W/\"3\" or 3; * for any): 412 version_mismatch when the record "
               "has changed since, 400 when it is not a version",
               "string");
    param_close(w);
    param_open(w, "idempotency_key", "Idempotency-Key", "header",
               "the same key with the same body replays the first response (header Idempotent-Replayed: true); "
               "with another body it is 409 idempotency_conflict",
               "string");
    ob_jw_ki64(w, "minLength", 1);
    ob_jw_ki64(w, "maxLength", 200);
    ob_jw_kstr(w, "pattern", "^[\\x21-\\x7e]+$");
    param_close(w);
    param_open(w, "limit", "limit", "query", "rows per page", "integer");
    ob_jw_ki64(w, "minimum", 1);
    ob_jw_ki64(w, "maximum", OB_LIST_MAX_LIMIT);
    ob_jw_ki64(w, "default", OB_LIST_DEFAULT_LIMIT);
    param_close(w);
    param_open(w, "cursor", "cursor", "query", "next_cursor of the previous page; only with the same filters and sort",
               "string");
    param_close(w);
    param_open(w, "q", "q", "query", "full-text search over the table's searchable fields", "string");
    ob_jw_ki64(w, "maxLength", Q_MAX_LEN);
    param_close(w);
    ob_jw_obj_close(w);
}

static void kheader(ob_jsonw *w, const char *name, const char *desc)
{
    ob_jw_key(w, name);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "description", desc);
    kprop(w, "schema", "string", NULL, NULL);
    ob_jw_obj_close(w);
}

static void components(oa *o)
{
    ob_jsonw *w = &o->w;
    ob_jw_key(w, "components");
    ob_jw_obj_open(w);
    schemas(o);
    error_responses(o);
    shared_parameters(w);
    ob_jw_key(w, "headers");
    ob_jw_obj_open(w);
    kheader(w, "ETag", "\"<version>\" of the record; send it back in If-Match");
    kheader(w, "Location", "path of the new record, /api/v1/<table>/<id>");
    kheader(w, "Idempotent-Replayed", "\"true\" when this replays the first response to the Idempotency-Key");
    kheader(w, "Retry-After", "seconds until the caller's budget of the route's rate class allows a request");
    ob_jw_obj_close(w);
    ob_jw_key(w, "securitySchemes");
    ob_jw_obj_open(w);
    ob_jw_key(w, "bearer");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "http");
    ob_jw_kstr(w, "scheme", "bearer");
    ob_jw_kstr(w, "description", "the token from POST /api/v1/auth/login");
    ob_jw_obj_close(w);
    ob_jw_key(w, "platform");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "http");
    ob_jw_kstr(w, "scheme", "bearer");
    ob_jw_kstr(w, "description", "a super admin's obp_ token from POST /api/v1/platform/auth/mfa/verify");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
}

/* ---- operations -------------------------------------------------------- */

/* Error statuses by operation kind (0 ends a list). Every request can be a
 * 400 (malformed request), 401 and 403; bodies add 413, 415 and 422. */
static const int errs_none[] = {0};
static const int errs_list[] = {400, 401, 403, 0};
static const int errs_report[] = {400, 401, 403, 404, 0};
static const int errs_get[] = {400, 401, 403, 404, 0};
static const int errs_create[] = {400, 401, 403, 409, 413, 415, 422, 0};
static const int errs_patch[] = {400, 401, 403, 404, 409, 412, 413, 415, 422, 0};
static const int errs_delete[] = {400, 401, 403, 404, 409, 412, 0};
static const int errs_delete_unversioned[] = {400, 401, 403, 404, 409, 0};
static const int errs_verb[] = {400, 401, 403, 404, 409, 413, 415, 422, 0};
static const int errs_login[] = {400, 401, 409, 413, 415, 0};
static const int errs_session[] = {401, 0};
static const int errs_mfa[] = {400, 401, 413, 415, 422, 0};
static const int errs_hook[] = {400, 401, 404, 0};
static const int errs_stream[] = {400, 401, 403, 0};
static const int errs_ready[] = {503, 0};
static const int errs_rate[] = {429, 0}; /* added to every rate-limited route's */
static const int errs_upload[] = {400, 401, 403, 409, 413, 415, 503, 0};
static const int errs_content[] = {400, 401, 403, 404, 416, 503, 0};
static const int errs_export[] = {400, 401, 403, 503, 0};
static const int errs_export_download[] = {400, 401, 404, 410, 422, 503, 0};
static const int errs_import[] = {400, 401, 403, 413, 415, 422, 0};

/* Whether any operation lists status, so that error_<status> is referenced. */
static bool status_listed(int status)
{
    static const int *const lists[] = {errs_list,  errs_get,  errs_create, errs_patch,   errs_delete, errs_hook,
                                       errs_delete_unversioned, errs_verb, errs_login, errs_session, errs_mfa,
                                       errs_ready, errs_rate,
                                       errs_upload, errs_content, errs_export, errs_export_download, errs_import};
    for (size_t i = 0; i < OB_ARRAY_LEN(lists); i++)
        for (int k = 0; lists[i][k]; k++)
            if (lists[i][k] == status) return true;
    return false;
}

/* Response headers of a success response. */
enum { H_ETAG = 1, H_LOCATION = 2, H_REPLAYED = 4 };

/* A request body of any JSON object (actions read their own). */
#define BODY_ANY_OBJECT ""

/* Open the operation of route row r: {operationId, tags, summary, security,
 * and what the gate checks: x-permission, x-feature, x-rate-class}; the
 * caller adds parameters and a description, then calls op_end(). */
static void op_begin(ob_jsonw *w, const ob_route_row *r, const char *tag, const char *summary)
{
    char method[8];
    size_t i = 0;
    for (; r->method[i] && i < sizeof method - 1; i++) method[i] = (char)(r->method[i] | 0x20);
    method[i] = 0;
    ob_jw_key(w, method);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "operationId", r->op_id);
    kstrs(w, "tags", tag, NULL);
    ob_jw_kstr(w, "summary", summary);
    ob_jw_key(w, "security");
    ob_jw_arr_open(w);
    if (r->auth != OB_AUTH_NONE) {
        ob_jw_obj_open(w);
        ob_jw_key(w, r->auth == OB_AUTH_PLATFORM ? "platform" : "bearer");
        ob_jw_arr_open(w);
        ob_jw_arr_close(w);
        ob_jw_obj_close(w);
    }
    ob_jw_arr_close(w);
    if (r->perm) ob_jw_kstr(w, "x-permission", r->perm);
    if (r->feature) ob_jw_kstr(w, "x-feature", r->feature);
    if (r->rate != OB_RATE_NONE) ob_jw_kstr(w, "x-rate-class", ob_rate_class_name(r->rate));
}

/* "parameters": [$ref of each named shared parameter] (NULL-terminated). */
static void shared_params(ob_jsonw *w, ...)
{
    va_list ap;
    va_start(ap, w);
    ob_jw_key(w, "parameters");
    ob_jw_arr_open(w);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *)) ref_obj(w, PARAMS, p);
    ob_jw_arr_close(w);
    va_end(ap);
}

static void request_body(ob_jsonw *w, const char *schema, bool required, const char *desc)
{
    ob_jw_key(w, "requestBody");
    ob_jw_obj_open(w);
    ob_jw_kbool(w, "required", required);
    if (desc) ob_jw_kstr(w, "description", desc);
    if (strcmp(schema, BODY_ANY_OBJECT) != 0) {
        json_content_ref(w, schema);
    } else {
        ob_jw_key(w, "content");
        ob_jw_obj_open(w);
        ob_jw_key(w, "application/json");
        ob_jw_obj_open(w);
        kprop(w, "schema", "object", NULL, NULL);
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
    }
    ob_jw_obj_close(w);
}

/* The responses (success with its headers and schema, then each error
 * status and the default), and the end of the operation. */
static void op_end(ob_jsonw *w, const ob_route_row *r, const char *status, const char *desc, const char *schema,
                   unsigned headers, const int *errs)
{
    ob_jw_key(w, "responses");
    ob_jw_obj_open(w);
    ob_jw_key(w, status);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "description", desc);
    if (headers) {
        ob_jw_key(w, "headers");
        ob_jw_obj_open(w);
        if (headers & H_ETAG) kref_obj(w, "ETag", HEADERS, "ETag");
        if (headers & H_LOCATION) kref_obj(w, "Location", HEADERS, "Location");
        if (headers & H_REPLAYED) kref_obj(w, "Idempotent-Replayed", HEADERS, "Idempotent-Replayed");
        ob_jw_obj_close(w);
    }
    /* ONE Record objects are JSON-LD */
    content_ref(w, r->kind == OB_RK_ONE_RECORD_GET ? "application/ld+json" : "application/json", schema);
    ob_jw_obj_close(w);
    for (int i = 0; errs[i]; i++) {
        char code[16], name[32];
        snprintf(code, sizeof code, "%d", errs[i]);
        snprintf(name, sizeof name, "error_%d", errs[i]);
        kref_obj(w, code, RESPONSES, name);
    }
    /* the gate's rate step answers any limited route */
    if (r->rate != OB_RATE_NONE) kref_obj(w, "429", RESPONSES, "error_429");
    kref_obj(w, "default", RESPONSES, "error");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
}

/* A list filter: `col=v` for equality and `col.OP=v` for the others, which
 * OpenAPI cannot name one by one; x-operators lists them. */
static void filter_param(oa *o, const ob_column *c)
{
    ob_jsonw *w = &o->w;
    static const char *const ops[] = {"eq", "ne", "gt", "gte", "lt", "lte", "like", "in", "null"};
    bool text = c->type == OB_F_TEXT;
    ob_sb_reset(&o->tmp);
    ob_sb_addf(&o->tmp, "filter: %s=v is equality; %s.OP=v with OP one of x-operators", c->name, c->name);
    ob_sb_adds(&o->tmp, text ? " (like: * as wildcard, any case; in: a comma list; null: true or false)"
                             : " (in: a comma list; null: true or false)");
    if (c->flags & OB_MASKED) ob_sb_adds(&o->tmp, "; refused for roles that see this field masked");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "name", c->name);
    ob_jw_kstr(w, "in", "query");
    ob_jw_kstr(w, "description", o->tmp.buf);
    ob_jw_kbool(w, "required", false);
    ob_jw_key(w, "x-operators");
    ob_jw_arr_open(w);
    for (size_t i = 0; i < OB_ARRAY_LEN(ops); i++)
        if (text || strcmp(ops[i], "like") != 0) ob_jw_str(w, ops[i]);
    ob_jw_arr_close(w);
    ob_jw_key(w, "schema");
    col_schema(o, c, MODE_PARAM);
    ob_jw_obj_close(w);
}

/* sort=: a comma list of sortable fields, '-' for descending, at most
 * OB_LIST_MAX_SORT; the pattern names exactly the fields listq.c takes. */
static void sort_param(oa *o, const ob_table *t)
{
    ob_jsonw *w = &o->w;
    ob_sb alt;
    ob_sb_init(&alt, 128);
    for (int i = 0; i < t->ncols; i++)
        if (sortable(t->cols[i])) ob_sb_addf(&alt, "%s%s", alt.len ? "|" : "", t->cols[i]->name);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "name", "sort");
    ob_jw_kstr(w, "in", "query");
    ob_jw_kstr(w, "description", "comma list of sortable fields, - for descending; id always breaks ties");
    ob_jw_kbool(w, "required", false);
    ob_jw_key(w, "schema");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "string");
    ob_sb_reset(&o->tmp);
    ob_sb_addf(&o->tmp, "^-?(%s)(,-?(%s)){0,%d}$", alt.buf, alt.buf, OB_LIST_MAX_SORT - 1);
    ob_jw_kstr(w, "pattern", o->tmp.buf);
    ob_jw_kstr(w, "default", t->res->default_sort ? t->res->default_sort : "id");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_sb_release(&alt);
}

/* "description" of a generic operation: what it does to which table. */
static void op_desc(oa *o, const char *what, const ob_table *t)
{
    ob_sb_reset(&o->tmp);
    ob_sb_addf(&o->tmp, "%s %s (%s)", what, t->name, t->res->doc ? t->res->doc : t->name);
    ob_jw_kstr(&o->w, "description", o->tmp.buf);
}

static void list_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    const ob_table *t = r->t;
    char schema[200];
    op_begin(w, r, t->name, "list records");
    op_desc(o, "a page of the records, filtered and sorted, of", t);
    ob_jw_key(w, "parameters");
    ob_jw_arr_open(w);
    ref_obj(w, PARAMS, "limit");
    ref_obj(w, PARAMS, "cursor");
    sort_param(o, t);
    if (t->nsearch > 0) ref_obj(w, PARAMS, "q");
    for (int i = 0; i < t->ncols; i++)
        if (filterable(t->cols[i])) filter_param(o, t->cols[i]);
    ob_jw_arr_close(w);
    snprintf(schema, sizeof schema, "%s_list", t->name);
    op_end(w, r, "200", "a page of records", schema, 0, errs_list);
}

static void create_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    const ob_table *t = r->t;
    char schema[200];
    op_begin(w, r, t->name, "create a record");
    op_desc(o, "creates a record in", t);
    shared_params(w, "idempotency_key", NULL);
    snprintf(schema, sizeof schema, "%s_create", t->name);
    request_body(w, schema, true, NULL);
    op_end(w, r, "201", "the created record", t->name, (versioned(t) ? H_ETAG : 0) | H_LOCATION | H_REPLAYED,
           errs_create);
}

static void get_op(oa *o, const ob_route_row *r)
{
    op_begin(&o->w, r, r->t->name, "get a record");
    op_desc(o, "one record of", r->t);
    op_end(&o->w, r, "200", "the record", r->t->name, versioned(r->t) ? H_ETAG : 0, errs_get);
}

/* A view (ob_resource.views): JSON the domain reads from one record. */
static void view_op(oa *o, const ob_route_row *r)
{
    const ob_view *v = NULL;
    for (int i = 0; i < r->t->res->nviews && !v; i++)
        if (!strcmp(r->t->res->views[i].name, r->verb)) v = &r->t->res->views[i];
    op_begin(&o->w, r, r->t->name, v && v->doc ? v->doc : "a figure read from a record");
    ob_jw_kstr(&o->w, "description",
               "read from the record as a GET of it is: the table's view permission, 404 for a record the caller "
               "may not see");
    op_end(&o->w, r, "200", v && v->doc ? v->doc : "the figure", "view_data", 0, errs_get);
}

static void update_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    const ob_table *t = r->t;
    char schema[200];
    op_begin(w, r, t->name, "change fields of a record");
    op_desc(o, "changes the given fields of a record of", t);
    shared_params(w, "if_match", NULL);
    snprintf(schema, sizeof schema, "%s_update", t->name);
    request_body(w, schema, true, NULL);
    op_end(w, r, "200", "the changed record", t->name, versioned(t) ? H_ETAG : 0, errs_patch);
}

static void delete_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    const ob_table *t = r->t;
    op_begin(w, r, t->name, "delete a record");
    if (r->verb) {
        ob_sb_reset(&o->tmp);
        ob_sb_addf(&o->tmp, "the record stays: runs its %s action", r->verb);
        ob_jw_kstr(w, "description", o->tmp.buf);
    } else {
        ob_jw_kstr(w, "description", t->deleted_col >= 0 ? "soft delete: sets deleted_at"
                                                         : "removes the record; 409 in_use while others refer to it");
    }
    /* unversioned tables read If-Match but can never fail it */
    if (versioned(t)) shared_params(w, "if_match", NULL);
    op_end(w, r, "200", "the record is deleted", "deleted", 0, versioned(t) ? errs_delete : errs_delete_unversioned);
}

/* A property {"type": type, "format": format} of an open object. */
static void typed_prop(ob_jsonw *w, const char *name, const char *type, const char *format, const char *desc)
{
    ob_jw_key(w, name);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", type);
    if (format) ob_jw_kstr(w, "format", format);
    if (desc) ob_jw_kstr(w, "description", desc);
    ob_jw_obj_close(w);
}

/* POST of an upload table: the content as a multipart part or a raw body. */
static void upload_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    const ob_table *t = r->t;
    op_begin(w, r, t->name, "upload a file");
    ob_jw_kstr(w, "description",
               "streams the content to disk with its SHA-256; the type is read from the bytes and must be on the "
               "allow list (415), the size within the tenant's security_settings.max_upload_bytes (413). A raw "
               "body names the file with Content-Disposition and takes purpose and customer_id from the query");
    shared_params(w, "idempotency_key", NULL);
    ob_jw_key(w, "requestBody");
    ob_jw_obj_open(w);
    ob_jw_kbool(w, "required", true);
    ob_jw_key(w, "content");
    ob_jw_obj_open(w);
    ob_jw_key(w, "multipart/form-data");
    ob_jw_obj_open(w);
    ob_jw_key(w, "schema");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "object");
    ob_jw_key(w, "required");
    ob_jw_arr_open(w);
    ob_jw_str(w, "file");
    ob_jw_arr_close(w);
    ob_jw_key(w, "properties");
    ob_jw_obj_open(w);
    typed_prop(w, "file", "string", "binary", "the content, with its filename");
    typed_prop(w, "purpose", "string", NULL, "what the file is for");
    typed_prop(w, "customer_id", "string", "uuid", "the customer it belongs to (staff only)");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_key(w, "application/octet-stream");
    ob_jw_obj_open(w);
    ob_jw_key(w, "schema");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "string");
    ob_jw_kstr(w, "format", "binary");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    op_end(w, r, "201", "the files row", t->name, H_LOCATION | H_REPLAYED, errs_upload);
}

/* GET .../{id}/content: the bytes, not JSON. */
static void content_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    op_begin(w, r, r->t->name, r->verb ? "download a file made from the content" : "download the content");
    ob_jw_kstr(w, "description",
               "the stored bytes as an attachment, visible exactly when the record is (404 otherwise); ETag is the "
               "SHA-256 (If-None-Match gives 304), Range bytes=a-b gives 206 with Content-Range, a range past the "
               "end 416");
    ob_jw_key(w, "responses");
    ob_jw_obj_open(w);
    static const char *const ok[][2] = {{"200", "the whole content"}, {"206", "the requested range"}};
    for (size_t i = 0; i < OB_ARRAY_LEN(ok); i++) {
        ob_jw_key(w, ok[i][0]);
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "description", ok[i][1]);
        ob_jw_key(w, "headers");
        ob_jw_obj_open(w);
        kref_obj(w, "ETag", HEADERS, "ETag");
        ob_jw_obj_close(w);
        ob_jw_key(w, "content");
        ob_jw_obj_open(w);
        ob_jw_key(w, "application/octet-stream");
        ob_jw_obj_open(w);
        ob_jw_key(w, "schema");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", "string");
        ob_jw_kstr(w, "format", "binary");
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
    }
    ob_jw_key(w, "304");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "description", "If-None-Match names the current ETag");
    ob_jw_obj_close(w);
    for (int i = 0; errs_content[i]; i++) {
        char code[16], name[32];
        snprintf(code, sizeof code, "%d", errs_content[i]);
        snprintf(name, sizeof name, "error_%d", errs_content[i]);
        kref_obj(w, code, RESPONSES, name);
    }
    if (r->rate != OB_RATE_NONE) kref_obj(w, "429", RESPONSES, "error_429");
    kref_obj(w, "default", RESPONSES, "error");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
}

/* GET .../export: every row the list would give, as a CSV or JSON file. */
static void export_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    const ob_table *t = r->t;
    op_begin(w, r, t->name, "export the records");
    ob_jw_kstr(w, "description",
               "every row the list with the same filters, sort and q gives, as the caller sees them (masked, hidden "
               "and secret fields left out), streamed from a file; needs the table's view permission too. 403 when "
               "the tenant's security_settings disable exports, when more than max_export_rows match (a "
               "security_violations row is written), after max_exports_per_day (or the largest "
               "custom_export_limit of the caller's roles; the error's fields give limit and used) and when the "
               "table's export kind is not in a non-empty allowed_exports of every role the caller holds (kinds: "
               "docs/api.md); with require_watermark the user, tenant and time head a CSV (a first one-cell row) "
               "and an XLSX (its page header); each export writes export_logs. More rows than "
               "require_approval_threshold: 202 with the pending export_logs row, download_token and download_url "
               "(shown this once); after approve, the job exports.produce writes the file for that one download");
    ob_jw_key(w, "parameters");
    ob_jw_arr_open(w);
    static const char *const params[][2] = {{"format", "csv (RFC 4180; cells a spreadsheet would run as formulas "
                                                        "start with a quote), xlsx (one sheet: numbers and "
                                                        "decimals as numbers at their scale, text as string "
                                                        "cells, never formulas), pdf (a table for people: "
                                                        "title, filters, generated time, watermark line and "
                                                        "page numbers on every page; printable ASCII, other "
                                                        "characters shown as ?) or json; default csv"},
                                            {"columns", "comma list of fields; default every visible field"}};
    for (size_t i = 0; i < OB_ARRAY_LEN(params); i++) {
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "name", params[i][0]);
        ob_jw_kstr(w, "in", "query");
        ob_jw_kbool(w, "required", false);
        ob_jw_kstr(w, "description", params[i][1]);
        ob_jw_key(w, "schema");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", "string");
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
    }
    ob_jw_arr_close(w);
    ob_jw_key(w, "responses");
    ob_jw_obj_open(w);
    ob_jw_key(w, "200");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "description", "the file, as an attachment; X-Export-Rows counts its rows");
    ob_jw_key(w, "content");
    ob_jw_obj_open(w);
    static const char *const types[] = {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                        "application/pdf", "application/json"};
    for (size_t i = 0; i < OB_ARRAY_LEN(types); i++) {
        bool json = i == OB_ARRAY_LEN(types) - 1;
        ob_jw_key(w, types[i]);
        ob_jw_obj_open(w);
        ob_jw_key(w, "schema");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", json ? "array" : "string");
        if (i == 1 || i == 2) ob_jw_kstr(w, "format", "binary");
        if (json) {
            ob_jw_key(w, "items");
            ob_jw_obj_open(w);
            ob_jw_kstr(w, "type", "object");
            ob_jw_obj_close(w);
        }
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
    }
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_key(w, "202");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "description", "above require_approval_threshold: the export_logs row in pending_approval, with "
                                 "download_token and download_url for its one download once approved");
    json_content_ref(w, "export_logs");
    ob_jw_obj_close(w);
    for (int i = 0; errs_export[i]; i++) {
        char code[16], name[32];
        snprintf(code, sizeof code, "%d", errs_export[i]);
        snprintf(name, sizeof name, "error_%d", errs_export[i]);
        kref_obj(w, code, RESPONSES, name);
    }
    if (r->rate != OB_RATE_NONE) kref_obj(w, "429", RESPONSES, "error_429");
    kref_obj(w, "default", RESPONSES, "error");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
}

static void export_download_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    op_begin(w, r, "export_logs", r->summary);
    ob_jw_kstr(w, "description",
               "the file of an approved export (status completed), to the user who asked for it, with the token "
               "its 202 gave; once: the first download moves the row to downloaded and any later one, or one "
               "after download_expires_at (export_link_expiry_hours after the file was written), is 410. Another "
               "user's export or a wrong token is 404, an export not yet approved or written 422");
    ob_jw_key(w, "parameters");
    ob_jw_arr_open(w);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "name", "token");
    ob_jw_kstr(w, "in", "query");
    ob_jw_kbool(w, "required", true);
    ob_jw_kstr(w, "description", "the download_token of the export's 202");
    ob_jw_key(w, "schema");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "string");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_arr_close(w);
    ob_jw_key(w, "responses");
    ob_jw_obj_open(w);
    ob_jw_key(w, "200");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "description", "the file, as an attachment, in the export's format");
    ob_jw_key(w, "content");
    ob_jw_obj_open(w);
    ob_jw_key(w, "application/octet-stream");
    ob_jw_obj_open(w);
    ob_jw_key(w, "schema");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "string");
    ob_jw_kstr(w, "format", "binary");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    for (int i = 0; errs_export_download[i]; i++) {
        char code[16], name[32];
        snprintf(code, sizeof code, "%d", errs_export_download[i]);
        snprintf(name, sizeof name, "error_%d", errs_export_download[i]);
        kref_obj(w, code, RESPONSES, name);
    }
    if (r->rate != OB_RATE_NONE) kref_obj(w, "429", RESPONSES, "error_429");
    kref_obj(w, "default", RESPONSES, "error");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
}

static void import_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    op_begin(w, r, r->t->name, "import records from CSV or NDJSON");
    ob_jw_kstr(w, "description",
               "a text/csv body (a header row of field names, then one record a line; an empty cell leaves the "
               "field to its default) or application/x-ndjson (one JSON object a line). Every row goes through "
               "this table's create (validation, references, unique keys, hooks, audit) in one transaction, each "
               "under a savepoint, and every failing row is reported at once: errors [{row, field, code, "
               "message}] (rows count from 1 after the header), valid, rows. dry_run=true (the default) writes "
               "nothing; dry_run=false commits all rows (201, imported) or, when any row fails, none (422 with "
               "the same errors). A header naming an unknown field is 400");
    ob_jw_key(w, "parameters");
    ob_jw_arr_open(w);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "name", "dry_run");
    ob_jw_kstr(w, "in", "query");
    ob_jw_kbool(w, "required", false);
    ob_jw_kstr(w, "description", "true (default): check only; false: import when every row passes");
    ob_jw_key(w, "schema");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "boolean");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_arr_close(w);
    ob_jw_key(w, "requestBody");
    ob_jw_obj_open(w);
    ob_jw_kbool(w, "required", true);
    ob_jw_key(w, "content");
    ob_jw_obj_open(w);
    static const char *const types[] = {"text/csv", "application/x-ndjson"};
    for (size_t i = 0; i < OB_ARRAY_LEN(types); i++) {
        ob_jw_key(w, types[i]);
        ob_jw_obj_open(w);
        ob_jw_key(w, "schema");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", "string");
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
    }
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_key(w, "responses");
    ob_jw_obj_open(w);
    static const char *const ok[][2] = {{"200", "the dry run's report: {dry_run, rows, valid, imported: 0, errors}"},
                                        {"201", "every row imported: {dry_run: false, rows, valid, imported, errors: []}"}};
    for (size_t i = 0; i < OB_ARRAY_LEN(ok); i++) {
        ob_jw_key(w, ok[i][0]);
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "description", ok[i][1]);
        ob_jw_key(w, "content");
        ob_jw_obj_open(w);
        ob_jw_key(w, "application/json");
        ob_jw_obj_open(w);
        ob_jw_key(w, "schema");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", "object");
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
    }
    for (int i = 0; errs_import[i]; i++) {
        char code[16], name[32];
        snprintf(code, sizeof code, "%d", errs_import[i]);
        snprintf(name, sizeof name, "error_%d", errs_import[i]);
        kref_obj(w, code, RESPONSES, name);
    }
    if (r->rate != OB_RATE_NONE) kref_obj(w, "429", RESPONSES, "error_429");
    kref_obj(w, "default", RESPONSES, "error");
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
}

static const ob_action *find_action(const ob_table *t, const char *verb)
{
    for (int i = 0; i < t->res->nactions; i++)
        if (!strcmp(t->res->actions[i].verb, verb)) return &t->res->actions[i];
    return NULL;
}

/* Whether name is in the comma list (NULL: empty). */
static bool in_fields(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, name, n)) return true;
        p += k;
        if (*p) p++;
    }
    return false;
}

/* The body of an event or an action, as the engine validates it
 * (ob_crud_verb_body): an action's declared input, or the fields an event's
 * rows declare (validated as an update); anything else is refused, hence
 * additionalProperties false. */
static void verb_body(oa *o, const ob_table *t, const char *verb, const ob_action *act)
{
    ob_jsonw *w = &o->w;
    const ob_fsm *f = t->res->fsm;
    ob_jw_key(w, "requestBody");
    ob_jw_obj_open(w);
    ob_jw_kbool(w, "required", false);
    ob_jw_kstr(w, "description", act ? "the action's declared input" : "the fields the event declares");
    ob_jw_key(w, "content");
    ob_jw_obj_open(w);
    ob_jw_key(w, "application/json");
    ob_jw_obj_open(w);
    ob_jw_key(w, "schema");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "type", "object");
    ob_jw_key(w, "properties");
    ob_jw_obj_open(w);
    for (int j = 0; act && j < act->ninput; j++) {
        ob_jw_key(w, act->input[j].name);
        col_schema(o, &act->input[j], MODE_CREATE);
    }
    for (int i = 0; !act && i < t->ncols; i++) {
        bool declared = false;
        for (int k = 0; k < f->n && !declared; k++)
            declared = !strcmp(f->rows[k].event, verb) && in_fields(f->rows[k].fields, t->cols[i]->name);
        if (!declared) continue;
        ob_jw_key(w, t->cols[i]->name);
        col_schema(o, t->cols[i], MODE_UPDATE);
    }
    ob_jw_obj_close(w);
    if (act) {
        ob_jw_key(w, "required");
        ob_jw_arr_open(w);
        for (int j = 0; j < act->ninput; j++)
            if (required_on_create(&act->input[j])) ob_jw_str(w, act->input[j].name);
        ob_jw_arr_close(w);
    }
    ob_jw_kbool(w, "additionalProperties", false);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
    ob_jw_obj_close(w);
}

/* POST /api/v1/<t>/{id}/<verb>: a state-machine event or an action, with its
 * own permission (the row's) and declared body. */
static void verb_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    const ob_table *t = r->t;
    const char *verb = r->verb;
    const ob_action *act = find_action(t, verb);
    const ob_fsm *f = t->res->fsm;
    char buf[200];
    snprintf(buf, sizeof buf, "%s %s", act ? "action" : "event", verb);
    op_begin(w, r, t->name, buf);
    ob_sb_reset(&o->tmp);
    if (act && act->doc) ob_sb_adds(&o->tmp, act->doc);
    for (int i = 0; !act && i < f->n; i++) {
        if (strcmp(f->rows[i].event, verb) != 0) continue;
        const char *from = f->rows[i].from;
        ob_sb_addf(&o->tmp, "%s%s from ", o->tmp.len ? "; " : "", f->column);
        if (!strcmp(from, "*")) ob_sb_adds(&o->tmp, "any");
        for (; *from && strcmp(from, "*") != 0; from++) { /* "a,b" reads as "a, b" */
            if (*from == ',') ob_sb_adds(&o->tmp, ", ");
            else ob_sb_addc(&o->tmp, *from);
        }
        ob_sb_addf(&o->tmp, " to %s", f->rows[i].to);
    }
    if (!act) ob_sb_adds(&o->tmp, "; from any other state 422 invalid_transition");
    if (!o->tmp.len) ob_sb_addf(&o->tmp, "%s %s", act ? "action" : "event", verb);
    ob_jw_kstr(w, "description", o->tmp.buf);
    shared_params(w, "idempotency_key", NULL);
    verb_body(o, t, verb, act);
    op_end(w, r, "200", "the changed record", t->name, (versioned(t) ? H_ETAG : 0) | H_REPLAYED, errs_verb);
}

/* The explicit rows: their descriptions and response shapes. */
/* A report's query parameters, {name, description, format ("" for none)}:
 * the first two (from and to) are required, all are strings. */
static void report_params(ob_jsonw *w, const char *const (*params)[3], size_t n)
{
    ob_jw_key(w, "parameters");
    ob_jw_arr_open(w);
    for (size_t i = 0; i < n; i++) {
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "name", params[i][0]);
        ob_jw_kstr(w, "in", "query");
        ob_jw_kbool(w, "required", i < 2);
        ob_jw_kstr(w, "description", params[i][1]);
        ob_jw_key(w, "schema");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", "string");
        if (params[i][2][0]) ob_jw_kstr(w, "format", params[i][2]);
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
    }
    ob_jw_arr_close(w);
}

static void explicit_op(oa *o, const ob_route_row *r)
{
    ob_jsonw *w = &o->w;
    bool auth = r->auth == OB_AUTH_BEARER || r->kind == OB_RK_LOGIN || r->kind == OB_RK_REFRESH ||
                r->kind == OB_RK_MFA_VERIFY;
    const char *tag = auth ? "auth" : "system";
    if (!strncmp(r->path, "/api/v1/platform/", 17)) tag = "platform";
    /* a row under a table's path (/api/v1/<table>/...) is listed with that table */
    if (!strncmp(r->path, "/api/v1/", 8)) {
        char name[64];
        size_t n = strcspn(r->path + 8, "/");
        if (n < sizeof name) {
            memcpy(name, r->path + 8, n);
            name[n] = '\0';
            const ob_table *t = ob_registry_find(name);
            if (t && has_api(t)) tag = t->name;
        }
    }
    op_begin(w, r, tag, r->summary);
    switch (r->kind) {
    case OB_RK_LIVE:
        ob_jw_kstr(w, "description", "answers while the process serves requests; touches no storage");
        op_end(w, r, "200", "{\"status\":\"ok\"}", "status", 0, errs_none);
        break;
    case OB_RK_READY:
        ob_jw_kstr(w, "description", "answers when the storage can be read");
        op_end(w, r, "200", "{\"status\":\"ready\"}; 503 when storage is not usable", "status", 0, errs_ready);
        break;
    case OB_RK_METRICS:
        ob_jw_kstr(w, "description",
                   "request counts and latency by route template, in-flight requests, busiest tenants, tenants, "
                   "memory, in the Prometheus text format; needs Authorization: Bearer <the --metrics-token of "
                   "serve>, and answers 404 when serve was started without one");
        ob_jw_key(w, "responses");
        ob_jw_obj_open(w);
        ob_jw_key(w, "200");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "description", "Prometheus text exposition format 0.0.4");
        ob_jw_key(w, "content");
        ob_jw_obj_open(w);
        ob_jw_key(w, "text/plain");
        ob_jw_obj_open(w);
        ob_jw_key(w, "schema");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", "string");
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        kref_obj(w, "401", RESPONSES, "error_401");
        kref_obj(w, "404", RESPONSES, "error_404");
        kref_obj(w, "default", RESPONSES, "error");
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        break;
    case OB_RK_OPENAPI:
        ob_jw_kstr(w, "description", "the OpenAPI document, derived from the route table and the registry at start-up");
        op_end(w, r, "200", "the OpenAPI document", "openapi", 0, errs_none);
        break;
    case OB_RK_REPORT: {
        ob_jw_kstr(w, "description",
                   "the daily inventory metrics the job kind inventory.metrics writes (schedule it, e.g. cron "
                   "\"15 0 * * *\"), one entry per day that has them; for one warehouse or, without warehouse_id, the "
                   "whole tenant. format=pdf answers the same days as an application/pdf table (title, filters, "
                   "generated time, the tenant's watermark line, page numbers)");
        static const char *const params[][3] = {{"from", "first day, YYYY-MM-DD", "date"},
                                                {"to", "last day, YYYY-MM-DD, at most 366 days after from", "date"},
                                                {"warehouse_id", "one warehouse; absent: the whole tenant", "uuid"},
                                                {"format", "json (default) or pdf", ""}};
        report_params(w, params, OB_ARRAY_LEN(params));
        op_end(w, r, "200", "{report, from, to, warehouse_id, days: [{date, units_sold, units_received, stock_outs, "
                            "inventory_value, turnover}]}", "report", 0, errs_report);
        break;
    }
    case OB_RK_REPORT_PNL: {
        ob_jw_kstr(w, "description",
                   "revenue_records (written when an order is delivered) and expenses in [from, to], grouped; "
                   "net_revenue is gross less fees and costs, profit is net_revenue less expenses; by channel, "
                   "expenses without a channel are grouped under \"unassigned\"");
        static const char *const params[][3] = {{"from", "first day, YYYY-MM-DD", "date"},
                                                {"to", "last day, YYYY-MM-DD", "date"},
                                                {"group", "day (default), month or channel", ""}};
        report_params(w, params, OB_ARRAY_LEN(params));
        op_end(w, r, "200", "{report, from, to, group, rows: [{key, orders, gross_revenue, platform_fee, "
                            "payment_gateway_fee, shipping_cost, product_cost, other_costs, expenses, net_revenue, "
                            "profit}], totals}", "report_pnl", 0, errs_report);
        break;
    }
    case OB_RK_REPORT_SUPPORT: {
        ob_jw_kstr(w, "description",
                   "tickets created in [from, to] (UTC days) by category or assigned agent. Response compliance counts "
                   "the answered tickets and the unanswered ones past response_due_at, met when answered by it; "
                   "resolution compliance the resolved ones and the active ones past sla_due_date, met when resolved "
                   "by it; cancelled tickets count for neither. First-response minutes run from created_at to "
                   "first_response_at. Decimals are strings with 2 places, rounded half up");
        static const char *const sparams[][3] = {{"from", "first day, YYYY-MM-DD", "date"},
                                                 {"to", "last day, YYYY-MM-DD", "date"},
                                                 {"group", "category (default) or agent", ""}};
        report_params(w, sparams, OB_ARRAY_LEN(sparams));
        op_end(w, r, "200", "{report, from, to, group, rows: [{key, name, tickets, response_compliance_pct, ...}], "
                            "totals}", "report_support", 0, errs_report);
        break;
    }
    case OB_RK_REPORT_NDR: {
        ob_jw_kstr(w, "description",
                   "the NDR workbench over [from, to] (UTC days): the cases reported in it that are still being "
                   "worked, by reason and by age in days as of now; the courier shipments delivered in it and how "
                   "many at the first attempt; per courier, the shipments that ended in it (delivered or returned "
                   "to origin) and the share returned. Rates are strings with 2 places, rounded half up");
        static const char *const nparams[][3] = {{"from", "first day, YYYY-MM-DD", "date"},
                                                 {"to", "last day, YYYY-MM-DD", "date"}};
        report_params(w, nparams, OB_ARRAY_LEN(nparams));
        op_end(w, r, "200", "{report, from, to, as_of, open_cases, delivery, rto_by_courier}", "report_ndr", 0,
               errs_report);
        break;
    }
    case OB_RK_TICKET_SUGGESTIONS:
        ob_jw_kstr(w, "description",
                   "ranked the same on both engines: each distinct word of the ticket's title and description (3 "
                   "letters or more, common words left out, at most 16) scores 2 when a document's title contains "
                   "it and 1 when its content does, case-insensitively; ties go to the newer document. A customer "
                   "user sees only public documents; another customer's ticket is 404. limit: 1 to 20, default 5");
        ob_jw_key(w, "parameters");
        ob_jw_arr_open(w);
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "name", "limit");
        ob_jw_kstr(w, "in", "query");
        ob_jw_kbool(w, "required", false);
        ob_jw_kstr(w, "description", "how many documents, 1 to 20 (default 5)");
        kprop(w, "schema", "integer", NULL, NULL);
        ob_jw_obj_close(w);
        ob_jw_arr_close(w);
        op_end(w, r, "200", "{ticket_id, terms, documents: [{id, title, is_public, score}]}", "ticket_suggestions", 0,
               errs_get);
        break;
    case OB_RK_AUDIT_VERIFY:
        ob_jw_kstr(w, "description",
                   "each audit row's hash is SHA-256 over the previous row's hash and the row's canonical form; the "
                   "chain is recomputed in one snapshot, as `opsbase audit verify` does. holds is false when a row "
                   "was changed, removed or reordered, and broken names the first row that breaks it (seq, id, "
                   "why); rows older than the chain count as unchained, and first_seq is the first chained row "
                   "present (earlier ones may have been archived)");
        op_end(w, r, "200", "{holds, rows, first_seq, unchained, broken: null or {seq, id, why}}", "audit_verify", 0,
               errs_report);
        break;
    case OB_RK_METAL_RATE: {
        ob_jw_kstr(w, "description",
                   "the metal_rates row in force at `at` (now when absent): the latest effective_from not after "
                   "it, of that metal and purity; 404 when there is none");
        static const char *const params[][4] = {{"metal", "gold, silver or platinum", "string", NULL},
                                                {"purity", "fineness in parts per thousand (22K = 916)", "integer",
                                                 NULL},
                                                {"at", "a time, RFC 3339; absent: now", "string", "date-time"}};
        ob_jw_key(w, "parameters");
        ob_jw_arr_open(w);
        for (size_t i = 0; i < OB_ARRAY_LEN(params); i++) {
            ob_jw_obj_open(w);
            ob_jw_kstr(w, "name", params[i][0]);
            ob_jw_kstr(w, "in", "query");
            ob_jw_kbool(w, "required", i < 2);
            ob_jw_kstr(w, "description", params[i][1]);
            ob_jw_key(w, "schema");
            ob_jw_obj_open(w);
            ob_jw_kstr(w, "type", params[i][2]);
            if (params[i][3]) ob_jw_kstr(w, "format", params[i][3]);
            ob_jw_obj_close(w);
            ob_jw_obj_close(w);
        }
        ob_jw_arr_close(w);
        op_end(w, r, "200", "the rate in force", "metal_rates", 0, errs_report);
        break;
    }
    case OB_RK_ONE_RECORD_GET:
        ob_jw_kstr(w, "description",
                   "answered as application/ld+json. 404 for a shipment that is not air cargo, another tenant's, or "
                   "(for a portal user) another customer's");
        op_end(w, r, "200", "the shipment as a ONE Record logistics object", "one_record_shipment", 0, errs_get);
        break;
    case OB_RK_ONE_RECORD_EVENT:
        ob_jw_kstr(w, "description",
                   "stored through the create of tracking_events: eventCode must be a Cargo-iQ code (400), "
                   "eventDate is event_datetime, eventLocation event_location, @id external_event_id (a repeat of "
                   "one answers 200 with the stored event); the shipment's status follows its latest event");
        request_body(w, "one_record_event", true, NULL);
        op_end(w, r, "201", "the stored tracking_events row", "tracking_events", H_LOCATION | H_REPLAYED, errs_verb);
        break;
    case OB_RK_STREAM: {
        ob_jw_kstr(w, "description",
                   "Server-Sent Events (text/event-stream), open until the client leaves: one event per committed "
                   "change to a row of the tables asked for that the caller may see, read as GET of that record "
                   "shows it (permission, customer scope, row rules, masking). Each event has `id:` (the change's "
                   "place in the tenant's audit trail), `event:` (<table>.created, .updated or .deleted) and "
                   "`data:` (the record's JSON; {id, deleted} for a delete, not sent to customer users). "
                   "Last-Event-ID (or last_event_id) resumes after that id when it is among the server's "
                   "retained ids (serve --stream-retention), else the first event is `reset`. Comment lines keep "
                   "the connection alive (--stream-keepalive-ms); a user holds at most --stream-max-per-user "
                   "streams (429). 400: an unknown table or one without change events; 403: a table the caller "
                   "may not read");
        static const char *const params[][3] = {{"tables", "query", "comma-separated table names"},
                                                {"last_event_id", "query", "resume after this event id"},
                                                {"Last-Event-ID", "header", "resume after this event id"}};
        ob_jw_key(w, "parameters");
        ob_jw_arr_open(w);
        for (size_t i = 0; i < OB_ARRAY_LEN(params); i++) {
            ob_jw_obj_open(w);
            ob_jw_kstr(w, "name", params[i][0]);
            ob_jw_kstr(w, "in", params[i][1]);
            ob_jw_kbool(w, "required", i == 0);
            ob_jw_kstr(w, "description", params[i][2]);
            ob_jw_key(w, "schema");
            ob_jw_obj_open(w);
            ob_jw_kstr(w, "type", "string");
            ob_jw_obj_close(w);
            ob_jw_obj_close(w);
        }
        ob_jw_arr_close(w);
        ob_jw_key(w, "responses");
        ob_jw_obj_open(w);
        ob_jw_key(w, "200");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "description", "the event stream");
        ob_jw_key(w, "content");
        ob_jw_obj_open(w);
        ob_jw_key(w, "text/event-stream");
        ob_jw_obj_open(w);
        ob_jw_key(w, "schema");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", "string");
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        for (int i = 0; errs_stream[i]; i++) {
            char code[16], name[32];
            snprintf(code, sizeof code, "%d", errs_stream[i]);
            snprintf(name, sizeof name, "error_%d", errs_stream[i]);
            kref_obj(w, code, RESPONSES, name);
        }
        kref_obj(w, "429", RESPONSES, "error_429");
        kref_obj(w, "default", RESPONSES, "error");
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        break;
    }
    case OB_RK_HOOK:
        ob_jw_kstr(w, "description",
                   "the path and secret come from POST /api/v1/sales_channels/{id}/connect (for couriers, "
                   "POST /api/v1/courier_configs/{id}/webhook). The signature is checked "
                   "first (a bad one: 401 invalid_signature and a security_violations row, nothing else); the raw "
                   "body is stored once per provider delivery id as an inbound_webhooks row (a replay answers "
                   "status duplicate and changes nothing) and applied to the unified orders by the job "
                   "inbound.process (a courier's scans to the shipment of its AWB by couriers.inbound). 404 for an "
                   "unknown tenant or channel, another provider's channel, or one not connected");
        ob_jw_key(w, "parameters");
        ob_jw_arr_open(w);
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "name", "tenant");
        ob_jw_kstr(w, "in", "path");
        ob_jw_kbool(w, "required", true);
        ob_jw_kstr(w, "description", "the tenant's slug");
        ob_jw_key(w, "schema");
        ob_jw_obj_open(w);
        ob_jw_kstr(w, "type", "string");
        ob_jw_obj_close(w);
        ob_jw_obj_close(w);
        ob_jw_arr_close(w);
        request_body(w, BODY_ANY_OBJECT, true, "the provider's payload, as it sends it");
        op_end(w, r, "200", "{\"id\": the inbound_webhooks row, \"status\": received or duplicate}", "status", 0,
               errs_hook);
        break;
    case OB_RK_LOGIN:
        ob_jw_kstr(w, "description",
                   "after 5 failed logins the account is locked for 15 minutes; every failure is the same 401. A "
                   "user with MFA gets {\"mfa_required\": true, \"challenge\"} instead of tokens");
        request_body(w, "auth_login", true, NULL);
        op_end(w, r, "200", "a new session", "auth_session", 0, errs_login);
        break;
    case OB_RK_PLATFORM_LOGIN:
        ob_jw_kstr(w, "description",
                   "a super admin's e-mail and password (opsbase admin create-super-admin makes the first); never a "
                   "token: a challenge that a TOTP code completes, with the enrolment secret the first time; every "
                   "failure is the same 401");
        request_body(w, "platform_login", true, NULL);
        op_end(w, r, "200", "a challenge", "platform_challenge", 0, errs_login);
        break;
    case OB_RK_PLATFORM_VERIFY:
        ob_jw_kstr(w, "description",
                   "the challenge and a TOTP code of the super admin's secret (the one offered at enrolment, which "
                   "this confirms); a code already used, or older, is refused; every failure is the same 401");
        request_body(w, "platform_verify", true, NULL);
        op_end(w, r, "200", "the platform token", "platform_session", 0, errs_login);
        break;
    case OB_RK_PLATFORM_ME:
        ob_jw_kstr(w, "description", "the super admin of the platform token; tenant tokens are refused (401)");
        op_end(w, r, "200", "the super admin", "platform_me", 0, errs_session);
        break;
    case OB_RK_PLATFORM_EXPORT:
        ob_jw_kstr(w, "description",
                   "every row of the tenant's database and its uploaded files, written as opsbase tenant export "
                   "writes them into exports/<slug>-<ms>-<random> under the server's data directory: manifest.json "
                   "with each part's SHA-256, size and row counts per table, the rows as zstd JSON lines, the files; "
                   "opsbase tenant import --from that directory --slug NEW restores it as a new tenant with every "
                   "id and timestamp. Recorded in platform_audit_logs (action export)");
        op_end(w, r, "200", "{\"tenant\": slug, \"path\": exports/..., \"rows\": n, \"files\": n}", "status", 0,
               errs_get);
        break;
    case OB_RK_PLATFORM_TENANT_CREATE:
        ob_jw_kstr(w, "description",
                   "what opsbase tenant create does, for a super admin: the tenant and its subscription in the "
                   "control database (recorded in platform_audit_logs in the same transaction), its database "
                   "migrated and seeded, and its owner. 409 when the slug is taken; 400 for a bad field, an unknown plan or a "
                   "password the policy refuses");
        request_body(w, BODY_ANY_OBJECT, true,
                     "slug (lower-case letters, digits, dashes; required), plan (a plan's code; required), "
                     "owner_email (required), owner_password (made and answered once when absent), owner_name, "
                     "name, ticket_limit and agent_limit (whole numbers; absent: the plan's)");
        op_end(w, r, "201", "{\"id\", \"slug\", \"plan\", \"owner_email\", \"owner_password\" only when made here}",
               "status", 0, errs_create);
        break;
    case OB_RK_PLATFORM_STATS:
        ob_jw_kstr(w, "description",
                   "seed 000's monitoring queries: statements.top, the 20 statements with the most total time "
                   "(PostgreSQL's pg_stat_statements where the extension is installed, else this process's own "
                   "timing since it started: source says which), with executed_total and slow_total (see serve "
                   "--slow-query-ms); tenants, the 10 largest of the first 100 tenants (bytes, exact rows, and "
                   "the 10 tables with the most rows); connections (the pool, and PostgreSQL's sessions on the "
                   "database); jobs (queued, due, the oldest due job's age)");
        op_end(w, r, "200", "{engine, statements, tenants_total, tenants_scanned, tenants, connections, jobs}",
               "status", 0, errs_session);
        break;
    case OB_RK_PLATFORM_LOGOUT:
        ob_jw_kstr(w, "description", "the platform token used for this request stops working");
        op_end(w, r, "200", "{\"status\":\"logged_out\"}; the token stops working", "status", 0, errs_session);
        break;
    case OB_RK_MFA_ENROLL:
        ob_jw_kstr(w, "description", "a new TOTP secret, not in force until confirmed; 422 for a wrong password");
        request_body(w, "auth_mfa_password", true, NULL);
        op_end(w, r, "200", "the secret and its otpauth:// URI, shown once", "auth_mfa_secret", 0, errs_mfa);
        break;
    case OB_RK_MFA_CONFIRM:
    case OB_RK_MFA_DISABLE:
        ob_jw_kstr(w, "description", "a current code of the enrolled secret; 422 when wrong or already used");
        request_body(w, "auth_mfa_code", true, NULL);
        op_end(w, r, "200", r->kind == OB_RK_MFA_CONFIRM ? "MFA on, with ten recovery codes shown once" : "MFA off",
               "auth_mfa_state", 0, errs_mfa);
        break;
    case OB_RK_MFA_VERIFY:
        ob_jw_kstr(w, "description",
                   "a code is accepted once, within one 30-second step; five wrong answers or 5 minutes end the "
                   "challenge");
        request_body(w, "auth_mfa_verify", true, NULL);
        op_end(w, r, "200", "a new session", "auth_session", 0, errs_login);
        break;
    case OB_RK_REFRESH:
        ob_jw_kstr(w, "description",
                   "the refresh token given is spent; presenting it again revokes every token of its sign-in and "
                   "ends the session");
        request_body(w, "auth_refresh", true, NULL);
        op_end(w, r, "200", "the next bearer token and refresh token", "auth_tokens", 0, errs_login);
        break;
    case OB_RK_LOGOUT:
        ob_jw_kstr(w, "description", "the bearer token used for this request stops working");
        op_end(w, r, "200", "{\"status\":\"logged_out\"}; the token stops working", "status", 0, errs_session);
        break;
    default:
        ob_jw_kstr(w, "description", "the user, tenant, roles and effective permissions of the bearer token");
        op_end(w, r, "200", "the current user, tenant, roles and permissions", "auth_me", 0, errs_session);
        break;
    }
}

static void operation(oa *o, const ob_route_row *r)
{
    switch (r->kind) {
    case OB_RK_LIST: return list_op(o, r);
    case OB_RK_CREATE: return create_op(o, r);
    case OB_RK_GET: return get_op(o, r);
    case OB_RK_UPDATE: return update_op(o, r);
    case OB_RK_DELETE: return delete_op(o, r);
    case OB_RK_VERB: return verb_op(o, r);
    case OB_RK_UPLOAD: return upload_op(o, r);
    case OB_RK_CONTENT: return content_op(o, r);
    case OB_RK_EXPORT: return export_op(o, r);
    case OB_RK_EXPORT_DOWNLOAD: return export_download_op(o, r);
    case OB_RK_IMPORT: return import_op(o, r);
    case OB_RK_VIEW: return view_op(o, r);
    default: return explicit_op(o, r);
    }
}

/* One path item per path of the route table, one operation per row: the
 * document declares exactly what the server routes, with what the gate
 * checks for each. */
static void paths(oa *o)
{
    ob_jsonw *w = &o->w;
    const ob_routes *rt = ob_routes_get();
    ob_jw_key(w, "paths");
    ob_jw_obj_open(w);
    /* a path's operations may be rows far apart (an explicit row beside a
     * table's generic ones): each path is written once, with all of them */
    bool *done = calloc((size_t)rt->n, sizeof *done);
    if (!done) abort();
    for (int i = 0; i < rt->n; i++) {
        if (done[i]) continue;
        const ob_route_row *r = &rt->rows[i];
        ob_jw_key(w, r->path);
        ob_jw_obj_open(w);
        if (strstr(r->path, "{id}")) shared_params(w, "id", NULL);
        for (int k = i; k < rt->n; k++)
            if (!done[k] && !strcmp(rt->rows[k].path, r->path)) {
                operation(o, &rt->rows[k]);
                done[k] = true;
            }
        ob_jw_obj_close(w);
    }
    free(done);
    ob_jw_obj_close(w);
}

static void tag(ob_jsonw *w, const char *name, const char *desc)
{
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "name", name);
    if (desc) ob_jw_kstr(w, "description", desc);
    ob_jw_obj_close(w);
}

void ob_openapi_write(ob_sb *out, const char *version)
{
    oa o;
    ob_jsonw *w = &o.w;
    ob_jw_init(w, out);
    ob_sb_init(&o.tmp, 256);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "openapi", "3.1.0");
    ob_jw_kstr(w, "jsonSchemaDialect", "https://spec.openapis.org/oas/3.1/dialect/base");
    ob_jw_key(w, "info");
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "title", "opsbase");
    ob_jw_kstr(w, "version", version ? version : "0");
    ob_jw_kstr(w, "description",
               "Multi-tenant operations backend. Generated at run time from the resource registry: every "
               "table, field, filter, state-machine event and error code here is the server's own.");
    ob_jw_ki64(w, "x-schema-version", ob_registry_version());
    ob_jw_obj_close(w);
    /* paths are absolute from the root of whichever host serves this document */
    ob_jw_key(w, "servers");
    ob_jw_arr_open(w);
    ob_jw_obj_open(w);
    ob_jw_kstr(w, "url", "/");
    ob_jw_kstr(w, "description", "the server that serves this document");
    ob_jw_obj_close(w);
    ob_jw_arr_close(w);
    ob_jw_key(w, "tags");
    ob_jw_arr_open(w);
    tag(w, "system", "probes and this document (no auth)");
    tag(w, "auth", "sessions and bearer tokens");
    tag(w, "platform", "super admins: sign-in with MFA and the platform token");
    for (int i = 0; i < ob_registry_count(); i++)
        if (has_api(ob_registry_at(i))) tag(w, ob_registry_at(i)->name, ob_registry_at(i)->res->doc);
    ob_jw_arr_close(w);
    paths(&o);
    components(&o);
    ob_jw_obj_close(w);
    ob_sb_release(&o.tmp);
}
