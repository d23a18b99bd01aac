/* test_schema_listq.c - list parameters and cursors (schema/listq.c), parsed
 * against the real registry with a system context and no database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "domain/domains.h"
#include "schema/list.h"
#include "fixture.h"
#include "gen/columns.h"
#include "base/banned.h"

static const char *const UUID_UP = "0190A0B1-C2D3-7E4F-8A5B-6C7D8E9F0A1B";
static const char *const UUID_LO = "0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b";

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

static int parse_kv(ob_fx_ctx *f, const char *table, const ob_kv *kv, int n, ob_listq *q, ob_err *err)
{
    ob_err_clear(err);
    return ob_listq_parse(&f->ctx, ob_fx_table(table), kv, n, q, err);
}

/* PARSE(f, "tickets", &q, &err, {"status", "open"}, {"limit", "5"}) */
#define PARSE(f, table, q, err, ...)                                                                          \
    parse_kv((f), (table), (const ob_kv[]){__VA_ARGS__},                                                    \
             (int)(sizeof((const ob_kv[]){__VA_ARGS__}) / sizeof(ob_kv)), (q), (err))

/* One parameter that must parse; returns the query for inspection. */
static void ok1(ob_fx_ctx *f, const char *table, const char *key, const char *val, ob_listq *q)
{
    ob_err err;
    int rc = PARSE(f, table, q, &err, {key, val});
    if (rc != 0) print_error("%s=%s: %s\n", key, val, err.message);
    assert_int_equal(rc, 0);
}

/* One parameter that must be refused as a bad query naming `field`. */
static void bad1(ob_fx_ctx *f, const char *table, const char *key, const char *val, const char *field)
{
    ob_listq q;
    ob_err err;
    int rc = PARSE(f, table, &q, &err, {key, val});
    if (rc == 0) print_error("%s=%s on %s was accepted\n", key, val ? val : "(null)", table);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, OB_E_BAD_QUERY);
    assert_string_equal(err.field, field);
    assert_true(strlen(err.message) > 0);
}

static int col(const char *table, const char *name)
{
    int i = ob_table_col(ob_fx_table(table), name);
    assert_true(i >= 0);
    return i;
}

/* base64url of raw text, for hand-made cursors. */
static const char *b64(ob_fx_ctx *f, const char *raw)
{
    ob_sb sb;
    ob_sb_init_arena(&sb, &f->arena, 64);
    ob_b64url_encode(&sb, raw, strlen(raw));
    return sb.buf;
}

