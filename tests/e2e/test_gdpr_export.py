"""A tenant's portable export and its import as a new tenant (issue #17,
GDPR): the demo's acme exported with `opsbase tenant export`, imported with
`opsbase tenant import --slug NEW`, and every row of every tenant table
compared (ids and timestamps equal); a corrupted export is refused and
writes nothing. The platform's export is one archive (a tar of the manifest,
the rows and the files) written by a job: POST answers 202 with a
tenant_exports row, the job completes it, the archive downloads with its
SHA-256 and imports identically; `opsbase tenant export --out X.tar` writes
the same archive."""
import datetime
import hashlib
import io
import json
import subprocess
import tarfile
import time

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


def _settled(table, rows, cutoff):
    """What the copy must equal while both tenants live on: each tenant fires its
    own schedules after the export (a job each, the schedule's next slot moved),
    and the platform's export job is a row of the tenant it exports, held in the
    archive as it was when the snapshot was read (running)."""
    if table not in ("jobs", "schedules") or cutoff is None:
        return rows
    out = []
    for text in rows:
        r = json.loads(text)
        if table == "jobs" and (r["kind"] == "platform.tenant_export" or datetime.datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")) > cutoff):
            continue
        if table == "schedules":
            for k in ("next_run_at", "last_run_at", "updated_at", "version"):
                r.pop(k, None)
        out.append(json.dumps(r, sort_keys=True))
    return out


def _same_rows(opsbase_bin, url, data, a_slug, b_slug, cutoff=None):
    """Every row of every tenant table equal; (rows, tables with rows)."""
    compared = nonempty = 0
    for t in _tenant_tables(opsbase_bin):
        a, b = _rows(url, data, a_slug, t), _rows(url, data, b_slug, t)
        a, b = _settled(t, a, cutoff), _settled(t, b, cutoff)
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


def _finished(platform_admin, eid, wait=60.0):
    deadline = time.monotonic() + wait
    while True:
        row = h.ok(platform_admin.get(f"{PLATFORM}/tenant_exports/{eid}"))
        if row["status"] in ("done", "failed") or time.monotonic() > deadline:
            return row
        time.sleep(0.1)


def _members(blob):
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tf:
        return {m.name: (tf.extractfile(m).read() if m.isfile() else None) for m in tf.getmembers()}


def test_a_super_admin_exports_a_tenant_that_imports_identically(server, opsbase_bin, platform_admin, new_tenant,
                                                                 anon, acme_owner, tmp_path):
    t = new_tenant(agents=1)
    cust = h.create_customer(t.owner, name="Portable", email="p@example.test")
    h.create_ticket(t.owner, cust["id"], title="Where is my parcel")
    h.upload_file(t.owner, content=b"%PDF-1.4 portable\n%%EOF\n")
    tid = h.ok(platform_admin.get(f"{PLATFORM}/tenants", params={"slug": t.slug}))["data"][0]["id"]
    # only a super admin: a tenant owner's token is not a platform token
    h.expect_error(acme_owner.post(f"{PLATFORM}/tenants/{tid}/export"), 401, "unauthenticated")
    h.expect_error(platform_admin.post(f"{PLATFORM}/tenants/{h.MISSING_ID}/export"), 404, "not_found")
    cutoff = datetime.datetime.now(datetime.timezone.utc)
    r = platform_admin.post(f"{PLATFORM}/tenants/{tid}/export")
    asked = h.ok(r, 202)
    assert asked["status"] in ("queued", "running", "done") and asked["slug"] == t.slug and asked["tenant_id"] == tid
    assert r.headers["Location"] == f"{PLATFORM}/tenant_exports/{asked['id']}"
    done = _finished(platform_admin, asked["id"])
    assert done["status"] == "done", done
    assert done["file_name"].startswith(f"{t.slug}-") and done["file_name"].endswith(".tar")
    assert done["rows"] > 10 and done["files"] == 1 and h.TS_RE.match(done["finished_at"])
    # recorded in the platform audit log
    rows = h.ok(platform_admin.get(f"{PLATFORM}/platform_audit_logs", params={"entity_id": tid, "action": "export"}))
    assert len(rows["data"]) == 1 and h.as_obj(rows["data"][0]["new_values"])["export_id"] == asked["id"]

    # the download: one tar with the manifest, the rows and the files, its checksum as recorded
    h.expect_error(acme_owner.get(f"{PLATFORM}/tenant_exports/{asked['id']}/download"), 401, "unauthenticated")
    h.expect_error(platform_admin.get(f"{PLATFORM}/tenant_exports/{h.MISSING_ID}/download"), 404, "not_found")
    got = platform_admin.get(f"{PLATFORM}/tenant_exports/{asked['id']}/download")
    assert got.status_code == 200 and got.headers["content-type"] == "application/x-tar", h.show(got)
    blob = got.content
    assert hashlib.sha256(blob).hexdigest() == done["sha256"] == got.headers["x-checksum-sha256"]
    assert len(blob) == done["size_bytes"]
    members = _members(blob)
    manifest = json.loads(members["manifest.json"])
    (part,) = [p for p in manifest["parts"] if p.get("tenant") == t.slug]
    assert hashlib.sha256(members[part["file"]]).hexdigest() == part["sha256"]
    assert part["rows"] > 10 and part["tables"]["customers"] == 1 and part["tables"]["tickets"] == 1
    assert hashlib.sha256(members[part["files"]["file"]]).hexdigest() == part["files"]["sha256"]
    archive = tmp_path / "platform.tar"
    archive.write_bytes(blob)

    copy = h.slug()
    server.cli.run("tenant", "import", "--from", archive, "--slug", copy)
    compared, nonempty = _same_rows(opsbase_bin, server.db_url, server.data, t.slug, copy, cutoff)
    assert compared > 10 and nonempty > 5, (compared, nonempty)
    # the copy is a working tenant: its owner signs in and reads the same records
    r = h.login_raw(server.url, copy, f"owner@{t.slug}.test", h.OWNER_PASSWORD)
    token = h.ok(r)["token"]
    got = anon.get(f"/api/v1/customers/{cust['id']}", headers={"Authorization": f"Bearer {token}"})
    assert h.ok(got)["name"] == "Portable"

    # the command line writes the same kind of archive, which imports the same way
    cli_archive = tmp_path / "cli.tar"
    out = server.cli.run("tenant", "export", "--tenant", t.slug, "--out", cli_archive)
    assert "sha256" in out.stdout and hashlib.sha256(cli_archive.read_bytes()).hexdigest() in out.stdout
    assert set(_members(cli_archive.read_bytes())) == set(members)
    # an archive that exists already is not replaced
    again = server.cli.run("tenant", "export", "--tenant", t.slug, "--out", cli_archive, check=False)
    assert again.returncode != 0 and "exists" in again.stderr
    copy2 = h.slug()
    server.cli.run("tenant", "import", "--from", cli_archive, "--slug", copy2)
    compared2, _ = _same_rows(opsbase_bin, server.db_url, server.data, t.slug, copy2, cutoff)
    assert compared2 >= compared
    # a damaged archive is refused and makes no tenant
    raw = bytearray(blob)
    raw[len(raw) // 3] ^= 0x01
    bad = tmp_path / "bad.tar"
    bad.write_bytes(bytes(raw))
    r = server.cli.run("tenant", "import", "--from", bad, "--slug", "bad-" + copy, check=False)
    assert r.returncode != 0 and "bad-" + copy not in server.cli.run("tenant", "list").stdout
