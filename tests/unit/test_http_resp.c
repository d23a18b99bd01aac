/* test_http_resp.c - response helpers and the error body (http/resp.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "http/http.h"
#include "base/banned.h"

static ob_arena g_arena;

static int setup(void **state)
{
    (void)state;
    ob_arena_init(&g_arena, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ob_arena_release(&g_arena);
    return 0;
}

/* The "error" object of the body, checked to be the only top-level key. */
static json_t *error_of(const ob_resp *resp, json_t **root)
{
    *root = json_loadb(resp->body.buf, resp->body.len, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(*root);
    assert_int_equal(json_object_size(*root), 1);
    json_t *e = json_object_get(*root, "error");
    assert_true(json_is_object(e));
    return e;
}

static const char *s(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void test_init_and_headers(void **state)
{
    (void)state;
    ob_resp resp;
    ob_resp_init(&resp, &g_arena);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "application/json");
    assert_int_equal(resp.body.len, 0);
    assert_ptr_equal(resp.body.arena, &g_arena);

    char val[16];
    snprintf(val, sizeof val, "\"v1\"");
    ob_resp_header(&resp, "ETag", val);
    val[0] = 'X'; /* the value was copied */
    assert_string_equal(resp.headers[0].val, "\"v1\"");
    ob_resp_header(&resp, "etag", "\"v2\""); /* same name: replaced */
    assert_int_equal(resp.nheaders, 1);
    assert_string_equal(resp.headers[0].val, "\"v2\"");
    ob_resp_header(&resp, "content-type", "text/plain; version=0.0.4");
    assert_int_equal(resp.nheaders, 1);
    assert_string_equal(resp.content_type, "text/plain; version=0.0.4");

    ob_log_set_level(OB_LOG_OFF);
    for (int i = 0; i < OB_MAX_RESP_HEADERS + 3; i++) {
        char k[16];
        snprintf(k, sizeof k, "X-H%d", i);
        ob_resp_header(&resp, k, "1");
    }
    assert_int_equal(resp.nheaders, OB_MAX_RESP_HEADERS);
    ob_resp_header(&resp, NULL, "x");
    ob_resp_header(&resp, "X-Null", NULL);
    assert_int_equal(resp.nheaders, OB_MAX_RESP_HEADERS);
}

static void test_errorf(void **state)
{
    (void)state;
    ob_resp resp;
    ob_resp_init(&resp, &g_arena);
    ob_sb_adds(&resp.body, "{\"partial\":");
    resp.content_type = "text/csv";
    ob_resp_errorf(&resp, OB_E_NOT_FOUND, NULL);
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.content_type, "application/json");
    json_t *root;
    json_t *e = error_of(&resp, &root);
    assert_string_equal(s(e, "code"), "not_found");
    assert_string_equal(s(e, "message"), ob_err_default_msg(OB_E_NOT_FOUND));
    assert_int_equal(json_object_size(e), 2);
    json_decref(root);

    ob_resp_errorf(&resp, OB_E_RATE_LIMITED, "slow \"down\"\n");
    assert_int_equal(resp.status, 429);
    e = error_of(&resp, &root);
    assert_string_equal(s(e, "code"), "rate_limited");
    assert_string_equal(s(e, "message"), "slow \"down\"\n");
    json_decref(root);

    /* Not an error code: reported as an internal error. */
    ob_resp_errorf(&resp, OB_E_OK, "fine");
    assert_int_equal(resp.status, 500);
    e = error_of(&resp, &root);
    assert_string_equal(s(e, "code"), "internal");
    assert_string_equal(s(e, "message"), ob_err_default_msg(OB_E_INTERNAL));
    json_decref(root);
}

static void test_error_full(void **state)
{
    (void)state;
    ob_err err;
    ob_err_clear(&err);
    ob_err_set(&err, OB_E_VALIDATION, NULL);
    ob_err_field_add(&err, "email", "required");
    ob_err_field_add(&err, "priority", "must be at most 5");
    ob_err_field_add(&err, "email", "second problem");
    snprintf(err.field, sizeof err.field, "email");
    snprintf(err.constraint, sizeof err.constraint, "users_email_key");

    ob_resp resp;
    ob_resp_init(&resp, &g_arena);
    ob_resp_error(&resp, &err);
    assert_int_equal(resp.status, 400);
    json_t *root;
    json_t *e = error_of(&resp, &root); /* duplicate keys would fail to load */
    assert_string_equal(s(e, "code"), "validation_failed");
    assert_string_equal(s(e, "message"), ob_err_default_msg(OB_E_VALIDATION));
    assert_string_equal(s(e, "field"), "email");
    assert_string_equal(s(e, "constraint"), "users_email_key");
    json_t *f = json_object_get(e, "fields");
    assert_int_equal(json_object_size(f), 2);
    assert_string_equal(s(f, "email"), "required");
    assert_string_equal(s(f, "priority"), "must be at most 5");
    json_decref(root);
}

static void test_error_5xx_hides_constraint(void **state)
{
    (void)state;
    ob_err err;
    ob_err_clear(&err);
    ob_err_set(&err, OB_E_STORAGE, "database is locked");
    snprintf(err.constraint, sizeof err.constraint, "tickets_pkey");
    ob_resp resp;
    ob_resp_init(&resp, &g_arena);
    ob_resp_error(&resp, &err);
    assert_int_equal(resp.status, 503);
    json_t *root;
    json_t *e = error_of(&resp, &root);
    assert_string_equal(s(e, "code"), "storage_unavailable");
    assert_string_equal(s(e, "message"), "database is locked");
    assert_null(json_object_get(e, "constraint"));
    assert_null(json_object_get(e, "fields"));
    json_decref(root);

    ob_resp_error(&resp, NULL);
    assert_int_equal(resp.status, 500);
    e = error_of(&resp, &root);
    assert_string_equal(s(e, "code"), "internal");
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_headers),
        cmocka_unit_test(test_errorf),
        cmocka_unit_test(test_error_full),
        cmocka_unit_test(test_error_5xx_hides_constraint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
