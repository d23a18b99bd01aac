/* Unit tests for api/openapi.c: the document is parsed back with jansson and
 * checked against the registry and the error table it was derived from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/openapi.h"
#include "domain/domains.h"
#include "base/base.h"
#include "schema/methods.h"
#include "schema/registry.h"

static json_t *doc;       /* the parsed document, built once per run */
static char *doc_text;    /* and its text */

static const char *const http_methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

static int setup(void **state)
{
    (void)state;
    ob_domain_register();
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_openapi_write(&sb, "test-1");
    json_error_t jerr;
    doc = json_loads(sb.buf, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        fprintf(stderr, "openapi document is not JSON: %s at %d\n", jerr.text, jerr.position);
        ob_sb_release(&sb);
        return -1;
    }
    doc_text = ob_sb_detach(&sb, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(doc);
    free(doc_text);
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

/* A tenant table with generic routes under /api/v1/<t>. */
static bool is_api(const ob_table *t)
{
    return t->res->scope == OB_SCOPE_TENANT && !(t->res->flags & OB_RES_NO_API);
}

/* A control table served to super admins under /api/v1/platform/<t>. */
static bool is_platform(const ob_table *t)
{
    return t->res->scope == OB_SCOPE_CONTROL && !(t->res->flags & OB_RES_NO_API);
}

static json_t *get(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v) fail_msg("missing key \"%s\"", key);
    return v;
}

/* Follow a local JSON pointer "#/a/b" (with ~0 ~1 escapes). */
static json_t *pointer(const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0) return NULL;
    json_t *cur = doc;
    const char *p = ref + 2;
    char part[256];
    while (cur && *p) {
        size_t n = 0;
        for (; *p && *p != '/'; p++) {
            if (n + 1 >= sizeof part) return NULL;
            if (*p == '~' && p[1] == '1') part[n++] = '/', p++;
            else if (*p == '~' && p[1] == '0') part[n++] = '~', p++;
            else part[n++] = *p;
        }
        part[n] = 0;
        if (*p == '/') p++;
        cur = json_object_get(cur, part);
    }
    return cur;
}

/* The node itself, or what its $ref points at. */
static json_t *deref(json_t *node)
{
    json_t *ref = json_object_get(node, "$ref");
    if (!json_is_string(ref)) return node;
    json_t *target = pointer(json_string_value(ref));
    if (!target) fail_msg("unresolved $ref %s", json_string_value(ref));
    return target;
}

static json_t *schema(const char *name)
{
    return json_object_get(get(get(doc, "components"), "schemas"), name);
}

static json_t *path_item(const char *fmt, const char *table, const char *verb)
{
    char path[256];
    snprintf(path, sizeof path, fmt, table, verb);
    return json_object_get(get(doc, "paths"), path);
}

static bool in_str_array(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), s)) return true;
    return false;
}

static bool is_method(const char *key)
{
    for (size_t i = 0; i < OB_ARRAY_LEN(http_methods); i++)
        if (!strcmp(http_methods[i], key)) return true;
    return false;
}

/* The methods of a path item as "get,post" in the order of http_methods. */
static void methods_of(json_t *item, char *out, size_t n)
{
    out[0] = 0;
    size_t len = 0;
    for (size_t i = 0; i < OB_ARRAY_LEN(http_methods); i++)
        if (json_object_get(item, http_methods[i]))
            len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "", http_methods[i]);
    const char *key;
    json_t *v;
    json_object_foreach(item, key, v) {
        (void)v;
        if (!is_method(key) && strcmp(key, "parameters") && strcmp(key, "summary") && strcmp(key, "description"))
            fail_msg("path item has an unexpected key \"%s\"", key);
    }
}

static bool is_event(const ob_table *t, const char *verb)
{
    for (int i = 0; t->res->fsm && i < t->res->fsm->n; i++)
        if (!strcmp(t->res->fsm->rows[i].event, verb)) return true;
    return false;
}

static bool is_action(const ob_table *t, const char *verb)
{
    for (int i = 0; i < t->res->nactions; i++)
        if (!strcmp(t->res->actions[i].verb, verb)) return true;
    return false;
}

/* A parameter of an operation (or its path item) by name and location. */
static json_t *find_param(json_t *item, json_t *op, const char *name, const char *in)
{
    json_t *lists[2] = {json_object_get(op, "parameters"), json_object_get(item, "parameters")};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *p;
        json_array_foreach(lists[k], i, p) {
            json_t *d = deref(p);
            if (!strcmp(json_string_value(get(d, "name")), name) && !strcmp(json_string_value(get(d, "in")), in))
                return d;
        }
    }
    return NULL;
}

static bool regex_match(const char *pattern, const char *s)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) fail_msg("pattern %s does not compile", pattern);
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* The schema of a JSON response: content.application/json.schema. */
static json_t *resp_schema(json_t *resp)
{
    return get(get(get(deref(resp), "content"), "application/json"), "schema");
}

