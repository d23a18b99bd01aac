"""Gold shop (issue #16): old gold taken in exchange, its fine weight less
the melting deduction valued at the 24K rate, and the metal ledger of fine
grams whose balance is the sum of its entries."""
import concurrent.futures

import pytest

import helpers as h
import stock_helpers as sh

API = "/api/v1"


@pytest.fixture(scope="module")
def shop(new_tenant):
    t = new_tenant().owner
    for purity, rate in ((999, "6990.00"), (916, "6400.00")):
        h.create(t, "metal_rates", {"metal": "gold", "purity": purity, "rate_per_gram": rate,
                                    "effective_from": "2026-01-01T00:00:00Z"})
    return t


def grams(s):
    return int(s.replace(".", "").replace("-", "")) * (-1 if s.startswith("-") else 1)


def account(c, metal="gold"):
    (acc,) = h.rows_where(c, "metal_accounts", metal=metal)
    entries = h.rows_where(c, "metal_ledger", metal_account_id=acc["id"])
    sign = {"received": 1, "deducted": -1, "issued": -1, "adjustment": 1}
    assert grams(acc["fine_weight"]) == sum(sign[e["entry_type"]] * grams(e["fine_weight"]) for e in entries)
    return acc, entries


def test_the_worked_example(shop):
    cust = h.create_customer(shop)
    ex = h.create(shop, "old_gold_exchanges", {"customer_id": cust["id"], "gross_weight": "8.000", "purity": 916,
                                               "melting_deduction_percent": "2.00"})
    assert (ex["fine_weight"], ex["deducted_weight"], ex["credited_weight"]) == ("7.328", "0.147", "7.181")
    # valued at the 24K rate: 7.181 x 6,990.00 = 50,195.19
    assert ex["rate_per_gram"] == "6990.00" and ex["value"] == "50195.19" and ex["payment_id"] is None
    acc, entries = account(shop)
    mine = sorted((e["entry_type"], e["fine_weight"]) for e in entries if e["exchange_id"] == ex["id"])
    assert mine == [("deducted", "0.147"), ("received", "7.328")]
    assert all(e["customer_id"] == cust["id"] for e in entries if e["exchange_id"] == ex["id"])
    # append-only, figures server-set
    h.expect_error(shop.patch(f"{API}/old_gold_exchanges/{ex['id']}", json={"notes": "x"}), 405,
                   "method_not_allowed")
    h.expect_error(shop.post(f"{API}/old_gold_exchanges", json={"customer_id": cust["id"], "gross_weight": "1.000",
                                                                "purity": 916, "fine_weight": "1.000"}),
                   400, "readonly_field", "fine_weight")


def test_exchange_pays_towards_an_invoice(shop):
    cust = h.create_customer(shop)
    inv = h.create(shop, "invoices", {"customer_id": cust["id"], "currency": "INR"})
    p = h.create(shop, "products", {"sku": h.uniq("P-"), "name": "22K necklace", "metal": "gold", "purity": 916,
                                    "gross_weight": "10.000", "making_charge_type": "percent",
                                    "making_charge_value": "12.00", "stone_charges": "1500.00"})
    sh.inventory(shop, on_hand=1, product_id=p["id"])  # a piece is sold from stock
    h.create(shop, "invoice_items", {"invoice_id": inv["id"], "product_id": p["id"], "description": "necklace",
                                     "tax_rate": "3.00"})
    h.ok(shop.post(f"{API}/invoices/{inv['id']}/issue"))
    ex = h.create(shop, "old_gold_exchanges", {"customer_id": cust["id"], "invoice_id": inv["id"],
                                               "gross_weight": "8.000", "purity": 916,
                                               "melting_deduction_percent": "2.00"})
    pay = h.get(shop, "payments", ex["payment_id"])
    assert pay["amount"] == "50195.19" and pay["payment_method"] == "old_gold" and pay["invoice_id"] == inv["id"]
    inv = h.get(shop, "invoices", inv["id"])
    assert inv["status"] == "partially_paid" and inv["amount_paid"] == "50195.19"
    # another customer's invoice: not theirs, nothing written
    other = h.create_customer(shop)
    before = len(h.rows_where(shop, "metal_ledger"))
    h.expect_error(shop.post(f"{API}/old_gold_exchanges", json={"customer_id": other["id"], "invoice_id": inv["id"],
                                                                "gross_weight": "1.000", "purity": 916}),
                   404, "not_found")
    assert len(h.rows_where(shop, "metal_ledger")) == before
    account(shop)


def test_exchange_refusals(shop):
    cust = h.create_customer(shop)
    for body, field in (({"gross_weight": "0"}, "gross_weight"), ({"gross_weight": "1.0001"}, "gross_weight"),
                        ({"purity": 1000}, "purity"), ({"melting_deduction_percent": "100.01"},
                                                       "melting_deduction_percent")):
        full = dict({"customer_id": cust["id"], "gross_weight": "1.000", "purity": 916}, **body)
        h.expect_error(shop.post(f"{API}/old_gold_exchanges", json=full), 400, "validation_failed", field)
    assert h.rows_where(shop, "old_gold_exchanges", customer_id=cust["id"]) == []
    # no 24K rate of the metal in force: received, not valued, and it cannot pay an invoice
    inv = h.create(shop, "invoices", {"customer_id": cust["id"]})
    h.expect_error(shop.post(f"{API}/old_gold_exchanges", json={"customer_id": cust["id"], "metal": "silver",
                                                                "gross_weight": "1.000", "purity": 925,
                                                                "invoice_id": inv["id"]}), 422, "unprocessable")
    assert h.rows_where(shop, "old_gold_exchanges", customer_id=cust["id"]) == []
    ex = h.create(shop, "old_gold_exchanges", {"customer_id": cust["id"], "metal": "silver", "gross_weight": "1.000",
                                               "purity": 925})
    assert ex["fine_weight"] == "0.925" and ex["value"] is None and ex["rate_per_gram"] is None
    assert account(shop, "silver")[0]["fine_weight"] == "0.925"


def test_metal_out_is_bounded_by_the_balance(new_tenant):
    t = new_tenant().owner
    h.create(t, "metal_rates", {"metal": "gold", "purity": 999, "rate_per_gram": "7000.00",
                                "effective_from": "2026-01-01T00:00:00Z"})
    h.create(t, "old_gold_exchanges", {"customer_id": h.create_customer(t)["id"], "gross_weight": "1.000",
                                       "purity": 999})
    acc, _ = account(t)
    assert acc["fine_weight"] == "0.999"

    def issue(_):
        return t.post(f"{API}/metal_ledger", json={"metal_account_id": acc["id"], "entry_type": "issued",
                                                  "fine_weight": "0.600", "notes": "to the refiner"})

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(issue, range(4)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409], [h.show(r) for r in results]
    h.expect_error(next(r for r in results if r.status_code == 409), 409, "insufficient_metal")
    acc, _ = account(t)
    assert acc["fine_weight"] == "0.399"
    h.expect_error(t.post(f"{API}/metal_ledger", json={"metal_account_id": acc["id"], "entry_type": "issued",
                                                       "fine_weight": "-1.000"}), 400, "validation_failed",
                   "fine_weight")
