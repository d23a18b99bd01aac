"""The NDR workbench (issue #14): a failed-delivery scan opens the shipment's
ndr_records case (reason normalized, priority, due date) or records another
attempt on the open one; assign (ndr.assign), act (an ndr_actions row),
reattempt (sent to the courier's adapter by a job, test_ndr_reattempt.py), rto
(ndr.close) and resolve; the third failed attempt starts RTO (the NDR rules' default, test_ndr_rules.py); the parcel back
at the origin makes the order rto_delivered and restocks its units. Both engines."""
import time

import helpers as h
import stock_helpers as s
from test_commerce_orders import order
from test_commerce_ship import courier
from test_commerce_tracking import run_track, scan, script, shipped

API = "/api/v1"


def case_of(c, sh):
    rows = h.list_all(c, "ndr_records", {"shipment_id": sh["id"]})
    assert len(rows) == 1, rows
    return rows[0]


def rto_soon(c, sh):
    """The shipment's case once the NDR rules' job has sent it back."""
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        case = case_of(c, sh)
        if case["status"] == "rto":
            return case
        time.sleep(0.05)
    raise AssertionError("the third failed attempt did not start RTO")


def ndr_actions(c, case):
    return h.list_all(c, "ndr_actions", {"ndr_id": case["id"], "sort": "performed_at"})


def test_failures_open_a_case_then_rto_on_the_third(server, acme_owner, acme_agent_ids):
    c = acme_owner
    cfg = courier(c)
    o, sh = shipped(c, cfg)
    first = [scan("OFD", "2026-06-01T07:00:00Z"),
             scan("UD", "2026-06-01T18:00:00Z", reason="Customer not available at door")]
    script(c, cfg, first)
    run_track(server, c, {"shipment_id": sh["id"]})
    case = case_of(c, sh)
    assert (case["status"], case["attempt_count"], case["reason_code"]) == ("open", 1, "customer_unavailable")
    # due a working day later in acme's business calendar, when other tests gave it one (test_ndr_due.py)
    assert case["order_id"] == o["id"] and case["due_date"] >= "2026-06-02" and case["priority"] == "medium"
    assert case["customer_name"] == o["customer_name"]

    agent_id = acme_agent_ids[0]
    got = h.ok(s.act(c, "ndr_records", case["id"], "assign", {"user_id": agent_id}))
    assert got["assigned_to"] == agent_id and got["assigned_at"] and got["status"] == "open"
    got = h.ok(s.act(c, "ndr_records", case["id"], "act",
                     {"action_type": "call", "call_status": "connected", "outcome": "reschedule",
                      "outcome_notes": "tomorrow after 10"}))
    assert got["status"] == "in_progress"
    got = h.ok(s.act(c, "ndr_records", case["id"], "reattempt",
                     {"date": "2026-06-02", "new_phone": "9000000001"}))
    assert got["status"] == "reattempt_scheduled"
    acts = ndr_actions(c, case)
    assert [(a["action_type"], a["outcome"]) for a in acts] == [("call", "reschedule"), ("reattempt_request", None)]
    assert acts[1]["reattempt_date"] == "2026-06-02" and acts[1]["performed_by"]

    second = first + [scan("UD", "2026-06-02T18:00:00Z", reason="wrong address")]
    script(c, cfg, second)
    run_track(server, c, {"shipment_id": sh["id"]})
    case = case_of(c, sh)
    assert (case["status"], case["attempt_count"], case["reason_code"]) == ("open", 2, "wrong_address")
    assert h.get(c, "shipments", sh["id"])["status"] == "out_for_delivery"

    script(c, cfg, second + [scan("UD", "2026-06-03T18:00:00Z", reason="refused by buyer")])
    run_track(server, c, {"shipment_id": sh["id"]})
    # the NDR rules run after the scan (the job ndr.rules): with none, RTO
    case = rto_soon(c, sh)
    assert (case["status"], case["attempt_count"], case["resolution"]) == ("rto", 3, "rto")
    assert h.get(c, "shipments", sh["id"])["status"] == "rto_initiated"
    assert h.get(c, "orders", o["id"])["status"] == "rto"
    h.expect_error(s.act(c, "ndr_records", case["id"], "resolve"), 422, "invalid_transition")
    h.expect_error(s.act(c, "ndr_records", case["id"], "act", {"action_type": "sms"}), 422, "invalid_transition")

    # back at the origin: the order is returned and its unit restocked
    [line] = h.list_all(c, "order_items", {"order_id": o["id"]})
    [inv] = h.list_all(c, "inventory", {"product_id": line["product_id"]})
    assert (inv["quantity_on_hand"], inv["quantity_reserved"]) == (4, 0)
    third = second + [scan("UD", "2026-06-03T18:00:00Z", reason="refused by buyer")]
    script(c, cfg, third + [scan("RT-IT", "2026-06-04T09:00:00Z"), scan("RT-DL", "2026-06-06T11:00:00Z")])
    run_track(server, c, {"shipment_id": sh["id"]})
    assert h.get(c, "shipments", sh["id"])["status"] == "rto_delivered"
    assert h.get(c, "orders", o["id"])["status"] == "rto_delivered"
    assert h.get(c, "inventory", inv["id"])["quantity_on_hand"] == 5
    back = [e for e in s.entries(c, inv["id"]) if e["reference_id"] == o["id"] and e["transaction_type"] == "return"]
    assert [e["quantity"] for e in back] == [1]
    assert revenue_rows(c, o["id"]) == []


def revenue_rows(c, oid):
    return h.list_all(c, "revenue_records", {"order_id": oid})


def failed_case(server, c, cfg):
    o, sh = shipped(c, cfg)
    script(c, cfg, [scan("UD", "2026-07-01T18:00:00Z", reason="COD not ready")])
    run_track(server, c, {"shipment_id": sh["id"]})
    return sh, case_of(c, sh)


def test_refusals_and_manual_close(server, acme_owner, acme_viewer, globex_owner):
    c = acme_owner
    cfg = courier(c)
    sh, case = failed_case(server, c, cfg)
    assert case["reason_code"] == "cod_not_ready"
    url = f"{API}/ndr_records/{case['id']}"
    assert c.patch(url, json={"status": "resolved"}).status_code == 400
    h.expect_error(s.act(acme_viewer, "ndr_records", case["id"], "rto"), 403, "forbidden")
    h.expect_error(s.act(acme_viewer, "ndr_records", case["id"], "assign", {"user_id": case["id"]}), 403,
                   "forbidden")
    h.expect_error(s.act(globex_owner, "ndr_records", case["id"], "resolve"), 404, "not_found")
    h.expect_error(s.act(c, "ndr_records", case["id"], "act", {"action_type": "fax"}), 400, "validation_failed")
    h.expect_error(s.act(c, "ndr_records", case["id"], "reattempt", {}), 400, "validation_failed", "date")
    # (a courier refusing the reattempt: test_ndr_reattempt.py)
    done = h.ok(s.act(c, "ndr_records", case["id"], "rto"))
    assert done["status"] == "rto" and done["resolution"] == "rto" and done["resolved_at"]
    assert h.get(c, "shipments", sh["id"])["status"] == "rto_initiated"

    cfg2 = courier(c)
    _, other = failed_case(server, c, cfg2)
    res = h.ok(s.act(c, "ndr_records", other["id"], "resolve", {"resolution": "delivered"}))
    assert res["status"] == "resolved" and res["resolution"] == "delivered"
    h.expect_error(s.act(c, "ndr_records", other["id"], "rto"), 422, "invalid_transition")
