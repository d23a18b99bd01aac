"""Gold shop (issue #16): loyalty points earned when an invoice is paid,
redeemed towards an invoice within the balance (409 beyond it, also when two
race for the last points), the points ledger always summing to the balance."""
import concurrent.futures

import pytest

import helpers as h
import stock_helpers as sh

API = "/api/v1"


@pytest.fixture(scope="module")
def shop(new_tenant):
    t = new_tenant().owner
    h.create(t, "metal_rates", {"metal": "gold", "purity": 916, "rate_per_gram": "6400.00",
                                "effective_from": "2026-01-01T00:00:00Z"})
    h.create(t, "loyalty_programs", {"name": "Gold Club", "points_per_currency_unit": "0.01",
                                     "point_value": "1.00", "tier_multipliers": {"premium": 2, "standard": 1}})
    return t


def issued_invoice(c, cust):
    """The worked example, issued: 75,375.40."""
    inv = h.create(c, "invoices", {"customer_id": cust["id"], "currency": "INR"})
    p = h.create(c, "products", {"sku": h.uniq("P-"), "name": "22K necklace", "metal": "gold", "purity": 916,
                                 "gross_weight": "10.000", "making_charge_type": "percent",
                                 "making_charge_value": "12.00", "stone_charges": "1500.00"})
    sh.inventory(c, on_hand=1, product_id=p["id"])  # a piece is sold from stock
    h.create(c, "invoice_items", {"invoice_id": inv["id"], "product_id": p["id"], "description": "necklace",
                                  "tax_rate": "3.00"})
    return h.ok(c.post(f"{API}/invoices/{inv['id']}/issue"))


def pay(c, cust, inv, amount):
    return h.create(c, "payments", {"customer_id": cust["id"], "invoice_id": inv["id"], "amount": amount,
                                    "payment_status": "completed"})


def balance(c, cust):
    """The customer's balance, checked against the sum of its ledger."""
    got = h.get(c, "customers", cust["id"])["loyalty_points"]
    entries = h.rows_where(c, "customer_loyalty_points", customer_id=cust["id"])
    assert got == sum(e["points"] for e in entries), (got, entries)
    return got


def redeem(c, cust, inv, points):
    return c.post(f"{API}/customers/{cust['id']}/redeem_points", json={"points": points, "invoice_id": inv["id"]})


def test_points_earned_when_paid_by_tier(shop):
    std = h.create_customer(shop)
    inv = issued_invoice(shop, std)
    pay(shop, std, inv, "70000.00")
    assert balance(shop, std) == 0  # partly paid earns nothing yet
    pay(shop, std, inv, "5375.40")
    assert balance(shop, std) == 753  # floor(75,375.40 / 100) x 1
    (e,) = h.rows_where(shop, "customer_loyalty_points", customer_id=std["id"])
    assert e["transaction_type"] == "earned" and e["reference_type"] == "invoice" and e["reference_id"] == inv["id"]
    prem = h.create_customer(shop, customer_tier="premium")
    inv = issued_invoice(shop, prem)
    pay(shop, prem, inv, "75375.40")
    assert balance(shop, prem) == 1506  # x 2
    h.expect_error(shop.patch(f"{API}/customers/{prem['id']}", json={"loyalty_points": 99999}), 400,
                   "readonly_field", "loyalty_points")


def test_redeem_pays_towards_an_invoice(shop):
    cust = h.create_customer(shop)
    pay(shop, cust, issued_invoice(shop, cust), "75375.40")
    assert balance(shop, cust) == 753
    inv = issued_invoice(shop, cust)
    c = h.ok(redeem(shop, cust, inv, 500))
    assert c["loyalty_points"] == 253
    inv = h.get(shop, "invoices", inv["id"])
    assert inv["status"] == "partially_paid" and inv["amount_paid"] == "500.00"
    (p,) = h.rows_where(shop, "payments", invoice_id=inv["id"])
    assert p["payment_method"] == "loyalty_points" and p["amount"] == "500.00"
    assert balance(shop, cust) == 253
    # beyond the balance: 409, nothing written
    h.expect_error(redeem(shop, cust, inv, 254), 409, "insufficient_points")
    assert balance(shop, cust) == 253 and h.get(shop, "invoices", inv["id"])["amount_paid"] == "500.00"
    # another customer's invoice, a draft, a bad body
    other = h.create_customer(shop)
    h.expect_error(redeem(shop, other, inv, 1), 404, "not_found")
    draft = h.create(shop, "invoices", {"customer_id": cust["id"]})
    h.expect_error(redeem(shop, cust, draft, 1), 422, "invalid_transition")
    for body, field in (({"points": 0, "invoice_id": inv["id"]}, "points"), ({"points": 1}, "invoice_id"),
                        ({"points": "many", "invoice_id": inv["id"]}, "points")):
        h.expect_error(shop.post(f"{API}/customers/{cust['id']}/redeem_points", json=body), 400,
                       "validation_failed", field)
    h.expect_error(shop.post(f"{API}/customers/{cust['id']}/redeem_points",
                             json={"points": 1, "invoice_id": inv["id"], "bonus": 1}), 400, "unknown_field")
    assert balance(shop, cust) == 253


def test_two_redemptions_race_for_the_last_points(shop):
    cust = h.create_customer(shop)
    pay(shop, cust, issued_invoice(shop, cust), "75375.40")
    inv = issued_invoice(shop, cust)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: redeem(shop, cust, inv, 400), range(4)))
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409], [h.show(r) for r in results]
    assert balance(shop, cust) == 353
    assert h.get(shop, "invoices", inv["id"])["amount_paid"] == "400.00"


