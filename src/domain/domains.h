/* domains.h - the declared resources of every area: the list of tables is
 * generated from the declarations (gen/resources.h, scripts/gen-columns.py),
 * so an area adds a table by declaring it, and nothing else. */
#ifndef OB_DOMAINS_H
#define OB_DOMAINS_H

#include "schema/registry.h"

#define OB_RESOURCE(sym) extern const ob_resource sym;
#include "gen/resources.h"
#undef OB_RESOURCE

/* Declare every area's tables and the audit writer to the engine and build
 * the registry; call once at start-up, before any other registry call. */
void ob_domain_register(void);

#endif
