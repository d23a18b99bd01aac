/* export_pdf.c - an export as a PDF table (export_pdf.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hpdf.h>

#include "api/export_pdf.h"
#include "base/banned.h"

#define PDF_MARGIN 36.0f
#define PDF_FONT 8.0f
#define PDF_LINE 11.0f
#define PDF_MAX_COLS 256
#define PDF_CELL 512 /* bytes of a cell's text considered */

struct ob_pdf {
    HPDF_Doc doc;
    HPDF_Font font, bold;
    HPDF_Page page;
    float y;                 /* baseline of the next line on page */
    int npages;
    HPDF_Page *pages;        /* every page, for the numbers at close */
    int cap;
    unsigned long failed;    /* libharu's error number, 0 while none */
    char *head[4];           /* title, filters, generated, watermark (may be NULL) */
    const char **names;
    int ncols;
    float colw;
};

static void on_error(HPDF_STATUS no, HPDF_STATUS detail, void *data)
{
    (void)detail;
    ob_pdf *p = data;
    if (!p->failed) p->failed = (unsigned long)no;
}

/* Printable ASCII only: the standard fonts' WinAnsi shows nothing else reliably. */
static void clean(char *dst, size_t cap, const char *src, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c >= 0x80 && (c & 0xC0) == 0x80) continue; /* a UTF-8 continuation: one '?' per character */
        dst[k++] = c >= 0x20 && c < 0x7F ? (char)c : (c == '\t' || c == '\n' || c == '\r') ? ' ' : '?';
    }
    dst[k] = 0;
}

/* text at (x, y), cut to width w */
static void cell(ob_pdf *p, HPDF_Font f, float x, float y, float w, const char *text)
{
    HPDF_Page_SetFontAndSize(p->page, f, PDF_FONT);
    HPDF_UINT fit = HPDF_Page_MeasureText(p->page, text, w - 4.0f, HPDF_FALSE, NULL);
    char buf[PDF_CELL];
    size_t n = strlen(text);
    if (fit < n) n = fit;
    memcpy(buf, text, n);
    buf[n] = 0;
    HPDF_Page_TextOut(p->page, x, y, buf);
}

static int new_page(ob_pdf *p, ob_err *err)
{
    if (p->npages == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        HPDF_Page *np = realloc(p->pages, (size_t)cap * sizeof *np);
        if (!np) return ob_err_set(err, OB_E_INTERNAL, "out of memory");
        p->pages = np;
        p->cap = cap;
    }
    p->page = HPDF_AddPage(p->doc);
    if (!p->page) return ob_err_set(err, OB_E_UNAVAILABLE, "the PDF could not be written");
    p->pages[p->npages++] = p->page;
    HPDF_Page_SetSize(p->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_LANDSCAPE);
    float top = HPDF_Page_GetHeight(p->page) - PDF_MARGIN;
    float width = HPDF_Page_GetWidth(p->page) - 2 * PDF_MARGIN;
    p->colw = width / (float)p->ncols;
    HPDF_Page_BeginText(p->page);
    HPDF_Page_SetFontAndSize(p->page, p->bold, 14.0f);
    HPDF_Page_TextOut(p->page, PDF_MARGIN, top - 14.0f, p->head[0]);
    float y = top - 14.0f - 16.0f;
    static const char *const labels[] = {NULL, "Filters: ", "Generated: ", ""};
    for (int i = 1; i < 4; i++) {
        if (!p->head[i]) continue;
        char line[1024];
        snprintf(line, sizeof line, "%s%s", labels[i], p->head[i]);
        cell(p, p->font, PDF_MARGIN, y, width, line);
        y -= PDF_LINE;
    }
    y -= 4.0f;
    for (int k = 0; k < p->ncols; k++) cell(p, p->bold, PDF_MARGIN + (float)k * p->colw, y, p->colw, p->names[k]);
    HPDF_Page_EndText(p->page);
    /* a rule under the column names */
    HPDF_Page_SetLineWidth(p->page, 0.5f);
    HPDF_Page_MoveTo(p->page, PDF_MARGIN, y - 3.0f);
    HPDF_Page_LineTo(p->page, PDF_MARGIN + width, y - 3.0f);
    HPDF_Page_Stroke(p->page);
    p->y = y - PDF_LINE - 2.0f;
    return p->failed ? ob_err_set(err, OB_E_UNAVAILABLE, "the PDF could not be written (libharu %#lx)", p->failed) : 0;
}

