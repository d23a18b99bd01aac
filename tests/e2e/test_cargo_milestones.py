"""Milestones of air-cargo shipments (issue #15, seed 000): tracking_events is
append-only (PATCH/PUT/DELETE 405); an air-cargo event's code is a Cargo-iQ
code (any case in, upper case stored, milestone_code the enum); the
shipment's status follows its latest event by event_datetime, a late-posted
earlier event is stored and moves nothing; an external_event_id posted twice
is 200 with the first event and writes nothing; a milestone_flag event emits
tracking_events.milestone once (one webhook delivery per subscription).
Both engines."""
import cargo_helpers as cg
import helpers as h

API = "/api/v1"


def _ship(c):
    return h.ok(cg.shipment(c, awb_number=cg.awb("160", 1234567)), 201)


def test_status_follows_the_latest_event(new_tenant):
    c = new_tenant().owner
    s = _ship(c)
    ev = h.ok(cg.event(c, s["id"], "man", "2030-01-01T08:00:00.000Z"), 201)
    assert (ev["event_code"], ev["milestone_code"]) == ("MAN", "man")
    assert h.get(c, "shipments", s["id"])["status"] == "manifested"
    h.ok(cg.event(c, s["id"], "DEP", "2030-01-01T10:00:00.000Z"), 201)
    assert h.get(c, "shipments", s["id"])["status"] == "departed"
    h.ok(cg.event(c, s["id"], "ARR", "2030-01-01T18:00:00.000Z"), 201)
    assert h.get(c, "shipments", s["id"])["status"] == "arrived"
    # a late-posted earlier event is stored and does not move the status back
    late = h.ok(cg.event(c, s["id"], "DEP", "2030-01-01T09:00:00.000Z", event_location="DXB"), 201)
    assert h.get(c, "shipments", s["id"])["status"] == "arrived"
    # an exception code records without moving
    h.ok(cg.event(c, s["id"], "DIS", "2030-01-01T19:00:00.000Z", event_description="2 pieces short"), 201)
    assert h.get(c, "shipments", s["id"])["status"] == "arrived"
    h.ok(cg.event(c, s["id"], "CRC", "2030-01-01T20:00:00.000Z"), 201)
    assert h.get(c, "shipments", s["id"])["status"] == "customs_clearance"
    h.ok(cg.event(c, s["id"], "DLV", "2030-01-02T09:00:00.000Z"), 201)
    done = h.get(c, "shipments", s["id"])
    assert done["status"] == "delivered" and done["delivered_at"] == "2030-01-02T09:00:00.000Z"
    codes = [e["event_code"] for e in cg.events(c, s["id"])]
    assert codes[0] == "BKD" and codes[1:] == ["MAN", "DEP", "DEP", "ARR", "DIS", "CRC", "DLV"]
    assert late["id"] in [e["id"] for e in cg.events(c, s["id"])]


def test_codes_are_cargo_iq_for_air_cargo_only(new_tenant):
    c = new_tenant().owner
    s = _ship(c)
    h.expect_error(cg.event(c, s["id"], "XYZ", "2030-01-01T08:00:00.000Z"), 400, "validation_failed", "event_code")
    h.expect_error(c.post(f"{API}/tracking_events", json={"shipment_id": s["id"]}), 400, "validation_failed",
                   "event_code")
    h.expect_error(cg.event(c, s["id"], "DEP", "2030-01-01T08:00:00.000Z", milestone_code="dep"), 400,
                   "readonly_field")
    h.expect_error(cg.event(c, s["id"], "DEP", "not a time"), 400, "validation_failed", "event_datetime")
    assert len(cg.events(c, s["id"])) == 1  # only the BKD
    # a transfer's position report keeps its free code and moves nothing
    wa = h.create(c, "warehouses", {"name": "A " + h.uniq()})
    wb = h.create(c, "warehouses", {"name": "B " + h.uniq()})
    t = h.create(c, "shipments", {"origin_warehouse_id": wa["id"], "destination_warehouse_id": wb["id"]})
    e = h.ok(cg.event(c, t["id"], "DLV", "2030-01-01T08:00:00.000Z"), 201)
    assert e["milestone_code"] is None and e["event_code"] == "DLV"
    assert h.get(c, "shipments", t["id"])["status"] == "created"


def test_append_only(new_tenant):
    c = new_tenant().owner
    s = _ship(c)
    ev = cg.events(c, s["id"])[0]
    for method in ("PATCH", "PUT", "DELETE"):
        r = c.request(method, f"{API}/tracking_events/{ev['id']}", json={"event_code": "DLV"})
        h.expect_error(r, 405, "method_not_allowed")
    assert cg.events(c, s["id"]) == [ev]


def test_external_event_id_is_stored_once_and_notifies_once(new_tenant, cli):
    t = new_tenant()
    c = t.owner
    # a private target, allowed for this tenant, that nothing answers: the deliveries are what counts
    cli.run("tenant", "set", t.slug, "--webhooks-allow-private", "yes")
    sub = h.ok(c.post(f"{API}/webhook_subscriptions",
                      json={"url": "http://10.1.2.3/cargo", "events": ["tracking_events.milestone"],
                            "secret": "whsec-0123456789abcdef"}), 201)
    assert sub["events"] == ["tracking_events.milestone"]
    s = _ship(c)  # its BKD is a milestone: one delivery
    body = dict(event_location="LHR", milestone_flag=True, external_event_id="EK-77-ARR", source_system="EK")
    first = h.ok(cg.event(c, s["id"], "ARR", "2030-01-01T18:00:00.000Z", **body), 201)
    assert first["notification_sent"] is True
    again = h.ok(cg.event(c, s["id"], "arr", "2030-01-01T18:00:00.000Z", **body), 200)
    assert again == first
    # the same id on another shipment is another event
    s2 = h.ok(cg.shipment(c, awb_number=cg.awb("160", 7654321)), 201)
    h.ok(cg.event(c, s2["id"], "ARR", "2030-01-01T18:00:00.000Z", **body), 201)
    # an event without the flag notifies no one
    quiet = h.ok(cg.event(c, s["id"], "RCF", "2030-01-01T19:00:00.000Z"), 201)
    assert quiet["notification_sent"] is False
    assert [e["event_code"] for e in cg.events(c, s["id"])] == ["BKD", "ARR", "RCF"]
    deliveries = [d for d in h.list_all(c, "webhook_deliveries") if d["event"] == "tracking_events.milestone"]
    # BKD and ARR of s, BKD and ARR of s2: once each
    assert len(deliveries) == 4, deliveries
