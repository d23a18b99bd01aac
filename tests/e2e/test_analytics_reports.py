"""Gold shop (issue #16): custom reports. report_config (source table,
filters, group by, measures) is checked on save against what the caller may
read (400 naming the bad part); POST /api/v1/custom_reports/{id}/run
aggregates the source's rows into a report_runs row, exact to the paisa.
Both engines."""
import datetime
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest

import helpers as h
from test_notify import notify_server  # noqa: F401 (a fixture: a server mailing to a sink)

API = "/api/v1"


@pytest.fixture(scope="module")
def shop(cli, new_tenant, login):
    t = new_tenant()
    c = t.owner

    def sale(day, *prices, issue=True):
        inv = h.create(c, "invoices", {"customer_id": h.create_customer(c)["id"], "currency": "INR",
                                       "invoice_date": day})
        for p in prices:
            h.create(c, "invoice_items", {"invoice_id": inv["id"], "description": "ring", "unit_price": p})
        if issue:
            inv = h.ok(c.post(f"{API}/invoices/{inv['id']}/issue", json={}))
        return h.get(c, "invoices", inv["id"])

    t.invoices = [sale("2026-11-02", "100.00"), sale("2026-11-02", "150.00", "50.00"),
                  sale("2026-11-03", "50.01"), sale("2026-11-03", "50.00"),
                  sale("2026-11-03", "999.00", issue=False)]
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    t.viewer = login(t.slug, email)
    return t


CONFIG = {"source": "invoices", "filters": {"status": "Issued"}, "group_by": ["invoice_date"],
          "measures": [{"fn": "sum", "column": "total_amount"}, {"fn": "count"},
                       {"fn": "avg", "column": "total_amount"}]}


def report(c, config=None, status=201):
    return h.ok(c.post(f"{API}/custom_reports", json={"name": "Sales by day " + h.uniq(), "report_type": "sales",
                                                      "report_config": config or CONFIG}), status)