static const char *ref_of(json_t *node)
{
    json_t *r = json_object_get(node, "$ref");
    return json_is_string(r) ? json_string_value(r) : "";
}

/* ---- column schemas ---------------------------------------------------- */

/* "type" is T, or [T, "null"] exactly when nullable. */
static void assert_type(json_t *s, const char *want, bool nullable, const char *what)
{
    json_t *t = json_object_get(s, "type");
    if (nullable) {
        if (!json_is_array(t) || json_array_size(t) != 2 || !in_str_array(t, want) || !in_str_array(t, "null"))
            fail_msg("%s: type should be [\"%s\",\"null\"]", what, want);
    } else if (!json_is_string(t) || strcmp(json_string_value(t), want) != 0) {
        fail_msg("%s: type should be \"%s\"", what, want);
    }
}

static void assert_format(json_t *s, const char *want, const char *what)
{
    json_t *f = json_object_get(s, "format");
    if (!json_is_string(f) || strcmp(json_string_value(f), want) != 0) fail_msg("%s: format should be %s", what, want);
}

/* One column's schema against its declaration. record: as the server sends
 * it (exact decimal scale, readOnly); else as a body or filter accepts it. */
static void check_column(const ob_table *t, const ob_column *c, json_t *s, bool record, bool param)
{
    char what[160];
    snprintf(what, sizeof what, "%s.%s%s", t->name, c->name, record ? "" : param ? " (filter)" : " (body)");
    bool nullable = !(c->flags & OB_REQUIRED) && !param;
    switch (c->type) {
    case OB_F_TEXT:
        assert_type(s, "string", nullable, what);
        if (!param) assert_int_equal(json_integer_value(get(s, "maxLength")), c->max);
        if (!param && c->pattern) assert_string_equal(json_string_value(get(s, "pattern")), c->pattern);
        break;
    case OB_F_INT:
        assert_type(s, "integer", nullable, what);
        if (param) break; /* a filter may compare with any number */
        if (c->flags & OB_HAS_MAX) assert_int_equal(json_integer_value(get(s, "maximum")), c->max);
        if ((c->flags & OB_HAS_MIN) && !(c->flags & OB_MIN_EXCL))
            assert_int_equal(json_integer_value(get(s, "minimum")), c->min);
        break;
    case OB_F_REAL:
        assert_type(s, "number", nullable, what);
        break;
    case OB_F_DECIMAL: {
        if (record || param) {
            assert_type(s, "string", nullable, what);
        } else { /* a body may give a JSON number too (validate.c takes it) */
            json_t *ty = get(s, "type");
            if (!in_str_array(ty, "string") || !in_str_array(ty, "number") ||
                in_str_array(ty, "null") != nullable)
                fail_msg("%s: a decimal body takes a string or a number", what);
            if ((c->flags & OB_HAS_MIN) && !json_is_number(json_object_get(s, (c->flags & OB_MIN_EXCL)
                                                                                  ? "exclusiveMinimum"
                                                                                  : "minimum")))
                fail_msg("%s: the number has no minimum", what);
        }
        const char *pat = json_string_value(get(s, "pattern"));
        int scale = ob_col_scale(c);
        char good[32], short_frac[32], long_frac[40];
        snprintf(good, sizeof good, "-12.%0*d", scale, 5);
        snprintf(short_frac, sizeof short_frac, "12.%0*d", scale > 1 ? scale - 1 : 1, 5);
        snprintf(long_frac, sizeof long_frac, "12.%0*d", scale + 1, 5);
        if (!regex_match(pat, good)) fail_msg("%s: pattern %s refuses %s", what, pat, good);
        if (regex_match(pat, long_frac)) fail_msg("%s: pattern %s takes %s", what, pat, long_frac);
        if (regex_match(pat, "1e3") || regex_match(pat, "abc") || regex_match(pat, ""))
            fail_msg("%s: pattern %s takes a non-decimal", what, pat);
        /* the server always writes the full scale; input may be shorter */
        if (scale > 1 && regex_match(pat, short_frac) != !record)
            fail_msg("%s: pattern %s wrong about %s", what, pat, short_frac);
        if (regex_match(pat, "12") != !record) fail_msg("%s: pattern %s wrong about 12", what, pat);
        break;
    }
    case OB_F_BOOL:
        assert_type(s, "boolean", nullable, what);
        break;
    case OB_F_TIMESTAMP:
        assert_type(s, "string", nullable, what);
        assert_format(s, "date-time", what);
        break;
    case OB_F_DATE:
        assert_type(s, "string", nullable, what);
        assert_format(s, "date", what);
        break;
    case OB_F_ID:
    case OB_F_REF:
        assert_type(s, "string", nullable, what);
        assert_format(s, "uuid", what);
        break;
    case OB_F_ENUM: {
        assert_type(s, "string", nullable, what);
        if (!record) { /* input takes any case: "HIGH" is "high" */
            const char *pat = json_string_value(get(s, "pattern"));
            for (int k = 0; k < c->enm->n; k++) {
                char up[128];
                snprintf(up, sizeof up, "%s", c->enm->values[k]);
                for (char *p = up; *p; p++)
                    if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
                if (!regex_match(pat, c->enm->values[k]) || !regex_match(pat, up))
                    fail_msg("%s: pattern %s refuses %s in some case", what, pat, up);
            }
            if (regex_match(pat, "no_such_value") || regex_match(pat, ""))
                fail_msg("%s: pattern %s takes a value outside the enum", what, pat);
            break;
        }
        json_t *e = get(s, "enum");
        assert_int_equal(json_array_size(e), (size_t)c->enm->n + (nullable ? 1 : 0));
        for (int k = 0; k < c->enm->n; k++)
            if (!in_str_array(e, c->enm->values[k])) fail_msg("%s: enum lacks %s", what, c->enm->values[k]);
        if (nullable && !json_is_null(json_array_get(e, (size_t)c->enm->n))) fail_msg("%s: enum lacks null", what);
        break;
    }
    case OB_F_JSON:
        if (c->enm) { /* an array of distinct enum values */
            assert_type(s, "array", nullable, what);
            assert_true(json_is_true(get(s, "uniqueItems")));
            assert_type(get(s, "items"), "string", false, what);
            break;
        }
        if (json_object_get(s, "type")) fail_msg("%s: a json column takes any type", what);
        break;
    }
    json_t *ro = json_object_get(s, "readOnly");
    if (record && (c->flags & OB_SERVER) && !json_is_true(ro)) fail_msg("%s: server-set but not readOnly", what);
    if ((!record || !(c->flags & OB_SERVER)) && ro) fail_msg("%s: readOnly where it should not be", what);
    if (c->doc && !param) {
        json_t *d = json_object_get(s, "description");
        if (!json_is_string(d) || !strstr(json_string_value(d), c->doc)) fail_msg("%s: description lacks the doc", what);
    }
}

