/* courier_http.c - the shared half of the HTTP courier adapters
 * (courier_http.h). */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "domain/logistics/courier_http.h"
#include "jobs/jobs.h"
#include "jobs/webhooks.h"
#include "schema/row.h"
#include "schema/sql.h"
#include "gen/columns.h"
#include "base/banned.h"

const char *ob_courier_setting(const ob_courier_config *cfg, const char *key)
{
    const json_t *v = cfg->settings ? json_object_get(cfg->settings, key) : NULL;
    return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

static int setting_ms(const ob_courier_config *cfg, const char *key, int dflt)
{
    const json_t *v = cfg->settings ? json_object_get(cfg->settings, key) : NULL;
    if (!json_is_integer(v)) return dflt;
    json_int_t ms = json_integer_value(v);
    return ms < 100 ? 100 : ms > 60000 ? 60000 : (int)ms;
}

int ob_courier_secret(ob_ctx *ctx, const ob_courier_config *cfg, const char *key, const char **out, ob_err *err)
{
    *out = NULL;
    ob_row *row;
    if (ob_sql_load_internal(ctx, ob_registry_find(OB_TABLE_COURIER_CONFIGS), cfg->id, &row, err) != 0) return -1;
    const char *text = ob_row_text(row, COURIER_CONFIGS_CREDENTIALS);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    const json_t *v = json_object_get(j, key);
    if (json_is_string(v) && *json_string_value(v)) *out = ob_arena_strdup(ctx->arena, json_string_value(v));
    json_decref(j);
    if (*out) return 0;
    return ob_err_set(err, OB_E_COURIER, "the %s courier config has no \"%s\" in its credentials", cfg->type_code,
                      key);
}

int ob_courier_refuse(const ob_courier_config *cfg, const char *what, const char *message, ob_err *err)
{
    return ob_err_set(err, OB_E_COURIER, "%s refused to %s: %.300s", cfg->type_code, what,
                      message && *message ? message : "no reason given");
}

json_t *ob_courier_at(const json_t *j, const char *path)
{
    char part[64];
    const char *p = path;
    json_t *cur = (json_t *)j;
    while (cur && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof part) return NULL;
        memcpy(part, p, n);
        part[n] = 0;
        p += n + (p[n] == '.');
        if (json_is_array(cur) && isdigit((unsigned char)part[0])) cur = json_array_get(cur, (size_t)strtoul(part, NULL, 10));
        else cur = json_is_object(cur) ? json_object_get(cur, part) : NULL;
    }
    return cur;
}

const char *ob_courier_find(const json_t *j, const char *const *paths)
{
    for (; *paths; paths++) {
        const json_t *v = ob_courier_at(j, *paths);
        if (json_is_string(v) && *json_string_value(v)) return json_string_value(v);
    }
    return NULL;
}

const char *ob_courier_text(ob_ctx *ctx, const json_t *v)
{
    if (json_is_string(v)) return ob_arena_strdup(ctx->arena, json_string_value(v));
    if (json_is_integer(v)) return ob_arena_printf(ctx->arena, "%lld", (long long)json_integer_value(v));
    if (json_is_real(v)) return ob_arena_printf(ctx->arena, "%.2f", json_real_value(v));
    return NULL;
}

int64_t ob_courier_money(const json_t *v)
{
    char buf[64];
    int64_t out = 0;
    /* JSON numbers arrive as doubles: printed to the paisa, then read as
     * the exact decimal they stand for */
    if (json_is_integer(v)) return (int64_t)json_integer_value(v) * 100;
    if (json_is_real(v)) snprintf(buf, sizeof buf, "%.2f", json_real_value(v));
    else if (json_is_string(v)) snprintf(buf, sizeof buf, "%s", json_string_value(v));
    else return 0;
    return ob_parse_decimal(buf, 2, &out) == 0 ? out : 0;
}

const char *ob_courier_local_time(ob_ctx *ctx, const ob_courier_config *cfg, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    /* a zone is a Z or a sign after the time part ("...:SS+05:30") */
    bool zoned = n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z');
    for (size_t i = 11; !zoned && i < n; i++) zoned = s[i] == '+' || s[i] == '-';
    if (zoned) return s;
    const char *off = ob_courier_setting(cfg, "utc_offset");
    return ob_arena_printf(ctx->arena, "%s%s", s, off ? off : "+05:30");
}

const char *ob_courier_urlencode(ob_ctx *ctx, const char *s)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, ctx->arena, strlen(s ? s : "") * 3 + 1);
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        if (isalnum(*c) || strchr("-._~", *c)) ob_sb_addc(&sb, (char)*c);
        else ob_sb_addf(&sb, "%%%02X", *c);
    }
    return sb.buf ? sb.buf : "";
}

const char *ob_courier_dump(ob_ctx *ctx, json_t *j)
{
    char *t = json_dumps(j, JSON_COMPACT);
    const char *out = ob_arena_strdup(ctx->arena, t ? t : "{}");
    free(t);
    json_decref(j);
    return out;
}