static void test_operators(void **state)
{
    ob_fx_ctx *f = *state;
    static const struct {
        const char *op;
        ob_fop want;
    } ops[] = {{"eq", OB_OP_EQ}, {"ne", OB_OP_NE}, {"gt", OB_OP_GT},
               {"gte", OB_OP_GTE}, {"lt", OB_OP_LT}, {"lte", OB_OP_LTE}};
    int pl = col("tickets", "priority_level");
    for (size_t i = 0; i < OB_ARRAY_LEN(ops); i++) {
        ob_listq q;
        char key[64];
        snprintf(key, sizeof key, "priority_level.%s", ops[i].op);
        ok1(f, "tickets", key, "3", &q);
        assert_int_equal(q.nf, 1);
        assert_int_equal(q.f[0].col, pl);
        assert_int_equal(q.f[0].op, ops[i].want);
        assert_int_equal(q.f[0].nvals, 1);
        assert_int_equal(q.f[0].vals[0].t, OB_V_INT);
        assert_int_equal(q.f[0].vals[0].i, 3);
    }

    ob_listq q;
    ok1(f, "tickets", "priority_level", "4", &q); /* no operator: eq */
    assert_int_equal(q.f[0].op, OB_OP_EQ);
    assert_int_equal(q.f[0].vals[0].i, 4);

    ok1(f, "tickets", "title.like", "*Printer*", &q);
    assert_int_equal(q.f[0].col, col("tickets", "title"));
    assert_int_equal(q.f[0].op, OB_OP_LIKE);
    assert_int_equal(q.f[0].nvals, 1);
    assert_string_equal(q.f[0].vals[0].s, "*Printer*");

    ok1(f, "tickets", "status.in", "open,IN_PROGRESS,Resolved", &q);
    assert_int_equal(q.f[0].col, col("tickets", "status"));
    assert_int_equal(q.f[0].op, OB_OP_IN);
    assert_int_equal(q.f[0].nvals, 3);
    assert_string_equal(q.f[0].vals[0].s, "open");
    assert_string_equal(q.f[0].vals[1].s, "in_progress");
    assert_string_equal(q.f[0].vals[2].s, "resolved");

    ok1(f, "tickets", "category_id.null", "true", &q);
    assert_int_equal(q.f[0].col, col("tickets", "category_id"));
    assert_int_equal(q.f[0].op, OB_OP_NULL);
    assert_true(q.f[0].is_null);
    ok1(f, "tickets", "category_id.null", "false", &q);
    assert_int_equal(q.f[0].op, OB_OP_NULL);
    assert_false(q.f[0].is_null);
    bad1(f, "tickets", "category_id.null", "yes", "category_id.null");
    bad1(f, "tickets", "category_id.null", "TRUE", "category_id.null");

    /* several filters, the same field twice included, all kept in order */
    ob_err err;
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"status", "open"}, {"priority_level.gte", "2"},
                           {"priority_level.lte", "4"}),
                     0);
    assert_int_equal(q.nf, 3);
    assert_int_equal(q.f[1].op, OB_OP_GTE);
    assert_int_equal(q.f[2].op, OB_OP_LTE);
}

