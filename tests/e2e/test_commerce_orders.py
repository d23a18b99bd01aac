"""Orders move stock (issue #14): confirm reserves every mapped line through the
stock ledger, all or nothing (409 insufficient_stock naming each short line,
nothing written); cancel releases what the order holds; ship turns the held
units into sale entries and fulfils the lines; every status change leaves an
order_status_history row. Two orders racing for the last unit: exactly one
confirms. Both engines."""
import concurrent.futures

import httpx

import helpers as h
import stock_helpers as s

API = "/api/v1"


def channel(c):
    return h.create(c, "sales_channels", {"channel_type_code": "shopify", "name": "Shop " + h.uniq()})


def order(c, lines, channel_id=None):
    """A pending order with lines [(product_id or None, quantity, sku)]."""
    o = h.create(c, "orders", {
        "channel_id": channel_id or channel(c)["id"], "external_order_id": h.uniq("EXT-"),
        "customer_name": "Buyer " + h.uniq(),
        "shipping_address": {"name": "Buyer", "line1": "1 Main St", "city": "Pune", "country": "IN"},
        "subtotal": "100.00", "total_amount": "100.00"})
    for pid, q, sku in lines:
        body = {"order_id": o["id"], "name": "Line " + sku, "sku": sku, "quantity": q,
                "unit_price": "10.00", "total_amount": f"{10 * q}.00"}
        if pid:
            body["product_id"] = pid
        h.create(c, "order_items", body)
    return o


def balances(c, inv):
    r = h.get(c, "inventory", inv["id"])
    return r["quantity_on_hand"], r["quantity_reserved"]


def order_entries(c, inv, oid):
    return sorted((e["transaction_type"], e["quantity"]) for e in s.entries(c, inv["id"])
                  if e["reference_id"] == oid)


def history(c, oid):
    return [r["status"] for r in h.list_all(c, "order_status_history", {"order_id": oid, "sort": "created_at"})]


def test_confirm_reserves_and_ship_sells(acme_owner):
    c = acme_owner
    a, b = s.inventory(c, on_hand=10), s.inventory(c, on_hand=4)
    o = order(c, [(a["product_id"], 3, "A-1"), (b["product_id"], 4, "B-1"), (None, 2, "UNMAPPED")])
    conf = h.ok(s.act(c, "orders", o["id"], "confirm"))
    assert conf["status"] == "confirmed" and conf["fulfillment_status"] == "unfulfilled"
    assert balances(c, a) == (10, 3) and balances(c, b) == (4, 4)
    assert order_entries(c, a, o["id"]) == [("reserve", 3)]
    shipped = h.ok(s.act(c, "orders", o["id"], "ship"))
    assert shipped["status"] == "shipped" and shipped["fulfillment_status"] == "fulfilled"
    assert balances(c, a) == (7, 0) and balances(c, b) == (0, 0)
    assert order_entries(c, a, o["id"]) == [("release", 3), ("reserve", 3), ("sale", -3)]
    items = h.list_all(c, "order_items", {"order_id": o["id"]})
    assert sorted(i["fulfilled_quantity"] for i in items) == [2, 3, 4]
    assert history(c, o["id"]) == ["pending", "confirmed", "shipped"]


def test_reservation_spans_warehouses_of_a_product(acme_owner):
    c = acme_owner
    p = s.product(c)
    big, small = s.inventory(c, on_hand=5, product_id=p["id"]), s.inventory(c, on_hand=2, product_id=p["id"])
    o = order(c, [(p["id"], 6, "SPAN")])
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    assert balances(c, big) == (5, 5) and balances(c, small) == (2, 1)
    h.ok(s.act(c, "orders", o["id"], "cancel"))
    assert balances(c, big) == (5, 0) and balances(c, small) == (2, 0)


def test_short_confirm_names_every_short_line_and_writes_nothing(acme_owner):
    c = acme_owner
    ok_inv, short1, short2 = s.inventory(c, on_hand=5), s.inventory(c, on_hand=1), s.inventory(c, on_hand=0)
    o = order(c, [(ok_inv["product_id"], 2, "OK-1"), (short1["product_id"], 3, "SHORT-1"),
                  (short2["product_id"], 1, "SHORT-2")])
    before = h.get(c, "orders", o["id"])
    e = h.expect_error(s.act(c, "orders", o["id"], "confirm"), 409, "insufficient_stock")
    assert h.error_fields(e) == {"SHORT-1", "SHORT-2"}
    assert "2 of 3" in e["fields"]["SHORT-1"]
    assert h.get(c, "orders", o["id"]) == before
    assert balances(c, ok_inv) == (5, 0) and balances(c, short1) == (1, 0)
    assert s.entries(c, ok_inv["id"]) and order_entries(c, ok_inv, o["id"]) == []
    assert history(c, o["id"]) == ["pending"]


