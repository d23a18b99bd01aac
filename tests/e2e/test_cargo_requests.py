"""Service requests of the cargo portal (issue #15, seed 000): sla_due_at is
created_at + the service type's sla_hours; a type that requires approval
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
