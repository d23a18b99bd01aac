"""What a start costs with many tenants (issue #20, bench/results.md).

`serve` reads no tenant database at start: each tenant's schema stamp is
checked on its first use, and a tenant left behind by an older binary is
migrated then. These servers run without job workers, and the sweep that
still counts the job queues (--workers 0) makes its first pass only after a
poll interval of ten minutes, so only the requests below open connections."""
import subprocess
import time

import httpx
import pytest

import helpers as h
from conftest import _free_port, _stop

TOKEN = "pool-metrics-" + "x" * 20


def _start(opsbase_bin, data, db, *extra):
    port = _free_port()
    proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), *db, "--listen", f"127.0.0.1:{port}",
                             "--metrics-token", TOKEN, "--workers", "0", "--job-poll-ms", "600000", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    _stop(proc)
    raise AssertionError("server did not start")


def _login(url, slug):
    r = h.login_raw(url, slug, f"o@{slug}.test", h.OWNER_PASSWORD)
    assert r.status_code == 200, r.text
    c = h.ApiClient(base_url=url, timeout=h.HTTP_TIMEOUT)
    c.headers["Authorization"] = "Bearer " + r.json()["token"]
    return c


def test_a_start_reads_no_tenant_database_and_checks_each_on_first_use(opsbase_bin, tmp_path, database):
    """A tenant left at an older stamp is migrated on its first request, not
    at start; one from a newer binary is refused (503) while the others
    serve. SQLite: the stamp is PRAGMA user_version."""
    if database:
        pytest.skip("SQLite's stamp (user_version) is moved here; PostgreSQL: the next test")
    data = tmp_path / "data"
    cli = h.Cli(opsbase_bin, data)
    for s in ("lazya", "lazyb", "lazyc"):
        cli.run("tenant", "create", s, "--plan", "business", "--owner-email", f"o@{s}.test",
                "--owner-password", h.OWNER_PASSWORD)
        h.relax_session_policy(data, s)
    with h.sqlite_db(data / "tenants" / "lazya.db") as c:
        want = c.execute("PRAGMA user_version").fetchone()[0]
    with h.sqlite_db(data / "tenants" / "lazyb.db") as c:
        c.execute("PRAGMA user_version = %d" % (want - 1))  # as an older binary left it
    with h.sqlite_db(data / "tenants" / "lazyc.db") as c:
        c.execute("PRAGMA user_version = 999")  # a newer binary's
    proc, url = _start(opsbase_bin, data, ())
    try:
        # started (and answering) without reading a tenant: the one behind is
        # still behind (a /metrics scrape opens none)
        with h.sqlite_db(data / "tenants" / "lazyb.db") as c:
            assert c.execute("PRAGMA user_version").fetchone()[0] == want - 1, "touched at start"
        a = _login(url, "lazya")
        assert h.page(a, "customers")["data"] == []
        b = _login(url, "lazyb")  # its first use runs the migration: stamped again
        assert h.create_customer(b, name="Lazy")["name"] == "Lazy"
        with h.sqlite_db(data / "tenants" / "lazyb.db") as c:
            assert c.execute("PRAGMA user_version").fetchone()[0] == want
        r = h.login_raw(url, "lazyc", "o@lazyc.test", h.OWNER_PASSWORD)
        assert r.status_code == 503, r.text
        assert "upgrade opsbase" in r.json()["error"]["message"]
        assert h.page(a, "customers")["data"] == []  # the others still serve
        a.close()
        b.close()
    finally:
        _stop(proc)


def test_postgres_a_newer_tenant_does_not_stop_the_start_and_answers_503(opsbase_bin, tmp_path, database):
    """PostgreSQL's stamp is the schema's MAX(version) of schema_migrations,
    read on the tenant's first use (peek_version): a start with a tenant
    from a newer binary serves the others and refuses only that one."""
    if not database:
        pytest.skip("PostgreSQL only; SQLite: the test above")
    data = tmp_path / "data"
    cli = h.Cli(opsbase_bin, data)
    for s in ("lazypa", "lazypc"):
        cli.run("tenant", "create", s, "--plan", "business", "--owner-email", f"o@{s}.test",
                "--owner-password", h.OWNER_PASSWORD, "--db", database)
        h.relax_session_policy(data, s)
    subprocess.run(["psql", database, "-v", "ON_ERROR_STOP=1", "-qc",
                    'INSERT INTO "tenant_lazypc".schema_migrations VALUES '
                    "(999, '2030-01-01T00:00:00.000Z', 'from the future')"], check=True, capture_output=True)
    proc, url = _start(opsbase_bin, data, ("--db", database))
    try:
        a = _login(url, "lazypa")
        assert h.page(a, "customers")["data"] == []
        r = h.login_raw(url, "lazypc", "o@lazypc.test", h.OWNER_PASSWORD)
        assert r.status_code == 503, r.text
        assert "upgrade opsbase" in r.json()["error"]["message"]
        assert h.create_customer(a, name="Lazy")["name"] == "Lazy"  # the others still serve
        a.close()
    finally:
        _stop(proc)