/* The keys of obj, in order, must be exactly the columns that pass keep. */
static void assert_props(const ob_table *t, json_t *props, bool (*keep)(const ob_column *), const char *what)
{
    size_t n = 0;
    for (int i = 0; i < t->ncols; i++) {
        if (!keep(t->cols[i])) {
            if (json_object_get(props, t->cols[i]->name)) fail_msg("%s %s has %s", t->name, what, t->cols[i]->name);
            continue;
        }
        if (!json_object_get(props, t->cols[i]->name)) fail_msg("%s %s lacks %s", t->name, what, t->cols[i]->name);
        n++;
    }
    assert_int_equal(json_object_size(props), n);
}

static bool keep_visible(const ob_column *c)
{
    return !(c->flags & OB_SECRET);
}

/* Write-only secrets (OB_SECRET without OB_SERVER) are in bodies, never in records. */
static bool keep_create(const ob_column *c)
{
    return !(c->flags & OB_SERVER);
}

static bool keep_update(const ob_column *c)
{
    return !(c->flags & (OB_SERVER | OB_IMMUTABLE));
}

static bool keep_required_create(const ob_column *c)
{
    return keep_create(c) && (c->flags & OB_REQUIRED) && !(c->flags & OB_GENERATED) && !c->dflt;
}

/* sealed columns are left out: only equality through a lookup hash reaches them */
static bool keep_filter(const ob_column *c)
{
    return !(c->flags & (OB_SECRET | OB_NOFILTER | OB_ENCRYPTED)) && c->type != OB_F_JSON;
}

/* ---- tests ------------------------------------------------------------- */

static void test_top_level(void **state)
{
    (void)state;
    assert_string_equal(json_string_value(get(doc, "openapi")), "3.1.0");
    json_t *info = get(doc, "info");
    assert_string_equal(json_string_value(get(info, "version")), "test-1");
    assert_string_equal(json_string_value(get(info, "title")), "opsbase");
    assert_int_equal(json_integer_value(get(info, "x-schema-version")), ob_registry_version());
    json_t *bearer = get(get(get(doc, "components"), "securitySchemes"), "bearer");
    assert_string_equal(json_string_value(get(bearer, "type")), "http");
    assert_string_equal(json_string_value(get(bearer, "scheme")), "bearer");
}

/* Same input, same bytes; and the writer appends rather than replacing. */
static void test_stable_and_appends(void **state)
{
    (void)state;
    ob_sb sb;
    ob_sb_init(&sb, 0);
    ob_sb_adds(&sb, "prefix:");
    ob_openapi_write(&sb, "test-1");
    assert_true(strncmp(sb.buf, "prefix:", 7) == 0);
    assert_string_equal(sb.buf + 7, doc_text);
    ob_sb_release(&sb);
    ob_sb_init(&sb, 0);
    ob_openapi_write(&sb, NULL);
    json_t *j = json_loads(sb.buf, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(get(get(j, "info"), "version")), "0");
    json_decref(j);
    ob_sb_release(&sb);
}

