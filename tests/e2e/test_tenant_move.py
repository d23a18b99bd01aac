"""Placements and `opsbase tenant move` (issue #18, "past one server").

Two PostgreSQL clusters on this machine (pg_factory: two data directories, two
ports) and two `opsbase serve` processes on the first. Writers create rows
through both processes while the tenant is moved to the second cluster; every
create that got 201 must be on the new server, both processes must answer for
the tenant from there, and the old server must no longer serve it.

Short form in `make test`; OPSBASE_MOVE_SEED (rows made before the move) and
OPSBASE_MOVE_AFTER_S (seconds of writing after it) make the long form
(`make move-long`, part of `make test-long`).
"""
import os
import re
import subprocess
import threading
import time

import httpx
import pytest

import helpers as h
from conftest import _free_port, _stop

SEED = int(os.environ.get("OPSBASE_MOVE_SEED", "150"))
AFTER_S = float(os.environ.get("OPSBASE_MOVE_AFTER_S", "1.5"))
SLUG = "mover"


def _serve(binary, data, db, tmp_path, name):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    err = open(tmp_path / f"{name}.stderr", "wb")
    proc = subprocess.Popen([str(binary), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
                             "--db", db], stdout=subprocess.DEVNULL, stderr=err,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + h.WAIT_S
    while True:
        assert proc.poll() is None, h.tail(tmp_path / f"{name}.stderr")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "opsbase serve did not start"
        time.sleep(0.05)


def _login(url):
    r = h.login_raw(url, SLUG, f"owner@{SLUG}.test", h.OWNER_PASSWORD)
    assert r.status_code == 200, r.text
    return r.json()["token"] if "token" in r.json() else r.json()["access_token"]


class Writer(threading.Thread):
    """Creates customers through one process until stopped; keeps the id of
    every 201 and the status (and Retry-After) of everything else."""

    def __init__(self, url, token, tag):
        super().__init__(daemon=True)
        self.url, self.token, self.tag = url, token, tag
        self.acked, self.others, self.stop = [], [], threading.Event()

    def run(self):
        n = 0
        with httpx.Client(base_url=self.url, timeout=30,
                          headers={"Authorization": f"Bearer {self.token}"}) as c:
            while not self.stop.is_set() and n < 100000:
                n += 1
                try:
                    r = c.post("/api/v1/customers",
                               json={"customer_code": f"{self.tag}-{n}", "company_name": "Move Co"})
                except httpx.HTTPError as exc:
                    self.others.append(("exc", str(exc)))
                    continue
                if r.status_code == 201:
                    self.acked.append(r.json()["id"])
                else:
                    self.others.append((r.status_code, r.headers.get("retry-after"), r.text[:200]))
                    time.sleep(0.05)


def _psql(pg, sql):
    return pg.psql(sql).strip()


@pytest.fixture
def two_clusters(pg_factory, opsbase_bin, tmp_path, monkeypatch):
    a, b = pg_factory(), pg_factory()
    monkeypatch.setenv("OPSBASE_DB", a.url)
    data = tmp_path / "data"
    data.mkdir()
    cli = h.Cli(opsbase_bin, data)
    cli.tenant_create(SLUG, owner_email=f"owner@{SLUG}.test")
    cli.tenant_create("stayer", owner_email="owner@stayer.test")
    procs = []
    try:
        for name in ("p1", "p2"):
            procs.append(_serve(opsbase_bin, data, a.url, tmp_path, name))
        yield a, b, cli, [u for _, u in procs]
    finally:
        for p, _ in procs:
            _stop(p)


def test_move_under_load_keeps_every_acknowledged_write(two_clusters):
    a, b, cli, urls = two_clusters
    tokens = [_login(u) for u in urls]
    with httpx.Client(base_url=urls[0], timeout=30, headers={"Authorization": f"Bearer {tokens[0]}"}) as c:
        for i in range(SEED):
            h.ok(c.post("/api/v1/customers", json={"customer_code": f"seed-{i}", "company_name": "Seed"}), 201)
    writers = [Writer(u, t, f"w{i}") for i, (u, t) in enumerate(zip(urls, tokens))]
    for w in writers:
        w.start()
    time.sleep(0.5)
    started = time.monotonic()
    r = cli.run("tenant", "move", SLUG, "--to", b.url, "--db", a.url, data=False, timeout=300)
    took = time.monotonic() - started
    time.sleep(AFTER_S)
    for w in writers:
        w.stop.set()
    for w in writers:
        w.join(60)
    m = re.search(r"(\d+) table\(s\), (\d+) row\(s\); copy (\d+) ms, write pause (\d+) ms", r.stdout)
    assert m, r.stdout
    print(f"\ntenant move: {r.stdout.strip()} (command {took * 1000:.0f} ms)")

    acked = [i for w in writers for i in w.acked]
    others = [o for w in writers for o in w.others]
    assert len(acked) > 20, (len(acked), others[:5])
    # writes during the pause were refused as retryable, nothing else failed
    assert all(o[0] == 503 and o[1] for o in others), others[:10]
    # both processes wrote after the switch (their last create was acknowledged)
    assert all(w.acked for w in writers)

    # every acknowledged create is on the new server
    on_b = set(_psql(b, f"SELECT id FROM tenant_{SLUG}.customers").split())
    missing = [i for i in acked if i not in on_b]
    assert not missing, f"{len(missing)} acknowledged create(s) missing on the new server"
    assert len(on_b) >= SEED + len(acked)

    # the old server no longer holds it: the schema renamed out of tenant_,
    # and nothing written there after the switch
    assert _psql(a, f"SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_{SLUG}'") == "0"
    old = _psql(a, f"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'moved%\\_{SLUG}'")
    assert old, "the old schema is kept renamed"
    old_ids = set(_psql(a, f'SELECT id FROM "{old}".customers').split())
    assert old_ids <= on_b
    assert len(old_ids) < len(on_b), "rows written after the switch are only on the new server"
    assert _psql(a, f"SELECT server_url || ' ' || state FROM tenant_placements WHERE tenant = '{SLUG}'") \
        == f"{b.url} active"

    # both processes answer for it from the new server: a row made directly
    # there (not through opsbase) is visible through each
    for u, t in zip(urls, tokens):
        with httpx.Client(base_url=u, timeout=30, headers={"Authorization": f"Bearer {t}"}) as c:
            got = h.ok(c.get(f"/api/v1/customers/{acked[-1]}"))
            assert got["id"] == acked[-1]
            made = h.ok(c.post("/api/v1/customers", json={"customer_code": h.uniq("after-"),
                                                           "company_name": "After"}), 201)
            assert _psql(b, f"SELECT count(*) FROM tenant_{SLUG}.customers WHERE id = '{made['id']}'") == "1"
            assert made["id"] not in set(_psql(a, f'SELECT id FROM "{old}".customers').split())
    # another tenant stays where it was and keeps working
    assert _psql(a, "SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_stayer'") == "1"
    assert _psql(b, "SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_stayer'") == "0"
    # both tenants are still listed
    listed = cli.run("tenant", "list", "--db", a.url).stdout
    assert SLUG in listed and "stayer" in listed

    # audited in the platform audit log, with the figures
    row = _psql(a, "SELECT action || ' ' || entity_type || ' ' || (new_values::json->>'from') || ' ' ||"
                   " (new_values::json->>'to') || ' ' || (new_values::json->>'rows') || ' ' ||"
                   " (new_values::json->>'pause_ms') FROM platform_audit_logs WHERE action = 'move'")
    assert row == f"move tenants {a.url} {b.url} {m.group(2)} {m.group(4)}", row

    # deleting the moved tenant drops its schema on the new server and its
    # placement, so the slug starts afresh on the main server
    cli.run("tenant", "delete", SLUG, "--yes", "--db", a.url)
    assert _psql(b, f"SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_{SLUG}'") == "0"
    assert _psql(a, f"SELECT count(*) FROM tenant_placements WHERE tenant = '{SLUG}'") == "0"


def test_move_refusals(two_clusters):
    a, b, cli, urls = two_clusters
    # to the server it is on already
    r = cli.run("tenant", "move", SLUG, "--to", a.url, "--db", a.url, data=False, check=False)
    assert r.returncode == 1 and "already" in r.stderr, r.stderr
    # no such tenant
    r = cli.run("tenant", "move", "nosuch", "--to", b.url, "--db", a.url, data=False, check=False)
    assert r.returncode == 1 and "no tenant" in r.stderr, r.stderr
    # the target holds the schema already: refused, and nothing changed
    b.psql(f"CREATE SCHEMA tenant_{SLUG}")
    r = cli.run("tenant", "move", SLUG, "--to", b.url, "--db", a.url, data=False, check=False)
    assert r.returncode == 1 and "already" in r.stderr, r.stderr
    assert _psql(a, f"SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_{SLUG}'") == "1"
    assert _psql(a, f"SELECT count(*) FROM tenant_placements WHERE tenant = '{SLUG}'") == "0"
    # an unreachable target: refused before anything is paused
    r = cli.run("tenant", "move", SLUG, "--to", f"postgres://postgres@127.0.0.1:{_free_port()}/opsbase",
                "--db", a.url, data=False, check=False)
    assert r.returncode == 1 and "cannot connect" in r.stderr, r.stderr
    assert _psql(a, f"SELECT count(*) FROM tenant_placements WHERE tenant = '{SLUG}'") == "0"
    # the tenant still answers from the old server, writes included
    t = _login(urls[1])
    with httpx.Client(base_url=urls[1], timeout=30, headers={"Authorization": f"Bearer {t}"}) as c:
        h.ok(c.post("/api/v1/customers", json={"customer_code": "still", "company_name": "Still"}), 201)


def test_move_refused_on_sqlite(opsbase_bin, tmp_path, monkeypatch):
    monkeypatch.delenv("OPSBASE_DB", raising=False)
    cli = h.Cli(opsbase_bin, tmp_path / "data")
    cli.tenant_create("acme")
    r = cli.run("tenant", "move", "acme", "--to", "postgres://postgres@127.0.0.1:1/opsbase", check=False)
    assert r.returncode == 1, r
    assert "PostgreSQL" in r.stderr and "SQLite" in r.stderr, r.stderr
