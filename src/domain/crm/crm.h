/* crm.h - hooks of the customer-relationship area: who recorded a row and
 * names derived from the stored file. */
#ifndef OB_DOMAIN_CRM_H
#define OB_DOMAIN_CRM_H

#include "schema/registry.h"

/* Fills file_name from file_path and uploaded_by from the caller when absent. */
extern const ob_hooks ob_customer_document_hooks;
/* Records who gave the tag. */
/* Fills created_by from the caller when absent. */
extern const ob_hooks ob_communication_hooks;
/* Records who entered the points. */

#endif
