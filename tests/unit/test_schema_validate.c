/* test_schema_validate.c - JSON values and bodies checked against the
 * registry (schema/validate.c), without a database: reference existence is
 * covered by test_domain_ticket_fsm. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "domain/domains.h"
#include "schema/validate.h"
#include "fixture.h"
#include "gen/columns.h"
#include "base/banned.h"

static const char *const UUID_UP = "0190A0B1-C2D3-7E4F-8A5B-6C7D8E9F0A1B";
static const char *const UUID_LO = "0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b";

/* Columns of types or flags the registry does not (yet) declare. */
static const ob_column col_real = {"lat", OB_F_REAL};
static const ob_column col_dec3 = {"weight", OB_F_DECIMAL, .scale = 3};
static const ob_column col_dec_pos = {"rate", OB_F_DECIMAL, .flags = OB_HAS_MIN | OB_MIN_EXCL | OB_HAS_MAX,
                                      .min = 0, .max = 10000};
static const ob_column col_int_excl = {"n", OB_F_INT, .flags = OB_HAS_MIN | OB_MIN_EXCL, .min = 0};

static int setup(void **state)
{
    ob_fx_ctx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    ob_fx_ctx_init(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    ob_fx_ctx *f = *state;
    ob_fx_ctx_release(f);
    free(f);
    return 0;
}

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (!j) print_error("bad test JSON %s: %s\n", text, e.text);
    assert_non_null(j);
    return j;
}

/* Convert JSON text for column c; it must be accepted. */
static ob_value ok_val(ob_fx_ctx *f, const ob_column *c, const char *text)
{
    json_t *j = load(text);
    ob_value v;
    const char *problem = NULL;
    int rc = ob_value_from_json(&f->arena, c, j, &v, &problem);
    json_decref(j);
    if (rc != 0) print_error("%s = %s refused: %s\n", c->name, text, problem);
    assert_int_equal(rc, 0);
    return v;
}

/* Convert JSON text for column c; it must be refused with `want`. */
static void bad_val(ob_fx_ctx *f, const ob_column *c, const char *text, const char *want)
{
    json_t *j = load(text);
    ob_value v;
    const char *problem = NULL;
    int rc = ob_value_from_json(&f->arena, c, j, &v, &problem);
    json_decref(j);
    if (rc == 0) print_error("%s = %s accepted\n", c->name, text);
    assert_int_equal(rc, -1);
    assert_non_null(problem);
    assert_string_equal(problem, want);
}

static void ok_text(ob_fx_ctx *f, const ob_column *c, const char *text, const char *want)
{
    ob_value v = ok_val(f, c, text);
    assert_int_equal(v.t, OB_V_TEXT);
    assert_string_equal(v.s, want);
    assert_int_equal(v.n, strlen(want));
}

static void ok_dec(ob_fx_ctx *f, const ob_column *c, const char *text, int64_t minor)
{
    ob_value v = ok_val(f, c, text);
    assert_int_equal(v.t, OB_V_DEC);
    assert_int_equal(v.scale, ob_col_scale(c));
    assert_int_equal(v.i, minor);
}

/* A JSON string of n copies of s. */
static char *repeat_json(ob_fx_ctx *f, const char *s, int n)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, &f->arena, 64);
    ob_sb_addc(&sb, '"');
    for (int i = 0; i < n; i++) ob_sb_adds(&sb, s);
    ob_sb_addc(&sb, '"');
    return sb.buf;
}

static void test_text(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_column *name = ob_fx_col("categories", "name");       /* required, max 255 */
    const ob_column *desc = ob_fx_col("categories", "description"); /* optional */
    const ob_column *country = ob_fx_col("customer_contacts", "country"); /* max 2 */
    assert_int_equal(name->max, 255);
    assert_int_equal(country->max, 2);

    ok_text(f, name, "\"Network\"", "Network");
    ok_text(f, name, "\"  spaced  \"", "  spaced  ");
    /* the limit counts characters, not bytes */
    ob_value v = ok_val(f, name, repeat_json(f, "\xC3\xA9", 255));
    assert_int_equal(v.n, 510);
    bad_val(f, name, repeat_json(f, "\xC3\xA9", 256), "is too long");
    ok_val(f, name, repeat_json(f, "a", 255));
    bad_val(f, name, repeat_json(f, "a", 256), "is too long");
    ok_val(f, name, repeat_json(f, "\xF0\x9F\x98\x80", 255));
    ok_text(f, country, "\"\xC3\x84\xC3\x96\"", "\xC3\x84\xC3\x96");
    bad_val(f, country, "\"DEU\"", "is too long");

    bad_val(f, name, "\"\"", "must not be empty");
    ok_text(f, desc, "\"\"", "");
    bad_val(f, name, "5", "must be a string");
    bad_val(f, name, "true", "must be a string");
    bad_val(f, name, "[\"a\"]", "must be a string");
    bad_val(f, name, "null", "must not be null");
    v = ok_val(f, desc, "null");
    assert_int_equal(v.t, OB_V_NULL);

    /* lower-cased columns */
    ok_text(f, ob_fx_col("users", "email"), "\"Ops.Lead@Example.TEST\"", "ops.lead@example.test");
    ok_text(f, ob_fx_col("roles", "code"), "\"Agent\"", "agent");
}

