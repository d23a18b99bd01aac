"""Warehouse scope (issue #13): a role grant may be limited to the warehouses
its user manages (user_roles.warehouse_scope, warehouses.manager_id); moving
stock in another warehouse is 403 and writes nothing. Both engines."""
import helpers as h
import stock_helpers as s

API = "/api/v1"


def _scoped_operator(cli, login, t):
    email = f"wh@{t.slug}.test"
    cli.user_create(t.slug, email, "operator")
    user = login(t.slug, email)
    grants = h.rows_where(t.owner, "user_roles", user_id=user.user["id"])
    assert len(grants) == 1 and not grants[0]["warehouse_scope"]
    h.ok(t.owner.patch(f"{API}/user_roles/{grants[0]['id']}", json={"warehouse_scope": True}))
    return user


def test_scoped_grant_moves_stock_only_in_managed_warehouses(cli, login, new_tenant):
    t = new_tenant()
    user = _scoped_operator(cli, login, t)
    mine = s.warehouse(t.owner, manager_id=user.user["id"])
    theirs = s.warehouse(t.owner)
    p = s.product(t.owner)
    inv_mine = s.inventory(t.owner, on_hand=10, product_id=p["id"], warehouse_id=mine["id"])
    inv_theirs = s.inventory(t.owner, on_hand=10, product_id=p["id"], warehouse_id=theirs["id"])

    got = h.ok(s.act(user, "inventory", inv_mine["id"], "adjust", {"quantity": -2, "reason": "breakage"}))
    assert got["quantity_on_hand"] == 8
    h.ok(s.act(user, "inventory", inv_mine["id"], "count", {"counted": 9}))
    h.ok(s.act(user, "inventory", inv_mine["id"], "reserve", {"quantity": 1}))

    before = s.entries(t.owner, inv_theirs["id"])
    e = h.expect_error(s.act(user, "inventory", inv_theirs["id"], "adjust", {"quantity": -2, "reason": "x"}),
                       403, "forbidden")
    assert "warehouses you manage" in e["message"]
    h.expect_error(s.act(user, "inventory", inv_theirs["id"], "count", {"counted": 1}), 403, "forbidden")
    h.expect_error(s.act(user, "inventory", inv_theirs["id"], "reserve", {"quantity": 1}), 403, "forbidden")
    h.expect_error(user.post(f"{API}/inventory_transactions",
                             json={"inventory_id": inv_theirs["id"], "transaction_type": "sale", "quantity": -1}),
                   403, "forbidden")
    assert s.entries(t.owner, inv_theirs["id"]) == before
    assert h.get(t.owner, "inventory", inv_theirs["id"]) == inv_theirs
    # reading is not scoped: the grant limits moving stock
    assert h.get(user, "inventory", inv_theirs["id"])["quantity_on_hand"] == 10

    # receiving goods is stock moving too
    po, items = s.purchase_order(t.owner, [(p["id"], 5, "1.00")], warehouse_id=theirs["id"])
    h.ok(s.act(t.owner, "purchase_orders", po["id"], "submit"))
    h.ok(s.act(t.owner, "purchase_orders", po["id"], "approve"))
    line = {"purchase_order_item_id": items[0]["id"], "quantity": 5}
    h.expect_error(s.act(user, "purchase_orders", po["id"], "receive", {"lines": [line]}), 403, "forbidden")
    assert h.ok(s.act(user, "purchase_orders", po["id"], "receive",
                      {"warehouse_id": mine["id"], "lines": [line]}))["status"] == "received"

    # the owner is never scoped, and lifting the scope frees the user
    h.ok(s.act(t.owner, "inventory", inv_theirs["id"], "adjust", {"quantity": 1, "reason": "found"}))
    grant = h.rows_where(t.owner, "user_roles", user_id=user.user["id"])[0]
    h.ok(t.owner.patch(f"{API}/user_roles/{grant['id']}", json={"warehouse_scope": False}))
    h.ok(s.act(user, "inventory", inv_theirs["id"], "adjust", {"quantity": -1, "reason": "x"}))


def test_an_unscoped_grant_of_the_same_permission_wins(cli, login, new_tenant):
    t = new_tenant()
    user = _scoped_operator(cli, login, t)
    manager_role = h.find_role_id(t.owner, "manager")
    h.create(t.owner, "user_roles", {"user_id": user.user["id"], "role_id": manager_role})
    inv = s.inventory(t.owner, on_hand=3)
    assert h.ok(s.act(user, "inventory", inv["id"], "adjust", {"quantity": -1, "reason": "x"}))["quantity_on_hand"] == 2
