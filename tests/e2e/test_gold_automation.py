"""Gold shop (issue #16): automation rules have one documented shape,
trigger_conditions {event, where} and actions [{type: reorder|notify, ...}],
checked on write (400 naming the part); a low-stock entry is the event
inventory.low: every active rule whose where holds runs, in the job
automation.run queued by the entry with the row captured (a reorder action
shapes the suggestion, a notify action queues a message from a template),
each run logged in automation_logs and counted on the rule, audited; a rule
that is not active never runs. A paid invoice (invoice.paid) and the daily
birthday sweep (customer.birthday) run their rules in the job automation.run
(notify the customer, raise a follow-up call). Both engines."""
import datetime
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import helpers as h
import stock_helpers as s
from test_webhooks import SECRET, Endpoint, verify

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
    ({"event": "inventory.low"}, [{"type": "reorder"}, {"type": "transfer"}], "[1].type"),
    ({"event": "inventory.low"}, [{"type": "set_field", "field": "notes", "value": "x"}], "[0].field"),
    ({"event": "inventory.low"}, [{"type": "set_field", "field": "quantity_on_hand", "value": 9}], "[0].field"),
    ({"event": "invoice.paid"}, [{"type": "set_field", "field": "nope", "value": 1}], "[0].field"),
    ({"event": "invoice.paid"}, [{"type": "set_field", "field": "subtotal", "value": "1.00"}], "[0].field"),
    ({"event": "invoice.paid"}, [{"type": "set_field", "field": "notes"}], "[0].value"),
    ({"event": "invoice.paid"}, [{"type": "set_field", "field": "notes", "value": "x", "at": 1}], "[0].at"),
    ({"event": "invoice.paid"}, [{"type": "webhook"}], "[0].subscription_id"),
    ({"event": "invoice.paid"}, [{"type": "webhook", "subscription_id": h.MISSING_ID}], "[0].subscription_id"),
    ({"event": "invoice.paid"}, [{"type": "webhook", "subscription_id": h.MISSING_ID, "url": "x"}], "[0].url"),
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
    before = {j["id"] for j in h.list_all(c, "jobs", {"kind": "automation.run"})}
    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -1, "reason": "x"}))  # 4 left: low
    # the rules run in a job queued by the entry, on the row as the entry left it
    [job] = _job_done(c, "automation.run", before)
    pl = h.as_obj(job["payload"])
    assert (pl["event"], pl["id"], pl["row"]["quantity_on_hand"]) == ("inventory.low", inv["id"], 4)
    assert h.as_obj(job["result"]) == {"ran": 3}
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


def _job_done(c, kind, before, pred=lambda j: True):
    """The first job of kind not in before that pred accepts, once finished."""
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        new = [j for j in h.list_all(c, "jobs", {"kind": kind}) if j["id"] not in before and pred(j)]
        if new and all(j["status"] in ("done", "dead") for j in new):
            return new
        time.sleep(0.1)
    raise AssertionError(f"no {kind} job finished")


def test_a_paid_invoice_runs_its_rules_in_a_job(new_tenant):
    t = new_tenant()
    c = t.owner
    h.ok(c.post(f"{API}/notification_templates", json={
        "name": "Thanks", "code": "sale.thanks", "type": "email", "subject": "Thank you for {{invoice_number}}",
        "body": "We received {{total_amount}}.", "variables": ["invoice_number", "total_amount"]}), 201)
    rule = h.ok(_rule(c, {"event": "invoice.paid"}, [
        {"type": "notify", "template": "sale.thanks", "to": "customer"},
        {"type": "follow_up", "days": 7, "subject": "How is the necklace?"}], rule_type="communication"), 201)
    h.ok(_rule(c, {"event": "invoice.paid", "where": {"currency": "USD"}},
               [{"type": "follow_up", "subject": "never"}]), 201)
    cust = h.create_customer(c, email=f"buyer@{t.slug}.test")
    inv = h.create(c, "invoices", {"customer_id": cust["id"], "currency": "INR"})
    h.create(c, "invoice_items", {"invoice_id": inv["id"], "description": "ring", "unit_price": "500.00"})
    inv = h.ok(c.post(f"{API}/invoices/{inv['id']}/issue", json={}))
    before = {j["id"] for j in h.list_all(c, "jobs", {"kind": "automation.run"})}
    h.ok(c.post(f"{API}/payments", json={"customer_id": cust["id"], "invoice_id": inv["id"], "amount": "200.00",
                                         "currency": "INR", "payment_status": "completed"}), 201)
    assert [j for j in h.list_all(c, "jobs", {"kind": "automation.run"}) if j["id"] not in before] == []  # not paid yet
    h.ok(c.post(f"{API}/payments", json={"customer_id": cust["id"], "invoice_id": inv["id"], "amount": "300.00",
                                         "currency": "INR", "payment_status": "completed"}), 201)
    [job] = _job_done(c, "automation.run", before)
    assert job["status"] == "done" and h.as_obj(job["payload"]) == {"event": "invoice.paid", "id": inv["id"]}
    assert h.as_obj(job["result"]) == {"ran": 1}
    inv = h.get(c, "invoices", inv["id"])
    [msg] = h.rows_where(c, "notification_logs", reference_id=inv["id"])
    assert msg["subject"] == f"Thank you for {inv['invoice_number']}" and msg["body"] == "We received 500.00."
    [fu] = h.rows_where(c, "customer_communication_history", customer_id=cust["id"])
    assert (fu["subject"], fu["follow_up_required"], fu["status"], fu["created_by"]) == (
        "How is the necklace?", True, "scheduled", c.user["id"])
    [log] = h.rows_where(c, "automation_logs", rule_id=rule["id"])
    assert log["execution_status"] == "success"
    assert h.get(c, "automation_rules", rule["id"])["execution_count"] == 1


