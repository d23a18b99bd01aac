/* jsonr.c - request bodies through jansson, with our limits (see jsonr.h). */
#include "base/jsonr.h"

#include <stdbool.h>

#include "base/banned.h"

int ob_json_depth(const char *body, size_t len)
{
    int depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_str) {
            if (c == '\\')
                i++; /* the escaped byte cannot end the string */
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            break;
        case '{':
        case '[':
            if (++depth > max)
                max = depth;
            break;
        case '}':
        case ']':
            if (depth > 0)
                depth--;
            break;
        default:
            break;
        }
    }
    return max;
}

static bool all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

json_t *ob_json_parse_object(const char *body, size_t len, int max_depth, ob_err *err)
{
    if (max_depth <= 0)
        max_depth = OB_JSON_MAX_DEPTH_DEFAULT;
    if (!body || all_space(body, len)) {
        ob_err_set(err, OB_E_BAD_JSON, "the body is empty");
        return NULL;
    }
    /* Counted before parsing so a hostile body never reaches jansson's
     * recursive descent. */
    if (ob_json_depth(body, len) > max_depth) {
        ob_err_set(err, OB_E_BAD_JSON, "the JSON nesting is too deep (more than %d levels)",
                   max_depth);
        return NULL;
    }
    json_error_t jerr;
    /* JSON_DECODE_ANY so a scalar top level gets our clearer message below;
     * no JSON_ALLOW_NUL, so "\u0000" in a string is refused. */
    size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY;
    json_t *root = json_loadb(body, len, flags, &jerr);
    /* An integer beyond 64 bits is well-formed JSON that jansson cannot hold
     * as an integer. Read such a body again with every integer as a double, so
     * that validation can name the field the number is too large for instead
     * of calling the whole body invalid. Integers of that body are exact only
     * up to 2^53, which is why integer columns refuse doubles beyond it. */
    if (!root && json_error_code(&jerr) == json_error_numeric_overflow)
        root = json_loadb(body, len, flags | JSON_DECODE_INT_AS_REAL, &jerr);
    if (!root) {
        ob_err_set(err, OB_E_BAD_JSON, "invalid JSON at line %d, column %d: %s", jerr.line,
                   jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        ob_err_set(err, OB_E_BAD_JSON, "the body must be a JSON object");
        return NULL;
    }
    return root;
}