static void test_fixed_paths(void **state)
{
    (void)state;
    static const struct {
        const char *path, *methods;
    } fixed[] = {
        {"/healthz", "get"},           {"/readyz", "get"},           {"/api/openapi.json", "get"},
        {"/api/v1/auth/login", "post"}, {"/api/v1/auth/logout", "post"}, {"/api/v1/auth/me", "get"},
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(fixed); i++) {
        json_t *item = json_object_get(get(doc, "paths"), fixed[i].path);
        if (!item) fail_msg("no path %s", fixed[i].path);
        char m[64];
        methods_of(item, m, sizeof m);
        assert_string_equal(m, fixed[i].methods);
    }
    json_t *login = get(get(get(doc, "paths"), "/api/v1/auth/login"), "post");
    json_t *body = get(get(get(deref(get(login, "requestBody")), "content"), "application/json"), "schema");
    json_t *req = get(deref(body), "required");
    assert_true(in_str_array(req, "tenant") && in_str_array(req, "email") && in_str_array(req, "password"));
}

/* Every API table has its two generic paths with exactly the methods its
 * flags allow, one POST path per event and action, and nothing else. */
static void test_table_paths(void **state)
{
    (void)state;
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        json_t *coll = path_item("/api/v1/%s", t->name, NULL);
        json_t *one = path_item("/api/v1/%s/{id}", t->name, NULL);
        if (is_platform(t)) {
            if (coll || one || !path_item("/api/v1/platform/%s", t->name, NULL) || !schema(t->name))
                fail_msg("%s: a platform table's paths", t->name);
            continue;
        }
        if (!is_api(t)) {
            if (coll || one || schema(t->name)) fail_msg("%s has no API but is documented", t->name);
            continue;
        }
        if (!coll || !one) fail_msg("%s: generic paths missing", t->name);
        bool ro = t->res->flags & OB_RES_READONLY, append = t->res->flags & OB_RES_APPEND_ONLY;
        char m[64];
        methods_of(coll, m, sizeof m);
        assert_string_equal(m, ro ? "get" : "get,post");
        methods_of(one, m, sizeof m);
        /* append-only rows are never changed or removed; links may be removed */
        bool link = t->res->flags & OB_RES_LINK;
        /* a read-only table whose DELETE is a declared action (ending a session) keeps it */
        bool del_action = t->res->delete_action != NULL;
        assert_string_equal(m, ro ? (del_action ? "get,delete" : "get")
                               : append ? (link ? "get,delete" : "get") : "get,delete,patch");
        for (int k = 0; t->res->fsm && k < t->res->fsm->n; k++) {
            json_t *item = path_item("/api/v1/%s/{id}/%s", t->name, t->res->fsm->rows[k].event);
            if (!item) fail_msg("%s: no path for event %s", t->name, t->res->fsm->rows[k].event);
            methods_of(item, m, sizeof m);
            assert_string_equal(m, "post");
        }
        for (int k = 0; k < t->res->nactions; k++) {
            json_t *item = path_item("/api/v1/%s/{id}/%s", t->name, t->res->actions[k].verb);
            if (!item) fail_msg("%s: no path for action %s", t->name, t->res->actions[k].verb);
            methods_of(item, m, sizeof m);
            assert_string_equal(m, "post");
        }
        /* no verb path that is neither */
        char prefix[160];
        int n = snprintf(prefix, sizeof prefix, "/api/v1/%s/{id}/", t->name);
        const char *key;
        json_t *v;
        json_object_foreach(get(doc, "paths"), key, v) {
            if (strncmp(key, prefix, (size_t)n) != 0) continue;
            /* a table of uploads, or of records made from them, serves the file at .../content */
            bool content = ob_registry_content_of(t) && strcmp(key + n, "content") == 0;
            /* and the files made from them at their variant's name */
            for (int k = 0; k < t->res->nvariants; k++) content |= strcmp(key + n, t->res->variants[k].name) == 0;
            /* and the figures read from a record at their view's name (a widget's data) */
            for (int k = 0; k < t->res->nviews; k++) content |= strcmp(key + n, t->res->views[k].name) == 0;
            /* explicit rows of the route table under a table's record: a ticket's KB
             * suggestions, an approved export's one download, a customer's timeline */
            bool explicit_row = !strcmp(key, "/api/v1/tickets/{id}/suggestions") ||
                                (!strcmp(t->name, "export_logs") && strcmp(key + n, "download") == 0) ||
                                !strcmp(key, "/api/v1/customers/{id}/timeline");
            if (!is_event(t, key + n) && !is_action(t, key + n) && !content && !explicit_row)
                fail_msg("unexpected path %s", key);
        }
    }
    /* the ticket state machine is declared, so its events must show */
    assert_non_null(path_item("/api/v1/%s/{id}/%s", "tickets", "resolve"));
}