json_t *ob_courier_address(const ob_courier_parcel *p)
{
    json_t *a = p->delivery_address ? json_loads(p->delivery_address, 0, NULL) : NULL;
    if (json_is_object(a)) return a;
    json_decref(a);
    return json_object();
}

const char *ob_courier_addr_field(const json_t *addr, const char *const *keys)
{
    const char *v = ob_courier_find(addr, keys);
    return v ? v : "";
}

const char *ob_courier_address_line(ob_ctx *ctx, const char *text)
{
    if (!text) return NULL;
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    const char *out = text;
    if (json_is_string(j)) out = ob_arena_strdup(ctx->arena, json_string_value(j));
    else if (json_is_object(j)) {
        static const char *const parts[][3] = {{"line1", "address1", NULL}, {"line2", "address2", NULL},
                                               {"city", NULL, NULL}, {"state", "province", NULL},
                                               {"pincode", "zip", "postal_code"}};
        ob_sb sb;
        ob_sb_init_arena(&sb, ctx->arena, 128);
        for (size_t i = 0; i < OB_ARRAY_LEN(parts); i++) {
            const char *keys[4] = {parts[i][0], parts[i][1], parts[i][2], NULL};
            const char *v = ob_courier_find(j, keys);
            if (v) ob_sb_addf(&sb, "%s%s", sb.len ? ", " : "", v);
        }
        out = sb.buf ? sb.buf : "";
    }
    json_decref(j);
    return out;
}

const char *ob_courier_external_id(ob_ctx *ctx, const char *awb, ob_err *err)
{
    ob_stmt *st;
    if (ob_db_prepare(ctx->db, "SELECT \"external_shipment_id\" FROM \"shipments\" WHERE \"awb_number\" = ?", &st,
                      err) != 0)
        return NULL;
    ob_stmt_bind_text(st, 1, awb, err);
    const char *out = NULL;
    if (ob_stmt_step(st, err) == 1 && ob_stmt_col_text(st, 0, NULL))
        out = ob_arena_strdup(ctx->arena, ob_stmt_col_text(st, 0, NULL));
    ob_stmt_done(st);
    return out;
}

/* Webhooks and couriers go to public hosts unless the tenant allows private
 * ones (tenant set --webhooks-allow-private): one rule for outgoing calls. */
static bool allow_private(ob_ctx *ctx)
{
    json_t *set = NULL;
    ob_err e = {0};
    bool yes = ob_jobs_tenant_settings(ctx->store, ctx->tenant->slug, &set, &e) == 0 &&
               json_is_true(json_object_get(set, "webhooks_allow_private"));
    json_decref(set);
    return yes;
}

/* The courier's words for a refusal: the message fields the four couriers
 * use, else the start of the answer. */
static const char *refusal_text(ob_ctx *ctx, const json_t *j, const char *text)
{
    static const char *const keys[] = {"message", "rmk", "error", "msg", "remarks.0", "packages.0.remarks.0",
                                       "errors.0.message", "error-response.0.Status.0.StatusInformation",
                                       "data.0.message", "GenerateWayBillResult.Status.0.StatusInformation", NULL};
    const char *m = j ? ob_courier_find(j, keys) : NULL;
    if (m) return m;
    return text ? ob_arena_printf(ctx->arena, "%.200s", text) : NULL;
}

int ob_courier_call(ob_ctx *ctx, const ob_courier_config *cfg, const char *base_key, const char *path,
                    const char *const *headers, const char *body, json_t **answer, const char **text, ob_err *err)
{
    *answer = NULL;
    if (text) *text = NULL;
    const char *base = base_key ? ob_courier_setting(cfg, base_key) : NULL;
    if (!base) base = ob_courier_setting(cfg, "base_url");
    if (!base) return ob_err_set(err, OB_E_COURIER, "the %s courier config has no base_url setting", cfg->type_code);
    size_t bl = strlen(base);
    const char *url = ob_arena_printf(ctx->arena, "%.*s%s", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base,
                                      path);
    ob_http_call call = {.method = body ? "POST" : "GET", .url = url, .headers = headers, .body = body,
                         .allow_private = allow_private(ctx),
                         .connect_timeout_ms = setting_ms(cfg, "connect_timeout_ms", 5000),
                         .timeout_ms = setting_ms(cfg, "timeout_ms", 15000), .agent = "opsbase-couriers/1"};
    long status;
    char *got = NULL;
    ob_err e = {0};
    if (ob_http_send(&call, &status, &got, &e) != 0)
        /* e names the transport failure, never the request (which may carry keys) */
        return ob_err_set(err, OB_E_COURIER, "%s did not answer: %.200s", cfg->type_code, e.message);
    const char *t = ob_arena_strdup(ctx->arena, got);
    free(got);
    json_t *j = json_loads(t, JSON_DECODE_ANY, NULL);
    if (status >= 400) {
        const char *m = refusal_text(ctx, j, t);
        m = m ? ob_arena_strdup(ctx->arena, m) : NULL; /* it may live in j */
        json_decref(j);
        return ob_err_set(err, OB_E_COURIER, "%s answered %ld: %.300s", cfg->type_code, status,
                          m && *m ? m : "no reason given");
    }
    *answer = j;
    if (text) *text = t;
    return 0;
}