static void test_typed_values(void **state)
{
    ob_fx_ctx *f = *state;
    ob_listq q;

    /* enum: any case in, canonical out */
    ok1(f, "tickets", "status", "IN_PROGRESS", &q);
    assert_int_equal(q.f[0].vals[0].t, OB_V_TEXT);
    assert_string_equal(q.f[0].vals[0].s, "in_progress");
    ok1(f, "customers", "customer_tier.ne", "Premium", &q);
    assert_string_equal(q.f[0].vals[0].s, "premium");
    bad1(f, "tickets", "status", "opened", "status");
    bad1(f, "tickets", "status", "", "status");

    /* timestamps: canonical UTC with milliseconds */
    ok1(f, "tickets", "created_at.gte", "2026-01-02T03:04:05+01:00", &q);
    assert_string_equal(q.f[0].vals[0].s, "2026-01-02T02:04:05.000Z");
    ok1(f, "tickets", "created_at.lt", "2026-01-02T03:04:05.123456Z", &q);
    assert_string_equal(q.f[0].vals[0].s, "2026-01-02T03:04:05.123Z");
    ok1(f, "tickets", "response_due_at.gt", "2026-12-31t23:59:59.5z", &q);
    assert_string_equal(q.f[0].vals[0].s, "2026-12-31T23:59:59.500Z");
    bad1(f, "tickets", "created_at.gte", "2026-01-02", "created_at.gte");
    bad1(f, "tickets", "created_at.gte", "2026-02-30T00:00:00Z", "created_at.gte");
    bad1(f, "tickets", "created_at.gte", "2026-01-02T03:04:05", "created_at.gte");
    bad1(f, "tickets", "created_at.gte", "yesterday", "created_at.gte");

    /* decimals: minor units with the column's scale */
    ok1(f, "customers", "credit_limit.gt", "1500.5", &q);
    assert_int_equal(q.f[0].vals[0].t, OB_V_DEC);
    assert_int_equal(q.f[0].vals[0].i, 150050);
    assert_int_equal(q.f[0].vals[0].scale, 2);
    ok1(f, "customers", "credit_limit", "12", &q);
    assert_int_equal(q.f[0].vals[0].i, 1200);
    ok1(f, "customers", "credit_limit", "-0.75", &q);
    assert_int_equal(q.f[0].vals[0].i, -75);
    bad1(f, "customers", "credit_limit", "1.234", "credit_limit");
    bad1(f, "customers", "credit_limit", "1e3", "credit_limit");
    bad1(f, "customers", "credit_limit", "12,5", "credit_limit");
    bad1(f, "customers", "credit_limit", "", "credit_limit");

    /* integers */
    ok1(f, "customers", "payment_terms.lte", "-5", &q);
    assert_int_equal(q.f[0].vals[0].i, -5);
    bad1(f, "customers", "payment_terms", "3.5", "payment_terms");
    bad1(f, "customers", "payment_terms", " 3", "payment_terms");
    bad1(f, "customers", "payment_terms", "+3", "payment_terms");
    bad1(f, "customers", "payment_terms", "99999999999999999999", "payment_terms");

    /* booleans: exactly true or false */
    ok1(f, "categories", "is_active", "true", &q);
    assert_int_equal(q.f[0].vals[0].t, OB_V_BOOL);
    assert_int_equal(q.f[0].vals[0].i, 1);
    ok1(f, "categories", "is_active", "false", &q);
    assert_int_equal(q.f[0].vals[0].t, OB_V_BOOL);
    assert_int_equal(q.f[0].vals[0].i, 0);
    bad1(f, "categories", "is_active", "TRUE", "is_active");
    bad1(f, "categories", "is_active", "1", "is_active");
    bad1(f, "categories", "is_active", "yes", "is_active");

    /* ids and references: lower-cased uuids */
    ok1(f, "tickets", "customer_id", UUID_UP, &q);
    assert_string_equal(q.f[0].vals[0].s, UUID_LO);
    ok1(f, "tickets", "id", UUID_UP, &q);
    assert_int_equal(q.f[0].col, ob_fx_table("tickets")->id_col);
    assert_string_equal(q.f[0].vals[0].s, UUID_LO);
    bad1(f, "tickets", "customer_id", "42", "customer_id");
    bad1(f, "tickets", "customer_id", "0190a0b1c2d37e4f8a5b6c7d8e9f0a1b", "customer_id");

    /* dates */
    ok1(f, "customers", "registration_date.gte", "2024-02-29", &q);
    assert_string_equal(q.f[0].vals[0].s, "2024-02-29");
    bad1(f, "customers", "registration_date", "2026-02-30", "registration_date");
    bad1(f, "customers", "registration_date", "2026-2-3", "registration_date");

    /* text: as given, lower-cased where the column says so */
    ok1(f, "customers", "email", "Ops@Example.TEST", &q);
    assert_string_equal(q.f[0].vals[0].s, "ops@example.test");
    ok1(f, "customers", "city", "São Paulo", &q);
    assert_string_equal(q.f[0].vals[0].s, "São Paulo");
}

static void test_bad_filters(void **state)
{
    ob_fx_ctx *f = *state;
    bad1(f, "tickets", "nope", "1", "nope");
    bad1(f, "tickets", "nope.eq", "1", "nope.eq");
    bad1(f, "tickets", "Status", "open", "Status"); /* names are exact */
    bad1(f, "tickets", "", "1", "");
    bad1(f, "tickets", ".eq", "1", ".eq");
    bad1(f, "tickets", "status.foo", "open", "status.foo");
    bad1(f, "tickets", "status.", "open", "status.");
    bad1(f, "tickets", "status.EQ", "open", "status.EQ");
    bad1(f, "tickets", "status.in.x", "open", "status.in.x");
    bad1(f, "users", "password_hash", "x", "password_hash");      /* secret */
    bad1(f, "users", "password_hash.null", "true", "password_hash.null");
    bad1(f, "users", "mfa_secret", "x", "mfa_secret");
    bad1(f, "customers", "custom_fields", "{}", "custom_fields");  /* json */
    bad1(f, "users", "settings.null", "true", "settings.null");
    bad1(f, "tickets", "status.like", "op*", "status.like");       /* like is for text */
    bad1(f, "tickets", "priority_level.like", "3*", "priority_level.like");
    bad1(f, "tickets", "priority_level", "high", "priority_level");

    /* a long name is refused; err.field keeps what fits of it */
    char longname[80];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    ob_listq q;
    ob_err err;
    assert_int_equal(PARSE(f, "tickets", &q, &err, {longname, "1"}), -1);
    assert_int_equal(err.code, OB_E_BAD_QUERY);
    assert_int_equal(strlen(err.field), sizeof err.field - 1);
    assert_memory_equal(err.field, longname, sizeof err.field - 1);
}

