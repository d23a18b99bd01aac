/* gate.c - the one gate: every generic check of a route, once, in one order,
 * before its handler runs (api_int.h). Handlers repeat none of them.
 *
 *   1 authentication   the route's auth kind: a bearer session, or none (401)
 *   2 tenant binding   the token's tenant, its database, the access log's tenant
 *   3 feature          the tenant's plan (or override) has the route's feature (403 feature_disabled)
 *   4 permission       the principal holds the route's code; customer users
 *                      write only tables whose rows are theirs (403 forbidden)
 *   5 rate limit       the caller's bucket of the route's class (429 rate_limited, Retry-After)
 *   6 input            query string, headers and body parsed and validated as
 *                      the route declares (400, 413 and 415 come from here)
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "api/features.h"
#include "auth/session.h"
#include "platform/admins.h"
#include "base/base.h"
#include "base/jsonr.h"
#include "schema/crud.h"
#include "schema/events.h"
#include "base/banned.h"

static bool is_json_type(const char *ct)
{
    if (!ct) return false;
    while (*ct == ' ') ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ')) return true;
    /* JSON-LD is JSON (ONE Record partners send it) */
    n = strlen("application/ld+json");
    return strncasecmp(ct, "application/ld+json", n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* The body as a JSON object; allow_empty: no body gives *out = NULL. */
int ob_api_body(const ob_app *app, const ob_req *req, bool allow_empty, json_t **out, ob_err *err)
{
    *out = NULL;
    if (req->body_len == 0) {
        if (allow_empty) return 0;
        return ob_err_set(err, OB_E_BAD_JSON, "a JSON object body is required");
    }
    if (!is_json_type(req->header(req, "Content-Type")))
        return ob_err_set(err, OB_E_MEDIA_TYPE, "the body must be sent as Content-Type: application/json");
    *out = ob_json_parse_object(req->body, req->body_len, app->max_json_depth, err);
    return *out ? 0 : -1;
}

/* If-Match: "3", 3, W/"3" or *; -1 for none or *, -2 when malformed. */
static int64_t parse_if_match(const char *h)
{
    if (!h) return -1;
    while (*h == ' ') h++;
    if (strcmp(h, "*") == 0) return -1;
    if (strncmp(h, "W/", 2) == 0) h += 2;
    char buf[24];
    size_t n = strlen(h);
    if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof buf) return -2;
    memcpy(buf, h, n);
    buf[n] = 0;
    int64_t v;
    if (ob_parse_i64(buf, &v) != 0 || v < 0) return -2;
    return v;
}

static bool idem_key_valid(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 200) return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e) return false;
    return true;
}

/* An OB_IN_FIELDS body: exactly the declared text fields, each a non-empty
 * string within its length (an optional one may be absent: NULL). */
static int declared_fields(ob_ctx *ctx, const ob_route_row *r, json_t *body, ob_call *call, ob_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        bool known = false;
        for (int i = 0; i < r->nfields && !known; i++) known = !strcmp(key, r->fields[i].name);
        if (!known) return ob_err_set(err, OB_E_UNKNOWN_FIELD, "unknown field \"%.60s\"", key);
    }
    for (int i = 0; i < r->nfields; i++) {
        v = json_object_get(body, r->fields[i].name);
        if (!v && r->fields[i].optional) {
            call->fields[i] = NULL;
            continue;
        }
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > r->fields[i].max) {
            ob_err_set(err, OB_E_VALIDATION, NULL);
            return ob_err_field_add(err, r->fields[i].name, v ? "must be a non-empty string" : "is required");
        }
        /* a copy: the JSON is freed before the response is written */
        call->fields[i] = ob_arena_strdup(ctx->arena, json_string_value(v));
    }
    return 0;
}

/* Whether the principal may read t's records as GET /api/v1/<t>/{id} allows:
 * that row's permission and the tenant's feature (the gate's steps 3 and 4). */
