"""Gold shop (issue #16): loyalty points expire. Points earned on a paid
invoice are valid for the programme's points_validity_days; the daily
loyalty.expire job (its day fixed by payload.date here) writes one expired
entry for what is left unspent of points past their expiry_date,
redemptions counting against the points that expire first, and the ledger
still sums to the balance."""
import datetime as dt
import json
import time

import pytest

import helpers as h
import stock_helpers as sh

API = "/api/v1"


@pytest.fixture(scope="module")
def shop(new_tenant):
    t = new_tenant()
    c = t.owner
    h.create(c, "metal_rates", {"metal": "gold", "purity": 916, "rate_per_gram": "6400.00",
                                "effective_from": "2026-01-01T00:00:00Z"})
    h.create(c, "loyalty_programs", {"name": "Gold Club", "points_per_currency_unit": "0.01", "point_value": "1.00",
                                     "points_validity_days": 30})
    return t


def balance(c, cust):
    """The customer's balance, checked against the sum of its ledger."""
    got = h.get(c, "customers", cust["id"])["loyalty_points"]
    entries = h.rows_where(c, "customer_loyalty_points", customer_id=cust["id"])
    assert got == sum(e["points"] for e in entries), (got, entries)
    return got


def entry(c, cust, kind, points, expiry=None):
    body = {"customer_id": cust["id"], "transaction_type": kind, "points": points}
    if expiry:
        body["expiry_date"] = expiry
    return h.create(c, "customer_loyalty_points", body)


def expire(server, t, date, status="done"):
    """Queue loyalty.expire for a fixed day and wait for it; its job row."""
    c = t.owner
    before = {j["id"] for j in h.list_all(c, "jobs", {"kind": "loyalty.expire"})}
    args = ["job", "enqueue", "--tenant", t.slug, "--kind", "loyalty.expire", "--max-attempts", "1",
            "--payload", json.dumps({"date": date})]
    if server.db_url:
        args += ["--db", server.db_url]
    server.cli.run(*args)
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        new = [j for j in h.list_all(c, "jobs", {"kind": "loyalty.expire"}) if j["id"] not in before]
        if new and new[0]["status"] in ("done", "dead", "failed"):
            assert new[0]["status"] == status, new[0]
            return new[0]
        time.sleep(0.1)
    raise AssertionError("the loyalty.expire job did not finish")


def expired_entries(c, cust):
    return [e for e in h.rows_where(c, "customer_loyalty_points", customer_id=cust["id"])
            if e["transaction_type"] == "expired"]


def test_points_earned_on_a_paid_invoice_carry_an_expiry(shop):
    c = shop.owner
    cust = h.create_customer(c)
    p = h.create(c, "products", {"sku": h.uniq("P-"), "name": "22K necklace", "metal": "gold", "purity": 916,
                                 "gross_weight": "10.000", "making_charge_type": "percent",
                                 "making_charge_value": "12.00", "stone_charges": "1500.00"})
    sh.inventory(c, on_hand=1, product_id=p["id"])
    inv = h.create(c, "invoices", {"customer_id": cust["id"], "currency": "INR"})
    h.create(c, "invoice_items", {"invoice_id": inv["id"], "product_id": p["id"], "description": "necklace",
                                  "tax_rate": "3.00"})
    h.ok(c.post(f"{API}/invoices/{inv['id']}/issue"))
    h.create(c, "payments", {"customer_id": cust["id"], "invoice_id": inv["id"], "amount": "75375.40",
                             "payment_status": "completed"})
    [earned] = h.rows_where(c, "customer_loyalty_points", customer_id=cust["id"])
    paid_day = dt.datetime.now(dt.timezone.utc).date()
    assert earned["points"] == 753 and earned["transaction_type"] == "earned"
    assert earned["expiry_date"] in {str(paid_day + dt.timedelta(days=30)), str(paid_day + dt.timedelta(days=31))}


