"""The command line: help, usage errors, schema, version, tenants."""
import json
import re

import pytest

import helpers as h

TABLES = ("customers", "customer_contacts", "tickets", "ticket_messages", "categories",
          "documents", "document_categories", "users", "roles", "user_roles", "audit_logs")
TYPES = {"text", "int", "integer", "decimal", "real", "float", "number", "bool", "boolean",
         "timestamp", "date", "json", "enum", "ref", "reference", "id", "uuid"}


def _cols(table):
    return {c["name"]: c for c in table["columns"]}


@pytest.fixture(scope="module")
def schema(bare_cli):
    r = bare_cli.run("schema", "--json", data=False)
    doc = json.loads(r.stdout)
    return doc


def _tenant_lines(cli):
    out = cli.run("tenant", "list").stdout
    return {re.split(r"[\s,|]+", ln.strip())[0]: ln for ln in out.splitlines() if ln.strip()}


def test_help(bare_cli):
    r = bare_cli.run("--help", data=False)
    assert r.returncode == 0
    text = r.stdout + r.stderr
    for word in ("serve", "tenant", "user", "schema", "version"):
        assert word in text, word


def test_subcommand_help(bare_cli):
    r = bare_cli.run("serve", "--help", data=False)
    assert r.returncode == 0
    assert "--listen" in r.stdout + r.stderr


@pytest.mark.parametrize("argv", [
    ("--no-such-flag",),
    ("tenant", "list", "--no-such-flag"),
    ("serve", "--threads", "many"),
    ("serve", "--listen", "not-an-address"),
    ("no-such-command",),
])
def test_unknown_flag_or_bad_value_exits_2(bare_cli, argv):
    r = bare_cli.run(*argv, check=False, data=False, timeout=20)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "usage" in r.stderr.lower(), r.stderr


def test_version(bare_cli):
    r = bare_cli.run("version", data=False)
    assert r.returncode == 0
    assert re.search(r"\d+\.\d+", r.stdout), r.stdout


def test_every_subcommand_takes_data(bare_cli):
    """docs/cli.md: every subcommand takes --data DIR."""
    for argv in (("schema", "--json"), ("version",)):
        r = bare_cli.run(*argv, check=False)
        assert r.returncode == 0, (argv, r.stdout, r.stderr)


def test_schema_json(schema):
    assert isinstance(schema["version"], int) and schema["version"] >= 1
    tables = {t["name"]: t for t in schema["tables"]}
    for name in TABLES:
        assert name in tables, name
    for t in tables.values():
        assert t["columns"], t["name"]
        for c in t["columns"]:
            assert isinstance(c["name"], str) and c["name"]
            assert isinstance(c["type"], str) and c["type"].lower() in TYPES, (t["name"], c)


def test_schema_typed_columns(schema):
    tables = {t["name"]: t for t in schema["tables"]}
    cust = _cols(tables["customers"])
    for implicit in ("id", "created_at", "updated_at", "version"):
        assert implicit in cust, implicit
    assert cust["customer_code"]["type"].lower() == "text"
    assert cust["credit_limit"]["type"].lower() == "decimal"
    assert cust["customer_tier"]["type"].lower() == "enum"
    assert cust["payment_terms"]["type"].lower() in ("int", "integer")
    assert cust["created_at"]["type"].lower() == "timestamp"
    tk = _cols(tables["tickets"])
    for name in ("title", "description", "customer_id", "status", "assigned_agent_id",
                 "response_due_at", "sla_due_date", "first_response_at", "resolved_at"):
        assert name in tk, name
    assert tk["customer_id"]["type"].lower() in ("ref", "reference")
    assert tk["resolved_at"]["type"].lower() == "timestamp"
    msg = _cols(tables["ticket_messages"])
    assert msg["is_internal"]["type"].lower() in ("bool", "boolean")
    cat = _cols(tables["categories"])
    assert cat["response_sla_minutes"]["type"].lower() in ("int", "integer")
    users = _cols(tables["users"])
    assert "current_ticket_count" in users and "last_assigned_at" in users
    assert "audit_logs" in tables and "request_id" in _cols(tables["audit_logs"])


def test_tenant_list(cli):
    lines = _tenant_lines(cli)
    for slug_, plan in (("acme", "business"), ("globex", "business"), ("tiny", "free")):
        assert slug_ in lines, lines
        assert plan in lines[slug_], lines[slug_]


def test_tenant_create_duplicate_fails(cli):
    r = cli.tenant_create("acme", owner_email="again@acme.test", check=False)
    assert r.returncode != 0
    assert "acme" in _tenant_lines(cli)


def test_tenant_create_bad_slug(cli):
    for bad in ("../evil", "has space", "a/b"):
        r = cli.tenant_create(bad, owner_email="x@bad.test", check=False)
        assert r.returncode != 0, bad
    assert not any(k.startswith("..") for k in _tenant_lines(cli))


