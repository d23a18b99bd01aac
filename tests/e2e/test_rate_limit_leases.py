"""The tenant's rate limits without a write per request (issue 20): a process
claims a lease of several requests from the shared counter at once and spends
it in memory, so many requests make few writes (opsbase_rate_limit_writes_total
in /metrics); the servers sharing a database together still never admit more
than the limit, and end early by at most their unspent leases."""
import re
import threading

import httpx
import pytest

import helpers as h
import obs_helpers as oh
from test_rate_limits import fresh_window

API = "/api/v1"
TOKEN = "lease-metrics-" + "m" * 20
ON = {"OPSBASE_SETTINGS_RATE_LIMITS": "on"}


@pytest.fixture
def lease_cli(opsbase_bin, tmp_path_factory, database):
    return oh.make_cli(opsbase_bin, tmp_path_factory, "lease", database)


def _writes(url):
    text = httpx.get(url + "/metrics", headers={"Authorization": "Bearer " + TOKEN}, timeout=10).text
    m = re.search(r"^opsbase_rate_limit_writes_total (\S+)$", text, re.M)
    assert m, text[:2000]
    return float(m.group(1))


def _owner(url):
    token = h.login_raw(url, "obs", "owner@obs.test", h.OWNER_PASSWORD).json()["token"]
    return h.ApiClient(base_url=url, timeout=10, headers={"Authorization": "Bearer " + token})


def _limit(c, per_minute):
    row = h.list_all(c, "security_settings")[0]
    h.ok(c.patch(f"{API}/security_settings/{row['id']}", json={"requests_per_minute": per_minute}))


def test_many_requests_make_few_writes_and_count_exactly(opsbase_bin, lease_cli):
    s = oh.serve(opsbase_bin, lease_cli, "--workers", "0", "--metrics-token", TOKEN, env=ON)
    try:
        with _owner(s.url) as c:
            _limit(c, 2000)
            fresh_window(25)
            before = _writes(s.url)
            remaining = []
            for _ in range(200):
                r = c.get(f"{API}/customers", params={"limit": 1})
                assert r.status_code == 200, h.show(r)
                assert r.headers["X-RateLimit-Limit"] == "2000"
                remaining.append(int(r.headers["X-RateLimit-Remaining"]))
            writes = _writes(s.url) - before
    finally:
        s.stop()
    # one process alone counts exactly: each request spends one of the budget
    assert all(b == a - 1 for a, b in zip(remaining, remaining[1:])), remaining
    # a lease is up to 64 requests (1/8 of what is left): far fewer writes than requests
    assert 1 <= writes <= 200 / 8, writes


def test_two_servers_never_pass_the_limit_and_lose_at_most_their_leases(opsbase_bin, lease_cli):
    a = oh.serve(opsbase_bin, lease_cli, "--workers", "0", "--metrics-token", TOKEN, env=ON)
    b = oh.serve(opsbase_bin, lease_cli, "--workers", "0", "--metrics-token", TOKEN, env=ON)
    limit = 80
    try:
        with _owner(a.url) as c:
            _limit(c, limit)
            token = c.headers["Authorization"]
        fresh_window(25)
        writes_before = _writes(a.url) + _writes(b.url)
        codes, lock = [], threading.Lock()

        def hammer(url):
            with h.ApiClient(base_url=url, timeout=10, headers={"Authorization": token}) as cl:
                for _ in range(40):
                    st = cl.get(f"{API}/customers", params={"limit": 1}).status_code
                    with lock:
                        codes.append(st)

        ts = [threading.Thread(target=hammer, args=(u,)) for u in (a.url, b.url, a.url, b.url)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        writes = _writes(a.url) + _writes(b.url) - writes_before
    finally:
        a.stop()
        b.stop()
    ok = codes.count(200)
    assert len(codes) == 160 and codes.count(429) == 160 - ok, codes
    # never over; under by at most each server's unspent lease (1/8 of what was left)
    assert limit - 2 * (limit // 8) <= ok <= limit, ok
    assert writes < 160, writes
