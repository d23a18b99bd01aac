/* export_xlsx.c - the XLSX form of an export (see export_xlsx.h).
 *
 * Cell types follow the column's: int as a number (format "0", so large
 * ids are not shown in scientific notation), bool as a boolean, real as a
 * number, everything else (text, enum, dates, ids, JSON) as a string.
 *
 * Decimals (money, weights) are stored exactly as scaled integers; a
 * spreadsheet number is a double. A decimal of at most 15 significant
 * digits converts to the nearest double and back to the same digits, which
 * is the exactness a spreadsheet can keep, so such a value is written as a
 * number with the column's scale as its number format ("0.00" for money),
 * and sums in the sheet work. A longer decimal would lose digits as a
 * double: it is written as text, exactly as the API shows it.
 *
 * Text is written as string cells. Excel never evaluates a string cell as
 * a formula (only <f> elements are formulas), so "=HYPERLINK(...)" stays
 * inert text and the value is kept as it is, unlike CSV where a leading
 * quote has to be added. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "api/export_xlsx.h"
#include "base/banned.h"

#define XLSX_SCALES 19
#define XLSX_CELL_MAX 32767 /* characters a cell holds (the file format's limit) */

struct ob_xlsx {
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *int_fmt;
    lxw_format *dec_fmt[XLSX_SCALES]; /* made when a scale is first met */
    char path[4096];
    lxw_row_t row;
};

ob_xlsx *ob_xlsx_new(const char *dir, const char *sheet, ob_err *err)
{
    ob_xlsx *x = calloc(1, sizeof *x);
    if (!x) {
        ob_err_set(err, OB_E_UNAVAILABLE, "the export could not be written");
        return NULL;
    }
    /* mkstemp reserves a fresh name; the workbook writes over it at close */
    int n = snprintf(x->path, sizeof x->path, "%s/ex-XXXXXX", dir);
    int fd = n > 0 && (size_t)n < sizeof x->path ? mkstemp(x->path) : -1;
    if (fd < 0) {
        free(x);
        ob_err_set(err, OB_E_UNAVAILABLE, "the export could not be written");
        return NULL;
    }
    close(fd);
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = (char *)dir};
    x->wb = workbook_new_opt(x->path, &opt);
    char name[32];
    snprintf(name, sizeof name, "%.31s", sheet); /* a sheet name has at most 31 characters */
    x->ws = x->wb ? workbook_add_worksheet(x->wb, name) : NULL;
    if (!x->ws) {
        ob_xlsx_abort(x);
        ob_err_set(err, OB_E_UNAVAILABLE, "the export could not be written");
        return NULL;
    }
    x->int_fmt = workbook_add_format(x->wb);
    format_set_num_format(x->int_fmt, "0");
    return x;
}

void ob_xlsx_abort(ob_xlsx *x)
{
    if (!x) return;
    if (x->wb) workbook_close(x->wb);
    unlink(x->path);
    free(x);
}

static int failed(lxw_error e, ob_err *err)
{
    if (e == LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE)
        return ob_err_set(err, OB_E_UNPROCESSABLE, "an XLSX sheet holds at most %u rows", (unsigned)LXW_ROW_MAX);
    return ob_err_set(err, OB_E_UNAVAILABLE, "the export could not be written: %s", lxw_strerror(e));
}

/* A string cell, cut to the 32767 characters a cell holds (at a UTF-8
 * boundary; bytes are at least as many as characters). */
static lxw_error put_string(ob_xlsx *x, lxw_col_t c, const char *s, size_t n)
{
    if (n <= XLSX_CELL_MAX && !memchr(s, 0, n)) return worksheet_write_string(x->ws, x->row, c, s, NULL);
    if (n > XLSX_CELL_MAX) n = XLSX_CELL_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    char *cut = malloc(n + 1);
    if (!cut) return LXW_ERROR_MEMORY_MALLOC_FAILED;
    memcpy(cut, s, n);
    cut[n] = 0;
    lxw_error e = worksheet_write_string(x->ws, x->row, c, cut, NULL);
    free(cut);
    return e;
}

