"""A GET never takes a write lock (but an export, which is logged).

The storage core logs every write lock it grants at debug level ("write lock",
with its database). This test runs a server of its own at that level with no
job workers (nothing writes in the background), writes some rows, then reads
every collection the OpenAPI document lists, each created row, the signed-in
user and the probes, and checks that not one write lock was granted meanwhile.
A POST afterwards must show up in the same log, so silence means no lock, not
a log that does not work. Runs on both engines.
"""
import json
import os
import subprocess
import time

import httpx
import pytest

import conftest
import helpers as h


@pytest.fixture(scope="module")
def env(opsbase_bin, tmp_path_factory, database):
    base = tmp_path_factory.mktemp("reads")
    data = base / "data"
    data.mkdir()
    cli = h.Cli(opsbase_bin, data)
    slug = h.slug()
    cli.tenant_create(slug)
    port = conftest._free_port()
    url = f"http://127.0.0.1:{port}"
    stderr_path = base / "server.stderr"
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            [str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
             "--log-level", "debug", "--workers", "0",
             *(("--db", database) if database else ())],
            stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
            start_new_session=True, env=dict(os.environ))
    try:
        deadline = time.monotonic() + conftest.STARTUP_TIMEOUT
        while True:
            assert proc.poll() is None, h.tail(stderr_path)
            try:
                if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, h.tail(stderr_path)
            time.sleep(0.05)
        r = h.login_raw(url, slug, f"owner@{slug}.test", h.OWNER_PASSWORD)
        assert r.status_code == 200, h.show(r)
        client = h.ApiClient(base_url=url, timeout=h.HTTP_TIMEOUT,
                             headers={"Authorization": f"Bearer {r.json()['token']}"})
        yield url, client, stderr_path, slug
        client.close()
    finally:
        conftest._stop(proc)


def write_locks(stderr_path):
    """The write locks requests took so far, as (database, line) pairs. The read log
    (audited reads of personal rows, issue #17) writes after the response on a thread
    of its own, announcing each flush: the next write lock of that database is its own,
    not a request's (only GETs run while this test compares)."""
    out = []
    flushes = {}
    with open(stderr_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            db = rec.get("database")
            if rec.get("msg") == "read log flush":
                flushes[db] = flushes.get(db, 0) + 1
            elif rec.get("msg") == "write lock":
                if flushes.get(db):
                    flushes[db] -= 1
                else:
                    out.append((db, line.strip()))
    return out


def test_get_requests_take_no_write_lock(env):
    url, client, stderr_path, slug = env
    # some rows to read back one by one
    customer = h.create_customer(client)
    ticket = h.create_ticket(client, customer["id"])
    before = write_locks(stderr_path)
    assert any(db == slug for db, _ in before), "the writes above were not logged"

    paths = h.ok(client.get("/api/openapi.json"))["paths"]
    # an export is the one GET that writes: every export is logged in export_logs
    # (issue #12), in its own transaction after the rows are read
    collections = [p for p, ops in paths.items()
                   if "get" in ops and p.startswith("/api/v1/") and "{" not in p and not p.endswith("/export")]
    assert len(collections) > 50
    statuses = {}
    for p in collections:
        r = client.get(p)
        statuses[p] = r.status_code
        assert r.status_code < 500, h.show(r)
    # most collections list for the owner; the rest refuse without writing
    assert sum(1 for s in statuses.values() if s == 200) > 50
    h.ok(client.get(f"/api/v1/customers/{customer['id']}"))
    h.ok(client.get(f"/api/v1/tickets/{ticket['id']}"))
    h.ok(client.get("/api/v1/customers", params={"q": "x", "sort": "-created_at", "limit": 5}))
    h.ok(client.get("/api/v1/auth/me"))
    h.expect_error(client.get("/api/v1/customers/00000000-0000-7000-8000-000000000000"), 404,
                   "not_found")
    assert httpx.get(url + "/healthz", timeout=h.HTTP_TIMEOUT).status_code == 200
    # /readyz opens one tenant (its database check), under ASan on a busy
    # machine not fast, and its speed is not what this checks
    assert httpx.get(url + "/readyz", timeout=h.WAIT_S).status_code == 200

    after = write_locks(stderr_path)
    assert after == before, "GET requests took write locks:\n" + "\n".join(
        line for _, line in after[len(before):])

    # the log still sees a write
    h.create_customer(client)
    assert len(write_locks(stderr_path)) > len(after)
