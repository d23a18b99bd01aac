/* openapi.h - the OpenAPI 3.1 document of the HTTP API.
 *
 * The document is generated at run time from the resource registry and the
 * error table (errcodes.def), never written by hand, so it cannot drift from
 * the code: a column, flag, state-machine event or error code added to a
 * declaration shows up here on the next start. It is served at
 * GET /api/openapi.json and printed by the CLI.
 */
#ifndef OB_OPENAPI_H
#define OB_OPENAPI_H

#include "../base/strbuf.h"

/* Append the whole document to out as compact JSON (UTF-8, one object).
 * version is info.version (the server's version; NULL writes "0"). The
 * output depends only on the registry and version, so it is the same on
 * every call. Cannot fail: allocation failure aborts, as for every strbuf. */
void ob_openapi_write(ob_sb *out, const char *version);

#endif
