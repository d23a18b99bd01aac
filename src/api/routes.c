/* routes.c - the route table (route.h): explicit rows, the rows generated
 * from the registry, and matching a request against them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/features.h"
#include "api/route.h"
#include "base/base.h"
#include "schema/crud.h"
#include "schema/methods.h"
#include "base/banned.h"

static const ob_route_field login_fields[] = {{"tenant", 100}, {"email", 255}, {"password", 256}};
static const ob_route_field platform_login_fields[] = {{"email", 255}, {"password", 256}};
static const ob_route_field platform_verify_fields[] = {{"challenge", 100}, {"code", 10}};
static const ob_route_field refresh_fields[] = {{"refresh_token", 200}};
static const ob_route_field mfa_code_fields[] = {{"code", 10}};
static const ob_route_field mfa_enroll_fields[] = {{"password", 256}};
static const ob_route_field mfa_verify_fields[] = {
    {"challenge", 200}, {"code", 10, .optional = true}, {"recovery_code", 40, .optional = true}};

/* The routes outside the registry. */
static const ob_route_row explicit_rows[] = {
    {OB_RK_LIVE, "GET", "/healthz", ob_api_healthz, OB_AUTH_NONE, .op_id = "healthz", .summary = "liveness probe"},
    {OB_RK_READY, "GET", "/readyz", ob_api_readyz, OB_AUTH_NONE, .op_id = "readyz", .summary = "readiness probe"},
    {OB_RK_METRICS, "GET", "/metrics", ob_api_metrics, OB_AUTH_NONE, .op_id = "metrics",
     .summary = "Prometheus metrics (needs the server's --metrics-token)"},
    {OB_RK_OPENAPI, "GET", "/api/openapi.json", ob_api_openapi, OB_AUTH_NONE, .op_id = "openapi",
     .summary = "this document"},
    {OB_RK_LOGIN, "POST", "/api/v1/auth/login", ob_api_login, OB_AUTH_NONE, .rate = OB_RATE_AUTH,
     .input = OB_IN_FIELDS, .fields = login_fields, .nfields = (int)OB_ARRAY_LEN(login_fields),
     .op_id = "auth_login", .summary = "sign in"},
    {OB_RK_REFRESH, "POST", "/api/v1/auth/refresh", ob_api_refresh, OB_AUTH_NONE, .rate = OB_RATE_AUTH,
     .input = OB_IN_FIELDS, .fields = refresh_fields, .nfields = (int)OB_ARRAY_LEN(refresh_fields),
     .op_id = "auth_refresh", .summary = "exchange a refresh token for a new bearer token and refresh token"},
    {OB_RK_MFA_ENROLL, "POST", "/api/v1/auth/mfa/enroll", ob_api_mfa_enroll, OB_AUTH_BEARER, .rate = OB_RATE_WRITE,
     .input = OB_IN_FIELDS, .fields = mfa_enroll_fields, .nfields = (int)OB_ARRAY_LEN(mfa_enroll_fields), .op_id = "auth_mfa_enroll", .summary = "start TOTP enrolment: the secret and its otpauth:// URI, shown once"},
    {OB_RK_MFA_CONFIRM, "POST", "/api/v1/auth/mfa/confirm", ob_api_mfa_confirm, OB_AUTH_BEARER,
     .rate = OB_RATE_WRITE, .input = OB_IN_FIELDS, .fields = mfa_code_fields,
     .nfields = (int)OB_ARRAY_LEN(mfa_code_fields), .op_id = "auth_mfa_confirm",
     .summary = "turn MFA on with a code of the enrolled secret; answers ten single-use recovery codes, once"},
    {OB_RK_MFA_VERIFY, "POST", "/api/v1/auth/mfa/verify", ob_api_mfa_verify, OB_AUTH_NONE, .rate = OB_RATE_AUTH,
     .input = OB_IN_FIELDS, .fields = mfa_verify_fields, .nfields = (int)OB_ARRAY_LEN(mfa_verify_fields),
     .op_id = "auth_mfa_verify", .summary = "complete a sign-in's MFA challenge with a code or a recovery code"},
    {OB_RK_MFA_DISABLE, "POST", "/api/v1/auth/mfa/disable", ob_api_mfa_disable, OB_AUTH_BEARER,
     .rate = OB_RATE_WRITE, .input = OB_IN_FIELDS, .fields = mfa_code_fields,
     .nfields = (int)OB_ARRAY_LEN(mfa_code_fields), .op_id = "auth_mfa_disable", .summary = "turn MFA off with a code"},
    {OB_RK_LOGOUT, "POST", "/api/v1/auth/logout", ob_api_logout, OB_AUTH_BEARER, .rate = OB_RATE_WRITE,
     .op_id = "auth_logout", .summary = "end this token's session"},
    {OB_RK_ME, "GET", "/api/v1/auth/me", ob_api_me, OB_AUTH_BEARER, .rate = OB_RATE_READ, .op_id = "auth_me",
     .summary = "the signed-in user and what they may do"},
    {OB_RK_REPORT, "GET", "/api/v1/reports/inventory", ob_api_report_inventory, OB_AUTH_BEARER, .perm = "reports.view",
     .feature = "advanced_analytics", .rate = OB_RATE_READ, .op_id = "report_inventory",
     .summary = "daily inventory metrics: units sold and received, stock-outs, value, turnover"},
    {OB_RK_REPORT_PNL, "GET", "/api/v1/reports/pnl", ob_api_report_pnl, OB_AUTH_BEARER, .perm = "finance.view",
     .rate = OB_RATE_READ, .op_id = "report_pnl",
     .summary = "profit and loss from delivered orders' revenue and expenses, by day, month or channel"},
    {OB_RK_REPORT_SUPPORT, "GET", "/api/v1/reports/support", ob_api_report_support, OB_AUTH_BEARER,
     .perm = "reports.view", .rate = OB_RATE_READ, .op_id = "report_support",
     .summary = "support desk figures by category or agent: tickets, SLA compliance, first-response minutes, CSAT"},
    {OB_RK_REPORT_NDR, "GET", "/api/v1/reports/ndr", ob_api_report_ndr, OB_AUTH_BEARER, .perm = "ndr.view",
     .rate = OB_RATE_READ, .op_id = "report_ndr",
     .summary = "NDR figures: open cases by age and reason, first-attempt delivery rate, RTO rate by courier"},
    {OB_RK_REPORT_CRM, "GET", "/api/v1/reports/follow_ups", ob_api_report_follow_ups, OB_AUTH_BEARER,
     .perm = "crm.view", .rate = OB_RATE_READ, .op_id = "report_follow_ups",
     .summary = "communications whose follow-up is due today (the tenant's time zone) or overdue"},
    {OB_RK_REPORT_CRM, "GET", "/api/v1/reports/occasions", ob_api_report_occasions, OB_AUTH_BEARER,
     .perm = "crm.view", .rate = OB_RATE_READ, .op_id = "report_occasions",
     .summary = "customers' birthdays, anniversaries and other special occasions in a month"},
    {OB_RK_CUSTOMER_TIMELINE, "GET", "/api/v1/customers/{id}/timeline", ob_api_customer_timeline, OB_AUTH_BEARER,
     .perm = "customers.view", .rate = OB_RATE_READ, .op_id = "customers_timeline",
     .summary = "a customer's invoices, payments, communications, documents and tickets in time order"},
    {OB_RK_TICKET_SUGGESTIONS, "GET", "/api/v1/tickets/{id}/suggestions", ob_api_ticket_suggestions, OB_AUTH_BEARER,
     .perm = "tickets.view", .rate = OB_RATE_READ, .op_id = "tickets_suggestions",
     .summary = "knowledge-base documents relevant to the ticket's title and description"},
    {OB_RK_AUDIT_VERIFY, "GET", "/api/v1/audit_logs/verify", ob_api_audit_verify, OB_AUTH_BEARER,
     .perm = "audit.view", .rate = OB_RATE_READ, .op_id = "audit_logs_verify",
     .summary = "recompute the tenant's audit hash chain and report the first broken link"},
    /* the permission of each table asked for is the input step's (OB_IN_TABLES) */
    {OB_RK_STREAM, "GET", "/api/v1/stream", ob_api_stream, OB_AUTH_BEARER, .rate = OB_RATE_READ,
     .input = OB_IN_TABLES, .op_id = "stream",
     .summary = "committed changes to the tables asked for, as Server-Sent Events, each as a GET of the record "
                "shows it to the caller"},
    /* before the table's GET {id}: explicit rows come first in their group */
    {OB_RK_METAL_RATE, "GET", "/api/v1/metal_rates/current", ob_api_metal_rate_current, OB_AUTH_BEARER,
     .perm = "finance.view", .feature = "finance_reports", .rate = OB_RATE_READ, .op_id = "metal_rates_current",
     .summary = "the metal rate in force at a time"},
    /* an approved export, once, by its requester with the token it was given */
    {OB_RK_EXPORT_DOWNLOAD, "GET", "/api/v1/export_logs/{id}/download", ob_api_export_download, OB_AUTH_BEARER,
     .rate = OB_RATE_READ, .op_id = "export_logs_download",
     .summary = "download an approved export once, with the token its request answered"},
    /* IATA ONE Record: the shipment as a logistics object, its events in */
    {OB_RK_ONE_RECORD_GET, "GET", "/api/v1/one-record/logistics-objects/{id}", ob_api_one_record_get, OB_AUTH_BEARER,
     .perm = "shipments.view", .rate = OB_RATE_READ, .op_id = "one_record_logistics_object",
     .summary = "an air-cargo shipment as an IATA ONE Record Shipment with its Waybill and LogisticsEvents (JSON-LD)"},
    {OB_RK_ONE_RECORD_EVENT, "POST", "/api/v1/one-record/logistics-objects/{id}/logistics-events",
     ob_api_one_record_event, OB_AUTH_BEARER, .perm = "shipments.create", .rate = OB_RATE_WRITE, .write = true,
     .op_id = "one_record_logistics_event",
     .summary = "a ONE Record LogisticsEvent of an air-cargo shipment, stored as a tracking_events milestone"},
    /* inbound webhooks: signed by the provider with the channel's secret, no session */
    {OB_RK_HOOK, "POST", "/api/v1/hooks/shopify/{tenant}/{id}", ob_api_hook, OB_AUTH_NONE, .rate = OB_RATE_WRITE,
     .op_id = "hook_shopify", .summary = "a Shopify webhook (X-Shopify-Hmac-Sha256) of a connected sales channel"},
    {OB_RK_HOOK, "POST", "/api/v1/hooks/woocommerce/{tenant}/{id}", ob_api_hook, OB_AUTH_NONE, .rate = OB_RATE_WRITE,
     .op_id = "hook_woocommerce",
     .summary = "a WooCommerce webhook (X-WC-Webhook-Signature) of a connected sales channel"},
    /* the platform (super admins): a token of its own, never a tenant's */
    {OB_RK_PLATFORM_LOGIN, "POST", "/api/v1/platform/auth/login", ob_api_platform_login, OB_AUTH_NONE,
     .rate = OB_RATE_AUTH, .input = OB_IN_FIELDS, .fields = platform_login_fields,
     .nfields = (int)OB_ARRAY_LEN(platform_login_fields), .op_id = "platform_auth_login",
     .summary = "a super admin's password: answers an MFA challenge (and the enrolment secret the first time)"},
    {OB_RK_PLATFORM_VERIFY, "POST", "/api/v1/platform/auth/mfa/verify", ob_api_platform_verify, OB_AUTH_NONE,
     .rate = OB_RATE_AUTH, .input = OB_IN_FIELDS, .fields = platform_verify_fields,
     .nfields = (int)OB_ARRAY_LEN(platform_verify_fields), .op_id = "platform_auth_mfa_verify",
     .summary = "complete a platform sign-in with a TOTP code: answers the platform token"},
    {OB_RK_PLATFORM_ME, "GET", "/api/v1/platform/auth/me", ob_api_platform_me, OB_AUTH_PLATFORM,
     .rate = OB_RATE_READ, .op_id = "platform_auth_me", .summary = "the signed-in super admin"},
    {OB_RK_PLATFORM_LOGOUT, "POST", "/api/v1/platform/auth/logout", ob_api_platform_logout, OB_AUTH_PLATFORM,
     .rate = OB_RATE_WRITE, .op_id = "platform_auth_logout", .summary = "end this platform token's session"},
    {OB_RK_PLATFORM_STATS, "GET", "/api/v1/platform/stats", ob_api_platform_stats, OB_AUTH_PLATFORM,
     .rate = OB_RATE_READ, .op_id = "platform_stats",
     .summary = "monitoring: top statements by time, the largest tenants and tables, connections, job queues"},
    {OB_RK_PLATFORM_TENANT_CREATE, "POST", "/api/v1/platform/tenants", ob_api_platform_tenant_create,
     OB_AUTH_PLATFORM, .rate = OB_RATE_WRITE, .op_id = "platform_tenants_create",
     .summary = "provision a tenant: its control rows, its database migrated and seeded, and its owner"},
    {OB_RK_PLATFORM_EXPORT, "POST", "/api/v1/platform/tenants/{id}/export", ob_api_platform_export, OB_AUTH_PLATFORM,
     .rate = OB_RATE_WRITE, .op_id = "platform_tenants_export",
     .summary = "queue the tenant's export (GDPR portability): answers 202 with a tenant_exports row that a job "
                "completes with one archive of every row and file, a manifest and checksums"},
    {OB_RK_PLATFORM_EXPORT_DOWNLOAD, "GET", "/api/v1/platform/tenant_exports/{id}/download",
     ob_api_platform_export_download, OB_AUTH_PLATFORM, .rate = OB_RATE_READ, .op_id = "platform_tenant_exports_download",
     .summary = "the archive of a finished tenant export (application/x-tar; X-Checksum-SHA256)"},
    {OB_RK_HOOK, "POST", "/api/v1/hooks/generic/{tenant}/{id}", ob_api_hook, OB_AUTH_NONE, .rate = OB_RATE_WRITE,
     .op_id = "hook_generic", .summary = "a webhook in the generic signed form (Opsbase-Signature) of a connected sales channel"},
    {OB_RK_HOOK, "POST", "/api/v1/hooks/courier/{tenant}/{id}", ob_api_hook, OB_AUTH_NONE, .rate = OB_RATE_WRITE,
     .op_id = "hook_courier",
     .summary = "a courier's tracking scans in the generic signed form (Opsbase-Signature) for a courier configuration"},
};

