"""Builders shared by the stock and supply-chain tests (test_stock*.py)."""
import helpers as h

API = "/api/v1"


def product(c, **f):
    body = {"sku": h.uniq("SKU-"), "name": "Widget " + h.uniq()}
    body.update(f)
    return h.create(c, "products", body)


def warehouse(c, **f):
    body = {"name": "WH " + h.uniq()}
    body.update(f)
    return h.create(c, "warehouses", body)


def inventory(c, on_hand=0, **f):
    """A stock row; stock on hand arrives by an adjust action, as it must."""
    body = {"product_id": f.pop("product_id", None) or product(c)["id"]}
    if "warehouse_id" not in f:
        body["warehouse_id"] = warehouse(c)["id"]
    body.update(f)
    inv = h.create(c, "inventory", body)
    if on_hand:
        inv = h.ok(c.post(f"{API}/inventory/{inv['id']}/adjust",
                          json={"quantity": on_hand, "reason": "opening stock"}))
    return inv


def act(c, table, rid, verb, body=None):
    return c.post(f"{API}/{table}/{rid}/{verb}", json=body if body is not None else {})


def entries(c, inv_id):
    return h.list_all(c, "inventory_transactions", {"inventory_id": inv_id})


def supplier(c, **f):
    body = {"name": "Supplier " + h.uniq()}
    body.update(f)
    return h.create(c, "suppliers", body)


def purchase_order(c, lines, **f):
    """A draft purchase order with items [(product_id, quantity, "unit price")]."""
    body = {"supplier_id": f.pop("supplier_id", None) or supplier(c)["id"]}
    body.update(f)
    po = h.create(c, "purchase_orders", body)
    items = [h.create(c, "purchase_order_items", {"purchase_order_id": po["id"], "product_id": p,
                                                  "quantity_ordered": q, "unit_price": price})
             for p, q, price in lines]
    return h.get(c, "purchase_orders", po["id"]), items
