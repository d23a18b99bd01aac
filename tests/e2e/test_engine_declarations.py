"""Behaviour the engine derives from declarations: an event's own permission,
the fields an event may take, and columns stamped on create or on entering a
state. Runs on both engines."""
import json

import httpx

import helpers as h

API = "/api/v1"


def _order(c):
    ch = h.create(c, "sales_channels", {"channel_type_code": "shopify", "name": "Shop " + h.uniq()})
    return h.create(c, "orders", {"channel_id": ch["id"], "external_order_id": h.uniq("EXT-"),
                                  "customer_name": "Asha Buyer", "shipping_address": {"line1": "1 Road"},
                                  "subtotal": "10.00", "total_amount": "10.00"})


def _grant_role(owner, cli, login, tenant, codes):
    """A user whose only grants are the given permission codes."""
    code = h.uniq("clerk").lower()
    role = h.create(owner, "roles", {"name": "Clerk " + h.uniq(), "code": code})
    for pc in codes:
        (perm,) = h.rows_where(owner, "permissions", code=pc)
        h.create(owner, "role_permissions", {"role_id": role["id"], "permission_id": perm["id"]})
    email = h.uniq("clerk") + f"@{tenant}.test"
    cli.user_create(tenant, email, "customer")  # then swap the role for the custom one
    uid = h.user_id_by_email(owner, email)
    for ur in h.rows_where(owner, "user_roles", user_id=uid):
        h.ok(owner.delete(f"{API}/user_roles/{ur['id']}"))
    h.ok(owner.patch(f"{API}/users/{uid}", json={"user_type": "employee"}))
    h.create(owner, "user_roles", {"user_id": uid, "role_id": role["id"]})
    return login(tenant, email), uid


def test_event_carries_its_own_permission(new_tenant, cli, login):
    t = new_tenant()
    clerk, _ = _grant_role(t.owner, cli, login, t.slug, ["orders.view", "orders.edit"])
    o = _order(t.owner)
    url = f"{API}/orders/{o['id']}"
    confirmed = h.ok(clerk.post(url + "/confirm", json={}))
    # cancel is its own permission (orders.cancel), not the machine's orders.edit
    e = h.expect_error(clerk.post(url + "/cancel", json={}), 403, "forbidden")
    assert "orders.cancel" in e["message"]
    assert h.get(t.owner, "orders", o["id"]) == confirmed
    c = h.ok(t.owner.post(url + "/cancel", json={}))
    assert c["status"] == "cancelled" and h.TS_RE.match(c["cancelled_at"])
    assert c["confirmed_at"] == confirmed["confirmed_at"]


def test_event_takes_only_declared_fields(acme_owner):
    o = _order(acme_owner)
    url = f"{API}/orders/{o['id']}"
    for body, field in (({"notes": "x"}, "notes"), ({"status": "delivered"}, "status"),
                        ({"confirmed_at": "2026-01-01T00:00:00Z"}, "confirmed_at")):
        h.expect_error(acme_owner.post(url + "/confirm", json=body), 400, "unknown_field", field)
    assert h.get(acme_owner, "orders", o["id"]) == o


def test_columns_are_stamped_by_declaration(acme_owner, login):
    owner_id = h.ok(acme_owner.get(f"{API}/auth/me"))["user"]["id"]
    operator = login("acme", "operator@acme.test")
    operator_id = h.ok(operator.get(f"{API}/auth/me"))["user"]["id"]
    # actor on create: the ledger entry, the purchase order, the tag assignment
    p = h.create(acme_owner, "products", {"sku": h.uniq("SKU-"), "name": "Widget"})
    inv = h.create(acme_owner, "inventory", {"product_id": p["id"], "warehouse_location": h.uniq("BIN-")})
    e = h.create(operator, "inventory_transactions", {"inventory_id": inv["id"], "transaction_type": "purchase",
                                                      "quantity": 3})
    assert e["created_by"] == operator_id
    sup = h.create(acme_owner, "suppliers", {"name": "Supplier " + h.uniq()})
    po = h.create(acme_owner, "purchase_orders", {"supplier_id": sup["id"]})
    assert po["created_by"] == owner_id
    cust = h.create_customer(acme_owner)
    tag = h.create(acme_owner, "customer_tags", {"name": "Tag " + h.uniq()})
    ta = h.create(acme_owner, "customer_tag_assignments", {"customer_id": cust["id"], "tag_id": tag["id"]})
    assert ta["assigned_by"] == owner_id and h.TS_RE.match(ta["assigned_at"])
    # a stamped column is the server's: the client cannot give it
    h.expect_error(acme_owner.post(f"{API}/purchase_orders", json={"supplier_id": sup["id"],
                                                                  "created_by": operator_id}),
                   400, "readonly_field", "created_by")
    # on entering a state: each time column once, by its own state
    o = _order(acme_owner)
    assert o["confirmed_at"] is None and o["shipped_at"] is None
    c = h.ok(acme_owner.post(f"{API}/orders/{o['id']}/confirm", json={}))
    assert h.TS_RE.match(c["confirmed_at"]) and c["shipped_at"] is None
    s = h.ok(acme_owner.post(f"{API}/orders/{o['id']}/ship", json={}))
    assert s["confirmed_at"] == c["confirmed_at"] and h.TS_RE.match(s["shipped_at"])
    (first, *rest) = h.rows_where(acme_owner, "order_status_history", order_id=o["id"])
    assert all(r["created_by"] == owner_id for r in [first, *rest])


