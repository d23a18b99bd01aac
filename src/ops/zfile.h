/* zfile.h - a file of lines, zstd-compressed as it is written, whose SHA-256
 * (of the compressed bytes, as stored) is known when it is closed; and the
 * reader that checks that sum before handing out a single line. */
#ifndef OB_ZFILE_H
#define OB_ZFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"

typedef struct ob_zwriter ob_zwriter;

int ob_zw_open(ob_zwriter **out, const char *path, ob_err *err);
/* Append one line (a newline is added). */
int ob_zw_line(ob_zwriter *w, const char *s, size_t n, ob_err *err);
/* Make everything written so far durable (a zstd flush, then fsync). */
int ob_zw_sync(ob_zwriter *w, ob_err *err);
/* Finish the frame, fsync and close; the hex SHA-256 and size of the file. */
int ob_zw_close(ob_zwriter *w, char sha256_hex[65], int64_t *bytes, ob_err *err);
/* Close without finishing (after an error) and remove the file. */
void ob_zw_abort(ob_zwriter *w);

typedef struct ob_zreader ob_zreader;

/* Open after checking the file's SHA-256 against want_hex (OB_E_VALIDATION
 * when it differs: a damaged or altered backup is not restored). */
int ob_zr_open(ob_zreader **out, const char *path, const char *want_hex, ob_err *err);
/* 1: a line in *line (valid until the next call); 0: end; -1: error. */
int ob_zr_line(ob_zreader *r, const char **line, size_t *n, ob_err *err);
void ob_zr_close(ob_zreader *r);

/* Hex SHA-256 of a whole file. */
int ob_file_sha256(const char *path, char hex[65], ob_err *err);

#endif
