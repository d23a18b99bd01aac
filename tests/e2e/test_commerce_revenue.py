"""Delivery earns revenue (issue #14): delivering an order writes one
revenue_records row in the same transaction: gross (the order's total), the
channel's platform and payment-gateway fees (percent settings, half up to the
minor unit; no gateway fee cash on delivery), the couriers' charges, the goods'
cost_price, and net_revenue their exact difference. Cancelling before shipping
writes nothing. Both engines."""
from decimal import Decimal

import helpers as h
import stock_helpers as s
from test_commerce_orders import order
from test_commerce_ship import courier
from test_commerce_tracking import run_track, scan, script

API = "/api/v1"


def fee_channel(c, platform="2.55", gateway="1.33"):
    return h.create(c, "sales_channels", {
        "channel_type_code": "shopify", "name": "Shop " + h.uniq(),
        "settings": {"platform_fee_percent": platform, "payment_gateway_fee_percent": gateway}})


def revenue(c, oid):
    return h.list_all(c, "revenue_records", {"order_id": oid})


def money(x):
    return Decimal(x)


def test_delivery_writes_exact_revenue(acme_owner):
    c = acme_owner
    p = s.product(c, cost_price="12.34")
    s.inventory(c, on_hand=10, product_id=p["id"])
    ch = fee_channel(c)
    cfg = courier(c, charge="45.50")
    o = order(c, [(p["id"], 3, "R-1"), (None, 1, "R-FREE")], channel_id=ch["id"])
    h.ok(c.patch(f"{API}/orders/{o['id']}", json={"total_amount": "99.99", "payment_method": "upi"}))
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    h.ok(s.act(c, "orders", o["id"], "ship", {"courier_config_id": cfg["id"]}))
    assert revenue(c, o["id"]) == []
    h.ok(s.act(c, "orders", o["id"], "deliver"))
    [r] = revenue(c, o["id"])
    assert r["channel_id"] == ch["id"]
    got = {k: r[k] for k in ("gross_revenue", "platform_fee", "payment_gateway_fee", "shipping_cost",
                             "product_cost", "other_costs", "net_revenue")}
    # 99.99 x 2.55% = 2.549745 -> 2.55; x 1.33% = 1.329867 -> 1.33; 3 x 12.34 = 37.02
    assert got == {"gross_revenue": "99.99", "platform_fee": "2.55", "payment_gateway_fee": "1.33",
                   "shipping_cost": "45.50", "product_cost": "37.02", "other_costs": "0.00",
                   "net_revenue": "13.59"}
    assert money("99.99") - money("2.55") - money("1.33") - money("45.50") - money("37.02") == money("13.59")
    assert r["revenue_date"] == h.get(c, "orders", o["id"])["delivered_at"][:10]


def test_cod_pays_no_gateway_fee_and_tracking_delivery_earns(server, acme_owner):
    c = acme_owner
    p = s.product(c, cost_price="5.00")
    s.inventory(c, on_hand=4, product_id=p["id"])
    ch = fee_channel(c, platform="10.00", gateway="3.00")
    cfg = courier(c, charge="20.00")
    o = order(c, [(p["id"], 2, "COD-1")], channel_id=ch["id"])
    h.ok(c.patch(f"{API}/orders/{o['id']}", json={"payment_method": "cod"}))
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    h.ok(s.act(c, "orders", o["id"], "ship", {"courier_config_id": cfg["id"]}))
    [sh] = h.list_all(c, "shipments", {"order_id": o["id"]})
    assert sh["cod_amount"] == "100.00"
    script(c, cfg, [scan("DL", "2026-08-01T10:00:00Z")])
    run_track(server, c, {"shipment_id": sh["id"]})
    assert h.get(c, "orders", o["id"])["status"] == "delivered"
    [r] = revenue(c, o["id"])
    assert (r["gross_revenue"], r["platform_fee"], r["payment_gateway_fee"], r["shipping_cost"],
            r["product_cost"], r["net_revenue"]) == ("100.00", "10.00", "0.00", "20.00", "10.00", "60.00")


def test_cancel_before_shipping_writes_nothing(acme_owner):
    c = acme_owner
    inv = s.inventory(c, on_hand=2)
    o = order(c, [(inv["product_id"], 1, "X-1")], channel_id=fee_channel(c)["id"])
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    h.ok(s.act(c, "orders", o["id"], "cancel"))
    assert revenue(c, o["id"]) == []
    h.expect_error(s.act(c, "orders", o["id"], "deliver"), 422, "invalid_transition")
    assert revenue(c, o["id"]) == []
