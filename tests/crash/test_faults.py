"""Fault injection: the disk fills up, or fsync reports an I/O error, while the
server is writing.

(a) Disk full: the data directory lives on an 8 MiB tmpfs (needs root and
    mount(2); skipped otherwise). A filler file takes the free space, writes go
    on until one fails: it must be a JSON 503 storage_unavailable, nothing of it
    may be stored, reads keep working, and once the filler is removed the
    server writes again without a restart (the failed request, retried with its
    Idempotency-Key, is created once). The same is then checked without a
    tmpfs, strace making every write to the WAL fail with ENOSPC.
(b) fsync EIO: strace attaches to the running server and makes every
    fdatasync/fsync on the tenant's WAL fail with EIO (needs strace and ptrace;
    skipped otherwise). The write must be answered with a JSON 503 and not be
    acknowledged; reads keep working; when strace detaches the fault is gone and
    the server writes again without a restart. What happens to the refused
    write after a restart is the subject of the last test.
"""
import errno
import json
import os
import subprocess
import uuid

import httpx
import pytest

import crashkit as cf
from crashkit import h

TMPFS_SIZE = "16m"  # a new tenant database is ~4 MB, and its WAL as much while made


def _storage_error(r):
    e = h.expect_error(r, 503, "storage_unavailable")
    return e["message"]


def _post_customer(client, body, key):
    return client.post("/api/v1/customers", content=json.dumps(body).encode(),
                       headers={"Idempotency-Key": key, "Content-Type": "application/json"})


# ------------------------------------------------------------------ disk full

@pytest.fixture
def small_tmpfs(tmp_path):
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("disk-full test needs root to mount a tmpfs")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs",
                        str(mnt)], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip() or r.returncode}")
    yield mnt
    r = subprocess.run(["umount", str(mnt)], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30)


def _fill(path):
    """Write zeros to `path` until the file system is full; returns bytes written."""
    n = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n += f.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        while True:  # the last few bytes too
            try:
                n += f.write(b"\0" * 512)
            except OSError:
                break
    return n


def test_disk_full(opsbase_bin, tmp_path, small_tmpfs, servers):
    srv, client = cf.tenant_server(opsbase_bin, tmp_path, servers, "full",
                                   data=small_tmpfs / "data")
    before = h.create_customer(client)
    filler = small_tmpfs / "filler"
    _fill(filler)

    # Writes first go into space the WAL already has; go on until one fails.
    accepted, failed, body, key = 0, None, None, None
    for _ in range(400):
        body = cf.customer_body("DF")
        body["notes"] = os.urandom(6000).hex()  # 12 KB a row: the WAL must grow
        key = "disk-full-" + uuid.uuid4().hex
        r = _post_customer(client, body, key)
        if r.status_code != 201:
            failed = r
            break
        accepted += 1
    assert failed is not None, f"{accepted} writes of 12 KB fitted on a full {TMPFS_SIZE} tmpfs"
    message = _storage_error(failed)

    # Nothing of the failed write is stored; reads still work.
    assert cf.customers_named(client, body["company_name"]) == []
    assert h.get(client, "customers", before["id"]) == before
    customers = h.list_all(client, "customers")
    creates = h.audit_rows(client, entity_type="customers", action="create")
    assert len(creates) == len(customers) == accepted + 1, (len(creates), len(customers))

    # More writes fail the same way while the disk stays full.
    r = _post_customer(client, cf.customer_body("DF"), "disk-full-" + uuid.uuid4().hex)
    _storage_error(r)
    ready = httpx.get(srv.url + "/readyz", timeout=5)
    h.assert_json(ready)

    # Space comes back: the same server writes again, no restart.
    filler.unlink()
    r = _post_customer(client, body, key)
    row = h.ok(r, 201)
    assert r.headers.get("idempotent-replayed") is None, "a failed write was replayed"
    assert [x["id"] for x in cf.customers_named(client, body["company_name"])] == [row["id"]]
    h.create_customer(client)
    assert srv.starts == 1 and srv.alive()
    srv.kill()
    srv.start()
    assert [x["id"] for x in cf.customers_named(client, body["company_name"])] == [row["id"]]
    client.close()
    srv.stop()
    for p in cf.db_paths(srv.data, "full"):
        assert cf.sqlite_checks(p, readonly=False) == []
    print(f"\ndisk full: {accepted} writes fitted after the disk filled, then: {message}; "
          f"/readyz while full: {ready.status_code} {ready.text}")


def test_disk_full_injected(opsbase_bin, tmp_path, servers, straces):
    """The same without a tmpfs: strace makes every write to the tenant's WAL
    fail with ENOSPC (runs wherever strace can attach, root or not)."""
    srv, client = cf.tenant_server(opsbase_bin, tmp_path, servers, "enospc")
    before = h.create_customer(client)
    wal = srv.data / "tenants" / "enospc.db-wal"
    st = cf.Strace(srv.pid, wal, "inject=pwrite64,pwritev,write:error=ENOSPC",
                   tmp_path / "strace.log", syscalls="pwrite64,pwritev,write")
    straces.append(st)
    body, key = cf.customer_body("NS"), "enospc-" + uuid.uuid4().hex
    message = _storage_error(_post_customer(client, body, key))
    assert "ENOSPC" in st.log() and "(INJECTED)" in st.log(), st.log()
    assert cf.customers_named(client, body["company_name"]) == []
    assert h.get(client, "customers", before["id"]) == before
    st.detach()
    r = _post_customer(client, body, key)
    row = h.ok(r, 201)
    assert r.headers.get("idempotent-replayed") is None, "a failed write was replayed"
    assert srv.starts == 1
    srv.kill()
    srv.start()
    assert [x["id"] for x in cf.customers_named(client, body["company_name"])] == [row["id"]]
    assert len(cf.change_rows(client, entity_type="customers", entity_id=row["id"])) == 1
    client.close()
    srv.stop()
    for p in cf.db_paths(srv.data, "enospc"):
        assert cf.sqlite_checks(p) == []
    print(f"\ninjected ENOSPC: {message}")