/* The record schema is every non-secret column with its type. */
static void test_record_schemas(void **state)
{
    (void)state;
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (!is_api(t)) continue;
        json_t *rec = schema(t->name);
        if (!rec) fail_msg("no schema %s", t->name);
        assert_string_equal(json_string_value(get(rec, "type")), "object");
        if (t->res->doc) assert_string_equal(json_string_value(get(rec, "description")), t->res->doc);
        json_t *props = get(rec, "properties");
        assert_props(t, props, keep_visible, "record");
        /* the server writes every visible column, null or not */
        json_t *req = get(rec, "required");
        assert_int_equal(json_array_size(req), json_object_size(props));
        for (int k = 0; k < t->ncols; k++)
            if (keep_visible(t->cols[k])) {
                assert_true(in_str_array(req, t->cols[k]->name));
                check_column(t, t->cols[k], get(props, t->cols[k]->name), true, false);
            }
        /* implicit columns lead, in the registry's order */
        void *it = json_object_iter(props);
        assert_string_equal(json_object_iter_key(it), "id");
        assert_string_equal(json_object_iter_key(json_object_iter_next(props, it)), "created_at");
    }
}

/* Secret columns appear nowhere: not in any schema, filter or text. */
static void test_no_secrets(void **state)
{
    (void)state;
    int seen = 0;
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        for (int k = 0; k < t->ncols; k++) {
            const ob_column *c = t->cols[k];
            if ((c->flags & (OB_SECRET | OB_SERVER)) != (OB_SECRET | OB_SERVER)) continue;
            /* only meaningful for names no visible API column shares */
            bool shared = false;
            for (int j = 0; j < ob_registry_count(); j++) {
                const ob_table *u = ob_registry_at(j);
                int col = ob_table_col(u, c->name);
                shared |= is_api(u) && col >= 0 && !(u->cols[col]->flags & OB_SECRET);
            }
            /* a write-only input of an action (the credentials a connect
             * stores) is in the document by name, marked writeOnly */
            for (int j = 0; j < ob_registry_count(); j++) {
                const ob_resource *r = ob_registry_at(j)->res;
                for (int a = 0; a < r->nactions; a++)
                    for (int n = 0; n < r->actions[a].ninput; n++)
                        shared |= !strcmp(r->actions[a].input[n].name, c->name) &&
                                  (r->actions[a].input[n].flags & OB_SECRET);
            }
            if (shared) continue;
            char quoted[80];
            snprintf(quoted, sizeof quoted, "\"%s\"", c->name);
            if (strstr(doc_text, quoted)) fail_msg("secret column %s.%s is in the document", t->name, c->name);
            seen++;
        }
    }
    assert_true(seen > 0); /* users.password_hash at least */
}

/* Create and update bodies: writable fields only, the right required list. */
static void test_body_schemas(void **state)
{
    (void)state;
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (!is_api(t)) continue;
        char name[160];
        snprintf(name, sizeof name, "%s_create", t->name);
        json_t *cr = schema(name);
        /* read-only tables take no body; upload tables take the file, not JSON */
        if (t->res->flags & (OB_RES_READONLY | OB_RES_UPLOAD)) {
            assert_null(cr);
        } else {
            if (!cr) fail_msg("no schema %s", name);
            json_t *props = get(cr, "properties");
            assert_props(t, props, keep_create, "create");
            assert_true(json_is_false(get(cr, "additionalProperties")));
            json_t *req = get(cr, "required");
            size_t n = 0;
            for (int k = 0; k < t->ncols; k++) {
                const ob_column *c = t->cols[k];
                if (keep_create(c)) check_column(t, c, get(props, c->name), false, false);
                if (!keep_required_create(c)) {
                    if (in_str_array(req, c->name)) fail_msg("%s: %s should be optional", name, c->name);
                    continue;
                }
                if (!in_str_array(req, c->name)) fail_msg("%s: %s should be required", name, c->name);
                n++;
            }
            assert_int_equal(json_array_size(req), n);
        }
        snprintf(name, sizeof name, "%s_update", t->name);
        json_t *up = schema(name);
        /* events describe their own bodies: the update schema is PATCH's */
        bool patch = !(t->res->flags & (OB_RES_READONLY | OB_RES_APPEND_ONLY));
        if (!patch) {
            assert_null(up);
            continue;
        }
        if (!up) fail_msg("no schema %s", name);
        json_t *props = get(up, "properties");
        assert_props(t, props, keep_update, "update");
        assert_null(json_object_get(up, "required"));
        assert_true(json_is_false(get(up, "additionalProperties")));
        for (int k = 0; k < t->ncols; k++)
            if (keep_update(t->cols[k])) check_column(t, t->cols[k], get(props, t->cols[k]->name), false, false);
    }
    /* spot checks on known declarations */
    json_t *tc = get(schema("tickets_create"), "properties");
    assert_null(json_object_get(tc, "status"));       /* state column: server-set */
    assert_non_null(json_object_get(tc, "customer_id"));
    assert_null(json_object_get(get(schema("tickets_update"), "properties"), "customer_id")); /* immutable */
    json_t *pl = get(get(get(schema("categories_create"), "properties"), "priority_level"), "default");
    assert_int_equal(json_integer_value(pl), 3);
    json_t *cl = get(get(get(schema("customers_create"), "properties"), "credit_limit"), "default");
    assert_string_equal(json_string_value(cl), "0.00");
    assert_true(in_str_array(get(schema("tickets_create"), "required"), "title"));
    assert_false(in_str_array(get(schema("tickets_create"), "required"), "priority")); /* has a default */
}

