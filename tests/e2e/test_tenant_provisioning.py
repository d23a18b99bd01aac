"""A tenant create holds no control write lock while the tenant's database is
made (platform/tenants.h ob_tenant_create): its row is committed with status
provisioning, the database made and seeded, then the row made active. Made
deterministic by the test hook OPSBASE_TEST_PROVISION_PAUSE (a directory: a
create waits before it makes the tenant active while a file named after its
slug is there, and writes "<slug>.paused" when it begins to wait; a file saying
"fail" fails it there). Each test runs servers of its own on a store of its own
(on PostgreSQL a database of its own). Both engines."""
import concurrent.futures
import os
import subprocess
import time

import httpx
import pytest

import helpers as h
from obs_helpers import make_cli, serve
from platform_helpers import PLATFORM, client, create_admin, enrol

# shorter than the 5 s a control write waits for the lock before it answers
# 503: an answer within it did not wait for the paused create
FAST_S = 4.0


class Store:
    def __init__(self, cli, pause_dir):
        self.cli, self.pause_dir = cli, pause_dir
        self.served = None

    def start(self, *flags):
        self.served = serve(self.cli.binary, self.cli, *flags,
                            env={"OPSBASE_TEST_PROVISION_PAUSE": str(self.pause_dir)})
        return self.served

    def control(self, sql):
        """Rows of one statement on the control database (text values)."""
        if self.cli.db:
            r = subprocess.run(["psql", self.cli.db, "-v", "ON_ERROR_STOP=1", "-AtF", "\t", "-c", sql],
                               check=True, capture_output=True, text=True)
            return [tuple(line.split("\t")) for line in r.stdout.splitlines() if line]
        with h.sqlite_db(os.path.join(self.cli.data, "control.db")) as c:
            return [tuple("" if v is None else str(v) for v in row) for row in c.execute(sql)]

    def database_exists(self, slug):
        if self.cli.db:
            schema = "tenant_" + slug.replace("-", "_")
            r = subprocess.run(["psql", self.cli.db, "-Atc",
                                f"SELECT COUNT(*) FROM pg_namespace WHERE nspname = '{schema}'"],
                               check=True, capture_output=True, text=True)
            return r.stdout.strip() == "1"
        return os.path.exists(os.path.join(self.cli.data, "tenants", f"{slug}.db"))

    def row(self, slug):
        rows = self.control(f"SELECT status FROM tenants WHERE slug = '{slug}'")
        return rows[0][0] if rows else None

    def backdate(self, slug):
        """Make a provisioning row look 20 minutes old (past OB_PROVISION_STALE_MS)."""
        if self.cli.db:
            self.control(f"UPDATE tenants SET created_at = created_at - interval '20 minutes' WHERE slug = '{slug}'")
        else:
            self.control(f"UPDATE tenants SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-20 minutes') "
                         f"WHERE slug = '{slug}'")

    def pause(self, slug, text=""):
        (self.pause_dir / slug).write_text(text)

    def resume(self, slug):
        (self.pause_dir / slug).unlink()

    def wait_paused(self, slug, pending=None):
        deadline = time.monotonic() + h.WAIT_S
        while not (self.pause_dir / f"{slug}.paused").exists():
            if pending is not None and pending.done():
                raise AssertionError(f"the create ended before it paused: {pending.result()}")
            assert time.monotonic() < deadline, f"the create of {slug} never reached the pause"
            time.sleep(0.02)


@pytest.fixture
def store(opsbase_bin, tmp_path_factory, database, tmp_path):
    cli = make_cli(opsbase_bin, tmp_path_factory, "prov", database, tenants=("base",))
    pause_dir = tmp_path / "pause"
    pause_dir.mkdir()
    st = Store(cli, pause_dir)
    st.start()
    email = create_admin(cli)
    token, _, _ = enrol(st.served.url, email)
    st.admin_email, st.token = email, token
    yield st
    for f in pause_dir.iterdir():  # a paused create must not hold the server's stop
        f.unlink()
    st.served.stop()


