"""Audit rows for writes and logins, and the JSON access log on stderr."""
import datetime
import json
import time

import helpers as h


def _one(rows, action):
    got = [r for r in rows if r["action"] == action]
    assert len(got) == 1, f"{len(got)} audit rows with action {action}: {rows}"
    return got[0]


def _has_field(changed, name):
    changed = h.as_obj(changed)
    if isinstance(changed, str):
        return name in [s.strip() for s in changed.split(",")]
    return name in changed


def test_customer_lifecycle_is_audited(acme_owner):
    me = h.ok(acme_owner.get("/api/v1/auth/me"))["user"]
    rid_create, rid_patch, rid_delete = (h.uniq("e2e-req-") for _ in range(3))

    c = h.ok(acme_owner.post("/api/v1/customers",
                             json={"customer_code": h.uniq("AUD-"), "credit_limit": "100"},
                             headers={"X-Request-Id": rid_create}), 201)
    h.ok(acme_owner.patch(f"/api/v1/customers/{c['id']}", json={"credit_limit": "250"},
                          headers={"X-Request-Id": rid_patch}))
    h.ok(acme_owner.delete(f"/api/v1/customers/{c['id']}", headers={"X-Request-Id": rid_delete}))

    rows = h.audit_rows(acme_owner, entity_type="customers", entity_id=c["id"])
    assert len(rows) == 3, rows
    for r in rows:
        assert r["entity_type"] == "customers"
        assert r["entity_id"] == c["id"]
        assert r["user_id"] == me["id"]
        assert h.TS_RE.match(r["created_at"])

    cr = _one(rows, "create")
    assert cr["request_id"] == rid_create
    new = h.as_obj(cr["new_values"])
    assert new["customer_code"] == c["customer_code"]
    assert new["credit_limit"] == "100.00"

    up = _one(rows, "update")
    assert up["request_id"] == rid_patch
    assert _has_field(up["changed_fields"], "credit_limit")
    assert not _has_field(up["changed_fields"], "customer_code")
    assert h.as_obj(up["old_values"])["credit_limit"] == "100.00"
    assert h.as_obj(up["new_values"])["credit_limit"] == "250.00"

    de = _one(rows, "delete")
    assert de["request_id"] == rid_delete
    assert h.as_obj(de["old_values"])["customer_code"] == c["customer_code"]

    # The filters the API documents narrow the same rows.
    by_user = h.audit_rows(acme_owner, entity_type="customers", entity_id=c["id"],
                           user_id=me["id"], action="update")
    assert [r["id"] for r in by_user] == [up["id"]]


def test_refused_write_is_not_audited(acme_owner):
    c = h.create_customer(acme_owner)
    h.expect_error(acme_owner.patch(f"/api/v1/customers/{c['id']}", json={"credit_limit": "x"}),
                   400, "validation_failed")
    rows = h.audit_rows(acme_owner, entity_type="customers", entity_id=c["id"])
    assert [r["action"] for r in rows] == ["create"]


def test_request_id_is_echoed(acme_owner):
    rid = h.uniq("e2e-echo-")
    r = acme_owner.get("/api/v1/customers", params={"limit": "1"}, headers={"X-Request-Id": rid})
    assert r.headers.get("x-request-id") == rid
    r = acme_owner.get("/api/v1/customers", params={"limit": "1"})
    assert r.headers.get("x-request-id"), "the server should mint a request id"
    # An id that is too long or has odd characters is replaced, not reflected.
    for bad in ("x" * 200, "has space", "semi;colon"):
        r = acme_owner.get("/api/v1/customers", params={"limit": "1"},
                           headers={"X-Request-Id": bad})
        h.ok(r)
        assert r.headers.get("x-request-id") not in (None, "", bad)


def test_login_and_failed_login_are_audited(server, cli, acme_owner):
    since = h.fmt_ts(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5))
    email = h.uniq("audlogin") + "@acme.test"
    cli.user_create("acme", email, "viewer")
    uid = h.user_id_by_email(acme_owner, email)

    h.ok(h.login_raw(server.url, "acme", email, h.USER_PASSWORD))
    rows = h.audit_rows(acme_owner, action="login", user_id=uid)
    assert len(rows) == 1, rows

    h.expect_error(h.login_raw(server.url, "acme", email, "Wrong-pass-999!"),
                   401, "invalid_credentials")
    failed = h.audit_rows(acme_owner, action="login_failed", **{"created_at.gte": since})

    def mentions(r):
        return r.get("user_id") == uid or r.get("entity_id") == uid or email in json.dumps(r)

    mine = [r for r in failed if mentions(r)]
    assert len(mine) == 1, failed
    assert h.USER_PASSWORD not in json.dumps(mine) and "Wrong-pass-999!" not in json.dumps(mine)


def test_access_log_line(server, acme_owner):
    rid = h.uniq("e2e-log-")
    h.ok(acme_owner.get("/api/v1/customers", params={"limit": "2"},
                        headers={"X-Request-Id": rid}))
    line = None
    deadline = time.monotonic() + 5
    while line is None and time.monotonic() < deadline:
        with open(server.stderr_path, "rb") as f:
            for raw in f.read().decode("utf-8", "replace").splitlines():
                if rid not in raw:
                    continue
                try:
                    obj = json.loads(raw)
                except ValueError:
                    continue
                if obj.get("request_id") == rid and "status" in obj:
                    line = obj
        if line is None:
            time.sleep(0.1)
    assert line is not None, f"no JSON access-log line with request_id {rid}:\n" + h.tail(
        server.stderr_path, 10)
    for key in ("request_id", "tenant", "method", "path", "status", "duration_ms"):
        assert key in line, (key, line)
    assert line["tenant"] == "acme"
    assert line["method"] == "GET"
    assert line["path"].split("?")[0] == "/api/v1/customers"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0
    # Secrets stay out of the log.
    assert acme_owner.token not in open(server.stderr_path, "rb").read().decode("utf-8", "replace")
