/* Unit tests for schema/indexes.c: which indexes a table gets at a version,
 * and the start-up check that refuses two indexes under one name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "domain/domains.h"
#include "schema/indexes.h"

static const ob_column col_id = {"id", OB_F_ID, .max = 36, .flags = OB_REQUIRED | OB_SERVER | OB_IMPLICIT | OB_SORT};
static const ob_column col_created = {"created_at", OB_F_TIMESTAMP,
                                      .flags = OB_REQUIRED | OB_SERVER | OB_IMPLICIT | OB_SORT};

/* A runtime table over a small declaration: id, created_at, then cols. */
typedef struct fixture {
    ob_resource res;
    const ob_column *cols[8];
    ob_table t;
} fixture;

static void make(fixture *f, const ob_column *cols, int ncols, const ob_index *ix, int nix)
{
    memset(f, 0, sizeof *f);
    f->res = (ob_resource){.table = "widgets", .cols = cols, .ncols = ncols, .indexes = ix, .nindexes = nix,
                           .default_sort = "-created_at"};
    f->cols[0] = &col_id;
    f->cols[1] = &col_created;
    for (int i = 0; i < ncols; i++) f->cols[2 + i] = &cols[i];
    f->t = (ob_table){.res = &f->res, .name = "widgets", .cols = f->cols, .ncols = 2 + ncols};
}

static const ob_index_def *find(const ob_index_def *plan, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(plan[i].name, name) == 0) return &plan[i];
    return NULL;
}

static void test_two_declared_indexes_under_one_name_are_refused(void **state)
{
    (void)state;
    static const ob_column cols[] = {{"code", OB_F_TEXT, .max = 20}, {"kind", OB_F_TEXT, .max = 20}};
    static const ob_index ix[] = {{"code,kind"}, {"code,kind", .unique = true}};
    fixture f;
    make(&f, cols, 2, ix, 2);
    char why[768];
    assert_int_equal(ob_index_check(&f.t, 10, why, sizeof why), -1);
    assert_non_null(strstr(why, "declared non-unique index (code,kind)"));
    assert_non_null(strstr(why, "declared unique index (code,kind)"));
    assert_non_null(strstr(why, "\"ix_widgets_code_kind\""));
    /* one of them alone passes */
    make(&f, cols, 2, ix + 1, 1);
    assert_int_equal(ob_index_check(&f.t, 10, why, sizeof why), 0);
}

static void test_a_declared_index_named_like_a_columns_own_is_refused(void **state)
{
    (void)state;
    /* ix_widgets_a_b is both the unique (a,b) and the column a_b's own index */
    static const ob_column cols[] = {{"a", OB_F_TEXT, .max = 20},
                                     {"b", OB_F_TEXT, .max = 20},
                                     {"a_b", OB_F_TEXT, .max = 20, .flags = OB_INDEXED}};
    static const ob_index ix[] = {{"a,b", .unique = true}};
    fixture f;
    make(&f, cols, 3, ix, 1);
    char why[768];
    assert_int_equal(ob_index_check(&f.t, 10, why, sizeof why), -1);
    assert_non_null(strstr(why, "column a_b's own index (a_b,created_at,id)"));
    assert_non_null(strstr(why, "declared unique index (a,b)"));
    assert_non_null(strstr(why, "\"ix_widgets_a_b\""));
}

static void test_names_alike_in_their_first_63_bytes_are_one_name(void **state)
{
    (void)state;
    static const ob_column cols[] = {
        {"a_rather_long_column_name_for_a_test_of_index_names_number_one", OB_F_TEXT, .max = 20},
        {"a_rather_long_column_name_for_a_test_of_index_names_number_two", OB_F_TEXT, .max = 20}};
    static const ob_index ix[] = {{"a_rather_long_column_name_for_a_test_of_index_names_number_one", .unique = true},
                                  {"a_rather_long_column_name_for_a_test_of_index_names_number_two", .unique = true}};
    fixture f;
    make(&f, cols, 2, ix, 2);
    char why[768];
    assert_int_equal(ob_index_check(&f.t, 10, why, sizeof why), -1);
    assert_non_null(strstr(why, "both named"));
}

/* The rules: a unique index over one column replaces its own index; a
 * non-unique index another leads (directions all reversed count) is not
 * made, unless their WHERE differ; unique ones always are. */
