"""Notifications (issue 11): templates whose placeholders must be declared
(422 at save, never at send), messages queued as pending notification_logs
rows with their job, sent over SMTP to the configured server (--smtp-url) and
marked sent; an SMTP server that refuses is retried, then the message is
marked failed with the reason; SMS goes to the built-in log provider. The SMTP
server is a small sink in this process. Both engines."""
import signal
import socket
import subprocess
import threading
import time

import pytest

import helpers as h
from test_jobs import _free_port, _healthy, _login, _wait

API = "/api/v1"


class SmtpSink:
    """A minimal SMTP server: records each message; `refuse` RCPT answers
    451 (a temporary failure) to that many transactions first, and with
    refuse=-1 to all of them."""

    def __init__(self, refuse=0):
        self.refuse = refuse
        self.refuse_rcpt = set()  # addresses whose RCPT is always answered 451
        self.got = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"smtp://127.0.0.1:{self.port}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        f = conn.makefile("rb")

        def say(line):
            conn.sendall(line.encode() + b"\r\n")

        say("220 sink ESMTP")
        mail = {}
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.decode(errors="replace").strip()
                up = cmd.upper()
                if up.startswith("EHLO") or up.startswith("HELO"):
                    say("250 sink")
                elif up.startswith("MAIL FROM:"):
                    mail = {"from": cmd[10:].strip(), "to": []}
                    say("250 ok")
                elif up.startswith("RCPT TO:"):
                    with self.lock:
                        refuse = self.refuse != 0 or any(a in cmd for a in self.refuse_rcpt)
                        if self.refuse > 0:
                            self.refuse -= 1
                    if refuse:
                        say("451 try again later")
                    else:
                        mail["to"].append(cmd[8:].strip())
                        say("250 ok")
                elif up == "DATA":
                    say("354 go ahead")
                    data = b""
                    while True:
                        l2 = f.readline()
                        if not l2 or l2 == b".\r\n":
                            break
                        data += l2
                    mail["data"] = data.decode()
                    with self.lock:
                        self.got.append(mail)
                    say("250 queued")
                elif up == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 ok")
        finally:
            conn.close()

    def messages(self):
        with self.lock:
            return list(self.got)

    def close(self):
        self.sock.close()


@pytest.fixture
def notify_server(opsbase_bin, tmp_path, database, pg_factory):
    """A server of this test's own mailing to a sink (fast job back-off)."""
    sink = SmtpSink()
    data, env, cli = h.own_store(opsbase_bin, tmp_path, pg_factory().url if database else None)
    cli("user", "create", "--tenant", "jk", "--email", "agent@jk.test", "--role", "agent",
        "--password", h.USER_PASSWORD)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
                             "--job-poll-ms", "50", "--job-backoff-ms", "100", "--smtp-url", sink.url,
                             "--smtp-from", "ops@jk.test"], env=env, stdout=log, stderr=log)
    try:
        _wait(lambda: _healthy(base), 20, "the server")
        yield _login(base), sink, base, log_path
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        log.close()
        sink.close()


def _template(c, **kw):
    body = {"name": "Order shipped", "code": h.uniq("ship-"), "type": "email",
            "subject": "Order {{order_number}} shipped",
            "body": "Hello {{ customer_name }},\nyour order of {{total}} goes to {{address.city}}.\n.\nBye",
            "variables": ["order_number", "customer_name", "total", "address.city"]}
    body.update(kw)
    return c.post(f"{API}/notification_templates", json=body)


def _log(c, lid):
    return h.get(c, "notification_logs", lid)


def test_placeholders_must_be_declared_at_save(notify_server):
    c, *_ = notify_server
    h.expect_error(_template(c, variables=["order_number"]), 422, "unprocessable", "body")
    h.expect_error(_template(c, subject="Hi {{who}}", variables=["order_number", "customer_name", "total",
                                                                   "address.city"]), 422, "unprocessable", "subject")
    h.expect_error(_template(c, subject="Hi", body="Hi {{ not a name }}", variables=[]), 422, "unprocessable", "body")
    h.expect_error(_template(c, subject="Hi", body="Hi {{open", variables=[]), 422, "unprocessable", "body")
    # nothing was saved: only the templates every tenant is given (the overdue follow-up, NDR messages)
    assert [x["code"] for x in h.list_all(c, "notification_templates")] == list(h.SEEDED_TEMPLATE_CODES)
    t = h.ok(_template(c), 201)
    # a PATCH is held to the same rule
    h.expect_error(c.patch(f"{API}/notification_templates/{t['id']}", json={"body": "{{secret_thing}}"}), 422,
                   "unprocessable", "body")
    assert h.get(c, "notification_templates", t["id"])["body"] == t["body"]


