/* fuzz_headers.c - libFuzzer target for the request headers the handler
 * interprets itself: If-Match, Idempotency-Key, Content-Type and
 * Authorization, on real requests against an in-process tenant (see
 * fuzz_app.h).
 *
 * Input: byte 0 picks one of the request templates below; the rest is split
 * at '\n' into the values of If-Match, Idempotency-Key, Content-Type and
 * Authorization, in that order (a missing line leaves the header out, except
 * Authorization, which then carries the owner's token; "$TOK" in a value is
 * the token). The answer must keep the contract checked by fz_app_run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_app.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct tmpl {
    const char *method, *target, *body;
} tmpl;

static const tmpl templates[] = {
    { "PATCH", "/api/v1/customers/$C", "{\"notes\":\"fuzz\"}" },
    { "PATCH", "/api/v1/tickets/$T", "{\"description\":\"fuzz\"}" },
    { "POST", "/api/v1/customers", "{\"customer_code\":\"FZ-H\",\"company_name\":\"H\"}" },
    { "POST", "/api/v1/documents", "{\"title\":\"t\",\"content\":\"c\"}" },
    { "POST", "/api/v1/tickets/$T/assign", "{}" },
    { "POST", "/api/v1/tickets/$T/start", "" },
    { "DELETE", "/api/v1/customers/01900000-0000-7000-8000-000000000000", "" },
    { "GET", "/api/v1/customers/$C", "" },
    { "GET", "/api/v1/tickets?limit=2", "" },
    { "GET", "/api/v1/auth/me", "" },
};

static const char *const names[] = { "If-Match", "Idempotency-Key", "Content-Type", "Authorization" };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_app_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const tmpl *t = &templates[data[0] % (sizeof templates / sizeof templates[0])];
    char *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0'; /* a header value is a C string: it ends at the first NUL */
    fz_request r;
    memset(&r, 0, sizeof r);
    r.method = t->method;
    r.target = t->target;
    r.body = t->body;
    r.body_len = strlen(t->body);
    char *p = copy;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && p; i++) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        r.hk[r.nh] = names[i];
        r.hv[r.nh] = p;
        r.nh++;
        p = nl ? nl + 1 : NULL;
    }
    fz_app_run(&r);
    free(copy);
    return 0;
}
