"""Flight capacity (issue #15, seed 000): POST /shipments/{id}/book takes the
shipment's weight (whole kilograms, rounded up) from the flight through the
flight_bookings ledger over booked_kg (never above capacity_kg; available_kg
= capacity_kg - booked_kg), sets flight number, date and status booked;
cancel_booking gives it back; a cancelled or departed flight refuses (422);
two bookings that together exceed the space: exactly one wins, the other 409
insufficient_capacity. Both engines."""
import concurrent.futures

import httpx

import cargo_helpers as cg
import helpers as h

API = "/api/v1"


def _ship(c, weight="120.500", **f):
    return h.ok(cg.shipment(c, weight_kg=weight, **f), 201)


def test_book_and_cancel_move_the_flight_capacity(new_tenant, cli):
    t = new_tenant()
    c = t.owner
    f = cg.flight(c, capacity_kg=1000)
    assert (f["available_kg"], f["booked_kg"]) == (1000, 0)
    h.expect_error(c.patch(f"{API}/flight_schedules/{f['id']}", json={"available_kg": 5}), 400, "readonly_field")
    s = _ship(c, "120.500")
    booked = h.ok(cg.book(c, s["id"], f["id"]))
    assert booked["status"] == "booked" and booked["flight_schedule_id"] == f["id"]
    assert (booked["flight_number"], booked["flight_date"]) == (f["flight_number"], "2030-01-01")
    now = h.get(c, "flight_schedules", f["id"])
    assert (now["available_kg"], now["booked_kg"]) == (879, 121)  # 120.5 kg take 121
    entries = h.list_all(c, "flight_bookings", {"flight_schedule_id": f["id"]})
    assert [(e["entry_type"], e["weight_kg"], e["shipment_id"]) for e in entries] == [("book", 121, s["id"])]
    # booked once only; the ledger is written by the actions alone
    h.expect_error(cg.book(c, s["id"], f["id"]), 422, "invalid_transition")
    h.expect_error(c.post(f"{API}/flight_bookings", json={"flight_schedule_id": f["id"], "shipment_id": s["id"],
                                                         "entry_type": "release", "weight_kg": 121}),
                   405, "method_not_allowed")
    # capacity cannot drop below what is booked; above it, available follows
    h.expect_error(c.patch(f"{API}/flight_schedules/{f['id']}", json={"capacity_kg": 100}), 409,
                   "insufficient_capacity")
    up = h.ok(c.patch(f"{API}/flight_schedules/{f['id']}", json={"capacity_kg": 1200}))
    assert (up["available_kg"], up["booked_kg"]) == (1079, 121)
    back = h.ok(cg.cancel_booking(c, s["id"]))
    assert back["status"] == "created" and back["flight_schedule_id"] is None and back["flight_number"] is None
    now = h.get(c, "flight_schedules", f["id"])
    assert (now["available_kg"], now["booked_kg"]) == (1200, 0)
    h.expect_error(cg.cancel_booking(c, s["id"]), 422, "invalid_transition")
    kinds = [e["entry_type"] for e in h.list_all(c, "flight_bookings", {"flight_schedule_id": f["id"],
                                                                         "sort": "created_at"})]
    assert kinds == ["book", "release"]
    out = cli.run("check-ledgers", "--tenant", t.slug)
    assert "0 mismatch(es)" in out.stdout, out.stdout


def test_refusals_write_nothing(new_tenant, cli, login):
    t = new_tenant()
    c = t.owner
    f = cg.flight(c, capacity_kg=100)
    big = _ship(c, "100.001")  # 101 kg
    h.expect_error(cg.book(c, big["id"], f["id"]), 409, "insufficient_capacity")
    assert h.get(c, "shipments", big["id"])["status"] == "created"
    assert h.get(c, "flight_schedules", f["id"])["available_kg"] == 100
    assert h.list_all(c, "flight_bookings") == []
    exact = _ship(c, "100.000")
    h.ok(cg.book(c, exact["id"], f["id"]))
    assert h.get(c, "flight_schedules", f["id"])["available_kg"] == 0
    # flights that left or were cancelled refuse bookings
    for status in ("cancelled", "departed"):
        g = cg.flight(c, capacity_kg=500)
        h.ok(c.patch(f"{API}/flight_schedules/{g['id']}", json={"status": status}))
        e = h.expect_error(cg.book(c, _ship(c)["id"], g["id"]), 422, "invalid_transition", "flight_schedule_id")
        assert "bookable" in e["message"]
        assert h.get(c, "flight_schedules", g["id"])["booked_kg"] == 0
    # a departed flight keeps its bookings
    h.ok(c.patch(f"{API}/flight_schedules/{f['id']}", json={"status": "departed"}))
    h.expect_error(cg.cancel_booking(c, exact["id"]), 422, "invalid_transition")
    # malformed, missing flight, another tenant's flight, other shipment types
    h.expect_error(c.post(f"{API}/shipments/{big['id']}/book", json={}), 400, "validation_failed",
                   "flight_schedule_id")
    h.expect_error(c.post(f"{API}/shipments/{big['id']}/book", json={"flight_schedule_id": f["id"], "x": 1}), 400,
                   "unknown_field")
    other = new_tenant().owner
    of = cg.flight(other)
    h.expect_error(cg.book(c, big["id"], of["id"]), 422, "unprocessable", "flight_schedule_id")
    h.expect_error(cg.book(other, big["id"], of["id"]), 404, "not_found")
    wa = h.create(c, "warehouses", {"name": "A " + h.uniq()})
    wb = h.create(c, "warehouses", {"name": "B " + h.uniq()})
    tr = h.create(c, "shipments", {"origin_warehouse_id": wa["id"], "destination_warehouse_id": wb["id"],
                                   "weight_kg": "1.000"})
    h.expect_error(cg.book(c, tr["id"], cg.flight(c)["id"]), 422, "invalid_transition")
    no_weight = h.ok(cg.shipment(c, weight_kg=None), 201)
    h.expect_error(cg.book(c, no_weight["id"], cg.flight(c)["id"]), 422, "unprocessable", "weight_kg")
    # a viewer may not book
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    h.expect_error(cg.book(login(t.slug, email), big["id"], cg.flight(c)["id"]), 403, "forbidden")
    assert h.get(c, "shipments", big["id"])["status"] == "created"


