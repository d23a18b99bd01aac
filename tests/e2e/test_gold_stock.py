"""Gold shop (issue #16): an invoice's pieces and the stock ledger. Issuing
holds each line's piece (a reserve entry), a piece held or sold elsewhere is
409, cancelling gives it back, being paid in full sells it (release + sale);
a refund below the total moves a paid invoice back to partially paid, and
the status of an invoice's payment is never typed past completed."""
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
    return t


def stocked_piece(c, on_hand=1):
    """The worked example's piece (75,375.40 with 3% tax) and its stock row."""
    p = h.create(c, "products", {"sku": h.uniq("P-"), "name": "22K necklace", "metal": "gold", "purity": 916,
                                 "gross_weight": "10.000", "making_charge_type": "percent",
                                 "making_charge_value": "12.00", "stone_charges": "1500.00"})
    inv = sh.inventory(c, on_hand=on_hand, product_id=p["id"]) if on_hand is not None else None
    return p, inv


def draft(c, *pieces, cust=None):
    cust = cust or h.create_customer(c)
    inv = h.create(c, "invoices", {"customer_id": cust["id"], "currency": "INR"})
    for p in pieces:
        h.create(c, "invoice_items", {"invoice_id": inv["id"], "product_id": p["id"], "description": p["name"],
                                      "tax_rate": "3.00"})
    return h.get(c, "invoices", inv["id"]), cust


def verb(c, inv, v):
    return c.post(f"{API}/invoices/{inv['id']}/{v}")


def stock(c, row):
    r = h.get(c, "inventory", row["id"])
    return r["quantity_on_hand"], r["quantity_reserved"]


def kinds(c, row, inv):
    return sorted((e["transaction_type"], e["quantity"]) for e in sh.entries(c, row["id"])
                  if e["reference_type"] == "invoice" and e["reference_id"] == inv["id"])


def pay(c, inv, cust, amount, **f):
    body = {"customer_id": cust["id"], "invoice_id": inv["id"], "amount": amount, "currency": "INR",
            "payment_status": "completed"}
    body.update(f)
    return c.post(f"{API}/payments", json=body)


def test_issue_reserves_and_paid_sells(shop):
    p, row = stocked_piece(shop)
    inv, cust = draft(shop, p)
    inv = h.ok(verb(shop, inv, "issue"))
    assert inv["status"] == "issued"
    assert stock(shop, row) == (1, 1) and kinds(shop, row, inv) == [("reserve", 1)]
    for e in sh.entries(shop, row["id"]):
        if e["transaction_type"] == "reserve":
            assert e["notes"] == inv["invoice_number"]
    # a part payment holds the piece; the rest of it sells it
    h.ok(pay(shop, inv, cust, "375.40"), 201)
    assert h.get(shop, "invoices", inv["id"])["status"] == "partially_paid" and stock(shop, row) == (1, 1)
    h.ok(pay(shop, inv, cust, "75000.00"), 201)
    assert h.get(shop, "invoices", inv["id"])["status"] == "paid"
    assert stock(shop, row) == (0, 0)
    assert kinds(shop, row, inv) == [("release", 1), ("reserve", 1), ("sale", -1)]


def test_a_piece_held_or_sold_is_409(shop):
    p, row = stocked_piece(shop)
    first, cust = draft(shop, p)
    second, _ = draft(shop, p)
    h.ok(verb(shop, first, "issue"))
    e = h.expect_error(verb(shop, second, "issue"), 409, "insufficient_stock")
    assert "22K necklace" in str(e)
    assert h.get(shop, "invoices", second["id"])["status"] == "draft"
    assert h.rows_where(shop, "journals", source="invoice_issue") and \
        not h.rows_where(shop, "accounting_entries", invoice_id=second["id"])
    assert kinds(shop, row, second) == []
    # sold: still 409 for a third invoice
    h.ok(pay(shop, first, cust, first["total_amount"]), 201)
    assert stock(shop, row) == (0, 0)
    h.expect_error(verb(shop, second, "issue"), 409, "insufficient_stock")
    # a piece never stocked cannot be issued either
    unstocked, _ = stocked_piece(shop, on_hand=None)
    inv, _ = draft(shop, unstocked)
    h.expect_error(verb(shop, inv, "issue"), 409, "insufficient_stock")


def test_all_or_nothing_across_lines(shop):
    a, row_a = stocked_piece(shop)
    b, row_b = stocked_piece(shop, on_hand=0)
    inv, _ = draft(shop, a, b)
    h.expect_error(verb(shop, inv, "issue"), 409, "insufficient_stock")
    assert stock(shop, row_a) == (1, 0) and kinds(shop, row_a, inv) == []
    assert h.get(shop, "invoices", inv["id"])["status"] == "draft"


def test_cancel_releases_the_piece(shop):
    p, row = stocked_piece(shop)
    inv, _ = draft(shop, p)
    h.ok(verb(shop, inv, "issue"))
    h.ok(verb(shop, inv, "cancel"))
    assert stock(shop, row) == (1, 0)
    assert kinds(shop, row, inv) == [("release", 1), ("reserve", 1)]
    # the piece can go on another invoice now
    other, _ = draft(shop, p)
    h.ok(verb(shop, other, "issue"))
    assert stock(shop, row) == (1, 1)