/* The permission code of a verb on t: the table's override of view, create,
 * edit or delete, else "<module>.<verb>". */
static const char *perm_code(const ob_table *t, const char *verb)
{
    const ob_resource *r = t->res;
    if (!strcmp(verb, "view") && r->perm_view) return r->perm_view;
    if (!strcmp(verb, "create") && r->perm_create) return r->perm_create;
    if (!strcmp(verb, "edit") && r->perm_edit) return r->perm_edit;
    if (!strcmp(verb, "delete") && r->perm_delete) return r->perm_delete;
    size_t n = strlen(r->perm ? r->perm : t->name) + strlen(verb) + 2;
    char *s = malloc(n);
    if (!s) abort();
    snprintf(s, n, "%s.%s", r->perm ? r->perm : t->name, verb);
    return s;
}

static char *dupf(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
    char *s = malloc(n);
    if (!s) abort();
    snprintf(s, n, fmt, a, b ? b : "");
    return s;
}

typedef struct builder {
    ob_route_row *rows;
    int n, cap;
    bool platform; /* rows of a control table: /api/v1/platform/<t>, super admins only */
} builder;

static ob_route_row *add(builder *b, const ob_route_row *r)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->rows = realloc(b->rows, (size_t)b->cap * sizeof *b->rows);
        if (!b->rows) abort();
    }
    b->rows[b->n] = *r;
    return &b->rows[b->n++];
}

