"""Business-hours SLA (issue 11): a category pointing to a business calendar
(weekly hours in a time zone, holidays) makes its tickets' response and
resolution due times count only working minutes: across nights, a weekend and
holidays. The expected times come from a reference walk written here.
Calendars are checked when saved. Both engines."""
import datetime as dt
from zoneinfo import ZoneInfo

import helpers as h

API = "/api/v1"
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def reference_due(start, minutes, hours, holidays, zone):
    """Walk the calendar day by day in its zone, spending minutes inside the hours."""
    tz = ZoneInfo(zone)
    left = dt.timedelta(minutes=minutes)
    day = start.astimezone(tz).date()
    for _ in range(3660):
        if day.isoformat() not in holidays:
            for a, b in hours.get(WEEK[day.weekday()], []):
                def at(hm):
                    hh, mm = map(int, hm.split(":"))
                    base = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
                    return (base + dt.timedelta(hours=hh, minutes=mm)).astimezone(dt.timezone.utc)
                s, e = max(at(a), start), at(b)
                if e <= s:
                    continue
                if left <= e - s:
                    return s + left
                left -= e - s
        day += dt.timedelta(days=1)
    raise AssertionError("no working time")


def _ts(d):
    return d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _next_weekdays(n, zone):
    """The next n weekdays after today in zone, as holidays the SLA must skip."""
    d = dt.datetime.now(ZoneInfo(zone)).date()
    out = []
    while len(out) < n:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            out.append(d.isoformat())
    return out


def test_due_times_count_business_minutes_across_weekend_and_holidays(server, new_tenant):
    t = new_tenant()
    c = t.owner
    for zone in ("UTC", "Asia/Kolkata", "America/New_York"):
        hours = {d: [["09:00", "13:00"], ["14:00", "18:00"]] for d in WEEK[:5]}
        holidays = _next_weekdays(2, zone)
        cal = h.create(c, "business_calendars", {"name": "Office " + zone, "timezone": zone, "hours": hours,
                                                 "holidays": holidays})
        # 8 working hours a day: the response within 2 days' work, resolution 3 days' (both cross the
        # holidays, and, at most 5 working days on, a weekend)
        cat = h.create_category(c, response_sla_minutes=16 * 60 + 30, resolution_sla_minutes=24 * 60 + 1,
                                business_calendar_id=cal["id"])
        cust = h.create_customer(c)
        tk = h.create_ticket(c, cust["id"], category_id=cat["id"])
        start = h.parse_ts(tk["created_at"])
        want_resp = reference_due(start, 16 * 60 + 30, hours, holidays, zone)
        want_sla = reference_due(start, 24 * 60 + 1, hours, holidays, zone)
        assert tk["response_due_at"] == _ts(want_resp), (zone, tk["created_at"])
        assert tk["sla_due_date"] == _ts(want_sla), (zone, tk["created_at"])
        # the holidays and the weekend were skipped: more than 4 calendar days for 3 working days
        assert want_sla - start > dt.timedelta(days=4)
    # without a calendar the minutes are the clock's
    cat = h.create_category(c, response_sla_minutes=90)
    tk = h.create_ticket(c, h.create_customer(c)["id"], category_id=cat["id"])
    assert h.parse_ts(tk["response_due_at"]) - h.parse_ts(tk["created_at"]) == dt.timedelta(minutes=90)


def test_calendar_without_zone_uses_the_tenants(server, new_tenant, cli):
    t = new_tenant()
    cli.run("tenant", "set", t.slug, "--timezone", "Asia/Tokyo")
    c = t.owner
    hours = {"mon": [["10:00", "11:00"]], "wed": [["10:00", "11:00"]]}
    cal = h.create(c, "business_calendars", {"name": "Tokyo desk", "hours": hours})
    assert cal["timezone"] is None and cal["holidays"] == []
    cat = h.create_category(c, response_sla_minutes=90, resolution_sla_minutes=120, business_calendar_id=cal["id"])
    tk = h.create_ticket(c, h.create_customer(c)["id"], category_id=cat["id"])
    start = h.parse_ts(tk["created_at"])
    assert tk["response_due_at"] == _ts(reference_due(start, 90, hours, [], "Asia/Tokyo"))
    assert tk["sla_due_date"] == _ts(reference_due(start, 120, hours, [], "Asia/Tokyo"))


def test_calendars_are_checked_when_saved(server, new_tenant):
    t = new_tenant()
    c = t.owner
    ok_hours = {"mon": [["09:00", "17:00"]]}
    for body, field in [
        ({"hours": {}}, "hours"),
        ({"hours": {"monday": [["09:00", "17:00"]]}}, "hours"),
        ({"hours": {"mon": [["17:00", "09:00"]]}}, "hours"),
        ({"hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "hours"),
        ({"hours": {"mon": [["9", "17:00"]]}}, "hours"),
        ({"hours": {"mon": [["09:00", "24:30"]]}}, "hours"),
        ({"hours": ok_hours, "timezone": "Mars/Olympus"}, "timezone"),
        ({"hours": ok_hours, "holidays": ["2026-02-30"]}, "holidays"),
        ({"hours": ok_hours, "holidays": {"x": 1}}, "holidays"),
    ]:
        h.expect_error(c.post(f"{API}/business_calendars", json={"name": "Bad", **body}), 422, "unprocessable", field)
    assert h.list_all(c, "business_calendars") == []
    cal = h.create(c, "business_calendars", {"name": "Good", "hours": {"mon": [["09:00", "24:00"]]}})
    h.expect_error(c.patch(f"{API}/business_calendars/{cal['id']}", json={"hours": {"tue": []}}), 422,
                   "unprocessable", "hours")
    assert h.get(c, "business_calendars", cal["id"])["hours"] == {"mon": [["09:00", "24:00"]]}
    # another tenant's calendar cannot be referenced
    other = new_tenant()
    h.expect_error(other.owner.post(f"{API}/categories", json={"name": "X", "business_calendar_id": cal["id"]}),
                   422, "unprocessable", "business_calendar_id")