/* A text value's length must match its bytes: an embedded NUL (possible
 * from JSON built in code with json_stringn) is either refused or kept. */
static void test_text_with_nul(void **state)
{
    ob_fx_ctx *f = *state;
    static const char *const cols[][2] = {{"categories", "description"}, {"users", "email"}};
    for (size_t i = 0; i < OB_ARRAY_LEN(cols); i++) {
        json_t *j = json_stringn("ab\0cd", 5);
        assert_non_null(j);
        ob_value v;
        const char *problem = NULL;
        int rc = ob_value_from_json(&f->arena, ob_fx_col(cols[i][0], cols[i][1]), j, &v, &problem);
        json_decref(j);
        if (rc == 0) {
            if (v.n != strlen(v.s))
                print_error("%s.%s: value claims %zu bytes but holds %zu\n", cols[i][0], cols[i][1], v.n,
                            strlen(v.s));
            assert_int_equal(v.n, strlen(v.s));
        }
    }
}

static void test_int(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_column *pl = ob_fx_col("categories", "priority_level"); /* 1..5, required */
    const ob_column *age = ob_fx_col("customers", "age");            /* 0..150, optional */
    ob_value v = ok_val(f, pl, "1");
    assert_int_equal(v.t, OB_V_INT);
    assert_int_equal(v.i, 1);
    assert_int_equal(ok_val(f, pl, "5").i, 5);
    bad_val(f, pl, "0", "is below the minimum");
    bad_val(f, pl, "-3", "is below the minimum");
    bad_val(f, pl, "6", "is above the maximum");
    bad_val(f, pl, "true", "must be an integer");
    bad_val(f, pl, "false", "must be an integer");
    /* an integer-valued number is that integer; a fraction is not */
    assert_int_equal(ok_val(f, pl, "3.0").i, 3);
    assert_int_equal(ok_val(f, pl, "4e0").i, 4);
    assert_int_equal(ok_val(f, pl, "0.5e1").i, 5);
    bad_val(f, pl, "3.5", "must be an integer");
    bad_val(f, pl, "6.0", "is above the maximum");
    /* beyond 2^53 a double names no single integer: a field error, not rounding */
    bad_val(f, age, "1e300", "is out of range for an integer");
    bad_val(f, age, "-9007199254740994.0", "is out of range for an integer");
    bad_val(f, pl, "\"3\"", "must be an integer");
    bad_val(f, pl, "null", "must not be null");
    assert_int_equal(ok_val(f, age, "null").t, OB_V_NULL);
    assert_int_equal(ok_val(f, age, "0").i, 0);
    assert_int_equal(ok_val(f, age, "150").i, 150);
    bad_val(f, age, "151", "is above the maximum");
    /* an exclusive minimum */
    bad_val(f, &col_int_excl, "0", "is below the minimum");
    assert_int_equal(ok_val(f, &col_int_excl, "1").i, 1);
    /* no bounds: the whole int64 range */
    const ob_column *ver = ob_fx_col("tickets", "customer_satisfaction");
    assert_int_equal(ok_val(f, ver, "3").i, 3);
    assert_int_equal(ok_val(f, &col_int_excl, "9223372036854775807").i, INT64_MAX);
}

