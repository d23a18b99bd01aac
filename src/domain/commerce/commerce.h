/* commerce.h - hooks, actions and state machine of the commerce area:
 * catalogue, stock, sales channels, orders and purchasing. */
#ifndef OB_DOMAIN_COMMERCE_H
#define OB_DOMAIN_COMMERCE_H

#include "schema/registry.h"

/* Generates order_number (ORD-000001) when it is not given. */
extern const ob_hooks ob_order_hooks;

#endif
