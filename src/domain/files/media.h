/* media.h - what the files area does with uploaded content after the
 * upload (issue 12): an image's thumbnail and compressed copy, the text of a
 * customer document (OCR), and the purge of documents past their retention.
 * Each is a job (domain/work/kinds.c) queued in the transaction of its
 * cause; the slow part (libvips, Tesseract) runs on a reader, outside the
 * tenant's write lock, and its outcome is written by the kind's settle. */
#ifndef OB_DOMAIN_FILES_MEDIA_H
#define OB_DOMAIN_FILES_MEDIA_H

#include "base/strbuf.h"
#include "schema/ctx.h"
#include "schema/registry.h"
#include "schema/row.h"

/* files: a file attached to a record names one the uploader may see (attach.c). */
extern const ob_hooks ob_file_hooks;

/* images: queue images.process for a new image made from an upload. */
extern const ob_hooks ob_image_hooks;

/* customer_documents: purge_after from created_at and retention_days (on
 * create and when the days change), and documents.ocr for a new document
 * whose file is an image or a PDF. Called by the crm area's hooks. */
void ob_document_retention(ob_ctx *ctx, const ob_row *old, ob_row *row);
int ob_document_queue_ocr(ob_ctx *ctx, const ob_row *row, ob_err *err);

/* Job kinds. */
int ob_image_process_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
int ob_image_process_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err);
int ob_document_ocr_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
int ob_document_ocr_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err);
int ob_document_purge_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);

/* Seed: the tenant's daily purge schedule, created once. */
int ob_seed_files(ob_ctx *ctx, ob_err *err);

#endif
