"""A tenant's portable export and its import as a new tenant (issue #17,
GDPR): the demo's acme exported with `opsbase tenant export`, imported with
`opsbase tenant import --slug NEW`, and every row of every tenant table
compared (ids and timestamps equal); a corrupted export is refused and
writes nothing."""
import json
import subprocess

import pytest

import helpers as h
from platform_helpers import PLATFORM, platform_admin  # noqa: F401 (a fixture)



def _run(opsbase_bin, args, *argv, check=True):
    r = subprocess.run([str(opsbase_bin), *map(str, argv), *args], capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    if check:
        assert r.returncode == 0, f"{argv} exited {r.returncode}: {r.stdout} {r.stderr}"
    return r


def _unsealed(row):
    """A row with its sealed values (secrets at rest: v1:<key id>:...) marked,
    not compared: each tenant seals under its own key with a fresh nonce, so
    a copy's ciphertext differs by design. The export carries them sealed as
    stored; the importer opens them with the original tenant's key and seals
    them again with the new one (test_secrets_copies.py)."""
    return {k: ("<sealed>" if isinstance(v, str) and v.startswith("v1:") else v) for k, v in row.items()}


def _rows(url, data, slug, table):
    """Every row of a tenant table, as JSON text per row, in id order."""
    if url:
        schema = "tenant_" + slug.replace("-", "_")
        r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-At", "-c",
                            f'SELECT row_to_json(t)::text FROM "{schema}"."{table}" t ORDER BY id'],
                           check=True, capture_output=True, text=True, timeout=60)
        return [json.dumps(_unsealed(json.loads(line)), sort_keys=True) for line in r.stdout.splitlines()]
    with h.sqlite_db(data / "tenants" / f"{slug}.db") as c:
        cur = c.execute(f'SELECT * FROM "{table}" ORDER BY id')
        names = [d[0] for d in cur.description]
        return [json.dumps(_unsealed(dict(zip(names, row))), sort_keys=True, default=str) for row in cur]


def _tenant_tables(opsbase_bin):
    schema = json.loads(subprocess.run([str(opsbase_bin), "schema", "--json"], capture_output=True, text=True,
                                       check=True, timeout=60).stdout)
    return [t["name"] for t in schema["tables"] if t["database"] == "tenant"]


def _same_rows(opsbase_bin, url, data, a_slug, b_slug):
    """Every row of every tenant table equal; (rows, tables with rows)."""
    compared = nonempty = 0
    for t in _tenant_tables(opsbase_bin):
        a, b = _rows(url, data, a_slug, t), _rows(url, data, b_slug, t)
        assert a == b, t
        compared += len(a)
        nonempty += bool(a)
    return compared, nonempty


def test_demo_export_then_import_gives_the_same_rows_and_a_corrupt_export_is_refused(opsbase_bin, database,
                                                                                     tmp_path):
    if database:
        pytest.skip("opsbase demo makes embedded data only; the platform export test below runs on PostgreSQL")
    data = tmp_path / "data"
    args = ["--data", str(data)]
    _run(opsbase_bin, args, "demo")
    out = tmp_path / "acme-export"
    r = _run(opsbase_bin, args, "tenant", "export", "--tenant", "acme", "--out", out)
    assert "exported" in r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    (part,) = [p for p in manifest["parts"] if p.get("tenant") == "acme"]
    assert len(part["sha256"]) == 64 and part["rows"] > 100
    _run(opsbase_bin, args, "tenant", "import", "--from", out, "--slug", "acme-copy")

    compared, nonempty = _same_rows(opsbase_bin, None, data, "acme", "acme-copy")
    assert compared > 100 and nonempty > 20, (compared, nonempty)
    r = _run(opsbase_bin, args, "tenant", "list")
    assert "acme-copy" in r.stdout

    # one byte changed in the tenant's rows: refused by its checksum, nothing made
    bad = tmp_path / "bad"
    subprocess.run(["cp", "-r", str(out), str(bad)], check=True)
    f = bad / part["file"]
    raw = bytearray(f.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    f.write_bytes(bytes(raw))
    r = _run(opsbase_bin, args, "tenant", "import", "--from", bad, "--slug", "acme-bad", check=False)
    assert r.returncode != 0 and "acme-bad" not in _run(opsbase_bin, args, "tenant", "list").stdout, r.stderr
    # and a directory that is no export
    r = _run(opsbase_bin, args, "tenant", "import", "--from", tmp_path, "--slug", "acme-none", check=False)
    assert r.returncode != 0


def test_a_super_admin_exports_a_tenant_that_imports_identically(server, opsbase_bin, platform_admin, new_tenant,
                                                                 anon, acme_owner):
    t = new_tenant(agents=1)
    cust = h.create_customer(t.owner, name="Portable", email="p@example.test")
    h.create_ticket(t.owner, cust["id"], title="Where is my parcel")
    h.upload_file(t.owner, content=b"%PDF-1.4 portable\n%%EOF\n")
    tid = h.ok(platform_admin.get(f"{PLATFORM}/tenants", params={"slug": t.slug}))["data"][0]["id"]
    # only a super admin: a tenant owner's token is not a platform token
    h.expect_error(acme_owner.post(f"{PLATFORM}/tenants/{tid}/export"), 401, "unauthenticated")
    h.expect_error(platform_admin.post(f"{PLATFORM}/tenants/{h.MISSING_ID}/export"), 404, "not_found")
    done = h.ok(platform_admin.post(f"{PLATFORM}/tenants/{tid}/export"))
    assert done["tenant"] == t.slug and done["path"].startswith(f"exports/{t.slug}-")
    assert done["rows"] > 10 and done["files"] == 1
    export_dir = server.data / done["path"]
    assert (export_dir / "manifest.json").exists()
    # recorded in the platform audit log
    rows = h.ok(platform_admin.get(f"{PLATFORM}/platform_audit_logs", params={"entity_id": tid, "action": "export"}))
    assert len(rows["data"]) == 1 and h.as_obj(rows["data"][0]["new_values"])["path"] == done["path"]

    copy = h.slug()
    server.cli.run("tenant", "import", "--from", export_dir, "--slug", copy)
    compared, nonempty = _same_rows(opsbase_bin, server.db_url, server.data, t.slug, copy)
    assert compared > 10 and nonempty > 5, (compared, nonempty)
    # the copy is a working tenant: its owner signs in and reads the same records
    r = h.login_raw(server.url, copy, f"owner@{t.slug}.test", h.OWNER_PASSWORD)
    token = h.ok(r)["token"]
    got = anon.get(f"/api/v1/customers/{cust['id']}", headers={"Authorization": f"Bearer {token}"})
    assert h.ok(got)["name"] == "Portable"