ob_pdf *ob_pdf_new(const char *title, const char *filters, const char *generated, const char *mark,
                   const char *const *names, int n, ob_err *err)
{
    ob_pdf *p = calloc(1, sizeof *p);
    if (!p || n <= 0 || n > PDF_MAX_COLS) {
        free(p);
        ob_err_set(err, OB_E_INTERNAL, "out of memory");
        return NULL;
    }
    p->doc = HPDF_New(on_error, p);
    p->names = calloc((size_t)n, sizeof *p->names);
    const char *src[4] = {title, filters && *filters ? filters : "none", generated, mark};
    for (int i = 0; i < 4; i++) {
        if (!src[i]) continue;
        size_t len = strlen(src[i]) + 1;
        p->head[i] = malloc(len);
        if (p->head[i]) clean(p->head[i], len, src[i], len - 1);
    }
    p->ncols = n;
    bool ok = p->doc && p->names && p->head[0] && p->head[1] && p->head[2] && (!mark || p->head[3]);
    for (int k = 0; ok && k < n; k++) {
        size_t len = strlen(names[k]) + 1;
        char *s = malloc(len);
        if (!s) ok = false;
        else clean(s, len, names[k], len - 1);
        p->names[k] = s;
    }
    if (ok) {
        HPDF_SetCompressionMode(p->doc, HPDF_COMP_NONE);
        HPDF_SetInfoAttr(p->doc, HPDF_INFO_TITLE, p->head[0]);
        HPDF_SetInfoAttr(p->doc, HPDF_INFO_CREATOR, "opsbase");
        p->font = HPDF_GetFont(p->doc, "Helvetica", "WinAnsiEncoding");
        p->bold = HPDF_GetFont(p->doc, "Helvetica-Bold", "WinAnsiEncoding");
        ok = p->font && p->bold;
    }
    if (!ok) {
        ob_pdf_abort(p);
        ob_err_set(err, OB_E_UNAVAILABLE, "the PDF could not be started");
        return NULL;
    }
    if (new_page(p, err) != 0) {
        ob_pdf_abort(p);
        return NULL;
    }
    return p;
}

int ob_pdf_row(ob_pdf *p, const ob_column *const *cols, int n, json_t *row, ob_err *err)
{
    if (p->y < PDF_MARGIN + PDF_LINE && new_page(p, err) != 0) return -1;
    HPDF_Page_BeginText(p->page);
    for (int k = 0; k < n && k < p->ncols; k++) {
        json_t *v = json_object_get(row, cols[k]->name);
        char text[PDF_CELL];
        text[0] = 0;
        if (json_is_string(v)) {
            clean(text, sizeof text, json_string_value(v), json_string_length(v));
        } else if (v && !json_is_null(v)) {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            if (s) clean(text, sizeof text, s, strlen(s));
            free(s);
        }
        cell(p, p->font, PDF_MARGIN + (float)k * p->colw, p->y, p->colw, text);
    }
    HPDF_Page_EndText(p->page);
    p->y -= PDF_LINE;
    return p->failed ? ob_err_set(err, OB_E_UNAVAILABLE, "the PDF could not be written (libharu %#lx)", p->failed) : 0;
}

int ob_pdf_close(ob_pdf *p, const char *dir, int *fd, int64_t *bytes, ob_err *err)
{
    *fd = -1;
    for (int i = 0; i < p->npages; i++) {
        char foot[64];
        snprintf(foot, sizeof foot, "Page %d of %d", i + 1, p->npages);
        HPDF_Page pg = p->pages[i];
        HPDF_Page_BeginText(pg);
        HPDF_Page_SetFontAndSize(pg, p->font, PDF_FONT);
        HPDF_Page_TextOut(pg, HPDF_Page_GetWidth(pg) - PDF_MARGIN - HPDF_Page_TextWidth(pg, foot), PDF_MARGIN / 2, foot);
        HPDF_Page_EndText(pg);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/pdf-XXXXXX", dir);
    int tmp = mkstemp(path);
    int rc = tmp < 0 ? -1 : 0;
    if (rc == 0) {
        close(tmp);
        if (p->failed || HPDF_SaveToFile(p->doc, path) != HPDF_OK) rc = -1;
    }
    if (rc == 0) {
        *fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (*fd < 0 || fstat(*fd, &st) != 0) rc = -1;
        else *bytes = (int64_t)st.st_size;
    }
    if (tmp >= 0) unlink(path); /* the descriptor is the only name */
    if (rc != 0 && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    ob_pdf_abort(p);
    return rc == 0 ? 0 : ob_err_set(err, OB_E_UNAVAILABLE, "the PDF could not be written");
}

void ob_pdf_abort(ob_pdf *p)
{
    if (!p) return;
    if (p->doc) HPDF_Free(p->doc);
    for (int i = 0; i < 4; i++) free(p->head[i]);
    for (int k = 0; p->names && k < p->ncols; k++) free((void *)p->names[k]);
    free(p->names);
    free(p->pages);
    free(p);
}