def test_message_is_rendered_queued_and_sent_over_smtp(notify_server):
    c, sink, *_ = notify_server
    t = h.ok(_template(c), 201)
    r = h.ok(c.post(f"{API}/notification_templates/{t['id']}/send", json={
        "to": "buyer@example.test",
        "variables": {"order_number": "ORD-000042", "customer_name": "Asha Rao", "total": "1103.98",
                      "address": {"city": "Bengaluru"}}}))
    lid = r["notification_log_id"]
    assert r["id"] == t["id"]
    log = _wait(lambda: (x := _log(c, lid))["status"] == "sent" and x, 20, "the message sent")
    assert log["subject"] == "Order ORD-000042 shipped" and log["template_id"] == t["id"]
    assert log["body"] == "Hello Asha Rao,\nyour order of 1103.98 goes to Bengaluru.\n.\nBye"
    assert h.TS_RE.match(log["sent_at"]) and log["error_message"] is None and log["type"] == "email"
    (m,) = sink.messages()
    assert m["from"] == "<ops@jk.test>" and m["to"] == ["<buyer@example.test>"]
    assert "Subject: Order ORD-000042 shipped\r\n" in m["data"] and "To: <buyer@example.test>" in m["data"]
    # the body's lone "." line arrives dot-stuffed, as SMTP requires
    assert "Hello Asha Rao,\r\nyour order of 1103.98 goes to Bengaluru.\r\n..\r\nBye" in m["data"]
    time.sleep(0.5)
    assert len(sink.messages()) == 1  # once
    # a variable the data lacks renders empty; the template's check was at save
    r = h.ok(c.post(f"{API}/notification_templates/{t['id']}/send", json={"to": "b2@example.test"}))
    log = _wait(lambda: (x := _log(c, r["notification_log_id"]))["status"] == "sent" and x, 20, "the second")
    assert log["subject"] == "Order  shipped"


def test_refusing_server_is_retried_then_failed(notify_server):
    c, sink, *_ = notify_server
    t = h.ok(_template(c), 201)
    sink.refuse = 2
    r = h.ok(c.post(f"{API}/notification_templates/{t['id']}/send", json={"to": "x@example.test", "variables": {}}))
    log = _wait(lambda: (x := _log(c, r["notification_log_id"]))["status"] == "sent" and x, 30, "sent after retries")
    assert len(sink.messages()) == 1
    (job,) = [j for j in h.list_all(c, "jobs", {"kind": "notify.send"})
              if h.as_obj(j["payload"])["log_id"] == log["id"]]
    assert job["attempts"] == 3 and job["status"] == "done"
    # a server that never accepts: five attempts, then failed with its reason
    sink.refuse = -1
    r = h.ok(c.post(f"{API}/notification_templates/{t['id']}/send", json={"to": "y@example.test", "variables": {}}))
    log = _wait(lambda: (x := _log(c, r["notification_log_id"]))["status"] == "failed" and x, 60, "failed")
    assert "smtp" in log["error_message"] and log["sent_at"] is None
    assert len(sink.messages()) == 1


def test_sms_goes_to_the_log_provider_and_refusals(notify_server, login):
    c, sink, base, log_path = notify_server
    t = h.ok(_template(c, type="sms", subject=None, body="OTP {{code}}", variables=["code"]), 201)
    r = h.ok(c.post(f"{API}/notification_templates/{t['id']}/send", json={"to": "+919800000001",
                                                                         "variables": {"code": 4711}}))
    log = _wait(lambda: (x := _log(c, r["notification_log_id"]))["status"] == "sent" and x, 20, "the sms")
    assert log["body"] == "OTP 4711" and sink.messages() == []
    assert b'"body":"OTP 4711"' in log_path.read_bytes()
    # an inactive template sends nothing; bad input writes nothing
    h.ok(c.patch(f"{API}/notification_templates/{t['id']}", json={"is_active": False}))
    h.expect_error(c.post(f"{API}/notification_templates/{t['id']}/send", json={"to": "+91"}), 422,
                   "invalid_transition")
    h.expect_error(c.post(f"{API}/notification_templates/{t['id']}/send", json={}), 400, "validation_failed", "to")
    h.expect_error(c.post(f"{API}/notification_templates/{t['id']}/send", json={"to": "a", "cc": "b"}), 400,
                   "unknown_field", "cc")
    h.expect_error(c.post(f"{API}/notification_templates/{h.MISSING_ID}/send", json={"to": "a"}), 404, "not_found")
    assert len(h.list_all(c, "notification_logs")) == 1
    # the logs are the server's
    h.expect_error(c.post(f"{API}/notification_logs", json={}), 405, "method_not_allowed")
