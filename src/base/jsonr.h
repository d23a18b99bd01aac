/* jsonr.h - reading request bodies with jansson, under our rules.
 *
 * Duplicate keys are rejected, NUL inside strings is refused, nesting deeper
 * than max_depth is refused before parsing (jansson's own limit is far higher
 * than we want), and the top level must be an object. On failure the ob_err
 * says where (line/column) and why. The returned json_t is owned by the
 * caller (json_decref). */
#ifndef OB_JSONR_H
#define OB_JSONR_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

#define OB_JSON_MAX_DEPTH_DEFAULT 32

/* Parse body[0..len) into an object. */
json_t *ob_json_parse_object(const char *body, size_t len, int max_depth, ob_err *err);
/* Depth of the deepest container in text (strings and escapes skipped). */
int ob_json_depth(const char *body, size_t len);

#endif
