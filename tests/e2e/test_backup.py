"""opsbase backup and restore, on the session's engine: a backup taken while the
server writes holds every write acknowledged before it started, restores into an
empty store that then serves sign-ins and reads, restores one tenant beside the
others under a new slug, and refuses damaged, newer or clashing input without
writing anything."""
import calendar
import json
import os
import sqlite3
import subprocess
import threading
import time
import uuid

import httpx
import pytest

import helpers as h
from conftest import _free_port, _stop


def fresh_store(tmp_path, database):
    """(cli args, data dir) of an empty store of the session's engine."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = tmp_path / "restored"
    if not database:
        return ["--data", str(data)], data
    name = "restored_" + uuid.uuid4().hex[:10]
    subprocess.run(["psql", database, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True, timeout=60)
    return ["--data", str(data), "--db", database.rsplit("/", 1)[0] + "/" + name], data


def run(opsbase_bin, *argv, check=True):
    r = subprocess.run([str(opsbase_bin), *map(str, argv)], capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    if check:
        assert r.returncode == 0, f"{argv} exited {r.returncode}: {r.stdout} {r.stderr}"
    return r


def store_args(server):
    return ["--data", str(server.data), *(("--db", server.db_url) if server.db_url else ())]


def new_ticket(client, customer_id, title):
    r = client.post("/api/v1/tickets", json={"title": title, "description": "backup drill",
                                             "customer_id": customer_id})
    assert r.status_code == 201, h.show(r)
    return r.json()["id"]


@pytest.fixture(scope="module")
def customer(acme_owner):
    r = acme_owner.post("/api/v1/customers", json={"name": "Backup Drill Ltd", "email": "drill@backup.test"})
    assert r.status_code == 201, h.show(r)
    return r.json()["id"]


def start_server(opsbase_bin, args, *extra):
    port = _free_port()
    proc = subprocess.Popen([str(opsbase_bin), "serve", *args, "--listen", f"127.0.0.1:{port}", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + h.WAIT_S
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            raise AssertionError("opsbase serve did not start")
        time.sleep(0.05)


def ticket_ids(url, auth):
    ids, cursor = set(), None
    while True:
        r = httpx.get(f"{url}/api/v1/tickets", headers=auth, timeout=10,
                      params={"limit": 200, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, h.show(r)
        ids |= {t["id"] for t in r.json()["data"]}
        cursor = r.json().get("next_cursor")
        if not cursor:
            return ids


def integrity_problems(args, data):
    """What the store's own integrity checks report: on SQLite every database's
    PRAGMA integrity_check and foreign_key_check, on PostgreSQL (whose foreign
    keys hold at every statement) every constraint still valid and each
    tenant's rows readable; [] when all pass."""
    problems = []
    if "--db" not in args:
        dbs = [data / "control.db", *sorted((data / "tenants").glob("*.db"))]
        assert len(dbs) >= 2, dbs
        for path in dbs:
            con = sqlite3.connect(path)
            try:
                ok = con.execute("PRAGMA integrity_check").fetchall()
                if ok != [("ok",)]:
                    problems.append((path.name, ok))
                fk = con.execute("PRAGMA foreign_key_check").fetchall()
                if fk:
                    problems.append((path.name, "foreign keys", fk[:5]))
            finally:
                con.close()
        return problems
    url = args[args.index("--db") + 1]
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atc",
                          "SELECT conrelid::regclass || ' ' || conname FROM pg_constraint "
                          "WHERE contype = 'f' AND NOT convalidated"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    if out.stdout.strip():
        problems.append(("not validated", out.stdout))
    return problems


