/* files.h - where uploaded content lives and what it is.
 *
 * A tenant's file is stored once per content, named by its SHA-256, under
 * the data directory (see README.md). Paths returned live in the arena
 * given; nothing here knows records or permissions: the API layer decides
 * who may store or read a file, this layer only keeps the bytes. */
#ifndef OB_FILES_H
#define OB_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"

/* A storage backend. The local one (ob_file_store_local) keeps files under
 * a root directory; `key` is the stored name relative to the tenant's
 * folder ("ab/ab12...ef"), recorded in the files row. */
typedef struct ob_file_store {
    /* Take the finished spool file at src_path (already fsynced) as the
     * content sha256 of tenant; src_path is gone afterwards either way.
     * Fills *key. */
    int (*put)(const struct ob_file_store *s, ob_arena *a, const char *tenant, const char *sha256,
               const char *src_path, const char **key, ob_err *err);
    /* Open stored content for reading: a file descriptor the caller closes,
     * and its size. OB_E_NOT_FOUND when it is missing. */
    int (*open)(const struct ob_file_store *s, ob_arena *a, const char *tenant, const char *key, int *fd,
                int64_t *size, ob_err *err);
    /* Remove stored content (the last record pointing at it is gone); content
     * already missing is not an error. */
    int (*remove)(const struct ob_file_store *s, ob_arena *a, const char *tenant, const char *key, ob_err *err);
    const char *root;
    const char *spool; /* where files are written before put (same file system) */
} ob_file_store;

/* The process's store, given once at start-up by `serve` and `worker`, for
 * the jobs that make and remove files (NULL until given: those jobs fail
 * with 503 and are retried). */
void ob_files_use(const ob_file_store *s);
const ob_file_store *ob_files_current(void);

/* Store the finished file at path (written by this process in s->spool) as
 * a tenant's content: its SHA-256 and size are read from it, it is fsynced
 * and put; path is gone afterwards either way. */
int ob_file_store_add(const ob_file_store *s, ob_arena *a, const char *tenant, const char *path, const char **sha256,
                      int64_t *size, const char **key, ob_err *err);
/* A fresh file name in s->spool (nothing is created) with the suffix given
 * (".jpg"): the suffix tells libvips the format to write. */
const char *ob_file_spool_name(const ob_file_store *s, ob_arena *a, const char *suffix);

/* The local file system store under root (the data directory): creates
 * root/files and root/spool. The spool directory (for the HTTP server's
 * upload spool files) is returned in *spool_dir, malloc'd. */
int ob_file_store_local(ob_file_store *s, const char *root, char **spool_dir, ob_err *err);

/* The MIME type libmagic reads in the file's content ("application/pdf"),
 * in the arena. */
int ob_file_sniff(ob_arena *a, const char *path, const char **mime, ob_err *err);
/* Whether uploads of this sniffed type are accepted. */
bool ob_file_mime_allowed(const char *mime);
/* A file name safe to store and to send back in Content-Disposition: the
 * last path segment, control characters and / \ : * ? " < > | ; replaced
 * by '_', leading dots and spaces dropped, at most 200 bytes (cut at a
 * UTF-8 character boundary); "file" when nothing is left. */
const char *ob_file_clean_name(ob_arena *a, const char *name);

/* Images (image.c, libvips). The size of the image in fd and two variants
 * written as JPEG files in the spool: a thumbnail whose longer side is at
 * most `thumb_px`, and a compressed copy at full size. The caller stores or
 * removes them. Content libvips cannot read is OB_E_UNPROCESSABLE. */
typedef struct ob_image_info {
    int width, height;             /* of the original */
    const char *thumb_path;
    int thumb_width, thumb_height;
    const char *compressed_path;
} ob_image_info;
int ob_image_variants(const ob_file_store *s, ob_arena *a, int fd, int thumb_px, ob_image_info *out, ob_err *err);

/* OCR (ocr.c, Tesseract with its English data; PDF pages rendered with
 * poppler and cairo). The text recognised in fd's content of type mime
 * (image/... or application/pdf, at most max_pages pages) and the mean word
 * confidence 0..100. Types that hold no picture are OB_E_UNPROCESSABLE. */
int ob_ocr_read(ob_arena *a, int fd, const char *mime, int max_pages, const char **text, int *confidence,
                ob_err *err);

#endif
