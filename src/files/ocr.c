/* ocr.c - text recognised in an image or a PDF (files.h).
 *
 * Tesseract reads 8-bit grey pixels: an image is decoded by libvips, a PDF
 * page is rendered by poppler onto a white cairo surface at 300 dpi (what
 * Tesseract's English model is trained for), at most OCR_MAX_PIXELS a page.
 * One Tesseract instance per call: it is not shareable between threads, and
 * its start (loading the English data) is small beside the recognition.
 * The libraries are reached through media_dl.c's table, loaded on first use. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "files/files.h"
#include "files/media_int.h"
#include "base/banned.h"

#define OCR_DPI 300.0
#define OCR_MAX_PIXELS (40.0 * 1000 * 1000)

typedef struct page_text {
    const ob_media_lib *m;
    ob_sb text;
    int64_t conf_sum;
    int pages;
} page_text;

/* Recognise one page of grey pixels and append its text. */
static int recognise(TessBaseAPI *api, const unsigned char *pix, int w, int h, int stride, int dpi, page_text *pt,
                     ob_err *err)
{
    const ob_media_lib *m = pt->m;
    m->TessBaseAPISetImage(api, pix, w, h, 1, stride);
    m->TessBaseAPISetSourceResolution(api, dpi);
    char *text = m->TessBaseAPIGetUTF8Text(api);
    if (!text) return ob_err_set(err, OB_E_UNAVAILABLE, "tesseract recognised nothing");
    if (pt->text.len && text[0]) ob_sb_adds(&pt->text, "\n");
    ob_sb_adds(&pt->text, text);
    m->TessDeleteText(text);
    int conf = m->TessBaseAPIMeanTextConf(api);
    pt->conf_sum += conf < 0 ? 0 : conf;
    pt->pages++;
    m->TessBaseAPIClear(api);
    return 0;
}

static int ocr_image(TessBaseAPI *api, int fd, page_text *pt, ob_err *err)
{
    const ob_media_lib *m = pt->m;
    unsigned char *pix;
    int w, h;
    if (ob_image_gray(fd, &pix, &w, &h, err) != 0) return -1;
    int rc = recognise(api, pix, w, h, w, 300, pt, err);
    m->g_free(pix);
    return rc;
}

/* Render each page on white and recognise it. */
static int ocr_pdf(TessBaseAPI *api, int fd, int max_pages, page_text *pt, ob_err *err)
{
    const ob_media_lib *m = pt->m;
    int own = dup(fd);
    if (own < 0) return ob_err_set(err, OB_E_UNAVAILABLE, "cannot read the stored file");
    GError *gerr = NULL;
    PopplerDocument *doc = m->poppler_document_new_from_fd(own, NULL, &gerr); /* takes own */
    if (!doc) {
        ob_err_set(err, OB_E_UNPROCESSABLE, "not a PDF poppler reads: %.200s", gerr ? gerr->message : "?");
        if (gerr) m->g_error_free(gerr);
        return -1;
    }
    int n = m->poppler_document_get_n_pages(doc), rc = 0;
    for (int i = 0; i < n && i < max_pages && rc == 0; i++) {
        PopplerPage *page = m->poppler_document_get_page(doc, i);
        if (!page) continue;
        double pw, ph;
        m->poppler_page_get_size(page, &pw, &ph);
        double scale = OCR_DPI / 72.0;
        if (pw * ph * scale * scale > OCR_MAX_PIXELS) scale = sqrt(OCR_MAX_PIXELS / (pw * ph));
        int w = (int)(pw * scale), h = (int)(ph * scale);
        if (w < 1 || h < 1) {
            m->g_object_unref(page);
            continue;
        }
        cairo_surface_t *surf = m->cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
        cairo_t *cr = m->cairo_create(surf);
        m->cairo_set_source_rgb(cr, 1, 1, 1);
        m->cairo_paint(cr);
        m->cairo_scale(cr, scale, scale);
        m->poppler_page_render_for_printing(page, cr);
        m->cairo_destroy(cr);
        m->cairo_surface_flush(surf);
        /* RGB24 is one 32-bit xRGB word a pixel: grey as the mean of the three */
        const unsigned char *data = m->cairo_image_surface_get_data(surf);
        int stride = m->cairo_image_surface_get_stride(surf);
        unsigned char *grey = m->g_malloc((size_t)w * (size_t)h);
        for (int y = 0; y < h; y++) {
            const uint32_t *row = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
            for (int x = 0; x < w; x++) {
                uint32_t p = row[x];
                grey[(size_t)y * (size_t)w + (size_t)x] =
                    (unsigned char)((((p >> 16) & 0xff) + ((p >> 8) & 0xff) + (p & 0xff)) / 3);
            }
        }
        m->cairo_surface_destroy(surf);
        m->g_object_unref(page);
        rc = recognise(api, grey, w, h, w, (int)(scale * 72.0 + 0.5), pt, err);
        m->g_free(grey);
    }
    m->g_object_unref(doc);
    return rc;
}

int ob_ocr_read(ob_arena *a, int fd, const char *mime, int max_pages, const char **text, int *confidence,
                ob_err *err)
{
    bool pdf = !strcmp(mime, "application/pdf");
    if (!pdf && strncmp(mime, "image/", 6) != 0)
        return ob_err_set(err, OB_E_UNPROCESSABLE, "no text can be read from %s", mime);
    const ob_media_lib *m = ob_media_lib_get(err);
    if (!m) return -1;
    TessBaseAPI *api = m->TessBaseAPICreate();
    if (m->TessBaseAPIInit3(api, NULL, "eng") != 0) {
        m->TessBaseAPIDelete(api);
        return ob_err_set(err, OB_E_UNAVAILABLE, "tesseract has no English data (tesseract-ocr-eng)");
    }
    page_text pt = {.m = m};
    ob_sb_init_arena(&pt.text, a, 1024);
    int rc = pdf ? ocr_pdf(api, fd, max_pages, &pt, err) : ocr_image(api, fd, &pt, err);
    m->TessBaseAPIEnd(api);
    m->TessBaseAPIDelete(api);
    if (rc != 0) return -1;
    /* trailing blank lines and form feeds say nothing */
    while (pt.text.len && (pt.text.buf[pt.text.len - 1] == '\n' || pt.text.buf[pt.text.len - 1] == '\f' ||
                           pt.text.buf[pt.text.len - 1] == ' '))
        ob_sb_trim(&pt.text, 1);
    *text = pt.text.buf;
    *confidence = pt.pages ? (int)(pt.conf_sum / pt.pages) : 0;
    return 0;
}