def test_scheduled_backups_survive_kill_9_and_restore_every_acknowledged_write(opsbase_bin, database, tmp_path):
    """The drill: writes under load (three writers), backups every second,
    kill -9, restore the newest backup: every write acknowledged before it
    started is there, and the restored databases pass their integrity checks
    (as do the killed server's own)."""
    args, data = fresh_store(tmp_path / "live", database)
    run(opsbase_bin, "tenant", "create", "drill", "--plan", "business", "--owner-email", "owner@drill.test",
        "--owner-password", h.OWNER_PASSWORD, *args)
    backups = tmp_path / "backups"
    proc, url = start_server(opsbase_bin, args, "--backup-dir", backups, "--backup-every", "1s", "--backup-keep", "3")
    acked, lock, stop, killed, failures = [], threading.Lock(), threading.Event(), threading.Event(), []
    try:
        token = h.login_raw(url, "drill", "owner@drill.test", h.OWNER_PASSWORD).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        cust = httpx.post(f"{url}/api/v1/customers", headers=auth, json={"name": "Drill"}, timeout=10).json()["id"]

        def writer():
            with httpx.Client(base_url=url, headers=auth, timeout=10) as c:
                while not stop.is_set():
                    try:
                        r = c.post("/api/v1/tickets", json={"title": "load", "description": "x",
                                                            "customer_id": cust})
                    except httpx.HTTPError as e:  # unacknowledged: only the kill may cause it
                        if not killed.is_set():
                            failures.append(repr(e))
                        return
                    if r.status_code != 201:
                        failures.append(h.show(r))
                        return
                    with lock:
                        acked.append((time.time(), r.json()["id"]))

        threads = [threading.Thread(target=writer) for _ in range(3)]
        for t in threads:
            t.start()
        started_at = time.monotonic()
        deadline = started_at + 60
        while time.monotonic() < deadline and not failures:
            time.sleep(0.1)
            done = sorted(p.name for p in backups.iterdir() if (p / "manifest.json").exists()) \
                if backups.exists() else []
            if len(done) >= 3 and len(acked) > 50 and time.monotonic() > started_at + 5:
                break
        # the writers are still going when the server dies
        killed.set()
        proc.kill()  # SIGKILL: no shutdown, a backup may be half written
        proc.wait()
    finally:
        killed.set()
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for t in threads:
        t.join()
    assert not failures, failures[0]
    complete = sorted(p for p in backups.iterdir() if (p / "manifest.json").exists())
    # after 5 s of backups every second, --backup-keep 3 has removed the older ones; a
    # fourth may stand between its manifest and the pruning that follows it
    assert 3 <= len(complete) <= 4, f"--backup-keep 3 keeps the newest three: {[p.name for p in complete]}"
    newest = complete[-1]
    started = json.loads((newest / "manifest.json").read_text())["started_at"]
    started_s = calendar.timegm(time.strptime(started[:19], "%Y-%m-%dT%H:%M:%S")) + int(started[20:23]) / 1000
    want = {tid for t, tid in acked if t < started_s}
    assert want, "no write was acknowledged before the newest backup started"
    assert len({tid for t, tid in acked if t >= started_s}) > 0, "writes went on while the backup ran"
    assert integrity_problems(args, data) == [], "the killed server's databases"

    rargs, rdata = fresh_store(tmp_path / "back", database)
    run(opsbase_bin, "restore", "--from", newest, *rargs)
    run(opsbase_bin, "check-ledgers", *rargs)
    assert integrity_problems(rargs, rdata) == [], "the restored databases"
    proc, url = start_server(opsbase_bin, rargs)
    try:
        token = h.login_raw(url, "drill", "owner@drill.test", h.OWNER_PASSWORD).json()["token"]
        have = ticket_ids(url, {"Authorization": f"Bearer {token}"})
    finally:
        _stop(proc)
    assert want <= have, f"{len(want - have)} acknowledged writes missing from the restored backup"
    # only what was written: at most one write per writer committed but not yet answered when it died
    assert len(have - {tid for _, tid in acked}) <= len(threads), "the restore holds only what was written"