static void test_in_lists(void **state)
{
    ob_fx_ctx *f = *state;
    ob_sb sb;
    ob_sb_init_arena(&sb, &f->arena, 512);
    for (int i = 0; i < OB_LIST_MAX_IN; i++) ob_sb_addf(&sb, "%s%d", i ? "," : "", i);
    ob_listq q;
    ok1(f, "tickets", "priority_level.in", sb.buf, &q);
    assert_int_equal(q.f[0].nvals, OB_LIST_MAX_IN);
    assert_int_equal(q.f[0].vals[OB_LIST_MAX_IN - 1].i, OB_LIST_MAX_IN - 1);

    ob_sb_addf(&sb, ",100");
    bad1(f, "tickets", "priority_level.in", sb.buf, "priority_level.in");

    bad1(f, "tickets", "status.in", "open,bogus", "status.in");
    bad1(f, "tickets", "status.in", "open,", "status.in");
    bad1(f, "tickets", "status.in", "", "status.in");
    bad1(f, "tickets", "customer_id.in", "0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b,x", "customer_id.in");

    ok1(f, "tickets", "customer_id.in", UUID_UP, &q);
    assert_int_equal(q.f[0].nvals, 1);
    assert_string_equal(q.f[0].vals[0].s, UUID_LO);
}

static void test_too_many_filters(void **state)
{
    ob_fx_ctx *f = *state;
    ob_kv kv[OB_LIST_MAX_FILTERS + 1];
    for (int i = 0; i <= OB_LIST_MAX_FILTERS; i++) kv[i] = (ob_kv){"priority_level.gte", "1"};
    ob_listq q;
    ob_err err;
    assert_int_equal(parse_kv(f, "tickets", kv, OB_LIST_MAX_FILTERS, &q, &err), 0);
    assert_int_equal(q.nf, OB_LIST_MAX_FILTERS);
    assert_int_equal(parse_kv(f, "tickets", kv, OB_LIST_MAX_FILTERS + 1, &q, &err), -1);
    assert_int_equal(err.code, OB_E_BAD_QUERY);
    assert_string_equal(err.field, "priority_level.gte");
}

static void test_limit(void **state)
{
    ob_fx_ctx *f = *state;
    ob_listq q;
    ob_err err;
    assert_int_equal(parse_kv(f, "tickets", NULL, 0, &q, &err), 0);
    assert_int_equal(q.limit, OB_LIST_DEFAULT_LIMIT);
    assert_int_equal(q.nf, 0);
    assert_null(q.q);
    assert_null(q.after);
    ok1(f, "tickets", "limit", "1", &q);
    assert_int_equal(q.limit, 1);
    ok1(f, "tickets", "limit", "200", &q);
    assert_int_equal(q.limit, 200);
    ok1(f, "tickets", "limit", "37", &q);
    assert_int_equal(q.limit, 37);
    static const char *const bad[] = {"0", "201", "-1", "abc", "", "+5", " 5", "5 ", "1e2", "99999999999999999999"};
    for (size_t i = 0; i < OB_ARRAY_LEN(bad); i++) bad1(f, "tickets", "limit", bad[i], "limit");
    bad1(f, "tickets", "limit", NULL, "limit"); /* "?limit" without a value */
}

