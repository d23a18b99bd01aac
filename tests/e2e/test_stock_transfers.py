"""Transfers (issue #13, seed 004 shipments of type transfer): dispatch posts
transfer_out at the origin and raises in-transit (incoming_quantity) at the
destination; tracking points are appended in time order; receive posts
transfer_in, and a shortfall a variance entry with a stock_variance alert and
a notification. Both engines."""
import helpers as h
import stock_helpers as s

API = "/api/v1"


def _transfer(c, qty=20, on_hand=30, **wh):
    p = s.product(c)
    src = s.warehouse(c, **wh)
    dst = s.warehouse(c, manager_id=c.user["id"])
    inv = s.inventory(c, on_hand=on_hand, product_id=p["id"], warehouse_id=src["id"])
    ship = h.create(c, "shipments", {"origin_warehouse_id": src["id"], "destination_warehouse_id": dst["id"]})
    assert ship["shipment_type"] == "transfer" and ship["status"] == "created"
    h.create(c, "shipment_items", {"shipment_id": ship["id"], "product_id": p["id"], "quantity": qty})
    return ship, p, src, dst, inv


def _stock(c, wh, p):
    rows = h.rows_where(c, "inventory", warehouse_id=wh["id"], product_id=p["id"])
    return rows[0] if rows else None


def test_dispatch_track_and_receive_with_shortfall(cli, new_tenant):
    t = new_tenant()
    c = t.owner
    ship, p, src, dst, inv = _transfer(c)
    sent = h.ok(s.act(c, "shipments", ship["id"], "dispatch"))
    assert sent["status"] == "in_transit"
    assert _stock(c, src, p)["quantity_on_hand"] == 10
    there = _stock(c, dst, p)
    assert (there["quantity_on_hand"], there["incoming_quantity"]) == (0, 20)
    h.expect_error(s.act(c, "shipments", ship["id"], "dispatch"), 422, "invalid_transition")

    # positions, in time order
    h.ok(s.act(c, "shipments", ship["id"], "track",
               {"latitude": 19.07, "longitude": 72.87, "event_datetime": "2030-01-01T10:00:00.000Z"}))
    h.ok(s.act(c, "shipments", ship["id"], "track",
               {"latitude": 18.52, "longitude": 73.85, "event_datetime": "2030-01-01T12:00:00.000Z",
                "event_location": "Pune"}))
    h.expect_error(s.act(c, "shipments", ship["id"], "track",
                         {"latitude": 18.0, "longitude": 73.0, "event_datetime": "2030-01-01T11:00:00.000Z"}),
                   422, "unprocessable", "event_datetime")
    h.expect_error(s.act(c, "shipments", ship["id"], "track", {"latitude": 95, "longitude": 73.0}),
                   400, "validation_failed", "latitude")
    points = h.list_all(c, "tracking_events", {"shipment_id": ship["id"]})
    assert [(x["latitude"], x["longitude"]) for x in points] == [(19.07, 72.87), (18.52, 73.85)]
    assert points[1]["event_location"] == "Pune" and points[0]["event_code"] == "location_update"

    # 18 of 20 arrive
    h.expect_error(s.act(c, "shipments", ship["id"], "receive", {"quantity": 21}), 422, "over_receipt")
    got = h.ok(s.act(c, "shipments", ship["id"], "receive", {"quantity": 18}))
    assert got["status"] == "delivered"
    there = _stock(c, dst, p)
    assert (there["quantity_on_hand"], there["incoming_quantity"]) == (18, 0)
    kinds = sorted((e["transaction_type"], e["quantity"]) for e in s.entries(c, there["id"]))
    assert kinds == [("in_transit", 20), ("transfer_in", 18), ("variance", -2)]
    assert all(e["reference_type"] == "shipment" and e["reference_id"] == ship["id"]
               for e in s.entries(c, there["id"]))
    assert [(e["transaction_type"], e["quantity"]) for e in s.entries(c, inv["id"])
            if e["reference_type"] == "shipment"] == [("transfer_out", -20)]
    alerts = [a for a in h.list_all(c, "security_alerts") if a["alert_type"] == "stock_variance"]
    assert len(alerts) == 1
    data = h.as_obj(alerts[0]["additional_data"])
    assert (data["shipment_id"], data["dispatched"], data["received"], data["short"]) == (ship["id"], 20, 18, 2)
    notes = h.rows_where(c, "notification_logs", reference_type="shipment", reference_id=ship["id"])
    assert len(notes) == 1 and notes[0]["status"] == "pending" and "2 short" in notes[0]["body"]
    h.expect_error(s.act(c, "shipments", ship["id"], "receive", {"quantity": 1}), 422, "invalid_transition")
    assert "0 mismatch(es)" in cli.run("check-ledgers", "--tenant", t.slug).stdout


def test_full_receipt_raises_no_alert(new_tenant):
    t = new_tenant()
    c = t.owner
    ship, p, src, dst, _ = _transfer(c, qty=5)
    h.ok(s.act(c, "shipments", ship["id"], "dispatch"))
    h.ok(s.act(c, "shipments", ship["id"], "receive"))
    assert (_stock(c, dst, p)["quantity_on_hand"], _stock(c, dst, p)["incoming_quantity"]) == (5, 0)
    assert not [a for a in h.list_all(c, "security_alerts") if a["alert_type"] == "stock_variance"]


def test_dispatch_beyond_stock_is_refused_and_writes_nothing(acme_owner):
    c = acme_owner
    ship, p, src, dst, inv = _transfer(c, qty=40, on_hand=30)
    h.expect_error(s.act(c, "shipments", ship["id"], "dispatch"), 409, "insufficient_stock")
    assert h.get(c, "shipments", ship["id"])["status"] == "created"
    assert _stock(c, src, p)["quantity_on_hand"] == 30
    assert _stock(c, dst, p) is None
    # not a transfer / not dispatched
    h.expect_error(s.act(c, "shipments", ship["id"], "receive"), 422, "invalid_transition")
    other = h.create(c, "shipments", {"destination_warehouse_id": dst["id"]})
    assert other["shipment_type"] == "inbound"
    h.expect_error(s.act(c, "shipments", other["id"], "dispatch"), 422, "invalid_transition")


def test_transfer_permissions(acme_owner, acme_viewer, globex_owner):
    ship, *_ = _transfer(acme_owner, qty=1)
    h.expect_error(s.act(acme_viewer, "shipments", ship["id"], "dispatch"), 403, "forbidden")
    h.expect_error(s.act(globex_owner, "shipments", ship["id"], "dispatch"), 404, "not_found")
    h.expect_error(s.act(acme_owner, "shipments", ship["id"], "dispatch", {"quantity": 1}), 400, "unknown_field")
    assert h.get(acme_owner, "shipments", ship["id"])["status"] == "created"
