"""Gold shop (issue #16): invoice arithmetic. A line priced from its piece
and the metal rate in force, exact to the paisa, the rate kept on the line,
and the invoice's totals the sums of its lines."""
import pytest

import helpers as h

API = "/api/v1"


@pytest.fixture(scope="module")
def shop(new_tenant):
    t = new_tenant().owner
    h.create(t, "metal_rates", {"metal": "gold", "purity": 916, "rate_per_gram": "6400.00",
                                "effective_from": "2026-01-01T00:00:00Z"})
    h.create(t, "metal_rates", {"metal": "gold", "purity": 750, "rate_per_gram": "5240.00",
                                "effective_from": "2026-01-01T00:00:00Z"})
    return t


def piece(c, **fields):
    body = {"sku": h.uniq("P-"), "name": "22K necklace", "metal": "gold", "purity": 916,
            "gross_weight": "11.250", "stone_weight": "1.250", "making_charge_type": "percent",
            "making_charge_value": "12.00", "stone_charges": "1500.00"}
    body.update(fields)
    return h.create(c, "products", body)


def invoice(c):
    return h.create(c, "invoices", {"customer_id": h.create_customer(c)["id"], "currency": "INR"})


def line(c, inv, product, **fields):
    body = {"invoice_id": inv["id"], "product_id": product["id"], "description": product["name"], "tax_rate": "3.00"}
    body.update(fields)
    return h.create(c, "invoice_items", body)


def test_the_worked_example(shop):
    p = piece(shop)
    assert p["net_weight"] == "10.000"
    inv = invoice(shop)
    it = line(shop, inv, p)
    assert (it["metal_type"], it["purity"], it["gross_weight"], it["net_weight"]) == ("gold", "916", "11.250", "10.000")
    assert it["rate_per_gram"] == "6400.00" and it["metal_value"] == "64000.00" and it["unit_price"] == "64000.00"
    assert it["quantity"] == "1.000" and it["making_charges"] == "7680.00" and it["stone_charges"] == "1500.00"
    assert it["wastage_amount"] == "0.00" and it["tax_amount"] == "2195.40" and it["line_total"] == "75375.40"
    inv = h.get(shop, "invoices", inv["id"])
    assert (inv["subtotal"], inv["discount_amount"], inv["tax_amount"], inv["total_amount"]) == (
        "73180.00", "0.00", "2195.40", "75375.40")


def test_making_rules_wastage_and_rounding(shop):
    inv = invoice(shop)
    # 7.777 g x 6,400.00 = 49,772.80; 9.99 per gram x 7.777 = 77.69223 -> 77.69; wastage 2.5% = 1,244.32
    a = line(shop, inv, piece(shop, gross_weight="7.777", stone_weight=None, stone_charges=None,
                              making_charge_type="per_gram", making_charge_value="9.99", wastage_percent="2.50"))
    assert (a["metal_value"], a["making_charges"], a["wastage_amount"], a["stone_charges"]) == (
        "49772.80", "77.69", "1244.32", "0.00")
    # taxable 51,094.81 less a discount of 94.81 = 51,000.00; 3% = 1,530.00
    a = h.ok(shop.patch(f"{API}/invoice_items/{a['id']}", json={"discount_amount": "94.81"}))
    assert a["tax_amount"] == "1530.00" and a["line_total"] == "52530.00"
    # 18K at 5,240.00: 3.333 g = 17,464.92 (17,464.920); fixed making 2,500.00; no tax
    b = line(shop, inv, piece(shop, purity=750, gross_weight="3.333", stone_weight="0", stone_charges="0",
                              making_charge_type="fixed", making_charge_value="2500.00"), tax_rate=None)
    assert (b["metal_value"], b["making_charges"], b["tax_amount"], b["line_total"]) == (
        "17464.92", "2500.00", "0.00", "19964.92")
    # half up at the line: 0.001 g x 6,400.00 = 6.40; 12% = 0.768 -> 0.77
    c = line(shop, inv, piece(shop, gross_weight="0.001", stone_weight="0", stone_charges="0"), tax_rate=None)
    assert c["metal_value"] == "6.40" and c["making_charges"] == "0.77" and c["line_total"] == "7.17"
    inv = h.get(shop, "invoices", inv["id"])
    assert inv["subtotal"] == "71066.90"
    assert inv["discount_amount"] == "94.81" and inv["tax_amount"] == "1530.00"
    assert inv["total_amount"] == "72502.09"
    # a line deleted leaves the totals
    assert shop.delete(f"{API}/invoice_items/{c['id']}").status_code in (200, 204)
    inv = h.get(shop, "invoices", inv["id"])
    assert inv["subtotal"] == "71059.73" and inv["total_amount"] == "72494.92"


