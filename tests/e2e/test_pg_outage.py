"""PostgreSQL going away under a running server (issue 3).

The test has its own PostgreSQL server (fixture `pg_factory`) and its own
`opsbase serve --db`, so stopping the database touches nothing else in the
session; it runs whichever engine the session uses, and skips only when no
PostgreSQL server binaries are installed.

While the database is down every request that needs it is answered at once
with 503 and the JSON error `storage_unavailable` (the readiness probe: 503
naming the failed check; no hang, no crash); after
the database is back the same server process serves again, without a
restart.
"""
import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

import helpers as h

# Far below the client's timeout: a request must fail fast, not wait for a
# TCP timeout or a lock.
FAST = 8.0


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _storage_error(r):
    assert r.status_code == 503, h.show(r)
    assert r.headers.get("content-type", "").startswith("application/json"), h.show(r)
    assert r.json()["error"]["code"] == "storage_unavailable", h.show(r)


@pytest.fixture
def outage_server(opsbase_bin, pg_factory, tmp_path):
    pg = pg_factory()
    env = dict(os.environ, OPSBASE_DB=pg.url)
    data = tmp_path / "data"

    def cli(*args):
        r = subprocess.run([str(opsbase_bin), *args, "--data", str(data)], capture_output=True,
                           text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, (args, r.stdout, r.stderr)

    cli("tenant", "create", "outage", "--plan", "business", "--owner-email", "owner@outage.test",
        "--owner-password", h.OWNER_PASSWORD)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    stderr = open(tmp_path / "serve.stderr", "wb")
    proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), "--db", pg.url,
                             "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=stderr, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    try:
        def healthy():
            assert proc.poll() is None, h.tail(tmp_path / "serve.stderr")
            try:
                return httpx.get(url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False
        _wait(healthy, 20, "opsbase serve to start")
        yield url, pg, proc, tmp_path / "serve.stderr"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stderr.close()


def test_database_outage_is_503_and_recovers_without_restart(outage_server):
    url, pg, proc, stderr_path = outage_server
    r = h.login_raw(url, "outage", "owner@outage.test", h.OWNER_PASSWORD)
    token = h.ok(r)["token"]
    client = httpx.Client(base_url=url, timeout=h.HTTP_TIMEOUT,
                          headers={"Authorization": f"Bearer {token}"})
    with client:
        before = h.create_customer(client)
        h.ok(client.get(f"/api/v1/customers/{before['id']}"))
        assert httpx.get(url + "/readyz", timeout=5).status_code == 200

        pg.stop()

        # Every kind of request that needs the database: read, list, write,
        # login, the readiness probe. Each is a quick 503 with a JSON body.
        calls = [
            lambda: client.get(f"/api/v1/customers/{before['id']}"),
            lambda: client.get("/api/v1/customers"),
            lambda: client.post("/api/v1/customers",
                                json={"customer_code": h.uniq("C-"), "company_name": "down"}),
            lambda: h.login_raw(url, "outage", "owner@outage.test", h.OWNER_PASSWORD),
        ]
        for _ in range(2):  # the second round uses connections the first one dropped
            for call in calls:
                t0 = time.monotonic()
                r = call()
                assert time.monotonic() - t0 < FAST, f"took {time.monotonic() - t0:.1f}s: {h.show(r)}"
                _storage_error(r)
            # the readiness probe is a quick 503 that names the failed check
            t0 = time.monotonic()
            r = httpx.get(url + "/readyz", timeout=h.HTTP_TIMEOUT)
            assert time.monotonic() - t0 < FAST, f"took {time.monotonic() - t0:.1f}s: {h.show(r)}"
            assert r.status_code == 503, h.show(r)
            assert r.json()["status"] == "not_ready" and "database" in r.json()["failed"], h.show(r)
        # The process itself stays up and answers what needs no database.
        assert proc.poll() is None, h.tail(stderr_path)
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200

        pg.start()

        def serving():
            return client.get(f"/api/v1/customers/{before['id']}").status_code == 200
        _wait(serving, 30, "the server to serve again after the database came back")
        assert proc.poll() is None, "the server was restarted or died"
        after = h.create_customer(client)
        assert after["id"] != before["id"]
        ids = {c["id"] for c in h.list_all(client, "customers")}
        assert {before["id"], after["id"]} <= ids
        h.ok(h.login_raw(url, "outage", "owner@outage.test", h.OWNER_PASSWORD))
        assert httpx.get(url + "/readyz", timeout=5).status_code == 200
