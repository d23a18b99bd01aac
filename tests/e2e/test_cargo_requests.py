"""Service requests of the cargo portal (issue #15, seed 000): sla_due_at is
created_at + the service type's sla_hours (in its business calendar's working
hours when it names one); a type that requires approval
starts in in_review and needs approve / reject (services.approve, stamping
approved_by and approved_at); the status moves only by its events (submit,
review, approve, reject, start, complete, cancel); expected completion is not
before the requested date. Both engines."""
import datetime

import helpers as h

API = "/api/v1"


def _type(c, approval, sla_hours=48):
    return h.create(c, "service_types", {"service_code": h.uniq("ST")[:20], "service_name": "Svc " + h.uniq(),
                                         "sla_hours": sla_hours, "requires_approval": approval})


def _request(c, type_id, customer_id=None, **f):
    body = {"customer_id": customer_id or h.create_customer(c)["id"], "service_type_id": type_id,
            "request_title": "Export clearance " + h.uniq()}
    body.update(f)
    return c.post(f"{API}/service_requests", json=body)


def _ev(c, rid, event, body=None):
    return c.post(f"{API}/service_requests/{rid}/{event}", json=body or {})


def test_sla_due_and_the_plain_life(new_tenant):
    c = new_tenant().owner
    t = _type(c, False, sla_hours=36)
    r = h.ok(_request(c, t["id"], requested_date="2030-01-01", expected_completion_date="2030-01-03"), 201)
    assert r["status"] == "submitted"
    due = h.parse_ts(r["sla_due_at"]) - h.parse_ts(r["created_at"])
    assert due == datetime.timedelta(hours=36)
    h.expect_error(c.patch(f"{API}/service_requests/{r['id']}", json={"status": "completed"}), 400, "readonly_field")
    h.expect_error(c.patch(f"{API}/service_requests/{r['id']}", json={"approved_at": "2030-01-01T00:00:00.000Z"}),
                   400, "readonly_field")
    h.expect_error(c.patch(f"{API}/service_requests/{r['id']}", json={"expected_completion_date": "2029-12-31"}),
                   400, "validation_failed", "expected_completion_date")
    h.expect_error(_ev(c, r["id"], "complete"), 422, "invalid_transition")
    started = h.ok(_ev(c, r["id"], "start"))
    assert started["status"] == "in_progress"
    done = h.ok(_ev(c, r["id"], "complete"))
    assert done["status"] == "completed" and done["completed_by"] == c.user["id"] and done["completed_at"]
    assert done["actual_completion_date"] == done["completed_at"][:10]
    h.expect_error(_ev(c, r["id"], "cancel"), 422, "invalid_transition")


def test_approval_is_required_and_stamped(new_tenant, cli, login):
    t = new_tenant()
    c = t.owner
    typ = _type(c, True)
    r = h.ok(_request(c, typ["id"]), 201)
    assert r["status"] == "in_review" and r["approved_by"] is None
    h.expect_error(_ev(c, r["id"], "start"), 422, "invalid_transition")
    # a viewer may not approve
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    h.expect_error(_ev(login(t.slug, email), r["id"], "approve"), 403, "forbidden")
    assert h.get(c, "service_requests", r["id"])["status"] == "in_review"
    h.expect_error(_ev(c, r["id"], "approve", {"approved_by": c.user["id"]}), 400, "unknown_field")
    ok = h.ok(_ev(c, r["id"], "approve"))
    assert ok["status"] == "approved" and ok["approved_by"] == c.user["id"] and ok["approved_at"]
    assert h.ok(_ev(c, r["id"], "start"))["status"] == "in_progress"
    # rejected
    r2 = h.ok(_request(c, typ["id"]), 201)
    no = h.ok(_ev(c, r2["id"], "reject"))
    assert no["status"] == "rejected" and no["approved_by"] is None
    h.expect_error(_ev(c, r2["id"], "approve"), 422, "invalid_transition")
    # cancelled while in review
    r3 = h.ok(_request(c, typ["id"]), 201)
    assert h.ok(_ev(c, r3["id"], "cancel"))["status"] == "cancelled"
    # another tenant's request
    other = new_tenant().owner
    h.expect_error(_ev(other, r3["id"], "cancel"), 404, "not_found")