static const ob_action *find_action(const ob_table *t, const char *verb)
{
    for (int i = 0; i < t->res->nactions; i++)
        if (!strcmp(t->res->actions[i].verb, verb)) return &t->res->actions[i];
    return NULL;
}

/* One row of a generic route of t. */
static void table_row(builder *b, const ob_table *t, ob_route_kind kind, const char *method, const char *path,
                      ob_route_fn fn, const char *pverb, ob_input_kind in, const char *verb, const char *op)
{
    bool write = strcmp(method, "GET") != 0;
    /* a super admin holds every platform operation; no tenant, so no feature */
    ob_route_row r = {kind, method, path, fn, b->platform ? OB_AUTH_PLATFORM : OB_AUTH_BEARER,
                      b->platform ? NULL : perm_code(t, pverb), b->platform ? NULL : ob_feature_of_module(t->res->perm),
                      write ? OB_RATE_WRITE : OB_RATE_READ, in, write, t, verb};
    r.op_id = dupf(b->platform ? "platform_%s_%s" : "%s_%s", t->name, op);
    add(b, &r);
}

static void verb_rows(builder *b, const ob_table *t, const char *rec);

/* The generic rows of a table, from the one method rule (schema/methods.h)
 * and its declared events and actions. */
static void table_rows(builder *b, const ob_table *t)
{
    const char *pre = b->platform ? "/api/v1/platform/%s%s" : "/api/v1/%s%s";
    char *coll = dupf(pre, t->name, NULL), *rec = dupf(pre, t->name, "/{id}");
    unsigned cm = ob_methods(t, OB_ROUTE_COLLECTION), rm = ob_methods(t, OB_ROUTE_RECORD);
    table_row(b, t, OB_RK_LIST, "GET", coll, ob_api_list, "view", OB_IN_QUERY, NULL, "list");
    if (b->platform) {
        /* the control tables: read, create and change; rows end by declared
         * events (a tenant's suspend), never by a plain DELETE, and files, imports and
         * exports are a tenant's */
        if (cm & OB_M_POST) table_row(b, t, OB_RK_CREATE, "POST", coll, ob_api_create, "create", OB_IN_CREATE, NULL, "create");
        table_row(b, t, OB_RK_GET, "GET", rec, ob_api_get, "view", OB_IN_NONE, NULL, "get");
        if (rm & OB_M_PATCH) table_row(b, t, OB_RK_UPDATE, "PATCH", rec, ob_api_update, "edit", OB_IN_UPDATE, NULL, "update");
        /* ... unless DELETE runs a declared action (a tenant's scheduled erasure) */
        if ((rm & OB_M_DELETE) && t->res->delete_action)
            table_row(b, t, OB_RK_DELETE, "DELETE", rec, ob_api_delete, ob_crud_action_perm(t, t->res->delete_action),
                      OB_IN_EMPTY, t->res->delete_action, "delete");
        verb_rows(b, t, rec);
        return;
    }
    bool upload = (t->res->flags & OB_RES_UPLOAD) != 0;
    if ((cm & OB_M_POST) && upload)
        table_row(b, t, OB_RK_UPLOAD, "POST", coll, ob_api_upload, "create", OB_IN_UPLOAD, NULL, "upload");
    else if (cm & OB_M_POST)
        table_row(b, t, OB_RK_CREATE, "POST", coll, ob_api_create, "create", OB_IN_CREATE, NULL, "create");
    /* before the record's rows: "import" and "export" are literals, never taken as an {id} */
    if ((cm & OB_M_POST) && !upload)
        table_row(b, t, OB_RK_IMPORT, "POST", dupf("%s%s", coll, "/import"), ob_api_import, "create", OB_IN_NONE, NULL,
                  "import");
    table_row(b, t, OB_RK_EXPORT, "GET", dupf("%s%s", coll, "/export"), ob_api_export, "export", OB_IN_NONE, NULL,
              "export");
    table_row(b, t, OB_RK_GET, "GET", rec, ob_api_get, "view", OB_IN_NONE, NULL, "get");
    if (rm & OB_M_PATCH) table_row(b, t, OB_RK_UPDATE, "PATCH", rec, ob_api_update, "edit", OB_IN_UPDATE, NULL, "update");
    if (rm & OB_M_DELETE) {
        /* a table that keeps its rows ends one by its declared action instead */
        const char *act = t->res->delete_action;
        table_row(b, t, OB_RK_DELETE, "DELETE", rec, ob_api_delete, act ? ob_crud_action_perm(t, act) : "delete",
                  OB_IN_EMPTY, act, "delete");
    }
    /* after the record's rows: the rows of one path stay adjacent */
    if (ob_registry_content_of(t))
        table_row(b, t, OB_RK_CONTENT, "GET", dupf("%s%s", rec, "/content"), ob_api_download, "view", OB_IN_NONE,
                  NULL, "content");
    /* a variant's row carries its reference column where a verb would be */
    for (int i = 0; i < t->res->nvariants; i++) {
        const ob_file_variant *v = &t->res->variants[i];
        table_row(b, t, OB_RK_CONTENT, "GET", dupf("%s/%s", rec, v->name), ob_api_download, "view", OB_IN_NONE,
                  v->ref, v->name);
    }
    /* a view's row carries its name where a verb would be */
    for (int i = 0; i < t->res->nviews; i++) {
        const ob_view *v = &t->res->views[i];
        table_row(b, t, OB_RK_VIEW, "GET", dupf("%s/%s", rec, v->name), ob_api_view, "view", OB_IN_NONE, v->name,
                  v->name);
    }
    verb_rows(b, t, rec);
}