def test_viewer_cannot_redeem(acme_owner, acme_viewer):
    cust = h.create_customer(acme_owner)
    inv = h.create(acme_owner, "invoices", {"customer_id": cust["id"]})
    h.expect_error(acme_viewer.post(f"{API}/customers/{cust['id']}/redeem_points",
                                    json={"points": 1, "invoice_id": inv["id"]}), 403, "forbidden")


def test_a_refund_takes_back_the_points_in_proportion(shop):
    """floor(earned x refunded so far / total) less what earlier refunds took;
    never more than the customer still holds."""
    cust = h.create_customer(shop)
    inv = issued_invoice(shop, cust)
    p = pay(shop, cust, inv, "75375.40")
    assert balance(shop, cust) == 753

    def refund(amount):
        h.ok(shop.post(f"{API}/payments/{p['id']}/refund", json={"amount": amount}))

    def taken_back():
        return sorted(e["points"] for e in h.rows_where(shop, "customer_loyalty_points", customer_id=cust["id"])
                      if e["transaction_type"] == "adjusted")

    refund("375.40")  # 753 x 375.40 / 75,375.40 = 3.75 -> 3
    assert balance(shop, cust) == 750 and taken_back() == [-3]
    refund("37500.00")  # 753 x 37,875.40 / 75,375.40 = 378.37 -> 378, less the 3 taken
    assert balance(shop, cust) == 375 and taken_back() == [-375, -3]
    (e,) = [x for x in h.rows_where(shop, "customer_loyalty_points", customer_id=cust["id"]) if x["points"] == -375]
    assert (e["reference_type"], e["reference_id"]) == ("invoice", inv["id"])
    # the customer spends 300 of them; the last refund takes only the 75 left, not the 375 due
    h.ok(redeem(shop, cust, issued_invoice(shop, cust), 300))
    refund("37500.00")
    assert balance(shop, cust) == 0 and taken_back() == [-375, -75, -3]
    assert h.get(shop, "invoices", inv["id"])["status"] == "issued"


def _points(c, cust, kind):
    return sorted(e["points"] for e in h.rows_where(c, "customer_loyalty_points", customer_id=cust["id"])
                  if e["transaction_type"] == kind)


def test_paying_again_after_a_full_refund_earns_no_more_than_the_paid_amount_allows(shop):
    """The rule: the points an invoice holds (earned less taken back) never
    exceed floor(paid / 100) x the multiplier over its life. Paid in full
    again after a full refund, it earns back only what it no longer holds."""
    cust = h.create_customer(shop)
    inv = issued_invoice(shop, cust)
    p = pay(shop, cust, inv, "75375.40")
    assert balance(shop, cust) == 753
    h.ok(shop.post(f"{API}/payments/{p['id']}/refund", json={"amount": "75375.40"}))
    assert balance(shop, cust) == 0 and h.get(shop, "invoices", inv["id"])["status"] == "issued"
    pay(shop, cust, inv, "75375.40")
    assert balance(shop, cust) == 753 and _points(shop, cust, "earned") == [753, 753]
    assert h.get(shop, "invoices", inv["id"])["status"] == "paid"
    # paid in full once more is refused: nothing more to pay, nothing earned
    h.expect_error(shop.post(f"{API}/payments", json={"customer_id": cust["id"], "invoice_id": inv["id"],
                                                      "amount": "1.00", "payment_status": "completed"}),
                   422, "invalid_transition")
    assert balance(shop, cust) == 753


def test_points_spent_before_the_refund_are_not_earned_twice(shop):
    """A refund takes back only what the customer still holds; paying again
    tops the invoice up to its 753, not 753 more."""
    cust = h.create_customer(shop)
    inv = issued_invoice(shop, cust)
    p = pay(shop, cust, inv, "75375.40")
    h.ok(redeem(shop, cust, issued_invoice(shop, cust), 700))  # 53 left
    h.ok(shop.post(f"{API}/payments/{p['id']}/refund", json={"amount": "75375.40"}))
    assert balance(shop, cust) == 0 and _points(shop, cust, "adjusted") == [-53]  # the invoice still holds 700
    pay(shop, cust, inv, "75375.40")
    assert _points(shop, cust, "earned") == [53, 753] and balance(shop, cust) == 53
    # half refunded now: the invoice keeps 753 - floor(753 x 1/2) = 377 of its 753
    p2 = [x for x in h.rows_where(shop, "payments", invoice_id=inv["id"]) if x["id"] != p["id"]][0]
    h.ok(shop.post(f"{API}/payments/{p2['id']}/refund", json={"amount": "37687.70"}))
    assert _points(shop, cust, "adjusted") == [-53, -53]  # 376 due, only the 53 held are taken
    assert balance(shop, cust) == 0


def test_two_payments_racing_to_pay_it_again_earn_once(shop):
    cust = h.create_customer(shop)
    inv = issued_invoice(shop, cust)
    p = pay(shop, cust, inv, "75375.40")
    h.ok(shop.post(f"{API}/payments/{p['id']}/refund", json={"amount": "75375.40"}))
    body = {"customer_id": cust["id"], "invoice_id": inv["id"], "amount": "75375.40", "payment_status": "completed"}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        rs = list(pool.map(lambda _: shop.post(f"{API}/payments", json=body), range(2)))
    assert sorted(r.status_code for r in rs) == [201, 422], [h.show(r) for r in rs]
    assert balance(shop, cust) == 753 and _points(shop, cust, "earned") == [753, 753]
    assert len([x for x in h.rows_where(shop, "payments", invoice_id=inv["id"])]) == 2
