/* security.h - hooks and seed rows of the security area. */
#ifndef OB_DOMAIN_SECURITY_H
#define OB_DOMAIN_SECURITY_H

#include "schema/registry.h"

/* The tenant's one security_settings row cannot be deleted. */
extern const ob_hooks ob_security_settings_hooks;
/* Moving an alert to resolved or false_positive records who and when. */
/* created_by is the signed-in user. */
extern const ob_hooks ob_permission_template_hooks;
/* A sign-in alert (src/auth/policy.c) is mailed to its user when the tenant
 * has an active "security_alert" template. */
extern const ob_hooks ob_security_alert_hooks;

#endif
