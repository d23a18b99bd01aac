"""Gold shop (issue #16): a custom report's run keeps its CSV, XLSX and PDF as
stored files (the files module: a files row each, purpose "report"), named
by the run's csv_file_id, xlsx_file_id and pdf_file_id once the job
reports.render has written them, and downloaded through the files routes
(GET /api/v1/files/{id}/content). export_formats picks which are kept.
Both engines."""
import csv
import hashlib
import io
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest

import helpers as h

API = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def shop(new_tenant, login):
    t = new_tenant(agents=1)
    t.agent = login(t.slug, t.agents[0], h.USER_PASSWORD)
    c = t.owner
    for day, price in (("2026-11-02", "100.00"), ("2026-11-02", "150.00"), ("2026-11-03", "50.01")):
        inv = h.create(c, "invoices", {"customer_id": h.create_customer(c)["id"], "currency": "INR",
                                       "invoice_date": day})
        h.create(c, "invoice_items", {"invoice_id": inv["id"], "description": "ring", "unit_price": price})
        h.ok(c.post(f"{API}/invoices/{inv['id']}/issue", json={}))
    return t


def _report(c, **kw):
    body = {"name": "Sales by day", "report_type": "sales",
            "report_config": {"source": "invoices", "filters": {"status": "issued"}, "group_by": ["invoice_date"],
                              "measures": [{"fn": "sum", "column": "total_amount"}, {"fn": "count"}]}}
    body.update(kw)
    return h.create(c, "custom_reports", body)


def _stored(c, run_id, timeout=h.WAIT_S):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run = h.get(c, "report_runs", run_id)
        if run["files_status"] != "pending":
            return run
        time.sleep(0.05)
    raise AssertionError(f"the run's files were not stored: {run}")


def _content(c, file_id):
    r = c.get(f"{API}/files/{file_id}/content")
    assert r.status_code == 200, r.text
    return r


def test_a_run_keeps_its_three_files_downloadable(shop):
    c = shop.owner
    rep = _report(c)
    run = h.ok(c.post(f"{API}/custom_reports/{rep['id']}/run", json={}))
    assert run["files_status"] == "pending" and run["attempts"] == 0 and run["csv_file_id"] is None
    run = _stored(c, run["id"])
    assert run["files_status"] == "stored" and run["status"] == "done" and run["error_message"] is None
    want = {"csv_file_id": ("Sales_by_day.csv", "text/csv"), "xlsx_file_id": ("Sales_by_day.xlsx", XLSX),
            "pdf_file_id": ("Sales_by_day.pdf", "application/pdf")}
    bodies = {}
    for col, (name, mime) in want.items():
        f = h.get(c, "files", run[col])
        assert (f["file_name"], f["mime_type"].split(";")[0], f["purpose"]) == (name, mime, "report")
        body = _content(c, run[col]).content
        assert f["file_size"] == len(body) and f["sha256"] == hashlib.sha256(body).hexdigest()
        bodies[col] = body
    rows = list(csv.reader(io.StringIO(bodies["csv_file_id"].decode())))
    assert rows == [run["result"]["columns"]] + [[str(v) for v in r] for r in run["result"]["rows"]]
    assert rows[1:] == [["2026-11-02", "250.00", "2"], ["2026-11-03", "50.01", "1"]]
    assert "xl/worksheets/sheet1.xml" in zipfile.ZipFile(io.BytesIO(bodies["xlsx_file_id"])).namelist()
    pdf = bodies["pdf_file_id"]
    assert pdf.startswith(b"%PDF") and b"(Sales by day)" in pdf and b"(250.00)" in pdf and b"(50.01)" in pdf
    # the files are listed with their run's purpose
    ids = {x["id"] for x in h.list_all(c, "files", {"purpose": "report"})}
    assert {run[col] for col in want} <= ids
    # the render job finished once
    jobs = [j for j in h.list_all(c, "jobs", {"kind": "reports.render"})
            if h.as_obj(j["payload"])["report_run_id"] == run["id"]]
    assert [(j["status"], j["attempts"]) for j in jobs] == [("done", 1)]


def test_export_formats_pick_the_files_kept(shop):
    c = shop.owner
    rep = _report(c, name="Only PDF", export_formats=["PDF"])
    run = _stored(c, h.ok(c.post(f"{API}/custom_reports/{rep['id']}/run", json={}))["id"])
    assert run["csv_file_id"] is None and run["xlsx_file_id"] is None and run["pdf_file_id"]
    assert _content(c, run["pdf_file_id"]).content.startswith(b"%PDF")


def test_refusals_and_scope(shop, new_tenant):
    c = shop.owner
    rep = _report(c, name="Scoped")
    run = _stored(c, h.ok(c.post(f"{API}/custom_reports/{rep['id']}/run", json={}))["id"])
    fid = run["csv_file_id"]
    # the run and its files are written by the server alone
    before = h.get(c, "report_runs", run["id"])
    r = c.patch(f"{API}/report_runs/{run['id']}", json={"csv_file_id": None, "files_status": "failed"})
    assert r.status_code in (403, 405) and r.headers["content-type"].startswith("application/json")
    r = c.post(f"{API}/report_runs", json={"report_id": rep["id"], "status": "done", "finished_at": run["finished_at"]})
    assert r.status_code in (403, 405)
    assert h.get(c, "report_runs", run["id"]) == before
    # another tenant sees neither the run nor its files
    other = new_tenant().owner
    h.expect_error(other.get(f"{API}/report_runs/{run['id']}"), 404, "not_found")
    h.expect_error(other.get(f"{API}/files/{fid}/content"), 404, "not_found")
    h.expect_error(other.post(f"{API}/custom_reports/{rep['id']}/run", json={}), 404, "not_found")
    # an agent may not read reports: 403, nothing run
    agent = shop.agent
    h.expect_error(agent.get(f"{API}/report_runs/{run['id']}"), 403, "forbidden")
    h.expect_error(agent.post(f"{API}/custom_reports/{rep['id']}/run", json={}), 403, "forbidden")
    assert len(h.list_all(c, "report_runs", {"report_id": rep["id"]})) == 1


def test_racing_runs_each_keep_their_files(shop):
    c = shop.owner
    rep = _report(c, name="Raced", export_formats=["csv"])
    with ThreadPoolExecutor(2) as pool:
        rs = list(pool.map(lambda _: c.post(f"{API}/custom_reports/{rep['id']}/run", json={}), range(2)))
    ids = [h.ok(r)["id"] for r in rs]
    assert len(set(ids)) == 2
    runs = [_stored(c, i) for i in ids]
    files = [h.get(c, "files", r["csv_file_id"]) for r in runs]
    # two runs, two files rows; the same content is kept once in the store
    assert files[0]["id"] != files[1]["id"]
    assert files[0]["sha256"] == files[1]["sha256"]
    assert _content(c, files[0]["id"]).content == _content(c, files[1]["id"]).content
