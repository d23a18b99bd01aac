"""The support desk's SLA clock (issue 11): it pauses while a ticket waits for
the customer and resumes with the working time it had left (the engine stamps
sla_paused_at on entering waiting_customer; leaving it moves the due times);
the job tickets.sla_check marks an active ticket past a due time breached
once (sla_breached_at, event tickets.sla_breached, a notification to the
assigned agent), raising its priority per its category. Both engines."""
import datetime as dt
import time

import helpers as h
from test_sla_business_hours import reference_due

API = "/api/v1"
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
UTC = dt.timezone.utc


def _ev(c, tid, event):
    return h.ok(c.post(f"{API}/tickets/{tid}/{event}", json={}))


def _ts(d):
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def reference_between(a, b, hours, holidays):
    """Working time of a UTC calendar in [a, b)."""
    total = dt.timedelta(0)
    day = a.date()
    while dt.datetime.combine(day, dt.time(0), tzinfo=UTC) < b:
        if day.isoformat() not in holidays:
            for s, e in hours.get(WEEK[day.weekday()], []):
                def at(hm):
                    hh, mm = map(int, hm.split(":"))
                    return dt.datetime.combine(day, dt.time(0), tzinfo=UTC) + dt.timedelta(hours=hh, minutes=mm)
                lo, hi = max(at(s), a), min(at(e), b)
                if hi > lo:
                    total += hi - lo
        day += dt.timedelta(days=1)
    return total


def _pause(c, tk, seconds=1.2):
    """wait_customer, a short wait, resume: (paused ticket, resumed ticket)."""
    paused = _ev(c, tk["id"], "wait_customer")
    assert paused["status"] == "waiting_customer" and paused["sla_paused_at"] == paused["updated_at"]
    # the clock does not move while paused
    assert paused["response_due_at"] == tk["response_due_at"] and paused["sla_due_date"] == tk["sla_due_date"]
    time.sleep(seconds)
    resumed = _ev(c, tk["id"], "resume")
    assert resumed["status"] == "in_progress" and resumed["sla_paused_at"] is None
    return paused, resumed


def test_pause_without_calendar_moves_due_times_by_the_pause(new_tenant):
    c = new_tenant().owner
    cat = h.create_category(c, response_sla_minutes=30, resolution_sla_minutes=240)
    tk = h.create_ticket(c, h.create_customer(c)["id"], category_id=cat["id"])
    assert tk["sla_paused_at"] is None and tk["sla_breached_at"] is None
    paused, resumed = _pause(c, tk)
    span = h.parse_ts(resumed["updated_at"]) - h.parse_ts(paused["sla_paused_at"])
    assert span >= dt.timedelta(seconds=1.2)
    for col in ("response_due_at", "sla_due_date"):
        assert h.parse_ts(resumed[col]) - h.parse_ts(tk[col]) == span, col
    # the server sets the clock columns, never the client
    for body in ({"sla_paused_at": None}, {"sla_breached_at": "2030-01-01T00:00:00.000Z"}):
        h.expect_error(c.patch(f"{API}/tickets/{tk['id']}", json=body), 400, "readonly_field")
    # once answered, only the resolution clock moves on the next pause
    h.ok(c.post(f"{API}/ticket_messages", json={"ticket_id": tk["id"], "content": "Looking into it"}), 201)
    answered = h.get(c, "tickets", tk["id"])
    assert answered["first_response_at"] is not None
    paused, again = _pause(c, answered, 0.5)
    span2 = h.parse_ts(again["updated_at"]) - h.parse_ts(paused["sla_paused_at"])
    assert again["response_due_at"] == answered["response_due_at"]
    assert h.parse_ts(again["sla_due_date"]) - h.parse_ts(answered["sla_due_date"]) == span2
    # a pause ended by resolving also stops counting the wait; a reopened ticket's clock is not paused
    paused = _ev(c, tk["id"], "wait_customer")
    time.sleep(0.3)
    done = _ev(c, tk["id"], "resolve")
    span3 = h.parse_ts(done["updated_at"]) - h.parse_ts(paused["sla_paused_at"])
    assert done["sla_paused_at"] is None
    assert h.parse_ts(done["sla_due_date"]) - h.parse_ts(again["sla_due_date"]) == span3


