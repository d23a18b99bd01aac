"""Retention and archiving on the session's engine, with a fixed clock
(`opsbase archive run --now`): closed tickets leave after a year, but not while a
message still refers to them, nor under a legal hold (record, customer, tenant);
soft-deleted rows leave after 30 days; a tenant's override wins; every batch is
audited; an archived run comes back with `opsbase archive restore`."""
import datetime as dt
import json
import subprocess
import time
import uuid

import pytest

import helpers as h
from conftest import _free_port as h_free_port, _stop as h_stop


def later(days):
    t = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def shop(cli, login):
    slug = "ret-" + uuid.uuid4().hex[:8]
    cli.tenant_create(slug)
    return slug, login(slug, f"owner@{slug}.test", h.OWNER_PASSWORD)


def archive(server, slug, days, check=True):
    args = ["archive", "run", "--tenant", slug, "--now", later(days),
            "--archive-dir", str(server.data / "archive")]
    if server.db_url:
        args += ["--db", server.db_url]
    return server.cli.run(*args, check=check)


def control_sql(server, sql, params=()):
    if server.db_url:
        q = sql.replace("?", "%s") % tuple(f"'{p}'" for p in params)
        subprocess.run(["psql", server.db_url, "-v", "ON_ERROR_STOP=1", "-qc", q], check=True, capture_output=True)
    else:
        with h.sqlite_db(server.data / "control.db") as c:
            c.execute(sql, params)


def make_ticket(c, cust, closed):
    r = c.post("/api/v1/tickets", json={"title": "t", "description": "d", "customer_id": cust})
    assert r.status_code == 201, h.show(r)
    tid = r.json()["id"]
    if closed:
        for ev in ("resolve", "close"):
            assert c.post(f"/api/v1/tickets/{tid}/{ev}").status_code == 200
    return tid


def customer(c, name):
    r = c.post("/api/v1/customers", json={"name": name})
    assert r.status_code == 201, h.show(r)
    return r.json()["id"]


def exists(c, table, rid):
    return c.get(f"/api/v1/{table}/{rid}").status_code == 200


def test_closed_tickets_leave_after_a_year_children_first_and_come_back(server, shop):
    slug, c = shop
    cust = customer(c, "Old Co")
    closed, still_open = make_ticket(c, cust, True), make_ticket(c, cust, False)
    chatty = make_ticket(c, cust, True)
    r = c.post("/api/v1/ticket_messages", json={"ticket_id": chatty, "content": "hello"})
    assert r.status_code == 201, h.show(r)
    msg = r.json()["id"]

    assert "0 row(s) archived" in archive(server, slug, 300).stdout  # younger than a year: all stay
    out = archive(server, slug, 400).stdout
    assert not exists(c, "tickets", closed), "a closed ticket over a year old is archived"
    assert exists(c, "tickets", still_open), "an open ticket stays whatever its age"
    assert exists(c, "tickets", chatty) and exists(c, "ticket_messages", msg), \
        "a ticket a live message refers to waits for the message's own retention"
    assert "1 row(s) archived" in out, out

    archive(server, slug, 800)  # messages leave after two years, then their ticket
    assert not exists(c, "ticket_messages", msg) and not exists(c, "tickets", chatty)

    audit = c.get("/api/v1/audit_logs", params={"action": "archive", "entity_type": "tickets"}).json()["data"]
    assert sum(json.loads(a["metadata"])["archived"] if isinstance(a["metadata"], str) else a["metadata"]["archived"]
               for a in audit) == 2, audit

    manifests = sorted((server.data / "archive" / slug).glob("*.manifest.json"))
    assert len(manifests) == 2
    for m in manifests:
        args = ["archive", "restore", "--manifest", str(m), "--tenant", slug]
        if server.db_url:
            args += ["--db", server.db_url]
        server.cli.run(*args)
    for table, rid in (("tickets", closed), ("tickets", chatty), ("ticket_messages", msg)):
        assert exists(c, table, rid), f"{table} {rid} is back after archive restore"
    # a second restore of the same run puts nothing back twice
    assert "0 row(s) put back" in server.cli.run(*args).stdout


