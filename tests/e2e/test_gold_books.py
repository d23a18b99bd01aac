"""Gold shop (issue #16): the invoice's life, draft -> issued -> partially
paid -> paid, or cancelled, each event one balanced journal of
accounting_entries; a journal that does not balance is never posted."""
import pytest

import helpers as h
import stock_helpers as sh

API = "/api/v1"


@pytest.fixture(scope="module")
def shop(new_tenant):
    t = new_tenant().owner
    h.create(t, "metal_rates", {"metal": "gold", "purity": 916, "rate_per_gram": "6400.00",
                                "effective_from": "2026-01-01T00:00:00Z"})
    return t


def priced_invoice(c):
    """The worked example: 75,375.40 of which 2,195.40 tax."""
    cust = h.create_customer(c)
    inv = h.create(c, "invoices", {"customer_id": cust["id"], "currency": "INR"})
    p = h.create(c, "products", {"sku": h.uniq("P-"), "name": "22K necklace", "metal": "gold", "purity": 916,
                                 "gross_weight": "10.000", "making_charge_type": "percent",
                                 "making_charge_value": "12.00", "stone_charges": "1500.00"})
    sh.inventory(c, on_hand=1, product_id=p["id"])  # a piece is sold from stock
    h.create(c, "invoice_items", {"invoice_id": inv["id"], "product_id": p["id"], "description": "necklace",
                                  "tax_rate": "3.00"})
    return h.get(c, "invoices", inv["id"]), cust


def verb(c, inv, v, **kw):
    return c.post(f"{API}/invoices/{inv['id']}/{v}", **kw)


def journals_of(c, inv):
    """{source: [(account_code, debit, credit), ...]} of the invoice's lines, and each journal balanced."""
    lines = h.rows_where(c, "accounting_entries", invoice_id=inv["id"])
    out = {}
    for jid in {x["journal_id"] for x in lines}:
        j = h.get(c, "journals", jid)
        mine = [x for x in lines if x["journal_id"] == jid]
        assert j["status"] == "posted" and j["total_debit"] == j["total_credit"], j
        assert sum(int(x["debit"].replace(".", "")) for x in mine) == sum(int(x["credit"].replace(".", ""))
                                                                       for x in mine)
        out.setdefault(j["source"], []).append(sorted((x["account_code"], x["debit"], x["credit"]) for x in mine))
    return out


def pay(c, inv, cust, amount, status="completed"):
    return c.post(f"{API}/payments", json={"customer_id": cust["id"], "invoice_id": inv["id"], "amount": amount,
                                          "currency": "INR", "payment_status": status})


def test_issue_pay_in_two_parts(shop):
    inv, cust = priced_invoice(shop)
    assert inv["status"] == "draft" and journals_of(shop, inv) == {}
    inv = h.ok(verb(shop, inv, "issue"))
    assert inv["status"] == "issued" and inv["issued_at"] and inv["amount_paid"] == "0.00"
    assert journals_of(shop, inv) == {"invoice_issue": [[("1100", "75375.40", "0.00"), ("2200", "0.00", "2195.40"),
                                                         ("4000", "0.00", "73180.00")]]}
    # a pending payment moves nothing; completing it does
    p1 = h.ok(pay(shop, inv, cust, "50000.00", status="pending"), 201)
    assert h.get(shop, "invoices", inv["id"])["status"] == "issued"
    h.ok(shop.patch(f"{API}/payments/{p1['id']}", json={"payment_status": "completed"}))
    inv = h.get(shop, "invoices", inv["id"])
    assert inv["status"] == "partially_paid" and inv["amount_paid"] == "50000.00"
    # more than is due: refused, nothing written
    h.expect_error(pay(shop, inv, cust, "25375.41"), 422, "unprocessable")
    h.ok(pay(shop, inv, cust, "25375.40"), 201)
    inv = h.get(shop, "invoices", inv["id"])
    assert inv["status"] == "paid" and inv["amount_paid"] == "75375.40" and inv["total_amount"] == "75375.40"
    books = journals_of(shop, inv)
    assert sorted(books["invoice_payment"]) == [[("1000", "25375.40", "0.00"), ("1100", "0.00", "25375.40")],
                                                [("1000", "50000.00", "0.00"), ("1100", "0.00", "50000.00")]]
    # paid: nothing more to pay, nothing to cancel, the lines are final
    h.expect_error(pay(shop, inv, cust, "1.00"), 422, "invalid_transition")
    h.expect_error(verb(shop, inv, "cancel"), 422, "invalid_transition")
    item = h.rows_where(shop, "invoice_items", invoice_id=inv["id"])[0]
    h.expect_error(shop.patch(f"{API}/invoice_items/{item['id']}", json={"discount_amount": "1.00"}), 422,
                   "invalid_transition")
    assert h.get(shop, "invoices", inv["id"])["total_amount"] == "75375.40"