def _body(slug):
    return {"slug": slug, "plan": "business", "owner_email": f"owner@{slug}.test", "owner_password": h.OWNER_PASSWORD}


def _post(url, token, slug):
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.post(f"{PLATFORM}/tenants", json=_body(slug))
        return r.status_code, r.text


def _timed(fn, *args):
    t0 = time.monotonic()
    r = fn(*args)
    return r, time.monotonic() - t0


def _signin(url, slug):
    r = h.login_raw(url, slug, f"owner@{slug}.test", h.OWNER_PASSWORD)
    return r.status_code, r.json().get("error", {}).get("code") if r.status_code != 200 else "ok"


def test_control_writes_go_on_while_a_create_is_paused(store):
    url, a, b = store.served.url, h.slug(), h.slug()
    store.pause(a)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(_post, url, store.token, a)
        store.wait_paused(a, pending)
        # a's database is made and seeded, its row committed as provisioning
        assert store.row(a) == "provisioning" and store.database_exists(a)
        # another create completes: the control database is not locked
        (code, text), took = _timed(_post, url, store.token, b)
        assert code == 201 and took < FAST_S, (code, text, took)
        # a super admin signs in (a challenge row, then a session row) and suspends a tenant
        other = create_admin(store.cli)
        (token2, _, _), took = _timed(enrol, url, other)
        assert took < FAST_S, took
        with client(url, token2) as pc:
            tid = store.control("SELECT id FROM tenants WHERE slug = 'base'")[0][0]
            r, took = _timed(pc.post, f"{PLATFORM}/tenants/{tid}/suspend")
            assert h.ok(r)["status"] == "suspended" and took < FAST_S, took
            h.ok(pc.post(f"{PLATFORM}/tenants/{tid}/resume"))
            # the platform's list shows the create in flight with its status
            rows = [x for x in h.ok(pc.get(f"{PLATFORM}/tenants", params={"limit": 200}))["data"] if x["slug"] == a]
            assert [x["status"] for x in rows] == ["provisioning"] and rows[0]["provisioned_at"] is None
            # and its actions do not apply to it
            assert pc.post(f"{PLATFORM}/tenants/{rows[0]['id']}/suspend").status_code == 422
        # the tenant is none yet: sign-in answers as for a slug never made
        assert _signin(url, a) == _signin(url, "never-made-" + h.uniq().lower())
        assert _signin(url, a)[0] == 401
        # a second create of the slug is a conflict at once
        (code, _), took = _timed(_post, url, store.token, a)
        assert code == 409 and took < FAST_S
        # the command line: listed as provisioning, not deleted under the create, not counted
        listed = store.cli.run("tenant", "list").stdout
        assert any(line.split()[0] == a and line.split()[-1] == "provisioning" for line in listed.splitlines())
        r = store.cli.run("tenant", "delete", a, "--yes", check=False)
        assert r.returncode != 0 and "being provisioned" in r.stderr, r.stderr
        assert store.database_exists(a)
        r = httpx.get(url + "/readyz", timeout=30)  # opens the first tenant: a is skipped
        assert r.status_code == 200 and r.json()["checks"]["database"]["tenants"] == 2, h.show(r)
        store.resume(a)
        code, text = pending.result(timeout=60)
    assert code == 201, text
    assert store.row(a) == "active"
    assert store.control(f"SELECT provisioned_at IS NOT NULL FROM tenants WHERE slug = '{a}'")[0][0] in ("1", "t")
    assert _signin(url, a) == (200, "ok")
    assert _signin(url, b) == (200, "ok")


