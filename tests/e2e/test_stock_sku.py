"""SKUs (issue #13): unique per tenant whatever their case; a soft-deleted
product frees its SKU. Both engines."""
import helpers as h
import stock_helpers as s

API = "/api/v1"


def test_sku_unique_case_insensitively_and_freed_by_delete(acme_owner, globex_owner):
    c = acme_owner
    base = h.uniq("Sku-")
    first = s.product(c, sku=base)
    assert first["sku"] == base  # kept as given
    r = c.post(f"{API}/products", json={"sku": base.upper(), "name": "Other"})
    e = h.expect_error(r, 409, "conflict")
    assert len(h.rows_where(c, "products", sku=base.upper())) == 0
    other = s.product(c)
    h.expect_error(c.patch(f"{API}/products/{other['id']}", json={"sku": base.lower()}), 409, "conflict")
    assert h.get(c, "products", other["id"])["sku"] == other["sku"]
    # another tenant has its own SKUs
    assert s.product(globex_owner, sku=base.lower())["sku"] == base.lower()
    # a deleted product frees it
    assert c.delete(f"{API}/products/{first['id']}").status_code in (200, 204)
    assert c.get(f"{API}/products/{first['id']}").status_code == 404
    again = s.product(c, sku=base.lower())
    assert again["sku"] == base.lower() and again["id"] != first["id"]
    assert "sku" in e["message"] or e.get("field") == "sku_key" or e.get("constraint")
