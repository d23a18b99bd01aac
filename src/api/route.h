/* route.h - the route table: every route the server answers is one row.
 *
 * A row says what the gate (gate.c) checks before its handler runs: how the
 * caller authenticates, the permission code, the feature the tenant's plan
 * must enable, the rate class and the declared input. The generic routes of
 * every declared table and of every state-machine event and action are
 * generated rows (routes.c), so a table or action added to the registry has
 * its routes with no change here; probes, the OpenAPI document and the auth
 * routes are explicit rows. Routing (404, 405 with Allow), the gate, the
 * OpenAPI operations (openapi.c) and `opsbase routes` all read this one
 * table. Built once, before any thread starts; never changed after.
 */
#ifndef OB_ROUTE_H
#define OB_ROUTE_H

#include <jansson.h>

#include "api/app.h"
#include "api/ratelimit.h"
#include "schema/ctx.h"
#include "schema/list.h"
#include "schema/registry.h"

/* How the caller proves who it is. */
typedef enum ob_auth_kind {
    OB_AUTH_NONE,   /* anyone (probes, the document, sign-in) */
    OB_AUTH_BEARER, /* a session's bearer token, which names the tenant */
    OB_AUTH_PLATFORM, /* a super admin's platform token (obp_): no tenant; tenant tokens never pass */
} ob_auth_kind;

/* What the gate reads and validates before the handler. */
typedef enum ob_input_kind {
    OB_IN_NONE,   /* nothing is read */
    OB_IN_EMPTY,  /* a body is refused (DELETE); If-Match read */
    OB_IN_QUERY,  /* the list query (filters, sort, cursor, q) */
    OB_IN_CREATE, /* a JSON object validated as a create of the table */
    OB_IN_UPDATE, /* a JSON object validated as a PATCH; If-Match read */
    OB_IN_VERB,   /* an optional JSON object: the event's fields or the action's input */
    OB_IN_FIELDS, /* a JSON object of the row's declared text fields, all required */
    OB_IN_UPLOAD, /* a spooled file (multipart field "file", or a raw body named by Content-Disposition):
                     size under the tenant's limit, type sniffed and allowed, the other fields validated
                     as a create of the table; the server's columns filled from the content */
    OB_IN_TABLES, /* ?tables=a,b: tables the caller may read as GET of their records does (400 unknown,
                     403 without the GET's permission or feature), and Last-Event-ID or ?last_event_id= */
} ob_input_kind;

/* Which operation a row is, for the OpenAPI document's shape of it. */
typedef enum ob_route_kind {
    OB_RK_LIVE, OB_RK_READY, OB_RK_METRICS, OB_RK_OPENAPI, OB_RK_LOGIN, OB_RK_REFRESH, OB_RK_LOGOUT, OB_RK_ME,
    OB_RK_MFA_ENROLL, OB_RK_MFA_CONFIRM, OB_RK_MFA_VERIFY, OB_RK_MFA_DISABLE, /* the second factor (auth_routes.c) */
    OB_RK_REPORT,
    OB_RK_REPORT_PNL, OB_RK_METAL_RATE, OB_RK_AUDIT_VERIFY,
    OB_RK_REPORT_SUPPORT, OB_RK_TICKET_SUGGESTIONS, /* the support desk (report_support.c, suggestions.c) */
    OB_RK_REPORT_NDR,     /* the NDR workbench's figures (report_ndr.c) */
    OB_RK_CUSTOMER_TIMELINE, OB_RK_REPORT_CRM, /* the gold shop's customer views (report_crm.c) */
    OB_RK_ONE_RECORD_GET, OB_RK_ONE_RECORD_EVENT, /* IATA ONE Record (api/one_record.c) */
    OB_RK_HOOK, /* an inbound webhook: the provider signs the body (api/hooks.c) */
    OB_RK_STREAM, /* committed changes as Server-Sent Events (api/stream.c) */
    OB_RK_LIST, OB_RK_CREATE, OB_RK_GET, OB_RK_UPDATE, OB_RK_DELETE, OB_RK_VERB, OB_RK_UPLOAD, OB_RK_CONTENT, OB_RK_EXPORT,
    OB_RK_EXPORT_DOWNLOAD, /* the one download of an approved export (export_approval.c) */
    OB_RK_IMPORT,          /* rows from CSV or NDJSON through the create path (import.c) */
    OB_RK_PLATFORM_LOGIN, OB_RK_PLATFORM_VERIFY, OB_RK_PLATFORM_ME, OB_RK_PLATFORM_LOGOUT, /* platform.c */
    OB_RK_PLATFORM_EXPORT, /* a tenant's export archive, made by a job (platform_export.c) */
    OB_RK_PLATFORM_EXPORT_DOWNLOAD, /* its download (platform_export.c) */
    OB_RK_PLATFORM_STATS, /* the monitoring figures (platform.c, ops/stats.h) */
    OB_RK_PLATFORM_TENANT_CREATE, /* provisioning a tenant (platform_tenants.c) */
    OB_RK_VIEW,            /* a figure read from one record (ob_resource.views, resource.c) */
} ob_route_kind;

