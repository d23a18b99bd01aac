/* pieces.c - 003's jewellery pieces are products with weights: the net
 * (metal) weight is the gross less the stones, kept by the server so that
 * pricing by weight never trusts a typed figure. A product of a category
 * carries the custom attributes its category's templates declare, checked
 * here (400 naming the attribute), and a template's own definitions are
 * checked when it is written. */
#include <jansson.h>
#include <string.h>

#include "base/base.h"
#include "domain/commerce/commerce.h"
#include "schema/ctx.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

extern const ob_hooks ob_piece_hooks;
extern const ob_hooks ob_category_template_hooks;

/* A template declares at most this many attributes. */
#define MAX_DEFS 100

static int field_error(ob_ctx *ctx, ob_err *err, const char *field, const char *problem)
{
    ob_err_set(err, OB_E_VALIDATION, NULL);
    ob_err_field_add(err, ob_arena_strdup(ctx->arena, field), problem);
    return -1;
}

static const char *const attr_types[] = {"text", "number", "integer", "boolean", "date", "enum"};

/* The allowed values of an enum attribute: "options" (003's word), or
 * "values" as the column's first documentation had it. */
static json_t *options_of(json_t *def)
{
    json_t *o = json_object_get(def, "options");
    return o ? o : json_object_get(def, "values");
}

/* One definition: {"name", "type", "required"?, "options"?}. NULL when it
 * is well formed, else what is wrong. */
static const char *bad_def(json_t *def)
{
    json_t *name = json_object_get(def, "name"), *type = json_object_get(def, "type"),
           *req = json_object_get(def, "required");
    if (!json_is_object(def)) return "must be an object {\"name\", \"type\", \"required\", \"options\"}";
    if (!json_is_string(name) || !json_string_length(name) || json_string_length(name) > 100)
        return "needs a name of 1 to 100 characters";
    if (req && !json_is_boolean(req)) return "has a required that is not true or false";
    const char *t = json_is_string(type) ? json_string_value(type) : "";
    bool known = false;
    for (size_t i = 0; i < sizeof attr_types / sizeof attr_types[0]; i++) known |= !strcmp(t, attr_types[i]);
    if (!known) return "needs a type: text, number, integer, boolean, date or enum";
    json_t *opts = options_of(def);
    if (!strcmp(t, "enum")) {
        if (!json_is_array(opts) || !json_array_size(opts)) return "of type enum needs a list of options";
        for (size_t i = 0; i < json_array_size(opts); i++)
            if (!json_is_string(json_array_get(opts, i))) return "has an option that is not text";
    }
    return NULL;
}

static int template_check(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const char *text = ob_row_text(row, CATEGORY_TEMPLATES_ATTRIBUTES);
    json_t *defs = text ? json_loads(text, 0, NULL) : NULL;
    int rc = 0;
    if (!json_is_array(defs) || json_array_size(defs) > MAX_DEFS)
        rc = field_error(ctx, err, CATEGORY_TEMPLATES_ATTRIBUTES.name, "must be a list of at most 100 definitions");
    for (size_t i = 0; rc == 0 && i < json_array_size(defs); i++) {
        json_t *d = json_array_get(defs, i);
        const char *why = bad_def(d);
        for (size_t k = 0; !why && k < i; k++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(defs, k), "name")),
                        json_string_value(json_object_get(d, "name"))))
                why = "repeats the name of another definition";
        if (why)
            rc = field_error(ctx, err, ob_arena_printf(ctx->arena, "attributes[%zu]", i),
                             ob_arena_printf(ctx->arena, "%s", why));
    }
    json_decref(defs);
    return rc;
}

static int template_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    return template_check(ctx, row, err);
}

static int template_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    (void)old;
    return template_check(ctx, row, err);
}

/* Declared in catalog.c on category_templates. */
const ob_hooks ob_category_template_hooks = {.before_create = template_before_create,
                                    .before_update = template_before_update};

/* YYYY-MM-DD with a month and a day that can be. */
static bool is_date(const char *s)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return false;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > days[m - 1]) return false;
    return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