def test_cancel_reverses_the_issue(shop):
    inv, cust = priced_invoice(shop)
    h.ok(verb(shop, inv, "issue"))
    inv = h.ok(verb(shop, inv, "cancel"))
    assert inv["status"] == "cancelled"
    books = journals_of(shop, inv)
    assert books["invoice_cancel"] == [[("1100", "0.00", "75375.40"), ("2200", "2195.40", "0.00"),
                                        ("4000", "73180.00", "0.00")]]
    h.expect_error(pay(shop, inv, cust, "1.00"), 422, "invalid_transition")
    # a draft cancelled posted nothing
    d, _ = priced_invoice(shop)
    assert h.ok(verb(shop, d, "cancel"))["status"] == "cancelled" and journals_of(shop, d) == {}


def test_lifecycle_refusals(shop, new_tenant):
    empty = h.create(shop, "invoices", {"customer_id": h.create_customer(shop)["id"]})
    h.expect_error(verb(shop, empty, "issue"), 422, "unprocessable")
    assert h.get(shop, "invoices", empty["id"])["status"] == "draft"
    inv, cust = priced_invoice(shop)
    h.expect_error(shop.patch(f"{API}/invoices/{inv['id']}", json={"status": "paid"}), 400, "readonly_field")
    # paying a draft; another customer's payment for it
    h.expect_error(pay(shop, inv, cust, "1.00"), 422, "invalid_transition")
    h.ok(verb(shop, inv, "issue"))
    h.expect_error(verb(shop, inv, "issue"), 422, "invalid_transition")
    other = h.create_customer(shop)
    h.expect_error(pay(shop, inv, other, "1.00"), 404, "not_found")
    assert h.rows_where(shop, "payments", invoice_id=inv["id"]) == []
    # another tenant's invoice does not exist here
    t2 = new_tenant().owner
    h.expect_error(t2.post(f"{API}/invoices/{inv['id']}/cancel"), 404, "not_found")


def test_viewer_cannot_issue(acme_owner, acme_viewer):
    inv = h.create(acme_owner, "invoices", {"customer_id": h.create_customer(acme_owner)["id"]})
    h.expect_error(acme_viewer.post(f"{API}/invoices/{inv['id']}/issue"), 403, "forbidden")


def test_journal_by_hand_must_balance(shop):
    j = h.create(shop, "journals", {"description": "owner's capital"})
    assert j["status"] == "draft" and j["journal_number"].startswith("JV-")
    line = {"journal_id": j["id"], "account_code": "1000", "account_name": "Cash", "debit": "1000.00"}
    h.create(shop, "accounting_entries", line)
    # one-sided: refused with 422, still a draft
    e = h.expect_error(shop.post(f"{API}/journals/{j['id']}/post"), 422, "unbalanced_journal")
    assert "1000.00" in e["message"]
    h.create(shop, "accounting_entries", {"journal_id": j["id"], "account_code": "3000", "credit": "999.99"})
    h.expect_error(shop.post(f"{API}/journals/{j['id']}/post"), 422, "unbalanced_journal")
    assert h.get(shop, "journals", j["id"])["status"] == "draft"
    h.create(shop, "accounting_entries", {"journal_id": j["id"], "account_code": "3000", "credit": "0.01"})
    j = h.ok(shop.post(f"{API}/journals/{j['id']}/post"))
    assert j["status"] == "posted" and j["total_debit"] == "1000.00" and j["total_credit"] == "1000.00"
    assert j["posted_at"] and j["posted_by"]
    # posted is final: no more lines, no delete
    h.expect_error(shop.post(f"{API}/accounting_entries", json=dict(line, description="late")), 422,
                   "invalid_transition")
    assert h.rows_where(shop, "accounting_entries", description="late") == []
    h.expect_error(shop.delete(f"{API}/journals/{j['id']}"), 422, "invalid_transition")
    # an empty journal does not post; a line needs a journal
    empty = h.create(shop, "journals", {})
    h.expect_error(shop.post(f"{API}/journals/{empty['id']}/post"), 422, "unbalanced_journal")
    h.expect_error(shop.post(f"{API}/accounting_entries", json={"account_code": "1", "debit": "1"}), 400,
                   "validation_failed", "journal_id")
