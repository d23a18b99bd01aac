/* media_int.h - shared by image.c, ocr.c and media_dl.c (not part of the contract). */
#ifndef OB_FILES_MEDIA_INT_H
#define OB_FILES_MEDIA_INT_H

#include <cairo.h>
#include <poppler.h>
#include <tesseract/capi.h>
#include <vips/vips.h>

#include "base/err.h"

/* An image's pixels as 8-bit grey, one byte per pixel, rows packed
 * (*w bytes each); *pix is freed by the caller with the table's g_free.
 * Content libvips cannot read is OB_E_UNPROCESSABLE. */
int ob_image_gray(int fd, unsigned char **pix, int *w, int *h, ob_err *err);

/* The functions image.c and ocr.c call, by library (media_dl.c says why they
 * are loaded on first use). X(library, function) for each. */
#define OB_MEDIA_FNS(X)                                                                                             \
    X(vips, vips_init) X(vips, vips_version) X(vips, vips_cache_set_max) X(vips, vips_error_buffer)                  \
    X(vips, vips_error_clear) X(vips, vips_image_hasalpha) X(vips, vips_array_double_new) X(vips, vips_flatten)      \
    X(vips, vips_area_unref) X(vips, vips_jpegsave) X(vips, vips_source_new_from_descriptor)                         \
    X(vips, vips_image_new_from_source) X(vips, vips_image_get_width) X(vips, vips_image_get_height)                 \
    X(vips, vips_thumbnail_image) X(vips, vips_colourspace) X(vips, vips_cast_uchar)                                 \
    X(vips, vips_image_write_to_memory)                                                                              \
    X(poppler, poppler_document_new_from_fd) X(poppler, poppler_document_get_n_pages)                                \
    X(poppler, poppler_document_get_page) X(poppler, poppler_page_get_size)                                          \
    X(poppler, poppler_page_render_for_printing)                                                                     \
    X(cairo, cairo_image_surface_create) X(cairo, cairo_create) X(cairo, cairo_set_source_rgb) X(cairo, cairo_paint) \
    X(cairo, cairo_scale) X(cairo, cairo_destroy) X(cairo, cairo_surface_flush)                                      \
    X(cairo, cairo_image_surface_get_data) X(cairo, cairo_image_surface_get_stride)                                  \
    X(cairo, cairo_surface_destroy)                                                                                  \
    X(tess, TessBaseAPICreate) X(tess, TessBaseAPIInit3) X(tess, TessBaseAPIDelete) X(tess, TessBaseAPISetImage)     \
    X(tess, TessBaseAPISetSourceResolution) X(tess, TessBaseAPIGetUTF8Text) X(tess, TessDeleteText)                 \
    X(tess, TessBaseAPIMeanTextConf) X(tess, TessBaseAPIClear) X(tess, TessBaseAPIEnd)                               \
    X(gobject, g_object_unref) X(glib, g_free) X(glib, g_malloc) X(glib, g_error_free)

typedef struct ob_media_lib {
#define OB_MEDIA_MEMBER(lib, fn) __typeof__(fn) *fn;
    OB_MEDIA_FNS(OB_MEDIA_MEMBER)
#undef OB_MEDIA_MEMBER
    bool loaded;
} ob_media_lib;

/* The libraries, opened on the first call (thread-safe); NULL with
 * OB_E_UNAVAILABLE when one of them or one of its functions is missing. */
const ob_media_lib *ob_media_lib_get(ob_err *err);

#endif