static void test_decimal(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_column *cl = ob_fx_col("customers", "credit_limit"); /* scale 2, min 0 */
    ok_dec(f, cl, "\"12.50\"", 1250);
    ok_dec(f, cl, "\"12.5\"", 1250);
    ok_dec(f, cl, "\"12\"", 1200);
    ok_dec(f, cl, "\"0\"", 0);
    ok_dec(f, cl, "12", 1200);
    ok_dec(f, cl, "1500.5", 150050);
    ok_dec(f, cl, "0.1", 10);
    ok_dec(f, cl, "19.99", 1999);
    ok_dec(f, cl, "\"92233720368547758.07\"", INT64_MAX);
    bad_val(f, cl, "\"1.234\"", "has too many decimal places");
    bad_val(f, cl, "1.234", "has too many decimal places");
    bad_val(f, cl, "\"-1\"", "is below the minimum");
    bad_val(f, cl, "-0.01", "is below the minimum");
    bad_val(f, cl, "-5", "is below the minimum");
    bad_val(f, cl, "\"1e3\"", "must be a decimal number");
    bad_val(f, cl, "\"1E3\"", "must be a decimal number");
    bad_val(f, cl, "\"12,50\"", "must be a decimal number");
    bad_val(f, cl, "\" 12\"", "must be a decimal number");
    bad_val(f, cl, "\"12 \"", "must be a decimal number");
    bad_val(f, cl, "\"+12\"", "must be a decimal number");
    bad_val(f, cl, "\"12.\"", "must be a decimal number");
    bad_val(f, cl, "\"\"", "must be a decimal number");
    bad_val(f, cl, "\"abc\"", "must be a decimal number");
    bad_val(f, cl, "\"1.2.3\"", "must be a decimal number");
    bad_val(f, cl, "\"92233720368547758.08\"", "must be a decimal number"); /* overflow */
    bad_val(f, cl, "true", "must be a decimal number");
    bad_val(f, cl, "{}", "must be a decimal number");
    bad_val(f, cl, "null", "must not be null");
    /* another scale */
    ok_dec(f, &col_dec3, "\"1.234\"", 1234);
    ok_dec(f, &col_dec3, "2", 2000);
    bad_val(f, &col_dec3, "\"1.2345\"", "has too many decimal places");
    assert_int_equal(ok_val(f, &col_dec3, "null").t, OB_V_NULL);
    /* exclusive minimum and a maximum (in minor units) */
    bad_val(f, &col_dec_pos, "0", "must be greater than the minimum");
    bad_val(f, &col_dec_pos, "\"0.00\"", "must be greater than the minimum");
    ok_dec(f, &col_dec_pos, "\"0.01\"", 1);
    ok_dec(f, &col_dec_pos, "100", 10000);
    bad_val(f, &col_dec_pos, "\"100.01\"", "is above the maximum");
}

static void test_real_bool_json(void **state)
{
    ob_fx_ctx *f = *state;
    ob_value v = ok_val(f, &col_real, "52.5");
    assert_int_equal(v.t, OB_V_REAL);
    assert_true(v.r == 52.5);
    v = ok_val(f, &col_real, "-3");
    assert_int_equal(v.t, OB_V_REAL);
    assert_true(v.r == -3.0);
    bad_val(f, &col_real, "\"52.5\"", "must be a number");
    bad_val(f, &col_real, "true", "must be a number");
    /* declared ranges apply to real columns (coordinates) */
    const ob_column *lat = ob_fx_col("warehouses", "latitude"), *lon = ob_fx_col("warehouses", "longitude");
    assert_true(ok_val(f, lat, "-90").r == -90.0);
    assert_true(ok_val(f, lat, "90.0").r == 90.0);
    bad_val(f, lat, "90.000001", "is above the maximum");
    bad_val(f, lat, "-1e300", "is below the minimum");
    assert_true(ok_val(f, lon, "180").r == 180.0);
    bad_val(f, lon, "1e300", "is above the maximum");

    const ob_column *b = ob_fx_col("categories", "is_active");
    v = ok_val(f, b, "true");
    assert_int_equal(v.t, OB_V_BOOL);
    assert_int_equal(v.i, 1);
    v = ok_val(f, b, "false");
    assert_int_equal(v.t, OB_V_BOOL);
    assert_int_equal(v.i, 0);
    bad_val(f, b, "1", "must be true or false");
    bad_val(f, b, "0", "must be true or false");
    bad_val(f, b, "\"true\"", "must be true or false");
    bad_val(f, b, "null", "must not be null");

    const ob_column *js = ob_fx_col("customers", "custom_fields");
    ok_text(f, js, "{ \"b\" : [ 1, 2 ],\n \"a\" : { \"x\" : null } }", "{\"b\":[1,2],\"a\":{\"x\":null}}");
    ok_text(f, js, "[ ]", "[]");
    ok_text(f, js, "\"text\"", "\"text\"");
    ok_text(f, js, "12", "12");
    ok_text(f, js, "false", "false");
    ok_text(f, js, "{\"s\":\"\xC3\xA9\\n\"}", "{\"s\":\"\xC3\xA9\\n\"}");
    assert_int_equal(ok_val(f, js, "null").t, OB_V_NULL);
    ok_text(f, ob_fx_col("users", "settings"), "{\"theme\": \"dark\"}", "{\"theme\":\"dark\"}");
}