static void test_duplicates(void **state)
{
    ob_fx_ctx *f = *state;
    ob_listq q;
    ob_err err;
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"limit", "5"}, {"status", "open"}, {"limit", "5"}), -1);
    assert_int_equal(err.code, OB_E_BAD_QUERY);
    assert_string_equal(err.field, "limit");
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"sort", "title"}, {"sort", "title"}), -1);
    assert_string_equal(err.field, "sort");
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"q", "printer"}, {"q", "paper"}), -1);
    assert_string_equal(err.field, "q");
    const char *cur = b64(f, "{\"s\":\"-created_at,-id\",\"v\":[\"2026-01-01T00:00:00.000Z\","
                             "\"0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b\"]}");
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"cursor", cur}), 0);
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"cursor", cur}, {"cursor", cur}), -1);
    assert_int_equal(err.code, OB_E_BAD_QUERY);
    assert_string_equal(err.field, "cursor");
}

static void test_sort(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_table *t = ob_fx_table("tickets");
    ob_listq q;

    /* the table's default sort, id breaking ties in the same direction */
    ob_err err;
    assert_int_equal(parse_kv(f, "tickets", NULL, 0, &q, &err), 0);
    assert_int_equal(q.nsort, 2);
    assert_int_equal(q.sort[0], t->created_col);
    assert_true(q.desc[0]);
    assert_int_equal(q.sort[1], t->id_col);
    assert_true(q.desc[1]);
    assert_string_equal(q.sort_spec, "-created_at,-id");

    ok1(f, "tickets", "sort", "-created_at", &q);
    assert_int_equal(q.nsort, 2);
    assert_int_equal(q.sort[0], t->created_col);
    assert_true(q.desc[0]);
    assert_int_equal(q.sort[1], t->id_col);
    assert_string_equal(q.sort_spec, "-created_at,-id");

    ok1(f, "tickets", "sort", "-priority_level,title", &q);
    assert_int_equal(q.nsort, 3);
    assert_int_equal(q.sort[0], col("tickets", "priority_level"));
    assert_true(q.desc[0]);
    assert_int_equal(q.sort[1], col("tickets", "title"));
    assert_false(q.desc[1]);
    assert_int_equal(q.sort[2], t->id_col);
    assert_false(q.desc[2]);
    assert_string_equal(q.sort_spec, "-priority_level,title,id");

    ok1(f, "tickets", "sort", "id", &q); /* id given: nothing appended */
    assert_int_equal(q.nsort, 1);
    assert_string_equal(q.sort_spec, "id");
    ok1(f, "tickets", "sort", "-id,title", &q);
    assert_int_equal(q.nsort, 2);
    assert_string_equal(q.sort_spec, "-id,title");

    assert_int_equal(parse_kv(f, "categories", NULL, 0, &q, &err), 0);
    assert_string_equal(q.sort_spec, "name,id");
    assert_int_equal(parse_kv(f, "document_categories", NULL, 0, &q, &err), 0);
    assert_string_equal(q.sort_spec, "id"); /* no default_sort: id */

    ok1(f, "tickets", "sort", "title,ticket_number,status,priority,priority_level,created_at", &q);
    assert_int_equal(q.nsort, 7);

    static const char *const bad[] = {
        "description",       /* not sortable */
        "version",           /* not sortable */
        "nope",              /* unknown */
        "Title",             /* names are exact */
        "title,title",       /* twice */
        "title,-title",      /* twice */
        "title,",            /* trailing comma */
        ",title",            /* empty item */
        "title,,id",
        "-",
        "--title",
        "+title",
        "",                  /* empty */
        "title,ticket_number,status,priority,priority_level,created_at,updated_at", /* 7 fields */
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(bad); i++) bad1(f, "tickets", "sort", bad[i], "sort");
    bad1(f, "users", "sort", "password_hash", "sort");
}

static void test_search(void **state)
{
    ob_fx_ctx *f = *state;
    ob_listq q;
    ok1(f, "tickets", "q", "printer on fire", &q);
    assert_string_equal(q.q, "printer on fire");
    assert_int_equal(q.nf, 0);
    assert_true(ob_fx_table("document_categories")->nsearch == 0);
    bad1(f, "document_categories", "q", "x", "q");
    bad1(f, "user_roles", "q", "x", "q");
    char big[502];
    memset(big, 'w', 501);
    big[501] = 0;
    bad1(f, "tickets", "q", big, "q");
    big[500] = 0;
    ok1(f, "tickets", "q", big, &q);
}

