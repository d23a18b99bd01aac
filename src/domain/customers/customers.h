/* customers.h - workflow hooks of the customers area. */
#ifndef OB_DOMAIN_CUSTOMERS_H
#define OB_DOMAIN_CUSTOMERS_H

#include "schema/registry.h"

/* Generates customer_code when it is not given. */
extern const ob_hooks ob_customer_hooks;

#endif
