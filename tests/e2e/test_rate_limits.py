"""Rate limits from the tenant's settings (issue 17): requests_per_minute per
user (a role's custom_requests_per_minute overrides it), export requests per
hour; 429 with Retry-After and X-RateLimit-* headers (also on the answers
that pass), one security_violations row per refusal episode and a
security_alerts row when alert_on_limit_violations. The counters live in the
tenant's database, so two servers on one store together allow no more than
the limit."""
import os
import subprocess
import threading
import time

import httpx
import pytest

import helpers as h
from conftest import _free_port

API = "/api/v1"


def _serve(opsbase_bin, tmp_path, data):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    logp = tmp_path / f"serve-{port}.log"
    env = {**os.environ, "OPSBASE_SETTINGS_RATE_LIMITS": "on"}
    with open(logp, "ab") as log:
        proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
                                 "--workers", "0"], stdout=log, stderr=log, env=env)
    deadline = time.monotonic() + h.WAIT_S
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("a limited server did not start: " + logp.read_text())
        time.sleep(0.05)


@pytest.fixture
def limited(opsbase_bin, tmp_path, server):
    """Two servers with the tenant limits on, sharing the session's store."""
    procs = []

    def _start():
        proc, base = _serve(opsbase_bin, tmp_path, server.data)
        procs.append(proc)
        return base

    yield _start
    for p in procs:
        p.terminate()
        p.wait(timeout=30)


def client(base, token):
    return h.ApiClient(base_url=base, timeout=10, headers={"Authorization": "Bearer " + token})


def settings(t, **fields):
    row = h.list_all(t.owner, "security_settings")[0]
    h.ok(t.owner.patch(f"{API}/security_settings/{row['id']}", json=fields))


def fresh_window(margin=15):
    """Start at the beginning of a minute's window when too little of it is left."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.2)


def test_eleventh_request_is_429_with_headers_and_one_violation(limited, new_tenant):
    t = new_tenant()
    settings(t, requests_per_minute=10, alert_on_limit_violations=True)
    base = limited()
    fresh_window()
    with client(base, t.owner.token) as c:
        for i in range(10):
            r = c.get(f"{API}/customers")
            assert r.status_code == 200, h.show(r)
            assert r.headers["X-RateLimit-Limit"] == "10"
            assert r.headers["X-RateLimit-Remaining"] == str(9 - i)
            assert 1 <= int(r.headers["X-RateLimit-Reset"]) <= 60
        for _ in range(3):
            r = c.get(f"{API}/customers")
            h.expect_error(r, 429, "rate_limited")
            assert r.headers["X-RateLimit-Limit"] == "10" and r.headers["X-RateLimit-Remaining"] == "0"
            assert 1 <= int(r.headers["Retry-After"]) <= 60
            assert r.headers["Retry-After"] == r.headers["X-RateLimit-Reset"]
        # a write is refused too, and writes nothing
        before = len(h.list_all(t.owner, "customers"))
        h.expect_error(c.post(f"{API}/customers", json={"customer_code": h.uniq("C-"), "company_name": "X"}),
                       429, "rate_limited")
        assert len(h.list_all(t.owner, "customers")) == before
    me = t.owner.get(f"{API}/auth/me").json()["user"]["id"]
    v = h.list_all(t.owner, "security_violations", {"violation_type": "rate_limit_exceeded"})
    assert len(v) == 1 and v[0]["user_id"] == me and v[0]["request_path"] == f"{API}/customers"
    assert v[0]["metadata"]["limit"] == 10
    alerts = h.list_all(t.owner, "security_alerts", {"alert_type": "rate_limit_exceeded"})
    assert len(alerts) == 1 and alerts[0]["user_id"] == me and alerts[0]["status"] == "open"


def test_two_servers_together_allow_no_more_than_the_limit(limited, new_tenant):
    t = new_tenant()
    settings(t, requests_per_minute=10, alert_on_limit_violations=False)
    a, b = limited(), limited()
    fresh_window(25)
    codes = []
    lock = threading.Lock()

    def hammer(base):
        with client(base, t.owner.token) as c:
            for _ in range(8):
                st = c.get(f"{API}/customers").status_code
                with lock:
                    codes.append(st)

    ts = [threading.Thread(target=hammer, args=(base,)) for base in (a, b, a, b)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    assert len(codes) == 32 and codes.count(200) == 10 and codes.count(429) == 22, codes
    assert len(h.list_all(t.owner, "security_violations", {"violation_type": "rate_limit_exceeded"})) == 1
    assert h.list_all(t.owner, "security_alerts", {"alert_type": "rate_limit_exceeded"}) == []


def test_role_override_and_api_keys_share_their_creators_budget(limited, new_tenant, cli, login):
    t = new_tenant()
    settings(t, requests_per_minute=6)
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    viewer = login(t.slug, email)
    role = [r for r in h.list_all(t.owner, "roles") if r["code"] == "viewer"][0]
    h.create(t.owner, "role_security_settings", {"role_id": role["id"], "custom_requests_per_minute": 2})
    key = h.ok(t.owner.post(f"{API}/api_keys", json={"name": "k", "scopes": ["customers.view"]}), 201)["key"]
    base = limited()
    fresh_window()
    with client(base, viewer.token) as v:
        assert [v.get(f"{API}/customers").status_code for _ in range(3)] == [200, 200, 429]
        assert v.get(f"{API}/customers").headers["X-RateLimit-Limit"] == "2"
    # the owner's own budget is the tenant's; a key made by the owner spends it
    with client(base, t.owner.token) as o, client(base, key) as k:
        got = [o.get(f"{API}/customers").status_code for _ in range(3)]
        got += [k.get(f"{API}/customers").status_code for _ in range(4)]
    assert got == [200] * 6 + [429], got


def test_export_requests_per_hour(limited, new_tenant):
    t = new_tenant()
    settings(t, export_requests_per_hour=1, requests_per_minute=100)
    h.create_customer(t.owner)
    base = limited()
    with client(base, t.owner.token) as c:
        first = c.get(f"{API}/customers/export", params={"format": "csv"})
        assert first.status_code == 200, h.show(first)
        again = c.get(f"{API}/customers/export", params={"format": "csv"})
        h.expect_error(again, 429, "rate_limited")
        assert again.headers["X-RateLimit-Limit"] == "1" and int(again.headers["Retry-After"]) <= 3600
        # other requests still pass
        assert c.get(f"{API}/customers").status_code == 200
