/* fuzz_query.c - libFuzzer target for the list query: the query string
 * (ob_http_parse_query) and the filter / sort / limit / cursor / q= parser
 * (ob_listq_parse) on every tenant table of the registry, as the system.
 *
 * Input: byte 0 picks the table, the rest is the query string as a client
 * would send it after '?'. Checked: no crash, over-read, leak or UB; every
 * refusal is invalid_query; an accepted query stays inside the declared
 * bounds (limit 1..200, at most OB_LIST_MAX_SORT sort keys plus id, column
 * indexes inside the table). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "http/http.h"
#include "http/query.h"
#include "platform/tenants.h"
#include "domain/domains.h"
#include "schema/list.h"
#include "schema/registry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ob_table *tables[128];
static int ntables;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ob_domain_register();
    for (int i = 0; i < ob_registry_count() && ntables < 128; i++) {
        const ob_table *t = ob_registry_at(i);
        if (t->res->scope == OB_SCOPE_TENANT && !(t->res->flags & OB_RES_NO_API))
            tables[ntables++] = t;
    }
    if (ntables == 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const ob_table *t = tables[data[0] % ntables];
    char *qs = malloc(size - 1 ? size - 1 : 1);
    if (!qs)
        return 0;
    memcpy(qs, data + 1, size - 1);

    ob_arena a;
    ob_arena_init(&a, 0);
    ob_req req;
    memset(&req, 0, sizeof req);
    ob_http_parse_query(&req, &a, qs, size - 1);
    if (req.nquery < 0 || req.nquery > OB_MAX_QUERY_PARAMS)
        abort();

    ob_ctx ctx;
    ob_ctx_system(&ctx, &a, NULL, NULL, NULL);
    ob_listq q;
    ob_err err;
    memset(&q, 0, sizeof q);
    if (ob_listq_parse(&ctx, t, req.query, req.nquery, &q, &err) == 0) {
        if (q.limit < 1 || q.limit > OB_LIST_MAX_LIMIT)
            abort();
        if (q.nsort < 1 || q.nsort > OB_LIST_MAX_SORT + 1 || q.nf < 0 || q.nf > OB_LIST_MAX_FILTERS)
            abort();
        for (int i = 0; i < q.nsort; i++)
            if (q.sort[i] < 0 || q.sort[i] >= t->ncols)
                abort();
        for (int i = 0; i < q.nf; i++)
            if (q.f[i].col < 0 || q.f[i].col >= t->ncols || q.f[i].nvals > OB_LIST_MAX_IN)
                abort();
    } else if (err.code != OB_E_BAD_QUERY) {
        abort();
    }
    ob_arena_release(&a);
    free(qs);
    return 0;
}