/* One route per distinct verb; the engine prefers an action to an event. */
static void verb_rows(builder *b, const ob_table *t, const char *rec)
{
    const ob_fsm *f = t->res->fsm;
    for (int i = 0; f && i < f->n; i++) {
        const char *v = f->rows[i].event;
        bool seen = find_action(t, v) != NULL;
        for (int j = 0; j < i; j++) seen |= !strcmp(f->rows[j].event, v);
        if (!seen)
            table_row(b, t, OB_RK_VERB, "POST", dupf("%s/%s", rec, v), ob_api_verb, ob_crud_action_perm(t, v),
                      OB_IN_VERB, v, v);
    }
    for (int i = 0; i < t->res->nactions; i++) {
        const ob_action *a = &t->res->actions[i];
        if (find_action(t, a->verb) == a)
            table_row(b, t, OB_RK_VERB, "POST", dupf("%s/%s", rec, a->verb), ob_api_verb,
                      ob_crud_action_perm(t, a->verb), OB_IN_VERB, a->verb, a->verb);
    }
}

/* Split the path into segs (strings that live as long as the table). */
static void split(ob_route_row *r)
{
    char *p = dupf("%s%s", r->path + 1, NULL);
    r->nseg = 0;
    for (char *s = p; s;) {
        char *slash = strchr(s, '/');
        if (slash) *slash = 0;
        if (r->nseg == OB_ROUTE_MAX_SEGS) abort(); /* a declaration bug: no route is that deep */
        r->segs[r->nseg++] = s;
        s = slash ? slash + 1 : NULL;
    }
}