static void test_enum_ref(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_column *pr = ob_fx_col("tickets", "priority");
    ok_text(f, pr, "\"high\"", "high");
    ok_text(f, pr, "\"HIGH\"", "high");
    ok_text(f, pr, "\"Urgent\"", "urgent");
    ok_text(f, ob_fx_col("tickets", "status"), "\"In_Progress\"", "in_progress");
    bad_val(f, pr, "\"bogus\"", "is not one of the allowed values");
    bad_val(f, pr, "\"\"", "is not one of the allowed values");
    bad_val(f, pr, "\"high \"", "is not one of the allowed values");
    bad_val(f, pr, "\"hig\"", "is not one of the allowed values");
    bad_val(f, pr, "3", "must be a string");
    bad_val(f, pr, "null", "must not be null");

    const ob_column *cust = ob_fx_col("tickets", "customer_id"); /* required ref */
    const ob_column *cat = ob_fx_col("tickets", "category_id");  /* optional ref */
    char up[64];
    snprintf(up, sizeof up, "\"%s\"", UUID_UP);
    ok_text(f, cust, up, UUID_LO);
    bad_val(f, cust, "\"abc\"", "must be a record id");
    bad_val(f, cust, "\"0190a0b1c2d37e4f8a5b6c7d8e9f0a1b\"", "must be a record id");
    bad_val(f, cust, "\"{0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b}\"", "must be a record id");
    bad_val(f, cust, "\"0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1g\"", "must be a record id");
    bad_val(f, cust, "42", "must be a string");
    bad_val(f, cust, "null", "must not be null");
    assert_int_equal(ok_val(f, cat, "null").t, OB_V_NULL);
}

static void test_timestamp_date(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_column *ts = ob_fx_col("customers", "approved_at");
    const ob_column *d = ob_fx_col("customers", "date_of_birth");
    ok_text(f, ts, "\"2026-01-02T03:04:05Z\"", "2026-01-02T03:04:05.000Z");
    ok_text(f, ts, "\"2026-01-02T03:04:05.7Z\"", "2026-01-02T03:04:05.700Z");
    ok_text(f, ts, "\"2026-01-02T03:04:05.123456Z\"", "2026-01-02T03:04:05.123Z");
    ok_text(f, ts, "\"2026-01-02T03:04:05+05:30\"", "2026-01-01T21:34:05.000Z");
    ok_text(f, ts, "\"2026-01-01T23:30:00-01:00\"", "2026-01-02T00:30:00.000Z");
    ok_text(f, ts, "\"2024-02-29T12:00:00Z\"", "2024-02-29T12:00:00.000Z");
    static const char *const bad_ts[] = {
        "\"2026-01-02\"",          "\"2026-02-30T00:00:00Z\"", "\"2023-02-29T00:00:00Z\"",
        "\"2026-01-02T24:00:00Z\"", "\"2026-01-02T03:60:00Z\"", "\"2026-01-02T03:04:05\"",
        "\"2026-01-02T03:04:05.Z\"", "\"2026-01-02T03:04:05Z \"", "\"2026-13-01T00:00:00Z\"",
        "\"now\"",                 "\"\"",                      "\"2026-01-02T03:04:05+0530\"",
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(bad_ts); i++) bad_val(f, ts, bad_ts[i], "must be an RFC 3339 timestamp");
    bad_val(f, ts, "1767323045", "must be a string");
    assert_int_equal(ok_val(f, ts, "null").t, OB_V_NULL);

    ok_text(f, d, "\"2024-02-29\"", "2024-02-29");
    ok_text(f, d, "\"1999-12-31\"", "1999-12-31");
    static const char *const bad_d[] = {
        "\"2026-02-30\"", "\"2023-02-29\"", "\"2026-13-01\"", "\"2026-00-10\"", "\"2026-01-32\"",
        "\"2026-1-01\"",  "\"20260102\"",   "\"2026-01-02T00:00:00Z\"", "\"02/01/2026\"", "\"\"",
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(bad_d); i++) bad_val(f, d, bad_d[i], "must be a date (YYYY-MM-DD)");
    bad_val(f, d, "20260102", "must be a string");
}