def test_part_units_of_a_product_cannot_be_issued(shop):
    p = sh.product(shop)
    sh.inventory(shop, on_hand=5, product_id=p["id"])
    cust = h.create_customer(shop)
    inv = h.create(shop, "invoices", {"customer_id": cust["id"]})
    h.create(shop, "invoice_items", {"invoice_id": inv["id"], "product_id": p["id"], "description": "ribbon",
                                     "quantity": "1.500", "unit_price": "10.00"})
    h.expect_error(verb(shop, inv, "issue"), 422, "unprocessable")


def test_two_invoices_race_for_one_piece(shop):
    p, row = stocked_piece(shop)
    invs = [draft(shop, p)[0] for _ in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: verb(shop, i, "issue"), invs))
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409], [h.show(r) for r in results]
    assert stock(shop, row) == (1, 1)
    issued = [i for i in invs if h.get(shop, "invoices", i["id"])["status"] == "issued"]
    assert len(issued) == 1
    assert sum(len(kinds(shop, row, i)) for i in invs) == 1


def test_refund_moves_a_paid_invoice_back(shop):
    p, row = stocked_piece(shop)
    inv, cust = draft(shop, p)
    h.ok(verb(shop, inv, "issue"))
    pm = h.ok(pay(shop, inv, cust, "75375.40", payment_method="cash"), 201)
    # cash counted at the desk is captured in full on the payment's ledger
    pm = h.get(shop, "payments", pm["id"])
    assert pm["captured_amount"] == "75375.40" and pm["payment_status"] == "completed"
    assert h.get(shop, "invoices", inv["id"])["status"] == "paid"
    pm = h.ok(shop.post(f"{API}/payments/{pm['id']}/refund", json={"amount": "375.40"}))
    assert pm["payment_status"] == "completed" and pm["refunded_amount"] == "375.40"
    got = h.get(shop, "invoices", inv["id"])
    assert (got["status"], got["amount_paid"]) == ("partially_paid", "75000.00")
    refunds = [j for j in h.rows_where(shop, "journals", source="invoice_refund")
               if any(x["invoice_id"] == inv["id"] for x in h.rows_where(shop, "accounting_entries",
                                                                          journal_id=j["id"]))]
    assert len(refunds) == 1 and refunds[0]["status"] == "posted" and refunds[0]["total_debit"] == "375.40"
    lines = sorted((x["account_code"], x["debit"], x["credit"])
                   for x in h.rows_where(shop, "accounting_entries", journal_id=refunds[0]["id"]))
    assert lines == [("1000", "0.00", "375.40"), ("1100", "375.40", "0.00")]
    # the piece stays sold: a refund returns money, not the piece
    assert stock(shop, row) == (0, 0)
    # paying the rest again makes it paid, and sells nothing twice
    h.ok(pay(shop, inv, cust, "375.40"), 201)
    assert h.get(shop, "invoices", inv["id"])["status"] == "paid"
    assert kinds(shop, row, inv) == [("release", 1), ("reserve", 1), ("sale", -1)]
    # everything refunded: owed in full again
    h.ok(shop.post(f"{API}/payments/{pm['id']}/refund", json={"amount": "75000.00"}))
    got = h.get(shop, "invoices", inv["id"])
    assert (got["status"], got["amount_paid"]) == ("partially_paid", "375.40")
    assert h.get(shop, "payments", pm["id"])["payment_status"] == "refunded"
    h.expect_error(shop.post(f"{API}/payments/{pm['id']}/refund", json={"amount": "0.01"}), 422,
                   "refund_exceeds_capture")


def test_payment_status_of_an_invoice_is_not_typed_back(shop, acme_viewer):
    p, _ = stocked_piece(shop)
    inv, cust = draft(shop, p)
    h.ok(verb(shop, inv, "issue"))
    h.expect_error(pay(shop, inv, cust, "10.00", payment_status="refunded"), 422, "invalid_transition")
    pm = h.ok(pay(shop, inv, cust, "10.00", payment_status="pending"), 201)
    pm = h.ok(shop.patch(f"{API}/payments/{pm['id']}", json={"payment_status": "completed"}))
    assert h.get(shop, "invoices", inv["id"])["amount_paid"] == "10.00"
    for status in ("pending", "failed", "refunded", "cancelled"):
        h.expect_error(shop.patch(f"{API}/payments/{pm['id']}", json={"payment_status": status}), 422,
                       "invalid_transition")
    assert h.get(shop, "payments", pm["id"])["payment_status"] == "completed"
    assert h.get(shop, "invoices", inv["id"])["amount_paid"] == "10.00"
    # money through the gateway: the status follows the captures
    gw = h.ok(pay(shop, inv, cust, "20.00", payment_status="pending"), 201)
    h.ok(shop.post(f"{API}/payments/{gw['id']}/capture", json={"amount": "5.00"}))
    h.expect_error(shop.patch(f"{API}/payments/{gw['id']}", json={"payment_status": "completed"}), 422,
                   "invalid_transition")
    h.ok(shop.post(f"{API}/payments/{gw['id']}/capture", json={"amount": "15.00"}))
    assert h.get(shop, "invoices", inv["id"])["amount_paid"] == "30.00"


def test_other_tenant_and_viewer(shop, acme_owner, acme_viewer):
    p, _ = stocked_piece(shop)
    inv, _ = draft(shop, p)
    h.expect_error(acme_owner.post(f"{API}/invoices/{inv['id']}/issue"), 404, "not_found")
    acme_inv = h.create(acme_owner, "invoices", {"customer_id": h.create_customer(acme_owner)["id"]})
    h.expect_error(acme_viewer.post(f"{API}/invoices/{acme_inv['id']}/issue"), 403, "forbidden")
    assert h.get(shop, "invoices", inv["id"])["status"] == "draft"
