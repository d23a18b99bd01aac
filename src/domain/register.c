/* register.c - hands the engine the declared tables of every area, their
 * generated column handles and the audit writer, at start-up, before
 * anything reads the registry. */
#include "audit/audit.h"
#include "base/base.h"
#include "domain/domains.h"
#include "domain/notify/notify.h"
#include "domain/work/work.h"
#include "gen/columns.h"
#include "base/banned.h"

/* Every declared table, in creation order (generated: scripts/gen-columns.py). */
static const ob_resource *const declared[] = {
#define OB_RESOURCE(sym) &sym,
#include "gen/resources.h"
#undef OB_RESOURCE
};

/* Every generated handle, checked against the registry as it is built. */
static const ob_colh handles[] = {
#define OB_HANDLE(table, idx, name) {table, idx, name},
    OB_GEN_COLUMNS(OB_HANDLE)
#undef OB_HANDLE
};

void ob_domain_register(void)
{
    /* the audit row, then the change's webhook deliveries (domain/notify) */
    ob_registry_use(declared, (int)OB_ARRAY_LEN(declared), ob_notify_record_change);
    ob_registry_use_handles(handles, (int)OB_ARRAY_LEN(handles));
    ob_registry_init();
    ob_work_register();
}