static int may_read(ob_ctx *ctx, const ob_table *t, ob_err *err)
{
    const ob_route_row *g = ob_routes_record_get(t);
    if (!g) return ob_err_set(err, OB_E_BAD_QUERY, "the table \"%s\" has no records to read", t->name);
    if (g->feature) {
        bool on = false;
        if (ob_feature_enabled(ctx->store, ctx->tenant, g->feature, ctx->now_ms, &on, err) != 0) return -1;
        if (!on)
            return ob_err_set(err, OB_E_FEATURE_DISABLED, "the feature \"%s\" is not enabled for this tenant",
                              g->feature);
    }
    if (g->perm && !ob_ctx_can(ctx, g->perm))
        return ob_err_set(err, OB_E_FORBIDDEN, "the permission \"%s\" is required", g->perm);
    return 0;
}

/* An event id: decimal digits, at most 18. */
static int parse_event_id(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18 || strspn(s, "0123456789") != n) return -1;
    return ob_parse_i64(s, out);
}

/* OB_IN_TABLES: ?tables=a,b (each audited and readable by the caller) and
 * the id to resume after (Last-Event-ID, or ?last_event_id= for clients that
 * cannot set headers). Every table is checked before any is refused for
 * permission, so a typo is a 400 whatever the caller's rights. */
static int tables_input(ob_req *req, ob_ctx *ctx, ob_call *call, ob_err *err)
{
    const char *list = NULL, *last = req->header(req, "Last-Event-ID");
    for (int i = 0; i < req->nquery; i++) {
        const ob_kv *q = &req->query[i];
        if (!strcmp(q->key, "tables") && !list) list = q->val;
        else if (!strcmp(q->key, "last_event_id") && !last) last = q->val;
        else if (strcmp(q->key, "last_event_id") != 0)
            return ob_err_set(err, OB_E_BAD_QUERY, "unknown or repeated query parameter \"%.60s\"", q->key);
    }
    if (!list || !*list) return ob_err_set(err, OB_E_BAD_QUERY, "tables is required: ?tables=tickets,orders");
    call->last_event_id = -1;
    if (last && parse_event_id(last, &call->last_event_id) != 0)
        return ob_err_set(err, OB_E_BAD_QUERY, "the last event id must be a number");
    char *names = ob_arena_strdup(ctx->arena, list);
    for (char *s = names; s;) {
        char *comma = strchr(s, ',');
        if (comma) *comma = 0;
        const ob_table *t = ob_registry_find(s);
        if (!t || t->res->scope != OB_SCOPE_TENANT || (t->res->flags & OB_RES_NO_API) || !ob_events_emitted(t))
            return ob_err_set(err, OB_E_BAD_QUERY, "\"%.60s\" is not a table whose changes can be streamed", s);
        bool dup = false;
        for (int i = 0; i < call->ntables; i++) dup |= call->tables[i] == t;
        if (!dup) {
            if (call->ntables == OB_ROUTE_MAX_TABLES)
                return ob_err_set(err, OB_E_BAD_QUERY, "at most %d tables", OB_ROUTE_MAX_TABLES);
            call->tables[call->ntables++] = t;
        }
        s = comma ? comma + 1 : NULL;
    }
    for (int i = 0; i < call->ntables; i++)
        if (may_read(ctx, call->tables[i], err) != 0) return -1;
    return 0;
}

