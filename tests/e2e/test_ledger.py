"""Bounded ledgers (engine): the stock ledger moves inventory.quantity_on_hand
(and, by kind, quantity_reserved and incoming_quantity) by one conditional
UPDATE per entry; a movement that would break a bound is 409
and writes nothing; racing entries for the last units: exactly as many win as
there are units; `opsbase check-ledgers` verifies balances against entries.
Runs on both engines."""
import concurrent.futures
import subprocess

import httpx

import conftest
import helpers as h

API = "/api/v1"


def _inventory(c):
    p = h.create(c, "products", {"sku": h.uniq("SKU-"), "name": "Widget"})
    w = h.create(c, "warehouses", {"name": "WH " + h.uniq()})
    return h.create(c, "inventory", {"product_id": p["id"], "warehouse_id": w["id"]})


def _post(c, inv, qty, kind="adjustment"):
    return c.post(f"{API}/inventory_transactions",
                  json={"inventory_id": inv["id"], "transaction_type": kind, "quantity": qty})


def _entries(c, inv):
    return h.list_all(c, "inventory_transactions", {"inventory_id": inv["id"]})


def test_stock_moves_only_by_ledger_entries(acme_owner):
    c = acme_owner
    inv = _inventory(c)
    assert inv["quantity_on_hand"] == 0
    # the balance is the ledger's: not writable on create or by PATCH
    h.expect_error(c.post(f"{API}/inventory", json={"product_id": inv["product_id"], "quantity_on_hand": 5}),
                   400, "readonly_field", "quantity_on_hand")
    h.expect_error(c.patch(f"{API}/inventory/{inv['id']}", json={"quantity_on_hand": 99}),
                   400, "readonly_field", "quantity_on_hand")
    h.ok(_post(c, inv, 10, "purchase"), 201)
    h.ok(_post(c, inv, -4, "sale"), 201)
    now = h.get(c, "inventory", inv["id"])
    assert now["quantity_on_hand"] == 6 and now["quantity_available"] == 6
    assert now["version"] == inv["version"] + 2
    # the parent's change is audited with the entry, old and new balance
    moves = h.audit_rows(c, entity_type="inventory", entity_id=inv["id"], action="inventory_transactions")
    assert sorted((a["old_values"]["quantity_on_hand"], a["new_values"]["quantity_on_hand"])
                  for a in moves) == [(0, 10), (10, 6)]


def test_movement_beyond_stock_is_refused_and_writes_nothing(acme_owner):
    c = acme_owner
    inv = _inventory(c)
    h.ok(_post(c, inv, 6, "purchase"), 201)
    before_entries = _entries(c, inv)
    before = h.get(c, "inventory", inv["id"])
    audit_before = len(h.audit_rows(c, entity_type="inventory_transactions"))
    e = h.expect_error(_post(c, inv, -7, "sale"), 409, "insufficient_stock")
    assert "quantity_on_hand" in e["message"]
    assert _entries(c, inv) == before_entries
    assert h.get(c, "inventory", inv["id"]) == before
    assert len(h.audit_rows(c, entity_type="inventory_transactions")) == audit_before
    # reserved stock bounds the on-hand too: 5 of 6 reserved leaves 1 to take
    h.expect_error(c.patch(f"{API}/inventory/{inv['id']}", json={"quantity_reserved": 5}),
                   400, "readonly_field", "quantity_reserved")
    h.ok(_post(c, inv, 5, "reserve"), 201)
    h.expect_error(_post(c, inv, -2, "sale"), 409, "insufficient_stock")
    h.ok(_post(c, inv, -1, "sale"), 201)
    assert h.get(c, "inventory", inv["id"])["quantity_on_hand"] == 5
    # and reserving more than is on hand is refused by the same bounds
    h.expect_error(_post(c, inv, 1, "reserve"), 409, "insufficient_stock")
    h.expect_error(_post(c, inv, 6, "release"), 409, "insufficient_stock")


def test_ledger_entry_for_missing_or_other_tenants_inventory(acme_owner, globex_owner):
    inv = _inventory(acme_owner)
    h.ok(_post(acme_owner, inv, 3), 201)
    h.expect_error(_post(globex_owner, inv, -1), 422, "unprocessable", "inventory_id")
    assert h.get(acme_owner, "inventory", inv["id"])["quantity_on_hand"] == 3


def test_race_for_the_last_units_exactly_the_stock_wins(server, acme_owner):
    c = acme_owner
    inv = _inventory(c)
    h.ok(_post(c, inv, 20, "purchase"), 201)
    token = c.headers["Authorization"]

    def take(_):
        with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": token}) as cl:
            r = _post(cl, inv, -1, "sale")
            return r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(take, range(50)))
    codes = sorted(s for s, _ in results)
    assert codes.count(201) == 20, codes
    assert codes.count(409) == 30, codes
    assert all(b["error"]["code"] == "insufficient_stock" for s, b in results if s == 409)
    assert h.get(c, "inventory", inv["id"])["quantity_on_hand"] == 0
    assert sum(e["quantity"] for e in _entries(c, inv)) == 0
    assert len(_entries(c, inv)) == 21


def _tamper(server, database, slug, inv_id, value):
    """Change a balance behind the server's back, as a bad restore might."""
    if database is None:
        with h.sqlite_db(f"{server.data}/tenants/{slug}.db", timeout=10) as db:
            db.execute("UPDATE inventory SET quantity_on_hand = ? WHERE id = ?", (value, inv_id))
        return
    bindir = conftest._pg_bindir()
    subprocess.run([f"{bindir}/psql" if bindir else "psql", database, "-v",
                    "ON_ERROR_STOP=1", "-c",
                    f"UPDATE tenant_{slug}.inventory SET quantity_on_hand = {int(value)} WHERE id = '{inv_id}'"],
                   check=True, capture_output=True)


def test_check_ledgers_verifies_balances(server, cli, database, new_tenant):
    t = new_tenant()
    inv = _inventory(t.owner)
    h.ok(_post(t.owner, inv, 8, "purchase"), 201)
    h.ok(_post(t.owner, inv, -3, "sale"), 201)
    ok = cli.run("check-ledgers", "--tenant", t.slug)
    assert "0 mismatch(es)" in ok.stdout
    _tamper(server, database, t.slug, inv["id"], 99)
    bad = cli.run("check-ledgers", "--tenant", t.slug, check=False)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"{t.slug}: inventory {inv['id']}: quantity_on_hand is 99, its entries add up to 5" in bad.stdout