def test_unspent_points_expire_oldest_first(server, shop):
    c = shop.owner
    cust, other = h.create_customer(c), h.create_customer(c)
    entry(c, cust, "earned", 100, "2026-01-31")
    entry(c, cust, "earned", 50, "2026-03-31")
    entry(c, cust, "adjusted", 7)  # no expiry date: never expires
    entry(c, cust, "redeemed", -30)
    entry(c, other, "earned", 20, "2026-06-30")
    assert balance(c, cust) == 127
    # on its expiry date the point still counts
    job = expire(server, shop, "2026-01-31")
    assert expired_entries(c, cust) == [] and balance(c, cust) == 127
    # the day after: 100 - 30 redeemed from them = 70 expire
    job = expire(server, shop, "2026-02-01")
    assert job["result"]["points"] >= 70 and job["result"]["date"] == "2026-02-01"
    [e] = expired_entries(c, cust)
    assert e["points"] == -70 and "2026-02-01" in e["description"]
    assert balance(c, cust) == 57
    # run again on the same day: nothing more
    expire(server, shop, "2026-02-01")
    assert len(expired_entries(c, cust)) == 1 and balance(c, cust) == 57
    # a redemption after the first expiry spends the later points first
    entry(c, cust, "redeemed", -20)
    expire(server, shop, "2026-04-01")
    assert sorted(e["points"] for e in expired_entries(c, cust)) == [-70, -30]
    assert balance(c, cust) == 7
    # the other customer's points are not due yet
    assert expired_entries(c, other) == [] and balance(c, other) == 20
    expire(server, shop, "2026-07-01")
    assert balance(c, other) == 0 and balance(c, cust) == 7


def test_a_bad_day_fails_the_job(server, shop):
    job = expire(server, shop, "2026-02-30", status="dead")
    assert "date" in json.dumps(job)


def test_expiry_is_scheduled_daily_in_every_tenant(shop):
    rows = [s for s in h.list_all(shop.owner, "schedules") if s["kind"] == "loyalty.expire"]
    assert len(rows) == 1 and rows[0]["enabled"] is True and rows[0]["cron"] == "10 0 * * *"


def test_validity_is_checked(shop):
    for days in (0, -1, 36501, "x"):
        h.expect_error(shop.owner.post(f"{API}/loyalty_programs", json={"name": "x", "points_per_currency_unit": "1",
                                                                        "points_validity_days": days}),
                       400, "validation_failed", "points_validity_days")


def _far_zone():
    """A zone whose date differs from UTC's now: UTC+14 from 10:00 UTC, else UTC-12."""
    hour = dt.datetime.now(dt.timezone.utc).hour
    return ("Pacific/Kiritimati", 14) if hour >= 10 else ("Etc/GMT+12", -12)


def test_days_are_the_tenant_zone_days(server, cli, new_tenant):
    """Earned points' expiry_date and the job's default day are days of the
    tenant's zone, not of UTC (a zone is picked whose date differs from UTC's
    at the time of the run)."""
    zone, offset = _far_zone()
    t = new_tenant()
    cli.run("tenant", "set", t.slug, "--timezone", zone)
    c = t.owner
    h.create(c, "metal_rates", {"metal": "gold", "purity": 916, "rate_per_gram": "6400.00",
                                "effective_from": "2026-01-01T00:00:00Z"})
    h.create(c, "loyalty_programs", {"name": "Gold Club", "points_per_currency_unit": "0.01", "point_value": "1.00",
                                     "points_validity_days": 30})
    utc_day = dt.datetime.now(dt.timezone.utc).date()
    local_day = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=offset)).date()
    assert local_day != utc_day
    cust = h.create_customer(c)
    inv = h.create(c, "invoices", {"customer_id": cust["id"], "currency": "INR"})
    h.create(c, "invoice_items", {"invoice_id": inv["id"], "description": "ring", "unit_price": "1000.00"})
    h.ok(c.post(f"{API}/invoices/{inv['id']}/issue"))
    h.create(c, "payments", {"customer_id": cust["id"], "invoice_id": inv["id"], "amount": "1000.00",
                             "payment_status": "completed"})
    [earned] = h.rows_where(c, "customer_loyalty_points", customer_id=cust["id"])
    assert earned["points"] == 10 and earned["expiry_date"] == str(local_day + dt.timedelta(days=30))
    # the job without a day expires what was valid until yesterday in the zone
    gone, kept = h.create_customer(c), h.create_customer(c)
    entry(c, gone, "earned", 5, str(local_day - dt.timedelta(days=1)))
    entry(c, kept, "earned", 6, str(local_day))
    before = {j["id"] for j in h.list_all(c, "jobs", {"kind": "loyalty.expire"})}
    args = ["job", "enqueue", "--tenant", t.slug, "--kind", "loyalty.expire", "--max-attempts", "1"]
    if server.db_url:
        args += ["--db", server.db_url]
    server.cli.run(*args)
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        new = [j for j in h.list_all(c, "jobs", {"kind": "loyalty.expire"}) if j["id"] not in before]
        if new and new[0]["status"] in ("done", "dead"):
            break
        time.sleep(0.1)
    assert new[0]["status"] == "done" and new[0]["result"]["date"] == str(local_day), new
    assert balance(c, gone) == 0 and balance(c, kept) == 6