def test_legal_holds_stop_archiving(server, shop):
    slug, c = shop
    held_cust, free_cust = customer(c, "Held Co"), customer(c, "Free Co")
    by_customer = make_ticket(c, held_cust, True)
    by_record = make_ticket(c, free_cust, True)
    free = make_ticket(c, free_cust, True)
    r = c.post("/api/v1/legal_holds", json={"scope": "customer", "customer_id": held_cust, "reason": "litigation"})
    assert r.status_code == 201, h.show(r)
    assert r.json()["placed_by"] == c.user["id"] and r.json()["status"] == "active"
    r = c.post("/api/v1/legal_holds", json={"scope": "record", "entity_type": "tickets", "entity_id": by_record,
                                           "reason": "audit"})
    assert r.status_code == 201, h.show(r)
    record_hold = r.json()["id"]

    archive(server, slug, 400)
    assert exists(c, "tickets", by_customer) and exists(c, "tickets", by_record)
    assert not exists(c, "tickets", free)

    r = c.post(f"/api/v1/legal_holds/{record_hold}/release")
    assert r.status_code == 200 and r.json()["released_by"] == c.user["id"] and r.json()["released_at"]
    assert c.post(f"/api/v1/legal_holds/{record_hold}/release").status_code == 422
    r = c.post("/api/v1/legal_holds", json={"scope": "tenant", "reason": "regulator"})
    assert r.status_code == 201
    out = archive(server, slug, 400).stdout
    assert "1 tenant(s) under legal hold" in out and exists(c, "tickets", by_record), out
    hold = r.json()["id"]
    c.post(f"/api/v1/legal_holds/{hold}/release")
    archive(server, slug, 400)
    assert not exists(c, "tickets", by_record) and exists(c, "tickets", by_customer)


def test_soft_deleted_rows_leave_after_30_days_and_tenant_override(server, shop):
    slug, c = shop
    gone = customer(c, "Gone Co")
    assert c.delete(f"/api/v1/customers/{gone}").status_code == 200
    archive(server, slug, 20)
    files = list((server.data / "archive" / slug).glob("customers/*/*-deleted.ndjson.zst"))
    assert not files, "kept 30 days after deletion"
    archive(server, slug, 31)
    assert list((server.data / "archive" / slug).glob("customers/*/*-deleted.ndjson.zst"))

    cust = customer(c, "Override Co")
    tid = make_ticket(c, cust, True)
    control_sql(server, "UPDATE tenants SET settings = ? WHERE slug = ?",
                (json.dumps({"retention": {"tickets": 30}}), slug))
    archive(server, slug, 31)
    assert not exists(c, "tickets", tid), "the tenant's 30 days override the declared year"


def test_retention_is_declared_in_the_schema(opsbase_bin):
    schema = json.loads(subprocess.check_output([str(opsbase_bin), "schema", "--json"], text=True))
    tables = {t["name"]: t for t in schema["tables"]}
    assert tables["tickets"]["retention"]["days"] == 365
    assert tables["tickets"]["retention"]["when"]
    assert tables["audit_logs"]["retention"]["days"] == 2555
    assert "retention" not in tables["inventory_transactions"], "ledger entries are never archived"


def test_serve_runs_retention_on_its_interval(opsbase_bin, database, tmp_path):
    """--archive-every: the server runs retention itself and logs each run."""
    data = tmp_path / "data"
    db = database
    if database:  # a database of its own: the session's holds every other test's tenants
        name = "ret_" + uuid.uuid4().hex[:10]
        subprocess.run(["psql", database, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"],
                       check=True, capture_output=True, timeout=60)
        db = database.rsplit("/", 1)[0] + "/" + name
    args = ["--data", str(data), *(("--db", db) if db else ())]
    subprocess.run([str(opsbase_bin), "migrate", *args], check=True, capture_output=True, timeout=120)
    port = h_free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([str(opsbase_bin), "serve", *args, "--listen", f"127.0.0.1:{port}",
                                 "--archive-every", "1s"], stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + h.WAIT_S
        while b'"msg":"archive_run"' not in log.read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
    finally:
        h_stop(proc)
    bad = subprocess.run([str(opsbase_bin), "serve", *args, "--archive-every", "soon"], capture_output=True, timeout=30)
    assert bad.returncode == 2