/* Step 6: what the route declares as its input. */
static int input(ob_app *app, ob_req *req, ob_ctx *ctx, const ob_route_row *r, ob_call *call, ob_err *err)
{
    if (r->auth != OB_AUTH_NONE && req->query_bad)
        return ob_err_set(err, OB_E_BAD_QUERY, "the query string is malformed");
    if (r->input == OB_IN_UPDATE || r->input == OB_IN_EMPTY) {
        call->if_match = parse_if_match(req->header(req, "If-Match"));
        if (call->if_match == -2) return ob_err_set(err, OB_E_BAD_REQUEST, "the If-Match header is not a version");
    }
    /* idempotency records live in a tenant's database */
    if (r->write && !strcmp(r->method, "POST") && r->auth == OB_AUTH_BEARER) {
        const char *key = req->header(req, "Idempotency-Key");
        if (key && !idem_key_valid(key))
            return ob_err_set(err, OB_E_BAD_REQUEST, "the Idempotency-Key must be 1 to 200 printable characters");
        call->idem_key = key;
    }
    switch (r->input) {
    case OB_IN_NONE:
        return 0;
    case OB_IN_EMPTY:
        if (req->body_len > 0) return ob_err_set(err, OB_E_BAD_REQUEST, "DELETE takes no body");
        /* a DELETE that runs an action gives it no fields: its defaults */
        return r->verb ? ob_crud_verb_body(ctx, r->t, r->verb, NULL, &call->input, err) : 0;
    case OB_IN_QUERY:
        return ob_listq_parse(ctx, r->t, req->query, req->nquery, &call->query, err);
    case OB_IN_CREATE:
    case OB_IN_UPDATE:
        if (ob_api_body(app, req, false, &call->body, err) != 0) return -1;
        return ob_crud_body(ctx, r->t, call->body, r->input == OB_IN_CREATE, &call->input, err);
    case OB_IN_VERB:
        if (ob_api_body(app, req, true, &call->body, err) != 0) return -1;
        return ob_crud_verb_body(ctx, r->t, r->verb, call->body, &call->input, err);
    case OB_IN_FIELDS:
        if (ob_api_body(app, req, false, &call->body, err) != 0) return -1;
        return declared_fields(ctx, r, call->body, call, err);
    case OB_IN_UPLOAD:
        return ob_api_upload_input(app, req, ctx, r, call, err);
    case OB_IN_TABLES:
        return tables_input(req, ctx, call, err);
    }
    return ob_err_set(err, OB_E_INTERNAL, NULL);
}

/* Whom a bucket belongs to: the tenant and principal, or the address. */
static const char *rate_key(ob_ctx *ctx, const ob_route_row *r)
{
    if (r->auth == OB_AUTH_NONE || !ctx->who) return ctx->ip ? ctx->ip : "";
    if (r->auth == OB_AUTH_PLATFORM) return ob_arena_printf(ctx->arena, "platform/%s", ctx->who->user_id);
    return ob_arena_printf(ctx->arena, "%s/%s", ctx->tenant->id, ctx->who->user_id ? ctx->who->user_id : "-");
}

/* The tenant's request budget (ratelimit.h): X-RateLimit-* on every answer
 * of a limited route, 429 with Retry-After past it. */
static int tenant_limits(ob_req *req, ob_resp *resp, ob_ctx *ctx, const ob_route_row *r)
{
    ob_rate_verdict v;
    ob_err err;
    if (ob_ratelimit_tenant(ctx, req->path, r->kind == OB_RK_EXPORT, &v, &err) != 0) {
        ob_resp_error(resp, &err);
        return -1;
    }
    if (!v.limit) return 0;
    ob_resp_header(resp, "X-RateLimit-Limit", ob_arena_printf(ctx->arena, "%lld", (long long)v.limit));
    ob_resp_header(resp, "X-RateLimit-Remaining", ob_arena_printf(ctx->arena, "%lld", (long long)v.remaining));
    ob_resp_header(resp, "X-RateLimit-Reset", ob_arena_printf(ctx->arena, "%lld", (long long)v.reset_s));
    if (!v.refused) return 0;
    ob_err_set(&err, OB_E_RATE_LIMITED, "more than %lld requests in this window: retry in %lld s", (long long)v.limit,
               (long long)v.reset_s);
    ob_resp_error(resp, &err);
    ob_resp_header(resp, "Retry-After", ob_arena_printf(ctx->arena, "%lld", (long long)v.reset_s));
    return -1;
}