def test_tenant_create_unknown_plan(cli):
    s = h.slug()
    r = cli.tenant_create(s, plan="platinum-deluxe", check=False)
    assert r.returncode != 0
    assert s not in _tenant_lines(cli)


def test_user_create_unknown_role(cli, acme_owner):
    email = h.uniq("badrole") + "@acme.test"
    r = cli.user_create("acme", email, "emperor", check=False)
    assert r.returncode != 0
    assert h.rows_where(acme_owner, "users", email=email) == []


def test_user_create_unknown_tenant(cli):
    r = cli.user_create(h.slug(), "x@nowhere.test", "agent", check=False)
    assert r.returncode != 0


def test_tenant_create_generates_password(cli, server):
    s = h.slug()
    r = cli.run("tenant", "create", s, "--plan", "starter", "--owner-email", f"owner@{s}.test")
    # The generated password is printed once; it must let the owner log in.
    candidates = [w for w in re.findall(r"\S{12,}", r.stdout) if "@" not in w and s not in w]
    assert candidates, r.stdout
    assert any(h.login_raw(server.url, s, f"owner@{s}.test", c).status_code == 200
               for c in candidates[-4:]), r.stdout


def test_tenant_delete(cli, server, login):
    s = h.slug()
    cli.tenant_create(s, plan="starter")
    c = login(s, f"owner@{s}.test", h.OWNER_PASSWORD)
    h.ok(c.get("/api/v1/auth/me"))
    assert s in _tenant_lines(cli)

    cli.run("tenant", "delete", s, "--yes")
    assert s not in _tenant_lines(cli)
    h.expect_error(h.login_raw(server.url, s, f"owner@{s}.test", h.OWNER_PASSWORD),
                   401, "invalid_credentials")
    # A session of the deleted tenant is dead too.
    h.expect_error(c.get("/api/v1/auth/me"), 401, "unauthenticated")
    # Other tenants are untouched.
    h.ok(h.login_raw(server.url, "globex", "owner@globex.test", h.OWNER_PASSWORD))


def test_tenant_delete_unknown(cli):
    r = cli.run("tenant", "delete", h.slug(), "--yes", check=False)
    assert r.returncode != 0


def test_tenant_delete_without_yes_needs_confirmation(cli):
    s = h.slug()
    cli.tenant_create(s, plan="starter")
    # stdin is empty: the slug is never typed, so nothing is deleted.
    r = cli.run("tenant", "delete", s, check=False, timeout=20)
    assert r.returncode != 0
    assert s in _tenant_lines(cli)


def _wait_health(url, proc, timeout=20.0):
    import time
    import httpx
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"serve exited with {proc.returncode}"
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError("serve did not answer /healthz")


def test_serve_fresh_dir_and_sigterm(opsbase_bin, tmp_path):
    """A new data directory is created and migrated; a second server on the same
    port fails instead of sharing it; SIGTERM stops the server cleanly (exit 0)."""
    import signal
    import socket
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path / "fresh"
    err = open(tmp_path / "serve.stderr", "wb")
    proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), "--listen",
                             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=err,
                            stdin=subprocess.DEVNULL)
    try:
        _wait_health(f"http://127.0.0.1:{port}", proc)
        import httpx
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=h.HTTP_TIMEOUT).json()["status"] == "ready"
        # A second opsbase on the same port must fail rather than share it.
        second = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(tmp_path / "other"),
                                   "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            rc = second.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            if second.poll() is None:
                second.kill()
                second.wait()
        assert rc not in (None, 0), "a second opsbase serve shared the port instead of failing"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err.close()
    assert proc.returncode == 0, f"serve exited {proc.returncode} on SIGTERM"


def test_serve_on_taken_port_fails(opsbase_bin, tmp_path):
    """A second server on a port already in use must fail, not share the port."""
    import socket
    import subprocess

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(tmp_path / "d"),
                                 "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            rc = proc.wait(timeout=h.WAIT_S)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
    assert rc is not None, "serve kept running on a port another socket listens on"
    assert rc != 0 and stderr.strip(), (rc, stderr)


def test_migrate_is_idempotent(opsbase_bin, tmp_path):
    c = h.Cli(opsbase_bin, tmp_path / "mig")
    c.tenant_create("migr", plan="starter")
    c.run("migrate")
    c.run("migrate")
    assert "migr" in c.run("tenant", "list").stdout


def test_demo(opsbase_bin, tmp_path):
    c = h.Cli(opsbase_bin, tmp_path / "demo")
    c.run("demo", timeout=120)
    lines = [ln for ln in c.run("tenant", "list").stdout.splitlines() if ln.strip()]
    assert lines


