"""NDR reattempt requests (issue #14): the reattempt action records the request
(an ndr_actions row, request_status pending) and the job ndr.reattempt puts it
to the courier's adapter after the transaction; a courier that refuses is asked
again by the queue with back-off, 3 tries in all, then the request is failed
with the courier's message and listed in the NDR report's failed_reattempts.
A shipment with no courier to ask is 422 at once. Both engines."""
import datetime
import time

import helpers as h
import stock_helpers as s
from test_commerce_ndr import case_of
from test_commerce_ship import courier
from test_commerce_tracking import run_track, scan, script, shipped

API = "/api/v1"


def settled(c, case, n=1):
    """The case's reattempt requests once none is pending."""
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        reqs = h.list_all(c, "ndr_actions", {"ndr_id": case["id"], "action_type": "reattempt_request",
                                             "sort": "performed_at"})
        if len(reqs) == n and all(r["request_status"] != "pending" for r in reqs):
            return reqs
        time.sleep(0.05)
    raise AssertionError(f"the reattempt requests of {case['id']} did not settle")


def failed_case(server, c, cfg, when="2026-10-01T18:00:00Z"):
    o, sh = shipped(c, cfg)
    script(c, cfg, [scan("UD", when, reason="customer not available")])
    run_track(server, c, {"shipment_id": sh["id"]})
    return sh, case_of(c, sh)


def report(c):
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    return h.ok(c.get(f"{API}/reports/ndr", params={"from": today, "to": today}))


def test_a_request_goes_to_the_courier_by_a_job(server, acme_owner):
    c = acme_owner
    cfg = courier(c)
    sh, case = failed_case(server, c, cfg)
    got = h.ok(s.act(c, "ndr_records", case["id"], "reattempt",
                     {"date": "2026-10-02", "new_phone": "9000000002"}))
    assert got["status"] == "reattempt_scheduled"
    [req] = settled(c, case)
    assert (req["request_status"], req["request_attempts"], req["request_error"]) == ("sent", 1, None)
    assert req["reattempt_date"] == "2026-10-02" and req["performed_by"] == c.user["id"]
    assert case["id"] not in [x["ndr_id"] for x in report(c)["failed_reattempts"]]
    # the request's state is the server's
    h.expect_error(c.patch(f"{API}/ndr_actions/{req['id']}", json={"request_status": "pending"}), 400,
                   "readonly_field")


def test_a_refusing_courier_is_asked_three_times_then_reported(server, acme_owner, acme_viewer, globex_owner):
    c = acme_owner
    cfg = courier(c)
    sh, case = failed_case(server, c, cfg, "2026-10-03T18:00:00Z")
    h.ok(c.patch(f"{API}/courier_configs/{cfg['id']}", json={"settings": {"fail": "no slots tomorrow"}}))
    started = time.monotonic()
    got = h.ok(s.act(c, "ndr_records", case["id"], "reattempt", {"date": "2026-10-04"}))
    assert got["status"] == "reattempt_scheduled"
    [req] = settled(c, case)
    assert time.monotonic() - started >= 1  # the queue waited between tries
    assert (req["request_status"], req["request_attempts"]) == ("failed", 3)
    assert "no slots tomorrow" in req["request_error"]
    jobs = [j for j in c.get(f"{API}/jobs", params={"kind": "ndr.reattempt", "limit": 200}).json()["data"]
            if req["id"] in str(j["payload"])]
    assert [(j["status"], j["attempts"]) for j in jobs] == [("done", 3)]

    rep = report(c)
    assert set(rep) >= {"open_cases", "delivery", "rto_by_courier", "failed_reattempts"}
    [row] = [x for x in rep["failed_reattempts"] if x["ndr_id"] == case["id"]]
    assert row == {"ndr_id": case["id"], "ndr_number": case["ndr_number"], "shipment_id": sh["id"],
                   "status": "reattempt_scheduled", "action_id": req["id"], "reattempt_date": "2026-10-04",
                   "attempts": 3, "error": req["request_error"], "requested_at": row["requested_at"]}
    assert row["requested_at"].startswith(datetime.datetime.now(datetime.timezone.utc).date().isoformat()[:7])
    # another day's report does not list it; a viewer reads the report, another tenant sees none of it
    old = h.ok(c.get(f"{API}/reports/ndr", params={"from": "2026-01-01", "to": "2026-01-02"}))
    assert case["id"] not in [x["ndr_id"] for x in old["failed_reattempts"]]
    assert case["id"] in [x["ndr_id"] for x in report(acme_viewer)["failed_reattempts"]]
    assert case["id"] not in [x["ndr_id"] for x in report(globex_owner)["failed_reattempts"]]

    # the courier takes a second request; the case can still be sent back
    h.ok(c.patch(f"{API}/courier_configs/{cfg['id']}", json={"settings": {}}))
    h.ok(s.act(c, "ndr_records", case["id"], "reattempt", {"date": "2026-10-05"}))
    reqs = settled(c, case, 2)
    assert [r["request_status"] for r in reqs] == ["failed", "sent"]
    assert h.ok(s.act(c, "ndr_records", case["id"], "rto"))["status"] == "rto"


def test_reattempt_refusals(server, acme_owner, acme_viewer, globex_owner):
    c = acme_owner
    cfg = courier(c)
    sh, case = failed_case(server, c, cfg, "2026-10-06T18:00:00Z")
    h.expect_error(s.act(acme_viewer, "ndr_records", case["id"], "reattempt", {"date": "2026-10-07"}), 403,
                   "forbidden")
    h.expect_error(s.act(globex_owner, "ndr_records", case["id"], "reattempt", {"date": "2026-10-07"}), 404,
                   "not_found")
    h.expect_error(s.act(c, "ndr_records", case["id"], "reattempt", {"date": "tomorrow"}), 400, "validation_failed",
                   "date")
    # a courier opsbase has no adapter for: 422 at once, nothing written
    h.ok(c.patch(f"{API}/courier_configs/{cfg['id']}", json={"courier_type_code": "pigeon"}))
    h.expect_error(s.act(c, "ndr_records", case["id"], "reattempt", {"date": "2026-10-07"}), 422, "unprocessable")
    assert h.get(c, "ndr_records", case["id"])["status"] == "open"
    assert h.list_all(c, "ndr_actions", {"ndr_id": case["id"]}) == []
