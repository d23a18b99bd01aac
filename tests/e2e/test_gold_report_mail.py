"""Gold shop (issue #16): a custom report's scheduled run is e-mailed to its
recipients with the result as three attachments, CSV, XLSX and PDF, in one
multipart/mixed message (base64 parts) sent to the SMTP sink the notify
tests use. The files hold the run's numbers, exact to the paisa. Both
engines."""
import csv
import datetime
import email
import email.policy
import io
import time
import zipfile
from decimal import Decimal
from xml.etree import ElementTree as ET

import helpers as h
from test_notify import notify_server  # noqa: F401 (a fixture: a server mailing to a sink)

API = "/api/v1"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet_rows(data):
    """The first sheet's cells, row by row, as text (strings inline or shared, numbers as written)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
            shared.append("".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")))
    rows = []
    for row in ET.fromstring(z.read("xl/worksheets/sheet1.xml")).findall("m:sheetData/m:row", NS):
        cells = []
        for c in row.findall("m:c", NS):
            assert c.find("m:f", NS) is None  # never a formula
            t, v = c.get("t", "n"), c.find("m:v", NS)
            if t == "inlineStr":
                cells.append(("s", "".join(x.text or "" for x in c.iter(f"{{{NS['m']}}}t"))))
            elif t == "s":
                cells.append(("s", shared[int(v.text)]))
            else:
                cells.append((t, v.text))
        rows.append(cells)
    return rows


def _sale(c, day, *prices):
    inv = h.create(c, "invoices", {"customer_id": h.create_customer(c)["id"], "currency": "INR",
                                   "invoice_date": day})
    for p in prices:
        h.create(c, "invoice_items", {"invoice_id": inv["id"], "description": "ring", "unit_price": p})
    return h.ok(c.post(f"{API}/invoices/{inv['id']}/issue", json={}))


def test_a_scheduled_report_arrives_with_its_csv_xlsx_and_pdf(notify_server):  # noqa: F811
    c, sink, *_ = notify_server
    h.ok(c.post(f"{API}/notification_templates", json={
        "name": "Report delivered", "code": "report.delivered", "type": "email",
        "subject": "Report {{report_name}}", "body": "{{row_count}} rows at {{finished_at}}",
        "variables": ["report_name", "row_count", "finished_at"]}), 201)
    _sale(c, "2026-11-02", "100.00")
    _sale(c, "2026-11-02", "150.00", "50.00")
    _sale(c, "2026-11-03", "50.01")
    config = {"source": "invoices", "filters": {"status": "Issued"}, "group_by": ["invoice_date"],
              "measures": [{"fn": "sum", "column": "total_amount"}, {"fn": "count"},
                           {"fn": "avg", "column": "total_amount"}]}
    # its slot: the next minute of the tenant's (UTC) day; the schedule sweeps every minute
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
    r = h.ok(c.post(f"{API}/custom_reports", json={
        "name": "Sales by day", "report_type": "sales", "is_scheduled": True, "schedule_frequency": "daily",
        "schedule_time": at.strftime("%H:%M"), "email_recipients": ["boss@example.test"],
        "report_config": config}), 201)
    # export_formats picks the files: this one asks for the spreadsheet alone
    only = h.ok(c.post(f"{API}/custom_reports", json={
        "name": "Invoices", "report_type": "sales", "is_scheduled": True, "schedule_frequency": "daily",
        "schedule_time": at.strftime("%H:%M"), "email_recipients": ["acct@example.test"],
        "export_formats": ["EXCEL"], "report_config": {"source": "invoices", "measures": [{"fn": "count"}]}}), 201)
    h.ok(c.post(f"{API}/schedules", json={"name": "reports", "cron": "* * * * *", "kind": "reports.scheduled"}), 201)
    end = time.monotonic() + h.WAIT_S + 60
    while time.monotonic() < end and len(sink.messages()) < 2:
        time.sleep(0.5)
    by_to = {m["to"][0]: m for m in sink.messages()}
    assert sorted(by_to) == ["<acct@example.test>", "<boss@example.test>"]
    m = by_to["<boss@example.test>"]
    one = email.message_from_bytes(by_to["<acct@example.test>"]["data"].encode(), policy=email.policy.default)
    (xlsx,) = list(one.iter_attachments())
    assert (xlsx.get_filename(), xlsx.get_content_type()) == ("Invoices.xlsx", XLSX)
    (only_run,) = h.list_all(c, "report_runs", {"report_id": only["id"]})
    assert only_run["result"] == {"columns": ["count_rows"], "rows": [[3]]}
    assert _sheet_rows(xlsx.get_payload(decode=True)) == [[("s", "count_rows")], [("n", "3")]]
    (run,) = h.list_all(c, "report_runs", {"report_id": r["id"]})
    assert run["trigger"] == "schedule" and run["status"] == "done" and run["error_message"] is None
    result = run["result"]
    assert result["rows"] == [["2026-11-02", "300.00", 2, "150.00"], ["2026-11-03", "50.01", 1, "50.01"]]
    header = result["columns"]
    assert header == ["invoice_date", "sum_total_amount", "count_rows", "avg_total_amount"]

    msg = email.message_from_bytes(m["data"].encode(), policy=email.policy.default)
    assert msg["Subject"] == "Report Sales by day" and msg.get_content_type() == "multipart/mixed"
    parts = list(msg.iter_parts())
    assert parts[0].get_content_type() == "text/plain"
    assert parts[0].get_content().strip() == f"2 rows at {run['finished_at']}"
    files = {p.get_filename(): p for p in parts[1:]}
    assert sorted(files) == ["Sales_by_day.csv", "Sales_by_day.pdf", "Sales_by_day.xlsx"]
    types = {n: p.get_content_type() for n, p in files.items()}
    assert types == {"Sales_by_day.csv": "text/csv", "Sales_by_day.xlsx": XLSX, "Sales_by_day.pdf": "application/pdf"}
    for p in files.values():
        assert p["Content-Transfer-Encoding"] == "base64" and p.get_content_disposition() == "attachment"

    # CSV: the header and the run's rows, exactly
    text = files["Sales_by_day.csv"].get_payload(decode=True).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [header] + [[str(v) for v in row] for row in result["rows"]]

    # XLSX: a zip with the sheet; names and dates as text, measures as numbers equal to the run's
    sheet = _sheet_rows(files["Sales_by_day.xlsx"].get_payload(decode=True))
    assert [v for _, v in sheet[0]] == header
    assert len(sheet) == 3
    for got, want in zip(sheet[1:], result["rows"]):
        assert got[0] == ("s", want[0])
        assert [k for k, _ in got[1:]] == ["n", "n", "n"]
        assert [Decimal(v) for _, v in got[1:]] == [Decimal(str(v)) for v in want[1:]]

    # PDF: a document holding the title and every value of the rows
    pdf = files["Sales_by_day.pdf"].get_payload(decode=True)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert b"(Sales by day)" in pdf
    for row in result["rows"]:
        for v in row:
            assert f"({v})".encode() in pdf, v

    # the message is recorded as sent, naming its run
    (log,) = [x for x in h.list_all(c, "notification_logs", {"recipient": "boss@example.test"})]
    assert log["status"] == "sent" and log["metadata"] == {"report_run_id": run["id"]}
    # and the manual run's numbers are the same
    manual = h.ok(c.post(f"{API}/custom_reports/{r['id']}/run", json={}))
    assert manual["result"] == result
