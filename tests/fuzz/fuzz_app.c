/* fuzz_app.c - see fuzz_app.h. */
#include "fuzz_app.h"

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/app.h"
#include "base/base.h"
#include "base/log.h"
#include "db/secrets.h"
#include "domain/domains.h"
#include "http/http.h"
#include "http/query.h"
#include "platform/tenants.h"

static char data_dir[256];
static ob_store *store;
static ob_app app;
static char token[256];
static char customer_id[64], ticket_id[64], user_id[64];

/* The statuses docs/api.md lists for an in-process answer (413 is decided
 * by the HTTP layer before the handler; 429 is the sign-in throttle, which
 * fuzzed bad passwords reach; 500 and 503 are failures here). */
static int documented(int s)
{
    static const int ok[] = { 200, 201, 400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 429 };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (ok[i] == s)
            return 1;
    return 0;
}

typedef struct hdrs {
    const char **k, **v;
    int n;
} hdrs;

static const char *lookup(const ob_req *r, const char *name)
{
    const hdrs *h = r->server_ctx;
    for (int i = 0; i < h->n; i++)
        if (strcasecmp(h->k[i], name) == 0)
            return h->v[i];
    return NULL;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (store) {
        ob_app_release(&app);
        ob_store_close(store);
        store = NULL;
    }
    if (data_dir[0])
        nftw(data_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Replace $C, $T, $U, $TOK in s. */
static const char *subst(ob_arena *a, const char *s)
{
    if (!strchr(s, '$'))
        return s;
    ob_sb sb;
    ob_sb_init_arena(&sb, a, strlen(s) + 64);
    while (*s) {
        if (strncmp(s, "$TOK", 4) == 0) {
            ob_sb_adds(&sb, token);
            s += 4;
        } else if (strncmp(s, "$C", 2) == 0) {
            ob_sb_adds(&sb, customer_id);
            s += 2;
        } else if (strncmp(s, "$T", 2) == 0) {
            ob_sb_adds(&sb, ticket_id);
            s += 2;
        } else if (strncmp(s, "$U", 2) == 0) {
            ob_sb_adds(&sb, user_id);
            s += 2;
        } else {
            ob_sb_addc(&sb, *s++);
        }
    }
    return sb.buf;
}

static void check_response(const ob_req *req, const ob_resp *resp)
{
    if (!documented(resp->status)) {
        fprintf(stderr, "fuzz: %s %s gave undocumented status %d: %.*s\n", req->method, req->raw_path,
                resp->status, (int)resp->body.len, resp->body.buf);
        abort();
    }
    /* the console's page and files (api/console.c) and the metrics text are not JSON */
    const char *ct = resp->content_type ? resp->content_type : "application/json";
    if (strncmp(ct, "application/json", 16) != 0) {
        if (resp->status != 200 && resp->status != 304) {
            fprintf(stderr, "fuzz: %s %s gave %d as %s\n", req->method, req->raw_path, resp->status, ct);
            abort();
        }
        return;
    }
    json_error_t je;
    json_t *j = json_loadb(resp->body.buf, resp->body.len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j)) {
        fprintf(stderr, "fuzz: %s %s gave %d with a body that is not a JSON object: %.*s\n", req->method,
                req->raw_path, resp->status, (int)resp->body.len, resp->body.buf);
        abort();
    }
    if (resp->status >= 400) {
        json_t *e = json_object_get(j, "error");
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!code || !*code || !msg || !*msg) {
            fprintf(stderr, "fuzz: error without code/message: %.*s\n", (int)resp->body.len, resp->body.buf);
            abort();
        }
    }
    json_decref(j);
    for (int i = 0; i < resp->nheaders; i++)
        if (strpbrk(resp->headers[i].key, "\r\n") || strpbrk(resp->headers[i].val, "\r\n")) {
            fprintf(stderr, "fuzz: response header %s carries CR/LF\n", resp->headers[i].key);
            abort();
        }
}

