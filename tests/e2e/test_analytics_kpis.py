"""Gold shop (issue #16): KPI targets measured from the data. current_value,
achievement_rate and trend_direction are the server's, computed on every write,
when a target is read alone and by the job kpis.compute, for the known names
(docs/kpis.md), in the tenant's calendar. Each figure is checked against a
reference computed here from the rows the test made. Both engines."""
import datetime
import time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

import helpers as h

API = "/api/v1"
ZONE = "Asia/Kolkata"
SALES = ("issued", "partially_paid", "paid", "overdue")
NAMES = ("daily_sales", "monthly_sales", "average_invoice_value", "gold_sold_grams", "customer_acquisition",
         "inventory_turnover")


def cents(x):
    return Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def today():
    return datetime.datetime.now(ZoneInfo(ZONE)).date()


@pytest.fixture(scope="module")
def shop(cli, new_tenant):
    t = new_tenant()
    cli.run("tenant", "set", t.slug, "--timezone", ZONE)
    c = t.owner
    h.create(c, "metal_rates", {"metal": "gold", "purity": 916, "rate_per_gram": "6400.00",
                                "effective_from": "2026-01-01T00:00:00Z"})
    d0 = today()
    made = []  # (invoice, [(metal, net)])

    def invoice(day, lines, state="issue"):
        inv = h.create(c, "invoices", {"customer_id": h.create_customer(c)["id"], "currency": "INR",
                                       "invoice_date": day.isoformat()})
        for metal, net, making in lines:
            body = {"invoice_id": inv["id"], "description": "piece", "making_charges": making}
            if metal:
                body.update({"metal_type": metal, "purity": "916", "net_weight": net})
            else:
                body["unit_price"] = net
            h.create(c, "invoice_items", body)
        if state:
            inv = h.ok(c.post(f"{API}/invoices/{inv['id']}/issue", json={}))
        if state == "cancel":
            inv = h.ok(c.post(f"{API}/invoices/{inv['id']}/cancel", json={}))
        made.append((h.get(c, "invoices", inv["id"]), [(m, n) for m, n, _ in lines]))

    invoice(d0, [("gold", "10.000", "500.00"), (None, "120.00", "0")])
    invoice(d0, [("gold", "2.345", "0")])
    invoice(d0 - datetime.timedelta(days=1), [("gold", "1.005", "100.00")])
    invoice(d0 - datetime.timedelta(days=5), [("gold", "3.333", "0")])
    invoice(d0 - datetime.timedelta(days=25), [("gold", "7.000", "0")])
    invoice(d0, [("gold", "50.000", "0")], state=None)      # a draft is no sale
    invoice(d0, [("gold", "40.000", "0")], state="cancel")  # nor is a cancelled one
    # stock: 10 in, 4 sold today -> turnover 4 / 6 on hand
    p = h.create(c, "products", {"sku": h.uniq("SKU-"), "name": "chain"})
    w = h.create(c, "warehouses", {"name": "WH " + h.uniq()})
    inv = h.create(c, "inventory", {"product_id": p["id"], "warehouse_id": w["id"]})
    for kind, q in (("purchase", 10), ("sale", -4)):
        h.create(c, "inventory_transactions", {"inventory_id": inv["id"], "transaction_type": kind, "quantity": q})
    t.made = made
    t.customers = len(made)
    return t


def windows(name, d, ps):
    first = ps
    if name == "daily_sales":
        first = d
    elif name == "monthly_sales":
        first = d.replace(day=1)
    n = (d - first).days + 1
    return (first, d), (first - datetime.timedelta(days=n), first - datetime.timedelta(days=1))


def reference(shop, name, w):
    sales = [(inv, lines) for inv, lines in shop.made if inv["status"] in SALES
             and w[0] <= datetime.date.fromisoformat(inv["invoice_date"]) <= w[1]]
    if name in ("daily_sales", "monthly_sales"):
        return cents(sum((Decimal(i["total_amount"]) for i, _ in sales), Decimal(0)))
    if name == "average_invoice_value":
        if not sales:
            return cents(0)
        return cents(sum(Decimal(i["total_amount"]) for i, _ in sales) / len(sales))
    if name == "gold_sold_grams":
        return cents(sum((Decimal(n) for _, ls in sales for m, n in ls if m == "gold"), Decimal(0)))
    if name == "customer_acquisition":
        # every customer was made today, by the fixture
        return cents(shop.customers if w[0] <= today() <= w[1] else 0)
    if name == "inventory_turnover":
        return cents(Decimal(4) / Decimal(6)) if w[0] <= today() <= w[1] else cents(0)
    raise AssertionError(name)


