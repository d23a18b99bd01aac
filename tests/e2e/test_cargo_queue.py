"""Queue tokens at service centres (issue #15, seed 000): POST
/service_centers/{id}/tokens issues A001, A002, ... per centre and local day
(or the service type's prefix, counted apart); estimated_wait_minutes =
people waiting ahead x the mean service time of the centre's last 20 served
(default_service_minutes before any); call_next calls the next waiting token
and re-estimates the others; serve, complete, no_show and cancel are events.
The service times are given to serve and complete, so the estimates run on
a fixed clock. The day is the centre's local day, and the numbering starts
again after its midnight. Both engines."""
import helpers as h

API = "/api/v1"


def _centre(c, **f):
    body = {"code": h.uniq("SC")[:20], "name": "Centre " + h.uniq(), "default_service_minutes": 5}
    body.update(f)
    return h.create(c, "service_centers", body)


def _token(c, centre_id, customer_id, **f):
    return c.post(f"{API}/service_centers/{centre_id}/tokens", json={"customer_id": customer_id, **f})


def _estimates(c, centre_id):
    rows = h.list_all(c, "queue_numbers", {"service_center_id": centre_id, "status": "waiting"})
    return sorted((r["queue_number"], r["estimated_wait_minutes"]) for r in rows)


def test_tokens_estimates_and_call_next(new_tenant):
    c = new_tenant().owner
    sc = _centre(c)
    cust = h.create_customer(c)["id"]
    a1 = h.ok(_token(c, sc["id"], cust))
    assert (a1["queue_number"], a1["status"], a1["estimated_wait_minutes"]) == ("A001", "waiting", 0)
    assert a1["service_center_id"] == sc["id"] and a1["service_center"] == sc["name"]
    a2 = h.ok(_token(c, sc["id"], cust))
    a3 = h.ok(_token(c, sc["id"], cust))
    assert [(a2["queue_number"], a2["estimated_wait_minutes"]), (a3["queue_number"], a3["estimated_wait_minutes"])] \
        == [("A002", 5), ("A003", 10)]
    # a service type with its own prefix counts apart
    st = h.create(c, "service_types", {"service_code": h.uniq("CU")[:20], "service_name": "Customs",
                                       "token_prefix": "C"})
    c1 = h.ok(_token(c, sc["id"], cust, service_type=st["service_code"]))
    assert (c1["queue_number"], c1["service_type_id"], c1["estimated_wait_minutes"]) == ("C001", st["id"], 15)
    # call_next: A001 is called, everyone waiting moves up
    called = h.ok(c.post(f"{API}/service_centers/{sc['id']}/call_next", json={}))
    assert (called["id"], called["status"]) == (a1["id"], "called") and called["called_at"]
    assert _estimates(c, sc["id"]) == [("A002", 0), ("A003", 5), ("C001", 10)]
    # A001 is served for 12 minutes: the mean becomes 12
    h.ok(c.post(f"{API}/queue_numbers/{a1['id']}/serve", json={"served_at": "2030-01-01T10:00:00.000Z"}))
    h.expect_error(c.post(f"{API}/queue_numbers/{a1['id']}/complete", json={"completed_at": "2030-01-01T09:00:00.000Z"}),
                   400, "validation_failed", "completed_at")
    done = h.ok(c.post(f"{API}/queue_numbers/{a1['id']}/complete", json={"completed_at": "2030-01-01T10:12:00.000Z"}))
    assert done["status"] == "completed" and done["served_by"] == c.user["id"]
    called = h.ok(c.post(f"{API}/service_centers/{sc['id']}/call_next", json={}))
    assert called["queue_number"] == "A002"
    assert _estimates(c, sc["id"]) == [("A003", 0), ("C001", 12)]
    a4 = h.ok(_token(c, sc["id"], cust))
    assert (a4["queue_number"], a4["estimated_wait_minutes"]) == ("A004", 24)
    # A002 does not come; A003 leaves the queue
    h.ok(c.post(f"{API}/queue_numbers/{a2['id']}/no_show", json={}))
    h.ok(c.post(f"{API}/queue_numbers/{a3['id']}/cancel", json={}))
    h.expect_error(c.post(f"{API}/queue_numbers/{a3['id']}/serve", json={}), 422, "invalid_transition")
    called = h.ok(c.post(f"{API}/service_centers/{sc['id']}/call_next", json={}))
    assert called["queue_number"] == "C001"
    assert _estimates(c, sc["id"]) == [("A004", 0)]
    h.ok(c.post(f"{API}/service_centers/{sc['id']}/call_next", json={}))
    h.expect_error(c.post(f"{API}/service_centers/{sc['id']}/call_next", json={}), 422, "invalid_transition")
    # every centre counts its own tokens
    other = _centre(c)
    assert h.ok(_token(c, other["id"], cust))["queue_number"] == "A001"


