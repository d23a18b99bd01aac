/* query.c - path and query string from the raw request target.
 *
 * The common case (no '%' or '+') is a plain copy; only escaped text goes
 * through ob_percent_decode, which refuses bad escapes and encoded NULs.
 * The path is split into segments before it is decoded (see parse_path). */
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

static void add_seg(ob_req *req, const char *seg)
{
    if (req->nseg < 0)
        return;
    if (req->nseg == OB_MAX_PATH_SEGS) {
        req->nseg = -1;
        return;
    }
    req->seg[req->nseg++] = seg;
}

/* req->seg and req->path from url[0..plen), which starts with '/'. The path
 * is split before anything is decoded: decoding first would turn "%2F" into
 * a separator and let "/api/v1%2Ftickets" reach the tickets routes. */
static int parse_path(ob_req *req, ob_arena *a, const char *url, size_t plen)
{
    req->nseg = 0;
    if (!memchr(url, '%', plen)) {
        /* The common case: segments are pieces of one copy. */
        req->path = ob_arena_strndup(a, url, plen);
        char *s = ob_arena_strndup(a, url + 1, plen - 1);
        for (;;) {
            add_seg(req, s);
            char *slash = strchr(s, '/');
            if (!slash)
                return 0;
            *slash = '\0';
            s = slash + 1;
        }
    }
    ob_sb path;
    ob_sb_init_arena(&path, a, plen + 1);
    const char *s = url + 1, *end = url + plen;
    for (;;) {
        const char *slash = memchr(s, '/', (size_t)(end - s));
        size_t len = slash ? (size_t)(slash - s) : (size_t)(end - s);
        const char *seg = decode(a, s, len, 0);
        if (!seg)
            return -1;
        add_seg(req, seg);
        ob_sb_addc(&path, '/');
        for (const char *c = seg; *c; c++) {
            if (*c == '/')
                ob_sb_adds(&path, "%2F");
            else
                ob_sb_addc(&path, *c);
        }
        if (!slash)
            break;
        s = slash + 1;
    }
    req->path = path.buf;
    return 0;
}

int ob_http_parse_target(ob_req *req, ob_arena *a, const char *url)
{
    const char *q = strchr(url, '?');
    size_t plen = q ? (size_t)(q - url) : strlen(url);
    req->raw_path = ob_arena_strndup(a, url, plen);
    req->path = NULL;
    req->nseg = 0;
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
    if (parse_path(req, a, url, plen) != 0) {
        req->path = NULL;
        req->nseg = 0;
        return -1;
    }
    return 0;
}
