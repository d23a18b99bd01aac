/* methods.h - which HTTP methods the generic routes of a table answer.
 *
 * One rule, read from the table's declaration, decides it for routing
 * (api/resource.c), the Allow header of a 405, the refusals in crud.c and
 * the operations of the OpenAPI document, so the document never declares an
 * operation the server refuses:
 *   read-only tables       GET only;
 *   append-only tables     GET and POST: their rows are facts (events,
 *                          ledgers, logs) and are never changed or removed;
 *   links (append-only     GET, POST and DELETE: a link between two records
 *   and OB_RES_LINK)       has nothing to change but may be undone;
 *   every other table      GET and POST on the collection, GET, PATCH and
 *                          DELETE on a record.
 * A verb route (event or action) is POST only. PUT is never routed. */
#ifndef OB_SCHEMA_METHODS_H
#define OB_SCHEMA_METHODS_H

#include "schema/registry.h"

typedef enum ob_route { OB_ROUTE_COLLECTION, OB_ROUTE_RECORD, OB_ROUTE_VERB } ob_route;

/* Method bits, in the order an Allow header lists them. */
enum { OB_M_GET = 1u << 0, OB_M_POST = 1u << 1, OB_M_PATCH = 1u << 2, OB_M_DELETE = 1u << 3 };

/* The methods route r of table t answers; never 0. */
unsigned ob_methods(const ob_table *t, ob_route r);
/* The bit of an HTTP method name ("GET"), 0 for any other method. */
unsigned ob_method_bit(const char *method);
/* "GET, POST, ..." for an Allow header; a static string. */
const char *ob_methods_allow(unsigned methods);

#endif
