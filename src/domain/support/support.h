/* support.h - workflow of the support desk: SLA, assignment, first response,
 * the ticket state machine and plan limits. */
#ifndef OB_DOMAIN_SUPPORT_H
#define OB_DOMAIN_SUPPORT_H

#include "schema/registry.h"

extern const ob_fsm ob_ticket_fsm;
extern const ob_hooks ob_ticket_hooks;
extern const ob_hooks ob_message_hooks;
/* The assign action: {"agent_id": ...} or {} for the least-loaded agent. */
int ob_ticket_assign(ob_ctx *ctx, const ob_row *old, ob_row *row, ob_err *err);

/* True when a ticket in this status counts toward its agent's load. */
bool ob_ticket_status_active(const char *status);

/* Business calendars (calendars.c): due[i] = start_ms + minutes[i] business
 * minutes of the calendar (its zone, or the tenant's), for n durations. */
int ob_business_due(ob_ctx *ctx, const char *calendar_id, int64_t start_ms, const int64_t *minutes, int64_t *due,
                    int n, ob_err *err);

#endif
