"""Courier tracking webhooks (issue #14): a courier configuration's webhook
action gives the endpoint POST /api/v1/hooks/courier/{tenant}/{id} and a
signing secret (shown once); a signed body of scans is stored once per
delivery id and applied by the job couriers.inbound through the same path as
polling: the shipment follows the latest scan, a delivery delivers the order,
a failed delivery opens the NDR case, replays and old scans add nothing. Bad
signatures are 401 with a security_violations row and nothing stored; another
tenant's courier, one without a webhook or an inactive one is 404. Both
engines."""
import hashlib
import hmac
import json
import time

import httpx

import helpers as h
from test_commerce_ship import courier
from test_commerce_tracking import events, scan, shipped
from test_inbound_webhooks import _wait

API = "/api/v1"


def webhook(c, cfg, secret=None):
    body = {"webhook_secret": secret} if secret else {}
    return h.ok(c.post(f"{API}/courier_configs/{cfg['id']}/webhook", json=body))


def post(server, hook, payload, delivery=None, secret=None, ts=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    ts = str(ts if ts is not None else int(time.time()))
    sig = "v1=" + hmac.new((secret or hook["webhook_secret"]).encode(), f"{ts}.".encode() + body,
                           hashlib.sha256).hexdigest()
    return httpx.post(server.url + hook["webhook_url"], content=body, timeout=h.HTTP_TIMEOUT,
                      headers={"Content-Type": "application/json", "Opsbase-Event": "tracking.scan",
                               "Opsbase-Delivery": delivery or h.uniq("cw-"), "Opsbase-Timestamp": ts,
                               "Opsbase-Signature": sig})


def done(c, r):
    assert r.status_code == 200, r.text
    rid = r.json()["id"]
    return _wait(lambda: (lambda x: x if x["status"] != "received" else None)(h.get(c, "inbound_webhooks", rid)),
                 "the courier webhook's processing")


def test_webhook_action_gives_the_endpoint_and_secret_once(server, acme_owner, acme_agent):
    c = acme_owner
    cfg = courier(c)
    hook = webhook(c, cfg)
    assert hook["webhook_url"] == f"/api/v1/hooks/courier/acme/{cfg['id']}"
    assert len(hook["webhook_secret"]) >= 40  # 32 random bytes
    again = h.get(c, "courier_configs", cfg["id"])
    assert "webhook_secret" not in again and again["webhook_url"] == hook["webhook_url"]
    assert webhook(c, cfg, secret="courier-given-secret")["webhook_secret"] == "courier-given-secret"
    # the secret is the server's: not written through PATCH, and an agent may not give it out
    h.expect_error(c.patch(f"{API}/courier_configs/{cfg['id']}", json={"webhook_secret": "x"}), 400, "unknown_field")
    h.expect_error(acme_agent.post(f"{API}/courier_configs/{cfg['id']}/webhook", json={}), 403, "forbidden")
    h.expect_error(c.post(f"{API}/courier_configs/{h.MISSING_ID}/webhook", json={}), 404, "not_found")


def test_pushed_scans_move_the_shipment_and_deliver_the_order(server, acme_owner):
    c = acme_owner
    cfg = courier(c)
    hook = webhook(c, cfg)
    o, sh = shipped(c, cfg)
    awb = sh["awb_number"]
    first = post(server, hook, {"awb": awb, "scans": [scan("PU", "2026-06-01T10:00:00Z", location="Pune hub"),
                                                      scan("IT", "2026-06-02T09:00:00Z")]}, delivery="d-1")
    row = done(c, first)
    assert (row["status"], row["provider"], row["result_id"]) == ("processed", "courier", sh["id"])
    assert [(e["event_code"], e["status"]) for e in events(c, sh)] == [("PU", "picked"), ("IT", "in_transit")]
    assert events(c, sh)[0]["source_system"] == "simulator"
    assert h.get(c, "shipments", sh["id"])["status"] == "in_transit"
    # the same delivery again is a replay: answered, nothing stored or applied
    again = post(server, hook, {"awb": awb, "scans": [scan("PU", "2026-06-01T10:00:00Z")]}, delivery="d-1")
    assert again.status_code == 200 and again.json() == {"id": first.json()["id"], "status": "duplicate"}
    # a new delivery repeating a scan adds only what is new; one scan may come alone
    done(c, post(server, hook, {"awb": awb, "scans": [scan("IT", "2026-06-02T09:00:00Z"),
                                                      scan("OFD", "2026-06-03T07:00:00Z")]}))
    done(c, post(server, hook, {"awb": awb, **scan("DL", "2026-06-03T15:00:00Z")}))
    assert [e["status"] for e in events(c, sh)] == ["picked", "in_transit", "out_for_delivery", "delivered"]
    now = h.get(c, "shipments", sh["id"])
    assert now["status"] == "delivered" and now["delivered_at"].startswith("2026-06-03T15:00:00")
    assert h.get(c, "orders", o["id"])["status"] == "delivered"


def test_out_of_order_failed_and_unknown_pushes(server, acme_owner):
    c = acme_owner
    cfg = courier(c)
    hook = webhook(c, cfg)
    o, sh = shipped(c, cfg)
    awb = sh["awb_number"]
    done(c, post(server, hook, {"awb": awb, "scans": [scan("OFD", "2026-07-02T07:00:00Z")]}))
    # a late, older scan is kept; the status stays with the latest time; a scan
    # without a time is refused and counted, the others still apply
    row = done(c, post(server, hook, {"awb": awb, "scans": [scan("PU", "2026-07-01T10:00:00Z"), {"code": "IT"}]}))
    assert row["status"] == "processed" and "1 scan(s)" in row["note"]
    assert [e["event_code"] for e in events(c, sh)] == ["PU", "OFD"]
    assert h.get(c, "shipments", sh["id"])["status"] == "out_for_delivery"
    # a failed delivery opens the shipment's NDR case
    done(c, post(server, hook, {"awb": awb, **scan("UD", "2026-07-02T18:00:00Z", reason="customer not available")}))
    [case] = h.list_all(c, "ndr_records", {"shipment_id": sh["id"]})
    assert case["attempt_count"] == 1
    # an AWB this courier does not have, or no AWB at all: stored, ignored with a note
    row = done(c, post(server, hook, {"awb": "NO-SUCH-AWB", **scan("DL", "2026-07-03T10:00:00Z")}))
    assert row["status"] == "ignored" and "NO-SUCH-AWB" in row["note"] and row["result_id"] is None
    row = done(c, post(server, hook, [1, 2]))
    assert row["status"] == "ignored" and "awb" in row["note"]
    assert h.get(c, "orders", o["id"])["status"] == "shipped"


def test_bad_signatures_and_wrong_endpoints_write_nothing(server, acme_owner, new_tenant):
    c = acme_owner
    cfg = courier(c)
    hook = webhook(c, cfg)
    o, sh = shipped(c, cfg)
    payload = {"awb": sh["awb_number"], **scan("DL", "2026-08-01T10:00:00Z")}
    before_v = len(h.list_all(c, "security_violations"))
    before_in = len(h.list_all(c, "inbound_webhooks", {"provider": "courier"}))
    h.expect_error(post(server, hook, payload, secret="not-the-secret"), 401, "invalid_signature")
    h.expect_error(post(server, hook, payload, ts=int(time.time()) - 3600), 401, "invalid_signature")
    r = httpx.post(server.url + hook["webhook_url"], content=json.dumps(payload).encode(), timeout=h.HTTP_TIMEOUT,
                   headers={"Opsbase-Event": "tracking.scan", "Opsbase-Delivery": "x"})
    h.expect_error(r, 401, "invalid_signature")
    v = h.list_all(c, "security_violations")
    assert len(v) == before_v + 3
    assert v[0]["violation_type"] == "invalid_webhook_signature" and cfg["id"] in v[0]["description"]
    assert "courier configuration" in v[0]["description"]
    # another tenant's courier, an unknown one, a courier never given a webhook: 404
    other = new_tenant()
    ocfg = courier(other.owner)
    ohook = webhook(other.owner, ocfg)
    bare = courier(c)
    for path, secret in ((f"/api/v1/hooks/courier/acme/{ocfg['id']}", ohook["webhook_secret"]),
                         (f"/api/v1/hooks/courier/acme/{h.MISSING_ID}", hook["webhook_secret"]),
                         (f"/api/v1/hooks/courier/acme/{bare['id']}", hook["webhook_secret"]),
                         (f"/api/v1/hooks/generic/acme/{cfg['id']}", hook["webhook_secret"])):
        h.expect_error(post(server, {"webhook_url": path, "webhook_secret": secret}, payload), 404, "not_found")
    # an inactive courier takes no webhooks
    h.ok(c.patch(f"{API}/courier_configs/{cfg['id']}", json={"is_active": False}))
    h.expect_error(post(server, hook, payload), 404, "not_found")
    assert len(h.list_all(c, "inbound_webhooks", {"provider": "courier"})) == before_in
    assert h.list_all(other.owner, "inbound_webhooks") == []
    assert events(c, sh) == [] and h.get(c, "orders", o["id"])["status"] == "shipped"
