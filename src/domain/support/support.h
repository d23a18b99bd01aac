/* support.h - workflow of the support desk: SLA, assignment, first response,
 * the ticket state machine and plan limits. */
#ifndef OB_DOMAIN_SUPPORT_H
#define OB_DOMAIN_SUPPORT_H

#include "base/strbuf.h"
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
/* A paused SLA clock restarts: each due[i] later than paused_ms becomes
 * resumed_ms plus the working time that was left between the pause and it
 * (calendar_id NULL: clock time, so it moves by the pause's length). */
int ob_business_resume(ob_ctx *ctx, const char *calendar_id, int64_t paused_ms, int64_t resumed_ms, int64_t *due,
                       int n, ob_err *err);

/* The notification template code a breach is told to the assigned agent
 * with (rendered with the ticket's fields), when the tenant has one. */
#define OB_TICKET_BREACH_TEMPLATE "ticket_sla_breached"
/* The job tickets.sla_check (workflow.c): marks active tickets past a due
 * time breached, once, raising their priority; reports {"breached": N}. */
int ob_ticket_sla_check(ob_ctx *ctx, const ob_row *job, ob_sb *result, ob_err *err);

#endif