def test_demo_has_every_system(opsbase_bin, tmp_path, monkeypatch):
    """make run's demo data: something to show in each of the five systems."""
    monkeypatch.delenv("OPSBASE_DB", raising=False)  # the demo's own embedded data directory
    c = h.Cli(opsbase_bin, tmp_path / "demo")
    c.run("demo", timeout=120)
    with h.sqlite_db(tmp_path / "demo" / "tenants" / "acme.db") as db:
        def count(table):
            return db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        for table in ("tickets", "documents", "customers", "orders", "order_items", "sales_channels",
                      "inventory_transactions", "purchase_orders", "shipments", "tracking_events",
                      "flight_schedules", "invoices", "invoice_items", "payments", "jobs"):
            assert count(table) > 0, table
        # the stock came in and went out through the ledger
        assert db.execute("SELECT quantity_on_hand FROM inventory").fetchone() == (38,)
    r = c.run("check-ledgers")
    assert "0 mismatch(es)" in r.stdout


def test_demo_has_a_cargo_portal_and_a_gold_shop(opsbase_bin, tmp_path, monkeypatch):
    """skycargo (seed 000) and goldline (seed 003): each workflow in several states,
    reached through the engine's events and actions, ledgers that add up."""
    monkeypatch.delenv("OPSBASE_DB", raising=False)  # the demo's own embedded data directory
    c = h.Cli(opsbase_bin, tmp_path / "demo")
    c.run("demo", timeout=120)
    with h.sqlite_db(tmp_path / "demo" / "tenants" / "skycargo.db") as db:
        rows = dict(db.execute("SELECT awb_number, status FROM shipments"))
        assert rows == {"176-41000013": "created", "176-41000024": "booked", "176-41000035": "departed",
                        "157-41000046": "delivered"}
        # booked weight (whole kilograms, rounded up) is what the flights lost
        assert sorted(db.execute("SELECT flight_number, booked_kg, available_kg FROM flight_schedules")) == [
            ("EK9901", 282, 19718), ("QR8801", 201, 14799)]
        assert sorted(r[0] for r in db.execute("SELECT status FROM service_requests")) == [
            "approved", "in_review", "submitted"]
        assert sorted(db.execute("SELECT queue_number, status FROM queue_numbers")) == [
            ("A001", "waiting"), ("E001", "called"), ("E002", "waiting")]
        portal = db.execute("SELECT u.customer_id, c.company_name FROM users u JOIN customers c "
                            "ON c.id = u.customer_id WHERE u.email = 'portal@skycargo.test'").fetchone()
        assert portal[1] == "Sahyadri Pharma"
        assert db.execute("SELECT COUNT(*) FROM shipments WHERE customer_id = ?", (portal[0],)).fetchone() == (2,)
    with h.sqlite_db(tmp_path / "demo" / "tenants" / "goldline.db") as db:
        assert sorted(r[0] for r in db.execute("SELECT status FROM invoices")) == [
            "cancelled", "draft", "issued", "paid", "partially_paid"]
        # every journal balances; the 10 g of 22K is priced at the rate in force when invoiced
        assert db.execute("SELECT COUNT(*) FROM journals WHERE total_debit <> total_credit").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM journals").fetchone()[0] >= 6
        assert db.execute("SELECT DISTINCT rate_per_gram FROM invoice_items WHERE purity = '916'").fetchall() == [
            (645000,)]
        assert db.execute("SELECT COUNT(*) FROM dashboard_widgets").fetchone() == (1,)
        # a weekly report mailed with its files, and a rule booking a follow-up after each sale
        assert db.execute("SELECT name, schedule_frequency FROM custom_reports WHERE is_scheduled").fetchall() == [
            ("Sales by day", "weekly")]
        assert db.execute("SELECT COUNT(*) FROM automation_rules WHERE is_active").fetchone() == (1,)
        # the pieces went through the stock ledger: issued ones held, the paid one sold, the cancelled one back
        assert db.execute("SELECT SUM(quantity_on_hand), SUM(quantity_reserved) FROM inventory").fetchone() == (5, 2)
        assert sorted(db.execute("SELECT transaction_type, COUNT(*) FROM inventory_transactions "
                                 "WHERE reference_type = 'invoice' GROUP BY transaction_type")) == [
            ("release", 2), ("reserve", 4), ("sale", 1)]
        # a customer with a story for the timeline, an overdue follow-up and a birthday
        assert db.execute("SELECT COUNT(*) FROM customer_communication_history WHERE follow_up_required "
                          "AND follow_up_date < strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM customer_preferences WHERE special_occasions LIKE '%birthday%'"
                          ).fetchone() == (1,)
        # every piece has its primary picture, a PNG in the file store, queued for its thumbnail
        assert db.execute("SELECT COUNT(*) FROM images i JOIN files f ON f.id = i.file_id WHERE i.is_primary "
                          "AND i.entity_type = 'product' AND f.mime_type = 'image/png'").fetchone() == (3,)
        assert db.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'images.process'").fetchone() == (3,)
        keys = [r[0] for r in db.execute("SELECT storage_key FROM files WHERE mime_type = 'image/png'")]
    stored = [p for p in (tmp_path / "demo").rglob("*") if p.is_file() and any(p.name in k or k in str(p) for k in keys)]
    assert stored and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in stored)
    assert "0 mismatch(es)" in c.run("check-ledgers").stdout
    assert c.run("audit", "verify", "--tenant", "goldline").returncode == 0
