"""Stock is moved only by ledger entries (issue #13): every balance of an
inventory row is server-set; adjust, count, reserve and release post entries;
bounds on hand >= 0, reserved >= 0, reserved <= on hand, incoming >= 0 refuse a
movement with 409 insufficient_stock and write nothing; 50 concurrent
reservations of 1 against 20 available: exactly 20 win. Both engines."""
import concurrent.futures

import httpx

import helpers as h
import stock_helpers as s

API = "/api/v1"


def test_balances_are_server_set(acme_owner):
    c = acme_owner
    inv = s.inventory(c)
    for col in ("quantity_reserved", "incoming_quantity", "last_counted_at"):
        value = "2025-01-01T00:00:00.000Z" if col == "last_counted_at" else 3
        h.expect_error(c.patch(f"{API}/inventory/{inv['id']}", json={col: value}), 400, "readonly_field", col)
        h.expect_error(c.post(f"{API}/inventory", json={"product_id": s.product(c)["id"], col: value}),
                       400, "readonly_field", col)
    assert h.get(c, "inventory", inv["id"]) == inv


def test_adjust_posts_an_entry_with_reason(acme_owner):
    c = acme_owner
    inv = s.inventory(c, on_hand=10)
    assert inv["quantity_on_hand"] == 10
    after = h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -3, "reason": "damaged in aisle 4"}))
    assert after["quantity_on_hand"] == 7 and after["quantity_available"] == 7
    assert after["version"] == inv["version"] + 1
    e = [x for x in s.entries(c, inv["id"]) if x["quantity"] == -3]
    assert len(e) == 1
    assert e[0]["transaction_type"] == "adjustment" and e[0]["notes"] == "damaged in aisle 4"
    assert e[0]["reference_type"] == "adjustment" and e[0]["created_by"] == c.user["id"]
    # below zero: 409, nothing written
    before = s.entries(c, inv["id"])
    h.expect_error(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -8, "reason": "x"}),
                   409, "insufficient_stock")
    assert s.entries(c, inv["id"]) == before
    assert h.get(c, "inventory", inv["id"]) == after
    # malformed: missing reason, zero, unknown field
    h.expect_error(s.act(c, "inventory", inv["id"], "adjust", {"quantity": 1}), 400, "validation_failed", "reason")
    h.expect_error(s.act(c, "inventory", inv["id"], "adjust", {"quantity": 0, "reason": "x"}),
                   400, "validation_failed", "quantity")
    h.expect_error(s.act(c, "inventory", inv["id"], "adjust", {"quantity": 1, "reason": "x", "bogus": 1}),
                   400, "unknown_field", "bogus")
    h.expect_error(s.act(c, "inventory", inv["id"], "adjust", {"quantity": "many", "reason": "x"}),
                   400, "validation_failed", "quantity")
    assert s.entries(c, inv["id"]) == before


def test_count_posts_the_difference_and_stamps(acme_owner):
    c = acme_owner
    inv = s.inventory(c, on_hand=40)
    assert inv["last_counted_at"] is None
    after = h.ok(s.act(c, "inventory", inv["id"], "count", {"counted": 42}))
    assert after["quantity_on_hand"] == 42
    h.parse_ts(after["last_counted_at"])
    diffs = [e["quantity"] for e in s.entries(c, inv["id"]) if e["transaction_type"] == "adjustment"]
    assert sorted(diffs) == [2, 40]
    # a count that matches posts nothing but still stamps
    again = h.ok(s.act(c, "inventory", inv["id"], "count", {"counted": 42}))
    assert again["quantity_on_hand"] == 42 and len(s.entries(c, inv["id"])) == 2
    assert again["last_counted_at"] >= after["last_counted_at"]
    # counting fewer than are reserved is refused: the reserved units are promised
    h.ok(s.act(c, "inventory", inv["id"], "reserve", {"quantity": 30}))
    h.expect_error(s.act(c, "inventory", inv["id"], "count", {"counted": 29}), 409, "insufficient_stock")
    h.expect_error(s.act(c, "inventory", inv["id"], "count", {"counted": -1}), 400, "validation_failed", "counted")


def test_adjust_needs_inventory_adjust(acme_owner, acme_viewer, globex_owner):
    inv = s.inventory(acme_owner, on_hand=5)
    e = h.expect_error(s.act(acme_viewer, "inventory", inv["id"], "adjust", {"quantity": 1, "reason": "x"}),
                       403, "forbidden")
    assert "inventory.adjust" in e["message"]
    h.expect_error(s.act(acme_viewer, "inventory", inv["id"], "count", {"counted": 1}), 403, "forbidden")
    h.expect_error(s.act(acme_viewer, "inventory", inv["id"], "reserve", {"quantity": 1}), 403, "forbidden")
    # another tenant's row does not exist for them
    h.expect_error(s.act(globex_owner, "inventory", inv["id"], "adjust", {"quantity": 1, "reason": "x"}),
                   404, "not_found")
    assert h.get(acme_owner, "inventory", inv["id"]) == inv