# ------------------------------------------------------------------ fsync EIO

EIO_ALL = "inject=fdatasync,fsync:error=EIO"


def _eio_setup(opsbase_bin, tmp_path, servers, straces):
    srv, client = cf.tenant_server(opsbase_bin, tmp_path, servers, "eio")
    before = h.create_customer(client)
    wal = srv.data / "tenants" / "eio.db-wal"
    st = cf.Strace(srv.pid, wal, EIO_ALL, tmp_path / "strace.log")
    straces.append(st)
    return srv, client, before, st


def test_fsync_eio_refused_then_recovers(opsbase_bin, tmp_path, servers, straces):
    srv, client, before, st = _eio_setup(opsbase_bin, tmp_path, servers, straces)
    body, key = cf.customer_body("EIO"), "eio-" + uuid.uuid4().hex
    r = _post_customer(client, body, key)
    message = _storage_error(r)
    assert "(INJECTED)" in st.log(), f"no fsync error was injected:\n{st.log()}"

    # while the fault lasts: not visible, reads work, writes keep failing
    assert cf.customers_named(client, body["company_name"]) == []
    assert h.get(client, "customers", before["id"]) == before
    patch = client.patch(f"/api/v1/customers/{before['id']}", json={"notes": "during EIO"},
                         headers={"If-Match": f'"{before["version"]}"'})
    _storage_error(patch)
    assert h.get(client, "customers", before["id"]) == before

    # the fault clears (strace detaches): writes work again without a restart
    st.detach()
    r = _post_customer(client, body, key)
    row = h.ok(r, 201)
    assert r.headers.get("idempotent-replayed") is None, "a write answered 503 was replayed"
    assert [x["id"] for x in cf.customers_named(client, body["company_name"])] == [row["id"]]
    updated = h.ok(client.patch(f"/api/v1/customers/{before['id']}",
                                json={"notes": "after EIO"},
                                headers={"If-Match": f'"{before["version"]}"'}))
    assert updated["version"] == before["version"] + 1
    assert len(cf.change_rows(client, entity_type="customers", entity_id=row["id"])) == 1
    assert srv.starts == 1 and srv.alive()

    # and everything holds over a crash
    srv.kill()
    srv.start()
    assert [x["id"] for x in cf.customers_named(client, body["company_name"])] == [row["id"]]
    assert h.get(client, "customers", before["id"]) == updated
    client.close()
    srv.stop()
    for p in cf.db_paths(srv.data, "eio"):
        assert cf.sqlite_checks(p) == []
    print(f"\nfsync EIO: {message}")


def test_fsync_eio_write_is_settled_once_by_a_keyed_retry(opsbase_bin, tmp_path, servers, straces):
    """A write answered 503 because fsync failed has an unknown outcome.

    SQLite has already written the transaction's frames, commit frame included,
    to the WAL when fdatasync fails; it returns SQLITE_IOERR_FSYNC without
    advancing the WAL index, so the running server does not see the write and
    its next commit overwrites those frames. If the server restarts first, WAL
    recovery finds valid frames and keeps the write. The server therefore says
    the write "could not be confirmed" (docs/api.md), and a retry with the same
    Idempotency-Key settles it: exactly one record, whichever way it went."""
    srv, client, before, st = _eio_setup(opsbase_bin, tmp_path, servers, straces)
    body, key = cf.customer_body("EIO"), "eio-" + uuid.uuid4().hex
    refused = _post_customer(client, body, key)
    _storage_error(refused)
    assert "could not be confirmed" in refused.json()["error"]["message"]
    st.detach()
    srv.kill()
    srv.start()
    found = cf.customers_named(client, body["company_name"])
    retry = _post_customer(client, body, key)
    assert retry.status_code == 201, retry.text
    replayed = retry.headers.get("idempotent-replayed") == "true"
    after = cf.customers_named(client, body["company_name"])
    assert len(after) == 1, f"the retry must leave exactly one record: {after}"
    assert replayed == (len(found) == 1), "a kept write is replayed, a lost one created once"
    client.close()
    srv.stop()
    for p in cf.db_paths(srv.data, "eio"):
        assert cf.sqlite_checks(p) == []
    print(f"\nfsync EIO then SIGKILL: the write was {'kept by recovery' if found else 'lost'}; "
          f"the keyed retry {'replayed it' if replayed else 'created it once'}")


def test_faults_are_json_not_crashes(opsbase_bin, tmp_path, servers, straces):
    """A burst of writes during the fault: every answer is JSON (503 for the
    writes), the process survives, and a readiness probe reports its state."""
    srv, client, _, st = _eio_setup(opsbase_bin, tmp_path, servers, straces)
    for _ in range(20):
        _storage_error(_post_customer(client, cf.customer_body("B"), uuid.uuid4().hex))
    ready = httpx.get(srv.url + "/readyz", timeout=5)
    h.assert_json(ready)
    st.detach()
    assert srv.alive()
    h.create_customer(client)
    assert httpx.get(srv.url + "/readyz", timeout=5).status_code == 200
    client.close()
    print(f"\n/readyz during the fsync fault: {ready.status_code} {ready.text}")
