/* jsonw.c - streaming JSON writer (see jsonw.h). */
#include "base/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/banned.h"

/* Byte classes for the escaper: 0 copies as is, 1 needs an escape, 2 starts
 * (or wrongly continues) a multi-byte sequence. */
static const unsigned char esc_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t want;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        want = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        want = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        want = 4;
    else
        return 0;
    if (want > n || !ob_utf8_valid((const char *)s, want))
        return 0;
    return want;
}

void ob_json_escape(ob_sb *sb, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* p[run..i) is pending verbatim output */
    while (i < n) {
        unsigned char c = p[i];
        unsigned char cls = esc_class[c];
        if (cls == 0) {
            i++;
            continue;
        }
        if (cls == 2) {
            size_t k = utf8_seq(p + i, n - i);
            if (k) {
                i += k;
                continue;
            }
        }
        ob_sb_add(sb, p + run, i - run);
        if (cls == 2) {
            ob_sb_add(sb, "\xEF\xBF\xBD", 3); /* U+FFFD per bad byte */
        } else {
            char e[6] = { '\\', 0, 0, 0, 0, 0 };
            size_t elen = 2;
            switch (c) {
            case '"': e[1] = '"'; break;
            case '\\': e[1] = '\\'; break;
            case '\n': e[1] = 'n'; break;
            case '\r': e[1] = 'r'; break;
            case '\t': e[1] = 't'; break;
            case '\b': e[1] = 'b'; break;
            case '\f': e[1] = 'f'; break;
            default:
                e[1] = 'u';
                e[2] = '0';
                e[3] = '0';
                e[4] = hex[c >> 4];
                e[5] = hex[c & 0x0F];
                elen = 6;
            }
            ob_sb_add(sb, e, elen);
        }
        i++;
        run = i;
    }
    ob_sb_add(sb, p + run, n - run);
}

void ob_jw_init(ob_jsonw *w, ob_sb *sb)
{
    w->sb = sb;
    w->depth = 0;
    memset(w->need_comma, 0, sizeof(w->need_comma));
    w->after_key = false;
}

/* Separator before a value: none right after a key, else a comma when the
 * container already holds something. */
static void before_value(ob_jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        ob_sb_addc(w->sb, ',');
    w->need_comma[w->depth] = true;
}

static void open_container(ob_jsonw *w, char c)
{
    before_value(w);
    if (w->depth >= OB_JSONW_MAX_DEPTH)
        abort(); /* a programming error, see jsonw.h */
    ob_sb_addc(w->sb, c);
    w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_container(ob_jsonw *w, char c)
{
    if (w->depth <= 0)
        abort();
    ob_sb_addc(w->sb, c);
    w->depth--;
    w->after_key = false;
}

void ob_jw_obj_open(ob_jsonw *w)
{
    open_container(w, '{');
}

void ob_jw_obj_close(ob_jsonw *w)
{
    close_container(w, '}');
}

void ob_jw_arr_open(ob_jsonw *w)
{
    open_container(w, '[');
}

void ob_jw_arr_close(ob_jsonw *w)
{
    close_container(w, ']');
}

void ob_jw_key(ob_jsonw *w, const char *key)
{
    if (w->need_comma[w->depth])
        ob_sb_addc(w->sb, ',');
    w->need_comma[w->depth] = true;
    ob_sb_addc(w->sb, '"');
    ob_json_escape(w->sb, key, strlen(key));
    ob_sb_add(w->sb, "\":", 2);
    w->after_key = true;
}

void ob_jw_strn(ob_jsonw *w, const char *s, size_t n)
{
    before_value(w);
    ob_sb_addc(w->sb, '"');
    ob_json_escape(w->sb, s, n);
    ob_sb_addc(w->sb, '"');
}

void ob_jw_str(ob_jsonw *w, const char *s)
{
    if (!s) {
        ob_jw_null(w);
        return;
    }
    ob_jw_strn(w, s, strlen(s));
}

void ob_jw_i64(ob_jsonw *w, int64_t v)
{
    before_value(w);
    ob_sb_add_i64(w->sb, v);
}

void ob_jw_f64(ob_jsonw *w, double v)
{
    if (!isfinite(v)) {
        ob_jw_null(w);
        return;
    }
    /* The shortest of %.15g..%.17g that reads back as the same double: 0.1
     * stays "0.1" while every value still round-trips exactly. */
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    before_value(w);
    ob_sb_adds(w->sb, buf);
}

void ob_jw_bool(ob_jsonw *w, bool v)
{
    before_value(w);
    if (v)
        ob_sb_add(w->sb, "true", 4);
    else
        ob_sb_add(w->sb, "false", 5);
}

void ob_jw_null(ob_jsonw *w)
{
    before_value(w);
    ob_sb_add(w->sb, "null", 4);
}

void ob_jw_raw(ob_jsonw *w, const char *json, size_t n)
{
    before_value(w);
    ob_sb_add(w->sb, json, n);
}

void ob_jw_kstr(ob_jsonw *w, const char *key, const char *s)
{
    ob_jw_key(w, key);
    ob_jw_str(w, s);
}

void ob_jw_ki64(ob_jsonw *w, const char *key, int64_t v)
{
    ob_jw_key(w, key);
    ob_jw_i64(w, v);
}

void ob_jw_kbool(ob_jsonw *w, const char *key, bool v)
{
    ob_jw_key(w, key);
    ob_jw_bool(w, v);
}

void ob_jw_knull(ob_jsonw *w, const char *key)
{
    ob_jw_key(w, key);
    ob_jw_null(w);
}
