"""Schema version 10: the indexes the registry declares are the ones the
database has. audit_logs' declared UNIQUE (seq) used to lose its name to the
column's own non-unique (seq, id) (CREATE INDEX IF NOT EXISTS skipped it), and
non-unique indexes that another index leads were made beside it. A new tenant
has the unique index; a tenant made before has it after `opsbase migrate`,
which drops the redundant ones, and refuses (naming the tenant) while two audit
rows share a sequence number. Simulated by putting a new tenant's indexes back
as version 9 left them. Both engines."""
import json
import sqlite3
import subprocess

import pytest

import helpers as h

# a few of the indexes version 10 drops: (name, table, columns as SQL)
DROPPED = [("ix_role_permissions_role_id", "role_permissions", '"role_id"'),
           ("ix_orders_dorder_date", "orders", '"order_date" DESC'),
           ("ix_audit_logs_user_id_created_at", "audit_logs", '"user_id","created_at"')]


def _sql(server, slug, sql):
    """Rows of one query in the tenant's database, as lists of strings."""
    if server.db_url:
        schema = "tenant_" + slug.replace("-", "_")
        r = subprocess.run(["psql", server.db_url, "-v", "ON_ERROR_STOP=1", "-qAtc",
                            f'SET search_path TO "{schema}"; {sql}'], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return [line.split("|", 2) for line in r.stdout.strip().splitlines()]  # an index definition may hold ||
    with h.sqlite_db(server.data / "tenants" / f"{slug}.db") as c:
        return [[str(v) for v in row] for row in c.execute(sql).fetchall()]


def _indexes(server, slug, table):
    """{name: (unique, columns)} of the indexes made by name (not constraints)."""
    if server.db_url:
        rows = _sql(server, slug, "SELECT i.relname, x.indisunique, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                                  "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                                  f"WHERE t.relname = '{table}' AND t.relnamespace = current_schema()::regnamespace "
                                  "AND i.relname LIKE 'ix\\_%'")
        return {n: (u == "t", d[d.index("(") + 1:d.rindex(")")].replace(" ", "")) for n, u, d in rows}
    out = {}
    with h.sqlite_db(server.data / "tenants" / f"{slug}.db") as c:
        for _, name, unique, _, _ in c.execute(f'PRAGMA index_list("{table}")').fetchall():
            if name.startswith("ix_"):
                cols = [r[2] + (" DESC" if r[3] else "") for r in c.execute(f'PRAGMA index_xinfo("{name}")')
                        if r[5] == 1]
                out[name] = (bool(unique), ",".join(cols).replace(" ", ""))
    return out


def _as_version_9(server, slug):
    """The tenant's indexes and recorded version as version 9 left them."""
    if server.db_url:
        h.tenant_sql(server, slug, "DROP INDEX ix_audit_logs_seq; "
                                   'CREATE INDEX ix_audit_logs_seq ON audit_logs ("seq", "id"); '
                                   + " ".join(f'CREATE INDEX "{n}" ON "{t}" ({c});' for n, t, c in DROPPED)
                                   + " DELETE FROM schema_migrations WHERE version >= 10")
        return
    db = sqlite3.connect(server.data / "tenants" / f"{slug}.db")
    try:
        db.execute("DROP INDEX ix_audit_logs_seq")
        db.execute('CREATE INDEX ix_audit_logs_seq ON audit_logs ("seq", "id")')
        for n, t, c in DROPPED:
            db.execute(f'CREATE INDEX "{n}" ON "{t}" ({c})')
        db.execute("DELETE FROM schema_migrations WHERE version >= 10")
        db.execute("PRAGMA user_version = 9")
        db.commit()
    finally:
        db.close()


def _chained(server, t):
    """Makes sure the tenant's audit chain has at least two numbered rows."""
    for _ in range(2):
        h.create(t.owner, "customers", {"name": "Chain " + h.uniq()})
    rows = _sql(server, t.slug, "SELECT MIN(seq), MAX(seq) FROM audit_logs WHERE seq IS NOT NULL")
    lo, hi = (int(v) for v in rows[0])
    assert hi > lo
    return lo, hi


def _v10_result(server, slug):
    audit = _indexes(server, slug, "audit_logs")
    assert audit["ix_audit_logs_seq"] == (True, "seq")
    for n, t, _ in DROPPED:
        assert n not in _indexes(server, slug, t)
    # the index a dropped one was a prefix of is there
    assert _indexes(server, slug, "role_permissions")["ix_role_permissions_role_id_permission_id"][0]
    assert audit["ix_audit_logs_user_id"] == (False, "user_id,created_at,id")


def test_a_new_tenant_has_a_unique_audit_sequence(server, new_tenant):
    t = new_tenant()
    _v10_result(server, t.slug)
    lo, hi = _chained(server, t)
    # two audit rows with one sequence number: the database refuses
    if server.db_url:
        schema = "tenant_" + t.slug.replace("-", "_")
        r = subprocess.run(["psql", server.db_url, "-v", "ON_ERROR_STOP=1", "-qAtc",
                            f'SET search_path TO "{schema}"; UPDATE audit_logs SET seq = {lo} WHERE seq = {hi}'],
                           capture_output=True, text=True)
        assert r.returncode != 0 and "ix_audit_logs_seq" in r.stderr, r.stderr
    else:
        try:
            h.tenant_sql(server, t.slug, f"UPDATE audit_logs SET seq = {lo} WHERE seq = {hi}")
        except sqlite3.IntegrityError as e:
            assert "UNIQUE" in str(e) and "audit_logs.seq" in str(e)
        else:
            raise AssertionError("a duplicate seq was stored")


def test_version_10_makes_the_unique_index_and_drops_the_redundant_ones(server, cli, new_tenant):
    t = new_tenant()
    want = json.loads(cli.run("schema", "--json", data=False).stdout)["version"]
    _as_version_9(server, t.slug)
    assert _indexes(server, t.slug, "audit_logs")["ix_audit_logs_seq"] == (False, "seq,id")
    assert "ix_role_permissions_role_id" in _indexes(server, t.slug, "role_permissions")
    out = cli.run("migrate").stdout
    assert f"schema version {want}" in out
    _v10_result(server, t.slug)
    assert _sql(server, t.slug, "SELECT MAX(version) FROM schema_migrations") == [[str(want)]]
    # the tenant still works: a write audits, under the unique index
    h.create(t.owner, "customers", {"name": "After " + h.uniq()})


def test_version_10_refuses_a_duplicate_sequence_naming_the_tenant(server, cli, new_tenant):
    t = new_tenant()
    lo, hi = _chained(server, t)
    _as_version_9(server, t.slug)
    h.tenant_sql(server, t.slug, f"UPDATE audit_logs SET seq = {lo} WHERE seq = {hi}")
    r = cli.run("migrate", check=False)
    assert r.returncode != 0
    assert f'tenant "{t.slug}"' in r.stderr and "ix_audit_logs_seq" in r.stderr and f"seq\" = {lo}" in r.stderr, \
        r.stderr
    # nothing of version 10 was applied
    assert _indexes(server, t.slug, "audit_logs")["ix_audit_logs_seq"] == (False, "seq,id")
    assert "ix_role_permissions_role_id" in _indexes(server, t.slug, "role_permissions")
    # the operator repairs the row, and the migration goes through
    h.tenant_sql(server, t.slug, f"UPDATE audit_logs SET seq = {hi} WHERE seq = {lo} AND id = "
                                 f"(SELECT MAX(id) FROM audit_logs WHERE seq = {lo})")
    cli.run("migrate")
    _v10_result(server, t.slug)


def test_serve_answers_503_for_a_tenant_its_migration_refuses(opsbase_bin, tmp_path, database):
    """Under serve the migration runs on a tenant's first use: a duplicate
    sequence refuses it there too, with 503 (as a tenant newer than the
    binary), while the other tenants serve. SQLite (the stamp is moved)."""
    from test_pool_handles import _login, _start
    from conftest import _stop
    if database:
        pytest.skip("SQLite's stamp (user_version) is moved here")
    data = tmp_path / "data"
    cli = h.Cli(opsbase_bin, data)
    for s in ("dupa", "dupb"):
        cli.run("tenant", "create", s, "--plan", "business", "--owner-email", f"o@{s}.test",
                "--owner-password", h.OWNER_PASSWORD)
        h.relax_session_policy(data, s)
    proc, url = _start(opsbase_bin, data, ())
    try:
        b = _login(url, "dupb")
        for _ in range(2):
            h.create_customer(b, name="Chain " + h.uniq())
        b.close()
    finally:
        _stop(proc)
    path = data / "tenants" / "dupb.db"
    with h.sqlite_db(path) as c:
        lo, hi = c.execute("SELECT MIN(seq), MAX(seq) FROM audit_logs WHERE seq IS NOT NULL").fetchone()
        assert hi > lo
    server = type("S", (), {"db_url": None, "data": data})
    _as_version_9(server, "dupb")
    with h.sqlite_db(path) as c:
        c.execute(f"UPDATE audit_logs SET seq = {lo} WHERE seq = {hi}")
    proc, url = _start(opsbase_bin, data, ())
    try:
        r = h.login_raw(url, "dupb", "o@dupb.test", h.OWNER_PASSWORD)
        assert r.status_code == 503, r.text
        assert "ix_audit_logs_seq" in r.json()["error"]["message"]
        a = _login(url, "dupa")  # the others serve
        assert h.page(a, "customers")["data"] == []
        a.close()
    finally:
        _stop(proc)