def test_birthdays_run_daily_in_a_job(server, new_tenant):
    t = new_tenant()
    c = t.owner
    (sched,) = [x for x in h.list_all(c, "schedules", {"kind": "automation.run"})]
    assert h.as_obj(sched["payload"]) == {"event": "customer.birthday"} and sched["enabled"]
    h.ok(c.post(f"{API}/notification_templates", json={
        "name": "Birthday", "code": "birthday", "type": "email", "subject": "Happy birthday {{company_name}}",
        "body": "From the shop", "variables": ["company_name"]}), 201)
    rule = h.ok(_rule(c, {"event": "customer.birthday"}, [{"type": "notify", "template": "birthday",
                                                           "to": "customer"}]), 201)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else datetime.date(1992, 2, 29)
    other = (today + datetime.timedelta(days=1)).replace(year=1991)
    yes = h.create_customer(c, company_name="Asha", email=f"asha@{t.slug}.test", date_of_birth=born.isoformat())
    h.create_customer(c, company_name="Ravi", email=f"ravi@{t.slug}.test", date_of_birth=other.isoformat())
    h.create_customer(c, company_name="Nobody")
    before = {j["id"] for j in h.list_all(c, "jobs", {"kind": "automation.run"})}
    args = ["job", "enqueue", "--tenant", t.slug, "--kind", "automation.run", "--max-attempts", "1",
            "--payload", json.dumps({"event": "customer.birthday"})]
    if server.db_url:
        args += ["--db", server.db_url]
    server.cli.run(*args)
    [job] = _job_done(c, "automation.run", before)
    assert job["status"] == "done" and h.as_obj(job["result"]) == {"ran": 1}
    [log] = h.rows_where(c, "automation_logs", rule_id=rule["id"])
    assert h.as_obj(log["execution_details"])["id"] == yes["id"]
    [msg] = h.rows_where(c, "notification_logs", reference_id=yes["id"])
    assert msg["subject"] == "Happy birthday Asha"
    assert h.rows_where(c, "notification_logs", subject="Happy birthday Ravi") == []


