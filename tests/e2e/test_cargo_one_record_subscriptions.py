"""ONE Record subscriptions (issue #15, seed 002): a subscriber's callback
gets an api:Notification (JSON-LD) through the outgoing-webhook outbox
(webhook_deliveries, signed, retried) when an air-cargo shipment its topic
covers changes (LOGISTICS_OBJECT_UPDATED, naming the changed properties it
knows) or receives a milestone (LOGISTICS_EVENT_RECEIVED): one notification
per change and subscription, filtered by topic and event type; another
tenant's subscriptions never fire. The receiver is a small HTTP server in
this process. Both engines."""
import hashlib
import hmac
import http.server
import json
import threading
import time

import cargo_helpers as cg
import helpers as h

API = "/api/v1"
CARGO = "https://onerecord.iata.org/ns/cargo#"
BOTH = ["LOGISTICS_OBJECT_UPDATED", "LOGISTICS_EVENT_RECEIVED"]


class Receiver:
    """Records every POST by path; answers 200."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.got.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def at(self, path):
        with self.lock:
            return [r for r in self.got if r["path"] == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _verify(req, secret):
    ts = req["headers"]["Opsbase-Timestamp"]
    want = "v1=" + hmac.new(secret.encode(), f"{ts}.".encode() + req["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(req["headers"]["Opsbase-Signature"], want), req["headers"]
    return json.loads(req["body"])


def _subscribe(c, url, topic_type, topic, secret, **kw):
    return c.post(f"{API}/one_record_subscriptions",
                  json={"callback_url": url, "topic_type": topic_type, "topic": topic, "secret": secret, **kw})


def _settle(c):
    """Every delivery of the tenant delivered (none pending), then a moment
    for anything that should not come."""
    end = time.monotonic() + h.WAIT_S
    while time.monotonic() < end:
        rows = h.list_all(c, "webhook_deliveries")
        if all(r["status"] == "delivered" for r in rows):
            time.sleep(1.0)
            return rows
        time.sleep(0.2)
    raise AssertionError(f"deliveries not delivered: {h.list_all(c, 'webhook_deliveries')}")


def test_subscriptions_are_checked(new_tenant, cli, login):
    t, other = new_tenant(), new_tenant()
    c = t.owner
    cli.run("tenant", "set", t.slug, "--webhooks-allow-private", "yes")
    ship = h.ok(cg.shipment(c), 201)
    theirs = h.ok(cg.shipment(other.owner), 201)
    url = "http://127.0.0.1:9/one-record"
    secret = "orsec-0123456789abcdef"
    h.expect_error(_subscribe(c, url, "EVERYTHING", "cargo:Shipment", secret), 400, "validation_failed", "topic_type")
    h.expect_error(_subscribe(c, url, "LOGISTICS_OBJECT_TYPE", CARGO + "Piece", secret), 422, "unprocessable")
    h.expect_error(_subscribe(c, url, "LOGISTICS_OBJECT_TYPE", "cargo:Shipment", "short"), 422, "unprocessable")
    h.expect_error(_subscribe(c, url, "LOGISTICS_OBJECT_TYPE", "cargo:Shipment", secret,
                              event_types=["LOGISTICS_OBJECT_DELETED"]), 422, "unprocessable")
    # another tenant's shipment, or none, is not a topic here
    h.expect_error(_subscribe(c, url, "LOGISTICS_OBJECT_IDENTIFIER", theirs["id"], secret), 404, "not_found")
    h.expect_error(_subscribe(c, url, "LOGISTICS_OBJECT_IDENTIFIER", "not-an-id", secret), 404, "not_found")
    h.expect_error(_subscribe(c, url, "LOGISTICS_OBJECT_TYPE", "cargo:Shipment", secret,
                              webhook_subscription_id=ship["id"]), 400, "readonly_field")
    # a private target is refused unless the operator allows it for the tenant
    h.expect_error(_subscribe(other.owner, url, "LOGISTICS_OBJECT_TYPE", "cargo:Shipment", secret), 422,
                   "unprocessable")
    email = h.uniq("viewer") + f"@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    h.expect_error(_subscribe(login(t.slug, email), url, "LOGISTICS_OBJECT_TYPE", "cargo:Shipment", secret), 403,
                   "forbidden")
    assert h.list_all(c, "one_record_subscriptions") == [] and h.list_all(c, "webhook_subscriptions") == []
    # an identifier topic may be the logistics object's IRI
    iri = f"http://example.test/api/v1/one-record/logistics-objects/{ship['id']}"
    sub = h.ok(_subscribe(c, url, "LOGISTICS_OBJECT_IDENTIFIER", iri, secret), 201)
    assert sub["shipment_id"] == ship["id"] and sub["event_types"] == BOTH and "secret" not in sub
    assert sub["topic_type"] == "logistics_object_identifier"  # the API's name, stored lower case
    ep = h.get(c, "webhook_subscriptions", sub["webhook_subscription_id"])
    assert ep["url"] == url and ep["events"] == ["one_record.notification"] and "secret" not in ep
    h.expect_error(other.owner.get(f"{API}/one_record_subscriptions/{sub['id']}"), 404, "not_found")
    # the endpoint follows the subscription, and goes with it
    moved = h.ok(c.patch(f"{API}/one_record_subscriptions/{sub['id']}",
                         json={"callback_url": "http://127.0.0.1:9/moved", "active": False}))
    assert moved["active"] is False
    ep = h.get(c, "webhook_subscriptions", sub["webhook_subscription_id"])
    assert ep["url"] == "http://127.0.0.1:9/moved" and ep["active"] is False
    h.expect_error(c.patch(f"{API}/one_record_subscriptions/{sub['id']}", json={"topic": "cargo:Shipment"}), 400,
                   "readonly_field")
    h.ok(c.delete(f"{API}/one_record_subscriptions/{sub['id']}", headers={"If-Match": str(moved["version"])}))
    h.expect_error(c.get(f"{API}/webhook_subscriptions/{sub['webhook_subscription_id']}"), 404, "not_found")


def test_notifications_per_change_filtered_by_topic_and_signed(new_tenant, cli):
    t, other = new_tenant(), new_tenant()
    c = t.owner
    for slug in (t.slug, other.slug):
        cli.run("tenant", "set", slug, "--webhooks-allow-private", "yes")
    s1, s2 = h.ok(cg.shipment(c), 201), h.ok(cg.shipment(c), 201)
    rx = Receiver()
    try:
        keys = {name: f"orsec-{name}-0123456789abcdef" for name in ("all", "s1", "s2", "other")}
        subs = {
            "all": h.ok(_subscribe(c, rx.base + "/all", "LOGISTICS_OBJECT_TYPE", CARGO + "Shipment", keys["all"]),
                        201),
            "s1": h.ok(_subscribe(c, rx.base + "/s1", "LOGISTICS_OBJECT_IDENTIFIER", s1["id"], keys["s1"],
                                  event_types=["LOGISTICS_EVENT_RECEIVED"]), 201),
            "s2": h.ok(_subscribe(c, rx.base + "/s2", "LOGISTICS_OBJECT_IDENTIFIER", s2["id"], keys["s2"]), 201),
        }
        # another tenant follows every shipment of its own: never ours
        h.ok(_subscribe(other.owner, rx.base + "/other", "LOGISTICS_OBJECT_TYPE", "cargo:Shipment", keys["other"]),
             201)
        # a change to s1's weight: "all" hears of it, naming the property; s1 wants events only
        h.ok(c.patch(f"{API}/shipments/{s1['id']}", json={"weight_kg": "130.000"}))
        _settle(c)
        assert [len(rx.at(p)) for p in ("/all", "/s1", "/s2", "/other")] == [1, 0, 0, 0]
        req = rx.at("/all")[0]
        body = _verify(req, keys["all"])
        assert req["headers"]["Opsbase-Event"] == "one_record.LOGISTICS_OBJECT_UPDATED"
        assert body["@type"] == "api:Notification"
        assert body["@context"]["api"] == "https://onerecord.iata.org/ns/api#"
        assert body["api:hasEventType"] == {"@id": "api:LOGISTICS_OBJECT_UPDATED"}
        assert body["api:hasLogisticsObject"]["@id"].endswith(f"/api/v1/one-record/logistics-objects/{s1['id']}")
        assert body["api:hasLogisticsObjectType"]["@value"] == CARGO + "Shipment"
        assert [p["@value"] for p in body["api:hasChangedProperty"]] == [CARGO + "totalGrossWeight"]
        # a milestone on s1 that moves its status: the update and the event received
        ev = h.ok(cg.event(c, s1["id"], "DEP", "2030-01-01T10:00:00.000Z", event_location="DXB"), 201)
        _settle(c)
        got = {p: [_verify(r, keys[p[1:]]) for r in rx.at(p)] for p in ("/all", "/s1", "/s2", "/other")}
        assert [len(got[p]) for p in ("/all", "/s1", "/s2", "/other")] == [3, 1, 0, 0]
        kinds = sorted(b["api:hasEventType"]["@id"] for b in got["/all"][1:])
        assert kinds == ["api:LOGISTICS_EVENT_RECEIVED", "api:LOGISTICS_OBJECT_UPDATED"]
        received = got["/s1"][0]
        assert received["api:hasEventType"] == {"@id": "api:LOGISTICS_EVENT_RECEIVED"}
        assert received["api:hasLogisticsEvent"][0]["@id"].endswith(
            f"/logistics-objects/{s1['id']}/logistics-events/{ev['id']}")
        assert rx.at("/s1")[0]["headers"]["Opsbase-Event"] == "one_record.LOGISTICS_EVENT_RECEIVED"
        # the wrong key does not verify
        try:
            _verify(rx.at("/s1")[0], keys["all"])
            raise RuntimeError("verified with another subscription's secret")
        except AssertionError:
            pass
        # the deliveries are the webhook outbox's, one per notification and subscription
        rows = h.list_all(c, "webhook_deliveries")
        by_sub = {}
        for r in rows:
            by_sub[r["subscription_id"]] = by_sub.get(r["subscription_id"], 0) + 1
        assert by_sub == {subs["all"]["webhook_subscription_id"]: 3, subs["s1"]["webhook_subscription_id"]: 1}
        # an inactive subscription hears nothing; s2 hears of its own shipment
        h.ok(c.patch(f"{API}/one_record_subscriptions/{subs['all']['id']}", json={"active": False}))
        h.ok(c.patch(f"{API}/shipments/{s2['id']}", json={"pieces": 4}))
        _settle(c)
        assert [len(rx.at(p)) for p in ("/all", "/s1", "/s2", "/other")] == [3, 1, 1, 0]
        upd = _verify(rx.at("/s2")[0], keys["s2"])
        assert [p["@value"] for p in upd["api:hasChangedProperty"]] == [CARGO + "pieces"]
        assert h.list_all(other.owner, "webhook_deliveries") == []
    finally:
        rx.close()
