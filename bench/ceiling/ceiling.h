/* ceiling.h - the growable buffer and row-to-JSON writer of the ceiling server. */
#ifndef CEILING_H
#define CEILING_H

#include <sqlite3.h>
#include <stddef.h>

/* A heap buffer that grows; buf is handed to libmicrohttpd, which frees it. */
struct cbuf {
    char *buf;
    size_t len, cap;
};

/* Append n bytes (aborts the process when memory runs out: a benchmark tool). */
void cb_add(struct cbuf *b, const char *s, size_t n);

/* Append the current row of st as a JSON object keyed by column name:
 * integers and reals as numbers, NULL as null, everything else as a string. */
void cb_row_json(struct cbuf *b, sqlite3_stmt *st);

#endif
