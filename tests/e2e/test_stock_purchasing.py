"""Purchase orders (issue #13): draft -> submitted -> approved ->
partially_received -> received -> closed, cancelled from draft, submitted or
approved; approve needs purchasing.approve and, when the tenant says so,
someone other than the creator; items change only in draft; totals from the
items in exact decimals; receive posts purchase entries and refuses more than
ordered beyond the tenant's tolerance (422 over_receipt); the supplier's
on-time and fill rates follow every receipt. Both engines."""
import helpers as h
import stock_helpers as s

API = "/api/v1"


def _settings(c, **values):
    cs = h.list_all(c, "company_settings")[0]
    merged = dict(h.as_obj(cs.get("settings")) or {})
    merged.update(values)
    h.ok(c.patch(f"{API}/company_settings/{cs['id']}", json={"settings": merged}))


def _approved(c, lines, **f):
    po, items = s.purchase_order(c, lines, **f)
    h.ok(s.act(c, "purchase_orders", po["id"], "submit"))
    return h.ok(s.act(c, "purchase_orders", po["id"], "approve")), items


def test_states_and_events(acme_owner):
    c = acme_owner
    p = s.product(c)
    po, items = s.purchase_order(c, [(p["id"], 3, "10.10"), (p["id"], 7, "0.33")])
    assert po["status"] == "draft" and po["total_amount"] == "32.61"
    h.expect_error(c.patch(f"{API}/purchase_orders/{po['id']}", json={"status": "approved"}),
                   400, "readonly_field", "status")
    h.expect_error(s.act(c, "purchase_orders", po["id"], "approve"), 422, "invalid_transition")
    h.expect_error(s.act(c, "purchase_orders", po["id"], "receive",
                         {"lines": [{"purchase_order_item_id": items[0]["id"], "quantity": 1}]}),
                   422, "invalid_transition")
    sub = h.ok(s.act(c, "purchase_orders", po["id"], "submit"))
    assert sub["status"] == "submitted"
    appr = h.ok(s.act(c, "purchase_orders", po["id"], "approve"))
    assert appr["status"] == "approved"
    h.parse_ts(appr["approved_at"])
    approvals = h.audit_rows(c, entity_type="purchase_orders", entity_id=po["id"], action="approve")
    assert len(approvals) == 1 and approvals[0]["user_id"] == c.user["id"]
    h.expect_error(s.act(c, "purchase_orders", po["id"], "close"), 422, "invalid_transition")
    assert h.ok(s.act(c, "purchase_orders", po["id"], "cancel"))["status"] == "cancelled"
    h.expect_error(s.act(c, "purchase_orders", po["id"], "submit"), 422, "invalid_transition")


def test_items_change_only_in_draft(acme_owner):
    c = acme_owner
    p = s.product(c)
    po, items = s.purchase_order(c, [(p["id"], 2, "5.00")])
    h.ok(c.patch(f"{API}/purchase_order_items/{items[0]['id']}", json={"quantity_ordered": 4}))
    assert h.get(c, "purchase_orders", po["id"])["total_amount"] == "20.00"
    h.ok(s.act(c, "purchase_orders", po["id"], "submit"))
    h.expect_error(c.patch(f"{API}/purchase_order_items/{items[0]['id']}", json={"quantity_ordered": 9}),
                   422, "invalid_transition")
    h.expect_error(c.post(f"{API}/purchase_order_items", json={"purchase_order_id": po["id"],
                                                               "product_id": p["id"], "quantity_ordered": 1,
                                                               "unit_price": "1.00"}),
                   422, "invalid_transition")
    h.expect_error(c.delete(f"{API}/purchase_order_items/{items[0]['id']}"), 422, "invalid_transition")
    assert h.get(c, "purchase_order_items", items[0]["id"])["quantity_ordered"] == 4
    assert h.get(c, "purchase_orders", po["id"])["total_amount"] == "20.00"


