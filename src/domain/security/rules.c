/* rules.c - row rules shared by the insight areas' hooks. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "domain/security/rules.h"
#include "base/banned.h"

int ob_rule_field_error(ob_err *err, const char *col, const char *problem)
{
    ob_err_set(err, OB_E_VALIDATION, NULL);
    return ob_err_field_add(err, col, problem);
}

int ob_rule_stamp_user(ob_ctx *ctx, ob_row *row, const char *col, bool required, ob_err *err)
{
    if (ob_row_is_null(row, col) && ctx->who && ctx->who->user_id)
        ob_row_set_text(ctx->arena, row, col, ctx->who->user_id);
    if (required && ob_row_is_null(row, col)) return ob_rule_field_error(err, col, "is required");
    return 0;
}

static const char *find_code(const char *const *allowed, const char *s)
{
    for (; *allowed; allowed++)
        if (strcasecmp(*allowed, s) == 0) return *allowed;
    return NULL;
}

int ob_rule_json_codes(ob_ctx *ctx, ob_row *row, const char *col, const char *const *allowed, ob_err *err)
{
    const char *text = ob_row_text(row, col);
    if (!text) return 0;
    json_t *arr = json_loads(text, JSON_DECODE_ANY, NULL);
    const char *problem = NULL;
    json_t *out = json_array();
    if (!arr || !json_is_array(arr)) problem = "must be an array";
    for (size_t i = 0; !problem && i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        const char *code = json_is_string(v) ? find_code(allowed, json_string_value(v)) : NULL;
        if (!code) problem = "holds a value that is not allowed";
        for (size_t k = 0; !problem && k < json_array_size(out); k++)
            if (strcmp(json_string_value(json_array_get(out, k)), code) == 0) problem = "holds a value twice";
        if (!problem) json_array_append_new(out, json_string(code));
    }
    if (!problem) {
        /* store the canonical spelling, as enum columns do */
        char *dump = json_dumps(out, JSON_COMPACT);
        if (dump) ob_row_set_text(ctx->arena, row, col, dump);
        free(dump);
    }
    json_decref(arr);
    json_decref(out);
    return problem ? ob_rule_field_error(err, col, problem) : 0;
}
