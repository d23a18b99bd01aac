"""Secrets at rest (issue 17): columns declared OB_ENCRYPTED are sealed with
XChaCha20-Poly1305 under the tenant's key (db/secrets.c). The database files
and their WAL never hold the plaintext; the API reads it back in clear to
those allowed, masked by the existing rules; a sealed value moved to another
row does not open; `opsbase keys rotate` re-seals under a new master key
while a server holding both keys keeps serving."""
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

import helpers as h
from conftest import TEST_MASTER_KEY, _free_port

API = "/api/v1"


def raw(server, slug, sql):
    """Rows of one query in a tenant's database, as stored (text)."""
    if server.db_url:
        schema = "tenant_" + slug.replace("-", "_")
        r = subprocess.run(["psql", server.db_url, "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-c",
                            f'SET search_path TO "{schema}"; {sql}'], check=True, capture_output=True, text=True)
        return [tuple(line.split("\t")) for line in r.stdout.splitlines() if line and line != "SET"]
    with h.sqlite_db(server.data / "tenants" / f"{slug}.db") as c:
        return [tuple("" if v is None else str(v) for v in row) for row in c.execute(sql)]


def key_id_of(sealed):
    assert sealed.startswith("v1:") and sealed[11] == ":", sealed
    return sealed[3:11]


def _secrets_everywhere(t):
    """A customer, a connected channel and a webhook subscription, each with
    unique plaintext secrets; returns (ids, plaintexts, a non-secret marker)."""
    tag = h.uniq().replace("-", "")
    tax, nid = f"TAXPLAIN{tag}", f"NIDPLAIN{tag}"
    marker = f"Visible Co {tag}"
    cust = h.create_customer(t.owner, company_name=marker, tax_number=tax, national_id=nid)
    h.ok(t.owner.patch(f"{API}/customers/{cust['id']}", json={"tax_number": tax + "Z"}))
    ch = h.create(t.owner, "sales_channels", {"channel_type_code": "shopify", "name": "Shop " + tag})
    token, whsec = f"shpatPLAIN{tag}", f"whsecPLAIN{tag}"
    h.ok(t.owner.post(f"{API}/sales_channels/{ch['id']}/connect",
                      json={"credentials": {"access_token": token}, "webhook_secret": whsec}))
    hooksec = f"hookPLAIN{tag}xxxxxxxx"
    sub = h.create(t.owner, "webhook_subscriptions", {"url": "https://93.184.215.14/hook", "events": ["*"],
                                                        "secret": hooksec})
    return {"customer": cust["id"], "channel": ch["id"], "sub": sub["id"]}, [tax, tax + "Z", nid, token, whsec, hooksec], marker


def test_no_plaintext_in_database_or_wal(server, new_tenant, sqlite_files):
    t = new_tenant()
    ids, secrets, marker = _secrets_everywhere(t)
    tenant_files = [p for p in (server.data / "tenants").glob(f"{t.slug}.db*") if p.is_file()]
    assert any(p.name.endswith("-wal") for p in tenant_files), tenant_files
    blob = b"".join(p.read_bytes() for p in tenant_files)
    # the search works: a column that is not secret is in the files in clear
    assert marker.encode() in blob
    everything = b"".join(p.read_bytes() for p in Path(server.data).rglob("*") if p.is_file())
    for s in secrets:
        assert s.encode() not in blob and s.encode() not in everything, s


