"""Orders on their way back (issue #14): the order state machine has rto and
rto_delivered. A courier's rto_initiated (or rto_in_transit) scan, or an NDR
case sent back, makes a shipped order rto; the rto_delivered scan makes it
rto_delivered and puts its sold units back on the shelves with return entries
(once: a replayed or repeated scan adds nothing). Orders not shipped do not
move. Both engines."""
import helpers as h
import stock_helpers as s
from test_commerce_orders import history, order
from test_commerce_ship import courier
from test_commerce_tracking import run_track, scan, script

API = "/api/v1"


def shipped_two(c, cfg):
    inv = s.inventory(c, on_hand=6)
    o = order(c, [(inv["product_id"], 2, "R-1")])
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    h.ok(s.act(c, "orders", o["id"], "ship", {"courier_config_id": cfg["id"]}))
    [sh] = h.list_all(c, "shipments", {"order_id": o["id"]})
    return inv, o, sh


def returns(c, inv, oid):
    return [e["quantity"] for e in s.entries(c, inv["id"])
            if e["reference_id"] == oid and e["transaction_type"] == "return"]


def test_rto_scans_move_the_order_and_restock_once(server, acme_owner):
    c = acme_owner
    cfg = courier(c)
    inv, o, sh = shipped_two(c, cfg)
    assert h.get(c, "inventory", inv["id"])["quantity_on_hand"] == 4
    scans = [scan("IT", "2026-10-10T09:00:00Z"), scan("RTO", "2026-10-11T09:00:00Z")]
    script(c, cfg, scans)
    run_track(server, c, {"shipment_id": sh["id"]})
    assert h.get(c, "shipments", sh["id"])["status"] == "rto_initiated"
    assert h.get(c, "orders", o["id"])["status"] == "rto"
    assert returns(c, inv, o["id"]) == [] and h.get(c, "inventory", inv["id"])["quantity_on_hand"] == 4
    scans += [scan("RT-IT", "2026-10-12T09:00:00Z"), scan("RT-DL", "2026-10-13T09:00:00Z")]
    script(c, cfg, scans)
    run_track(server, c, {"shipment_id": sh["id"]})
    got = h.get(c, "orders", o["id"])
    assert got["status"] == "rto_delivered"
    assert history(c, o["id"]) == ["pending", "confirmed", "shipped", "rto", "rto_delivered"]
    assert returns(c, inv, o["id"]) == [2] and h.get(c, "inventory", inv["id"])["quantity_on_hand"] == 6
    # a repeated scan at another time changes nothing more
    script(c, cfg, scans + [scan("RT-DL", "2026-10-13T10:00:00Z")])
    run_track(server, c, {"shipment_id": sh["id"]})
    assert returns(c, inv, o["id"]) == [2] and h.get(c, "orders", o["id"])["status"] == "rto_delivered"
    # nothing moves it back by hand
    h.expect_error(s.act(c, "orders", o["id"], "deliver"), 422, "invalid_transition")
    h.expect_error(s.act(c, "orders", o["id"], "rto_receive"), 422, "invalid_transition")


def test_back_at_origin_without_an_rto_scan(server, acme_owner, acme_viewer, globex_owner):
    c = acme_owner
    cfg = courier(c)
    inv, o, sh = shipped_two(c, cfg)
    # only the last scan arrives: shipped goes straight to rto_delivered, restocked
    script(c, cfg, [scan("RT-DL", "2026-10-20T09:00:00Z")])
    run_track(server, c, {"shipment_id": sh["id"]})
    assert h.get(c, "orders", o["id"])["status"] == "rto_delivered"
    assert returns(c, inv, o["id"]) == [2]
    # the events are declared: a pending order cannot be sent back, a viewer may not, another tenant sees nothing
    p = order(c, [(inv["product_id"], 1, "R-2")])
    h.expect_error(s.act(c, "orders", p["id"], "rto"), 422, "invalid_transition")
    h.expect_error(s.act(acme_viewer, "orders", p["id"], "rto"), 403, "forbidden")
    h.expect_error(s.act(globex_owner, "orders", o["id"], "rto"), 404, "not_found")
    assert c.patch(f"{API}/orders/{p['id']}", json={"status": "rto"}).status_code == 400