def test_pause_in_closed_hours_keeps_due_times(new_tenant):
    """Paused and resumed while the calendar is closed (a holiday, then a
    weekend-like stretch of days without hours): no working time passed, so
    the due times, which lie beyond the closed days, stay where they were."""
    c = new_tenant().owner
    today = dt.datetime.now(UTC).date()
    days = [(today + dt.timedelta(days=i)).isoformat() for i in range(3)]
    far = WEEK[(today + dt.timedelta(days=4)).weekday()]
    for name, hours, holidays in [
        ("holiday", {d: [["00:00", "24:00"]] for d in WEEK}, days),
        ("weekend", {far: [["09:00", "17:00"]]}, []),
    ]:
        cal = h.create(c, "business_calendars", {"name": name, "timezone": "UTC", "hours": hours,
                                                 "holidays": holidays})
        cat = h.create_category(c, response_sla_minutes=90, resolution_sla_minutes=600,
                                business_calendar_id=cal["id"])
        tk = h.create_ticket(c, h.create_customer(c)["id"], category_id=cat["id"])
        start = h.parse_ts(tk["created_at"])
        assert h.parse_ts(tk["response_due_at"]) - start > dt.timedelta(days=2), name
        paused, resumed = _pause(c, tk)
        assert resumed["response_due_at"] == tk["response_due_at"], name
        assert resumed["sla_due_date"] == tk["sla_due_date"], name


def test_pause_in_open_hours_resumes_with_the_time_left_across_holidays(new_tenant):
    """Open around the clock but for holidays after today: the working time
    left at the pause is spent again from the resume, skipping the holidays."""
    c = new_tenant().owner
    today = dt.datetime.now(UTC).date()
    hours = {d: [["00:00", "24:00"]] for d in WEEK}
    holidays = [(today + dt.timedelta(days=i)).isoformat() for i in (1, 2, 4)]
    cal = h.create(c, "business_calendars", {"name": "Open", "timezone": "UTC", "hours": hours,
                                             "holidays": holidays})
    cat = h.create_category(c, response_sla_minutes=24 * 60, resolution_sla_minutes=3 * 24 * 60,
                            business_calendar_id=cal["id"])
    tk = h.create_ticket(c, h.create_customer(c)["id"], category_id=cat["id"])
    start = h.parse_ts(tk["created_at"])
    assert tk["sla_due_date"] == _ts(reference_due(start, 3 * 24 * 60, hours, holidays, "UTC"))
    paused, resumed = _pause(c, tk)
    p, r = h.parse_ts(paused["sla_paused_at"]), h.parse_ts(resumed["updated_at"])
    for col in ("response_due_at", "sla_due_date"):
        left = reference_between(p, h.parse_ts(tk[col]), hours, holidays)
        want = reference_due(r, left / dt.timedelta(minutes=1), hours, holidays, "UTC")
        assert resumed[col] == _ts(want), col
        # the holidays are still skipped: beyond them, later by the pause
        assert h.parse_ts(resumed[col]) > h.parse_ts(tk[col])


def _sla_jobs(c, n, since=""):
    end = time.monotonic() + h.WAIT_S
    while time.monotonic() < end:
        jobs = sorted((j for j in h.list_all(c, "jobs", {"kind": "tickets.sla_check"}) if j["created_at"] > since),
                      key=lambda j: j["created_at"])
        if len(jobs) == n and all(j["status"] == "done" for j in jobs):
            return jobs
        time.sleep(0.1)
    raise AssertionError(f"the sla jobs did not finish: {h.list_all(c, 'jobs', {'kind': 'tickets.sla_check'})}")


