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
    const char *root;
} ob_file_store;

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

#endif