def test_a_later_rate_leaves_the_line(shop):
    inv = invoice(shop)
    p = piece(shop)
    first = line(shop, inv, p)
    h.create(shop, "metal_rates", {"metal": "gold", "purity": 916, "rate_per_gram": "7000.00"})
    try:
        assert h.get(shop, "invoice_items", first["id"])["line_total"] == "75375.40"
        # a change to the line keeps the rate it was priced at
        again = h.ok(shop.patch(f"{API}/invoice_items/{first['id']}", json={"description": "renamed"}))
        assert again["rate_per_gram"] == "6400.00" and again["line_total"] == "75375.40"
        # a new line takes the new rate: 70,000.00 + 8,400.00 + 1,500.00 = 79,900.00 + 2,397.00
        second = line(shop, inv, piece(shop))
        assert second["rate_per_gram"] == "7000.00" and second["line_total"] == "82297.00"
        assert h.get(shop, "invoices", inv["id"])["total_amount"] == "157672.40"
    finally:
        h.create(shop, "metal_rates", {"metal": "gold", "purity": 916, "rate_per_gram": "6400.00"})


def test_lines_by_weight_without_a_piece(shop):
    inv = invoice(shop)
    it = h.create(shop, "invoice_items", {"invoice_id": inv["id"], "description": "old stock chain",
                                          "metal_type": "Gold", "purity": "22k", "net_weight": "2.500",
                                          "making_charges": "500.00"})
    assert it["rate_per_gram"] == "6400.00" and it["metal_value"] == "16000.00" and it["line_total"] == "16500.00"


def test_totals_and_rates_are_never_typed(shop):
    inv = invoice(shop)
    p = piece(shop)
    for field, value in (("rate_per_gram", "1.00"), ("tax_amount", "0.00"), ("line_total", "1.00"),
                         ("metal_value", "1.00"), ("wastage_amount", "0.00")):
        h.expect_error(shop.post(f"{API}/invoice_items", json={"invoice_id": inv["id"], "product_id": p["id"],
                                                                "description": "x", field: value}),
                       400, "readonly_field", field)
    for field in ("subtotal", "tax_amount", "discount_amount", "total_amount"):
        h.expect_error(shop.patch(f"{API}/invoices/{inv['id']}", json={field: "1.00"}), 400, "readonly_field", field)
    assert h.rows_where(shop, "invoice_items", invoice_id=inv["id"]) == []


def test_lines_that_cannot_be_priced(shop, new_tenant):
    inv = invoice(shop)
    for body, status, code in (
            ({"metal_type": "gold", "purity": "916", "net_weight": "1.000"}, 201, None),
            ({"metal_type": "gold", "purity": "17K", "net_weight": "1.000"}, 400, "validation_failed"),
            ({"metal_type": "gold", "net_weight": "1.000"}, 400, "validation_failed"),
            ({"net_weight": "1.000", "unit_price": "5.00"}, 201, None),  # no metal: a plain line
            ({"metal_type": "platinum", "purity": "950", "net_weight": "1.000"}, 422, "unprocessable")):
        r = shop.post(f"{API}/invoice_items", json=dict({"invoice_id": inv["id"], "description": "d"}, **body))
        if code:
            h.expect_error(r, status, code)
        else:
            h.ok(r, status)
    lines = h.rows_where(shop, "invoice_items", invoice_id=inv["id"])
    assert sorted(x["line_total"] for x in lines) == ["5.00", "6400.00"]
    # a piece in a tenant without rates: nothing to price it at
    other = new_tenant().owner
    h.expect_error(other.post(f"{API}/invoice_items", json={"invoice_id": invoice(other)["id"],
                                                             "product_id": piece(other)["id"], "description": "x"}),
                   422, "unprocessable")