def test_set_field_and_webhook_actions(server, new_tenant):
    """set_field writes the event row as a client's PATCH would (a value the
    engine refuses fails that action alone: a partial run); webhook queues one
    signed POST of the event, the rule and the row to a subscription."""
    t = new_tenant()
    c = t.owner
    args = ["tenant", "set", t.slug, "--webhooks-allow-private", "yes"]
    if server.db_url:
        args += ["--db", server.db_url]
    server.cli.run(*args)
    ep = Endpoint()
    try:
        sub = h.ok(c.post(f"{API}/webhook_subscriptions", json={"url": ep.url, "events": ["customers.created"],
                                                                "secret": SECRET}), 201)
        rule = h.ok(_rule(c, {"event": "customer.birthday"}, [
            {"type": "set_field", "field": "notes", "value": "birthday greeted"},
            {"type": "set_field", "field": "customer_tier", "value": "diamond"},
            {"type": "webhook", "subscription_id": sub["id"]}]), 201)
        today = datetime.datetime.now(datetime.timezone.utc).date()
        born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else datetime.date(1992, 2, 29)
        yes = h.create_customer(c, company_name="Asha", date_of_birth=born.isoformat())
        before = {j["id"] for j in h.list_all(c, "jobs", {"kind": "automation.run"})}
        args = ["job", "enqueue", "--tenant", t.slug, "--kind", "automation.run", "--max-attempts", "1",
                "--payload", json.dumps({"event": "customer.birthday"})]
        if server.db_url:
            args += ["--db", server.db_url]
        server.cli.run(*args)
        [job] = _job_done(c, "automation.run", before)
        assert job["status"] == "done" and h.as_obj(job["result"]) == {"ran": 1}
        [log] = h.rows_where(c, "automation_logs", rule_id=rule["id"])
        assert log["execution_status"] == "partial" and log["error_message"].startswith("actions[1]:")
        acts = h.as_obj(log["execution_details"])["actions"]
        assert [a["type"] for a in acts] == ["set_field", "set_field", "webhook"]
        assert ["error" in a for a in acts] == [False, True, False]
        got = h.get(c, "customers", yes["id"])
        assert (got["notes"], got["customer_tier"]) == ("birthday greeted", "standard")
        assert "update" in [a["action"] for a in h.audit_rows(c, entity_type="customers", entity_id=yes["id"])]

        def delivered():
            return [r for r in ep.requests() if r["headers"].get("Opsbase-Event") == "automation.rule"]
        deadline = time.monotonic() + h.WAIT_S
        while not delivered() and time.monotonic() < deadline:
            time.sleep(0.1)
        [req] = delivered()
        body = verify(req)
        assert body["event"] == "customer.birthday"
        assert body["rule"] == {"id": rule["id"], "rule_name": rule["rule_name"]}
        assert body["data"]["id"] == yes["id"] and body["data"]["notes"] == "birthday greeted"
    finally:
        ep.close()


def test_low_stock_rules_run_after_the_entry_and_may_set_fields(new_tenant):
    """inventory.low's rules run in a job after the stock entry commits: a
    set_field action writes the inventory row then (its reorder columns; the
    stock columns stay the ledger's), a refused value fails that action
    alone, and no rule's failure undoes the entry. Two entries racing for the
    last unit: one wins, and the rules run once, for it."""
    t = new_tenant()
    c = t.owner
    p = s.product(c)
    inv = s.inventory(c, on_hand=3, product_id=p["id"])
    h.ok(c.patch(f"{API}/inventory/{inv['id']}", json={"reorder_point": 1}))
    rule = h.ok(_rule(c, {"event": "inventory.low", "where": {"product_id": p["id"]}}, [
        {"type": "set_field", "field": "reorder_quantity", "value": 25},
        {"type": "set_field", "field": "reorder_point", "value": -4}]), 201)
    before = {j["id"] for j in h.list_all(c, "jobs", {"kind": "automation.run"})}
    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -2, "reason": "sold"}))  # 1 left: low
    [job] = _job_done(c, "automation.run", before)
    assert job["status"] == "done" and h.as_obj(job["result"]) == {"ran": 1}
    assert h.as_obj(job["payload"])["row"]["quantity_on_hand"] == 1
    [log] = h.rows_where(c, "automation_logs", rule_id=rule["id"])
    assert log["execution_status"] == "partial" and "actions[1]" in log["error_message"]
    got = h.get(c, "inventory", inv["id"])
    assert (got["reorder_quantity"], got["reorder_point"], got["quantity_on_hand"]) == (25, 1, 1)
    # the last unit, raced: one entry wins, the other is refused with nothing written
    seen = {j["id"] for j in h.list_all(c, "jobs", {"kind": "automation.run"})}
    with ThreadPoolExecutor(2) as pool:
        rs = list(pool.map(lambda _: s.act(c, "inventory", inv["id"], "adjust", {"quantity": -1, "reason": "race"}),
                           range(2)))
    assert sorted(r.status_code for r in rs) == [200, 409], [r.text for r in rs]
    [job] = _job_done(c, "automation.run", seen)
    assert h.as_obj(job["payload"])["row"]["quantity_on_hand"] == 0
    assert h.get(c, "inventory", inv["id"])["quantity_on_hand"] == 0
    assert h.get(c, "automation_rules", rule["id"])["execution_count"] == 2


