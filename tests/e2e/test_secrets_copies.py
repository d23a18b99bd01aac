"""No secret in clear in the copies of a tenant (issue #17): backups and
tenant exports carry the sealed values exactly as stored (the manifest names
the master key that sealed them), whichever process takes them; a response
stored for an Idempotency-Key replay is sealed like a secret column; an
export imported under another slug has its secrets sealed again with the new
tenant's key and its lookup hashes (customers.tax_number_hash) computed
again with it, so `?tax_number=` finds the copy's rows."""
import json
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import helpers as h
from platform_helpers import PLATFORM, platform_admin  # noqa: F401 (a fixture)
from test_security_secrets import _secrets_everywhere, raw

API = "/api/v1"


def _unzstd(path):
    return subprocess.run(["zstd", "-dc", str(path)], check=True, capture_output=True, timeout=60).stdout


def _copy_bytes(directory):
    """Everything a backup or export directory holds, its zstd parts decompressed."""
    out = b""
    for p in sorted(Path(directory).rglob("*")):
        if p.is_file():
            out += _unzstd(p) if p.name.endswith(".zst") else p.read_bytes()
    return out


def _lines(directory, slug):
    return [json.loads(line) for line in _unzstd(Path(directory) / "tenants" / f"{slug}.ndjson.zst").splitlines()]


def test_backup_and_export_hold_the_sealed_values_as_stored(server, new_tenant, platform_admin, tmp_path):
    t = new_tenant()
    ids, secrets, marker = _secrets_everywhere(t)
    [(stored,)] = raw(server, t.slug, f"SELECT tax_number FROM customers WHERE id = '{ids['customer']}'")
    assert stored.startswith("v1:")
    # a backup by the command line, and an export by the running server (which holds the key)
    out = tmp_path / "b"
    server.cli.run("backup", "--out", out, "--tenant", t.slug)
    tid = h.ok(platform_admin.get(f"{PLATFORM}/tenants", params={"slug": t.slug}))["data"][0]["id"]
    asked = h.ok(platform_admin.post(f"{PLATFORM}/tenants/{tid}/export"), 202)
    deadline = time.monotonic() + h.WAIT_S
    while (done := h.ok(platform_admin.get(f"{PLATFORM}/tenant_exports/{asked['id']}")))["status"] in (
            "queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert done["status"] == "done", done
    # the export is one archive (a tar of the directory form)
    export_dir = tmp_path / "export"
    with tarfile.open(server.data / "exports" / done["file_name"]) as tf:
        tf.extractall(export_dir)  # our own archive: regular files only
    for d in (out, export_dir):
        blob = _copy_bytes(d)
        assert marker.encode() in blob  # the search works: plain columns are there in clear
        for s in secrets:
            assert s.encode() not in blob, (d, s)
        [cust] = [ln["r"] for ln in _lines(d, t.slug) if ln["t"] == "customers" and ln["r"]["id"] == ids["customer"]]
        assert cust["tax_number"] == stored  # copied as it is, not sealed again
        manifest = json.loads((Path(d) / "manifest.json").read_text())
        assert manifest["sealed_key_id"] == stored[3:11]
    # the whole data directory (exports included) holds no plaintext either
    if not server.db_url:
        everything = b"".join(p.read_bytes() for p in Path(server.data).rglob("*") if p.is_file())
        for s in secrets:
            assert s.encode() not in everything, s


def test_idempotent_replay_is_stored_sealed(server, new_tenant):
    t = new_tenant()
    tax = "TAXIDEM" + uuid.uuid4().hex[:10]
    key = "k-" + uuid.uuid4().hex
    body = {"customer_code": h.uniq("C-"), "company_name": "Idem " + h.uniq(), "tax_number": tax}
    first = t.owner.post(f"{API}/customers", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, h.show(first)
    assert first.json()["tax_number"] == tax
    [(resp, rid)] = raw(server, t.slug, f"SELECT response, id FROM idempotency_keys WHERE idem_key = '{key}'")
    assert resp.startswith("v1:") and tax not in resp
    again = t.owner.post(f"{API}/customers", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.content == first.content
    # nor is it in the database files (SQLite: the files and the WAL)
    if not server.db_url:
        files = [p for p in (server.data / "tenants").glob(f"{t.slug}.db*") if p.is_file()]
        assert tax.encode() not in b"".join(p.read_bytes() for p in files)


def test_import_under_a_new_slug_reseals_and_rehashes(server, new_tenant, login, tmp_path):
    t = new_tenant()
    tax = "TAXCOPY" + uuid.uuid4().hex[:10]
    cust = h.create_customer(t.owner, tax_number=tax, national_id="NID" + uuid.uuid4().hex[:8])
    found = h.ok(t.owner.get(f"{API}/customers", params={"tax_number": tax}))["data"]
    assert [c["id"] for c in found] == [cust["id"]]
    out = tmp_path / "export"
    server.cli.run("tenant", "export", "--tenant", t.slug, "--out", out)
    copy = h.slug()
    server.cli.run("tenant", "import", "--from", out, "--slug", copy)
    [(orig_tax, orig_hash)] = raw(server, t.slug, f"SELECT tax_number, tax_number_hash FROM customers "
                                                  f"WHERE id = '{cust['id']}'")
    [(new_tax, new_hash)] = raw(server, copy, f"SELECT tax_number, tax_number_hash FROM customers "
                                              f"WHERE id = '{cust['id']}'")
    # sealed again for the new tenant (its key, this row): a different ciphertext, and a different keyed hash
    assert new_tax.startswith("v1:") and tax not in new_tax and new_tax != orig_tax
    assert new_hash and new_hash != orig_hash and len(new_hash) == 64
    owner = login(copy, f"owner@{t.slug}.test", h.OWNER_PASSWORD)
    assert h.get(owner, "customers", cust["id"])["tax_number"] == tax
    found = h.ok(owner.get(f"{API}/customers", params={"tax_number": tax}))["data"]
    assert [c["id"] for c in found] == [cust["id"]]
    # and the original still finds its own
    assert [c["id"] for c in h.ok(t.owner.get(f"{API}/customers", params={"tax_number": tax}))["data"]] == [cust["id"]]
    # values sealed for one tenant do not open as another's: an export whose manifest names
    # another tenant is refused, and nothing of it is written
    bad = tmp_path / "bad"
    server.cli.run("tenant", "export", "--tenant", t.slug, "--out", bad)
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["parts"][0]["tenant"] = "someone-else"
    (bad / "manifest.json").write_text(json.dumps(manifest))
    other = h.slug()
    r = server.cli.run("tenant", "import", "--from", bad, "--slug", other, check=False)
    assert r.returncode == 1 and "does not open" in r.stderr, r.stderr
    h.expect_error(h.login_raw(server.url, other, f"owner@{t.slug}.test", h.OWNER_PASSWORD), 401,
                   "invalid_credentials")
