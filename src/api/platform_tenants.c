/* platform_tenants.c - POST /api/v1/platform/tenants: a super admin
 * provisions a tenant, as `opsbase tenant create` does (platform/tenants.h):
 * the control rows, the tenant's database migrated and seeded, its owner.
 * The control rows' audit (platform_audit_logs) names the super admin and
 * commits with them. A SaaS operator's sign-up flow calls this; so do the
 * end-to-end tests, which make a few hundred tenants a run. */
#include <jansson.h>
#include <string.h>

#include "api/api_int.h"
#include "base/base.h"
#include "platform/tenants.h"
#include "base/banned.h"

/* A text member: absent or null gives NULL; any other type, or longer than
 * max, is a 400 naming the field. */
static int text_field(json_t *body, const char *name, size_t max, bool required, const char **out, ob_err *err)
{
    json_t *v = json_object_get(body, name);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required) return 0;
        ob_err_set(err, OB_E_VALIDATION, "%s is required", name);
        ob_err_field_add(err, name, "required");
        return -1;
    }
    if (!json_is_string(v) || json_string_length(v) > max || json_string_length(v) == 0) {
        ob_err_set(err, OB_E_VALIDATION, "%s must be a text of 1 to %zu characters", name, max);
        ob_err_field_add(err, name, "invalid");
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* A limit: absent or null keeps the plan's (-1). */
static int limit_field(json_t *body, const char *name, int64_t *out, ob_err *err)
{
    json_t *v = json_object_get(body, name);
    *out = -1;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100000000) {
        ob_err_set(err, OB_E_VALIDATION, "%s must be a whole number from 0 to 100000000", name);
        ob_err_field_add(err, name, "invalid");
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

static const char *const known[] = {"slug", "plan", "owner_email", "owner_password", "owner_name", "name",
                                    "ticket_limit", "agent_limit"};

static int read_input(json_t *body, ob_tenant_new *t, ob_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        bool ok = false;
        for (size_t i = 0; i < OB_ARRAY_LEN(known) && !ok; i++) ok = strcmp(key, known[i]) == 0;
        if (!ok) {
            ob_err_set(err, OB_E_VALIDATION, "unknown field \"%.60s\"", key);
            ob_err_field_add(err, key, "unknown");
            return -1;
        }
    }
    if (text_field(body, "slug", 63, true, &t->slug, err) != 0 ||
        text_field(body, "plan", 64, true, &t->plan_code, err) != 0 ||
        text_field(body, "owner_email", 255, true, &t->owner_email, err) != 0 ||
        text_field(body, "owner_password", 1024, false, &t->owner_password, err) != 0 ||
        text_field(body, "owner_name", 255, false, &t->owner_name, err) != 0 ||
        text_field(body, "name", 255, false, &t->name, err) != 0 ||
        limit_field(body, "ticket_limit", &t->ticket_limit, err) != 0 ||
        limit_field(body, "agent_limit", &t->agent_limit, err) != 0)
        return -1;
    if (!ob_db_slug_valid(t->slug)) {
        ob_err_set(err, OB_E_VALIDATION, "slug must be lower-case letters, digits and dashes (at most 63)");
        ob_err_field_add(err, "slug", "invalid");
        return -1;
    }
    if (!strchr(t->owner_email, '@')) {
        ob_err_set(err, OB_E_VALIDATION, "owner_email must be an e-mail address");
        ob_err_field_add(err, "owner_email", "invalid");
        return -1;
    }
    return 0;
}

void ob_api_platform_tenant_create(ob_app *app, ob_req *req, ob_resp *resp, ob_ctx *ctx, ob_call *call)
{
    (void)call;
    ob_err err;
    json_t *body = NULL;
    if (ob_api_body(app, req, false, &body, &err) != 0) return ob_resp_error(resp, &err);
    ob_tenant_new t = {.by = ctx};
    int rc = read_input(body, &t, &err);
    /* the owner's password is hashed and the database made between two
     * short control transactions, with the control database's write lock
     * not held (ob_tenant_create) */
    if (rc == 0) rc = ob_tenant_create(ctx->store, &t, &err);
    if (rc != 0) {
        json_decref(body);
        return ob_resp_error(resp, &err);
    }
    ob_jsonw w;
    ob_jw_init(&w, &resp->body);
    ob_jw_obj_open(&w);
    ob_jw_kstr(&w, "id", t.id);
    ob_jw_kstr(&w, "slug", t.slug);
    ob_jw_kstr(&w, "plan", t.plan_code);
    ob_jw_kstr(&w, "owner_email", t.owner_email);
    /* a password made here is shown this once, as the command line shows it */
    if (t.generated_password[0]) ob_jw_kstr(&w, "owner_password", t.generated_password);
    ob_jw_obj_close(&w);
    ob_resp_header(resp, "Location", ob_arena_printf(ctx->arena, "/api/v1/platform/tenants/%s", t.id));
    ob_resp_header(resp, "Cache-Control", "no-store");
    resp->status = 201;
    json_decref(body);
}
