"""A tenant's purge run by the server itself (issue #17): `serve` erases the
tenants whose scheduled deletion is due (--purge-every; the test server runs it
every second), writing the tombstone first in state `purging`, then removing
the database and files, then marking it `done`; a purge cut short (a tombstone
left `purging`, the tenant still there or already gone) is finished by the next
run; purges racing on one tenant leave one tombstone. Both engines."""
import concurrent.futures
import datetime as dt
import json
import time
import uuid

import helpers as h
import platform_helpers as ph
from platform_helpers import PLATFORM, platform_admin  # noqa: F401 (a fixture)


def tenant_id(admin, slug):
    rows = h.ok(admin.get(f"{PLATFORM}/tenants", params={"slug": slug}))["data"]
    return rows[0]["id"]


def make_due(server, admin, slug):
    """Scheduled by the platform's DELETE, then its grace period made over."""
    tid = tenant_id(admin, slug)
    r = admin.delete(f"{PLATFORM}/tenants/{tid}")
    assert r.status_code in (200, 204), h.show(r)
    past = h.fmt_ts(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    ph.control_rows(server, f"UPDATE tenants SET deletion_due_at = '{past}' WHERE id = '{tid}'")
    return tid


def tombstones(admin, slug):
    return h.ok(admin.get(f"{PLATFORM}/tenant_tombstones", params={"slug": slug}))["data"]


def until_done(admin, slug, wait=20.0):
    deadline = time.monotonic() + wait
    while True:
        rows = tombstones(admin, slug)
        if (rows and all(r["state"] == "done" for r in rows)) or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def gone(server, admin, t, tid):
    h.expect_error(admin.get(f"{PLATFORM}/tenants/{tid}"), 404, "not_found")
    assert ph.control_rows(server, f"SELECT id FROM tenants WHERE slug = '{t.slug}'") == []
    assert not (server.data / "files" / t.slug).exists()
    if not server.db_url:
        assert not (server.data / "tenants" / f"{t.slug}.db").exists()
    else:
        schema = "tenant_" + t.slug.replace("-", "_")
        assert ph.control_rows(server, f"SELECT 1 FROM information_schema.schemata WHERE schema_name = '{schema}'") == []


def test_the_server_purges_a_due_tenant_itself(server, platform_admin, new_tenant):
    t = new_tenant()
    h.create_customer(t.owner, name="Purged By Serve")
    h.upload_file(t.owner)
    assert (server.data / "files" / t.slug).is_dir()
    before = dt.datetime.now(dt.timezone.utc)
    tid = make_due(server, platform_admin, t.slug)
    rows = until_done(platform_admin, t.slug)
    assert len(rows) == 1 and rows[0]["state"] == "done", rows
    tomb = rows[0]
    assert tomb["tenant_id"] == tid and before - dt.timedelta(seconds=1) <= h.parse_ts(tomb["completed_at"])
    assert h.parse_ts(tomb["deleted_at"]) <= h.parse_ts(tomb["completed_at"])
    cert = json.loads(tomb["certificate"])
    assert cert["slug"] == t.slug and cert["tables"]["customers"] == 1 and cert["tables"]["files"] == 1
    gone(server, platform_admin, t, tid)
    assert t.owner.get("/api/v1/customers").status_code == 401


def _purging_tombstone(server, t, tid):
    """The control row a purge writes before it removes anything: what a crash
    right after it leaves behind (some minutes ago: a younger one may be a purge
    under way in another process, which the run leaves to it)."""
    now = h.fmt_ts(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5))
    tomb = str(uuid.uuid4())
    ph.control_rows(server, "INSERT INTO tenant_tombstones (id, created_at, slug, tenant_id, deleted_at, tables, "
                            "rows_removed, checksum, certificate, signature, state) VALUES "
                            f"('{tomb}', '{now}', '{t.slug}', '{tid}', '{now}', '{{}}', 0, '{'0' * 64}', "
                            f"'{{}}', '{'0' * 64}', 'purging')")
    return tomb


def test_a_purge_cut_short_is_finished_by_the_next_run(server, platform_admin, new_tenant):
    # a purge under way in another process (its tombstone just written) is left alone
    t0 = new_tenant()
    tid0 = tenant_id(platform_admin, t0.slug)
    young = str(uuid.uuid4())
    now = h.fmt_ts(dt.datetime.now(dt.timezone.utc))
    ph.control_rows(server, "INSERT INTO tenant_tombstones (id, created_at, slug, tenant_id, deleted_at, tables, "
                            "rows_removed, checksum, certificate, signature, state) VALUES "
                            f"('{young}', '{now}', '{t0.slug}', '{tid0}', '{now}', '{{}}', 0, '{'0' * 64}', "
                            f"'{{}}', '{'0' * 64}', 'purging')")
    time.sleep(2.5)  # two runs of the server's purge
    assert [r["state"] for r in tombstones(platform_admin, t0.slug)] == ["purging"]
    assert h.ok(platform_admin.get(f"{PLATFORM}/tenants/{tid0}"))["slug"] == t0.slug

    # the tombstone was written, the database not yet dropped
    t = new_tenant()
    h.upload_file(t.owner)
    tid = tenant_id(platform_admin, t.slug)
    tomb = _purging_tombstone(server, t, tid)
    rows = until_done(platform_admin, t.slug)
    assert [(r["id"], r["state"]) for r in rows] == [(tomb, "done")] and rows[0]["completed_at"]
    gone(server, platform_admin, t, tid)

    # the database was dropped, the tombstone not yet marked done: marked, nothing else
    t2 = new_tenant()
    tid2 = tenant_id(platform_admin, t2.slug)
    server.cli.run("tenant", "delete", t2.slug, "--yes", *(("--db", server.db_url) if server.db_url else ()))
    tomb2 = _purging_tombstone(server, t2, tid2)
    rows = until_done(platform_admin, t2.slug)
    assert [(r["id"], r["state"]) for r in rows] == [(tomb2, "done")]


def test_racing_purges_leave_one_tombstone(server, platform_admin, new_tenant):
    t = new_tenant()
    h.create_customer(t.owner)
    tid = make_due(server, platform_admin, t.slug)
    args = ["tenant", "purge-due", *(("--db", server.db_url) if server.db_url else ())]
    # the server's own run races these two
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: server.cli.run(*args, check=False), range(2)))
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    rows = until_done(platform_admin, t.slug)
    assert len(rows) == 1 and rows[0]["state"] == "done" and rows[0]["tenant_id"] == tid, rows
    gone(server, platform_admin, t, tid)