def test_approve_permission_and_separation_of_duties(cli, login, new_tenant):
    t = new_tenant()
    cli.user_create(t.slug, f"op@{t.slug}.test", "operator")
    cli.user_create(t.slug, f"view@{t.slug}.test", "viewer")
    op = login(t.slug, f"op@{t.slug}.test")
    viewer = login(t.slug, f"view@{t.slug}.test")
    p = s.product(t.owner)
    po, _ = s.purchase_order(op, [(p["id"], 1, "1.00")])
    h.ok(s.act(op, "purchase_orders", po["id"], "submit"))
    e = h.expect_error(s.act(viewer, "purchase_orders", po["id"], "approve"), 403, "forbidden")
    assert "purchasing.approve" in e["message"]
    _settings(t.owner, purchase_approval_by_other=True)
    h.expect_error(s.act(op, "purchase_orders", po["id"], "approve"), 403, "forbidden")
    assert h.get(op, "purchase_orders", po["id"])["status"] == "submitted"
    assert h.ok(s.act(t.owner, "purchase_orders", po["id"], "approve"))["status"] == "approved"
    # without the setting the creator may approve
    _settings(t.owner, purchase_approval_by_other=False)
    po2, _ = s.purchase_order(op, [(p["id"], 1, "1.00")])
    h.ok(s.act(op, "purchase_orders", po2["id"], "submit"))
    assert h.ok(s.act(op, "purchase_orders", po2["id"], "approve"))["status"] == "approved"


def test_receive_in_parts_posts_purchase_entries(acme_owner):
    c = acme_owner
    p1, p2 = s.product(c), s.product(c)
    wh = s.warehouse(c)
    po, items = _approved(c, [(p1["id"], 100, "2.50"), (p2["id"], 10, "1.00")], warehouse_id=wh["id"])
    part = h.ok(s.act(c, "purchase_orders", po["id"], "receive",
                      {"lines": [{"purchase_order_item_id": items[0]["id"], "quantity": 60}]}))
    assert part["status"] == "partially_received"
    assert h.get(c, "purchase_order_items", items[0]["id"])["quantity_received"] == 60
    inv = h.rows_where(c, "inventory", warehouse_id=wh["id"], product_id=p1["id"])
    assert len(inv) == 1 and inv[0]["quantity_on_hand"] == 60
    e = s.entries(c, inv[0]["id"])
    assert [(x["transaction_type"], x["quantity"], x["reference_type"], x["reference_id"]) for x in e] == [
        ("purchase", 60, "purchase_order", po["id"])]
    done = h.ok(s.act(c, "purchase_orders", po["id"], "receive",
                      {"warehouse_id": wh["id"],
                       "lines": [{"purchase_order_item_id": items[0]["id"], "quantity": 40},
                                 {"purchase_order_item_id": items[1]["id"], "quantity": 10}]}))
    assert done["status"] == "received"
    assert h.rows_where(c, "inventory", warehouse_id=wh["id"], product_id=p1["id"])[0]["quantity_on_hand"] == 100
    assert h.rows_where(c, "inventory", warehouse_id=wh["id"], product_id=p2["id"])[0]["quantity_on_hand"] == 10
    assert h.ok(s.act(c, "purchase_orders", po["id"], "close"))["status"] == "closed"
    h.expect_error(s.act(c, "purchase_orders", po["id"], "cancel"), 422, "invalid_transition")


def test_over_receipt_is_refused_and_writes_nothing(acme_owner):
    c = acme_owner
    p = s.product(c)
    wh = s.warehouse(c)
    po, items = _approved(c, [(p["id"], 10, "1.00")], warehouse_id=wh["id"])
    h.ok(s.act(c, "purchase_orders", po["id"], "receive",
               {"lines": [{"purchase_order_item_id": items[0]["id"], "quantity": 8}]}))
    before = h.get(c, "purchase_orders", po["id"])
    e = h.expect_error(s.act(c, "purchase_orders", po["id"], "receive",
                             {"lines": [{"purchase_order_item_id": items[0]["id"], "quantity": 3}]}),
                       422, "over_receipt")
    assert "11" in e["message"] and "10" in e["message"]
    assert h.get(c, "purchase_orders", po["id"]) == before
    assert h.get(c, "purchase_order_items", items[0]["id"])["quantity_received"] == 8
    inv = h.rows_where(c, "inventory", warehouse_id=wh["id"], product_id=p["id"])[0]
    assert inv["quantity_on_hand"] == 8 and len(s.entries(c, inv["id"])) == 1


def test_over_receipt_tolerance_setting(cli, new_tenant):
    t = new_tenant()
    c = t.owner
    _settings(c, over_receipt_tolerance_percent="5")
    p = s.product(c)
    wh = s.warehouse(c)
    po, items = _approved(c, [(p["id"], 40, "1.00")], warehouse_id=wh["id"])
    h.expect_error(s.act(c, "purchase_orders", po["id"], "receive",
                         {"lines": [{"purchase_order_item_id": items[0]["id"], "quantity": 43}]}),
                   422, "over_receipt")
    got = h.ok(s.act(c, "purchase_orders", po["id"], "receive",
                     {"lines": [{"purchase_order_item_id": items[0]["id"], "quantity": 42}]}))
    assert got["status"] == "received"
    assert h.rows_where(c, "inventory", warehouse_id=wh["id"], product_id=p["id"])[0]["quantity_on_hand"] == 42
    out = cli.run("check-ledgers", "--tenant", t.slug)
    assert "0 mismatch(es)" in out.stdout


