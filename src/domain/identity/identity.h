/* identity.h - hooks of the identity area (users, roles, user roles). */
#ifndef OB_DOMAIN_IDENTITY_H
#define OB_DOMAIN_IDENTITY_H

#include "schema/registry.h"

extern const ob_hooks ob_user_hooks;
extern const ob_hooks ob_role_hooks;
extern const ob_hooks ob_user_role_hooks;

#endif