def test_product_without_stock_row_is_short(acme_owner):
    c = acme_owner
    p = s.product(c)
    o = order(c, [(p["id"], 1, "NOWHERE")])
    e = h.expect_error(s.act(c, "orders", o["id"], "confirm"), 409, "insufficient_stock")
    assert h.error_fields(e) == {"NOWHERE"}


def test_cancel_releases_and_pending_cancel_moves_nothing(acme_owner):
    c = acme_owner
    inv = s.inventory(c, on_hand=3)
    o = order(c, [(inv["product_id"], 2, "C-1")])
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    h.ok(s.act(c, "orders", o["id"], "process"))
    assert balances(c, inv) == (3, 2)
    cancelled = h.ok(s.act(c, "orders", o["id"], "cancel"))
    assert cancelled["status"] == "cancelled"
    assert balances(c, inv) == (3, 0)
    assert order_entries(c, inv, o["id"]) == [("release", 2), ("reserve", 2)]
    assert history(c, o["id"]) == ["pending", "confirmed", "processing", "cancelled"]
    h.expect_error(s.act(c, "orders", o["id"], "ship"), 422, "invalid_transition")
    assert balances(c, inv) == (3, 0)
    p = order(c, [(inv["product_id"], 1, "C-2")])
    h.ok(s.act(c, "orders", p["id"], "cancel"))
    assert order_entries(c, inv, p["id"]) == []


def test_wrong_state_permission_and_tenant(acme_owner, acme_viewer, globex_owner):
    c = acme_owner
    inv = s.inventory(c, on_hand=2)
    o = order(c, [(inv["product_id"], 1, "W-1")])
    h.expect_error(s.act(c, "orders", o["id"], "ship"), 422, "invalid_transition")
    h.expect_error(s.act(acme_viewer, "orders", o["id"], "confirm"), 403, "forbidden")
    h.expect_error(s.act(globex_owner, "orders", o["id"], "confirm"), 404, "not_found")
    h.expect_error(s.act(c, "orders", o["id"], "confirm", {"warehouse_id": inv["warehouse_id"]}), 400,
                   "unknown_field")
    assert balances(c, inv) == (2, 0)
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    h.expect_error(s.act(c, "orders", o["id"], "confirm"), 422, "invalid_transition")
    assert balances(c, inv) == (2, 1)


def test_two_orders_race_for_the_last_unit(server, acme_owner):
    c = acme_owner
    inv = s.inventory(c, on_hand=1)
    ch = channel(c)["id"]
    orders = [order(c, [(inv["product_id"], 1, "LAST")], channel_id=ch) for _ in range(2)]
    token = c.headers["Authorization"]
    barrier = __import__("threading").Barrier(2)

    def confirm(o):
        with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": token}) as cl:
            barrier.wait()
            r = s.act(cl, "orders", o["id"], "confirm")
            return r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(confirm, orders))
    codes = sorted(code for code, _ in results)
    assert codes == [200, 409], results
    loser = [b for code, b in results if code == 409][0]
    assert loser["error"]["code"] == "insufficient_stock" and "LAST" in loser["error"]["fields"]
    assert balances(c, inv) == (1, 1)
    statuses = sorted(h.get(c, "orders", o["id"])["status"] for o in orders)
    assert statuses == ["confirmed", "pending"]


def test_demo_shows_the_fulfilment_loop(opsbase_bin, tmp_path, monkeypatch):
    """make run's demo: a simulator channel and courier, orders in every state."""
    monkeypatch.delenv("OPSBASE_DB", raising=False)  # the demo's own embedded data directory
    c = h.Cli(opsbase_bin, tmp_path / "demo")
    c.run("demo", timeout=120)
    with h.sqlite_db(tmp_path / "demo" / "tenants" / "acme.db") as db:
        states = {r[0] for r in db.execute("SELECT status FROM orders")}
        assert {"pending", "confirmed", "processing", "shipped", "delivered", "cancelled", "returned", "rto",
                "rto_delivered"} <= states
        # shipped twice (one with a failed delivery), delivered, returned, rto, rto_delivered
        assert db.execute("SELECT COUNT(*) FROM shipments WHERE awb_number LIKE 'SIM%'").fetchone()[0] == 6
        # the delivered order and the returned one (delivered first)
        assert db.execute("SELECT COUNT(*) FROM revenue_records").fetchone()[0] == 2
        # the failed delivery opened a case for the NDR workbench
        assert db.execute("SELECT status, attempt_count FROM ndr_records").fetchall() == [("open", 1)]
        # each order sent back: its courier charge and its return charge
        assert sorted(r[0] for r in db.execute("SELECT category FROM expenses")) == \
            ["returns", "returns", "shipping", "shipping"]
        assert db.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'couriers.track'").fetchone()[0] == 1
    assert "0 mismatch(es)" in c.run("check-ledgers").stdout
