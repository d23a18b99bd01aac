/* query.c - path and query string from the raw request target.
 *
 * The common case (no '%' or '+') is a plain copy; only escaped text goes
 * through ob_percent_decode, which refuses bad escapes and encoded NULs. */
#include "http/query.h"

#include <stdbool.h>
#include <string.h>

#include "base/base.h"
#include "base/banned.h"

/* Decoded copy of s[0..n) in the arena, or NULL on a bad escape or NUL. */
static const char *decode(ob_arena *a, const char *s, size_t n, int plus_is_space)
{
    bool plain = memchr(s, '%', n) == NULL && (!plus_is_space || memchr(s, '+', n) == NULL);
    if (plain)
        return memchr(s, '\0', n) ? NULL : ob_arena_strndup(a, s, n);
    ob_sb sb;
    ob_sb_init_arena(&sb, a, n + 1);
    if (ob_percent_decode(&sb, s, n, plus_is_space) != 0)
        return NULL;
    return sb.buf;
}

void ob_http_parse_query(ob_req *req, ob_arena *a, const char *qs, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *seg = qs + i;
        const char *amp = memchr(seg, '&', n - i);
        size_t len = amp ? (size_t)(amp - seg) : n - i;
        i += len + 1;
        if (len == 0)
            continue;
        if (req->nquery >= OB_MAX_QUERY_PARAMS) {
            req->query_bad = true;
            return;
        }
        const char *eq = memchr(seg, '=', len);
        size_t klen = eq ? (size_t)(eq - seg) : len;
        const char *key = decode(a, seg, klen, 1);
        const char *val = eq ? decode(a, eq + 1, len - klen - 1, 1) : "";
        if (!key || !val) {
            req->query_bad = true;
            continue;
        }
        req->query[req->nquery].key = key;
        req->query[req->nquery].val = val;
        req->nquery++;
    }
}

int ob_http_parse_target(ob_req *req, ob_arena *a, const char *url)
{
    const char *q = strchr(url, '?');
    size_t plen = q ? (size_t)(q - url) : strlen(url);
    req->raw_path = ob_arena_strndup(a, url, plen);
    req->path = NULL;
    req->nquery = 0;
    req->query_bad = false;
    if (q)
        ob_http_parse_query(req, a, q + 1, strlen(q + 1));
    /* Only origin-form targets: "*" and absolute URLs have no route here.
     * libmicrohttpd lets spaces and control bytes through; a valid target
     * never contains them. */
    if (plen == 0 || url[0] != '/')
        return -1;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return -1;
    req->path = decode(a, url, plen, 0);
    return req->path ? 0 : -1;
}
