"""A tenant's erasure (issue #17): a super admin's DELETE /api/v1/platform/
tenants/{id} suspends the tenant (writes 423) and schedules its erasure after the
grace period (30 days by default); cancel_deletion restores it; when due,
`opsbase tenant purge-due` (given a fixed clock with --now) removes its database
and files and leaves a tombstone in the control database with a signed deletion
certificate the platform can fetch. Both engines."""
import datetime as dt
import hashlib
import json
import re

import helpers as h
import platform_helpers as ph
from platform_helpers import PLATFORM, platform_admin  # noqa: F401 (a fixture)


def tenant_id(admin, slug):
    rows = h.ok(admin.get(f"{PLATFORM}/tenants", params={"slug": slug}))["data"]
    assert [r["slug"] for r in rows] == [slug]
    return rows[0]["id"]


def purge(server, now):
    args = ["tenant", "purge-due", "--now", h.fmt_ts(now)]
    if server.db_url:
        args += ["--db", server.db_url]
    return server.cli.run(*args)


def test_delete_suspends_cancel_restores_and_purge_leaves_a_signed_tombstone(server, platform_admin, new_tenant):
    t = new_tenant()
    owner = t.owner
    h.create_customer(owner, name="Gone Soon")
    f = h.upload_file(owner)
    files_dir = server.data / "files" / t.slug
    assert files_dir.is_dir()
    tid = tenant_id(platform_admin, t.slug)

    before = dt.datetime.now(dt.timezone.utc)
    r = platform_admin.delete(f"{PLATFORM}/tenants/{tid}")
    assert r.status_code in (200, 204), h.show(r)
    got = h.ok(platform_admin.get(f"{PLATFORM}/tenants/{tid}"))
    assert got["status"] == "suspended"
    due = h.parse_ts(got["deletion_due_at"])
    assert before + dt.timedelta(days=30) - dt.timedelta(seconds=5) <= due <= \
        dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)
    h.expect_error(owner.post("/api/v1/customers", json={"name": "During"}), 423, "tenant_suspended")
    assert h.get(owner, "files", f["id"])["id"] == f["id"]  # reads still work

    # cancel restores it; cancelling again is refused
    back = h.ok(platform_admin.post(f"{PLATFORM}/tenants/{tid}/cancel_deletion"))
    assert back["status"] == "active" and back["deletion_due_at"] is None
    h.create_customer(owner, name="Still Here")
    h.expect_error(platform_admin.post(f"{PLATFORM}/tenants/{tid}/cancel_deletion"), 422, "invalid_transition")
    # a suspended tenant without a scheduled erasure cannot be "cancelled" into activity
    h.ok(platform_admin.post(f"{PLATFORM}/tenants/{tid}/suspend"))
    h.expect_error(platform_admin.post(f"{PLATFORM}/tenants/{tid}/cancel_deletion"), 422, "invalid_transition")

    # scheduled again (from suspended); a second DELETE keeps the first due time
    platform_admin.delete(f"{PLATFORM}/tenants/{tid}")
    due = h.parse_ts(h.ok(platform_admin.get(f"{PLATFORM}/tenants/{tid}"))["deletion_due_at"])
    platform_admin.delete(f"{PLATFORM}/tenants/{tid}")
    assert h.parse_ts(h.ok(platform_admin.get(f"{PLATFORM}/tenants/{tid}"))["deletion_due_at"]) == due
    counts = {"customers": len(h.list_all(owner, "customers")), "files": len(h.list_all(owner, "files"))}

    # a fixed clock: a minute before the due time nothing happens, after it the tenant goes
    assert "erased" not in purge(server, due - dt.timedelta(minutes=1)).stdout
    assert h.ok(platform_admin.get(f"{PLATFORM}/tenants/{tid}"))["status"] == "suspended"
    out = purge(server, due + dt.timedelta(seconds=1)).stdout
    assert f'tenant "{t.slug}" erased' in out
    assert ph.control_rows(server, f"SELECT id FROM tenants WHERE slug = '{t.slug}'") == []
    h.expect_error(platform_admin.get(f"{PLATFORM}/tenants/{tid}"), 404, "not_found")
    assert owner.get("/api/v1/customers").status_code == 401
    assert not files_dir.exists()
    if not server.db_url:
        assert not (server.data / "tenants" / f"{t.slug}.db").exists()
    else:
        schema = "tenant_" + t.slug.replace("-", "_")
        assert ph.control_rows(server, f"SELECT 1 FROM information_schema.schemata WHERE schema_name = '{schema}'") == []

    # the tombstone and its certificate
    rows = h.ok(platform_admin.get(f"{PLATFORM}/tenant_tombstones", params={"slug": t.slug}))["data"]
    assert len(rows) == 1
    tomb = h.ok(platform_admin.get(f"{PLATFORM}/tenant_tombstones/{rows[0]['id']}"))
    cert = json.loads(tomb["certificate"])
    assert cert["slug"] == t.slug and cert["tenant_id"] == tid
    assert h.parse_ts(cert["deleted_at"]) == due + dt.timedelta(seconds=1)
    assert cert["deletion_due_at"] == tomb["deletion_due_at"]
    assert cert["tables"]["customers"] == counts["customers"] == 2 and cert["tables"]["files"] == counts["files"]
    assert cert["rows_removed"] == sum(cert["tables"].values()) == tomb["rows_removed"]
    assert tomb["tables"] == cert["tables"]
    assert tomb["checksum"] == hashlib.sha256(tomb["certificate"].encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", tomb["signature"]) and tomb["signature"] != tomb["checksum"]
    # nothing of the tenant's content is in it
    assert "Gone Soon" not in json.dumps(tomb)
    # read-only; the scheduling is in the platform audit log
    assert platform_admin.post(f"{PLATFORM}/tenant_tombstones", json={}).status_code == 405
    acts = [r[0] for r in ph.control_rows(
        server, f"SELECT action FROM platform_audit_logs WHERE entity_id = '{tid}' ORDER BY seq")]
    assert acts.count("schedule_deletion") >= 2 and "cancel_deletion" in acts
    # another run erases nothing more
    assert "erased" not in purge(server, due + dt.timedelta(days=1)).stdout


def test_only_super_admins_reach_it(server, platform_admin, new_tenant):
    t = new_tenant()
    tid = tenant_id(platform_admin, t.slug)
    for r in (t.owner.delete(f"{PLATFORM}/tenants/{tid}"),
              t.owner.post(f"{PLATFORM}/tenants/{tid}/cancel_deletion"),
              t.owner.get(f"{PLATFORM}/tenant_tombstones")):
        assert r.status_code == 401, h.show(r)
    h.expect_error(platform_admin.delete(f"{PLATFORM}/tenants/{h.MISSING_ID}"), 404, "not_found")
    assert h.ok(platform_admin.get(f"{PLATFORM}/tenants/{tid}"))["status"] == "active"
    # the body of a DELETE is refused
    r = platform_admin.request("DELETE", f"{PLATFORM}/tenants/{tid}", content=b'{"x": 1}',
                               headers={"Content-Type": "application/json"})
    assert r.status_code == 400, h.show(r)
    assert h.ok(platform_admin.get(f"{PLATFORM}/tenants/{tid}"))["status"] == "active"