def test_stored_values_are_sealed_and_read_back_in_clear(server, new_tenant):
    t = new_tenant()
    ids, secrets, _ = _secrets_everywhere(t)
    tax2, nid = secrets[1], secrets[2]
    [(tax_s, nid_s, tax_hash)] = raw(server, t.slug, "SELECT tax_number, national_id, tax_number_hash "
                                                      f"FROM customers WHERE id = '{ids['customer']}'")
    [(creds, whsec)] = raw(server, t.slug, f"SELECT credentials, webhook_secret FROM sales_channels "
                                           f"WHERE id = '{ids['channel']}'")
    [(hook,)] = raw(server, t.slug, f"SELECT secret FROM webhook_subscriptions WHERE id = '{ids['sub']}'")
    for stored in (tax_s, nid_s, creds, whsec, hook):
        key_id_of(stored)
        assert not any(s in stored for s in secrets)
    # one master key sealed them all; the lookup hash is 64 hex characters, not the value
    assert len({key_id_of(v) for v in (tax_s, nid_s, creds, whsec, hook)}) == 1
    assert len(tax_hash) == 64 and tax2 not in tax_hash
    # the API opens them for the owner
    got = h.get(t.owner, "customers", ids["customer"])
    assert got["tax_number"] == tax2 and got["national_id"] == nid
    assert "tax_number_hash" not in got
    # audit images keep the values sealed, and show them to the owner in clear
    [(old_img, new_img)] = raw(server, t.slug, "SELECT old_values, new_values FROM audit_logs WHERE "
                                               f"entity_id = '{ids['customer']}' AND action = 'update'")
    assert secrets[0] not in old_img + new_img and tax2 not in old_img + new_img
    upd = h.list_all(t.owner, "audit_logs", {"entity_id": ids["customer"], "action": "update"})
    assert upd[0]["old_values"]["tax_number"] == secrets[0] and upd[0]["new_values"]["tax_number"] == tax2


def test_masking_still_applies_to_opened_values(new_tenant, cli, login):
    t = new_tenant()
    email = f"analyst@{t.slug}.test"
    cli.user_create(t.slug, email, "analyst")
    h.create(t.owner, "data_masking_rules", {"field_name": "sensitive_ids", "field_type": "sensitive",
                                             "mask_pattern": "****1234", "applies_to_roles": ["analyst"],
                                             "is_active": True})
    analyst = login(t.slug, email)
    cust = h.create_customer(t.owner, tax_number="GSTIN27AAAPL9876C1Z5")
    seen = h.get(analyst, "customers", cust["id"])["tax_number"]
    assert seen != "GSTIN27AAAPL9876C1Z5" and seen.endswith("1Z5") and seen.startswith("****")


def test_equal_values_hash_alike_and_lookup_by_value(server, new_tenant):
    t = new_tenant()
    a = h.create_customer(t.owner, tax_number="SAME-TAX-1")
    b = h.create_customer(t.owner, tax_number="SAME-TAX-1")
    c = h.create_customer(t.owner, tax_number="OTHER-TAX-2")
    d = h.create_customer(t.owner)
    rows = dict(raw(server, t.slug, "SELECT id, tax_number_hash FROM customers WHERE id IN "
                                    f"('{a['id']}','{b['id']}','{c['id']}','{d['id']}')"))
    assert rows[a["id"]] == rows[b["id"]] != rows[c["id"]] and rows[d["id"]] == ""
    # the ciphertexts of equal values differ (a fresh nonce each)
    sealed = dict(raw(server, t.slug, f"SELECT id, tax_number FROM customers WHERE id IN ('{a['id']}','{b['id']}')"))
    assert sealed[a["id"]] != sealed[b["id"]]
    # equality looks the value up through its keyed hash; nothing else can compare sealed text
    found = h.list_all(t.owner, "customers", {"tax_number": "SAME-TAX-1"})
    assert sorted(r["id"] for r in found) == sorted([a["id"], b["id"]])
    assert [r["id"] for r in h.list_all(t.owner, "customers", {"tax_number.eq": "OTHER-TAX-2"})] == [c["id"]]
    assert h.list_all(t.owner, "customers", {"tax_number": "NO-SUCH"}) == []
    for params in ({"tax_number.like": "SAME%"}, {"tax_number.gt": "A"}, {"sort": "tax_number"},
                   {"tax_number_hash": rows[a["id"]]}, {"national_id": "x"}):
        h.expect_error(t.owner.get(f"{API}/customers", params=params), 400, "invalid_query")


