"""Outgoing webhooks: subscriptions to the domain events of the registry, one
delivery row per event and subscription written in the change's transaction,
signed POSTs (HMAC-SHA256 of "<timestamp>.<body>", verified here with hashlib),
retries with back-off (a base of 200 ms via --webhook-backoff-ms instead of a
minute, so the test runs in seconds), dead letters, replay, and the refusal of
private targets (SSRF) unless the operator allows them for the tenant. The
endpoint is a small HTTP server in this process. Both engines."""
import hashlib
import hmac
import http.server
import json
import signal
import subprocess
import threading
import time

import pytest

import helpers as h
from test_jobs import _free_port, _healthy, _login, _wait

API = "/api/v1"
SECRET = "whsec-0123456789abcdef"


class Endpoint:
    """Records every POST; answers with the next status of `plan` (then 200)."""

    def __init__(self, plan=()):
        self.plan = list(plan)
        self.got = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.got.append({"at": time.monotonic(), "headers": dict(self.headers), "body": body})
                    status = outer.plan.pop(0) if outer.plan else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def requests(self):
        with self.lock:
            return list(self.got)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def verify(req, secret=SECRET):
    """The receiver's check: recompute the signature over timestamp.body."""
    ts = req["headers"]["Opsbase-Timestamp"]
    want = "v1=" + hmac.new(secret.encode(), f"{ts}.".encode() + req["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(req["headers"]["Opsbase-Signature"], want), req["headers"]
    assert abs(int(ts) - time.time()) < 120
    return json.loads(req["body"])


@pytest.fixture
def hook_server(opsbase_bin, tmp_path, database, pg_factory):
    """A server of this test's own (fast back-off, five attempts), a tenant
    whose webhooks may reach loopback, and its owner's client."""
    data, env, cli = h.own_store(opsbase_bin, tmp_path, pg_factory().url if database else None)
    cli("tenant", "set", "jk", "--webhooks-allow-private", "yes")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
                             "--job-poll-ms", "50", "--webhook-backoff-ms", "200", "--webhook-attempts", "5",
                             "--webhook-timeout", "2"], env=env, stdout=log, stderr=log)
    try:
        _wait(lambda: _healthy(base), 20, "the server")
        yield _login(base), cli
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        log.close()


def _subscribe(c, url, events, **kw):
    return c.post(f"{API}/webhook_subscriptions", json={"url": url, "events": events, "secret": SECRET, **kw})


def test_failing_endpoint_gets_the_event_once_more_after_back_off(hook_server):
    owner, _ = hook_server
    ep = Endpoint(plan=[500, 503, 404])
    try:
        sub = h.ok(_subscribe(owner, ep.url, ["customers.created"]), 201)
        assert "secret" not in sub and sub["active"] is True
        cust = h.ok(owner.post(f"{API}/customers", json={"company_name": "Hooked", "email": "h@hook.test"}), 201)
        # a change that fails writes no delivery
        h.expect_error(owner.post(f"{API}/customers", json={"company_name": "X", "credit_limit": "abc"}), 400, "validation_failed")
        # the delivery exists as soon as the change does (same transaction)
        rows = h.list_all(owner, "webhook_deliveries")
        assert len(rows) == 1 and rows[0]["event"] == "customers.created"
        d = _wait(lambda: (r := h.get(owner, "webhook_deliveries", rows[0]["id"]))["status"] == "delivered" and r,
                  30, "the delivery")
        assert d["attempts"] == 4 and d["response_code"] == 200 and d["last_error"] is None
        assert h.TS_RE.match(d["delivered_at"]) and d["subscription_id"] == sub["id"]
        time.sleep(1.5)  # nothing more comes once it succeeded
        got = ep.requests()
        assert len(got) == 4
        for req in got:
            body = verify(req)
            assert req["headers"]["Opsbase-Event"] == "customers.created"
            assert req["headers"]["Opsbase-Delivery"] == d["id"] == body["id"]
            assert req["headers"]["Content-Type"] == "application/json"
            assert body["event"] == "customers.created" and body["tenant"] == "jk"
            assert body["data"]["table"] == "customers" and body["data"]["object"]["id"] == cust["id"]
            assert body["data"]["object"]["company_name"] == "Hooked" and "previous" not in body["data"]
        assert all(r["body"] == got[0]["body"] for r in got)  # the same body, byte for byte
        assert json.loads(got[0]["body"]) == d["payload"]
        # back-off: about 200, 400, 800 ms between attempts (plus jitter and polling)
        gaps = [b["at"] - a["at"] for a, b in zip(got, got[1:])]
        for gap, base in zip(gaps, [0.2, 0.4, 0.8]):
            assert gap >= base * 0.95, gaps
        # a wrong secret does not verify
        with pytest.raises(AssertionError):
            verify(got[-1], secret="not-the-secret-at-all")
        # replay sends it once more, freshly signed
        again = h.ok(owner.post(f"{API}/webhook_deliveries/{d['id']}/replay", json={}))
        assert again["status"] == "pending" and again["attempts"] == 0
        _wait(lambda: h.get(owner, "webhook_deliveries", d["id"])["status"] == "delivered", 20, "the replay")
        got = ep.requests()
        assert len(got) == 5 and verify(got[-1])["id"] == d["id"]
        assert h.get(owner, "webhook_deliveries", d["id"])["attempts"] == 1
    finally:
        ep.close()


