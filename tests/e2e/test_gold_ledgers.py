"""Gold shop (issue #16) and payments (issue #15): after the shop's work, the
three new bounded ledgers (fine metal, loyalty points, payment captures and
refunds) pass `opsbase check-ledgers` (balances equal their entries)."""
import helpers as h

API = "/api/v1"


def test_check_ledgers_after_the_shops_work(new_tenant, cli):
    t = new_tenant()
    c = t.owner
    h.create(c, "metal_rates", {"metal": "gold", "purity": 999, "rate_per_gram": "7000.00",
                                "effective_from": "2026-01-01T00:00:00Z"})
    h.create(c, "loyalty_programs", {"name": "Club", "points_per_currency_unit": "0.01", "point_value": "1.00"})
    cust = h.create_customer(c)
    inv = h.create(c, "invoices", {"customer_id": cust["id"]})
    h.create(c, "invoice_items", {"invoice_id": inv["id"], "description": "repair", "unit_price": "1000.00"})
    h.ok(c.post(f"{API}/invoices/{inv['id']}/issue"))
    ex = h.create(c, "old_gold_exchanges", {"customer_id": cust["id"], "gross_weight": "0.100", "purity": 999,
                                            "melting_deduction_percent": "1.00"})
    assert ex["value"] == "693.00"  # 0.0999 -> 0.100 fine, 0.001 deducted: 0.099 x 7,000.00
    p = h.create(c, "payments", {"customer_id": cust["id"], "invoice_id": inv["id"], "amount": "1000.00"})
    h.ok(c.post(f"{API}/payments/{p['id']}/capture", json={"amount": "1000.00"}))
    assert h.get(c, "invoices", inv["id"])["status"] == "paid"
    assert h.get(c, "customers", cust["id"])["loyalty_points"] == 10
    h.ok(c.post(f"{API}/payments/{p['id']}/refund", json={"amount": "250.00"}))
    out = cli.run("check-ledgers", "--tenant", t.slug)
    assert "0 mismatch(es)" in out.stdout, out.stdout
