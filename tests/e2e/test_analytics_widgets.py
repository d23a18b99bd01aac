"""Gold shop (issue #16): dashboard widgets answer their data at
GET /api/v1/dashboard_widgets/{id}/data from their widget_config: a metric's
value, a chart's daily points, a table of KPI targets, measured as the KPI
targets are (docs/kpis.md), in the tenant's calendar. A config is checked
against the widget's type when saved (400 naming widget_config); the data is
the owner's: another user's or another tenant's widget is 404. Both engines."""
import datetime
from zoneinfo import ZoneInfo

import pytest

import helpers as h

API = "/api/v1"
ZONE = "America/New_York"


def today():
    return datetime.datetime.now(ZoneInfo(ZONE)).date()


@pytest.fixture(scope="module")
def shop(cli, new_tenant, login):
    t = new_tenant()
    cli.run("tenant", "set", t.slug, "--timezone", ZONE)
    c = t.owner
    h.create(c, "metal_rates", {"metal": "gold", "purity": 916, "rate_per_gram": "6400.00",
                                "effective_from": "2026-01-01T00:00:00Z"})
    d0 = today()

    def sale(day, net, making="0"):
        inv = h.create(c, "invoices", {"customer_id": h.create_customer(c)["id"], "currency": "INR",
                                       "invoice_date": day.isoformat()})
        h.create(c, "invoice_items", {"invoice_id": inv["id"], "description": "chain", "metal_type": "gold",
                                      "purity": "916", "net_weight": net, "making_charges": making})
        return h.ok(c.post(f"{API}/invoices/{inv['id']}/issue", json={}))

    # today 12,800.00 + 6,401.00; yesterday 3,206.40
    t.sales = [sale(d0, "2.000"), sale(d0, "1.000", "1.00"), sale(d0 - datetime.timedelta(days=1), "0.501")]
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    t.viewer = login(t.slug, email)
    return t


def widget(c, wtype, config, status=201):
    r = c.post(f"{API}/dashboard_widgets", json={"widget_type": wtype, "widget_config": config, "position_x": 0,
                                                  "position_y": 0, "width": 4, "height": 2})
    return h.ok(r, status)


def data(c, w):
    return h.ok(c.get(f"{API}/dashboard_widgets/{w['id']}/data"))


def test_a_metric_is_the_kpi_over_its_days(shop):
    c = shop.owner
    w = widget(c, "metric", {"title": "Sales today", "kpi": "daily_sales"})
    got = data(c, w)
    assert got == {"widget_id": w["id"], "widget_type": "metric", "title": "Sales today", "kpi": "daily_sales",
                   "from": today().isoformat(), "to": today().isoformat(), "value": "19201.00", "trend": "up"}
    # two days of gold: 2.000 + 1.000 + 0.501 g, against nothing the two days before
    g = data(c, widget(c, "metric", {"kpi": "gold_sold_grams", "days": 2}))
    assert (g["value"], g["trend"], g["title"]) == ("3.50", "up", None)  # 3.501 half up
    assert g["from"] == (today() - datetime.timedelta(days=1)).isoformat()


def test_a_chart_has_one_point_a_day(shop):
    c = shop.owner
    got = data(c, widget(c, "chart", {"kpi": "daily_sales", "days": 3}))
    d = today()
    assert got["points"] == [
        {"date": (d - datetime.timedelta(days=2)).isoformat(), "value": "0.00"},
        {"date": (d - datetime.timedelta(days=1)).isoformat(), "value": "3206.40"},
        {"date": d.isoformat(), "value": "19201.00"},
    ]
    # seven days when none are given
    assert len(data(c, widget(c, "chart", {"kpi": "customer_acquisition"}))["points"]) == 7


def test_a_table_lists_the_kpi_targets_measured(shop):
    c = shop.owner
    k = h.create(c, "kpi_targets", {"kpi_type": "financial", "kpi_name": "daily_sales", "target_period": "daily",
                                    "target_value": "38402.00", "period_start": today().isoformat(),
                                    "period_end": today().isoformat()})
    h.create(c, "kpi_targets", {"kpi_type": "customer", "kpi_name": "customer_acquisition", "target_period": "daily",
                                "target_value": "10.00", "period_start": today().isoformat(),
                                "period_end": today().isoformat()})
    got = data(c, widget(c, "table", {"kpis": ["daily_sales"]}))
    assert got["rows"] == [{"id": k["id"], "kpi_name": "daily_sales", "period_start": today().isoformat(),
                            "period_end": today().isoformat(), "target_value": "38402.00",
                            "current_value": "19201.00", "achievement_rate": "50.00", "trend_direction": "up"}]
    assert {r["kpi_name"] for r in data(c, widget(c, "table", {}))["rows"]} == {"daily_sales", "customer_acquisition"}


@pytest.mark.parametrize("wtype,config,part", [
    ("metric", {"kpi": "footfall"}, "kpi"),
    ("metric", {}, "kpi"),
    ("metric", {"kpi": "daily_sales", "days": 0}, "days"),
    ("metric", {"kpi": "daily_sales", "days": "7"}, "days"),
    ("chart", {"kpi": "daily_sales", "days": 93}, "days"),
    ("chart", [1, 2], "object"),
    ("table", {"kpis": "daily_sales"}, "kpis"),
    ("table", {"kpis": ["daily_sales", "nope"]}, "kpis"),
    ("table", {"title": 5}, "title"),
])
def test_a_config_is_checked_against_its_type(shop, wtype, config, part):
    c = shop.owner
    before = len(h.list_all(c, "dashboard_widgets"))
    e = h.expect_error(c.post(f"{API}/dashboard_widgets", json={
        "widget_type": wtype, "widget_config": config, "position_x": 0, "position_y": 0, "width": 1, "height": 1}),
        400, "validation_failed", "widget_config")
    assert part in str(e)
    assert len(h.list_all(c, "dashboard_widgets")) == before


def test_a_change_is_checked_too(shop):
    c = shop.owner
    w = widget(c, "metric", {"kpi": "daily_sales"})
    h.expect_error(c.patch(f"{API}/dashboard_widgets/{w['id']}", json={"widget_type": "chart",
                                                                      "widget_config": {"kpi": "x"}}),
                   400, "validation_failed", "widget_config")
    assert h.get(c, "dashboard_widgets", w["id"])["widget_type"] == "metric"
    ok = h.ok(c.patch(f"{API}/dashboard_widgets/{w['id']}", json={"widget_type": "chart",
                                                                  "widget_config": {"kpi": "daily_sales", "days": 2}}))
    assert len(data(c, ok)["points"]) == 2


def test_the_data_is_the_owners(shop, new_tenant):
    c = shop.owner
    w = widget(c, "metric", {"kpi": "daily_sales"})
    # the viewer may read the widget row, but its data is the owner's dashboard
    assert h.get(shop.viewer, "dashboard_widgets", w["id"])["id"] == w["id"]
    h.expect_error(shop.viewer.get(f"{API}/dashboard_widgets/{w['id']}/data"), 404, "not_found")
    h.expect_error(new_tenant().owner.get(f"{API}/dashboard_widgets/{w['id']}/data"), 404, "not_found")
    h.expect_error(c.get(f"{API}/dashboard_widgets/{h.MISSING_ID}/data"), 404, "not_found")
    # an alert widget has no data
    a = widget(c, "alert", {"message": "rates moved"})
    h.expect_error(c.get(f"{API}/dashboard_widgets/{a['id']}/data"), 422, "unprocessable")