/* Validate a body (JSON text) onto a row of `table`. */
static int body(ob_fx_ctx *f, const char *table, const char *text, ob_row *row, bool create, ob_err *err)
{
    json_t *j = load(text);
    int rc = ob_validate_body(&f->ctx, ob_fx_table(table), j, row, create, err);
    json_decref(j);
    return rc;
}

static ob_row *new_row(ob_fx_ctx *f, const char *table)
{
    return ob_row_new(&f->arena, ob_fx_table(table));
}

static void expect_struct_err(ob_fx_ctx *f, const char *table, const char *text, bool create, ob_errcode code,
                              const char *field)
{
    ob_err err;
    ob_row *row = new_row(f, table);
    int rc = body(f, table, text, row, create, &err);
    if (rc == 0) print_error("%s %s accepted\n", table, text);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, code);
    assert_string_equal(err.field, field);
    assert_non_null(strstr(err.message, field));
}

static void test_body_structure(void **state)
{
    ob_fx_ctx *f = *state;
    expect_struct_err(f, "tickets", "{\"title\":\"t\",\"nope\":1}", true, OB_E_UNKNOWN_FIELD, "nope");
    expect_struct_err(f, "tickets", "{\"Title\":\"t\"}", true, OB_E_UNKNOWN_FIELD, "Title");
    expect_struct_err(f, "tickets", "{\"title \":\"t\"}", false, OB_E_UNKNOWN_FIELD, "title ");
    /* secret columns do not exist as far as a client can tell */
    expect_struct_err(f, "users", "{\"password_hash\":\"x\"}", true, OB_E_UNKNOWN_FIELD, "password_hash");
    expect_struct_err(f, "users", "{\"mfa_secret\":\"x\"}", false, OB_E_UNKNOWN_FIELD, "mfa_secret");

    static const char *const server[] = {"id", "created_at", "updated_at", "version", "status", "ticket_number",
                                         "assigned_agent_id", "response_due_at", "resolved_at", "created_by"};
    for (size_t i = 0; i < OB_ARRAY_LEN(server); i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"title\":\"t\",\"%s\":null}", server[i]);
        expect_struct_err(f, "tickets", text, true, OB_E_READONLY_FIELD, server[i]);
        expect_struct_err(f, "tickets", text, false, OB_E_READONLY_FIELD, server[i]);
    }
    expect_struct_err(f, "users", "{\"current_ticket_count\":0}", false, OB_E_READONLY_FIELD, "current_ticket_count");
    expect_struct_err(f, "users", "{\"is_owner\":true}", true, OB_E_READONLY_FIELD, "is_owner");

    /* a structural problem wins over bad values, whatever the order */
    expect_struct_err(f, "tickets", "{\"priority_level\":\"x\",\"title\":5,\"nope\":1}", true, OB_E_UNKNOWN_FIELD,
                      "nope");
    expect_struct_err(f, "tickets", "{\"priority_level\":\"x\",\"status\":\"open\"}", true, OB_E_READONLY_FIELD,
                      "status");

    /* immutable: settable on create, refused on update */
    char text[160];
    snprintf(text, sizeof text, "{\"customer_id\":\"%s\"}", UUID_LO);
    expect_struct_err(f, "tickets", text, false, OB_E_READONLY_FIELD, "customer_id");
    expect_struct_err(f, "ticket_messages", "{\"is_internal\":true}", false, OB_E_READONLY_FIELD, "is_internal");
    expect_struct_err(f, "roles", "{\"code\":\"x\"}", false, OB_E_READONLY_FIELD, "code");
    ob_err err;
    ob_row *row = new_row(f, "tickets");
    assert_int_equal(body(f, "tickets", text, row, true, &err), 0);
    assert_string_equal(ob_row_text(row, TICKETS_CUSTOMER_ID), UUID_LO);
    row = new_row(f, "ticket_messages");
    assert_int_equal(body(f, "ticket_messages", "{\"is_internal\":true}", row, true, &err), 0);
    assert_int_equal(ob_row_int(row, TICKET_MESSAGES_IS_INTERNAL, -1), 1);

    /* an empty body is fine for either */
    assert_int_equal(body(f, "tickets", "{}", new_row(f, "tickets"), false, &err), 0);
}