def test_dead_letter_replay_and_state_events(hook_server):
    owner, _ = hook_server
    ep = Endpoint(plan=[500] * 10)
    try:
        sub = h.ok(_subscribe(owner, ep.url, ["tickets.status_changed", "tickets.resolved"]), 201)
        cust = h.ok(owner.post(f"{API}/customers", json={"company_name": "Dead", "email": "d@hook.test"}), 201)
        t = h.ok(owner.post(f"{API}/tickets", json={"customer_id": cust["id"], "title": "T", "description": "D"}),
                 201)
        assert h.list_all(owner, "webhook_deliveries") == []  # not subscribed to created
        h.ok(owner.post(f"{API}/tickets/{t['id']}/resolve", json={}))
        rows = h.list_all(owner, "webhook_deliveries")
        assert sorted(r["event"] for r in rows) == ["tickets.resolved", "tickets.status_changed"]
        dead = _wait(lambda: all((x := h.list_all(owner, "webhook_deliveries"))) and
                     all(r["status"] == "dead" for r in x) and x, 30, "dead letters")
        for r in dead:
            assert r["attempts"] == 5 and r["response_code"] == 500 and "500" in r["last_error"]
            body = r["payload"]
            assert body["data"]["object"]["status"] == "resolved"
            assert body["data"]["previous"]["status"] != "resolved"
        assert len(ep.requests()) == 10
        one = dead[0]
        # replay: pending again; a second replay while pending is refused
        ep.plan = [500]
        h.ok(owner.post(f"{API}/webhook_deliveries/{one['id']}/replay", json={}))
        h.expect_error(owner.post(f"{API}/webhook_deliveries/{one['id']}/replay", json={}), 422, "invalid_transition")
        _wait(lambda: h.get(owner, "webhook_deliveries", one["id"])["status"] == "delivered", 20, "the replay")
        # deliveries are read-only but for replay
        h.expect_error(owner.post(f"{API}/webhook_deliveries", json={"event": "x"}), 405, "method_not_allowed")
        h.expect_error(owner.patch(f"{API}/webhook_deliveries/{one['id']}", json={"event": "x"}), 405,
                       "method_not_allowed")
        h.expect_error(owner.post(f"{API}/webhook_deliveries/{h.MISSING_ID}/replay", json={}), 404, "not_found")
        # an inactive subscription gets no new deliveries
        h.ok(owner.patch(f"{API}/webhook_subscriptions/{sub['id']}", json={"active": False}))
        t2 = h.ok(owner.post(f"{API}/tickets", json={"customer_id": cust["id"], "title": "U", "description": "D"}),
                  201)
        h.ok(owner.post(f"{API}/tickets/{t2['id']}/resolve", json={}))
        assert len(h.list_all(owner, "webhook_deliveries")) == 2
    finally:
        ep.close()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/", "http://192.168.0.10/x",
    "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/",
])
def test_private_targets_are_refused(new_tenant, url):
    t = new_tenant()
    e = h.expect_error(_subscribe(t.owner, url, ["customers.created"]), 422, "unprocessable")
    assert "private" in e["message"], e
    assert h.list_all(t.owner, "webhook_subscriptions") == []


def test_subscriptions_are_checked(new_tenant, cli, login):
    t = new_tenant()
    for url in ["ftp://example.com/", "not a url", "http://user:pw@example.com/", "file:///etc/passwd"]:
        h.expect_error(_subscribe(t.owner, url, ["customers.created"]), 422, "unprocessable")
    h.expect_error(_subscribe(t.owner, "http://127.0.0.1/", ["no.such.event"]), 422, "unprocessable")
    h.expect_error(_subscribe(t.owner, "http://127.0.0.1/", []), 422, "unprocessable")
    h.expect_error(_subscribe(t.owner, "http://127.0.0.1/", "customers.created"), 422, "unprocessable")
    r = t.owner.post(f"{API}/webhook_subscriptions",
                     json={"url": "http://127.0.0.1/", "events": ["*"], "secret": "short"})
    h.expect_error(r, 422, "unprocessable")
    h.expect_error(t.owner.post(f"{API}/webhook_subscriptions", json={"url": "http://127.0.0.1/", "events": ["*"]}),
                   400, "validation_failed")
    # the operator allows private targets for this tenant only
    cli.run("tenant", "set", t.slug, "--webhooks-allow-private", "yes")
    sub = h.ok(_subscribe(t.owner, "http://10.1.2.3/hook", ["*"]), 201)
    assert "secret" not in sub
    other = new_tenant()
    h.expect_error(_subscribe(other.owner, "http://10.1.2.3/hook", ["*"]), 422, "unprocessable")
    h.expect_error(other.owner.get(f"{API}/webhook_subscriptions/{sub['id']}"), 404, "not_found")
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    viewer = login(t.slug, email)
    h.expect_error(_subscribe(viewer, "http://10.1.2.3/hook", ["*"]), 403, "forbidden")


def test_event_names_come_from_the_registry(bare_cli):
    schema = json.loads(bare_cli.run("schema", "--json", data=False).stdout)
    events = {t["name"]: t.get("events", []) for t in schema["tables"]}
    assert {"tickets.created", "tickets.status_changed", "tickets.resolved"} <= set(events["tickets"])
    assert "orders.status_changed" in events["orders"] and "shipments.delivered" in events["shipments"]
    # tables whose changes are not audited announce nothing
    assert events["jobs"] == [] and events["webhook_deliveries"] == [] and events["audit_logs"] == []
