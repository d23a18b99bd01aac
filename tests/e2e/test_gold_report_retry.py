"""Gold shop (issue #16): a scheduled report's messages attach the files
stored with its run (the bytes of its files rows, not a second rendering),
and a failed delivery is logged on the run (attempts, error_message) and
retried by the job system after its back-off; after the last attempt the
run stays failed with its error. The SMTP sink refuses chosen recipients.
Both engines; waits for one real schedule slot."""
import datetime
import email
import email.policy
import time

import helpers as h
from test_notify import notify_server  # noqa: F401 (a fixture: a server mailing to a sink)

API = "/api/v1"


def _until(fn, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.03)
    raise AssertionError(f"timed out waiting for {what}")


def _run_of(c, report_id):
    runs = h.list_all(c, "report_runs", {"report_id": report_id})
    return runs[0] if runs else None


def test_mail_attaches_the_stored_files_and_failures_are_logged_and_retried(notify_server):  # noqa: F811
    c, sink, *_ = notify_server
    h.ok(c.post(f"{API}/notification_templates", json={
        "name": "Report delivered", "code": "report.delivered", "type": "email",
        "subject": "Report {{report_name}}", "body": "{{row_count}} rows", "variables": ["report_name", "row_count"]}),
        201)
    inv = h.create(c, "invoices", {"customer_id": h.create_customer(c)["id"], "currency": "INR",
                                   "invoice_date": "2026-11-02"})
    h.create(c, "invoice_items", {"invoice_id": inv["id"], "description": "ring", "unit_price": "120.50"})
    h.ok(c.post(f"{API}/invoices/{inv['id']}/issue", json={}))
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
    config = {"source": "invoices", "group_by": ["invoice_date"], "measures": [{"fn": "sum", "column": "total_amount"}]}

    def report(name, to):
        return h.create(c, "custom_reports", {
            "name": name, "report_type": "sales", "is_scheduled": True, "schedule_frequency": "daily",
            "schedule_time": at.strftime("%H:%M"), "email_recipients": [to], "export_formats": ["csv", "pdf"],
            "report_config": config})

    late = report("Late", "late@example.test")
    lost = report("Lost", "lost@example.test")
    sink.refuse_rcpt = {"late@example.test", "lost@example.test"}
    h.ok(c.post(f"{API}/schedules", json={"name": "reports", "cron": "* * * * *", "kind": "reports.scheduled"}), 201)

    # two refused attempts at the late one are logged on its run; then the server accepts it
    run = _until(lambda: (r := _run_of(c, late["id"])) and r["attempts"] >= 2 and r, h.WAIT_S + 60,
                 "two logged attempts")
    sink.refuse_rcpt = {"lost@example.test"}
    assert run["status"] == "done" and run["files_status"] == "stored"
    assert run["error_message"].startswith("mail to late@example.test, attempt 2 of 5: ")
    (msg,) = _until(lambda: [m for m in sink.messages() if m["to"] == ["<late@example.test>"]], 30, "the late mail")
    run = _run_of(c, late["id"])
    assert run["status"] == "done" and 2 <= run["attempts"] <= 4
    # the attachments are the stored files, byte for byte
    parsed = email.message_from_bytes(msg["data"].encode(), policy=email.policy.default)
    got = {p.get_filename(): p.get_payload(decode=True) for p in parsed.iter_attachments()}
    assert sorted(got) == ["Late.csv", "Late.pdf"]
    assert run["xlsx_file_id"] is None
    for col, name in (("csv_file_id", "Late.csv"), ("pdf_file_id", "Late.pdf")):
        assert c.get(f"{API}/files/{run[col]}/content").content == got[name]
    assert got["Late.csv"].decode().splitlines() == ["invoice_date,sum_total_amount", "2026-11-02,120.50"]

    # the lost one: five refused attempts, then the run is failed with its error; its files stay
    run = _until(lambda: (r := _run_of(c, lost["id"])) and r["status"] == "failed" and r, 60, "the failed run")
    assert run["attempts"] == 5 and run["files_status"] == "stored" and run["csv_file_id"]
    assert run["error_message"].startswith("mail to lost@example.test, attempt 5 of 5, given up: ")
    assert "smtp" in run["error_message"].lower()
    (log,) = h.list_all(c, "notification_logs", {"recipient": "lost@example.test"})
    assert log["status"] == "failed"
    (job,) = [j for j in h.list_all(c, "jobs", {"kind": "reports.mail"})
              if h.as_obj(j["payload"])["log_id"] == log["id"]]
    assert job["attempts"] == 5
    # nothing reached the sink for it, and one scheduled run each
    assert not [m for m in sink.messages() if m["to"] == ["<lost@example.test>"]]
    assert len(h.list_all(c, "report_runs", {"report_id": lost["id"]})) == 1
    assert len(h.list_all(c, "report_runs", {"report_id": late["id"]})) == 1