/* A stored-looking ticket row with the given title. */
static ob_row *ticket_row(ob_fx_ctx *f, const char *title)
{
    const ob_table *t = ob_fx_table("tickets");
    ob_row *r = ob_row_new(&f->arena, t);
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    ob_row_set_text(&f->arena, r, TICKETS_ID, id);
    ob_row_set_text(&f->arena, r, TICKETS_CREATED_AT, "2026-03-04T05:06:07.089Z");
    ob_row_set_text(&f->arena, r, TICKETS_UPDATED_AT, "2026-03-04T05:06:07.089Z");
    ob_row_set_int(r, TICKETS_VERSION, 1);
    ob_row_set_text(&f->arena, r, TICKETS_TICKET_NUMBER, "TKT-000042");
    ob_row_set_text(&f->arena, r, TICKETS_CUSTOMER_ID, UUID_LO);
    ob_row_set_text(&f->arena, r, TICKETS_TITLE, title);
    ob_row_set_text(&f->arena, r, TICKETS_DESCRIPTION, "d");
    ob_row_set_text(&f->arena, r, TICKETS_STATUS, "waiting_customer");
    ob_row_set_text(&f->arena, r, TICKETS_PRIORITY, "high");
    ob_row_set_int(r, TICKETS_PRIORITY_LEVEL, 4);
    ob_row_set_null(r, TICKETS_RESPONSE_DUE_AT);
    return r;
}

/* Parse `sort` with the cursor of row r; the values must read back. */
static void roundtrip(ob_fx_ctx *f, const char *table, const char *sort, const ob_row *r, ob_listq *back)
{
    ob_listq q;
    ok1(f, table, "sort", sort, &q);
    const char *cur = ob_listq_cursor(&f->arena, &q, r);
    assert_non_null(cur);
    for (const char *p = cur; *p; p++) /* url-safe as it is */
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    ob_err err;
    int rc = PARSE(f, table, back, &err, {"sort", sort}, {"cursor", cur});
    if (rc != 0) print_error("cursor (%zu chars) for sort=%s refused: %s\n", strlen(cur), sort, err.message);
    assert_int_equal(rc, 0);
    assert_non_null(back->after);
    assert_int_equal(back->nsort, q.nsort);
    for (int i = 0; i < q.nsort; i++) {
        const ob_value *want = &r->v[q.sort[i]], *got = &back->after[i];
        if (want->t == OB_V_NULL) {
            assert_int_equal(got->t, OB_V_NULL);
        } else if (want->t == OB_V_TEXT) {
            assert_int_equal(got->t, OB_V_TEXT);
            assert_string_equal(got->s, want->s);
        } else if (want->t == OB_V_REAL) {
            assert_true(got->r == want->r);
        } else {
            assert_int_equal(got->t, want->t);
            assert_int_equal(got->i, want->i);
        }
    }
}

