"""PDF exports (issue #12): format=pdf writes the rows as a table with
libharu, every page headed by the title, the filters, the generation time
and the watermark line, and numbered "Page i of n" at its foot. The streams
are uncompressed, so the test reads the text operators. Both engines."""
import re

import helpers as h

API = "/api/v1"


def _pdf(r):
    assert r.status_code == 200, h.show(r)
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-") and r.content.rstrip().endswith(b"%%EOF")
    return r.content


def _pages(pdf):
    return len(re.findall(rb"/Type /Page(?!s)", pdf))


def _shown(pdf):
    """Every string a text operator shows, unescaped."""
    def unescape(s):
        s = re.sub(rb"\\([0-7]{1,3})", lambda m: bytes([int(m.group(1), 8)]), s)
        return re.sub(rb"\\(.)", rb"\1", s).decode("latin-1")
    return [unescape(s) for s in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", pdf)]


def test_pdf_table_with_header_watermark_and_page_numbers(cli, login, new_tenant):
    t = new_tenant()
    word = h.uniq("pdf")
    for i in range(100):
        h.create(t.owner, "customers", {"company_name": f"{word} {i:03d}", "email": f"c{i}@{word}.test"})
    h.create(t.owner, "customers", {"company_name": f"{word} Café"})
    r = t.owner.get(f"{API}/customers/export", params={"format": "pdf", "company_name.like": f"{word}*",
                                                       "sort": "company_name", "columns": "company_name,email"})
    pdf = _pdf(r)
    assert r.headers["content-disposition"] == 'attachment; filename="customers.pdf"'
    assert r.headers["x-export-rows"] == "101"
    shown = _shown(pdf)
    # 40 rows fit a landscape A4 page under the header: 101 rows are 3 pages
    assert _pages(pdf) == 3
    assert [s for s in shown if s.startswith("Page ")] == ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"]
    assert shown.count(f"Export of customers, tenant {t.slug}") == 3
    assert shown.count(f"Filters: company_name.like={word}* & sort=company_name") == 3
    assert len([s for s in shown if re.fullmatch(r"Generated: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z UTC", s)]) == 3
    marks = [s for s in shown if s.startswith(f"Exported by owner@{t.slug}.test")]
    assert len(marks) == 3 and f"from tenant {t.slug}" in marks[0]
    assert shown.count("company_name") == 3 and shown.count("email") == 3
    names = [s for s in shown if s.startswith(word)]
    assert names[:100] == [f"{word} {i:03d}" for i in range(100)]
    assert names[100] == f"{word} Caf?"  # outside printable ASCII: '?'
    log = [l for l in h.list_all(t.owner, "export_logs") if l["file_format"] == "pdf"]
    assert len(log) == 1 and log[0]["row_count"] == 101 and log[0]["file_size_bytes"] == len(pdf)
    assert log[0]["watermark_text"] == marks[0]


def test_pdf_masking_no_watermark_and_empty(cli, login, new_tenant):
    t = new_tenant()
    c = h.create(t.owner, "customers", {"company_name": h.uniq("m"), "email": "someone@example.test"})
    email = f"analyst@{t.slug}.test"
    cli.user_create(t.slug, email, "analyst")
    analyst = login(t.slug, email)
    seen = h.get(analyst, "customers", c["id"])["email"]  # as the analyst's list shows it
    shown = _shown(_pdf(analyst.get(f"{API}/customers/export", params={"format": "pdf", "id": c["id"],
                                                                       "columns": "company_name,email"})))
    assert seen in shown and c["company_name"] in shown
    # without require_watermark: no watermark line; no rows: one page, still numbered
    s = h.list_all(t.owner, "security_settings")[0]
    h.ok(t.owner.patch(f"{API}/security_settings/{s['id']}", json={"require_watermark": False}))
    pdf = _pdf(t.owner.get(f"{API}/customers/export", params={"format": "pdf", "company_name": "none such"}))
    shown = _shown(pdf)
    assert _pages(pdf) == 1 and "Page 1 of 1" in shown and "Filters: company_name=none such" in shown
    assert not [x for x in shown if x.startswith("Exported by")]
    # a spreadsheet-kind export: pdf of orders is orders_excel
    role = h.find_role_id(t.owner, "analyst")
    h.create(t.owner, "role_security_settings", {"role_id": role, "allowed_exports": ["orders_csv"]})
    h.expect_error(analyst.get(f"{API}/orders/export", params={"format": "pdf"}), 403, "forbidden")
    assert analyst.get(f"{API}/orders/export", params={"format": "csv"}).status_code == 200


def test_pdf_through_approval(cli, login, new_tenant):
    t = new_tenant()
    for i in range(3):
        h.create(t.owner, "customers", {"company_name": f"appr {i}"})
    s = h.list_all(t.owner, "security_settings")[0]
    h.ok(t.owner.patch(f"{API}/security_settings/{s['id']}", json={"require_approval_threshold": 2}))
    r = t.owner.get(f"{API}/customers/export", params={"format": "pdf", "columns": "company_name"})
    assert r.status_code == 202, h.show(r)
    p = r.json()
    h.ok(t.owner.post(f"{API}/export_logs/{p['id']}/approve", json={}))
    import time
    deadline = time.monotonic() + h.WAIT_S
    while h.get(t.owner, "export_logs", p["id"])["status"] != "completed":
        assert time.monotonic() < deadline, "the export's job did not finish"
        time.sleep(0.1)
    pdf = _pdf(t.owner.get(f"{API}/export_logs/{p['id']}/download", params={"token": p["download_token"]}))
    shown = _shown(pdf)
    assert {"appr 0", "appr 1", "appr 2"} <= set(shown) and "Page 1 of 1" in shown


def test_inventory_report_as_pdf(server, cli, login):
    import datetime as dt
    import uuid
    import stock_helpers as s
    from test_stock_metrics import run_job
    slug = "pdfr-" + uuid.uuid4().hex[:8]
    cli.tenant_create(slug)
    c = login(slug, f"owner@{slug}.test", h.OWNER_PASSWORD)
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    wh = s.warehouse(c)
    inv = s.inventory(c, product_id=s.product(c, cost_price="10.00")["id"], warehouse_id=wh["id"])
    for kind, q in (("purchase", 50), ("sale", -5)):
        h.ok(c.post(f"{API}/inventory_transactions",
                    json={"inventory_id": inv["id"], "transaction_type": kind, "quantity": q}), 201)
    run_job(server, slug, c, {"date": today})
    day = h.ok(c.get(f"{API}/reports/inventory", params={"from": today, "to": today}))["days"][0]
    pdf = _pdf(c.get(f"{API}/reports/inventory", params={"from": today, "to": today, "format": "pdf"}))
    shown = _shown(pdf)
    assert _pages(pdf) == 1 and "Page 1 of 1" in shown
    assert f"Inventory report, tenant {slug}" in shown and f"Filters: from={today} & to={today}" in shown
    assert [x for x in shown if x.startswith(f"Exported by owner@{slug}.test")]
    i = shown.index(today)
    assert shown[i:i + 6] == [today, str(day["units_sold"]), str(day["units_received"]), str(day["stock_outs"]),
                              day["inventory_value"], day["turnover"]]
    h.expect_error(c.get(f"{API}/reports/inventory", params={"from": today, "to": today, "format": "xlsx"}), 400,
                   "invalid_query")