def test_breach_is_marked_once_with_its_event(new_tenant, cli):
    t = new_tenant()
    c = t.owner
    since = h.pause_seeded_schedule(c, "services.sla_check")
    cli.run("tenant", "set", t.slug, "--webhooks-allow-private", "yes")
    h.ok(c.post(f"{API}/webhook_subscriptions",
                json={"url": "http://10.1.2.3/sla", "events": ["service_requests.sla_breached"],
                      "secret": "whsec-0123456789abcdef"}), 201)
    late = h.ok(_request(c, _type(c, False, sla_hours=0)["id"]), 201)
    assert late["sla_due_at"] == late["created_at"] and late["sla_breached"] is False
    done = h.ok(_request(c, _type(c, False, sla_hours=0)["id"]), 201)
    h.ok(_ev(c, done["id"], "cancel"))
    on_time = h.ok(_request(c, _type(c, False, sla_hours=48)["id"]), 201)
    h.expect_error(c.patch(f"{API}/service_requests/{late['id']}", json={"sla_breached": True}), 400,
                   "readonly_field")
    for run in (1, 2):
        cli.run("job", "enqueue", "--tenant", t.slug, "--kind", "services.sla_check")
        jobs = _wait_jobs(c, run, since)
        assert [j["result"] for j in jobs] == [{"breached": 1}, {"breached": 0}][:run]
    assert h.get(c, "service_requests", late["id"])["sla_breached"] is True
    assert h.get(c, "service_requests", done["id"])["sla_breached"] is False
    assert h.get(c, "service_requests", on_time["id"])["sla_breached"] is False
    events = [d for d in h.list_all(c, "webhook_deliveries") if d["event"] == "service_requests.sla_breached"]
    assert len(events) == 1


def _wait_jobs(c, n, since=""):
    import time
    end = time.monotonic() + h.WAIT_S
    while time.monotonic() < end:
        jobs = sorted((j for j in h.list_all(c, "jobs", {"kind": "services.sla_check"}) if j["created_at"] > since),
                      key=lambda j: j["created_at"])
        if len(jobs) == n and all(j["status"] == "done" for j in jobs):
            return jobs
        time.sleep(0.1)
    raise AssertionError(f"the sla jobs did not finish: {h.list_all(c, 'jobs')}")


def test_sla_due_counts_the_types_business_hours(new_tenant):
    """A service type that names a business calendar counts its sla_hours in
    that calendar's working hours (its zone, holidays and weekends), as a
    ticket counts its category's minutes; without one they are clock hours."""
    from test_sla_business_hours import WEEK, _next_weekdays, _ts, reference_due
    c = new_tenant().owner
    zone = "Asia/Kolkata"
    hours = {d: [["09:00", "13:00"], ["14:00", "18:00"]] for d in WEEK[:5]}
    holidays = _next_weekdays(1, zone)
    cal = h.create(c, "business_calendars", {"name": "Cargo desk", "timezone": zone, "hours": hours,
                                             "holidays": holidays})
    t = h.create(c, "service_types", {"service_code": h.uniq("ST")[:20], "service_name": "Svc " + h.uniq(),
                                      "sla_hours": 20, "business_calendar_id": cal["id"]})
    assert t["business_calendar_id"] == cal["id"]
    r = h.ok(_request(c, t["id"]), 201)
    start = h.parse_ts(r["created_at"])
    assert r["sla_due_at"] == _ts(reference_due(start, 20 * 60, hours, holidays, zone)), r["created_at"]
    # 20 working hours at 8 a day with a holiday on the way: days, not 20 hours
    assert h.parse_ts(r["sla_due_at"]) - start > datetime.timedelta(days=2)
    # another tenant's calendar is no calendar here, and nothing is written
    other = new_tenant().owner
    foreign = h.create(other, "business_calendars", {"name": "Elsewhere", "hours": hours})
    before = h.list_all(c, "service_types")
    r = c.post(f"{API}/service_types", json={"service_code": h.uniq("ST")[:20], "service_name": "x",
                                            "business_calendar_id": foreign["id"]})
    h.expect_error(r, 422, "unprocessable")
    assert r.json()["error"]["field"] == "business_calendar_id", h.show(r)
    assert h.list_all(c, "service_types") == before