def test_refusals(new_tenant, cli, login):
    t = new_tenant()
    c = t.owner
    sc = _centre(c)
    cust = h.create_customer(c)["id"]
    h.expect_error(c.post(f"{API}/service_centers/{sc['id']}/tokens", json={}), 400, "validation_failed",
                   "customer_id")
    h.expect_error(_token(c, sc["id"], cust, service_type="NOPE"), 422, "unprocessable")
    h.expect_error(_token(c, sc["id"], h.MISSING_ID), 422, "unprocessable", "customer_id")
    h.expect_error(_token(c, sc["id"], cust, extra=1), 400, "unknown_field")
    h.expect_error(c.post(f"{API}/service_types", json={"service_code": "X1", "service_name": "X",
                                                        "token_prefix": "c1"}), 400, "validation_failed",
                   "token_prefix")
    other = new_tenant().owner
    h.expect_error(_token(other, sc["id"], h.create_customer(other)["id"]), 404, "not_found")
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    h.expect_error(_token(login(t.slug, email), sc["id"], cust), 403, "forbidden")
    assert h.list_all(c, "queue_numbers") == []


def test_numbering_starts_again_each_local_day(new_tenant):
    """Tokens count per centre per local day: the day is the centre's zone's
    (else the tenant's). Etc/GMT+12 (UTC-12) and Etc/GMT-14 (UTC+14) are 26
    hours apart, so their dates differ at every instant: moving the centre
    from one to the other crosses a local midnight on a fixed calendar, and
    the numbering, the queue and the estimates start again."""
    import datetime

    def local_date(hours):
        return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)).date().isoformat()

    c = new_tenant().owner
    sc = _centre(c, timezone="Etc/GMT+12")
    cust = h.create_customer(c)["id"]
    before = local_date(-12)
    a1, a2 = h.ok(_token(c, sc["id"], cust)), h.ok(_token(c, sc["id"], cust))
    assert [(t["queue_number"], t["queue_date"]) for t in (a1, a2)] == [("A001", before), ("A002", before)]
    assert a2["estimated_wait_minutes"] == 5
    h.ok(c.patch(f"{API}/service_centers/{sc['id']}", json={"timezone": "Etc/GMT-14"}))
    after = local_date(14)
    assert after != before
    b1 = h.ok(_token(c, sc["id"], cust))
    # a new day: A001 again, and yesterday's waiting tokens are not ahead of it
    assert (b1["queue_number"], b1["queue_date"], b1["estimated_wait_minutes"]) == ("A001", after, 0)
    called = h.ok(c.post(f"{API}/service_centers/{sc['id']}/call_next", json={}))
    assert called["id"] == b1["id"]
    h.expect_error(c.post(f"{API}/service_centers/{sc['id']}/call_next", json={}), 422, "invalid_transition")
    # the earlier day's tokens keep their numbers and date
    assert [h.get(c, "queue_numbers", t["id"])["queue_number"] for t in (a1, a2)] == ["A001", "A002"]