static void test_body_defaults(void **state)
{
    ob_fx_ctx *f = *state;
    ob_err err;
    char text[200];
    snprintf(text, sizeof text, "{\"title\":\"Printer\",\"description\":\"on fire\",\"customer_id\":\"%s\"}", UUID_UP);
    ob_row *t = new_row(f, "tickets");
    assert_int_equal(body(f, "tickets", text, t, true, &err), 0);
    assert_string_equal(ob_row_text(t, TICKETS_TITLE), "Printer");
    assert_string_equal(ob_row_text(t, TICKETS_CUSTOMER_ID), UUID_LO);
    assert_string_equal(ob_row_text(t, TICKETS_STATUS), "open");
    assert_string_equal(ob_row_text(t, TICKETS_PRIORITY), "medium");
    assert_string_equal(ob_row_text(t, TICKETS_CRITICALITY), "low");
    assert_string_equal(ob_row_text(t, TICKETS_SOURCE), "portal");
    assert_true(ob_row_is_null(t, TICKETS_PRIORITY_LEVEL)); /* no default: the category's, in the hook */
    assert_true(ob_row_is_null(t, TICKETS_CATEGORY_ID));
    assert_true(ob_row_is_null(t, TICKETS_TICKET_NUMBER));
    assert_true(ob_row_is_null(t, TICKETS_ID));

    /* given values win over defaults */
    t = new_row(f, "tickets");
    assert_int_equal(body(f, "tickets", "{\"priority\":\"URGENT\",\"source\":\"Email\"}", t, true, &err), 0);
    assert_string_equal(ob_row_text(t, TICKETS_PRIORITY), "urgent");
    assert_string_equal(ob_row_text(t, TICKETS_SOURCE), "email");

    ob_row *c = new_row(f, "customers");
    assert_int_equal(body(f, "customers", "{\"name\":\"Ada\"}", c, true, &err), 0);
    assert_string_equal(ob_row_text(c, CUSTOMERS_CUSTOMER_TIER), "standard");
    assert_string_equal(ob_row_text(c, CUSTOMERS_STATUS), "active");
    assert_string_equal(ob_row_text(c, CUSTOMERS_APPROVAL_STATUS), "pending");
    assert_string_equal(ob_row_text(c, CUSTOMERS_ADDRESS_TYPE), "home");
    const ob_value *cl = ob_row_get(c, CUSTOMERS_CREDIT_LIMIT);
    assert_int_equal(cl->t, OB_V_DEC);
    assert_int_equal(cl->i, 0);
    assert_int_equal(cl->scale, 2);
    assert_int_equal(ob_row_get(c, CUSTOMERS_PAYMENT_TERMS)->t, OB_V_INT);
    assert_int_equal(ob_row_int(c, CUSTOMERS_PAYMENT_TERMS, -1), 30);
    char today[11];
    snprintf(today, sizeof today, "%.10s", f->ctx.now);
    assert_string_equal(ob_row_text(c, CUSTOMERS_REGISTRATION_DATE), today);
    assert_true(ob_row_is_null(c, CUSTOMERS_CUSTOMER_CODE));

    /* an explicit null is kept, not replaced by the default */
    c = new_row(f, "customers");
    assert_int_equal(body(f, "customers", "{\"address_type\":null}", c, true, &err), 0);
    assert_true(ob_row_is_null(c, CUSTOMERS_ADDRESS_TYPE));

    ob_row *u = new_row(f, "users");
    assert_int_equal(body(f, "users", "{\"email\":\"A@B.TEST\",\"name\":\"A\"}", u, true, &err), 0);
    assert_string_equal(ob_row_text(u, USERS_EMAIL), "a@b.test");
    assert_string_equal(ob_row_text(u, USERS_SETTINGS), "{}");
    assert_int_equal(ob_row_get(u, USERS_IS_ACTIVE)->t, OB_V_BOOL);
    assert_int_equal(ob_row_int(u, USERS_IS_ACTIVE, -1), 1);
    assert_int_equal(ob_row_int(u, USERS_IS_OWNER, -1), 0);
    assert_int_equal(ob_row_int(u, USERS_CURRENT_TICKET_COUNT, -1), 0);
    assert_string_equal(ob_row_text(u, USERS_USER_TYPE), "employee");

    ob_row *ur = new_row(f, "user_roles");
    assert_int_equal(body(f, "user_roles", "{}", ur, true, &err), 0);
    assert_string_equal(ob_row_text(ur, USER_ROLES_ASSIGNED_AT), f->ctx.now); /* "now": the request clock */
    assert_string_equal(ob_row_text(ur, USER_ROLES_STATUS), "active");

    /* update: the stored row is changed where the body says, no defaults */
    ob_row *stored = new_row(f, "tickets");
    ob_row_set_text(&f->arena, stored, TICKETS_TITLE, "Old");
    ob_row_set_text(&f->arena, stored, TICKETS_PRIORITY, "high");
    ob_row *upd = ob_row_copy(&f->arena, stored);
    assert_int_equal(body(f, "tickets", "{\"priority\":\"LOW\",\"subcategory\":null}", upd, false, &err), 0);
    assert_string_equal(ob_row_text(upd, TICKETS_PRIORITY), "low");
    assert_string_equal(ob_row_text(upd, TICKETS_TITLE), "Old");
    assert_true(ob_row_is_null(upd, TICKETS_STATUS));
    assert_false(upd->set[ob_table_col(upd->t, "status")]);
    assert_false(upd->set[ob_table_col(upd->t, "source")]);
    assert_true(upd->set[ob_table_col(upd->t, "subcategory")]);
    assert_true(ob_row_is_null(upd, TICKETS_SUBCATEGORY));
    assert_string_equal(ob_row_text(stored, TICKETS_PRIORITY), "high");
}

