/* json.c - the ceiling's output: the least work that still produces correct
 * JSON for a SQLite row (string escaping included). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceiling.h"

void cb_add(struct cbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) abort();
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

static void add_str(struct cbuf *b, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    cb_add(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        cb_add(b, (const char *)s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
        if (ch == '"' || ch == '\\') {
            esc[1] = (char)ch;
            cb_add(b, esc, 2);
        } else if (ch == '\n') {
            cb_add(b, "\\n", 2);
        } else {
            cb_add(b, esc, 6);
        }
    }
    cb_add(b, (const char *)s + run, n - run);
    cb_add(b, "\"", 1);
}

void cb_row_json(struct cbuf *b, sqlite3_stmt *st)
{
    int n = sqlite3_column_count(st);
    cb_add(b, "{", 1);
    for (int i = 0; i < n; i++) {
        if (i) cb_add(b, ",", 1);
        const char *name = sqlite3_column_name(st, i);
        add_str(b, (const unsigned char *)name, strlen(name));
        cb_add(b, ":", 1);
        char num[32];
        int len;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL:
            cb_add(b, "null", 4);
            break;
        case SQLITE_INTEGER:
            len = snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(st, i));
            cb_add(b, num, (size_t)len);
            break;
        case SQLITE_FLOAT:
            len = snprintf(num, sizeof num, "%.17g", sqlite3_column_double(st, i));
            cb_add(b, num, (size_t)len);
            break;
        default: {
            const unsigned char *s = sqlite3_column_text(st, i);
            add_str(b, s, (size_t)sqlite3_column_bytes(st, i));
        }
        }
    }
    cb_add(b, "}", 1);
}
