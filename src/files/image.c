/* image.c - an image's size and its variants, with libvips (files.h).
 *
 * libvips is initialised once per process and is thread-safe after that, so
 * the workers of several tenants may make variants at the same time. The
 * input is read from the stored file's descriptor (the store keeps the
 * path); the variants are written to the spool, on the store's file system,
 * so that putting them is a rename. JPEG for both: every browser shows it,
 * and a thumbnail has no use for an alpha channel (flattened on white).
 * libvips is reached through media_dl.c's table (m), loaded on first use. */
#include <pthread.h>
#include <unistd.h>

#include "base/base.h"
#include "files/files.h"
#include "files/media_int.h"
#include "base/banned.h"

static pthread_once_t vips_once = PTHREAD_ONCE_INIT;
static const ob_media_lib *m; /* set once by vips_start, read after it */
static int vips_ok;
static ob_err vips_err;

static void vips_start(void)
{
    m = ob_media_lib_get(&vips_err);
    if (!m) return;
    /* VIPS_INIT's check that the library has the ABI of the headers */
    if (m->vips_version(3) - m->vips_version(5) != VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE) {
        ob_err_set(&vips_err, OB_E_UNAVAILABLE, "libvips has another ABI than the one opsbase was built with");
        return;
    }
    vips_ok = m->vips_init("opsbase") == 0;
    if (!vips_ok) ob_err_set(&vips_err, OB_E_UNAVAILABLE, "libvips did not start");
    /* the operation cache keeps images of other tenants alive: none */
    if (vips_ok) m->vips_cache_set_max(0);
}

static int vips_ready(ob_err *err)
{
    pthread_once(&vips_once, vips_start);
    if (!vips_ok) return ob_err_set(err, vips_err.code, "%s", vips_err.message);
    return 0;
}

static int vips_fail(ob_err *err, ob_errcode code, const char *what)
{
    const char *why = m->vips_error_buffer();
    ob_err_set(err, code, "%s: %.200s", what, why && *why ? why : "libvips failed");
    m->vips_error_clear();
    return -1;
}

/* A JPEG of im at path; flattened on white when it has alpha. */
static int save_jpeg(VipsImage *im, const char *path, int quality, ob_err *err)
{
    VipsImage *flat = NULL;
    if (m->vips_image_hasalpha(im)) {
        double white[] = {255, 255, 255};
        VipsArrayDouble *bg = m->vips_array_double_new(white, 3);
        int rc = m->vips_flatten(im, &flat, "background", bg, NULL);
        m->vips_area_unref(VIPS_AREA(bg));
        if (rc != 0) return vips_fail(err, OB_E_UNPROCESSABLE, "cannot flatten the image");
    }
    int rc = m->vips_jpegsave(flat ? flat : im, path, "Q", quality, "strip", TRUE, "optimize_coding", TRUE, NULL);
    if (flat) m->g_object_unref(flat);
    if (rc != 0) {
        unlink(path);
        return vips_fail(err, OB_E_UNAVAILABLE, "cannot write an image variant");
    }
    return 0;
}

int ob_image_variants(const ob_file_store *s, ob_arena *a, int fd, int thumb_px, ob_image_info *out, ob_err *err)
{
    if (vips_ready(err) != 0) return -1;
    memset(out, 0, sizeof *out);
    VipsSource *src = m->vips_source_new_from_descriptor(fd);
    if (!src) return vips_fail(err, OB_E_UNAVAILABLE, "cannot read the stored file");
    VipsImage *im = m->vips_image_new_from_source(src, "", "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    if (!im) {
        m->g_object_unref(src);
        return vips_fail(err, OB_E_UNPROCESSABLE, "not an image libvips reads");
    }
    out->width = m->vips_image_get_width(im);
    out->height = m->vips_image_get_height(im);
    VipsImage *thumb = NULL;
    int rc = -1;
    if (m->vips_thumbnail_image(im, &thumb, thumb_px, "height", thumb_px, "size", VIPS_SIZE_DOWN, NULL) != 0) {
        vips_fail(err, OB_E_UNPROCESSABLE, "cannot make the thumbnail");
        goto done;
    }
    out->thumb_width = m->vips_image_get_width(thumb);
    out->thumb_height = m->vips_image_get_height(thumb);
    out->thumb_path = ob_file_spool_name(s, a, ".jpg");
    if (save_jpeg(thumb, out->thumb_path, 80, err) != 0) goto done;
    out->compressed_path = ob_file_spool_name(s, a, ".jpg");
    if (save_jpeg(im, out->compressed_path, 75, err) != 0) {
        unlink(out->thumb_path);
        goto done;
    }
    rc = 0;
done:
    if (thumb) m->g_object_unref(thumb);
    m->g_object_unref(im);
    m->g_object_unref(src);
    return rc;
}

int ob_image_gray(int fd, unsigned char **pix, int *w, int *h, ob_err *err)
{
    if (vips_ready(err) != 0) return -1;
    VipsSource *src = m->vips_source_new_from_descriptor(fd);
    if (!src) return vips_fail(err, OB_E_UNAVAILABLE, "cannot read the stored file");
    VipsImage *im = m->vips_image_new_from_source(src, "", "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    m->g_object_unref(src);
    if (!im) return vips_fail(err, OB_E_UNPROCESSABLE, "not an image libvips reads");
    VipsImage *flat = NULL, *grey = NULL, *u8 = NULL;
    int rc = -1;
    if (m->vips_image_hasalpha(im)) {
        double white[] = {255, 255, 255};
        VipsArrayDouble *bg = m->vips_array_double_new(white, 3);
        int frc = m->vips_flatten(im, &flat, "background", bg, NULL);
        m->vips_area_unref(VIPS_AREA(bg));
        if (frc != 0) {
            vips_fail(err, OB_E_UNPROCESSABLE, "cannot flatten the image");
            goto done;
        }
    }
    if (m->vips_colourspace(flat ? flat : im, &grey, VIPS_INTERPRETATION_B_W, NULL) != 0 ||
        m->vips_cast_uchar(grey, &u8, NULL) != 0) {
        vips_fail(err, OB_E_UNPROCESSABLE, "cannot read the image as grey");
        goto done;
    }
    size_t n = 0;
    *pix = m->vips_image_write_to_memory(u8, &n);
    *w = m->vips_image_get_width(u8);
    *h = m->vips_image_get_height(u8);
    if (!*pix || n != (size_t)*w * (size_t)*h) {
        m->g_free(*pix);
        *pix = NULL;
        vips_fail(err, OB_E_UNAVAILABLE, "cannot read the image's pixels");
        goto done;
    }
    rc = 0;
done:
    if (u8) m->g_object_unref(u8);
    if (grey) m->g_object_unref(grey);
    if (flat) m->g_object_unref(flat);
    m->g_object_unref(im);
    return rc;
}