def half_up(x):
    return str(Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_a_run_aggregates_the_source(shop):
    c = shop.owner
    r = report(c)
    run = h.ok(c.post(f"{API}/custom_reports/{r['id']}/run", json={}))
    assert run["report_id"] == r["id"] and run["status"] == "done" and run["trigger"] == "manual"
    assert run["requested_by"] == c.user["id"] and h.TS_RE.match(run["finished_at"])
    # the reference, from the invoices made here: issued ones only, by day
    days = {}
    for inv in shop.invoices:
        if inv["status"] == "issued":
            days.setdefault(inv["invoice_date"], []).append(Decimal(inv["total_amount"]))
    rows = [[d, str(sum(v)), len(v), half_up(sum(v) / len(v))] for d, v in sorted(days.items())]
    assert rows == [["2026-11-02", "300.00", 2, "150.00"], ["2026-11-03", "100.01", 2, "50.01"]]  # 50.005 half up
    assert run["result"] == {"columns": ["invoice_date", "sum_total_amount", "count_rows", "avg_total_amount"],
                             "rows": rows}
    assert run["row_count"] == 2
    assert [x["id"] for x in h.list_all(c, "report_runs", {"report_id": r["id"]})] == [run["id"]]


def test_without_groups_one_row(shop):
    c = shop.owner
    r = report(c, {"source": "invoice_items", "measures": [{"fn": "sum", "column": "line_total"},
                                                           {"fn": "count", "column": "product_id"}]})
    run = h.ok(c.post(f"{API}/custom_reports/{r['id']}/run", json={}))
    assert run["result"]["rows"] == [["1399.01", 0]]  # every line, drafts too; no line names a product


def test_a_reader_runs_it_as_themselves(shop, new_tenant):
    r = report(shop.owner)
    run = h.ok(shop.viewer.post(f"{API}/custom_reports/{r['id']}/run", json={}))
    assert run["requested_by"] == shop.viewer.user["id"] and run["row_count"] == 2
    # but may not write reports, nor runs
    h.expect_error(shop.viewer.post(f"{API}/custom_reports", json={"name": "x", "report_type": "sales",
                                                                  "report_config": CONFIG}), 403, "forbidden")
    assert shop.owner.post(f"{API}/report_runs", json={"report_id": r["id"]}).status_code == 405
    # another tenant's report is not found
    h.expect_error(new_tenant().owner.post(f"{API}/custom_reports/{r['id']}/run", json={}), 404, "not_found")


@pytest.mark.parametrize("config,part", [
    ([], "object"),
    ({"source": "nope", "measures": [{"fn": "count"}]}, "source"),
    ({"source": "schema_migrations", "measures": [{"fn": "count"}]}, "source"),
    ({"source": "invoices", "measures": [{"fn": "count"}], "order_by": ["x"]}, "order_by"),
    ({"source": "invoices", "filters": {"nope": "x"}, "measures": [{"fn": "count"}]}, "filters.nope"),
    ({"source": "invoices", "filters": {"status": 5}, "measures": [{"fn": "count"}]}, "filters.status"),
    ({"source": "invoices", "filters": {"subtotal": "1.234"}, "measures": [{"fn": "count"}]}, "filters.subtotal"),
    ({"source": "invoices", "group_by": ["total_amount"], "measures": [{"fn": "count"}]}, "group_by[0]"),
    ({"source": "invoices", "group_by": "status", "measures": [{"fn": "count"}]}, "group_by"),
    ({"source": "invoices", "measures": []}, "measures"),
    ({"source": "invoices"}, "measures"),
    ({"source": "invoices", "measures": [{"fn": "max", "column": "subtotal"}]}, "measures[0].fn"),
    ({"source": "invoices", "measures": [{"fn": "count"}, {"fn": "sum", "column": "notes"}]}, "measures[1].column"),
    ({"source": "invoices", "measures": [{"fn": "avg"}]}, "measures[0].column"),
    ({"source": "users", "group_by": ["password_hash"], "measures": [{"fn": "count"}]}, "group_by[0]"),
])
def test_a_config_is_checked_on_save(shop, config, part):
    c = shop.owner
    before = len(h.list_all(c, "custom_reports"))
    e = h.expect_error(c.post(f"{API}/custom_reports", json={"name": "bad", "report_type": "sales",
                                                             "report_config": config}),
                       400, "validation_failed", "report_config")
    assert part in str(e), e
    assert len(h.list_all(c, "custom_reports")) == before


def test_a_change_is_checked_too(shop):
    c = shop.owner
    r = report(c)
    h.expect_error(c.patch(f"{API}/custom_reports/{r['id']}", json={"report_config": {"source": "invoices"}}),
                   400, "validation_failed", "report_config")
    assert h.get(c, "custom_reports", r["id"])["report_config"] == CONFIG


def _run_schedules(c, cli, slug):
    """Enqueue reports.scheduled and wait until it is done; its result."""
    before = len(h.list_all(c, "jobs", {"kind": "reports.scheduled"}))
    cli.run("job", "enqueue", "--tenant", slug, "--kind", "reports.scheduled")
    end = time.monotonic() + h.WAIT_S
    while time.monotonic() < end:
        jobs = h.list_all(c, "jobs", {"kind": "reports.scheduled"})
        if len(jobs) > before and all(j["status"] in ("done", "dead") for j in jobs):
            break
        time.sleep(0.2)
    newest = max(jobs, key=lambda j: j["created_at"])
    assert newest["status"] == "done", newest
    return newest["result"]


def test_a_scheduled_report_runs_once_per_slot(shop, cli, server):
    c = shop.owner
    # the tenant's own sweep (seeded every five minutes) is paused: this test counts its runs
    (sweep,) = h.list_all(c, "schedules", {"kind": "reports.scheduled"})
    assert (sweep["cron"], sweep["enabled"]) == ("*/5 * * * *", True)
    h.ok(c.patch(f"{API}/schedules/{sweep['id']}", json={"enabled": False}))
    two_days_ago = h.fmt_ts(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2))

    def scheduled(config=None, backdate=True, **fields):
        r = h.ok(c.post(f"{API}/custom_reports", json={
            "name": "Daily " + h.uniq(), "report_type": "sales", "report_config": config or CONFIG,
            "is_scheduled": True, "schedule_frequency": "daily", "schedule_time": "00:00", **fields}), 201)
        if backdate:
            h.tenant_sql(server, shop.slug, f"UPDATE custom_reports SET created_at = '{two_days_ago}' "
                                            f"WHERE id = '{r['id']}'")
        return r

    due = scheduled()
    # recipients but no active template report.delivered: run, and why it was not mailed kept
    unmailed = scheduled(email_recipients=["boss@example.test"])
    not_yet = scheduled(backdate=False)  # made now: its first slot is tomorrow's midnight
    off = scheduled(is_active=False)
    broken = scheduled()
    # its source becomes unreadable by hand: the run records the failure
    h.tenant_sql(server, shop.slug, "UPDATE custom_reports SET report_config = "
                                    "'{\"source\": \"nope\", \"measures\": [{\"fn\": \"count\"}]}' "
                                    f"WHERE id = '{broken['id']}'")
    assert _run_schedules(c, cli, shop.slug) == {"ran": 2, "failed": 1}
    # its files are stored by reports.render, then reports.deliver finds no template
    end = time.monotonic() + h.WAIT_S
    while True:
        (um,) = h.list_all(c, "report_runs", {"report_id": unmailed["id"]})
        if um["error_message"] or time.monotonic() > end:
            break
        time.sleep(0.05)
    assert um["status"] == "done" and "report.delivered" in um["error_message"] and um["files_status"] == "stored"
    (run,) = h.list_all(c, "report_runs", {"report_id": due["id"]})
    assert (run["trigger"], run["status"], run["requested_by"], run["row_count"]) == ("schedule", "done", None, 2)
    manual = h.ok(c.post(f"{API}/custom_reports/{due['id']}/run", json={}))
    assert run["result"] == manual["result"]
    (bad,) = h.list_all(c, "report_runs", {"report_id": broken["id"]})
    assert bad["status"] == "failed" and "source" in bad["error_message"] and bad["result"] is None
    for r in (not_yet, off):
        assert h.list_all(c, "report_runs", {"report_id": r["id"]}) == []
    # the slot is taken: nothing runs again until the next one
    assert _run_schedules(c, cli, shop.slug) == {"ran": 0, "failed": 0}
    assert len(h.list_all(c, "report_runs", {"report_id": due["id"], "trigger": "schedule"})) == 1