def test_action_input_is_declared_and_validated(acme_owner):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    url = f"{API}/tickets/{t['id']}/assign"
    h.expect_error(acme_owner.post(url, json={"agent": "x"}), 400, "unknown_field", "agent")
    h.expect_error(acme_owner.post(url, json={"agent_id": "not-an-id"}), 400, "validation_failed", "agent_id")
    h.expect_error(acme_owner.post(url, json={"agent_id": h.MISSING_ID}), 422, "unprocessable", "agent_id")
    assert h.get(acme_owner, "tickets", t["id"]) == t
    # an action that declares no input takes no fields
    ch = h.create(acme_owner, "sales_channels", {"channel_type_code": "shopify", "name": "Shop " + h.uniq()})
    h.expect_error(acme_owner.post(f"{API}/sales_channels/{ch['id']}/disconnect", json={"now": True}),
                   400, "unknown_field", "now")
    assert h.get(acme_owner, "sales_channels", ch["id"]) == ch


def test_numbers_are_declared_and_given_back_on_refusal(new_tenant):
    t = new_tenant()
    c = t.owner
    first = _order(c)["order_number"]
    assert first.startswith("ORD-") and len(first) == len("ORD-000001")
    n = int(first[4:])
    # a refused create rolls its number back with it
    h.expect_error(c.post(f"{API}/orders", json={"external_order_id": "x"}), 400, "validation_failed")
    assert _order(c)["order_number"] == f"ORD-{n + 1:06d}"
    # a number the client gives is kept (the column is filled only when absent)
    ch = h.create(c, "sales_channels", {"channel_type_code": "shopify", "name": "Shop " + h.uniq()})
    mine = h.create(c, "orders", {"channel_id": ch["id"], "external_order_id": h.uniq("EXT-"), "order_number": "MY-1",
                                  "customer_name": "A", "shipping_address": {"line1": "1"}, "subtotal": "1.00",
                                  "total_amount": "1.00"})
    assert mine["order_number"] == "MY-1"
    # each table counts on its own; a server-set number cannot be given
    cust = h.create(c, "customers", {"company_name": "Numbered " + h.uniq()})
    assert cust["customer_code"] == "CUS-000001"
    tk = h.create_ticket(c, cust["id"])
    assert tk["ticket_number"] == "TKT-000001"
    h.expect_error(c.post(f"{API}/tickets", json={"customer_id": cust["id"], "title": "t", "description": "d",
                                                  "ticket_number": "TKT-9"}), 400, "readonly_field", "ticket_number")


def test_openapi_describes_event_and_action_bodies_as_declared(server):
    doc = httpx.get(server.url + "/api/openapi.json", timeout=10).json()

    def body(path):
        op = doc["paths"][path]["post"]
        return op, op["requestBody"]["content"]["application/json"]["schema"]

    op, s = body("/api/v1/tickets/{id}/resolve")
    assert set(s["properties"]) == {"resolution_notes"} and s["additionalProperties"] is False
    op, s = body("/api/v1/tickets/{id}/start")
    assert s["properties"] == {} and s["additionalProperties"] is False
    op, s = body("/api/v1/orders/{id}/cancel")
    assert "orders.cancel" in json.dumps(op)
    op, s = body("/api/v1/tickets/{id}/assign")
    assert set(s["properties"]) == {"agent_id"} and s["required"] == []
    op, s = body("/api/v1/sales_channels/{id}/connect")
    assert s["required"] == ["credentials"] and s["properties"]["credentials"]["writeOnly"] is True