/* List operations: limit, cursor, sort, q where searchable, one filter per
 * filterable column, and the list envelope. */
static void test_list_operations(void **state)
{
    (void)state;
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (!is_api(t)) continue;
        json_t *item = path_item("/api/v1/%s", t->name, NULL);
        json_t *op = get(item, "get");
        json_t *limit = find_param(item, op, "limit", "query");
        assert_non_null(limit);
        json_t *ls = get(limit, "schema");
        assert_string_equal(json_string_value(get(ls, "type")), "integer");
        assert_int_equal(json_integer_value(get(ls, "minimum")), 1);
        assert_int_equal(json_integer_value(get(ls, "maximum")), 200);
        assert_non_null(find_param(item, op, "cursor", "query"));
        json_t *sort = find_param(item, op, "sort", "query");
        assert_non_null(sort);
        const char *pat = json_string_value(get(get(sort, "schema"), "pattern"));
        assert_true(regex_match(pat, "-id"));
        assert_false(regex_match(pat, "no_such_field"));
        assert_false(regex_match(pat, "id,"));
        for (int k = 0; k < t->ncols; k++) {
            const ob_column *c = t->cols[k];
            char spec[100];
            snprintf(spec, sizeof spec, "-%s", c->name);
            if (((c->flags & OB_SORT) && !(c->flags & OB_SECRET)) != regex_match(pat, spec))
                fail_msg("%s: sort pattern wrong about %s", t->name, c->name);
        }
        if ((t->nsearch > 0) != (find_param(item, op, "q", "query") != NULL))
            fail_msg("%s: q= documented %s", t->name, t->nsearch > 0 ? "missing" : "without searchable fields");
        size_t nparams = 3 + (t->nsearch > 0);
        for (int k = 0; k < t->ncols; k++) {
            const ob_column *c = t->cols[k];
            json_t *p = find_param(item, op, c->name, "query");
            if (!keep_filter(c)) {
                if (p) fail_msg("%s: %s is not filterable", t->name, c->name);
                continue;
            }
            if (!p) fail_msg("%s: no filter for %s", t->name, c->name);
            check_column(t, c, get(p, "schema"), false, true);
            nparams++;
        }
        assert_int_equal(json_array_size(get(op, "parameters")), nparams);
        /* 200: the list envelope of this table */
        char want[200];
        snprintf(want, sizeof want, "#/components/schemas/%s_list", t->name);
        assert_string_equal(ref_of(resp_schema(get(get(op, "responses"), "200"))), want);
        json_t *env = deref(resp_schema(get(get(op, "responses"), "200")));
        json_t *data = get(get(env, "properties"), "data");
        assert_string_equal(json_string_value(get(data, "type")), "array");
        snprintf(want, sizeof want, "#/components/schemas/%s", t->name);
        assert_string_equal(ref_of(get(data, "items")), want);
        json_t *nc = get(get(get(env, "properties"), "next_cursor"), "type");
        assert_true(in_str_array(nc, "string") && in_str_array(nc, "null"));
    }
}

/* An operation's responses: the success one and exactly the listed errors,
 * each referencing the error schema. */
static void check_errors(json_t *op, const int *errs, const char *what)
{
    json_t *resps = get(op, "responses");
    for (int s = 400; s < 500; s++) {
        char key[16];
        snprintf(key, sizeof key, "%d", s);
        json_t *r = json_object_get(resps, key);
        bool want = false;
        for (int k = 0; errs[k]; k++) want |= errs[k] == s;
        if (want != (r != NULL)) fail_msg("%s: response %d %s", what, s, want ? "missing" : "unexpected");
        if (r) assert_string_equal(ref_of(resp_schema(r)), "#/components/schemas/error");
    }
}

static json_t *header_of(json_t *resp, const char *name)
{
    json_t *h = json_object_get(json_object_get(deref(resp), "headers"), name);
    return h ? deref(h) : NULL;
}

/* The document declared DELETE on append-only tables that the server refused:
 * each path item must hold exactly the operations schema/methods.h routes. */
static void test_declared_operations_are_routed(void **state)
{
    (void)state;
    static const char *const names[] = {"get", "post", "patch", "delete"};
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (!is_api(t)) continue;
        json_t *items[] = {path_item("/api/v1/%s", t->name, NULL), path_item("/api/v1/%s/{id}", t->name, NULL)};
        unsigned want[] = {ob_methods(t, OB_ROUTE_COLLECTION), ob_methods(t, OB_ROUTE_RECORD)};
        for (int k = 0; k < 2; k++)
            for (int m = 0; m < 4; m++)
                assert_int_equal(json_object_get(items[k], names[m]) != NULL, (want[k] & (1u << m)) != 0);
        assert_null(json_object_get(items[1], "put"));
    }
}

