"""Gold shop (issue #16): automation rules have one documented shape,
trigger_conditions {event, where} and actions [{type: reorder|notify, ...}],
checked on write (400 naming the part); a low-stock entry is the event
inventory.low: every active rule whose where holds runs (a reorder action
shapes the suggestion, a notify action queues a message from a template),
each run logged in automation_logs and counted on the rule, audited; a rule
that is not active never runs. Both engines."""
import pytest

import helpers as h
import stock_helpers as s

API = "/api/v1"


def _rule(c, trigger, actions, status=201, **fields):
    return c.post(f"{API}/automation_rules", json={"rule_name": h.uniq("Rule "), "rule_type": "alert",
                                                   "trigger_conditions": trigger, "actions": actions, **fields})


@pytest.mark.parametrize("trigger,actions,part", [
    ("low", [{"type": "reorder"}], "must be an object"),
    ({"event": "stock_below"}, [{"type": "reorder"}], "event"),
    ({"stock_below": 5}, [{"type": "reorder"}], "stock_below"),
    ({"event": "inventory.low", "where": {"nope": 1}}, [{"type": "reorder"}], "where.nope"),
    ({"event": "inventory.low", "where": {"product_id": [1]}}, [{"type": "reorder"}], "where.product_id"),
    ({"event": "inventory.low", "where": [1]}, [{"type": "reorder"}], "where"),
    ({"event": "inventory.low"}, [], "1 to 10 actions"),
    ({"event": "inventory.low"}, {"type": "reorder"}, "1 to 10 actions"),
    ({"event": "inventory.low"}, [{"do": "suggest_reorder"}], "[0].type"),
    ({"event": "inventory.low"}, [{"type": "reorder"}, {"type": "webhook"}], "[1].type"),
    ({"event": "inventory.low"}, [{"type": "reorder", "reorder_quantity": 0}], "[0].reorder_quantity"),
    ({"event": "inventory.low"}, [{"type": "reorder", "reorder_point": "5"}], "[0].reorder_point"),
    ({"event": "inventory.low"}, [{"type": "notify", "to": "a@b.test"}], "[0].template"),
    ({"event": "inventory.low"}, [{"type": "notify", "template": "x"}], "[0].to"),
    ({"event": "inventory.low"}, [{"type": "notify", "template": "x", "to": "a@b.test", "cc": "c"}], "[0].cc"),
])
def test_the_shape_is_checked_on_write(acme_owner, trigger, actions, part):
    c = acme_owner
    before = h.list_all(c, "automation_rules")
    e = h.expect_error(_rule(c, trigger, actions), 400, "validation_failed")
    fields = e.get("fields") or {}
    named = "trigger_conditions" if part in str(fields.get("trigger_conditions", "")) else "actions"
    assert part in fields[named], e
    assert h.list_all(c, "automation_rules") == before  # nothing written


def test_a_change_is_checked_too(acme_owner):
    c = acme_owner
    r = h.ok(_rule(c, {"event": "inventory.low"}, [{"type": "reorder"}]), 201)
    h.expect_error(c.patch(f"{API}/automation_rules/{r['id']}", json={"actions": [{"type": "set_field"}]}),
                   400, "validation_failed", "actions")
    assert h.get(c, "automation_rules", r["id"])["actions"] == [{"type": "reorder"}]
    h.ok(c.patch(f"{API}/automation_rules/{r['id']}", json={"is_active": False}))


def test_low_stock_runs_the_matching_rules(new_tenant):
    t = new_tenant()
    c = t.owner
    h.ok(c.post(f"{API}/notification_templates", json={
        "name": "Low stock", "code": "stock.low", "type": "email", "subject": "Low: {{quantity_on_hand}} left",
        "body": "Reorder {{product_id}}", "variables": ["quantity_on_hand", "product_id"]}), 201)
    p = s.product(c)
    wh, other_wh = s.warehouse(c), s.warehouse(c)
    inv = s.inventory(c, on_hand=10, product_id=p["id"], warehouse_id=wh["id"])
    h.ok(c.patch(f"{API}/inventory/{inv['id']}", json={"reorder_point": 4}))
    low = {"event": "inventory.low", "where": {"warehouse_id": wh["id"]}}
    tell = h.ok(_rule(c, low, [{"type": "notify", "template": "stock.low", "to": "buyer@shop.test"}]), 201)
    shape = h.ok(_rule(c, low, [{"type": "reorder", "reorder_quantity": 12}]), 201)
    elsewhere = h.ok(_rule(c, {"event": "inventory.low", "where": {"warehouse_id": other_wh["id"]}},
                           [{"type": "reorder", "reorder_quantity": 99}]), 201)
    off = h.ok(_rule(c, low, [{"type": "reorder", "reorder_quantity": 55}], is_active=False), 201)
    broken = h.ok(_rule(c, low, [{"type": "notify", "template": "no.such", "to": "x@shop.test"},
                                 {"type": "notify", "template": "stock.low", "to": "y@shop.test"}]), 201)

    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -5, "reason": "x"}))  # 5 left: not low
    assert h.rows_where(c, "automation_logs") == []
    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -1, "reason": "x"}))  # 4 left: low
    [sg] = h.rows_where(c, "reorder_suggestions", product_id=p["id"])
    assert sg["suggested_quantity"] == 12  # the newest active matching rule with a reorder action
    [msg] = h.rows_where(c, "notification_logs", recipient="buyer@shop.test")
    assert (msg["subject"], msg["body"], msg["reference_id"]) == ("Low: 4 left", f"Reorder {p['id']}", inv["id"])
    logs = {x["rule_id"]: x for x in h.rows_where(c, "automation_logs")}
    assert sorted(logs) == sorted([tell["id"], shape["id"], broken["id"]])
    assert logs[tell["id"]]["execution_status"] == "success"
    assert logs[shape["id"]]["execution_status"] == "success"
    d = h.as_obj(logs[shape["id"]]["execution_details"])
    assert (d["inventory_id"], d["available"], d["reorder_point"], d["suggestion_id"]) == (inv["id"], 4, 4, sg["id"])
    assert logs[broken["id"]]["execution_status"] == "partial" and "no.such" in logs[broken["id"]]["error_message"]
    assert len(h.rows_where(c, "notification_logs", recipient="y@shop.test")) == 1
    for r in (elsewhere, off):
        assert h.get(c, "automation_rules", r["id"])["execution_count"] == 0
    got = h.get(c, "automation_rules", tell["id"])
    assert got["execution_count"] == 1 and got["last_executed"] == logs[tell["id"]]["executed_at"]
    # the count moves by the server, audited
    audit = h.audit_rows(c, entity_type="automation_rules", entity_id=tell["id"])
    assert "execute" in [a["action"] for a in audit], audit


def test_a_rule_needs_the_automation_permission(acme_viewer):
    h.expect_error(_rule(acme_viewer, {"event": "inventory.low"}, [{"type": "reorder"}]), 403, "forbidden")