def test_reserve_and_release(acme_owner):
    c = acme_owner
    inv = s.inventory(c, on_hand=5)
    order_id = h.MISSING_ID
    r = h.ok(s.act(c, "inventory", inv["id"], "reserve",
                   {"quantity": 4, "reference_type": "order", "reference_id": order_id}))
    assert (r["quantity_on_hand"], r["quantity_reserved"], r["quantity_available"]) == (5, 4, 1)
    e = [x for x in s.entries(c, inv["id"]) if x["transaction_type"] == "reserve"]
    assert len(e) == 1 and e[0]["quantity"] == 4
    assert e[0]["reference_type"] == "order" and e[0]["reference_id"] == order_id
    # more than is available: 409, nothing written
    h.expect_error(s.act(c, "inventory", inv["id"], "reserve", {"quantity": 2}), 409, "insufficient_stock")
    # reserved stock cannot be sold
    h.expect_error(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -2, "reason": "x"}),
                   409, "insufficient_stock")
    # release more than is reserved: 409
    h.expect_error(s.act(c, "inventory", inv["id"], "release", {"quantity": 5}), 409, "insufficient_stock")
    r = h.ok(s.act(c, "inventory", inv["id"], "release",
                   {"quantity": 3, "reference_type": "order", "reference_id": order_id}))
    assert (r["quantity_on_hand"], r["quantity_reserved"], r["quantity_available"]) == (5, 1, 4)
    h.expect_error(s.act(c, "inventory", inv["id"], "reserve", {"quantity": 0}), 400, "validation_failed", "quantity")
    h.expect_error(s.act(c, "inventory", inv["id"], "reserve", {"quantity": 1, "reference_type": "nope"}),
                   400, "validation_failed", "reference_type")
    kinds = sorted(x["transaction_type"] for x in s.entries(c, inv["id"]))
    assert kinds == ["adjustment", "release", "reserve"]


def test_entry_kinds_keep_their_sign(acme_owner):
    c = acme_owner
    inv = s.inventory(c, on_hand=5)
    for kind, qty in (("reserve", -1), ("release", -1), ("sale", 2), ("purchase", -1), ("in_transit", -1),
                      ("adjustment", 0)):
        h.expect_error(c.post(f"{API}/inventory_transactions",
                              json={"inventory_id": inv["id"], "transaction_type": kind, "quantity": qty}),
                       400, "validation_failed", "quantity")
    h.expect_error(c.post(f"{API}/inventory_transactions",
                          json={"inventory_id": inv["id"], "transaction_type": "transfer", "quantity": 1}),
                   400, "validation_failed", "transaction_type")
    # an entry posted directly moves its balance like the action does
    h.create(c, "inventory_transactions", {"inventory_id": inv["id"], "transaction_type": "reserve", "quantity": 2})
    h.create(c, "inventory_transactions", {"inventory_id": inv["id"], "transaction_type": "in_transit",
                                           "quantity": 7})
    now = h.get(c, "inventory", inv["id"])
    assert (now["quantity_on_hand"], now["quantity_reserved"], now["incoming_quantity"]) == (5, 2, 7)
    h.expect_error(c.post(f"{API}/inventory_transactions",
                          json={"inventory_id": inv["id"], "transaction_type": "variance", "quantity": -8}),
                   409, "insufficient_stock")


def test_fifty_reservations_against_twenty(server, acme_owner):
    c = acme_owner
    inv = s.inventory(c, on_hand=20)
    token = c.headers["Authorization"]

    def take(i):
        with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": token}) as cl:
            r = s.act(cl, "inventory", inv["id"], "reserve",
                      {"quantity": 1, "reference_type": "order", "reference_id": f"order-{i}"})
            return r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(take, range(50)))
    codes = sorted(code for code, _ in results)
    assert codes.count(200) == 20, codes
    assert codes.count(409) == 30, codes
    assert all(b["error"]["code"] == "insufficient_stock" for code, b in results if code == 409)
    now = h.get(c, "inventory", inv["id"])
    assert (now["quantity_on_hand"], now["quantity_reserved"], now["quantity_available"]) == (20, 20, 0)
    assert len([e for e in s.entries(c, inv["id"]) if e["transaction_type"] == "reserve"]) == 20


def test_check_ledgers_covers_every_balance(cli, new_tenant):
    t = new_tenant()
    inv = s.inventory(t.owner, on_hand=9)
    h.ok(s.act(t.owner, "inventory", inv["id"], "reserve", {"quantity": 4}))
    h.ok(s.act(t.owner, "inventory", inv["id"], "release", {"quantity": 1}))
    h.create(t.owner, "inventory_transactions", {"inventory_id": inv["id"], "transaction_type": "in_transit",
                                                 "quantity": 6})
    h.create(t.owner, "inventory_transactions", {"inventory_id": inv["id"], "transaction_type": "transfer_in",
                                                 "quantity": 5})
    now = h.get(t.owner, "inventory", inv["id"])
    assert (now["quantity_on_hand"], now["quantity_reserved"], now["incoming_quantity"]) == (14, 3, 1)
    out = cli.run("check-ledgers", "--tenant", t.slug)
    assert "0 mismatch(es)" in out.stdout, out.stdout
