/* query.h - the request target (path and query string), private to src/http.
 *
 * Parsed from the URL exactly as the client sent it: libmicrohttpd decodes its
 * own copy in place, which would hide a malformed escape. Everything returned
 * is allocated from the given arena.
 */
#ifndef OB_HTTP_QUERY_H
#define OB_HTTP_QUERY_H

#include <stddef.h>

#include "../base/arena.h"
#include "http.h"

/* Split url ("/path?query") into req->raw_path, req->seg (the path split at
 * '/', then each segment percent-decoded, '+' kept), req->path (decoded, but
 * an encoded '/' kept as "%2F") and req->query. Returns -1 when the target
 * cannot be used (the path does not start with '/', has a bad escape or
 * encodes a NUL, or the target contains a space or control byte): the
 * request is a 400.
 * Query problems only set req->query_bad; the handler decides. */
int ob_http_parse_target(ob_req *req, ob_arena *a, const char *url);

/* Parse qs[0..n) ("a=1&b=x+y") into req->query: '&' separates parameters,
 * empty ones are skipped, a parameter without '=' has the value "", keys and
 * values are percent-decoded with '+' as space, repeated keys are all kept in
 * order. A bad escape or an encoded NUL drops that parameter, and more than
 * OB_MAX_QUERY_PARAMS parameters drop the rest; both set req->query_bad. */
void ob_http_parse_query(ob_req *req, ob_arena *a, const char *qs, size_t n);

#endif
