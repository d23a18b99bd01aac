"""Daily inventory metrics (issue #13): the job kind inventory.metrics rolls a
day's ledger entries and the stock into analytics_metrics, per warehouse and for
the tenant, and GET /api/v1/reports/inventory returns them; re-running a day
replaces it. Both engines."""
import datetime as dt
import json
import time
import uuid

import pytest

import helpers as h
import stock_helpers as s

API = "/api/v1"


def run_job(server, slug, c, payload):
    args = ["job", "enqueue", "--tenant", slug, "--kind", "inventory.metrics", "--payload", json.dumps(payload)]
    if server.db_url:
        args += ["--db", server.db_url]
    server.cli.run(*args)
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        jobs = c.get(f"{API}/jobs", params={"kind": "inventory.metrics", "sort": "-created_at", "limit": 1}).json()["data"]
        if jobs and jobs[0]["status"] == "done":
            return jobs[0]
        assert not jobs or jobs[0]["status"] != "dead", jobs
        time.sleep(0.1)
    raise AssertionError("the metrics job did not finish")


@pytest.fixture
def shop(cli, login):
    slug = "met-" + uuid.uuid4().hex[:8]
    cli.tenant_create(slug)
    return slug, login(slug, f"owner@{slug}.test", h.OWNER_PASSWORD)


def test_a_day_rolls_up_and_the_report_returns_it(server, shop, login, tiny_owner):
    slug, c = shop
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    wh1, wh2 = s.warehouse(c), s.warehouse(c)
    p = s.product(c, cost_price="10.00")
    inv1 = s.inventory(c, product_id=p["id"], warehouse_id=wh1["id"])
    inv2 = s.inventory(c, product_id=p["id"], warehouse_id=wh2["id"])
    for inv, kind, q in ((inv1, "purchase", 50), (inv1, "sale", -5), (inv2, "purchase", 3), (inv2, "sale", -3)):
        h.ok(c.post(f"{API}/inventory_transactions",
                    json={"inventory_id": inv["id"], "transaction_type": kind, "quantity": q}), 201)
    job = run_job(server, slug, c, {"date": today})
    assert job["result"] == {"date": today, "warehouses": 2}

    r = h.ok(c.get(f"{API}/reports/inventory", params={"from": today, "to": today}))
    assert r["warehouse_id"] is None and len(r["days"]) == 1
    d = r["days"][0]
    # 8 sold, 53 received, wh2 is out of stock, 45 on hand at 10.00, 8/45 = 0.1778
    assert d == {"date": today, "units_sold": 8, "units_received": 53, "stock_outs": 1,
                 "inventory_value": "450.00", "turnover": "0.1778"}
    r = h.ok(c.get(f"{API}/reports/inventory", params={"from": today, "to": today, "warehouse_id": wh1["id"]}))
    assert r["days"][0] == {"date": today, "units_sold": 5, "units_received": 50, "stock_outs": 0,
                            "inventory_value": "450.00", "turnover": "0.1111"}

    # re-running the day replaces its rows: one value per metric, day and warehouse
    h.ok(c.post(f"{API}/inventory_transactions",
                json={"inventory_id": inv1["id"], "transaction_type": "sale", "quantity": -1}), 201)
    run_job(server, slug, c, {"date": today})
    rows = h.list_all(c, "analytics_metrics", {"dimension_date": today, "metric_name": "inventory.units_sold"})
    assert len(rows) == 3
    r = h.ok(c.get(f"{API}/reports/inventory", params={"from": today, "to": today}))
    assert r["days"][0]["units_sold"] == 9

    # a day without entries has no rows until rolled up; a range lists only days that have them
    r = h.ok(c.get(f"{API}/reports/inventory", params={"from": "2020-01-01", "to": "2020-12-31"}))
    assert r["days"] == []


def test_report_refusals(shop, tiny_owner, acme_owner, cli, login):
    slug, c = shop
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    for params in ({}, {"from": today}, {"from": "yesterday", "to": today}, {"from": today, "to": "2020-01-01"},
                   {"from": "2020-01-01", "to": "2022-01-01"}, {"from": today, "to": today, "bogus": "1"}):
        h.expect_error(c.get(f"{API}/reports/inventory", params=params), 400, "invalid_query")
    for wid in (str(uuid.uuid4()), s.warehouse(acme_owner)["id"]):  # none, or another tenant's
        h.expect_error(c.get(f"{API}/reports/inventory",
                             params={"from": today, "to": today, "warehouse_id": wid}), 404, "not_found")
    h.expect_error(tiny_owner.get(f"{API}/reports/inventory", params={"from": today, "to": today}),
                   403, "feature_disabled")
    cli.user_create(slug, f"agent@{slug}.test", "agent")
    agent = login(slug, f"agent@{slug}.test")
    h.expect_error(agent.get(f"{API}/reports/inventory", params={"from": today, "to": today}), 403, "forbidden")
    h.expect_error(c.get(f"{API}/reports/inventory", params={"from": today, "to": today},
                         headers={"Authorization": "Bearer nope"}), 401, "unauthenticated")