/* Lookup: rows grouped by their first (up to three) segments, which are never
 * parameters, sorted by that key; a request finds its group by binary search
 * and tries the group's few rows. */
typedef struct entry {
    char key[160];
    int row;
} entry;

static ob_routes table;
static entry *index_;
static int nindex;

static void group_key(const char *const *seg, int nseg, char *out, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < nseg && i < 3; i++) {
        int k = snprintf(out + len, n - len, "%s%s", i ? "/" : "", seg[i]);
        if (k < 0 || (size_t)k >= n - len) {
            out[0] = 0; /* longer than any route's key: matches none */
            return;
        }
        len += (size_t)k;
    }
}

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : x->row - y->row;
}

const ob_routes *ob_routes_get(void)
{
    if (table.rows) return &table;
    ob_registry_init();
    builder b = {0};
    for (size_t i = 0; i < OB_ARRAY_LEN(explicit_rows); i++) add(&b, &explicit_rows[i]);
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope == OB_SCOPE_TENANT && !(t->res->flags & OB_RES_NO_API)) table_rows(&b, t);
    }
    /* the control tables with an API are the platform's */
    b.platform = true;
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope == OB_SCOPE_CONTROL && !(t->res->flags & OB_RES_NO_API)) table_rows(&b, t);
    }
    index_ = calloc((size_t)b.n, sizeof *index_);
    if (!index_) abort();
    for (int i = 0; i < b.n; i++) {
        ob_route_row *r = &b.rows[i];
        split(r);
        for (int k = 0; k < r->nseg && k < 3; k++)
            if (r->segs[k][0] == '{') abort(); /* the lookup key must be literal */
        /* a feature is the tenant's: only a route that knows its tenant can have one */
        if (r->feature && r->auth == OB_AUTH_NONE) abort();
        group_key(r->segs, r->nseg, index_[i].key, sizeof index_[i].key);
        index_[i].row = i;
    }
    qsort(index_, (size_t)b.n, sizeof *index_, entry_cmp);
    nindex = b.n;
    table.rows = b.rows;
    table.n = b.n;
    return &table;
}

