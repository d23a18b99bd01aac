"""Courier tracking (issue #14): the job kind couriers.track asks each open
courier shipment's courier (the simulator, scripted by its settings' "scans")
for its scans and appends them to tracking_events, normalized to one status
vocabulary with the courier's payload kept; a scan already stored is ignored;
out-of-order scans are stored and the shipment follows the latest event time;
delivered delivers the order. Both engines."""
import json
import time

import helpers as h
import stock_helpers as s
from test_commerce_orders import order
from test_commerce_ship import courier

API = "/api/v1"


def run_track(server, c, payload=None):
    before = {j["id"] for j in c.get(f"{API}/jobs", params={"kind": "couriers.track", "limit": 200}).json()["data"]}
    args = ["job", "enqueue", "--tenant", "acme", "--kind", "couriers.track", "--payload", json.dumps(payload or {})]
    if server.db_url:
        args += ["--db", server.db_url]
    server.cli.run(*args)
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        jobs = [j for j in c.get(f"{API}/jobs", params={"kind": "couriers.track", "limit": 200}).json()["data"]
                if j["id"] not in before]
        if jobs and jobs[0]["status"] == "done":
            return jobs[0]
        assert not jobs or jobs[0]["status"] != "dead", jobs
        time.sleep(0.1)
    raise AssertionError("the tracking job did not finish")


def shipped(c, cfg):
    inv = s.inventory(c, on_hand=5)
    o = order(c, [(inv["product_id"], 1, "T-1")])
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    h.ok(s.act(c, "orders", o["id"], "ship", {"courier_config_id": cfg["id"]}))
    [sh] = h.list_all(c, "shipments", {"order_id": o["id"]})
    return o, sh


def script(c, cfg, scans):
    h.ok(c.patch(f"{API}/courier_configs/{cfg['id']}", json={"settings": {"scans": scans}}))


def events(c, sh):
    return h.list_all(c, "tracking_events", {"shipment_id": sh["id"], "sort": "event_datetime"})


def scan(code, at, **f):
    return {"code": code, "at": at, **f}


def test_scans_move_the_shipment_and_deliver_the_order(server, acme_owner):
    c = acme_owner
    cfg = courier(c)
    o, sh = shipped(c, cfg)
    script(c, cfg, [scan("MF", "2026-03-01T08:00:00Z"), scan("PU", "2026-03-01T12:00:00Z", location="Pune hub"),
                    scan("IT", "2026-03-02T09:00:00Z")])
    run_track(server, c, {"shipment_id": sh["id"]})
    ev = events(c, sh)
    assert [(e["event_code"], e["status"]) for e in ev] == [("MF", "manifested"), ("PU", "picked"),
                                                            ("IT", "in_transit")]
    assert ev[1]["event_location"] == "Pune hub" and ev[1]["source_system"] == "simulator"
    assert ev[1]["raw_data"] == {"at": "2026-03-01T12:00:00Z", "code": "PU", "location": "Pune hub"}
    assert h.get(c, "shipments", sh["id"])["status"] == "in_transit"
    assert h.get(c, "orders", o["id"])["status"] == "shipped"

    script(c, cfg, [scan("MF", "2026-03-01T08:00:00Z"), scan("PU", "2026-03-01T12:00:00Z", location="Pune hub"),
                    scan("IT", "2026-03-02T09:00:00Z"), scan("OFD", "2026-03-03T07:00:00Z"),
                    scan("DL", "2026-03-03T15:30:00Z")])
    run_track(server, c, {"shipment_id": sh["id"]})
    assert [e["status"] for e in events(c, sh)] == ["manifested", "picked", "in_transit", "out_for_delivery",
                                                    "delivered"]
    now = h.get(c, "shipments", sh["id"])
    # stamped with the courier's time of the scan, not the time it was read
    assert now["status"] == "delivered" and now["delivered_at"].startswith("2026-03-03T15:30:00")
    assert now["picked_at"].startswith("2026-03-01T12:00:00")
    got = h.get(c, "orders", o["id"])
    assert got["status"] == "delivered" and got["delivered_at"]
    hist = [r["status"] for r in h.list_all(c, "order_status_history", {"order_id": o["id"], "sort": "created_at"})]
    assert hist == ["pending", "confirmed", "shipped", "delivered"]
    # replays add nothing, and a delivered shipment is no longer polled
    run_track(server, c, {"shipment_id": sh["id"]})
    assert len(events(c, sh)) == 5


def test_out_of_order_scans_are_kept_and_the_latest_time_wins(server, acme_owner):
    c = acme_owner
    cfg = courier(c)
    o, sh = shipped(c, cfg)
    script(c, cfg, [scan("OFD", "2026-04-02T07:00:00Z")])
    run_track(server, c, {"shipment_id": sh["id"]})
    assert h.get(c, "shipments", sh["id"])["status"] == "out_for_delivery"
    # an older scan arrives late: stored, the status stays with the latest time
    script(c, cfg, [scan("OFD", "2026-04-02T07:00:00Z"), scan("PU", "2026-04-01T10:00:00Z"),
                    scan("WEIRD-42", "2026-04-02T09:00:00Z"), scan("UD", "2026-04-02T18:00:00Z"),
                    {"code": "IT"}])
    run_track(server, c, {"shipment_id": sh["id"]})
    ev = events(c, sh)
    assert [(e["event_code"], e["status"]) for e in ev] == [("PU", "picked"), ("OFD", "out_for_delivery"),
                                                            ("WEIRD-42", "unknown"), ("UD", "ndr")]
    assert h.get(c, "shipments", sh["id"])["status"] == "out_for_delivery"
    assert h.get(c, "orders", o["id"])["status"] == "shipped"


def test_a_failing_courier_moves_nothing(server, acme_owner):
    c = acme_owner
    cfg = courier(c)
    o, sh = shipped(c, cfg)
    h.ok(c.patch(f"{API}/courier_configs/{cfg['id']}",
                 json={"settings": {"fail": "tracking is down", "scans": [scan("DL", "2026-05-01T10:00:00Z")]}}))
    job = run_track(server, c, {"shipment_id": sh["id"]})
    assert events(c, sh) == []
    assert h.get(c, "shipments", sh["id"])["status"] == "manifested"
    assert "couriers_failed" in json.dumps(job)
