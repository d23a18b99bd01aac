"""Tenant isolation across pooled connections, on the session's engine.

On PostgreSQL one session serves any tenant (search_path names the tenant's
schema) and an acquire skips setting the path again when the pooled connection
already stands on that tenant's schema (src/db/pg_conn.c `attached`). These
tests hold that: requests for two tenants interleaved on few connections never
cross, and a connection that last served a tenant never serves that tenant's
old data after the tenant is deleted and made again or restored from a backup
by another process (the CLI) while the server keeps its pool. (A tenant moved
to another server: test_tenant_move.py.)"""
import threading


import helpers as h

THREADS = 8
ROUNDS = 25


def _store_args(server):
    return ["--data", str(server.data), *(("--db", server.db_url) if server.db_url else ())]


def _warm(client, rid, n=THREADS * 2):
    """Several concurrent gets, so several pooled connections last served the tenant."""
    errors = []

    def one():
        try:
            for _ in range(4):
                r = client.get(f"/api/v1/customers/{rid}")
                if r.status_code != 200:
                    errors.append(r.status_code)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors[:5]


def test_interleaved_requests_for_two_tenants_never_cross(new_tenant):
    a, b = new_tenant(), new_tenant()
    canary_a, canary_b = "CANARYA" + h.word(12), "CANARYB" + h.word(12)
    ca = h.create_customer(a.owner, company_name=canary_a, notes=canary_a)
    cb = h.create_customer(b.owner, company_name=canary_b, notes=canary_b)
    wrong = []

    def worker(i):
        # each thread alternates tenants, half of them starting with the other
        order = [(a, ca, cb, canary_a, canary_b), (b, cb, ca, canary_b, canary_a)]
        if i % 2:
            order.reverse()
        try:
            for _ in range(ROUNDS):
                for t, mine, theirs, my_canary, their_canary in order:
                    r = t.owner.get(f"/api/v1/customers/{mine['id']}")
                    if r.status_code != 200 or r.json()["company_name"] != my_canary:
                        wrong.append(("own", t.slug, r.status_code, r.text[:120]))
                    r = t.owner.get(f"/api/v1/customers/{theirs['id']}")
                    if r.status_code != 404 or their_canary in r.text:
                        wrong.append(("other", t.slug, r.status_code, r.text[:120]))
                    r = t.owner.get("/api/v1/customers", params={"limit": "50"})
                    if r.status_code != 200 or their_canary in r.text or my_canary not in r.text:
                        wrong.append(("list", t.slug, r.status_code, r.text[:120]))
        except Exception as exc:  # noqa: BLE001 - reported below
            wrong.append(("exception", repr(exc)))

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not wrong, wrong[:5]


def test_a_tenant_deleted_and_made_again_never_shows_its_old_rows(server, new_tenant, login):
    t = new_tenant()
    old = h.create_customer(t.owner, company_name="Before the delete")
    _warm(t.owner, old["id"])
    server.cli.run("tenant", "delete", t.slug, "--yes", *_store_args(server), data=False)
    # deleted by another process: the old sign-in no longer reaches anything
    r = t.owner.get(f"/api/v1/customers/{old['id']}")
    assert r.status_code in (401, 404), (r.status_code, r.text[:200])

    server.cli.run("tenant", "create", t.slug, "--plan", "business", "--owner-email", f"owner@{t.slug}.test",
                   "--owner-password", h.OWNER_PASSWORD, *_store_args(server), data=False)
    h.relax_session_policy(server.data, t.slug)
    again = login(t.slug, f"owner@{t.slug}.test", h.OWNER_PASSWORD)
    for _ in range(THREADS * 2):  # whichever pooled connection answers
        h.expect_error(again.get(f"/api/v1/customers/{old['id']}"), 404, "not_found")
    assert old["id"] not in {c["id"] for c in h.list_all(again, "customers")}
    made = h.create_customer(again, company_name="After the delete")
    assert h.get(again, "customers", made["id"])["company_name"] == "After the delete"


def test_a_restored_tenant_is_served_as_restored(server, new_tenant, login, tmp_path):
    t = new_tenant()
    kept = h.create_customer(t.owner, company_name="In the backup")
    out = tmp_path / "backup"
    server.cli.run("backup", "--out", out, "--tenant", t.slug, *_store_args(server), data=False)
    later = h.create_customer(t.owner, company_name="After the backup")
    _warm(t.owner, later["id"])

    server.cli.run("tenant", "delete", t.slug, "--yes", *_store_args(server), data=False)
    server.cli.run("restore", "--from", out, "--tenant", t.slug, *_store_args(server), data=False)
    back = login(t.slug, f"owner@{t.slug}.test", h.OWNER_PASSWORD)
    # the tenant keeps its id (the pool's generation), so the connections that
    # served it before stay pooled: they must reach the restored schema only
    for _ in range(THREADS * 2):
        h.expect_error(back.get(f"/api/v1/customers/{later['id']}"), 404, "not_found")
        assert h.get(back, "customers", kept["id"])["company_name"] == "In the backup"
    ids = {c["id"] for c in h.list_all(back, "customers")}
    assert kept["id"] in ids and later["id"] not in ids
    # the pooled writer reaches the restored tenant too: what it writes is
    # read back (a write to the old file would be invisible here)
    made = h.create_customer(back, company_name="After the restore")
    for _ in range(THREADS * 2):
        assert h.get(back, "customers", made["id"])["company_name"] == "After the restore"


def test_a_tenant_deleted_and_imported_again_is_served_as_imported(server, new_tenant, login, tmp_path):
    """`tenant import` under the exported slug keeps every id, the tenant's
    too: like a restore, only the file (SQLite) or schema (PostgreSQL) is new."""
    t = new_tenant()
    kept = h.create_customer(t.owner, company_name="In the export")
    out = tmp_path / "export.tar"
    server.cli.run("tenant", "export", "--tenant", t.slug, "--out", out, *_store_args(server), data=False)
    later = h.create_customer(t.owner, company_name="After the export")
    _warm(t.owner, later["id"])

    server.cli.run("tenant", "delete", t.slug, "--yes", *_store_args(server), data=False)
    server.cli.run("tenant", "import", "--from", out, "--slug", t.slug, *_store_args(server), data=False)
    back = login(t.slug, f"owner@{t.slug}.test", h.OWNER_PASSWORD)
    for _ in range(THREADS * 2):
        h.expect_error(back.get(f"/api/v1/customers/{later['id']}"), 404, "not_found")
        assert h.get(back, "customers", kept["id"])["company_name"] == "In the export"
    made = h.create_customer(back, company_name="After the import")
    ids = {c["id"] for c in h.list_all(back, "customers")}
    assert {kept["id"], made["id"]} <= ids and later["id"] not in ids
