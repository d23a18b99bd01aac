/* export_xlsx.h - one sheet of an export written with libxlsxwriter.
 *
 * The workbook runs in constant memory mode: each row goes to a temporary
 * file under `dir` as it is written, so memory is one row's whatever the
 * row count; rows must come in order (header first). ob_xlsx_close
 * finishes the file and hands over an open descriptor of it (its name is
 * unlinked: nothing is left behind) and its size. The ob_xlsx is freed by
 * close, also when close fails; ob_xlsx_abort frees it without a file. */
#ifndef OB_API_EXPORT_XLSX_H
#define OB_API_EXPORT_XLSX_H

#include <jansson.h>
#include <stdint.h>

#include "base/base.h"
#include "schema/registry.h"

typedef struct ob_xlsx ob_xlsx;

/* A workbook in dir (the file store's spool) with one sheet named after the table. */
ob_xlsx *ob_xlsx_new(const char *dir, const char *sheet, ob_err *err);
/* One row of text cells (the header, a watermark line). */
int ob_xlsx_text_row(ob_xlsx *x, const char *const *cells, int n, ob_err *err);
/* One row of the list's JSON: cols[k]'s value in column k, typed as the column is. */
int ob_xlsx_row(ob_xlsx *x, const ob_column *const *cols, int n, json_t *row, ob_err *err);
/* The watermark in the sheet's page header (shown in page layout and on
 * every printed page), cut to the header's 255 characters. */
int ob_xlsx_watermark(ob_xlsx *x, const char *text, ob_err *err);
int ob_xlsx_close(ob_xlsx *x, int *fd, int64_t *bytes, ob_err *err);
void ob_xlsx_abort(ob_xlsx *x);

#endif
