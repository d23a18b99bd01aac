"""NDR messages to the buyer (issue #14): every tenant is given the SMS
templates ndr_opened, ndr_reattempt_scheduled and ndr_follow_up; a case that
opens sends ndr_opened to the buyer's phone, a reattempt the courier has taken
sends ndr_reattempt_scheduled with the date, a rule's notify sends
ndr_follow_up; all through the notification outbox (notification_logs and the
job notify.send). No phone, or a template the tenant switched off, sends
nothing and stops nothing. A fresh tenant per module. Both engines."""
import time

import pytest

import helpers as h
import stock_helpers as s
from test_commerce_ship import courier
from test_ndr_reattempt import settled
from test_ndr_rules import fail, rule, runs, shipped

API = "/api/v1"
PHONE = "+919800000042"


@pytest.fixture(scope="module")
def t(new_tenant):
    return new_tenant()


def messages(c, case_id, n=None):
    """The case's messages, once there are n (when given) and none is pending."""
    deadline = time.monotonic() + h.WAIT_S
    while True:
        got = h.list_all(c, "notification_logs", {"reference_id": case_id, "sort": "created_at"})
        if (n is None or len(got) >= n) and all(m["status"] != "pending" for m in got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"messages of {case_id}: {got}")
        time.sleep(0.05)


def with_phone(c, cfg, phone=PHONE):
    o, sh = shipped(c, cfg)
    if phone:
        # the buyer's phone as the channel gave it (the case copies it when it opens)
        h.ok(c.patch(f"{API}/orders/{o['id']}", json={"customer_phone": phone}))
    return o, sh


def test_templates_are_seeded(t):
    rows = {r["code"]: r for r in h.list_all(t.owner, "notification_templates")}
    assert set(rows) == set(h.SEEDED_TEMPLATE_CODES)
    for code in ("ndr_opened", "ndr_reattempt_scheduled", "ndr_follow_up"):
        assert (rows[code]["type"], rows[code]["is_active"]) == ("sms", True)
        assert "{{order_number}}" in rows[code]["body"] and "order_number" in rows[code]["variables"]
    assert "{{reattempt_date}}" in rows["ndr_reattempt_scheduled"]["body"]


def test_open_and_reattempt_tell_the_buyer(server, t):
    c = t.owner
    cfg = courier(c)
    o, sh = with_phone(c, cfg)
    scans = [{"code": "UD", "at": "2026-11-01T18:00:00Z", "reason": "customer not available"}]
    case = fail(server, c, t.slug, cfg, sh, scans)
    [m] = messages(c, case["id"], 1)
    tpl = {r["code"]: r["id"] for r in h.list_all(c, "notification_templates")}
    assert (m["template_id"], m["type"], m["recipient"], m["reference_type"]) == (
        tpl["ndr_opened"], "sms", PHONE, "ndr_records")
    assert o["order_number"] in m["body"] and case["ndr_number"] in m["body"] and "customer_not" not in m["body"]
    assert "customer_unavailable" in m["body"] and m["status"] == "sent"
    # another failed attempt on the open case is not a new case: no new message
    scans.append({"code": "UD", "at": "2026-11-02T18:00:00Z", "reason": "customer not available"})
    fail(server, c, t.slug, cfg, sh, scans)
    runs(c, case["id"], 2)
    assert len(messages(c, case["id"])) == 1

    h.ok(s.act(c, "ndr_records", case["id"], "reattempt", {"date": "2026-11-04"}))
    settled(c, case)
    first, second = messages(c, case["id"], 2)
    assert second["template_id"] == tpl["ndr_reattempt_scheduled"] and second["recipient"] == PHONE
    assert "2026-11-04" in second["body"] and o["order_number"] in second["body"]

    # a reattempt the courier refuses tells the buyer nothing
    h.ok(c.patch(f"{API}/courier_configs/{cfg['id']}", json={"settings": {"fail": "no"}}))
    h.ok(s.act(c, "ndr_records", case["id"], "reattempt", {"date": "2026-11-05"}))
    assert [r["request_status"] for r in settled(c, case, 2)] == ["sent", "failed"]
    assert len(messages(c, case["id"])) == 2


def test_no_phone_or_switched_off_sends_nothing(server, t):
    c = t.owner
    cfg = courier(c)
    _, sh = with_phone(c, cfg, phone=None)
    case = fail(server, c, t.slug, cfg, sh, [{"code": "UD", "at": "2026-11-06T18:00:00Z", "reason": "refused"}])
    runs(c, case["id"], 1)
    assert case["status"] == "open" and messages(c, case["id"]) == []

    [opened] = h.rows_where(c, "notification_templates", code="ndr_opened")
    h.ok(c.patch(f"{API}/notification_templates/{opened['id']}", json={"is_active": False}))
    try:
        _, sh2 = with_phone(c, cfg)
        case2 = fail(server, c, t.slug, cfg, sh2, [{"code": "UD", "at": "2026-11-07T18:00:00Z", "reason": "refused"}])
        runs(c, case2["id"], 1)
        assert case2["status"] == "open" and messages(c, case2["id"]) == []
    finally:
        h.ok(c.patch(f"{API}/notification_templates/{opened['id']}", json={"is_active": True}))


def test_a_rule_notifies(server, t):
    c = t.owner
    cfg = courier(c)
    r = rule(c, position=1, reason_code="wrong_address", action="notify")
    try:
        o, sh = with_phone(c, cfg)
        case = fail(server, c, t.slug, cfg, sh, [{"code": "UD", "at": "2026-11-08T18:00:00Z",
                                                 "reason": "wrong address"}])
        [run] = runs(c, case["id"], 1)
        assert (run["rule_id"], run["action"], run["outcome"]) == (r["id"], "notify", "done")
        tpl = {x["code"]: x["id"] for x in h.list_all(c, "notification_templates")}
        got = messages(c, case["id"], 2)
        assert sorted(m["template_id"] for m in got) == sorted([tpl["ndr_opened"], tpl["ndr_follow_up"]])
        # no phone: the rule's run says nothing was sent
        _, sh2 = with_phone(c, cfg, phone=None)
        case2 = fail(server, c, t.slug, cfg, sh2, [{"code": "UD", "at": "2026-11-09T18:00:00Z",
                                                   "reason": "wrong address"}])
        [run2] = runs(c, case2["id"], 1)
        assert (run2["action"], run2["outcome"]) == ("notify", "failed") and "no phone" in run2["detail"]
    finally:
        h.ok(c.patch(f"{API}/ndr_rules/{r['id']}", json={"is_active": False}))
