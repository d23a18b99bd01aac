/* domains.h - the declared resources of every area (see resources.def). */
#ifndef OB_DOMAINS_H
#define OB_DOMAINS_H

#include "schema/registry.h"

#define OB_RESOURCE(sym) extern const ob_resource sym;
#include "resources.def"
#undef OB_RESOURCE

#endif