def test_a_birthday_sweep_run_twice_the_same_day_greets_once(server, new_tenant):
    """Each greeting's log keeps its key (customer.birthday:<customer>:<date>):
    a second sweep of the day, or two at once, runs no rule again."""
    t = new_tenant()
    c = t.owner
    h.ok(c.post(f"{API}/notification_templates", json={
        "name": "Birthday", "code": "birthday", "type": "email", "subject": "Happy birthday {{company_name}}",
        "body": "From the shop", "variables": ["company_name"]}), 201)
    rule = h.ok(_rule(c, {"event": "customer.birthday"}, [{"type": "notify", "template": "birthday",
                                                           "to": "customer"}]), 201)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else datetime.date(1992, 2, 29)
    asha = h.create_customer(c, company_name="Asha", email=f"asha@{t.slug}.test", date_of_birth=born.isoformat())

    def sweep(n=1):
        before = {j["id"] for j in h.list_all(c, "jobs", {"kind": "automation.run"})}
        args = ["job", "enqueue", "--tenant", t.slug, "--kind", "automation.run", "--max-attempts", "1",
                "--payload", json.dumps({"event": "customer.birthday"})]
        if server.db_url:
            args += ["--db", server.db_url]
        for _ in range(n):
            server.cli.run(*args)
        deadline = time.monotonic() + h.WAIT_S
        while time.monotonic() < deadline:
            new = [j for j in h.list_all(c, "jobs", {"kind": "automation.run"}) if j["id"] not in before]
            if len(new) == n and all(j["status"] in ("done", "dead") for j in new):
                return sorted(h.as_obj(j["result"])["ran"] for j in new)
            time.sleep(0.1)
        raise AssertionError("the sweeps did not finish")

    assert sweep() == [1]
    assert sweep(2) == [0, 0]  # the same day again, twice: nobody greeted twice
    [log] = h.rows_where(c, "automation_logs", rule_id=rule["id"])
    assert log["run_key"] == f"customer.birthday:{asha['id']}:{today.isoformat()}"
    assert len(h.rows_where(c, "notification_logs", reference_id=asha["id"])) == 1
    assert h.get(c, "automation_rules", rule["id"])["execution_count"] == 1
    # the key is the server's: a log cannot be written by a client
    r = c.post(f"{API}/automation_logs", json={"rule_id": rule["id"], "execution_status": "success",
                                               "run_key": "x"})
    assert r.status_code in (403, 405)


def test_rules_of_the_old_shape_are_migrated(server, cli, new_tenant):
    """A reorder rule saved before the one format (flat trigger_conditions,
    actions an object) is rewritten in it by `opsbase migrate`, and runs as
    such; one in the format is left alone, and a second migrate changes
    nothing."""
    t = new_tenant()
    c = t.owner
    p = s.product(c)
    inv = s.inventory(c, on_hand=30, product_id=p["id"])
    old = h.ok(_rule(c, {"event": "inventory.low"}, [{"type": "reorder"}], rule_type="reorder"), 201)
    new = h.ok(_rule(c, {"event": "inventory.low", "where": {"product_id": "none"}},
                     [{"type": "reorder", "reorder_quantity": 3}], rule_type="reorder"), 201)
    h.tenant_sql(server, t.slug, "UPDATE automation_rules SET trigger_conditions = "
                                 f"'{{\"product_id\": \"{p['id']}\", \"note\": \"x\"}}', actions = "
                                 "'{\"reorder_point\": 20, \"reorder_quantity\": 7}' "
                                 f"WHERE id = '{old['id']}'")
    assert h.get(c, "automation_rules", old["id"])["actions"] == {"reorder_point": 20, "reorder_quantity": 7}
    cli.run("migrate")
    got = h.get(c, "automation_rules", old["id"])
    assert got["trigger_conditions"] == {"event": "inventory.low", "where": {"product_id": p["id"]}}
    assert got["actions"] == [{"type": "reorder", "reorder_point": 20, "reorder_quantity": 7}]
    assert got["version"] == old["version"] + 1
    assert h.get(c, "automation_rules", new["id"]) == new
    cli.run("migrate")
    assert h.get(c, "automation_rules", old["id"]) == got
    # it runs as a rule of the format: the stock entry's suggestion takes its point and quantity
    before = {j["id"] for j in h.list_all(c, "jobs", {"kind": "automation.run"})}
    h.ok(s.act(c, "inventory", inv["id"], "adjust", {"quantity": -10, "reason": "x"}))  # 20 left: at the point
    [sg] = h.rows_where(c, "reorder_suggestions", product_id=p["id"])
    assert sg["suggested_quantity"] == 7
    _job_done(c, "automation.run", before)
    [log] = h.rows_where(c, "automation_logs", rule_id=old["id"])
    assert log["execution_status"] == "success"
    # and a PATCH of it is held to the format like any other
    h.expect_error(c.patch(f"{API}/automation_rules/{old['id']}", json={"actions": {"reorder_point": 1}}),
                   400, "validation_failed", "actions")