def test_receive_bad_input(acme_owner, acme_viewer, globex_owner):
    c = acme_owner
    p = s.product(c)
    po, items = _approved(c, [(p["id"], 5, "1.00")])
    other, other_items = _approved(c, [(p["id"], 5, "1.00")], warehouse_id=s.warehouse(c)["id"])
    line = {"purchase_order_item_id": items[0]["id"], "quantity": 1}
    # no warehouse on the order and none given
    h.expect_error(s.act(c, "purchase_orders", po["id"], "receive", {"lines": [line]}),
                   422, "unprocessable", "warehouse_id")
    wh = s.warehouse(c)["id"]
    for bad in ([], "x", [{"purchase_order_item_id": items[0]["id"]}],
                [{"purchase_order_item_id": items[0]["id"], "quantity": 0}],
                [{"purchase_order_item_id": items[0]["id"], "quantity": 1, "extra": 1}]):
        h.expect_error(s.act(c, "purchase_orders", po["id"], "receive", {"warehouse_id": wh, "lines": bad}),
                       400, "validation_failed", "lines")
    h.expect_error(s.act(c, "purchase_orders", po["id"], "receive", {"warehouse_id": wh}),
                   400, "validation_failed", "lines")
    # an item of another order
    h.expect_error(s.act(c, "purchase_orders", po["id"], "receive",
                         {"warehouse_id": wh,
                          "lines": [{"purchase_order_item_id": other_items[0]["id"], "quantity": 1}]}),
                   422, "unprocessable", "lines")
    h.expect_error(s.act(acme_viewer, "purchase_orders", po["id"], "receive", {"warehouse_id": wh, "lines": [line]}),
                   403, "forbidden")
    h.expect_error(s.act(globex_owner, "purchase_orders", po["id"], "receive",
                         {"lines": [line]}), 404, "not_found")
    assert h.get(c, "purchase_order_items", items[0]["id"])["quantity_received"] == 0
    assert h.get(c, "purchase_orders", po["id"])["status"] == "approved"
    assert h.get(c, "purchase_orders", other["id"])["status"] == "approved"


def test_supplier_rates_follow_receipts(acme_owner):
    c = acme_owner
    sup = s.supplier(c)
    assert sup["receipts_count"] == 0 and sup["rating"] is None
    p = s.product(c)
    wh = s.warehouse(c)
    # on time (expected far ahead), half filled
    po, items = _approved(c, [(p["id"], 10, "1.00")], supplier_id=sup["id"], warehouse_id=wh["id"],
                          order_date="2025-01-01", expected_date="2099-12-31")
    h.ok(s.act(c, "purchase_orders", po["id"], "receive",
               {"lines": [{"purchase_order_item_id": items[0]["id"], "quantity": 5}]}))
    now = h.get(c, "suppliers", sup["id"])
    assert (now["receipts_count"], now["on_time_rate"], now["fill_rate"], now["rating"]) == (
        1, "100.00", "50.00", "3.75")
    # late (expected in the past), the order now full: 15 of 20 over both orders
    po2, items2 = _approved(c, [(p["id"], 10, "1.00")], supplier_id=sup["id"], warehouse_id=wh["id"],
                            order_date="2025-01-01", expected_date="2025-01-02")
    h.ok(s.act(c, "purchase_orders", po2["id"], "receive",
               {"lines": [{"purchase_order_item_id": items2[0]["id"], "quantity": 10}]}))
    now = h.get(c, "suppliers", sup["id"])
    assert (now["receipts_count"], now["on_time_receipts"], now["on_time_rate"], now["fill_rate"],
            now["rating"]) == (2, 1, "50.00", "75.00", "3.12")
    hist = h.list_all(c, "analytics_data", {"entity_id": sup["id"]})
    assert sorted((r["metric_name"], r["metric_value"]) for r in hist) == [
        ("fill_rate", "50.0000"), ("fill_rate", "75.0000"), ("on_time_rate", "100.0000"),
        ("on_time_rate", "50.0000"), ("rating", "3.1200"), ("rating", "3.7500")]
    assert {h.as_obj(r["additional_data"])["late"] for r in hist if r["metric_name"] == "rating"} == {True, False}
    h.expect_error(c.patch(f"{API}/suppliers/{sup['id']}", json={"fill_rate": "1.00"}),
                   400, "readonly_field", "fill_rate")
