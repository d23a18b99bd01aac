/* events.h - domain events: the names a change to a table is announced
 * under (outgoing webhooks), derived from the registry like permissions.
 *
 * Every audited change (a tenant table without OB_RES_NO_AUDIT) emits
 * "<table>.created", "<table>.updated" or "<table>.deleted"; an update that
 * changes the table's state (its state machine's column, else an enum column
 * named status) also emits "<table>.<column>_changed" and "<table>.<new
 * state>" (orders.status_changed, shipments.delivered). A state named
 * created, updated or deleted has no event of its own. A table declaring a
 * flag event (ob_resource.flag_event) also emits "<table>.<name>" on a create
 * whose flag column is true, or an update that sets it from false
 * (tracking_events.milestone, service_requests.sla_breached).
 */
#ifndef OB_EVENTS_H
#define OB_EVENTS_H

#include <stdbool.h>

#include "base/arena.h"
#include "schema/registry.h"
#include "schema/row.h"

#define OB_EVENTS_PER_CHANGE 4

/* Whether changes to t are audited and so emit events. */
bool ob_events_emitted(const ob_table *t);
/* Every event name t can emit, into out (arena); returns how many. */
int ob_events_of_table(const ob_table *t, ob_arena *a, const char ***out);
/* The events of one change (old NULL: create; row NULL: delete); returns how
 * many (0 when the table emits none). */
int ob_events_of_change(const ob_row *old, const ob_row *row, ob_arena *a, const char *out[OB_EVENTS_PER_CHANGE]);
/* Whether name is an event some table emits. */
bool ob_event_known(const char *name);

#endif
