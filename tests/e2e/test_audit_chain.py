"""The tamper-evident audit trail: every tenant's audit rows form a hash chain
that `opsbase audit verify` recomputes; concurrent writers keep it whole, and a
changed or removed row is found, on both engines."""
import threading
import uuid

import pytest

import helpers as h


def verify(server, slug):
    args = ["audit", "verify", "--tenant", slug]
    if server.db_url:
        args += ["--db", server.db_url]
    return server.cli.run(*args, check=False)



@pytest.fixture
def shop(cli, login):
    slug = "chain-" + uuid.uuid4().hex[:8]
    cli.tenant_create(slug)
    return slug, login(slug, f"owner@{slug}.test", h.OWNER_PASSWORD)


def test_concurrent_writes_keep_one_chain(server, shop):
    slug, owner = shop

    def burst(n):
        with h.ApiClient(base_url=server.url, timeout=h.HTTP_TIMEOUT,
                         headers={"Authorization": f"Bearer {owner.token}"}) as c:
            for i in range(n):
                assert c.post("/api/v1/customers", json={"name": f"c{i}"}).status_code == 201

    threads = [threading.Thread(target=burst, args=(10,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r = verify(server, slug)
    assert r.returncode == 0 and "audit chain holds" in r.stdout, r.stdout + r.stderr
    rows = owner.get("/api/v1/audit_logs", params={"sort": "seq", "limit": 200}).json()["data"]
    seqs = [a["seq"] for a in rows]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 60
    assert rows[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:]))


def test_a_changed_row_breaks_the_chain_there(server, shop):
    slug, owner = shop
    for i in range(3):
        owner.post("/api/v1/customers", json={"name": f"x{i}"})
    assert verify(server, slug).returncode == 0
    h.tenant_sql(server, slug, "UPDATE audit_logs SET entity_id = 'forged' WHERE seq = 3")
    r = verify(server, slug)
    assert r.returncode == 1 and "broken at seq 3" in r.stdout and "content" in r.stdout, r.stdout


def test_a_removed_row_breaks_the_chain_after_it(server, shop):
    slug, owner = shop
    for i in range(3):
        owner.post("/api/v1/customers", json={"name": f"y{i}"})
    h.tenant_sql(server, slug, "DELETE FROM audit_logs WHERE seq = 2")
    r = verify(server, slug)
    assert r.returncode == 1 and "broken at seq 3" in r.stdout and "missing" in r.stdout, r.stdout


def test_chain_columns_are_server_set(shop):
    _, owner = shop
    r = owner.get("/api/v1/audit_logs", params={"limit": 1}).json()["data"][0]
    assert len(r["hash"]) == 64 and r["seq"] >= 1


def test_the_api_reports_the_chain_and_its_first_break(server, shop, cli, login):
    slug, owner = shop
    for i in range(3):
        assert owner.post("/api/v1/customers", json={"name": f"z{i}"}).status_code == 201
    got = h.ok(owner.get("/api/v1/audit_logs/verify"))
    assert got["holds"] is True and got["broken"] is None
    assert got["rows"] >= 3 and got["first_seq"] == 1 and got["unchained"] == 0
    # the same row the CLI names
    h.tenant_sql(server, slug, "UPDATE audit_logs SET entity_id = 'forged' WHERE seq = 2")
    got = h.ok(owner.get("/api/v1/audit_logs/verify"))
    assert got["holds"] is False and got["broken"]["seq"] == 2 and "content" in got["broken"]["why"]
    forged = h.ok(owner.get("/api/v1/audit_logs", params={"seq": "2"}))["data"]
    assert [a["id"] for a in forged] == [got["broken"]["id"]]
    assert "broken at seq 2" in verify(server, slug).stdout
    # permission audit.view; no parameters; the route is not a record id
    cli.user_create(slug, f"agent@{slug}.test", "agent")
    agent = login(slug, f"agent@{slug}.test")
    h.expect_error(agent.get("/api/v1/audit_logs/verify"), 403, "forbidden")
    h.expect_error(owner.get("/api/v1/audit_logs/verify", params={"x": "1"}), 400, "invalid_query")
    h.expect_error(owner.post("/api/v1/audit_logs/verify", json={}), 405, "method_not_allowed")
