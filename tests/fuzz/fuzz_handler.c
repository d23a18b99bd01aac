/* fuzz_handler.c - libFuzzer target for the whole request handler in
 * process (ob_app_handle on a real tenant; see fuzz_app.h).
 *
 * Input, as text:
 *     METHOD TARGET\n
 *     Name: value\n          (any number of header lines)
 *     \n
 *     body bytes
 * Without an Authorization header the owner's token is sent; the value "-"
 * sends none. $C, $T and $U in the target name a real customer, ticket and
 * the owner; $TOK in a header value is the token. Requests to logout are
 * skipped (they would end the session every later input relies on). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_app.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_app_init();
    return 0;
}

/* Next line of buf[*pos..n) as a NUL-terminated copy in out; NULL at the end. */
static char *next_line(const char *buf, size_t n, size_t *pos, char **store)
{
    if (*pos >= n)
        return NULL;
    const char *s = buf + *pos;
    const char *nl = memchr(s, '\n', n - *pos);
    size_t len = nl ? (size_t)(nl - s) : n - *pos;
    *pos += len + (nl ? 1 : 0);
    char *out = *store;
    memcpy(out, s, len);
    out[len] = '\0';
    *store += len + 1;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    char *mem = malloc(size * 2 + 16); /* line copies never exceed the input */
    if (!mem)
        return 0;
    char *store = mem;
    size_t pos = 0;
    fz_request r;
    memset(&r, 0, sizeof r);
    char *first = next_line(buf, size, &pos, &store);
    if (!first) {
        free(mem);
        return 0;
    }
    char *sp = strchr(first, ' ');
    if (!sp || sp == first) {
        free(mem);
        return 0;
    }
    *sp = '\0';
    r.method = first;
    r.target = sp + 1;
    if (strcasestr(r.target, "logout")) {
        free(mem);
        return 0;
    }
    char *line;
    while ((line = next_line(buf, size, &pos, &store)) != NULL && *line) {
        char *colon = strchr(line, ':');
        if (!colon || r.nh >= FZ_MAX_HEADERS)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ')
            v++;
        if (strcasecmp(line, "Authorization") == 0 && strcmp(v, "-") == 0) {
            r.anonymous = 1;
            continue;
        }
        r.hk[r.nh] = line;
        r.hv[r.nh] = v;
        r.nh++;
    }
    r.body = pos < size ? buf + pos : "";
    r.body_len = pos < size ? size - pos : 0;
    fz_app_run(&r);
    free(mem);
    return 0;
}
