"""NDR rules (issue #14): ordered ndr_rules (reason x payment mode x attempt
range -> reattempt next day, notify, escalate, rto, hold) run by the job
ndr.rules on each failed attempt, queued in the scan's transaction; every run
is logged in ndr_rule_runs (which rule matched, what it did); with no rule
matching, the third failed attempt starts RTO. A fresh tenant per module, so
its rules touch no other test's cases. Both engines."""
import datetime
import json
import time

import pytest

import helpers as h
import stock_helpers as s
from test_commerce_orders import order
from test_commerce_ship import courier
from test_commerce_tracking import scan, script
from test_courier_webhooks import done, post, webhook
from test_ndr_reattempt import settled

API = "/api/v1"


@pytest.fixture(scope="module")
def t(new_tenant, cli, login):
    ten = new_tenant()
    cli.user_create(ten.slug, f"viewer@{ten.slug}.test", "viewer")
    ten.viewer = login(ten.slug, f"viewer@{ten.slug}.test")
    return ten


def track(server, c, slug, sh):
    """Run couriers.track for one shipment in tenant slug and wait for it."""
    def mine():
        return {j["id"]: j for j in c.get(f"{API}/jobs", params={"kind": "couriers.track", "limit": 200}).json()["data"]}
    before = set(mine())
    args = ["job", "enqueue", "--tenant", slug, "--kind", "couriers.track", "--payload",
            json.dumps({"shipment_id": sh["id"]})]
    if server.db_url:
        args += ["--db", server.db_url]
    server.cli.run(*args)
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        new = [j for i, j in mine().items() if i not in before]
        if new and new[0]["status"] == "done":
            return
        assert not new or new[0]["status"] != "dead", new
        time.sleep(0.05)
    raise AssertionError("the tracking job did not finish")


def runs(c, case_id, n):
    """The case's rule runs once there are n of them (the job runs after the scan)."""
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        got = h.list_all(c, "ndr_rule_runs", {"ndr_id": case_id, "sort": "ran_at"})
        if len(got) >= n:
            assert len(got) == n, got
            return got
        time.sleep(0.05)
    raise AssertionError(f"no {n} rule runs for case {case_id}")


def shipped(c, cfg, cod=False):
    inv = s.inventory(c, on_hand=5)
    o = order(c, [(inv["product_id"], 1, "T-1")])
    if cod:
        h.ok(c.patch(f"{API}/orders/{o['id']}", json={"payment_method": "cod"}))
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    h.ok(s.act(c, "orders", o["id"], "ship", {"courier_config_id": cfg["id"]}))
    [sh] = h.list_all(c, "shipments", {"order_id": o["id"]})
    return o, sh


def fail(server, c, slug, cfg, sh, scans):
    script(c, cfg, scans)
    track(server, c, slug, sh)
    [case] = h.list_all(c, "ndr_records", {"shipment_id": sh["id"]})
    return case


def rule(c, **f):
    return h.create(c, "ndr_rules", {"name": "Rule " + h.uniq(), **f})


def test_rules_in_order_each_run_logged(server, t):
    c = t.owner
    cfg = courier(c)
    off = rule(c, position=1, action="rto", is_active=False)
    cod_refused = rule(c, position=10, reason_code="refused", payment_mode="cod", action="rto")
    first_away = rule(c, position=20, reason_code="CUSTOMER_UNAVAILABLE", min_attempt=1, max_attempt=1,
                      action="escalate")
    third = rule(c, position=30, min_attempt=3, action="hold")
    assert first_away["reason_code"] == "customer_unavailable" and first_away["created_by"] == c.user["id"]
    assert off["is_active"] is False
    listed = [r["id"] for r in h.list_all(c, "ndr_rules")]
    assert listed == [off["id"], cod_refused["id"], first_away["id"], third["id"]]

    # a prepaid order: escalated at the first attempt, nothing at the second,
    # held (not RTO) at the third
    o, sh = shipped(c, cfg)
    scans = [scan("UD", "2026-08-01T18:00:00Z", reason="Customer not available")]
    case = fail(server, c, t.slug, cfg, sh, scans)
    [r1] = runs(c, case["id"], 1)
    assert (r1["attempt"], r1["rule_id"], r1["rule_name"], r1["action"], r1["outcome"]) == (
        1, first_away["id"], first_away["name"], "escalate", "done")
    assert h.get(c, "ndr_records", case["id"])["priority"] == "urgent"
    scans.append(scan("UD", "2026-08-02T18:00:00Z", reason="wrong address"))
    fail(server, c, t.slug, cfg, sh, scans)
    r2 = runs(c, case["id"], 2)[1]
    assert (r2["attempt"], r2["rule_id"], r2["rule_name"], r2["action"], r2["outcome"]) == (
        2, None, "default", "none", "done")
    scans.append(scan("UD", "2026-08-03T18:00:00Z", reason="refused"))
    fail(server, c, t.slug, cfg, sh, scans)
    r3 = runs(c, case["id"], 3)[2]
    assert (r3["attempt"], r3["rule_id"], r3["action"], r3["outcome"]) == (3, third["id"], "hold", "done")
    now = h.get(c, "ndr_records", case["id"])
    assert (now["status"], now["attempt_count"], now["reason_code"]) == ("open", 3, "refused")
    assert h.get(c, "shipments", sh["id"])["status"] != "rto_initiated"

    # a cash-on-delivery order refused at the first attempt goes back at once
    o2, sh2 = shipped(c, cfg, cod=True)
    case2 = fail(server, c, t.slug, cfg, sh2, [scan("UD", "2026-08-04T18:00:00Z", reason="refused by buyer")])
    [r] = runs(c, case2["id"], 1)
    assert (r["rule_id"], r["action"], r["outcome"]) == (cod_refused["id"], "rto", "done")
    back = h.get(c, "ndr_records", case2["id"])
    assert (back["status"], back["resolution"]) == ("rto", "rto")
    assert h.get(c, "shipments", sh2["id"])["status"] == "rto_initiated"
    assert "rto" in [a["action"] for a in h.audit_rows(c, entity_type="ndr_records", entity_id=case2["id"])]

    # the third attempt with no rule matching starts RTO by default
    h.ok(c.patch(f"{API}/ndr_rules/{third['id']}", json={"is_active": False}))
    o3, sh3 = shipped(c, cfg)
    scans3 = []
    for day in (5, 6, 7):
        scans3.append(scan("UD", f"2026-08-0{day}T18:00:00Z", reason="Door locked"))
        case3 = fail(server, c, t.slug, cfg, sh3, list(scans3))
    got = runs(c, case3["id"], 3)
    assert [(x["attempt"], x["action"], x["rule_name"]) for x in got] == [
        (1, "none", "default"), (2, "none", "default"), (3, "rto", "default")]
    assert "third" in got[2]["detail"]
    assert h.get(c, "ndr_records", case3["id"])["status"] == "rto"
    assert h.get(c, "shipments", sh3["id"])["status"] == "rto_initiated"
    for r_ in (cod_refused, first_away):
        h.ok(c.patch(f"{API}/ndr_rules/{r_['id']}", json={"is_active": False}))