/* Why a value does not fit its definition, or NULL. */
static const char *bad_value(json_t *def, json_t *v)
{
    const char *t = json_string_value(json_object_get(def, "type"));
    if (!strcmp(t, "text")) return json_is_string(v) ? NULL : "must be text";
    if (!strcmp(t, "number")) return json_is_number(v) ? NULL : "must be a number";
    if (!strcmp(t, "integer")) return json_is_integer(v) ? NULL : "must be a whole number";
    if (!strcmp(t, "boolean")) return json_is_boolean(v) ? NULL : "must be true or false";
    if (!strcmp(t, "date")) return json_is_string(v) && is_date(json_string_value(v)) ? NULL : "must be a date YYYY-MM-DD";
    json_t *opts = options_of(def);
    for (size_t i = 0; json_is_string(v) && i < json_array_size(opts); i++)
        if (!strcmp(json_string_value(json_array_get(opts, i)), json_string_value(v))) return NULL;
    return "is not one of the template's options";
}

/* Every active template of the product's category, each definition against
 * the product's attributes: all that are wrong are named, under
 * attributes.<name>. */
static int custom_attributes(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    const char *cat = ob_row_text(row, PRODUCTS_CATEGORY_ID);
    if (!cat) return 0;
    ob_stmt *st;
    if (ob_db_prepare(ctx->db,
                      "SELECT \"name\", \"attributes\" FROM \"category_templates\" WHERE \"category_id\" = ? "
                      "AND \"is_active\" ORDER BY \"name\", \"id\" LIMIT 20",
                      &st, err) != 0)
        return -1;
    ob_stmt_bind_text(st, 1, cat, err);
    const char *attrs_text = ob_row_text(row, PRODUCTS_ATTRIBUTES);
    json_t *attrs = attrs_text ? json_loads(attrs_text, 0, NULL) : NULL;
    int rc, bad = 0;
    while ((rc = ob_stmt_step(st, err)) == 1) {
        const char *tname = ob_stmt_col_text(st, 0, NULL), *dtext = ob_stmt_col_text(st, 1, NULL);
        json_t *defs = dtext ? json_loads(dtext, 0, NULL) : NULL;
        for (size_t i = 0; i < json_array_size(defs); i++) {
            json_t *d = json_array_get(defs, i);
            if (bad_def(d)) continue; /* written before templates were checked */
            const char *name = json_string_value(json_object_get(d, "name"));
            json_t *v = json_is_object(attrs) ? json_object_get(attrs, name) : NULL;
            const char *why = NULL;
            if (!v || json_is_null(v))
                why = json_is_true(json_object_get(d, "required"))
                          ? ob_arena_printf(ctx->arena, "is required by the category's template %.100s", tname)
                          : NULL;
            else
                why = bad_value(d, v);
            if (!why) continue;
            if (bad++ == 0) ob_err_set(err, OB_E_VALIDATION, NULL);
            ob_err_field_add(err, ob_arena_printf(ctx->arena, "attributes.%s", name), why);
        }
        json_decref(defs);
    }
    ob_stmt_done(st);
    json_decref(attrs);
    if (rc < 0) return -1;
    return bad ? -1 : 0;
}

static int net_weight(ob_row *row, ob_err *err)
{
    if (ob_row_is_null(row, PRODUCTS_GROSS_WEIGHT)) {
        if (!ob_row_is_null(row, PRODUCTS_STONE_WEIGHT)) {
            ob_err_set(err, OB_E_VALIDATION, NULL);
            ob_err_field_add(err, PRODUCTS_STONE_WEIGHT.name, "needs gross_weight");
            return -1;
        }
        ob_row_set_null(row, PRODUCTS_NET_WEIGHT);
        return 0;
    }
    int64_t gross = ob_row_int(row, PRODUCTS_GROSS_WEIGHT, 0), stone = ob_row_int(row, PRODUCTS_STONE_WEIGHT, 0);
    if (stone > gross) {
        ob_err_set(err, OB_E_VALIDATION, NULL);
        ob_err_field_add(err, PRODUCTS_STONE_WEIGHT.name, "is more than gross_weight");
        return -1;
    }
    ob_row_set_int(row, PRODUCTS_NET_WEIGHT, gross - stone);
    return 0;
}

static int piece_before_create(ob_ctx *ctx, ob_row *row, ob_err *err)
{
    if (ob_product_hooks.before_create(ctx, row, err) != 0) return -1;
    if (net_weight(row, err) != 0) return -1;
    return custom_attributes(ctx, row, err);
}

static int piece_before_update(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err)
{
    if (ob_product_hooks.before_update(ctx, old, row, err) != 0) return -1;
    if (net_weight(row, err) != 0) return -1;
    return custom_attributes(ctx, row, err);
}

/* The catalogue's hooks plus the weights (declared in catalog.c). */
const ob_hooks ob_piece_hooks = {.before_create = piece_before_create, .before_update = piece_before_update};
