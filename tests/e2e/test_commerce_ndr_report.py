"""The NDR report (issue #14): GET /api/v1/reports/ndr?from&to gives the
cases reported in the period that are still worked, by reason and by age in
days; the courier shipments delivered in it and how many at the first
attempt; and per courier the shipments that ended in it, delivered or
returned to origin, with the share returned. The scans are dated in the last
fortnight (the other courier tests date theirs in 2026-03..08), so the
figures are this test's own, except returns: a return starts when the job
reads the third failure, so other tests' returns fall in the period too and
only this test's couriers are compared. Both engines."""
import datetime

import helpers as h
from test_commerce_ship import courier
from test_commerce_ndr import rto_soon
from test_commerce_tracking import run_track, scan, script, shipped

API = "/api/v1"


def _at(days_ago):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(server, c, cfg, sh, scans):
    script(c, cfg, scans)
    run_track(server, c, {"shipment_id": sh["id"]})


def test_ndr_report_figures(server, acme_owner, acme_agent, acme_viewer, globex_owner):
    c = acme_owner
    one, two = courier(c), courier(c)
    # A: delivered at the first attempt
    _, a = shipped(c, one)
    _run(server, c, one, a, [scan("OFD", _at(3.2)), scan("DL", _at(3.1))])
    # B: a failed attempt, then delivered: a delivery, not at the first attempt; the
    # delivered scan resolves its case
    _, b = shipped(c, one)
    fail_b = [scan("UD", _at(10), reason="Customer not available at door")]
    _run(server, c, one, b, fail_b)
    [case_b] = h.list_all(c, "ndr_records", {"shipment_id": b["id"]})
    assert case_b["status"] == "open"
    _run(server, c, one, b, fail_b + [scan("DL", _at(9))])
    case_b = h.get(c, "ndr_records", case_b["id"])
    assert (case_b["status"], case_b["resolution"]) == ("resolved", "delivered") and case_b["resolved_at"]
    assert "resolve" in [a["action"] for a in h.audit_rows(c, entity_type="ndr_records", entity_id=case_b["id"])]
    # C: failed 2.5 days ago, still open (age 2)
    _, cc = shipped(c, two)
    _run(server, c, two, cc, [scan("UD", _at(2.5), reason="Customer not available at door")])
    # D: three failures: returned to origin with the courier two
    _, d = shipped(c, two)
    fails = []
    for ago in (6, 5, 4):
        fails.append(scan("UD", _at(ago), reason="refused by buyer"))
        _run(server, c, two, d, list(fails))
    rto_soon(c, d)  # the NDR rules' job starts RTO after the third scan
    assert h.get(c, "shipments", d["id"])["status"] == "rto_initiated"
    # E: failed half a day ago with a wrong address (age 0)
    _, e = shipped(c, one)
    _run(server, c, one, e, [scan("UD", _at(0.5), reason="wrong address")])

    today = datetime.datetime.now(datetime.timezone.utc).date()
    period = {"from": (today - datetime.timedelta(days=14)).isoformat(), "to": today.isoformat()}
    r = h.ok(acme_viewer.get(f"{API}/reports/ndr", params=period))
    assert (r["report"], r["from"], r["to"]) == ("ndr", period["from"], period["to"]) and h.TS_RE.match(r["as_of"])
    oc = r["open_cases"]
    assert oc["total"] == 2
    assert oc["by_reason"] == [{"reason_code": "customer_unavailable", "cases": 1},
                               {"reason_code": "wrong_address", "cases": 1}]
    assert oc["by_age_days"] == [{"age_days": "0-1", "cases": 1}, {"age_days": "2-3", "cases": 1},
                                 {"age_days": "4-7", "cases": 0}, {"age_days": "8+", "cases": 0}]
    assert r["delivery"] == {"delivered": 2, "first_attempt": 1, "first_attempt_rate_pct": "50.00"}
    # other tests' returns start when their job reads the third failure (now), so only
    # this test's two couriers are compared
    mine = (one["id"], two["id"])
    assert [x for x in r["rto_by_courier"] if x["courier_config_id"] in mine] == sorted([
        {"courier_config_id": one["id"], "name": one["name"], "ended": 2, "rto": 0, "rto_rate_pct": "0.00"},
        {"courier_config_id": two["id"], "name": two["name"], "ended": 1, "rto": 1, "rto_rate_pct": "100.00"},
    ], key=lambda x: x["name"])
    # a period before any of it: nothing measured, rates null
    empty = h.ok(c.get(f"{API}/reports/ndr", params={"from": "2020-01-01", "to": "2020-01-31"}))
    assert empty["open_cases"]["total"] == 0 and empty["rto_by_courier"] == []
    assert empty["delivery"] == {"delivered": 0, "first_attempt": 0, "first_attempt_rate_pct": None}
    # the period only: the case of B (10 days ago) is outside a 5-day window, D's return inside
    short = h.ok(c.get(f"{API}/reports/ndr", params={"from": (today - datetime.timedelta(days=5)).isoformat(),
                                                   "to": today.isoformat()}))
    assert short["delivery"] == {"delivered": 1, "first_attempt": 1, "first_attempt_rate_pct": "100.00"}
    assert short["open_cases"]["total"] == 2
    assert {x["courier_config_id"]: (x["ended"], x["rto"]) for x in short["rto_by_courier"]
            if x["courier_config_id"] in mine} == {one["id"]: (1, 0), two["id"]: (1, 1)}
    # refusals: bad dates and parameters are 400, another tenant sees only its own (nothing)
    for bad in ({"from": "2026-13-01", "to": "2026-12-31"}, {"from": period["to"], "to": period["from"]},
                {"to": period["to"]}, {**period, "group": "day"}, {**period, "x": "1"}):
        h.expect_error(c.get(f"{API}/reports/ndr", params=bad), 400, "invalid_query")
    other = h.ok(globex_owner.get(f"{API}/reports/ndr", params=period))
    assert other["open_cases"]["total"] == 0 and other["delivery"]["delivered"] == 0
    # an agent does not hold ndr.view
    h.expect_error(acme_agent.get(f"{API}/reports/ndr", params=period), 403, "forbidden")