def test_reattempt_next_day_through_the_courier(server, t):
    c = t.owner
    cfg = courier(c)
    rr = rule(c, position=5, reason_code="cod_not_ready", action="reattempt_next_day")
    try:
        o, sh = shipped(c, cfg, cod=True)
        case = fail(server, c, t.slug, cfg, sh, [scan("UD", "2026-09-01T18:00:00Z", reason="COD not ready")])
        [r] = runs(c, case["id"], 1)
        tomorrow = (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)).isoformat()
        assert (r["rule_id"], r["action"], r["outcome"]) == (rr["id"], "reattempt_next_day", "done")
        assert tomorrow in r["detail"]
        assert h.get(c, "ndr_records", case["id"])["status"] == "reattempt_scheduled"
        [a] = settled(c, case)
        assert (a["action_type"], a["reattempt_date"], a["performed_by"], a["request_status"]) == (
            "reattempt_request", tomorrow, c.user["id"], "sent")

        # the courier refuses (its settings' "fail"; the scan comes by its
        # webhook): the rule asked, and the request fails after its tries
        o2, sh2 = shipped(c, cfg, cod=True)
        hook = webhook(c, cfg)
        h.ok(c.patch(f"{API}/courier_configs/{cfg['id']}", json={"settings": {"fail": "closed today"}}))
        done(c, post(server, hook, {"awb": sh2["awb_number"],
                                    **scan("UD", "2026-09-02T18:00:00Z", reason="COD not ready")}))
        [case2] = h.list_all(c, "ndr_records", {"shipment_id": sh2["id"]})
        [r] = runs(c, case2["id"], 1)
        assert (r["action"], r["outcome"]) == ("reattempt_next_day", "done")
        [req] = settled(c, case2)
        assert (req["request_status"], req["request_attempts"]) == ("failed", 3) and "closed today" in req["request_error"]
    finally:
        h.ok(c.patch(f"{API}/ndr_rules/{rr['id']}", json={"is_active": False}))


def test_rule_declaration_refusals(t, globex_owner):
    c = t.owner
    r = rule(c, position=50, action="notify", is_active=False)
    h.expect_error(c.post(f"{API}/ndr_rules", json={"name": "x", "position": 1, "action": "shout"}), 400,
                   "validation_failed", "action")
    h.expect_error(c.post(f"{API}/ndr_rules", json={"name": "x", "action": "rto"}), 400, "validation_failed",
                   "position")
    h.expect_error(c.post(f"{API}/ndr_rules", json={"name": "x", "position": 1, "action": "rto", "min_attempt": 3,
                                                    "max_attempt": 2}), 400, "validation_failed")
    h.expect_error(c.post(f"{API}/ndr_rules", json={"name": "x", "position": 1, "action": "rto",
                                                    "created_by": c.user["id"]}), 400, "readonly_field")
    h.expect_error(t.viewer.post(f"{API}/ndr_rules", json={"name": "x", "position": 1, "action": "rto"}), 403,
                   "forbidden")
    h.expect_error(t.viewer.patch(f"{API}/ndr_rules/{r['id']}", json={"is_active": True}), 403, "forbidden")
    assert h.get(t.viewer, "ndr_rules", r["id"])["is_active"] is False
    h.expect_error(globex_owner.get(f"{API}/ndr_rules/{r['id']}"), 404, "not_found")
    h.expect_error(globex_owner.patch(f"{API}/ndr_rules/{r['id']}", json={"is_active": True}), 404, "not_found")
    # the log is the server's
    assert c.post(f"{API}/ndr_rule_runs", json={}).status_code in (403, 405)
    assert len(h.list_all(c, "ndr_rules")) == len(h.list_all(t.viewer, "ndr_rules"))