def test_two_racing_creates_of_one_slug_are_one_201_and_one_409(store):
    url, s = store.served.url, h.slug()
    store.pause(s)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = pool.submit(_post, url, store.token, s)
        store.wait_paused(s, first)
        # the loser is answered while the winner is still provisioning
        code, text = pool.submit(_post, url, store.token, s).result(timeout=FAST_S)
        assert code == 409 and '"conflict"' in text, (code, text)
        store.resume(s)
        assert first.result(timeout=60)[0] == 201
    # and unpaused, raced for real: never 503
    s2 = h.slug()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        codes = sorted(c for c, _ in pool.map(lambda _: _post(url, store.token, s2), range(2)))
    assert codes == [201, 409], codes
    assert len(store.control(f"SELECT id FROM tenants WHERE slug = '{s2}'")) == 1


def test_a_create_failing_after_its_rows_leaves_nothing_and_the_slug_is_free(store):
    url, s = store.served.url, h.slug()
    store.pause(s, "fail")
    code, text = _post(url, store.token, s)
    assert code == 500, text
    assert store.row(s) is None
    # the platform's audit keeps the create rows and says why the tenant never came to be
    tid = store.control(f"SELECT entity_id FROM platform_audit_logs WHERE action = 'create' AND "
                        f"entity_type = 'tenants' AND CAST(new_values AS TEXT) LIKE '%\"{s}\"%'")[0][0]
    failed = store.control(f"SELECT new_values FROM platform_audit_logs WHERE action = 'provision_failed' AND "
                           f"entity_id = '{tid}'")
    assert len(failed) == 1 and "test hook" in failed[0][0], failed
    assert not store.control("SELECT s.id FROM subscriptions s LEFT JOIN tenants t ON t.id = s.tenant_id "
                             "WHERE t.id IS NULL")
    assert not store.database_exists(s)
    store.resume(s)
    assert _post(url, store.token, s)[0] == 201
    assert _signin(url, s) == (200, "ok")


def test_a_crashed_create_is_reaped_once_stale(store):
    url, s, t = store.served.url, h.slug(), h.slug()
    for slug in (s, t):
        store.pause(slug)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        ps = pool.submit(_post, url, store.token, s)
        pt = pool.submit(_post, url, store.token, t)
        store.wait_paused(s, ps)
        store.wait_paused(t, pt)
        store.served.proc.kill()  # SIGKILL mid-provisioning
        store.served.proc.wait(timeout=30)
        for p in (ps, pt):
            with pytest.raises(httpx.HTTPError):
                p.result(timeout=60)
    for slug in (s, t):
        store.resume(slug)
        assert store.row(slug) == "provisioning" and store.database_exists(slug)
    # a restart soon after leaves them (another process may be creating them)
    served = store.start()
    url = served.url
    assert store.row(s) == "provisioning"
    assert _signin(url, s)[0] == 401
    assert _post(url, store.token, s)[0] == 409
    # once stale: the next create of the slug removes the leftover and succeeds
    store.backdate(s)
    assert _post(url, store.token, s)[0] == 201
    assert store.row(s) == "active" and _signin(url, s) == (200, "ok")
    # and a start removes every stale one, database and row
    store.backdate(t)
    store.served.stop()
    store.start()
    assert store.row(t) is None and not store.database_exists(t)
    assert not store.control("SELECT id FROM subscriptions WHERE tenant_id NOT IN (SELECT id FROM tenants)")
    assert _post(store.served.url, store.token, t)[0] == 201


def test_a_running_server_reaps_a_stale_one_on_its_purge_runs(store):
    url, u = store.served.url, h.slug()
    store.pause(u)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(_post, url, store.token, u)
        store.wait_paused(u, pending)
        store.served.proc.kill()
        store.served.proc.wait(timeout=30)
        with pytest.raises(httpx.HTTPError):
            pending.result(timeout=60)
    store.resume(u)
    store.start("--purge-every", "1s")
    assert store.row(u) == "provisioning"
    store.backdate(u)  # stale now: the next purge run (within a second) removes it, no restart
    deadline = time.monotonic() + h.WAIT_S
    while store.row(u) is not None:
        assert time.monotonic() < deadline, "the stale provisioning row was not removed"
        time.sleep(0.1)
    assert not store.database_exists(u)
    assert _post(store.served.url, store.token, u)[0] == 201