def test_a_scheduled_report_is_mailed_to_its_recipients(notify_server):  # noqa: F811
    c, sink, *_ = notify_server
    h.ok(c.post(f"{API}/notification_templates", json={
        "name": "Report delivered", "code": "report.delivered", "type": "email",
        "subject": "Report {{report_name}}", "body": "{{row_count}} rows at {{finished_at}}\n{{result}}",
        "variables": ["report_name", "row_count", "finished_at", "result"]}), 201)
    for _ in range(2):
        h.create_customer(c)
    # its slot: the next minute of the tenant's (UTC) day; the schedule sweeps every minute
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
    r = h.ok(c.post(f"{API}/custom_reports", json={
        "name": "Customers", "report_type": "customer", "is_scheduled": True, "schedule_frequency": "daily",
        "schedule_time": at.strftime("%H:%M"), "email_recipients": ["boss@example.test", "acct@example.test"],
        "report_config": {"source": "customers", "measures": [{"fn": "count"}]}}), 201)
    h.ok(c.post(f"{API}/schedules", json={"name": "reports", "cron": "* * * * *", "kind": "reports.scheduled"}), 201)
    end = time.monotonic() + h.WAIT_S + 60
    while time.monotonic() < end and len(sink.messages()) < 2:
        time.sleep(0.5)
    msgs = sink.messages()
    assert sorted(m["to"][0] for m in msgs) == ["<acct@example.test>", "<boss@example.test>"], msgs
    (run,) = h.list_all(c, "report_runs", {"report_id": r["id"]})
    assert run["trigger"] == "schedule" and run["status"] == "done" and run["error_message"] is None
    for m in msgs:
        assert "Subject: Report Customers\r\n" in m["data"]
        assert f"1 rows at {run['finished_at']}\r\ncount_rows\r\n2" in m["data"]