static void test_body_many_errors(void **state)
{
    ob_fx_ctx *f = *state;
    ob_err err;
    ob_row *t = new_row(f, "tickets");
    int rc = body(f, "tickets",
                  "{\"title\":7,\"description\":\"\",\"priority\":\"nope\",\"priority_level\":9,"
                  "\"customer_id\":\"x\",\"source\":\"EMAIL\"}",
                  t, true, &err);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, OB_E_VALIDATION);
    assert_string_equal(err.message, ob_err_default_msg(OB_E_VALIDATION));
    assert_int_equal(err.nfields, 5);
    assert_string_equal(ob_fx_field_problem(&err, "title"), "must be a string");
    assert_string_equal(ob_fx_field_problem(&err, "description"), "must not be empty");
    assert_string_equal(ob_fx_field_problem(&err, "priority"), "is not one of the allowed values");
    assert_string_equal(ob_fx_field_problem(&err, "priority_level"), "is above the maximum");
    assert_string_equal(ob_fx_field_problem(&err, "customer_id"), "must be a record id");
    assert_null(ob_fx_field_problem(&err, "source"));
    /* good values were taken, bad ones left alone */
    assert_string_equal(ob_row_text(t, TICKETS_SOURCE), "email");
    assert_true(ob_row_is_null(t, TICKETS_TITLE));
    assert_true(ob_row_is_null(t, TICKETS_PRIORITY_LEVEL));

    /* an error object reused from a failed call starts clean */
    assert_int_equal(body(f, "tickets", "{\"title\":\"ok\"}", new_row(f, "tickets"), true, &err), 0);
    t = new_row(f, "tickets");
    assert_int_equal(body(f, "tickets", "{\"priority_level\":0}", t, false, &err), -1);
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].name, "priority_level");
}

static void test_row_required(void **state)
{
    ob_fx_ctx *f = *state;
    ob_err err;
    ob_row *t = new_row(f, "tickets");
    assert_int_equal(body(f, "tickets", "{\"title\":\"Printer\"}", t, true, &err), 0);
    assert_int_equal(ob_validate_row(&f->ctx, t, &err), -1);
    assert_int_equal(err.code, OB_E_VALIDATION);
    /* server-set columns (id, ticket_number, ...) are the engine's business */
    assert_int_equal(err.nfields, 3);
    assert_string_equal(ob_fx_field_problem(&err, "description"), "is required");
    assert_string_equal(ob_fx_field_problem(&err, "customer_id"), "is required");
    assert_string_equal(ob_fx_field_problem(&err, "priority_level"), "is required");
    assert_null(ob_fx_field_problem(&err, "ticket_number"));
    assert_null(ob_fx_field_problem(&err, "title"));

    /* a required column set to null counts as missing */
    ob_row *c = new_row(f, "categories");
    assert_int_equal(body(f, "categories", "{\"name\":\"Network\"}", c, true, &err), 0);
    ob_row_set_null(c, CATEGORIES_PRIORITY_LEVEL);
    assert_int_equal(ob_validate_row(&f->ctx, c, &err), -1);
    assert_int_equal(err.nfields, 1);
    assert_string_equal(ob_fx_field_problem(&err, "priority_level"), "is required");

    /* complete and without references: valid without touching a database */
    c = new_row(f, "categories");
    assert_int_equal(body(f, "categories", "{\"name\":\"Network\",\"response_sla_minutes\":30}", c, true, &err), 0);
    assert_int_equal(ob_validate_row(&f->ctx, c, &err), 0);
    assert_int_equal(err.nfields, 0);
}