static void test_generic_operations(void **state)
{
    (void)state;
    /* every generic route is rate-limited by the gate: 429 */
    static const int e_list[] = {400, 401, 403, 429, 0};
    static const int e_get[] = {400, 401, 403, 404, 429, 0};
    static const int e_create[] = {400, 401, 403, 409, 413, 415, 422, 429, 0};
    static const int e_patch[] = {400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 0};
    static const int e_delete[] = {400, 401, 403, 404, 409, 412, 429, 0};
    static const int e_delete_unversioned[] = {400, 401, 403, 404, 409, 429, 0};
    static const int e_verb[] = {400, 401, 403, 404, 409, 413, 415, 422, 429, 0};
    static const int e_upload[] = {400, 401, 403, 409, 413, 415, 429, 0};
    char rec[200];
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        if (!is_api(t)) continue;
        snprintf(rec, sizeof rec, "#/components/schemas/%s", t->name);
        json_t *coll = path_item("/api/v1/%s", t->name, NULL);
        json_t *one = path_item("/api/v1/%s/{id}", t->name, NULL);
        check_errors(get(coll, "get"), e_list, t->name);
        assert_non_null(find_param(one, NULL, "id", "path"));

        json_t *op = get(one, "get");
        check_errors(op, e_get, t->name);
        json_t *ok = get(get(op, "responses"), "200");
        assert_string_equal(ref_of(resp_schema(ok)), rec);
        bool versioned = t->version_col >= 0; /* ETag and If-Match need a version */
        assert_true((header_of(ok, "ETag") != NULL) == versioned);

        if ((op = json_object_get(coll, "post"))) {
            check_errors(op, (t->res->flags & OB_RES_UPLOAD) ? e_upload : e_create, t->name);
            json_t *created = get(get(op, "responses"), "201");
            assert_string_equal(ref_of(resp_schema(created)), rec);
            assert_true((header_of(created, "ETag") != NULL) == versioned);
            assert_non_null(header_of(created, "Location"));
            assert_non_null(find_param(coll, op, "Idempotency-Key", "header"));
            assert_true(json_is_true(get(deref(get(op, "requestBody")), "required")));
        }
        if ((op = json_object_get(one, "patch"))) {
            assert_true(versioned);
            check_errors(op, e_patch, t->name);
            assert_string_equal(ref_of(resp_schema(get(get(op, "responses"), "200"))), rec);
            assert_non_null(header_of(get(get(op, "responses"), "200"), "ETag"));
            assert_non_null(find_param(one, op, "If-Match", "header"));
        }
        if ((op = json_object_get(one, "delete"))) {
            check_errors(op, versioned ? e_delete : e_delete_unversioned, t->name);
            json_t *del = deref(resp_schema(get(get(op, "responses"), "200")));
            json_t *req = get(del, "required");
            assert_true(in_str_array(req, "id") && in_str_array(req, "deleted"));
            assert_true((find_param(one, op, "If-Match", "header") != NULL) == versioned);
        }
        for (int k = 0; t->res->fsm && k < t->res->fsm->n; k++) {
            json_t *item = path_item("/api/v1/%s/{id}/%s", t->name, t->res->fsm->rows[k].event);
            op = get(item, "post");
            check_errors(op, e_verb, t->name);
            assert_string_equal(ref_of(resp_schema(get(get(op, "responses"), "200"))), rec);
            assert_non_null(find_param(item, op, "Idempotency-Key", "header"));
            assert_non_null(find_param(item, op, "id", "path"));
            assert_true(strstr(json_string_value(get(op, "description")), t->res->fsm->rows[k].to) != NULL);
        }
        for (int k = 0; k < t->res->nactions; k++) {
            json_t *item = path_item("/api/v1/%s/{id}/%s", t->name, t->res->actions[k].verb);
            op = get(item, "post");
            check_errors(op, e_verb, t->name);
            assert_non_null(find_param(item, op, "Idempotency-Key", "header"));
            if (t->res->actions[k].doc)
                assert_string_equal(json_string_value(get(op, "description")), t->res->actions[k].doc);
        }
    }
}

/* Bearer on every /api/v1 operation but login and the inbound webhooks; none
 * on probes, login and webhooks. */
