/* export_int.h - what export.c (the request) and export_approval.c (the
 * approved export's job and its one-time download) share: the writer of an
 * export into an unlinked file, and the tenant's export rules. */
#ifndef OB_API_EXPORT_INT_H
#define OB_API_EXPORT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "api/export_pdf.h"
#include "api/export_xlsx.h"
#include "base/base.h"
#include "base/kv.h"
#include "files/files.h"
#include "http/http.h"
#include "schema/ctx.h"
#include "schema/registry.h"

/* One export being written. Fill ctx, t and format, pick the columns, then
 * ob_export_write: the rows go into fd, an unlinked file under the spool
 * directory (the open descriptor is its only name). */
typedef struct ob_exporter {
    ob_ctx *ctx;
    const ob_table *t;
    const char *format; /* csv, xlsx, pdf or json */
    int cols[256];      /* column indexes exported */
    int ncols;
    int fd;
    int64_t rows, bytes;
    bool over;          /* stopped past max_rows: fd is closed, no file */
    /* internal */
    bool csv;
    ob_xlsx *xlsx;
    ob_pdf *pdf;
    ob_sb buf;
} ob_exporter;

/* The tenant's rules (security_settings), with the caller's roles'
 * overrides where asked (role_security_settings.custom_export_limit). */
typedef struct ob_export_rules {
    bool enabled, watermark;
    int64_t max_rows, max_per_day;
    int64_t approval_above;  /* require_approval_threshold; -1: never */
    int64_t link_hours;      /* export_link_expiry_hours */
} ob_export_rules;
int ob_export_rules_read(ob_ctx *ctx, ob_export_rules *r, ob_err *err);

/* columns=a,b (NULL: every column the caller sees): declared, visible to
 * the caller, not secret; else 400. */
int ob_export_pick_columns(ob_exporter *x, const char *spec, ob_err *err);
/* Write the rows the list query params give (no cursor or limit), as the
 * caller (ctx->who) sees them, headed by mark when not NULL (CSV, XLSX).
 * max_rows < 0: no limit. On success x->fd is open at the file's start
 * unless x->over; on failure nothing is left open. */
int ob_export_write(ob_exporter *x, const char *spool, const ob_kv *params, int np, const char *mark,
                    int64_t max_rows, ob_err *err);
/* The Content-Type of a format. */
const char *ob_export_mime(const char *format);
/* Insert row in its own write transaction (ctx->db is a reader outside). */
int ob_export_record(ob_ctx *ctx, ob_row *row, ob_err *err);

/* POST .../export above the threshold: the pending export_logs row, and
 * the 202 answer with its one-time token (only here, only to the requester). */
void ob_export_pending(ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_row *log);

/* The file store this process gave the API's jobs (NULL: none). */
const ob_file_store *ob_api_file_store(void);

/* The job reports.mail (report_mail.c): a report run's message with its
 * CSV, XLSX and PDF (run on a reader; settle records the message's outcome). */
int ob_report_mail_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
/* platform.tenant_export: a tenant's export archive (platform_export.c). */
int ob_platform_export_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
int ob_report_mail_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err);
/* The job reports.render (report_mail.c): a run's CSV, XLSX and PDF written
 * into the file store on a reader; settle records them as files rows named
 * by the run and queues a scheduled run's messages, or logs a failure on
 * the run (retried after the back-off; failed after the last attempt). */
int ob_report_render_run(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);
int ob_report_render_settle(ob_ctx *ctx, const ob_row *job, int rc, const ob_err *rerr, ob_sb *result, ob_err *err);

#endif