def target(c, name, ps, pe, value="1000.00"):
    return h.create(c, "kpi_targets", {"kpi_type": "financial", "kpi_name": name, "target_period": "monthly",
                                       "target_value": value, "period_start": ps.isoformat(),
                                       "period_end": pe.isoformat()})


def check(shop, row, name, ps, pe):
    d = min(max(today(), ps), pe)
    now_w, prev_w = windows(name, d, ps)
    cur, prev = reference(shop, name, now_w), reference(shop, name, prev_w)
    assert Decimal(row["current_value"]) == cur, (name, row, cur)
    rate = cents(cur / Decimal(row["target_value"]) * 100) if Decimal(row["target_value"]) else cents(0)
    assert Decimal(row["achievement_rate"]) == rate, (name, row)
    assert row["trend_direction"] == ("up" if cur > prev else "down" if cur < prev else "stable"), (name, row)
    return cur


def test_each_known_kpi_is_measured_from_the_data(shop):
    c = shop.owner
    ps, pe = today() - datetime.timedelta(days=10), today() + datetime.timedelta(days=10)
    got = {}
    for name in NAMES:
        row = target(c, name, ps, pe, "50000.00")
        got[name] = check(shop, row, name, ps, pe)
        # read alone: measured again, the same figures
        check(shop, h.get(c, "kpi_targets", row["id"]), name, ps, pe)
    # the worked figures, by hand: today two sales, 64,500.00 + 120.00 and 15,008.00
    assert got["daily_sales"] == Decimal("79628.00")
    assert got["gold_sold_grams"] == Decimal("16.68")  # 10.000 + 2.345 + 1.005 + 3.333 = 16.683
    assert got["customer_acquisition"] == Decimal(7) and got["inventory_turnover"] == Decimal("0.67")


def test_a_past_period_is_measured_at_its_end(shop):
    c = shop.owner
    end = today() - datetime.timedelta(days=1)
    row = target(c, "daily_sales", end - datetime.timedelta(days=3), end)
    assert check(shop, row, "daily_sales", end - datetime.timedelta(days=3), end) == Decimal("6532.00")
    assert row["trend_direction"] == "up"  # nothing the day before


def test_figures_are_the_servers(shop):
    c = shop.owner
    body = {"kpi_type": "financial", "kpi_name": "daily_sales", "target_period": "daily", "target_value": "1.00",
            "period_start": today().isoformat(), "period_end": today().isoformat()}
    for field, value in (("current_value", "5.00"), ("achievement_rate", "1.00"), ("trend_direction", "up")):
        h.expect_error(c.post(f"{API}/kpi_targets", json={**body, field: value}), 400, "readonly_field", field)
    row = h.create(c, "kpi_targets", body)
    h.expect_error(c.patch(f"{API}/kpi_targets/{row['id']}", json={"current_value": "1.00"}),
                   400, "readonly_field", "current_value")
    # an unknown name is kept at its stored figures
    other = h.create(c, "kpi_targets", {**body, "kpi_name": "footfall"})
    assert other["current_value"] == "0.00" and other["trend_direction"] is None


def test_another_tenants_target_is_not_found(shop, new_tenant):
    row = target(shop.owner, "daily_sales", today(), today())
    h.expect_error(new_tenant().owner.get(f"{API}/kpi_targets/{row['id']}"), 404, "not_found")


def test_the_daily_job_saves_the_figures(shop, cli):
    c = shop.owner
    ps, pe = today() - datetime.timedelta(days=10), today() + datetime.timedelta(days=10)
    row = target(c, "monthly_sales", ps, pe)
    before = Decimal(row["current_value"])
    # a sale after the target was saved: the list shows the stored figure
    inv = h.create(c, "invoices", {"customer_id": h.create_customer(c)["id"], "currency": "INR",
                                   "invoice_date": today().isoformat()})
    h.create(c, "invoice_items", {"invoice_id": inv["id"], "description": "ring", "unit_price": "999.99"})
    h.ok(c.post(f"{API}/invoices/{inv['id']}/issue", json={}))
    listed = [r for r in h.list_all(c, "kpi_targets") if r["id"] == row["id"]][0]
    assert Decimal(listed["current_value"]) == before
    cli.run("job", "enqueue", "--tenant", shop.slug, "--kind", "kpis.compute")
    end = time.monotonic() + h.WAIT_S
    while time.monotonic() < end:
        jobs = h.list_all(c, "jobs", {"kind": "kpis.compute"})
        if jobs and jobs[0]["status"] in ("done", "dead"):
            break
        time.sleep(0.2)
    assert jobs and jobs[0]["status"] == "done", jobs
    listed = [r for r in h.list_all(c, "kpi_targets") if r["id"] == row["id"]][0]
    assert Decimal(listed["current_value"]) == before + Decimal("999.99")
    assert listed["version"] == row["version"] + 1