def test_breach_is_marked_once_raising_priority_with_event_and_notification(server, new_tenant, cli, login):
    t = new_tenant(agents=1)
    c = t.owner
    since = h.pause_seeded_schedule(c, "tickets.sla_check")
    cli.run("tenant", "set", t.slug, "--webhooks-allow-private", "yes")
    h.ok(c.post(f"{API}/webhook_subscriptions",
                json={"url": "http://10.1.2.3/sla", "events": ["tickets.sla_breached"],
                      "secret": "whsec-0123456789abcdef"}), 201)
    h.ok(c.post(f"{API}/notification_templates",
                json={"name": "SLA breached", "code": "ticket_sla_breached", "type": "sms",
                      "body": "Ticket {{ticket_number}} is past its SLA", "variables": ["ticket_number"]}), 201)
    # the kind is one a schedule may run
    h.ok(c.post(f"{API}/schedules", json={"name": "SLA check", "cron": "*/5 * * * *", "kind": "tickets.sla_check",
                                        "enabled": False}),
         201)
    h.expect_error(c.post(f"{API}/categories", json={"name": "X", "breach_priority": "extreme"}), 400,
                   "validation_failed", "breach_priority")
    fast_urgent = h.create_category(c, response_sla_minutes=1, resolution_sla_minutes=600, breach_priority="urgent")
    fast = h.create_category(c, response_sla_minutes=1, resolution_sla_minutes=600)
    slow = h.create_category(c, response_sla_minutes=120, resolution_sla_minutes=600)
    cust = h.create_customer(c)["id"]
    late = h.create_ticket(c, cust, category_id=fast_urgent["id"], priority="low")
    late2 = h.create_ticket(c, cust, category_id=fast["id"], priority="medium")
    already_high = h.create_ticket(c, cust, category_id=fast_urgent["id"], priority="urgent")
    waiting = h.create_ticket(c, cust, category_id=fast["id"])
    _ev(c, waiting["id"], "wait_customer")
    answered = h.create_ticket(c, cust, category_id=fast["id"])
    h.ok(c.post(f"{API}/ticket_messages", json={"ticket_id": answered["id"], "content": "On it"}), 201)
    resolved = h.create_ticket(c, cust, category_id=fast["id"])
    _ev(c, resolved["id"], "resolve")
    on_time = h.create_ticket(c, cust, category_id=slow["id"])
    assert late["assigned_agent_id"] is not None
    # the one-minute response times pass: moved back by hand rather than waited for
    now = dt.datetime.now(UTC)
    past, earlier = _ts(now - dt.timedelta(minutes=1)), _ts(now - dt.timedelta(minutes=2))
    ids = ", ".join(f"'{x['id']}'" for x in (late, late2, already_high, answered, resolved))
    h.tenant_sql(server, t.slug, f"UPDATE tickets SET response_due_at = '{past}' WHERE id IN ({ids})")
    # the waiting ticket paused with a minute left, and that minute has passed since
    h.tenant_sql(server, t.slug, f"UPDATE tickets SET sla_paused_at = '{earlier}', response_due_at = '{past}' "
                                 f"WHERE id = '{waiting['id']}'")
    for run in (1, 2):
        cli.run("job", "enqueue", "--tenant", t.slug, "--kind", "tickets.sla_check")
        jobs = _sla_jobs(c, run, since)
        assert [j["result"] for j in jobs] == [{"breached": 3}, {"breached": 0}][:run]
    got = {k: h.get(c, "tickets", v["id"]) for k, v in
           dict(late=late, late2=late2, already_high=already_high, waiting=waiting, answered=answered,
                resolved=resolved, on_time=on_time).items()}
    for k in ("late", "late2", "already_high"):
        assert got[k]["sla_breached_at"] is not None, k
    for k in ("waiting", "answered", "resolved", "on_time"):
        assert got[k]["sla_breached_at"] is None, k
    assert got["late"]["priority"] == "urgent"          # the category's breach_priority
    assert got["late2"]["priority"] == "high"           # one step up
    assert got["already_high"]["priority"] == "urgent"  # never lowered
    events = [d for d in h.list_all(c, "webhook_deliveries") if d["event"] == "tickets.sla_breached"]
    assert len(events) == 3
    logs = [x for x in h.list_all(c, "notification_logs") if x["reference_type"] == "tickets"]
    assert sorted(x["reference_id"] for x in logs) == sorted([late["id"], late2["id"], already_high["id"]])
    assert all(x["recipient"] == t.agents[0] for x in logs)
    assert any(x["body"] == f"Ticket {late['ticket_number']} is past its SLA" for x in logs)
    # the paused ticket resumes with the minute it had left: not late yet
    resumed = _ev(c, waiting["id"], "resume")
    assert h.parse_ts(resumed["response_due_at"]) > h.parse_ts(resumed["updated_at"])
    assert resumed["sla_breached_at"] is None
