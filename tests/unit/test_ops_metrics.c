/* test_ops_metrics.c - the Prometheus exposition of request metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ops/metrics.h"
#include "base/banned.h"

static char *render(ob_sb *sb)
{
    ob_sb_init(sb, 1 << 16);
    ob_metrics_gauges g = {.tenants = 3, .db_conns_open = 2, .engine = "sqlite"};
    ob_metrics_render(sb, &g);
    return sb->buf;
}

static void test_counts_classes_and_cumulative_buckets(void **state)
{
    (void)state;
    ob_metrics_reset();
    ob_metrics_request("GET", "/api/v1/tickets/{id}", 200, "acme", 300);      /* 0.3 ms */
    ob_metrics_request("GET", "/api/v1/tickets/{id}", 404, "acme", 3000);     /* 3 ms */
    ob_metrics_request("GET", "/api/v1/tickets/{id}", 200, "globex", 2000000); /* 2 s */
    ob_sb sb;
    const char *t = render(&sb);
    assert_non_null(strstr(t, "opsbase_http_requests_total{method=\"GET\",route=\"/api/v1/tickets/{id}\",status=\"2xx\"} 2\n"));
    assert_non_null(strstr(t, "status=\"4xx\"} 1\n"));
    /* buckets are cumulative: 1 at 0.5 ms, 2 at 5 ms, 3 at 2.5 s and +Inf */
    assert_non_null(strstr(t, "route=\"/api/v1/tickets/{id}\",le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(t, "route=\"/api/v1/tickets/{id}\",le=\"0.005\"} 2\n"));
    assert_non_null(strstr(t, "route=\"/api/v1/tickets/{id}\",le=\"1\"} 2\n"));
    assert_non_null(strstr(t, "route=\"/api/v1/tickets/{id}\",le=\"2.5\"} 3\n"));
    assert_non_null(strstr(t, "route=\"/api/v1/tickets/{id}\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(t, "_count{method=\"GET\",route=\"/api/v1/tickets/{id}\"} 3\n"));
    assert_non_null(strstr(t, "opsbase_tenant_requests_total{tenant=\"acme\"} 2\n"));
    assert_non_null(strstr(t, "opsbase_tenants 3\n"));
    assert_non_null(strstr(t, "opsbase_db_connections_open{engine=\"sqlite\"} 2\n"));
    ob_sb_release(&sb);
}

static void test_series_stay_bounded_and_labels_safe(void **state)
{
    (void)state;
    ob_metrics_reset();
    char route[64], slug[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(route, sizeof route, "/r/%d", i);
        snprintf(slug, sizeof slug, "t%d", i);
        ob_metrics_request(i % 2 ? "BREW" : "GET", route, 200, slug, 10);
    }
    ob_metrics_request("GET", "/x\"y\n", 500, NULL, 10);
    ob_sb sb;
    const char *t = render(&sb);
    int lines = 0, tenants = 0;
    for (const char *p = t; (p = strstr(p, "opsbase_http_requests_total{")) != NULL; p++) lines++;
    for (const char *p = t; (p = strstr(p, "opsbase_tenant_requests_total{")) != NULL; p++) tenants++;
    assert_true(lines <= OB_METRICS_MAX_SERIES / 4 + 2);
    assert_int_equal(tenants, OB_METRICS_TOP_TENANTS);
    assert_non_null(strstr(t, "route=\"other\""));        /* past the bound */
    assert_non_null(strstr(t, "method=\"OTHER\""));       /* unknown methods are one label */
    assert_null(strstr(t, "x\"y"));                        /* a quote never reaches a label */
    ob_sb_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_counts_classes_and_cumulative_buckets),
                                       cmocka_unit_test(test_series_stay_bounded_and_labels_safe)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
