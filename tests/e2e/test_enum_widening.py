"""An enum value added in a release reaches databases made before it: the
migration that brings such a database up to date widens the column's CHECK
to the declared list (SQLite: the table's CREATE text, rewritten the way
SQLite documents for constraint changes that keep stored rows valid;
PostgreSQL: the constraint dropped and added under its name). Simulated here
by narrowing shipments.status back to a list without 'cancelled' and
stepping the tenant's recorded version back by one. Both engines."""
import json
import sqlite3
import subprocess

import helpers as h

API = "/api/v1"
STATUSES = ["created", "booked", "manifested", "picked", "departed", "in_transit", "arrived", "customs_clearance",
            "out_for_delivery", "delivered", "rto_initiated", "rto_in_transit", "rto_delivered", "cancelled"]


def _narrow_sqlite(path, want):
    old = ",".join(f"'{s}'" for s in STATUSES)
    new = ",".join(f"'{s}'" for s in STATUSES if s != "cancelled")
    c = sqlite3.connect(path)
    try:
        (sql,) = c.execute("SELECT sql FROM sqlite_schema WHERE type='table' AND name='shipments'").fetchone()
        assert f'CHECK ("status" IN ({old}))' in sql
        (ver,) = c.execute("PRAGMA schema_version").fetchone()
        c.execute("PRAGMA writable_schema = ON")
        c.execute("UPDATE sqlite_schema SET sql = ? WHERE type='table' AND name='shipments'",
                  (sql.replace(f'CHECK ("status" IN ({old}))', f'CHECK ("status" IN ({new}))'),))
        c.execute(f"PRAGMA schema_version = {ver + 1}")
        c.execute("PRAGMA writable_schema = OFF")
        c.execute("DELETE FROM schema_migrations WHERE version = ?", (want,))
        c.execute(f"PRAGMA user_version = {want - 1}")
        c.commit()
    finally:
        c.close()


def _sqlite_check(path):
    with h.sqlite_db(path) as c:
        (sql,) = c.execute("SELECT sql FROM sqlite_schema WHERE type='table' AND name='shipments'").fetchone()
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return sql


def _pg(server, slug, sql):
    schema = "tenant_" + slug.replace("-", "_")
    r = subprocess.run(["psql", server.db_url, "-v", "ON_ERROR_STOP=1", "-qAtc", f'SET search_path TO "{schema}"; {sql}'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def _pg_def(server, slug):
    return _pg(server, slug, "SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON "
                             "c.oid = k.conrelid WHERE c.relname = 'shipments' AND k.conname = 'shipments_status_check' "
                             "AND c.relnamespace = current_schema()::regnamespace")


def test_a_value_added_later_is_accepted_after_migrate(server, cli, new_tenant):
    t = new_tenant()
    c = t.owner
    want = json.loads(cli.run("schema", "--json", data=False).stdout)["version"]
    wh = h.create(c, "warehouses", {"name": "WH " + h.uniq()})
    if server.db_url:
        new = ",".join(f"'{s}'" for s in STATUSES if s != "cancelled")
        _pg(server, t.slug, "ALTER TABLE shipments DROP CONSTRAINT shipments_status_check, ADD CONSTRAINT "
                            f"shipments_status_check CHECK (status IN ({new})); "
                            f"DELETE FROM schema_migrations WHERE version = {want}")
        assert "'cancelled'" not in _pg_def(server, t.slug)
    else:
        _narrow_sqlite(server.data / "tenants" / f"{t.slug}.db", want)
    # the old database refuses the value the registry now declares
    r = c.post(f"{API}/shipments", json={"destination_warehouse_id": wh["id"], "status": "cancelled"})
    h.expect_error(r, 400, "validation_failed")  # the database's CHECK
    assert h.list_all(c, "shipments", {"destination_warehouse_id": wh["id"]}) == []

    out = cli.run("migrate").stdout
    assert f"schema version {want}" in out
    if server.db_url:
        assert "'cancelled'" in _pg_def(server, t.slug)
        assert _pg(server, t.slug, "SELECT MAX(version) FROM schema_migrations") == str(want)
    else:
        sql = _sqlite_check(server.data / "tenants" / f"{t.slug}.db")
        assert 'CHECK ("status" IN (' + ",".join(f"'{s}'" for s in STATUSES) + "))" in sql
    s = h.create(c, "shipments", {"destination_warehouse_id": wh["id"], "status": "cancelled"})
    assert s["status"] == "cancelled"
    # a second migrate has nothing to widen and changes nothing
    cli.run("migrate")
    assert h.get(c, "shipments", s["id"]) == s


def test_a_column_sealed_later_loses_its_plain_checks(server, cli, new_tenant):
    """customers.tax_number was text(50) and courier_configs.credentials JSON
    before they were sealed at rest: on a database made then, the migration
    drops the length check (and, on PostgreSQL, makes the json column text),
    so the longer sealed values can be written."""
    t = new_tenant()
    c = t.owner
    want = json.loads(cli.run("schema", "--json", data=False).stdout)["version"]
    if server.db_url:
        _pg(server, t.slug, "ALTER TABLE customers ADD CONSTRAINT customers_tax_number_check "
                            "CHECK (char_length(tax_number) <= 50); "
                            "ALTER TABLE courier_configs ALTER COLUMN credentials DROP DEFAULT, ALTER COLUMN credentials TYPE json "
                            "USING credentials::json, ALTER COLUMN credentials SET DEFAULT '{}'; "
                            f"DELETE FROM schema_migrations WHERE version = {want}")
    else:
        path = server.data / "tenants" / f"{t.slug}.db"
        db = sqlite3.connect(path)
        try:
            (sql,) = db.execute("SELECT sql FROM sqlite_schema WHERE type='table' AND name='customers'").fetchone()
            assert '"tax_number" TEXT' in sql and 'length("tax_number")' not in sql
            old = sql.replace('"tax_number" TEXT', '"tax_number" TEXT CHECK (length("tax_number") <= 50)', 1)
            (ver,) = db.execute("PRAGMA schema_version").fetchone()
            db.execute("PRAGMA writable_schema = ON")
            db.execute("UPDATE sqlite_schema SET sql = ? WHERE type='table' AND name='customers'", (old,))
            db.execute(f"PRAGMA schema_version = {ver + 1}")
            db.execute("PRAGMA writable_schema = OFF")
            db.execute("DELETE FROM schema_migrations WHERE version = ?", (want,))
            db.execute(f"PRAGMA user_version = {want - 1}")
            db.commit()
        finally:
            db.close()
    tax = "GSTIN" + h.uniq()[:20]
    # sealed, the value is longer than 50 characters: the old check refuses it
    r = c.post(f"{API}/customers", json={"name": "Sealed " + h.uniq(), "tax_number": tax})
    h.expect_error(r, 400, "validation_failed")  # the database's CHECK
    cli.run("migrate")
    cust = h.create(c, "customers", {"name": "Sealed " + h.uniq(), "tax_number": tax})
    assert h.get(c, "customers", cust["id"])["tax_number"] == tax
    if server.db_url:
        assert _pg(server, t.slug, "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                                   "current_schema() AND table_name = 'courier_configs' AND "
                                   "column_name = 'credentials'") == "text"
    else:
        with h.sqlite_db(server.data / "tenants" / f"{t.slug}.db") as db:
            (sql,) = db.execute("SELECT sql FROM sqlite_schema WHERE type='table' AND name='customers'").fetchone()
            assert 'length("tax_number")' not in sql
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
