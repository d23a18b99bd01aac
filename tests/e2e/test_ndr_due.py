"""An NDR case's due date (issue #14): one working day (480 business minutes)
after the failed attempt in the tenant's business calendar (its oldest), so
nights, closed days and holidays do not count, reusing the support desk's
calendar arithmetic; a tenant with no calendar: the next calendar day. A fresh
tenant, since the calendar is the tenant's. Both engines."""
import pytest

import helpers as h
from test_commerce_ship import courier
from test_ndr_rules import fail, shipped

API = "/api/v1"
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(scope="module")
def t(new_tenant):
    return new_tenant()


def due_of(server, t, cfg, at):
    c = t.owner
    _, sh = shipped(c, cfg)
    return fail(server, c, t.slug, cfg, sh, [{"code": "UD", "at": at, "reason": "customer not available"}])["due_date"]


def test_due_in_business_days(server, t):
    c = t.owner
    cfg = courier(c)
    # no calendar yet: the next calendar day, weekend or not
    assert due_of(server, t, cfg, "2026-12-04T18:00:00Z") == "2026-12-05"  # a Friday evening
    h.create(c, "business_calendars", {"name": "Ops", "timezone": "UTC", "hours": WEEKDAYS,
                                       "holidays": ["2026-12-28"]})
    # Wednesday 10:00 -> Thursday 10:00
    assert due_of(server, t, cfg, "2026-12-02T10:00:00Z") == "2026-12-03"
    # Friday evening: Monday 17:00
    assert due_of(server, t, cfg, "2026-12-04T18:00:00Z") == "2026-12-07"
    # Christmas Friday, Monday a holiday: Tuesday 17:00
    assert due_of(server, t, cfg, "2026-12-25T18:00:00Z") == "2026-12-29"
    # a later calendar does not replace the tenant's first
    h.create(c, "business_calendars", {"name": "Always", "timezone": "UTC",
                                       "hours": {d: [["00:00", "23:59"]] for d in
                                                 ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
    assert due_of(server, t, cfg, "2026-12-04T18:00:00Z") == "2026-12-07"
