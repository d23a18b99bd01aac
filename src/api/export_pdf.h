/* export_pdf.h - an export as a PDF table, written with libharu.
 *
 * Every page carries the title, the filters, the generation time (UTC),
 * the watermark line when there is one, the column names, and at the foot
 * "Page i of n" (written when the document closes, n known then). The
 * document is built in memory by libharu, so a PDF is for what a person
 * reads (the tenant's max_export_rows bounds it), not for bulk data: CSV
 * streams. Text is drawn in a standard Type 1 font (Helvetica, WinAnsi):
 * characters outside printable ASCII are shown as '?'. Streams are left
 * uncompressed, so the text can be found in the file. ob_pdf_close
 * hands over an open descriptor of the finished file (its name unlinked)
 * and its size; close and abort free the ob_pdf. */
#ifndef OB_API_EXPORT_PDF_H
#define OB_API_EXPORT_PDF_H

#include <jansson.h>
#include <stdint.h>

#include "base/base.h"
#include "schema/registry.h"

typedef struct ob_pdf ob_pdf;

/* A document of one table: title, filters ("" when none), generated (a
 * timestamp), mark (the watermark line, or NULL), the column names. */
ob_pdf *ob_pdf_new(const char *title, const char *filters, const char *generated, const char *mark,
                   const char *const *names, int n, ob_err *err);
/* One row of the list's JSON: cols[k]'s value in column k. */
int ob_pdf_row(ob_pdf *p, const ob_column *const *cols, int n, json_t *row, ob_err *err);
int ob_pdf_close(ob_pdf *p, const char *dir, int *fd, int64_t *bytes, ob_err *err);
void ob_pdf_abort(ob_pdf *p);

#endif
