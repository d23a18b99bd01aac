/* api_int.h - what the route files of src/api/ share: the handlers the route
 * table (route.h) names, each called only after the gate (gate.c) passed. */
#ifndef OB_API_INT_H
#define OB_API_INT_H

#include <jansson.h>

#include "api/app.h"
#include "api/route.h"
#include "schema/ctx.h"
#include "schema/registry.h"

/* Run the generic checks of route r, in the one order: authentication,
 * tenant binding, feature, permission, rate limit, input. 0 with call
 * filled; -1 with the refusal written to resp. */
int ob_gate(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, const ob_route_row *r, ob_call *call);

/* Write a whole row response with its ETag. */
/* Parse the request body as a JSON object; requires application/json.
 * allow_empty: an empty body gives *out = NULL. (The gate's input step.) */
int ob_api_body(const ob_app *app, const ob_req *req, bool allow_empty, json_t **out, ob_err *err);
void ob_api_row_resp(ob_ctx *ctx, ob_resp *resp, const ob_row *row, int status);

/* app.c: probes and the document */
void ob_api_healthz(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_readyz(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_report_inventory(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* What the reports share (reports.c): a YYYY-MM-DD date as the UTC
 * midnight starting it; a 400 bad_query answer (returns -1); and the period
 * and grouping of ?from=&to=&group= (to on or after from; group defaults to
 * the given one), -1 after answering 400. */
bool ob_api_report_date(const char *s, int64_t *ms);
int ob_api_bad_query(ob_resp *resp, const char *msg);
typedef struct ob_report_period {
    const char *from, *to, *group;
    int64_t from_ms, to_ms;
} ob_report_period;
int ob_api_report_period(const ob_req *req, const char *group, ob_report_period *p, ob_resp *resp);
/* GET /api/v1/reports/support (report_support.c). */
void ob_api_report_support(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* report_crm.c: a customer's timeline, follow-ups due, occasions of a month. */
void ob_api_customer_timeline(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_report_follow_ups(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_report_occasions(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* GET /api/v1/tickets/{id}/suggestions (suggestions.c). */
void ob_api_ticket_suggestions(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* GET /api/v1/reports/ndr (report_ndr.c). */
void ob_api_report_ndr(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* GET /api/v1/reports/pnl (report_pnl.c). */
void ob_api_report_pnl(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* metal_rates.c: the rate in force at a time */
void ob_api_metal_rate_current(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* audit_verify.c: the audit hash chain recomputed */
void ob_api_audit_verify(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* one_record.c: an air-cargo shipment as a ONE Record logistics object, and
 * LogisticsEvents taken in as tracking_events milestones */
void ob_api_one_record_get(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_one_record_event(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_metrics(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_openapi(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* Inbound webhooks (hooks.c): the provider is the route's fourth segment. */
void ob_api_hook(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* stream.c: GET /api/v1/stream, Server-Sent Events */
void ob_api_stream(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* auth_routes.c */
void ob_api_login(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_refresh(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_mfa_enroll(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_mfa_confirm(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_mfa_verify(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_mfa_disable(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_logout(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_me(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* platform.c: the super admins' sign-in and session (platform/admins.h) */
void ob_api_platform_login(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_platform_verify(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_platform_me(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_platform_logout(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_platform_export(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_platform_export_download(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_platform_stats(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* platform_tenants.c: POST /api/v1/platform/tenants (provisioning) */
void ob_api_platform_tenant_create(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* resource.c: the generic routes of every table */
void ob_api_list(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_get(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_create(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_update(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_delete(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_verb(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* GET /api/v1/<t>/{id}/<view>: a figure the domain reads from the record (ob_resource.views) */
void ob_api_view(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* upload.c, download.c: tables whose rows are uploads (OB_RES_UPLOAD) */
void ob_api_upload(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
void ob_api_download(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* export.c: GET /api/v1/<t>/export of every table */
void ob_api_export(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* import.c: POST /api/v1/<t>/import of every table that takes creates */
void ob_api_import(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* export_approval.c: GET /api/v1/export_logs/{id}/download?token= */
void ob_api_export_download(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);
/* The gate's input step of an OB_IN_UPLOAD row (upload.c). */
int ob_api_upload_input(ob_app *app, ob_req *req, ob_ctx *ctx, const ob_route_row *r, ob_call *call, ob_err *err);
/* The tenant's limit on one uploaded file, an import's too
 * (security_settings.max_upload_bytes; 25 MiB when unset). */
int ob_api_tenant_upload_limit(ob_ctx *ctx, int64_t *out, ob_err *err);

#endif