def test_backup_under_writes_restores_every_acknowledged_write(opsbase_bin, server, acme_owner, customer, tmp_path):
    before = [new_ticket(acme_owner, customer, f"before {i}") for i in range(5)]
    # an upload, so that the restore writes files into a data directory that
    # does not exist yet (on PostgreSQL nothing else would have made it)
    body = PDF + os.urandom(1000)
    r = acme_owner.post("/api/v1/files", files={"file": ("drill.pdf", body, "application/pdf")})
    assert r.status_code == 201, h.show(r)
    fid = r.json()["id"]
    stop = threading.Event()
    during = []

    def writer():
        with h.ApiClient(base_url=server.url, timeout=h.HTTP_TIMEOUT,
                         headers={"Authorization": f"Bearer {acme_owner.token}"}) as c:
            i = 0
            while not stop.is_set():
                r = c.post("/api/v1/tickets", json={"title": f"during {i}", "description": "x",
                                                    "customer_id": customer})
                if r.status_code == 201:
                    during.append(r.json()["id"])
                i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(0.3)
        out = tmp_path / "backup"
        r = run(opsbase_bin, "backup", "--out", out, *store_args(server))
        assert "part(s)" in r.stdout
        time.sleep(0.2)
    finally:
        stop.set()
        t.join()
    assert during, "the writer wrote nothing while the backup ran"

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "opsbase-backup" and manifest["scope"] == "all"
    assert manifest["engine"] == ("postgres" if server.db_url else "sqlite")
    kinds = sorted((p["kind"], p.get("tenant")) for p in manifest["parts"])
    assert ("control", None) in kinds and ("tenant", "acme") in kinds and ("tenant", "globex") in kinds
    for p in manifest["parts"]:
        f = out / p["file"]
        assert f.stat().st_size == p["bytes"] and oct(f.stat().st_mode & 0o777) == "0o600"
        assert f.read_bytes()[:4] == b"\x28\xb5\x2f\xfd", "parts are zstd frames"

    args, data = fresh_store(tmp_path, server.db_url)
    assert not data.exists()
    r = run(opsbase_bin, "restore", "--from", out, *args)
    assert "restore:" in r.stdout
    # every balance is restored as it was: the restored store's ledger check says
    # what the original's says (another test tampers with a balance on purpose)
    orig = run(opsbase_bin, "check-ledgers", *store_args(server), check=False)
    back = run(opsbase_bin, "check-ledgers", *args, check=False)
    assert back.returncode == orig.returncode and back.stdout == orig.stdout, (orig.stdout, back.stdout)
    listed = run(opsbase_bin, "tenant", "list", *args).stdout
    assert "acme" in listed and "globex" in listed

    # the restored store serves: the owner signs in with the password of the
    # original (hashes restored), and every ticket acknowledged before the backup is there
    port = _free_port()
    proc = subprocess.Popen([str(opsbase_bin), "serve", *args, "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + h.WAIT_S
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the restored store did not start"
            time.sleep(0.05)
        r = h.login_raw(url, "acme", "owner@acme.test", h.OWNER_PASSWORD)
        assert r.status_code == 200, h.show(r)
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        for tid in before:
            got = httpx.get(f"{url}/api/v1/tickets/{tid}", headers=auth, timeout=10)
            assert got.status_code == 200, h.show(got)
            orig = acme_owner.get(f"/api/v1/tickets/{tid}").json()
            assert got.json() == orig, "a restored row equals the original, version and stamps included"
        got = httpx.get(f"{url}/api/v1/files/{fid}/content", headers=auth, timeout=10)
        assert got.status_code == 200 and got.content == body, "the upload is restored with its tenant"
        # the restored tenant keeps numbering after the last restored ticket
        r = httpx.post(f"{url}/api/v1/tickets", headers=auth, timeout=10,
                       json={"title": "after restore", "description": "x", "customer_id": customer})
        assert r.status_code == 201, h.show(r)
    finally:
        _stop(proc)


def test_one_tenant_restores_beside_the_others_under_a_new_slug(opsbase_bin, server, acme_owner, customer,
                                                                login, tmp_path):
    tid = new_ticket(acme_owner, customer, "copy me")
    out = tmp_path / "one"
    run(opsbase_bin, "backup", "--out", out, "--tenant", "acme", *store_args(server))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scope"] == "tenant" and [p["tenant"] for p in manifest["parts"]] == ["acme"]

    slug = "acme-copy-" + uuid.uuid4().hex[:6]
    run(opsbase_bin, "restore", "--from", out, "--tenant", "acme", "--as", slug, *store_args(server))
    copy = login(slug, "owner@acme.test", h.OWNER_PASSWORD)
    assert copy.get(f"/api/v1/tickets/{tid}").json()["title"] == "copy me"
    # the copy is a tenant of its own: a change there leaves the original as it was
    r = copy.post(f"/api/v1/tickets/{tid}/start")
    assert r.status_code == 200, h.show(r)
    assert acme_owner.get(f"/api/v1/tickets/{tid}").json()["status"] == "open"

    # the same slug again, or the original's, is refused and writes nothing
    for target in (slug, "acme"):
        argv = ["restore", "--from", out, "--tenant", "acme", *(("--as", target) if target != "acme" else ())]
        r = run(opsbase_bin, *argv, *store_args(server), check=False)
        assert r.returncode == 1 and "exists already" in r.stderr, r.stderr
    r = run(opsbase_bin, "restore", "--from", out, "--tenant", "nobody", *store_args(server), check=False)
    assert r.returncode == 1 and "no tenant" in r.stderr


def test_damaged_or_newer_backups_are_refused_and_write_nothing(opsbase_bin, server, acme_owner, customer,
                                                                tmp_path):
    out = tmp_path / "b"
    run(opsbase_bin, "backup", "--out", out, "--tenant", "acme", *store_args(server))
    part = out / "tenants" / "acme.ndjson.zst"
    good = part.read_bytes()

    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF
    part.write_bytes(bytes(damaged))
    r = run(opsbase_bin, "restore", "--from", out, "--tenant", "acme", "--as", "acme-damaged",
            *store_args(server), check=False)
    assert r.returncode == 1 and "checksum" in r.stderr, r.stderr
    part.write_bytes(good)

    m = json.loads((out / "manifest.json").read_text())
    m["schema_version"] = 9999
    (out / "manifest.json").write_text(json.dumps(m))
    r = run(opsbase_bin, "restore", "--from", out, "--tenant", "acme", "--as", "acme-newer",
            *store_args(server), check=False)
    assert r.returncode == 1 and "newer than this binary" in r.stderr, r.stderr

    listed = run(opsbase_bin, "tenant", "list", *store_args(server)).stdout
    assert "acme-damaged" not in listed and "acme-newer" not in listed

    # a whole backup goes only into an empty store; a backup directory is written once
    whole = tmp_path / "whole"
    run(opsbase_bin, "backup", "--out", whole, *store_args(server))
    r = run(opsbase_bin, "restore", "--from", whole, *store_args(server), check=False)
    assert r.returncode == 1 and "empty store" in r.stderr, r.stderr
    r = run(opsbase_bin, "backup", "--out", whole, *store_args(server), check=False)
    assert r.returncode == 1 and "holds a backup already" in r.stderr
    r = run(opsbase_bin, "backup", *store_args(server), check=False)
    assert r.returncode == 2


# A one-page PDF: what the upload's type check accepts.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def test_uploaded_files_travel_with_their_tenant(opsbase_bin, server, acme_owner, login, tmp_path):
    # larger than one line of the files part (192 KiB), so it spans several
    body = PDF + os.urandom(450_000)
    r = acme_owner.post("/api/v1/files", files={"file": ("big.pdf", body, "application/pdf")})
    assert r.status_code == 201, h.show(r)
    fid = r.json()["id"]
    out = tmp_path / "with-files"
    r = run(opsbase_bin, "backup", "--out", out, "--tenant", "acme", *store_args(server))
    part = json.loads((out / "manifest.json").read_text())["parts"][0]
    files = part["files"]
    assert files["count"] >= 1 and files["file"] == "tenants/acme.files.zst"
    f = out / files["file"]
    assert f.stat().st_size == files["bytes"] and oct(f.stat().st_mode & 0o777) == "0o600"
    assert f.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"

    # a damaged files part is refused before any row or file is written
    good = f.read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0x01
    f.write_bytes(bytes(bad))
    slug = "acme-files-" + uuid.uuid4().hex[:6]
    r = run(opsbase_bin, "restore", "--from", out, "--tenant", "acme", "--as", slug, *store_args(server),
            check=False)
    assert r.returncode == 1 and "checksum" in r.stderr, r.stderr
    assert slug not in run(opsbase_bin, "tenant", "list", *store_args(server)).stdout
    assert not (server.data / "files" / slug).exists()
    f.write_bytes(good)

    r = run(opsbase_bin, "restore", "--from", out, "--tenant", "acme", "--as", slug, *store_args(server))
    assert f"{files['count']} file(s)" in r.stdout, r.stdout
    copy = login(slug, "owner@acme.test", h.OWNER_PASSWORD)
    got = copy.get(f"/api/v1/files/{fid}/content")
    assert got.status_code == 200, h.show(got)
    assert got.content == body, "the restored tenant serves the uploaded bytes"


def test_two_restores_racing_for_one_slug_exactly_one_wins(opsbase_bin, server, acme_owner, login, tmp_path):
    body = PDF + os.urandom(300_000)
    r = acme_owner.post("/api/v1/files", files={"file": ("race.pdf", body, "application/pdf")})
    assert r.status_code == 201, h.show(r)
    fid = r.json()["id"]
    out = tmp_path / "race"
    run(opsbase_bin, "backup", "--out", out, "--tenant", "acme", *store_args(server))
    slug = "acme-race-" + uuid.uuid4().hex[:6]
    argv = [str(opsbase_bin), "restore", "--from", str(out), "--tenant", "acme", "--as", slug, *store_args(server)]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              stdin=subprocess.DEVNULL) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert sorted(rc for rc, _ in results) == [0, 1], results
    loser = next(err for rc, err in results if rc == 1)
    # the loser waits for the winner's control transaction: past SQLite's busy
    # timeout or PostgreSQL's lock timeout (a slow build, a busy machine) it gives
    # up as locked, else it finds the slug taken
    assert any(w in loser for w in ("exists already", "database is locked", "lock timeout")), loser
    assert run(opsbase_bin, "tenant", "list", *store_args(server)).stdout.count(slug) == 1
    copy = login(slug, "owner@acme.test", h.OWNER_PASSWORD)
    got = copy.get(f"/api/v1/files/{fid}/content")
    assert got.status_code == 200 and got.content == body, "the winner's files are whole"


def test_scheduled_backups_older_than_keep_days_are_removed(opsbase_bin, database, tmp_path):
    """--backup-keep-days: after a scheduled backup, backups older than that go,
    as does an old one a crash left without its manifest; younger ones stay."""
    args, _ = fresh_store(tmp_path / "aged", database)
    run(opsbase_bin, "tenant", "create", "aged", "--plan", "business", "--owner-email", "owner@aged.test",
        "--owner-password", h.OWNER_PASSWORD, *args)
    backups = tmp_path / "backups"
    young = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 5 * 86400))
    for name, complete in (("20200101T000000Z", True), ("20200102T000000Z", False), (young, True)):
        (backups / name / "tenants").mkdir(parents=True)
        (backups / name / "control.ndjson.zst").write_bytes(b"")
        if complete:
            (backups / name / "manifest.json").write_text("{}")
    proc, _ = start_server(opsbase_bin, args, "--backup-dir", backups, "--backup-every", "1h",
                           "--backup-keep-days", "30")
    try:
        deadline = time.monotonic() + h.WAIT_S
        while True:
            names = sorted(p.name for p in backups.iterdir())
            fresh = [n for n in names if n > young and (backups / n / "manifest.json").exists()]
            if fresh and "20200101T000000Z" not in names and "20200102T000000Z" not in names:
                break
            assert time.monotonic() < deadline, f"old backups were not removed: {names}"
            time.sleep(0.2)
    finally:
        _stop(proc)
    assert young in names, "a backup younger than --backup-keep-days stays"
    m = json.loads((backups / fresh[0] / "manifest.json").read_text())
    assert [p["tenant"] for p in m["parts"] if p["kind"] == "tenant"] == ["aged"]