/* A required text field of an OB_IN_FIELDS body. */
typedef struct ob_route_field {
    const char *name;
    size_t max; /* characters */
    bool optional; /* may be absent (the handler gets NULL) */
} ob_route_field;

#define OB_ROUTE_MAX_FIELDS 4
#define OB_ROUTE_MAX_TABLES 16
#define OB_ROUTE_MAX_SEGS 6

typedef struct ob_route_row ob_route_row;

/* What the gate hands a handler: everything already checked. */
typedef struct ob_call {
    const ob_route_row *route;
    const char *id;           /* the {id} segment, or NULL */
    json_t *body;             /* the parsed body, or NULL (the gate frees it) */
    ob_row *input;            /* CREATE, UPLOAD: the new row; UPDATE: the given fields; VERB: the input or NULL */
    ob_listq query;           /* QUERY */
    const char *fields[OB_ROUTE_MAX_FIELDS]; /* FIELDS, in the declared order (arena copies) */
    int64_t if_match;         /* -1: none */
    const char *idem_key;     /* a valid Idempotency-Key of a POST, or NULL */
    const ob_table *tables[OB_ROUTE_MAX_TABLES]; /* TABLES: distinct, in the order asked */
    int ntables;
    int64_t last_event_id;    /* TABLES: -1 when none was sent */
} ob_call;

typedef void (*ob_route_fn)(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call);

struct ob_route_row {
    ob_route_kind kind;
    const char *method;       /* GET, POST, PATCH or DELETE; HEAD is answered as GET */
    const char *path;         /* "/api/v1/tickets/{id}/start"; {id} is the parameter handlers get, and an
                                 inbound webhook's path also has {tenant} (the handler reads req->seg) */
    ob_route_fn handler;
    ob_auth_kind auth;
    const char *perm;         /* permission code the principal must hold; NULL: any signed-in principal */
    const char *feature;      /* feature code the tenant must have enabled; NULL: none */
    ob_rate_class rate;
    ob_input_kind input;
    bool write;               /* changes the table's rows: customer users only where rows are theirs */
    const ob_table *t;        /* generic rows */
    const char *verb;         /* VERB rows, and DELETE of a table whose DELETE runs an action */
    const ob_route_field *fields; /* FIELDS rows */
    int nfields;
    const char *op_id;        /* OpenAPI operationId, unique */
    const char *summary;
    const char *segs[OB_ROUTE_MAX_SEGS]; /* path split at '/', for matching */
    int nseg;
};

typedef struct ob_routes {
    const ob_route_row *rows;
    int n;
} ob_routes;

/* The table, built from the registry on the first call (call it once before
 * threads start: ob_app_init does). Rows of one path are adjacent. */
const ob_routes *ob_routes_get(void);

/* Find the row for a method and split path. 0 with *out, or -1 with err:
 * OB_E_NO_ROUTE, or OB_E_METHOD with *allow set to the methods the path
 * answers ("GET, POST"). *id receives the {id} segment. */
int ob_routes_match(const char *method, const char *const *seg, int nseg, const ob_route_row **out,
                    const char **id, const char **allow, ob_err *err);

/* The GET {id} row of a table (its permission and feature), or NULL. */
const ob_route_row *ob_routes_record_get(const ob_table *t);

/* Names of the enums as `opsbase routes` and the document spell them. */
const char *ob_auth_kind_name(ob_auth_kind k);
const char *ob_rate_class_name(ob_rate_class c);
const char *ob_input_kind_name(ob_input_kind k);

/* The table as JSON: {"routes": [{method, path, auth, permission, feature,
 * rate_class, input, operation_id}, ...]} for `opsbase routes`. */
void ob_routes_write_json(ob_sb *out);

#endif