static bool path_matches(const ob_route_row *r, const char *const *seg, int nseg, const char **id)
{
    if (r->nseg != nseg) return false;
    for (int i = 0; i < nseg; i++) {
        if (!seg[i][0]) return false; /* a doubled or trailing '/' */
        if (!strcmp(r->segs[i], "{id}")) *id = seg[i];
        else if (!strcmp(r->segs[i], "{tenant}")) continue; /* read by its handler */
        else if (strcmp(r->segs[i], seg[i]) != 0) return false;
    }
    return true;
}

int ob_routes_match(const char *method, const char *const *seg, int nseg, const ob_route_row **out,
                    const char **id, const char **allow, ob_err *err)
{
    const ob_routes *rt = ob_routes_get();
    *out = NULL;
    *id = NULL;
    *allow = NULL;
    if (nseg < 1) return ob_err_set(err, OB_E_NO_ROUTE, NULL);
    entry probe = {.row = -1};
    group_key(seg, nseg, probe.key, sizeof probe.key);
    int lo = 0, hi = nindex;
    while (lo < hi) { /* the first entry not below the key */
        int mid = (lo + hi) / 2;
        if (strcmp(index_[mid].key, probe.key) < 0) lo = mid + 1;
        else hi = mid;
    }
    /* HEAD is GET without the body (the server drops it) */
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    unsigned methods = 0;
    for (int i = lo; i < nindex && !strcmp(index_[i].key, probe.key); i++) {
        const ob_route_row *r = &rt->rows[index_[i].row];
        const char *rid = NULL;
        if (!path_matches(r, seg, nseg, &rid)) continue;
        if (!strcmp(r->method, m)) {
            *out = r;
            *id = rid;
            return 0;
        }
        methods |= ob_method_bit(r->method);
    }
    if (!methods) return ob_err_set(err, OB_E_NO_ROUTE, NULL);
    *allow = ob_methods_allow(methods);
    return ob_err_set(err, OB_E_METHOD, NULL);
}