static int run(ob_arena *a, const fz_request *r, ob_resp *resp)
{
    const char *k[FZ_MAX_HEADERS + 1], *v[FZ_MAX_HEADERS + 1];
    hdrs h = { k, v, 0 };
    int have_auth = 0;
    for (int i = 0; i < r->nh && i < FZ_MAX_HEADERS; i++) {
        k[h.n] = r->hk[i];
        v[h.n] = subst(a, r->hv[i]);
        if (strcasecmp(r->hk[i], "Authorization") == 0)
            have_auth = 1;
        h.n++;
    }
    if (!have_auth && !r->anonymous) {
        k[h.n] = "Authorization";
        v[h.n] = ob_arena_printf(a, "Bearer %s", token);
        h.n++;
    }
    ob_req req;
    memset(&req, 0, sizeof req);
    req.arena = a;
    req.method = r->method;
    req.header = lookup;
    req.server_ctx = &h;
    req.start_us = ob_mono_us();
    snprintf(req.ip, sizeof req.ip, "127.0.0.1");
    ob_uuid7(req.request_id);
    char *body = ob_arena_alloc(a, r->body_len + 1);
    if (r->body_len)
        memcpy(body, r->body, r->body_len);
    body[r->body_len] = '\0';
    req.body = body;
    req.body_len = r->body_len;
    ob_resp_init(resp, a);
    if (ob_http_parse_target(&req, a, subst(a, r->target)) != 0) {
        /* server.c answers these itself with bad_request */
        ob_resp_errorf(resp, OB_E_BAD_REQUEST, "the request path is malformed");
        return resp->status;
    }
    ob_app_handle(&req, resp, &app);
    check_response(&req, resp);
    return resp->status;
}

int fz_app_run(const fz_request *r)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_resp resp;
    int status = run(&a, r, &resp);
    ob_arena_release(&a);
    return status;
}

/* Run a set-up request and return the named string of its JSON answer. */
static void setup_request(const char *method, const char *target, const char *body, int want, const char *key,
                          const char *key2, char *out, size_t outsz)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    fz_request r = { .method = method, .target = target, .body = body, .body_len = strlen(body) };
    r.hk[0] = "Content-Type";
    r.hv[0] = "application/json";
    r.nh = 1;
    r.anonymous = token[0] == '\0';
    ob_resp resp;
    int status = run(&a, &r, &resp);
    json_t *j = json_loadb(resp.body.buf, resp.body.len, 0, NULL);
    json_t *v = json_object_get(j, key);
    if (key2)
        v = json_object_get(v, key2);
    if (status != want || !json_string_value(v)) {
        fprintf(stderr, "fuzz set-up: %s %s gave %d %.*s\n", method, target, status, (int)resp.body.len,
                resp.body.buf);
        abort();
    }
    snprintf(out, outsz, "%s", json_string_value(v));
    json_decref(j);
    ob_arena_release(&a);
}

void fz_app_init(void)
{
    ob_log_set_level(OB_LOG_OFF);
    const char *tmp = getenv("TMPDIR");
    snprintf(data_dir, sizeof data_dir, "%s/opsbase-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ob_domain_register();
    if (!mkdtemp(data_dir)) {
        perror("mkdtemp");
        abort();
    }
    atexit(cleanup);
    ob_err err;
    /* secret columns are sealed at rest: a fixed key only the fuzz harness uses */
    setenv("OPSBASE_MASTER_KEY", "6f7073626173652066757a7a2d6f6e6c79206d6173746572206b657920303031", 0);
    if (ob_secrets_configure(NULL, NULL, &err) != 0) {
        fprintf(stderr, "fuzz set-up: %s\n", err.message);
        abort();
    }
    ob_store_opts so = { .data_dir = data_dir, .synchronous = "off", .create = true };
    if (ob_store_open(&store, &so, &err) != 0 || ob_migrate_all(store, true, NULL, &err) != 0) {
        fprintf(stderr, "fuzz set-up: %s\n", err.message);
        abort();
    }
    ob_tenant_new t = { .slug = "fz", .plan_code = "business", .owner_email = "owner@fz.test",
                        .owner_password = "Owner-pass-123!", .ticket_limit = -1, .agent_limit = -1 };
    if (ob_tenant_create(store, &t, &err) != 0 ||
        ob_tenant_add_user(store, "fz", "agent@fz.test", "Agent", "agent", "User-pass-123!", NULL, &err) != 0) {
        fprintf(stderr, "fuzz set-up: %s\n", err.message);
        abort();
    }
    ob_app_init(&app, store, "fuzz", NULL, &err);
    setup_request("POST", "/api/v1/auth/login",
                  "{\"tenant\":\"fz\",\"email\":\"owner@fz.test\",\"password\":\"Owner-pass-123!\"}", 200, "token",
                  NULL, token, sizeof token);
    setup_request("GET", "/api/v1/auth/me", "", 200, "user", "id", user_id, sizeof user_id);
    setup_request("POST", "/api/v1/customers", "{\"customer_code\":\"FZ-1\",\"company_name\":\"Fuzz Co\"}", 201,
                  "id", NULL, customer_id, sizeof customer_id);
    char body[256];
    snprintf(body, sizeof body, "{\"title\":\"fuzz\",\"description\":\"d\",\"customer_id\":\"%s\"}", customer_id);
    setup_request("POST", "/api/v1/tickets", body, 201, "id", NULL, ticket_id, sizeof ticket_id);
}