/* Cross-column checks, on a table declared here. */
static const ob_column span_cols[] = {
    {"starts_on", OB_F_DATE},
    {"ends_on", OB_F_DATE},
    {"min_qty", OB_F_INT},
    {"max_qty", OB_F_INT},
};
static const ob_check span_checks[] = {
    {"period", "ends_on", OB_CMP_GTE, "starts_on"},
    {"range", "max_qty", OB_CMP_GT, "min_qty"},
};
static const ob_resource span_res = {.table = "spans", OB_COLS(span_cols), OB_CHECKS(span_checks)};
/* handles of a table the generator does not see are written by hand */
#define SPANS_STARTS_ON OB_COLH("spans", 0, "starts_on")
#define SPANS_ENDS_ON OB_COLH("spans", 1, "ends_on")
#define SPANS_MIN_QTY OB_COLH("spans", 2, "min_qty")
#define SPANS_MAX_QTY OB_COLH("spans", 3, "max_qty")

static void test_row_checks(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_column *cols[OB_ARRAY_LEN(span_cols)];
    for (size_t i = 0; i < OB_ARRAY_LEN(span_cols); i++) cols[i] = &span_cols[i];
    ob_table t = {.res = &span_res, .name = "spans", .cols = cols, .ncols = (int)OB_ARRAY_LEN(span_cols),
                  .id_col = -1, .created_col = -1, .updated_col = -1, .version_col = -1, .deleted_col = -1,
                  .state_col = -1};
    ob_err err;
    ob_row *r = ob_row_new(&f->arena, &t);
    assert_int_equal(ob_validate_row(&f->ctx, r, &err), 0); /* nulls are not compared */

    ob_row_set_text(&f->arena, r, SPANS_STARTS_ON, "2026-03-01");
    ob_row_set_text(&f->arena, r, SPANS_ENDS_ON, "2026-03-01");
    ob_row_set_int(r, SPANS_MIN_QTY, 1);
    ob_row_set_int(r, SPANS_MAX_QTY, 2);
    assert_int_equal(ob_validate_row(&f->ctx, r, &err), 0);

    ob_row_set_text(&f->arena, r, SPANS_ENDS_ON, "2026-02-28");
    ob_row_set_int(r, SPANS_MAX_QTY, 1);
    assert_int_equal(ob_validate_row(&f->ctx, r, &err), -1);
    assert_int_equal(err.code, OB_E_VALIDATION);
    assert_int_equal(err.nfields, 2);
    assert_non_null(strstr(ob_fx_field_problem(&err, "ends_on"), "starts_on"));
    assert_non_null(strstr(ob_fx_field_problem(&err, "ends_on"), "period"));
    assert_non_null(strstr(ob_fx_field_problem(&err, "max_qty"), "min_qty"));

    ob_row_set_null(r, SPANS_STARTS_ON);
    ob_row_set_int(r, SPANS_MAX_QTY, 5);
    assert_int_equal(ob_validate_row(&f->ctx, r, &err), 0);
}

/* export_formats and allowed_exports were JSON the document could not type,
 * schedule_time a form only a hook knew: both are declarations now. */
static void test_declared_arrays_and_patterns(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_column *fmt = ob_fx_col("custom_reports", "export_formats");
    ob_value v = ok_val(f, fmt, "[\"PDF\", \"csv\"]");
    assert_string_equal(v.s, "[\"pdf\",\"csv\"]");
    assert_string_equal(ok_val(f, fmt, "[]").s, "[]");
    bad_val(f, fmt, "\"pdf\"", "must be an array");
    bad_val(f, fmt, "[\"pdf\", \"docx\"]", "holds a value that is not allowed");
    bad_val(f, fmt, "[1]", "holds a value that is not allowed");
    bad_val(f, fmt, "[\"pdf\", \"PDF\"]", "holds a value twice");
    bad_val(f, ob_fx_col("role_security_settings", "allowed_exports"), "[\"everything\"]",
            "holds a value that is not allowed");
    const ob_column *st = ob_fx_col("custom_reports", "schedule_time");
    assert_string_equal(ok_val(f, st, "\"08:30\"").s, "08:30");
    assert_string_equal(ok_val(f, st, "\"23:59:59\"").s, "23:59:59");
    bad_val(f, st, "\"24:00\"", "does not have the declared form");
    bad_val(f, st, "\"8:30\"", "does not have the declared form");
    bad_val(f, st, "\"12:00:60\"", "does not have the declared form");
}

int main(void)
{
    ob_domain_register();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_with_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decimal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_bool_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declared_arrays_and_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enum_ref, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamp_date, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_many_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_checks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