int ob_gate(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, const ob_route_row *r, ob_call *call)
{
    ob_err err;
    memset(call, 0, sizeof *call);
    call->route = r;
    call->if_match = -1;
    /* 1, 2: who is asking, for which tenant, on that tenant's database */
    if (r->auth == OB_AUTH_BEARER) {
        /* step 5b's settings come with the session row: one round trip less */
        ctx->limits.want = ob_ratelimit_settings_on();
        if (ob_session_authenticate(ctx, req->header(req, "Authorization"), &err) != 0) {
            ob_resp_error(resp, &err);
            if (err.code == OB_E_UNAUTHENTICATED) ob_resp_header(resp, "WWW-Authenticate", "Bearer");
            return -1;
        }
        req->tenant = ctx->tenant->slug;
        /* a session of a user the tenant requires MFA of, not yet enrolled */
        if (ctx->who->enrol_only && r->kind != OB_RK_MFA_ENROLL && r->kind != OB_RK_MFA_CONFIRM &&
            r->kind != OB_RK_ME && r->kind != OB_RK_LOGOUT) {
            ob_err_set(&err, OB_E_FORBIDDEN,
                       "the tenant requires a second factor: enrol first (POST /api/v1/auth/mfa/enroll, then "
                       "/confirm), then sign in again");
            ob_resp_error(resp, &err);
            return -1;
        }
    } else if (r->auth == OB_AUTH_PLATFORM) {
        /* a super admin, on a read connection to the control database */
        if (ob_platform_authenticate(ctx, req->header(req, "Authorization"), &err) != 0 ||
            ob_db_acquire(ctx->store, NULL, NULL, OB_DB_READ, &ctx->db, &err) != 0) {
            ob_resp_error(resp, &err);
            if (err.code == OB_E_UNAUTHENTICATED) ob_resp_header(resp, "WWW-Authenticate", "Bearer");
            return -1;
        }
    }
    /* a suspended tenant reads but writes nothing (platform tenants/{id}/suspend) */
    if (r->write && ctx->tenant && ctx->tenant->suspended) {
        ob_err_set(&err, OB_E_TENANT_SUSPENDED, NULL);
        ob_resp_error(resp, &err);
        return -1;
    }
    /* 3: the tenant's plan */
    if (r->feature) {
        bool on = false;
        if (ob_feature_enabled(ctx->store, ctx->tenant, r->feature, ctx->now_ms, &on, &err) != 0) {
            ob_resp_error(resp, &err);
            return -1;
        }
        if (!on) {
            ob_err_set(&err, OB_E_FEATURE_DISABLED, "the feature \"%s\" is not enabled for this tenant", r->feature);
            ob_resp_error(resp, &err);
            return -1;
        }
    }
    /* 4: the principal's permissions */
    if (r->perm && !ob_ctx_can(ctx, r->perm)) {
        ob_err_set(&err, OB_E_FORBIDDEN, "the permission \"%s\" is required", r->perm);
        ob_resp_error(resp, &err);
        return -1;
    }
    if (r->write && r->t && ob_ctx_confined(ctx) && !r->t->res->customer_scope) {
        ob_err_set(&err, OB_E_FORBIDDEN, "customer users cannot change %s records", r->t->name);
        ob_resp_error(resp, &err);
        return -1;
    }
    /* 5: the caller's budget */
    int64_t retry;
    if (!ob_ratelimit_take(app->rate, r->rate, rate_key(ctx, r), ctx->now_ms, &retry)) {
        ob_err_set(&err, OB_E_RATE_LIMITED, "too many %s requests: retry in %lld s", ob_rate_class_name(r->rate),
                   (long long)retry);
        ob_resp_error(resp, &err);
        ob_resp_header(resp, "Retry-After", ob_arena_printf(ctx->arena, "%lld", (long long)retry));
        return -1;
    }
    /* 5b: the tenant's own limits for its users, shared by every server process */
    if (r->auth == OB_AUTH_BEARER && tenant_limits(req, resp, ctx, r) != 0) return -1;
    /* 6: the declared input */
    if (input(app, req, ctx, r, call, &err) != 0) {
        json_decref(call->body);
        call->body = NULL;
        ob_resp_error(resp, &err);
        return -1;
    }
    return 0;
}