static void test_plan_drops_covered_and_keeps_unique(void **state)
{
    (void)state;
    static const ob_column cols[] = {{"seq", OB_F_INT, .flags = OB_SORT},
                                     {"owner_id", OB_F_REF, .ref = "users"},
                                     {"rank", OB_F_INT, .flags = OB_SORT},
                                     {"code", OB_F_TEXT, .max = 20, .flags = OB_UNIQUE}};
    static const ob_index ix[] = {
        {"seq", .unique = true},       {"owner_id,rank"},      {"-rank"},
        {"owner_id,rank", .where = "rank > 0"}, {"code"},      {"owner_id,rank,seq", .unique = true},
    };
    fixture f;
    make(&f, cols, 4, ix, 6);
    ob_index_def plan[OB_INDEX_MAX];
    int n = ob_index_plan(&f.t, 10, plan, OB_INDEX_MAX);
    const ob_index_def *seq = find(plan, n, "ix_widgets_seq");
    assert_non_null(seq);
    assert_true(seq->unique);
    assert_string_equal(seq->cols, "seq");
    /* the reference's own index is (owner_id,created_at,id): no other leads with it */
    assert_string_equal(find(plan, n, "ix_widgets_owner_id")->cols, "owner_id,created_at,id");
    assert_null(find(plan, n, "ix_widgets_owner_id_rank")); /* leads the unique (owner_id,rank,seq) */
    assert_null(find(plan, n, "ix_widgets_drank"));         /* (rank,id) read backwards */
    assert_null(find(plan, n, "ix_widgets_code"));          /* the column's UNIQUE constraint */
    assert_non_null(find(plan, n, "ix_widgets_rank"));
    assert_non_null(find(plan, n, "ix_widgets_owner_id_rank_p")); /* its WHERE is its own */
    assert_non_null(find(plan, n, "ix_widgets_owner_id_rank_seq"));
    char why[768];
    assert_int_equal(ob_index_check(&f.t, 10, why, sizeof why), 0);
    /* before version 10: every candidate, and a name taken twice kept its first */
    n = ob_index_plan(&f.t, 9, plan, OB_INDEX_MAX);
    seq = find(plan, n, "ix_widgets_seq");
    assert_non_null(seq);
    assert_false(seq->unique);
    assert_string_equal(seq->cols, "seq,id");
    assert_non_null(find(plan, n, "ix_widgets_owner_id"));
    assert_non_null(find(plan, n, "ix_widgets_drank"));
}

/* The registry's own tables pass the check, and audit_logs' sequence is
 * unique from version 10 on (it lost its name to (seq, id) before). */
static void test_registry_tables(void **state)
{
    (void)state;
    ob_registry_init();
    char why[768];
    for (int i = 0; i < ob_registry_count(); i++)
        assert_int_equal(ob_index_check(ob_registry_at(i), ob_registry_version(), why, sizeof why), 0);
    ob_index_def plan[OB_INDEX_MAX];
    const ob_table *audit = ob_registry_find("audit_logs");
    int n = ob_index_plan(audit, OB_INDEX_FIX_SINCE, plan, OB_INDEX_MAX);
    const ob_index_def *seq = find(plan, n, "ix_audit_logs_seq");
    assert_non_null(seq);
    assert_true(seq->unique);
    n = ob_index_plan(audit, OB_INDEX_FIX_SINCE - 1, plan, OB_INDEX_MAX);
    assert_false(find(plan, n, "ix_audit_logs_seq")->unique);
    n = ob_index_plan(ob_registry_find("role_permissions"), OB_INDEX_FIX_SINCE, plan, OB_INDEX_MAX);
    assert_null(find(plan, n, "ix_role_permissions_role_id"));
    assert_non_null(find(plan, n, "ix_role_permissions_role_id_permission_id"));
}

int main(void)
{
    ob_domain_register();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_declared_indexes_under_one_name_are_refused),
        cmocka_unit_test(test_a_declared_index_named_like_a_columns_own_is_refused),
        cmocka_unit_test(test_names_alike_in_their_first_63_bytes_are_one_name),
        cmocka_unit_test(test_plan_drops_covered_and_keeps_unique),
        cmocka_unit_test(test_registry_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