def test_two_bookings_for_the_last_space_one_wins(server, new_tenant):
    c = new_tenant().owner
    f = cg.flight(c, capacity_kg=150)
    cust = h.create_customer(c)["id"]
    ships = [_ship(c, "100.000", customer_id=cust) for _ in range(2)]
    token = c.headers["Authorization"]

    def take(s):
        with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": token}) as cl:
            r = cg.book(cl, s["id"], f["id"])
            return r.status_code, r.json()

    for _ in range(3):  # three rounds: book both at once, then give the winner's space back
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(take, ships))
        codes = sorted(code for code, _ in results)
        assert codes == [200, 409], results
        assert [b["error"]["code"] for code, b in results if code == 409] == ["insufficient_capacity"]
        now = h.get(c, "flight_schedules", f["id"])
        assert (now["booked_kg"], now["available_kg"]) == (100, 50)
        winner = [b for code, b in results if code == 200][0]
        h.ok(cg.cancel_booking(c, winner["id"]))
    assert len(h.list_all(c, "flight_bookings", {"flight_schedule_id": f["id"]})) == 6


def test_booking_and_status_are_not_typed_past_the_ledger(new_tenant):
    """An air-cargo shipment's flight and status are the server's: the flight
    comes from book (so the ledger holds it), the status from the booking
    and the milestones. A warehouse shipment's status is still typed."""
    t = new_tenant()
    c = t.owner
    f = cg.flight(c, capacity_kg=1000)
    # on create: no flight, no status other than created, no flight number or date
    for field, value in (("flight_schedule_id", f["id"]), ("status", "booked"), ("flight_number", "EK1"),
                         ("flight_date", "2030-01-01")):
        h.expect_error(cg.shipment(c, **{field: value}), 400, "readonly_field", field)
    assert h.list_all(c, "shipments", {"flight_number": "EK1"}) == []
    s = _ship(c)
    for field, value in (("flight_schedule_id", f["id"]), ("status", "booked"), ("status", "delivered"),
                         ("flight_number", f["flight_number"]), ("flight_date", "2030-01-01")):
        h.expect_error(c.patch(f"{API}/shipments/{s['id']}", json={field: value}), 400, "readonly_field", field)
    assert h.get(c, "shipments", s["id"]) == s
    assert h.get(c, "flight_schedules", f["id"])["booked_kg"] == 0
    booked = h.ok(cg.book(c, s["id"], f["id"]))
    h.expect_error(c.patch(f"{API}/shipments/{s['id']}", json={"status": "created"}), 400, "readonly_field",
                   "status")
    assert h.get(c, "shipments", s["id"])["status"] == booked["status"] == "booked"
    # other columns of the shipment stay editable
    assert h.ok(c.patch(f"{API}/shipments/{s['id']}", json={"special_instructions": "Keep dry"}))[
        "special_instructions"] == "Keep dry"
    # a warehouse shipment (004) has no milestones: its status is typed
    wh = h.create(c, "warehouses", {"name": "WH " + h.uniq()})
    inbound = h.create(c, "shipments", {"destination_warehouse_id": wh["id"], "status": "in_transit"})
    assert inbound["shipment_type"] == "inbound" and inbound["status"] == "in_transit"
    assert h.ok(c.patch(f"{API}/shipments/{inbound['id']}", json={"status": "delivered"}))["status"] == "delivered"
