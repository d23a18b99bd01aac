"""GET /api/v1/reports/pnl?from&to&group=day|month|channel (issue #14): the
revenue records deliveries wrote and the expenses of the period, grouped, in
exact minor units. Random revenue and expenses are checked against a
reference sum computed here to the minor unit. Both engines."""
import random
from collections import defaultdict
from decimal import Decimal

import helpers as h
import stock_helpers as s
from test_commerce_orders import order
from test_commerce_revenue import fee_channel

API = "/api/v1"
FIGS = ("gross_revenue", "platform_fee", "payment_gateway_fee", "shipping_cost", "product_cost", "other_costs")


def cents(rng, hi):
    return Decimal(rng.randint(0, hi)) / 100


def pnl(c, **params):
    return h.ok(c.get(f"{API}/reports/pnl", params=params))


def test_random_records_reconcile_to_the_minor_unit(new_tenant):
    t = new_tenant()
    c = t.owner
    rng = random.Random(1414)
    chans = [fee_channel(c)["id"] for _ in range(3)]
    orders = {ch: order(c, [], channel_id=ch)["id"] for ch in chans}
    days = [f"2026-0{m}-{d:02d}" for m in (1, 2) for d in (3, 17, 28)] + ["2025-12-31", "2026-03-01"]
    ref = defaultdict(lambda: defaultdict(Decimal))
    for _ in range(30):
        ch, day = rng.choice(chans), rng.choice(days)
        rec = {"gross_revenue": cents(rng, 500000)}
        for f in FIGS[1:]:
            rec[f] = cents(rng, 20000)
        h.create(c, "revenue_records", {"order_id": orders[ch], "channel_id": ch, "revenue_date": day,
                                        **{k: str(v) for k, v in rec.items()}})
        if "2026-01-01" <= day <= "2026-02-28":
            for key in (day, day[:7], ch, "total"):
                ref[key]["orders"] += 1
                for f in FIGS:
                    ref[key][f] += rec[f]
    for _ in range(12):
        ch, day, amount = rng.choice(chans + [None]), rng.choice(days), cents(rng, 90000)
        body = {"category": "marketing", "amount": str(amount), "expense_date": day}
        if ch:
            body["channel_id"] = ch
        h.create(c, "expenses", body)
        if "2026-01-01" <= day <= "2026-02-28":
            for key in (day, day[:7], ch or "unassigned", "total"):
                ref[key]["expenses"] += amount

    def expect(row, key):
        r = ref[key]
        net = r["gross_revenue"] - sum(r[f] for f in FIGS[1:])
        assert row["orders"] == r["orders"], key
        for f in FIGS + ("expenses",):
            assert Decimal(row[f]) == r[f], (key, f)
        assert Decimal(row["net_revenue"]) == net and Decimal(row["profit"]) == net - r["expenses"], key

    for group, keylen in (("day", 10), ("month", 7), ("channel", None)):
        rep = pnl(c, **{"from": "2026-01-01", "to": "2026-02-28", "group": group})
        assert rep["report"] == "pnl" and rep["group"] == group
        keys = [r["key"] for r in rep["rows"]]
        assert keys == sorted(keys)
        want = {k for k in ref if k != "total" and (len(k) == keylen if keylen else k in chans + ["unassigned"])}
        assert set(keys) == want
        for row in rep["rows"]:
            expect(row, row["key"])
        expect(rep["totals"], "total")


def test_a_delivered_order_appears(acme_owner):
    c = acme_owner
    p = s.product(c, cost_price="1.00")
    s.inventory(c, on_hand=3, product_id=p["id"])
    ch = fee_channel(c, platform="0.00", gateway="0.00")
    o = order(c, [(p["id"], 2, "PNL-1")], channel_id=ch["id"])
    for v in ("confirm", "ship", "deliver"):
        h.ok(s.act(c, "orders", o["id"], v))
    day = h.get(c, "orders", o["id"])["delivered_at"][:10]
    rep = pnl(c, **{"from": day, "to": day, "group": "channel"})
    [row] = [r for r in rep["rows"] if r["key"] == ch["id"]]
    assert (row["orders"], row["gross_revenue"], row["product_cost"], row["net_revenue"]) == \
        (1, "100.00", "2.00", "98.00")


def test_refusals(acme_owner, acme_agent):
    c = acme_owner
    url = f"{API}/reports/pnl"
    h.expect_error(c.get(url, params={"from": "2026-01-01"}), 400, "invalid_query")
    h.expect_error(c.get(url, params={"from": "2026-02-01", "to": "2026-01-01"}), 400, "invalid_query")
    h.expect_error(c.get(url, params={"from": "2026-01-01", "to": "2026-01-31", "group": "week"}), 400, "invalid_query")
    h.expect_error(c.get(url, params={"from": "2026-01-01", "to": "2026-01-31", "x": "1"}), 400, "invalid_query")
    h.expect_error(acme_agent.get(url, params={"from": "2026-01-01", "to": "2026-01-31"}), 403, "forbidden")
    empty = h.ok(c.get(url, params={"from": "1999-01-01", "to": "1999-01-31"}))
    assert empty["rows"] == [] and empty["totals"]["profit"] == "0.00"