static void test_security(void **state)
{
    (void)state;
    const char *path;
    json_t *item;
    int n = 0;
    json_object_foreach(get(doc, "paths"), path, item) {
        const char *m;
        json_t *op;
        json_object_foreach(item, m, op) {
            if (!is_method(m)) continue;
            /* inbound webhooks are signed by their provider instead; a refresh
             * token and an MFA challenge stand for the bearer token */
            bool signin = !strcmp(path, "/api/v1/auth/login") || !strcmp(path, "/api/v1/auth/refresh") ||
                          !strcmp(path, "/api/v1/auth/mfa/verify");
            bool open = strncmp(path, "/api/v1/", 8) != 0 || (signin && !strcmp(m, "post")) ||
                        !strncmp(path, "/api/v1/hooks/", 14) || !strcmp(path, "/api/v1/platform/auth/login") ||
                        !strcmp(path, "/api/v1/platform/auth/mfa/verify");
            /* the platform's routes take a super admin's token, never a tenant's */
            if (!open && !strncmp(path, "/api/v1/platform/", 17)) {
                json_t *ps = json_array_get(get(op, "security"), 0);
                if (json_array_size(get(op, "security")) != 1 || !json_is_array(json_object_get(ps, "platform")))
                    fail_msg("%s %s should need a platform token", m, path);
                continue;
            }
            json_t *sec = get(op, "security");
            assert_true(json_is_array(sec));
            if (open) {
                if (json_array_size(sec) != 0) fail_msg("%s %s should need no auth", m, path);
                continue;
            }
            json_t *req = json_array_get(sec, 0);
            if (json_array_size(sec) != 1 || json_object_size(req) != 1 || !json_is_array(json_object_get(req, "bearer")))
                fail_msg("%s %s should need a bearer token", m, path);
            n++;
        }
    }
    assert_true(n > 20);
}

/* The error schema's code enum is the error table, less "ok" (resp.c never
 * writes it), in the table's order. A status some operation lists has a
 * shared response naming its codes; the others (unused components, which
 * linters flag) are named by the default response instead. */
static void test_error_schema(void **state)
{
    (void)state;
    static const struct {
        int http;
        const char *code;
    } table[] = {
#define OB_ERR(name, http, code, msg) {http, code},
#include "base/errcodes.def"
#undef OB_ERR
    };
    json_t *err = get(get(schema("error"), "properties"), "error");
    assert_true(in_str_array(get(err, "required"), "code"));
    assert_true(in_str_array(get(err, "required"), "message"));
    json_t *codes = get(get(get(err, "properties"), "code"), "enum");
    size_t n = 0;
    for (size_t i = 0; i < OB_ARRAY_LEN(table); i++) {
        if (!strcmp(table[i].code, "ok")) continue;
        json_t *got = json_array_get(codes, n);
        if (!json_is_string(got) || strcmp(json_string_value(got), table[i].code) != 0)
            fail_msg("error code %zu should be %s", n, table[i].code);
        n++;
        char name[32];
        snprintf(name, sizeof name, "error_%d", table[i].http);
        json_t *r = json_object_get(get(get(doc, "components"), "responses"), name);
        if (!r) r = get(get(get(doc, "components"), "responses"), "error");
        else {
            char ref[64];
            snprintf(ref, sizeof ref, "\"#/components/responses/%s\"", name);
            if (!strstr(doc_text, ref)) fail_msg("shared response %s is not used", name);
        }
        assert_true(strstr(json_string_value(get(r, "description")), table[i].code) != NULL);
    }
    assert_int_equal(json_array_size(codes), n);
}

/* Every $ref resolves and every operationId is unique. */
static void walk(json_t *node, json_t *ids)
{
    if (json_is_object(node)) {
        const char *key;
        json_t *v;
        json_object_foreach(node, key, v) {
            if (!strcmp(key, "$ref") && json_is_string(v)) {
                if (!pointer(json_string_value(v))) fail_msg("unresolved $ref %s", json_string_value(v));
            } else if (!strcmp(key, "operationId") && json_is_string(v)) {
                if (json_object_get(ids, json_string_value(v))) fail_msg("duplicate operationId %s", json_string_value(v));
                json_object_set_new(ids, json_string_value(v), json_true());
            }
            walk(v, ids);
        }
    } else if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) walk(v, ids);
    }
}

static void test_refs_and_ids(void **state)
{
    (void)state;
    json_t *ids = json_object();
    walk(doc, ids);
    assert_true(json_object_size(ids) > 20);
    json_decref(ids);
}

/* Tags carry the declarations' descriptions. */
static void test_tags(void **state)
{
    (void)state;
    json_t *tags = get(doc, "tags");
    for (int i = 0; i < ob_registry_count(); i++) {
        const ob_table *t = ob_registry_at(i);
        bool found = false;
        size_t k;
        json_t *tag;
        json_array_foreach(tags, k, tag) {
            if (strcmp(json_string_value(get(tag, "name")), t->name) != 0) continue;
            found = true;
            if (t->res->doc) assert_string_equal(json_string_value(get(tag, "description")), t->res->doc);
        }
        assert_true(found == (is_api(t) || is_platform(t)));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_level),     cmocka_unit_test(test_stable_and_appends),
        cmocka_unit_test(test_fixed_paths),   cmocka_unit_test(test_table_paths),
        cmocka_unit_test(test_record_schemas), cmocka_unit_test(test_no_secrets),
        cmocka_unit_test(test_body_schemas),  cmocka_unit_test(test_list_operations),
        cmocka_unit_test(test_generic_operations), cmocka_unit_test(test_declared_operations_are_routed), cmocka_unit_test(test_security),
        cmocka_unit_test(test_error_schema),  cmocka_unit_test(test_refs_and_ids),
        cmocka_unit_test(test_tags),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