static lxw_format *dec_format(ob_xlsx *x, int scale)
{
    if (scale < 0 || scale >= XLSX_SCALES) return NULL;
    if (!x->dec_fmt[scale]) {
        char f[XLSX_SCALES + 4] = "0";
        if (scale > 0) {
            f[1] = '.';
            memset(f + 2, '0', (size_t)scale);
            f[2 + scale] = 0;
        }
        x->dec_fmt[scale] = workbook_add_format(x->wb);
        format_set_num_format(x->dec_fmt[scale], f);
    }
    return x->dec_fmt[scale];
}

/* "-1234.50": at most 15 significant digits, so a double keeps it. */
static bool fits_double(const char *s)
{
    int digits = 0;
    bool lead = true;
    for (const char *p = s; *p; p++) {
        if (*p == '-' || *p == '.') continue;
        if (*p < '0' || *p > '9') return false;
        if (lead && *p == '0') continue;
        lead = false;
        digits++;
    }
    return digits <= 15;
}

static lxw_error put_value(ob_xlsx *x, lxw_col_t c, const ob_column *col, json_t *v)
{
    if (!v || json_is_null(v)) return LXW_NO_ERROR;
    if (json_is_boolean(v)) return worksheet_write_boolean(x->ws, x->row, c, json_is_true(v), NULL);
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i > -(1LL << 53) && i < (1LL << 53)) return worksheet_write_number(x->ws, x->row, c, (double)i, x->int_fmt);
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)i);
        return put_string(x, c, buf, strlen(buf));
    }
    if (json_is_real(v)) return worksheet_write_number(x->ws, x->row, c, json_real_value(v), NULL);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (col->type == OB_F_DECIMAL && fits_double(s)) {
            char *end;
            double d = strtod(s, &end);
            if (*s && !*end) return worksheet_write_number(x->ws, x->row, c, d, dec_format(x, ob_col_scale(col)));
        }
        return put_string(x, c, s, json_string_length(v));
    }
    /* a JSON column: its text */
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) return LXW_ERROR_MEMORY_MALLOC_FAILED;
    lxw_error e = put_string(x, c, s, strlen(s));
    free(s);
    return e;
}

int ob_xlsx_text_row(ob_xlsx *x, const char *const *cells, int n, ob_err *err)
{
    for (int k = 0; k < n; k++) {
        lxw_error e = put_string(x, (lxw_col_t)k, cells[k], strlen(cells[k]));
        if (e != LXW_NO_ERROR) return failed(e, err);
    }
    x->row++;
    return 0;
}

int ob_xlsx_row(ob_xlsx *x, const ob_column *const *cols, int n, json_t *row, ob_err *err)
{
    if (x->row >= LXW_ROW_MAX) return failed(LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE, err);
    for (int k = 0; k < n; k++) {
        lxw_error e = put_value(x, (lxw_col_t)k, cols[k], json_object_get(row, cols[k]->name));
        if (e != LXW_NO_ERROR) return failed(e, err);
    }
    x->row++;
    return 0;
}

int ob_xlsx_watermark(ob_xlsx *x, const char *text, ob_err *err)
{
    /* "&L" puts it on the left; a literal & is written "&&" */
    char h[256] = "&L";
    size_t n = 2;
    for (const char *p = text; *p && n < 200; p++) {
        if (*p == '&') h[n++] = '&';
        h[n++] = *p;
    }
    h[n] = 0;
    lxw_error e = worksheet_set_header(x->ws, h);
    return e == LXW_NO_ERROR ? 0 : failed(e, err);
}

int ob_xlsx_close(ob_xlsx *x, int *fd, int64_t *bytes, ob_err *err)
{
    lxw_error e = workbook_close(x->wb);
    x->wb = NULL;
    int f = e == LXW_NO_ERROR ? open(x->path, O_RDONLY | O_CLOEXEC) : -1;
    unlink(x->path); /* the open descriptor is the only name */
    struct stat st;
    if (f >= 0 && fstat(f, &st) != 0) {
        close(f);
        f = -1;
    }
    free(x);
    if (f < 0) return ob_err_set(err, OB_E_UNAVAILABLE, "the export could not be written");
    *fd = f;
    *bytes = (int64_t)st.st_size;
    return 0;
}