const ob_route_row *ob_routes_record_get(const ob_table *t)
{
    const ob_routes *rt = ob_routes_get();
    for (int i = 0; i < rt->n; i++)
        if (rt->rows[i].kind == OB_RK_GET && rt->rows[i].t == t) return &rt->rows[i];
    return NULL;
}

const char *ob_auth_kind_name(ob_auth_kind k)
{
    return k == OB_AUTH_BEARER ? "bearer" : k == OB_AUTH_PLATFORM ? "platform" : "none";
}

const char *ob_rate_class_name(ob_rate_class c)
{
    static const char *const names[OB_RATE__COUNT] = {"none", "auth", "read", "write"};
    return c < OB_RATE__COUNT ? names[c] : "none";
}

const char *ob_input_kind_name(ob_input_kind k)
{
    static const char *const names[] = {"none", "empty", "query", "create", "update", "verb", "fields", "upload",
                                        "tables"};
    return (size_t)k < OB_ARRAY_LEN(names) ? names[k] : "none";
}

void ob_routes_write_json(ob_sb *out)
{
    const ob_routes *rt = ob_routes_get();
    ob_jsonw w;
    ob_jw_init(&w, out);
    ob_jw_obj_open(&w);
    ob_jw_key(&w, "routes");
    ob_jw_arr_open(&w);
    for (int i = 0; i < rt->n; i++) {
        const ob_route_row *r = &rt->rows[i];
        ob_jw_obj_open(&w);
        ob_jw_kstr(&w, "method", r->method);
        ob_jw_kstr(&w, "path", r->path);
        ob_jw_kstr(&w, "auth", ob_auth_kind_name(r->auth));
        if (r->perm) ob_jw_kstr(&w, "permission", r->perm);
        else ob_jw_knull(&w, "permission");
        if (r->feature) ob_jw_kstr(&w, "feature", r->feature);
        else ob_jw_knull(&w, "feature");
        ob_jw_kstr(&w, "rate_class", ob_rate_class_name(r->rate));
        ob_jw_kstr(&w, "input", ob_input_kind_name(r->input));
        if (r->t) ob_jw_kstr(&w, "table", r->t->name);
        else ob_jw_knull(&w, "table");
        ob_jw_kstr(&w, "operation_id", r->op_id);
        ob_jw_obj_close(&w);
    }
    ob_jw_arr_close(&w);
    ob_jw_obj_close(&w);
}