def test_sealed_value_moved_to_another_row_does_not_open(server, new_tenant):
    t = new_tenant()
    a = h.create_customer(t.owner, tax_number="MOVE-ME-111")
    b = h.create_customer(t.owner, tax_number="STAYS-222")
    h.tenant_sql(server, t.slug, f"UPDATE customers SET tax_number = (SELECT tax_number FROM customers "
                                 f"WHERE id = '{a['id']}') WHERE id = '{b['id']}'")
    got = h.get(t.owner, "customers", b["id"])["tax_number"]
    assert got != "MOVE-ME-111" and got.startswith("v1:")
    assert h.get(t.owner, "customers", a["id"])["tax_number"] == "MOVE-ME-111"


def test_server_refuses_to_start_without_a_master_key(opsbase_bin, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSBASE_")}
    r = subprocess.run([str(opsbase_bin), "serve", "--data", str(tmp_path / "d"), "--listen", "127.0.0.1:0"],
                       env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "no master key" in r.stderr
    bad = tmp_path / "short.key"
    bad.write_text("abcd\n")
    r = subprocess.run([str(opsbase_bin), "serve", "--data", str(tmp_path / "d"), "--master-key-file", str(bad)],
                       env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "64 hex" in r.stderr
    # `keys new` makes a key the server accepts (checked by the rotation test)
    r = subprocess.run([str(opsbase_bin), "keys", "new"], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and len(r.stdout.strip()) == 64 and int(r.stdout, 16) >= 0


def _serve(opsbase_bin, tmp_path, data, *flags):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / f"serve-{port}.log", "ab")
    proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
                             "--workers", "0", *flags], stdout=log, stderr=log)
    log.close()
    deadline = time.monotonic() + h.WAIT_S
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the second server did not start: " + (tmp_path / f"serve-{port}.log").read_text())
        time.sleep(0.05)


def test_keys_rotate_reseals_while_a_server_with_both_keys_serves(server, cli, new_tenant, opsbase_bin, tmp_path):
    t = new_tenant()
    cust = h.create_customer(t.owner, tax_number="ROTATE-TAX-77", national_id="ROTATE-NID-88")
    [(before, hash_before)] = raw(server, t.slug, f"SELECT tax_number, tax_number_hash FROM customers "
                                                  f"WHERE id = '{cust['id']}'")
    old_file, new_file = tmp_path / "old.key", tmp_path / "new.key"
    old_file.write_text(TEST_MASTER_KEY + "\n")
    new_file.write_text(cli.run("keys", "new", data=False).stdout)
    # step 1: a server holding the new key and the old one, on the same store
    proc, base = _serve(opsbase_bin, tmp_path, server.data, "--master-key-file", new_file,
                        "--old-master-key-file", old_file)
    try:
        owner2 = h.ApiClient(base_url=base, timeout=10, headers={
            "Authorization": "Bearer " + h.login_raw(base, t.slug, f"owner@{t.slug}.test",
                                                     h.OWNER_PASSWORD).json()["token"]})
        assert h.get(owner2, "customers", cust["id"])["tax_number"] == "ROTATE-TAX-77"
        # step 2: re-seal every value of the tenant under the new key, the server running
        out = cli.run("keys", "rotate", "--new-key-file", new_file, "--tenant", t.slug).stdout
        assert f"{t.slug}:" in out and "row(s) re-sealed" in out
        [(after, hash_after)] = raw(server, t.slug, f"SELECT tax_number, tax_number_hash FROM customers "
                                                    f"WHERE id = '{cust['id']}'")
        assert key_id_of(after) != key_id_of(before) and hash_after != hash_before
        assert h.get(owner2, "customers", cust["id"])["tax_number"] == "ROTATE-TAX-77"
        # new writes are sealed under the new key; rotating again finds nothing left to do
        c2 = h.create_customer(owner2, tax_number="ROTATE-TAX-77")
        [(s2, h2)] = raw(server, t.slug, f"SELECT tax_number, tax_number_hash FROM customers WHERE id = '{c2['id']}'")
        assert key_id_of(s2) == key_id_of(after) and h2 == hash_after
        again = cli.run("keys", "rotate", "--new-key-file", new_file, "--tenant", t.slug).stdout
        assert f"{t.slug}: 0 row(s) re-sealed" in again
        owner2.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # a process holding only the old key no longer opens them (the session's server)
    assert h.get(t.owner, "customers", cust["id"])["tax_number"] != "ROTATE-TAX-77"
