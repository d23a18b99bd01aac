/* media_dl.c - libvips, poppler-glib, cairo and Tesseract, loaded on first use
 * (media_int.h).
 *
 * Linked into the binary, these libraries and what they bring (GLib, Leptonica,
 * the image codecs: some eighty shared objects) were loaded and relocated by
 * every start of the binary, also by the many that never read an image: a CLI
 * command, a test's server. Only the image and OCR jobs use them, so they are
 * opened when a job first needs them. The table's members have the types of
 * the libraries' own declarations (the headers are still included), so a call
 * through it is checked as a direct call would be. The sonames come from the
 * build (the Makefile reads them from the development links), so the library
 * loaded is the one the headers describe. */
#include <dlfcn.h>
#include <pthread.h>

#include "base/base.h"
#include "files/media_int.h"
#include "base/banned.h"

#ifndef OB_SONAME_VIPS
#define OB_SONAME_VIPS "libvips.so.42"
#endif
#ifndef OB_SONAME_POPPLER
#define OB_SONAME_POPPLER "libpoppler-glib.so.8"
#endif
#ifndef OB_SONAME_CAIRO
#define OB_SONAME_CAIRO "libcairo.so.2"
#endif
#ifndef OB_SONAME_TESS
#define OB_SONAME_TESS "libtesseract.so.5"
#endif
#ifndef OB_SONAME_GLIB
#define OB_SONAME_GLIB "libglib-2.0.so.0"
#endif
#ifndef OB_SONAME_GOBJECT
#define OB_SONAME_GOBJECT "libgobject-2.0.so.0"
#endif

static ob_media_lib lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static char lib_error[300];

static void *open_one(const char *soname)
{
    /* RTLD_NODELETE: never unloaded, so what they allocate stays valid and a
     * leak report can still name them */
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h && !lib_error[0]) snprintf(lib_error, sizeof lib_error, "cannot load %s: %.200s", soname, dlerror());
    return h;
}

static void load(void)
{
    void *h_vips = open_one(OB_SONAME_VIPS), *h_poppler = open_one(OB_SONAME_POPPLER),
         *h_cairo = open_one(OB_SONAME_CAIRO), *h_tess = open_one(OB_SONAME_TESS), *h_glib = open_one(OB_SONAME_GLIB),
         *h_gobject = open_one(OB_SONAME_GOBJECT);
    if (lib_error[0]) return;
    bool ok = true;
#define OB_MEDIA_LOAD(h, fn)                                                                    \
    if (ok) {                                                                                   \
        void *sym = dlsym(h_##h, #fn);                                                          \
        memcpy(&lib.fn, &sym, sizeof sym);                                                      \
        if (!sym) {                                                                             \
            snprintf(lib_error, sizeof lib_error, "%s has no %s", "lib" #h, #fn);               \
            ok = false;                                                                         \
        }                                                                                       \
    }
    OB_MEDIA_FNS(OB_MEDIA_LOAD)
#undef OB_MEDIA_LOAD
    lib.loaded = ok;
}

const ob_media_lib *ob_media_lib_get(ob_err *err)
{
    pthread_once(&lib_once, load);
    if (lib.loaded) return &lib;
    ob_err_set(err, OB_E_UNAVAILABLE, "images and OCR are unavailable: %s", lib_error);
    return NULL;
}