static void test_cursor_roundtrip(void **state)
{
    ob_fx_ctx *f = *state;
    ob_row *r = ticket_row(f, "Printer \"on fire\" \\ ünïcödé");
    ob_listq back;

    roundtrip(f, "tickets", "-created_at", r, &back);
    assert_string_equal(back.after[0].s, "2026-03-04T05:06:07.089Z");
    assert_string_equal(back.after[1].s, ob_row_text(r, TICKETS_ID));

    roundtrip(f, "tickets", "-priority_level,status,title,ticket_number", r, &back);
    assert_int_equal(back.after[0].t, OB_V_INT);
    assert_int_equal(back.after[0].i, 4);
    assert_string_equal(back.after[1].s, "waiting_customer");
    assert_string_equal(back.after[2].s, "Printer \"on fire\" \\ ünïcödé");

    roundtrip(f, "tickets", "response_due_at", r, &back); /* a null sort value */
    assert_int_equal(back.after[0].t, OB_V_NULL);

    roundtrip(f, "tickets", "id", r, &back);
    assert_int_equal(back.nsort, 1);

    /* a decimal sort column */
    ob_row *c = ob_row_new(&f->arena, ob_fx_table("customers"));
    ob_row_set_text(&f->arena, c, CUSTOMERS_ID, UUID_LO);
    ob_row_set_int(c, CUSTOMERS_CREDIT_LIMIT, -123456);
    ob_row_set_text(&f->arena, c, CUSTOMERS_NAME, "Ada");
    roundtrip(f, "customers", "-credit_limit,name", c, &back);
    assert_int_equal(back.after[0].t, OB_V_DEC);
    assert_int_equal(back.after[0].i, -123456);
    assert_string_equal(back.after[1].s, "Ada");

    /* filters and limit live beside the cursor */
    ob_listq q;
    ok1(f, "tickets", "sort", "title", &q);
    const char *cur = ob_listq_cursor(&f->arena, &q, r);
    ob_err err;
    assert_int_equal(PARSE(f, "tickets", &back, &err, {"status", "open"}, {"cursor", cur}, {"sort", "title"},
                           {"limit", "10"}),
                     0);
    assert_int_equal(back.limit, 10);
    assert_int_equal(back.nf, 1);
    assert_non_null(back.after);
}

static void test_cursor_other_query(void **state)
{
    ob_fx_ctx *f = *state;
    ob_row *r = ticket_row(f, "t");
    ob_listq q;
    ok1(f, "tickets", "sort", "title", &q);
    const char *cur = ob_listq_cursor(&f->arena, &q, r);
    ob_err err;

    assert_int_equal(PARSE(f, "tickets", &q, &err, {"sort", "-title"}, {"cursor", cur}), -1);
    assert_int_equal(err.code, OB_E_BAD_QUERY);
    assert_string_equal(err.field, "cursor");
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"cursor", cur}), -1); /* default sort */
    assert_string_equal(err.field, "cursor");
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"sort", "title,created_at"}, {"cursor", cur}), -1);
    assert_string_equal(err.field, "cursor");
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"sort", "title"}, {"cursor", cur}), 0);
}

static void test_cursor_garbage(void **state)
{
    ob_fx_ctx *f = *state;
    ob_listq q;
    ok1(f, "tickets", "sort", "title", &q);
    const char *good = ob_listq_cursor(&f->arena, &q, ticket_row(f, "t"));
    size_t n = strlen(good);

    const char *bad[24];
    int nb = 0;
    bad[nb++] = "";
    bad[nb++] = "!!!!";
    bad[nb++] = "eyJzIjoidGl0bGUsaWQi=";                 /* padding is not base64url */
    bad[nb++] = "a";                                     /* impossible length */
    bad[nb++] = ob_arena_strndup(&f->arena, good, n - 1); /* truncated */
    bad[nb++] = ob_arena_strndup(&f->arena, good, n - 2);
    bad[nb++] = ob_arena_strndup(&f->arena, good, n / 2);
    bad[nb++] = ob_arena_printf(&f->arena, "%s.", good);
    bad[nb++] = b64(f, "not json");
    bad[nb++] = b64(f, "[\"title,id\",[\"t\",\"0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b\"]]");
    bad[nb++] = b64(f, "{\"s\":\"title,id\"}");
    bad[nb++] = b64(f, "{\"v\":[\"t\",\"0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b\"]}");
    bad[nb++] = b64(f, "{\"s\":\"title,id\",\"v\":[\"t\"]}");                  /* too few values */
    bad[nb++] = b64(f, "{\"s\":\"title,id\",\"v\":[\"t\",\"x\",\"y\"]}");       /* too many */
    bad[nb++] = b64(f, "{\"s\":\"title,id\",\"v\":[\"t\",\"not-a-uuid\"]}");  /* bad id */
    bad[nb++] = b64(f, "{\"s\":\"title,id\",\"v\":[\"t\",null]}");            /* null id */
    bad[nb++] = b64(f, "{\"s\":\"title,id\",\"v\":[1,\"0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b\"]}");
    bad[nb++] = b64(f, "{\"s\":\"title,id\",\"v\":[\"t\",\"0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b\"],"
                       "\"s\":\"title,id\"}");                                 /* duplicate key */
    bad[nb++] = b64(f, "{\"s\":1,\"v\":[\"t\",\"0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b\"]}");
    char *huge = ob_arena_alloc(&f->arena, 5001);
    memset(huge, 'A', 5000);
    huge[5000] = 0;
    bad[nb++] = huge;
    for (int i = 0; i < nb; i++) {
        ob_err err;
        int rc = PARSE(f, "tickets", &q, &err, {"sort", "title"}, {"cursor", bad[i]});
        if (rc == 0) print_error("cursor #%d \"%.80s\" was accepted\n", i, bad[i]);
        assert_int_equal(rc, -1);
        assert_int_equal(err.code, OB_E_BAD_QUERY);
        assert_string_equal(err.field, "cursor");
    }

    /* typed values are checked in hand-made cursors too */
    ob_err err;
    const char *ts = b64(f, "{\"s\":\"created_at,id\",\"v\":[\"2026-02-30T00:00:00Z\","
                            "\"0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b\"]}");
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"sort", "created_at"}, {"cursor", ts}), -1);
    assert_string_equal(err.field, "cursor");
    const char *ok = b64(f, "{\"s\":\"created_at,id\",\"v\":[\"2026-02-03T00:00:00+02:00\","
                            "\"0190A0B1-C2D3-7E4F-8A5B-6C7D8E9F0A1B\"]}");
    assert_int_equal(PARSE(f, "tickets", &q, &err, {"sort", "created_at"}, {"cursor", ok}), 0);
    assert_string_equal(q.after[0].s, "2026-02-02T22:00:00.000Z");
    assert_string_equal(q.after[1].s, UUID_LO);
}

