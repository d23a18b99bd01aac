/* jsonw.h - streaming JSON writer into a strbuf.
 *
 * The hot path of every response: it writes straight into the output buffer
 * with no intermediate tree. Commas are inserted automatically; the caller
 * only opens and closes containers and names keys. Strings are escaped per
 * RFC 8259 (control characters as \u00XX, '/' left alone); invalid UTF-8 is
 * replaced by U+FFFD so output is always valid JSON. Nesting is limited to
 * OB_JSONW_MAX_DEPTH levels (deeper opens are a programming error: abort).
 */
#ifndef OB_JSONW_H
#define OB_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define OB_JSONW_MAX_DEPTH 32

typedef struct ob_jsonw {
    ob_sb *sb;
    int depth;
    bool need_comma[OB_JSONW_MAX_DEPTH + 1];
    bool after_key;
} ob_jsonw;

void ob_jw_init(ob_jsonw *w, ob_sb *sb);
void ob_jw_obj_open(ob_jsonw *w);
void ob_jw_obj_close(ob_jsonw *w);
void ob_jw_arr_open(ob_jsonw *w);
void ob_jw_arr_close(ob_jsonw *w);
void ob_jw_key(ob_jsonw *w, const char *key);
void ob_jw_str(ob_jsonw *w, const char *s);
void ob_jw_strn(ob_jsonw *w, const char *s, size_t n);
void ob_jw_i64(ob_jsonw *w, int64_t v);
void ob_jw_f64(ob_jsonw *w, double v); /* shortest round-trip form; NaN/Inf as null */
void ob_jw_bool(ob_jsonw *w, bool v);
void ob_jw_null(ob_jsonw *w);
/* Insert already-serialized JSON (trusted: from our own writer or the db). */
void ob_jw_raw(ob_jsonw *w, const char *json, size_t n);

/* Shorthands: key + value. */
void ob_jw_kstr(ob_jsonw *w, const char *key, const char *s); /* NULL -> null */
void ob_jw_ki64(ob_jsonw *w, const char *key, int64_t v);
void ob_jw_kbool(ob_jsonw *w, const char *key, bool v);
void ob_jw_knull(ob_jsonw *w, const char *key);

/* Append s JSON-escaped (without quotes) to sb. */
void ob_json_escape(ob_sb *sb, const char *s, size_t n);

#endif
