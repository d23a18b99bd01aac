"""Reorder (issue #13): when a stock entry leaves a row's available units at or
below its reorder_point, one pending reorder_suggestions row is raised
(quantity, reason, confidence from the last 30 days' consumption, preferred
supplier, estimated cost), not again while it is pending; approve makes a
draft purchase order and marks the suggestion ordered; an automation rule of
type reorder replaces the point and quantity, and every run is logged.
Both engines."""
import time

import helpers as h
import stock_helpers as s

API = "/api/v1"


def _suggestions(c, p):
    return h.rows_where(c, "reorder_suggestions", product_id=p["id"])


def test_suggestion_raised_once_and_approved(new_tenant):
    t = new_tenant()
    c = t.owner
    p = s.product(c)
    sup = s.supplier(c)
    s.purchase_order(c, [(p["id"], 1, "4.20")], supplier_id=sup["id"])  # the last price paid
    wh = s.warehouse(c)
    inv = s.inventory(c, on_hand=10, product_id=p["id"], warehouse_id=wh["id"])
    h.ok(c.patch(f"{API}/inventory/{inv['id']}", json={"reorder_point": 5, "reorder_quantity": 50}))
    h.create(c, "inventory_transactions", {"inventory_id": inv["id"], "transaction_type": "sale", "quantity": -4})
    assert _suggestions(c, p) == []
    h.create(c, "inventory_transactions", {"inventory_id": inv["id"], "transaction_type": "sale", "quantity": -1})
    [sg] = _suggestions(c, p)
    assert sg["status"] == "pending" and sg["suggested_quantity"] == 50 and sg["warehouse_id"] == wh["id"]
    assert sg["supplier_id"] == sup["id"] and sg["estimated_cost"] == "210.00"
    assert sg["confidence_score"] == "0.10"  # 5 units used in 30 days of the 50 suggested
    assert "reorder point 5" in sg["reason"]
    # not again while one is pending, also when a reservation lowers availability
    h.ok(s.act(c, "inventory", inv["id"], "reserve", {"quantity": 2}))
    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -1, "reason": "x"}))
    assert len(_suggestions(c, p)) == 1

    done = h.ok(s.act(c, "reorder_suggestions", sg["id"], "approve"))
    assert done["status"] == "ordered" and done["reviewed_by"] == c.user["id"]
    po = h.get(c, "purchase_orders", done["purchase_order_id"])
    assert (po["status"], po["supplier_id"], po["warehouse_id"], po["total_amount"]) == (
        "draft", sup["id"], wh["id"], "210.00")
    [item] = h.rows_where(c, "purchase_order_items", purchase_order_id=po["id"])
    assert (item["product_id"], item["quantity_ordered"], item["unit_price"]) == (p["id"], 50, "4.20")
    h.expect_error(s.act(c, "reorder_suggestions", sg["id"], "approve"), 422, "invalid_transition")
    # with none pending, the next low entry raises a new one
    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -1, "reason": "x"}))
    assert sorted(x["status"] for x in _suggestions(c, p)) == ["ordered", "pending"]


def test_approve_needs_a_supplier_and_permission(acme_owner, acme_viewer):
    c = acme_owner
    p = s.product(c)
    inv = s.inventory(c, on_hand=3, product_id=p["id"])
    h.ok(c.patch(f"{API}/inventory/{inv['id']}", json={"reorder_point": 3}))
    assert _suggestions(c, p) == []  # setting the point is not a stock entry
    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -1, "reason": "x"}))
    [sg] = _suggestions(c, p)
    assert sg["supplier_id"] is None and sg["estimated_cost"] is None and sg["suggested_quantity"] == 4
    h.expect_error(s.act(acme_viewer, "reorder_suggestions", sg["id"], "approve"), 403, "forbidden")
    h.expect_error(s.act(c, "reorder_suggestions", sg["id"], "approve"), 422, "unprocessable", "supplier_id")
    assert h.get(c, "reorder_suggestions", sg["id"])["status"] == "pending"


def _runs(c, rule_id, n):
    """The rule's logs once its count reaches n (its runs are a job's, after the entry)."""
    deadline = time.monotonic() + h.WAIT_S
    while h.get(c, "automation_rules", rule_id)["execution_count"] < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return h.rows_where(c, "automation_logs", rule_id=rule_id)


def test_automation_rule_shapes_reorder_and_logs_runs(new_tenant):
    t = new_tenant()
    c = t.owner
    p = s.product(c)
    inv = s.inventory(c, on_hand=30, product_id=p["id"])
    rule = h.create(c, "automation_rules", {
        "rule_name": "Keep 20", "rule_type": "reorder",
        "trigger_conditions": {"event": "inventory.low", "where": {"product_id": p["id"]}},
        "actions": [{"type": "reorder", "reorder_point": 20, "reorder_quantity": 7}]})
    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -5, "reason": "x"}))
    assert _suggestions(c, p) == []
    # not low yet: the rule's event has not happened, nothing is logged
    assert h.rows_where(c, "automation_logs", rule_id=rule["id"]) == []
    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -5, "reason": "x"}))
    [sg] = _suggestions(c, p)
    assert sg["suggested_quantity"] == 7 and "reorder point 20" in sg["reason"]
    [log] = _runs(c, rule["id"], 1)
    assert log["execution_status"] == "success"
    assert h.as_obj(log["execution_details"])["suggestion_id"] == sg["id"]
    r = h.get(c, "automation_rules", rule["id"])
    assert r["execution_count"] == 1 and r["last_executed"]
    # still low: the rule runs again (its event), the pending suggestion is not repeated
    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -1, "reason": "x"}))
    assert len(_runs(c, rule["id"], 2)) == 2
    assert len(_suggestions(c, p)) == 1 and h.get(c, "automation_rules", rule["id"])["execution_count"] == 2
    # a rule for another product leaves this one alone
    other = s.product(c)
    inv2 = s.inventory(c, on_hand=30, product_id=other["id"])
    h.ok(s.act(c, "inventory", inv2["id"], "adjust", {"quantity": -25, "reason": "x"}))
    assert _suggestions(c, other) == [] and len(h.rows_where(c, "automation_logs", rule_id=rule["id"])) == 2