/* Every cursor the server hands out must be accepted back. A title of 255
 * characters is valid (the limit counts characters), but 255 four-byte
 * characters are 1020 bytes, over the 1000-byte cap parse_value puts on text. */
static void test_cursor_roundtrip_long_utf8_title(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_column *title = ob_fx_col("tickets", "title");
    char *s = ob_arena_alloc(&f->arena, (size_t)title->max * 4 + 1);
    for (int i = 0; i < title->max; i++) memcpy(s + 4 * i, "\xF0\x9F\x98\x80", 4); /* U+1F600 */
    s[title->max * 4] = 0;
    assert_int_equal((int64_t)ob_utf8_len(s, strlen(s)), title->max);
    ob_listq back;
    roundtrip(f, "tickets", "title", ticket_row(f, s), &back);
    assert_string_equal(back.after[0].s, s);
}

/* The same for a multi-column sort whose text needs JSON escapes: control
 * characters are valid text and become \u00XX (6 bytes) in the cursor's
 * JSON, so the encoded cursor outgrows the 4096-character cap. */
static void test_cursor_roundtrip_escaped_text(void **state)
{
    ob_fx_ctx *f = *state;
    const ob_colh cols[] = {CUSTOMERS_NAME, CUSTOMERS_COMPANY_NAME, CUSTOMERS_CITY, CUSTOMERS_CUSTOMER_CODE};
    ob_row *r = ob_row_new(&f->arena, ob_fx_table("customers"));
    ob_row_set_text(&f->arena, r, CUSTOMERS_ID, UUID_LO);
    for (size_t i = 0; i < OB_ARRAY_LEN(cols); i++) {
        const ob_column *c = ob_fx_col("customers", cols[i].name);
        char *s = ob_arena_alloc(&f->arena, (size_t)c->max + 1);
        memset(s, 0x01, (size_t)c->max);
        s[c->max] = 0;
        ob_row_set_text(&f->arena, r, cols[i], s);
    }
    ob_listq back;
    roundtrip(f, "customers", "name,company_name,city,customer_code", r, &back);
}


int main(void)
{
    ob_domain_register();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_operators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_other_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_roundtrip_long_utf8_title, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_roundtrip_escaped_text, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
