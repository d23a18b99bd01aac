"""Versioned migrations: `opsbase migrate` brings every database to the binary's
schema version, is idempotent, and nothing runs on a database newer than the
binary. These tests use their own data directories (SQLite files)."""
import json
import subprocess

import helpers as h


def run(opsbase_bin, *args, timeout=60):
    return subprocess.run([str(opsbase_bin), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def schema_version(opsbase_bin):
    return json.loads(run(opsbase_bin, "schema", "--json").stdout)["version"]


def db_version(path):
    with h.sqlite_db(path) as c:
        return c.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]


def provision(opsbase_bin, data):
    r = run(opsbase_bin, "tenant", "create", "mig", "--plan", "starter", "--owner-email", "o@mig.test",
            "--owner-password", h.OWNER_PASSWORD, "--data", str(data))
    assert r.returncode == 0, r.stderr


def test_migrate_records_the_version_and_is_idempotent(opsbase_bin, tmp_path):
    """schema_migrations gets one row per version and the file carries the same
    stamp (PRAGMA user_version), which lets a server start without opening
    every tenant fully."""
    data = tmp_path / "data"
    provision(opsbase_bin, data)
    want = schema_version(opsbase_bin)
    assert db_version(data / "control.db") == want
    assert db_version(data / "tenants" / "mig.db") == want
    with h.sqlite_db(data / "tenants" / "mig.db") as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == want
    for _ in range(2):
        r = run(opsbase_bin, "migrate", "--data", str(data))
        assert r.returncode == 0, r.stderr
        assert f"schema version {want}" in r.stdout
    with h.sqlite_db(data / "control.db") as c:
        assert c.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == want


def test_a_newer_control_database_is_refused(opsbase_bin, tmp_path):
    data = tmp_path / "data"
    provision(opsbase_bin, data)
    with h.sqlite_db(data / "control.db") as c:
        c.execute("INSERT INTO schema_migrations VALUES (999, '2030-01-01T00:00:00.000Z', 'from the future')")
    r = run(opsbase_bin, "serve", "--data", str(data), "--listen", "127.0.0.1:0", timeout=20)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "999" in r.stderr and "upgrade opsbase" in r.stderr
    r = run(opsbase_bin, "migrate", "--data", str(data))
    assert r.returncode == 1 and "upgrade opsbase" in r.stderr


def test_a_newer_tenant_database_is_refused(opsbase_bin, tmp_path):
    data = tmp_path / "data"
    provision(opsbase_bin, data)
    with h.sqlite_db(data / "tenants" / "mig.db") as c:
        c.execute("INSERT INTO schema_migrations VALUES (999, '2030-01-01T00:00:00.000Z', 'from the future')")
        c.execute("PRAGMA user_version = 999")  # a newer binary stamps both
    # `serve` reads no tenant at start: it refuses this one on its first use
    # (503, test_pool_handles.py); `migrate` visits every tenant and refuses
    r = run(opsbase_bin, "migrate", "--data", str(data))
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "upgrade opsbase" in r.stderr


def _index_list(c, table):
    """{name: (unique, columns)} of a table's indexes made by name."""
    out = {}
    for _, name, unique, _, _ in c.execute(f'PRAGMA index_list("{table}")').fetchall():
        if name.startswith("ix_"):
            cols = [r[2] for r in c.execute(f'PRAGMA index_xinfo("{name}")') if r[5] == 1]
            out[name] = (bool(unique), ",".join(cols))
    return out


def test_an_upgrade_from_version_9_makes_audit_seq_unique(opsbase_bin, tmp_path):
    """Version 10: audit_logs' declared UNIQUE (seq), which lost its name to
    the column's own (seq, id) before, is made, and non-unique indexes that
    another index leads are dropped (test_index_fix.py does it on both engines,
    with a duplicate sequence refused)."""
    data = tmp_path / "data"
    provision(opsbase_bin, data)
    want = schema_version(opsbase_bin)
    assert want >= 10
    path = data / "tenants" / "mig.db"
    with h.sqlite_db(path) as c:  # the indexes as version 9 left them
        assert _index_list(c, "audit_logs")["ix_audit_logs_seq"] == (True, "seq")
        c.execute("DROP INDEX ix_audit_logs_seq")
        c.execute('CREATE INDEX ix_audit_logs_seq ON audit_logs ("seq", "id")')
        c.execute('CREATE INDEX ix_user_roles_user_id ON user_roles ("user_id")')
        c.execute('CREATE INDEX ix_inventory_warehouse_id_product_id ON inventory ("warehouse_id", "product_id")')
        c.execute("DELETE FROM schema_migrations WHERE version >= 10")
        c.execute("PRAGMA user_version = 9")
    r = run(opsbase_bin, "migrate", "--data", str(data))
    assert r.returncode == 0, r.stderr
    assert db_version(path) == want
    with h.sqlite_db(path) as c:
        assert _index_list(c, "audit_logs")["ix_audit_logs_seq"] == (True, "seq")
        assert "ix_user_roles_user_id" not in _index_list(c, "user_roles")
        inv = _index_list(c, "inventory")
        assert "ix_inventory_warehouse_id_product_id" not in inv
        assert inv["ix_inventory_warehouse_id_product_id_variant_id"][0]
        assert c.execute("PRAGMA user_version").fetchone()[0] == want
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
