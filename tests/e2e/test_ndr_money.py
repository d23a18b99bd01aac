"""Money of orders sent back (issue #14): an order that goes rto writes its
courier's charges as expenses, once per shipment: the forward charge
(category shipping) and the RTO charge (returns, at the forward rate), linked
to the order, the shipment and the order's channel, so the P&L by channel
shows them. Cancelling before shipping writes nothing; a delivered order's
charges stay in its revenue record, not in expenses. POST
/api/v1/expenses/{id}/receipt {"file_id"} attaches an uploaded receipt;
another tenant's file is 404. Both engines."""
import datetime

import pytest

import helpers as h
import stock_helpers as s
from test_commerce_orders import order
from test_commerce_ship import courier
from test_ndr_rules import track
from test_commerce_tracking import scan, script

API = "/api/v1"


@pytest.fixture(scope="module")
def t(new_tenant, cli, login):
    ten = new_tenant()
    cli.user_create(ten.slug, f"viewer@{ten.slug}.test", "viewer")
    ten.viewer = login(ten.slug, f"viewer@{ten.slug}.test")
    return ten


def today():
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def expenses_of(c, oid):
    return sorted(h.list_all(c, "expenses", {"order_id": oid}), key=lambda e: e["category"])


def shipped(c, cfg):
    inv = s.inventory(c, on_hand=5)
    o = order(c, [(inv["product_id"], 1, "M-1")])
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    h.ok(s.act(c, "orders", o["id"], "ship", {"courier_config_id": cfg["id"]}))
    [sh] = h.list_all(c, "shipments", {"order_id": o["id"]})
    return o, sh


def test_rto_writes_the_courier_charges_once(server, t):
    c = t.owner
    cfg = courier(c, charge="45.50")
    o, sh = shipped(c, cfg)
    assert sh["shipping_charges"] == "45.50"
    assert expenses_of(c, o["id"]) == []
    scans = [scan("RTO", "2026-10-21T09:00:00Z")]
    script(c, cfg, scans)
    track(server, c, t.slug, sh)
    assert h.get(c, "orders", o["id"])["status"] == "rto"
    got = expenses_of(c, o["id"])
    assert [(e["category"], e["subcategory"], e["amount"], e["shipment_id"], e["channel_id"], e["expense_date"])
            for e in got] == [("returns", "rto", "45.50", sh["id"], o["channel_id"], today()),
                              ("shipping", "rto", "45.50", sh["id"], o["channel_id"], today())]
    assert sh["shipment_number"] in got[0]["description"] and got[0]["currency"] == o["currency"]
    # back at the origin: nothing written twice
    script(c, cfg, scans + [scan("RT-DL", "2026-10-22T09:00:00Z")])
    track(server, c, t.slug, sh)
    assert h.get(c, "orders", o["id"])["status"] == "rto_delivered"
    assert expenses_of(c, o["id"]) == got

    # the P&L of the day shows them under the order's channel, with no revenue
    rep = h.ok(c.get(f"{API}/reports/pnl", params={"from": today(), "to": today(), "group": "channel"}))
    [row] = [r for r in rep["rows"] if r["key"] == o["channel_id"]]
    assert (row["orders"], row["gross_revenue"], row["expenses"], row["profit"]) == (0, "0.00", "91.00", "-91.00")

    # cancelled before shipping: nothing; delivered: the charge is the revenue record's
    inv = s.inventory(c, on_hand=2)
    p = order(c, [(inv["product_id"], 1, "M-2")])
    h.ok(s.act(c, "orders", p["id"], "confirm"))
    h.ok(s.act(c, "orders", p["id"], "cancel"))
    assert expenses_of(c, p["id"]) == []
    d, dsh = shipped(c, cfg)
    script(c, cfg, [scan("DL", "2026-10-23T09:00:00Z")])
    track(server, c, t.slug, dsh)
    assert h.get(c, "orders", d["id"])["status"] == "delivered"
    assert expenses_of(c, d["id"]) == []
    [rev] = h.list_all(c, "revenue_records", {"order_id": d["id"]})
    assert dsh["shipping_charges"] and rev["shipping_cost"] == dsh["shipping_charges"]


def test_receipt(t, globex_owner):
    c = t.owner
    e = h.create(c, "expenses", {"category": "packaging", "amount": "12.00", "expense_date": today()})
    f = h.upload_file(c, b"%PDF-1.4\n% receipt\n", name="receipt.pdf", purpose="receipt")
    got = h.ok(c.post(f"{API}/expenses/{e['id']}/receipt", json={"file_id": f["id"]}))
    assert got["receipt_file_id"] == f["id"] and got["amount"] == "12.00"
    r = c.get(f"{API}/expenses/{e['id']}/content")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    other = h.upload_file(globex_owner, b"%PDF-1.4\n% theirs\n", name="theirs.pdf", purpose="receipt")
    h.expect_error(c.post(f"{API}/expenses/{e['id']}/receipt", json={"file_id": other["id"]}), 404, "not_found")
    h.expect_error(c.post(f"{API}/expenses/{e['id']}/receipt", json={"file_id": "nope"}), 404, "not_found")
    h.expect_error(c.post(f"{API}/expenses/{e['id']}/receipt", json={}), 400, "validation_failed", "file_id")
    h.expect_error(c.post(f"{API}/expenses/{e['id']}/receipt", json={"file_id": f["id"], "x": 1}), 400,
                   "unknown_field")
    h.expect_error(t.viewer.post(f"{API}/expenses/{e['id']}/receipt", json={"file_id": f["id"]}), 403, "forbidden")
    h.expect_error(globex_owner.post(f"{API}/expenses/{e['id']}/receipt", json={"file_id": other["id"]}), 404,
                   "not_found")
    assert h.get(c, "expenses", e["id"])["receipt_file_id"] == f["id"]
