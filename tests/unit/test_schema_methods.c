/* Unit tests for schema/methods.c: the one rule for which methods a table's
 * routes answer, and the Allow text derived from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "domain/domains.h"
#include "schema/methods.h"

static const ob_table *table(const char *name)
{
    ob_registry_init();
    const ob_table *t = ob_registry_find(name);
    assert_non_null(t);
    return t;
}

/* Append-only tables used to answer DELETE on some and 405 on others. */
static void test_append_only_means_no_patch_or_delete(void **state)
{
    (void)state;
    static const char *const facts[] = {"tracking_events", "payment_transactions", "revenue_records",
                                        "ndr_remarks", "inventory_transactions", "analytics_events"};
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        const ob_table *t = table(facts[i]);
        assert_int_equal(ob_methods(t, OB_ROUTE_COLLECTION), OB_M_GET | OB_M_POST);
        assert_int_equal(ob_methods(t, OB_ROUTE_RECORD), OB_M_GET);
    }
}

static void test_links_read_only_and_plain_tables(void **state)
{
    (void)state;
    assert_int_equal(ob_methods(table("customer_tag_assignments"), OB_ROUTE_RECORD), OB_M_GET | OB_M_DELETE);
    assert_int_equal(ob_methods(table("audit_logs"), OB_ROUTE_COLLECTION), OB_M_GET);
    assert_int_equal(ob_methods(table("audit_logs"), OB_ROUTE_RECORD), OB_M_GET);
    assert_int_equal(ob_methods(table("customers"), OB_ROUTE_RECORD), OB_M_GET | OB_M_PATCH | OB_M_DELETE);
    assert_int_equal(ob_methods(table("tickets"), OB_ROUTE_VERB), OB_M_POST);
    /* every table answers GET on both routes: a 405 always has a non-empty Allow */
    for (int i = 0; i < ob_registry_count(); i++) {
        assert_true(ob_methods(ob_registry_at(i), OB_ROUTE_COLLECTION) & OB_M_GET);
        assert_true(ob_methods(ob_registry_at(i), OB_ROUTE_RECORD) & OB_M_GET);
    }
}

static void test_allow_text_and_method_bits(void **state)
{
    (void)state;
    assert_string_equal(ob_methods_allow(OB_M_GET), "GET");
    assert_string_equal(ob_methods_allow(OB_M_GET | OB_M_DELETE), "GET, DELETE");
    assert_string_equal(ob_methods_allow(OB_M_DELETE | OB_M_POST | OB_M_GET | OB_M_PATCH), "GET, POST, PATCH, DELETE");
    for (unsigned m = 1; m < 16; m++) { /* each subset names exactly its methods */
        const char *s = ob_methods_allow(m);
        assert_int_equal(strstr(s, "GET") != NULL, (m & OB_M_GET) != 0);
        assert_int_equal(strstr(s, "POST") != NULL, (m & OB_M_POST) != 0);
        assert_int_equal(strstr(s, "PATCH") != NULL, (m & OB_M_PATCH) != 0);
        assert_int_equal(strstr(s, "DELETE") != NULL, (m & OB_M_DELETE) != 0);
    }
    assert_int_equal(ob_method_bit("PATCH"), OB_M_PATCH);
    assert_int_equal(ob_method_bit("PUT"), 0);
    assert_int_equal(ob_method_bit("get"), 0); /* methods are case-sensitive (RFC 9110) */
}

int main(void)
{
    ob_domain_register();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_only_means_no_patch_or_delete),
        cmocka_unit_test(test_links_read_only_and_plain_tables),
        cmocka_unit_test(test_allow_text_and_method_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
