/* fuzz_target.c - libFuzzer target for the request target: path routing
 * input (ob_http_parse_target) and percent-decoding (ob_percent_decode).
 *
 * Checked properties: no crash, over-read or leak; an accepted target has a
 * path that starts with '/'; its segments are the raw path split at '/' and
 * each decoded by ob_percent_decode (an encoded '/' never separates), and
 * req.path is those segments joined by '/' with a decoded '/' written "%2F";
 * every kept query parameter is a proper C string; ob_percent_decode never
 * produces a NUL byte when it succeeds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/codec.h"
#include "http/http.h"
#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The path and segments as the header promises them, built the slow way. */
static void check_path(const ob_req *req, const char *url, size_t plen)
{
    ob_sb want, seg;
    ob_sb_init(&want, 16);
    ob_sb_init(&seg, 16);
    int n = 0;
    size_t i = 1;
    for (;;) {
        size_t j = i;
        while (j < plen && url[j] != '/')
            j++;
        ob_sb_reset(&seg);
        if (ob_percent_decode(&seg, url + i, j - i, 0) != 0)
            abort(); /* accepted, so every segment decodes */
        if (n < OB_MAX_PATH_SEGS && req->nseg >= 0 &&
            (strlen(req->seg[n]) != seg.len || memcmp(req->seg[n], seg.buf, seg.len) != 0))
            abort();
        n++;
        ob_sb_addc(&want, '/');
        for (size_t k = 0; k < seg.len; k++) {
            if (seg.buf[k] == '/')
                ob_sb_adds(&want, "%2F");
            else
                ob_sb_addc(&want, seg.buf[k]);
        }
        if (j >= plen)
            break;
        i = j + 1;
    }
    if (req->nseg != (n <= OB_MAX_PATH_SEGS ? n : -1))
        abort();
    if (strlen(req->path) != want.len || memcmp(req->path, want.buf, want.len) != 0)
        abort();
    ob_sb_release(&want);
    ob_sb_release(&seg);
}

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
        check_path(&req, url, strcspn(url, "?"));
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
