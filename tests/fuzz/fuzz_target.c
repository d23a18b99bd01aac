/* fuzz_target.c - libFuzzer target for the request target: path routing
 * input (ob_http_parse_target) and percent-decoding (ob_percent_decode).
 *
 * Checked properties: no crash, over-read or leak; an accepted target has a
 * path that starts with '/', contains no NUL before its end and decodes the
 * same way ob_percent_decode does; every kept query parameter is a proper C
 * string; ob_percent_decode never produces a NUL byte when it succeeds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/codec.h"
#include "http/http.h"
#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_decode(const char *buf, size_t size, int plus)
{
    ob_sb sb;
    ob_sb_init(&sb, 16);
    if (ob_percent_decode(&sb, buf, size, plus) == 0) {
        if (sb.len > size || memchr(sb.buf, '\0', sb.len))
            abort();
    }
    ob_sb_release(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size copy for the length-taking decoder */
    char *raw = malloc(size ? size : 1);
    if (!raw)
        return 0;
    if (size)
        memcpy(raw, data, size);
    check_decode(raw, size, 0);
    check_decode(raw, size, 1);
    free(raw);

    /* NUL-terminated copy for the target parser (libmicrohttpd gives a C string) */
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    ob_arena a;
    ob_arena_init(&a, 0);
    ob_req req;
    memset(&req, 0, sizeof req);
    int rc = ob_http_parse_target(&req, &a, url);
    if (!req.raw_path)
        abort();
    if (rc == 0) {
        if (!req.path || req.path[0] != '/')
            abort();
        size_t plen = strcspn(url, "?");
        ob_sb sb;
        ob_sb_init(&sb, 16);
        if (ob_percent_decode(&sb, url, plen, 0) != 0 || strlen(req.path) != sb.len ||
            memcmp(req.path, sb.buf, sb.len) != 0)
            abort();
        ob_sb_release(&sb);
    }
    if (req.nquery < 0 || req.nquery > OB_MAX_QUERY_PARAMS)
        abort();
    for (int i = 0; i < req.nquery; i++)
        if (!req.query[i].key || !req.query[i].val || strlen(req.query[i].key) > size ||
            strlen(req.query[i].val) > size)
            abort();
    ob_arena_release(&a);
    free(url);
    return 0;
}
