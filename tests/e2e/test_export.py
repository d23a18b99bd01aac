"""Export (issue #12): GET /api/v1/<table>/export streams every row the list
would give, as the caller sees them, in CSV (RFC 4180, formula cells
defused), XLSX (typed cells, text as inert string cells) or JSON, under the tenant's security settings, with an export_logs
row each time. Both engines."""
import csv
import io
import re
import zipfile
import xml.etree.ElementTree as ET

import helpers as h

API = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _col(ref):
    n = 0
    for ch in re.match(r"[A-Z]+", ref).group(0):
        n = n * 26 + ord(ch) - 64
    return n - 1


def _xlsx(r):
    """The first sheet as rows of (kind, value, number format) cells, read
    with zipfile and ElementTree: kind is 's' (string), 'n' (number), 'b'
    (boolean) or 'f' (a formula, which an export must never hold)."""
    assert r.status_code == 200, h.show(r)
    assert r.headers["content-type"] == XLSX
    z = zipfile.ZipFile(io.BytesIO(r.content))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
            shared.append("".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")))
    styles = ET.fromstring(z.read("xl/styles.xml"))
    fmts = {int(f.get("numFmtId")): f.get("formatCode") for f in styles.findall("m:numFmts/m:numFmt", NS)}
    xfs = [fmts.get(int(x.get("numFmtId", "0"))) for x in styles.findall("m:cellXfs/m:xf", NS)]
    rows = []
    for row in ET.fromstring(z.read("xl/worksheets/sheet1.xml")).findall("m:sheetData/m:row", NS):
        cells = {}
        for c in row.findall("m:c", NS):
            t, v = c.get("t", "n"), c.find("m:v", NS)
            fmt = xfs[int(c.get("s", "0"))]
            if c.find("m:f", NS) is not None:
                cells[_col(c.get("r"))] = ("f", None, fmt)
            elif t == "inlineStr":
                cells[_col(c.get("r"))] = ("s", "".join(x.text or "" for x in c.iter(f"{{{NS['m']}}}t")), fmt)
            elif t == "s":
                cells[_col(c.get("r"))] = ("s", shared[int(v.text)], fmt)
            elif t == "b":
                cells[_col(c.get("r"))] = ("b", v.text == "1", fmt)
            else:
                cells[_col(c.get("r"))] = ("n", v.text, fmt)
        rows.append([cells.get(i) for i in range(max(cells) + 1)] if cells else [])
    return rows


def _csv(r):
    """The rows after the watermark row (a tenant's default asks for one)."""
    assert r.status_code == 200, h.show(r)
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert len(rows[0]) == 1 and rows[0][0].startswith("Exported by "), rows[0]
    return rows[1:]


def test_csv_and_json_with_filters_columns_and_log(new_tenant):
    t = new_tenant()
    word = h.uniq("exp")
    names = [f"{word} {i}" for i in range(450)]  # more than two pages
    for n in names:
        h.create(t.owner, "customers", {"company_name": n})
    h.create(t.owner, "customers", {"company_name": "=HYPERLINK(\"http://evil\")", "notes": 'a "quoted", value'})
    r = t.owner.get(f"{API}/customers/export", params={"company_name.like": f"{word}*", "sort": "company_name",
                                                        "columns": "company_name,email"})
    rows = _csv(r)
    assert rows[0] == ["company_name", "email"]
    assert [x[0] for x in rows[1:]] == sorted(names)
    assert r.headers["x-export-rows"] == "450"
    assert r.headers["content-disposition"] == 'attachment; filename="customers.csv"'

    # formula injection: the cell is quoted and starts with a quote; RFC 4180 quoting of " and ,
    r = t.owner.get(f"{API}/customers/export", params={"company_name.like": "=HYPER*", "columns": "company_name,notes"})
    assert '"\'=HYPERLINK(""http://evil"")"' in r.text
    assert _csv(r)[1] == ["'=HYPERLINK(\"http://evil\")", 'a "quoted", value']

    r = t.owner.get(f"{API}/customers/export", params={"format": "json", "company_name.like": f"{word}*"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    data = r.json()
    assert len(data) == 450 and {d["company_name"] for d in data} == set(names)
    assert "id" in data[0] and "created_at" in data[0]

    logs = h.list_all(t.owner, "export_logs")
    assert len(logs) == 3
    first = [l for l in logs if l["file_format"] == "csv" and l["row_count"] == 450][0]
    assert first["export_type"] == "customers" and first["user_id"] == t.owner.user["id"]
    assert h.as_obj(first["columns_exported"]) == ["company_name", "email"]
    assert h.as_obj(first["filters_applied"]) == {"company_name.like": f"{word}*", "sort": "company_name"}
    assert first["file_size_bytes"] > 0 and first["status"] == "completed"


def test_masking_and_hidden_columns_follow_the_caller(cli, login, new_tenant):
    t = new_tenant()
    c = h.create(t.owner, "customers", {"company_name": h.uniq("m"), "email": "someone@example.test"})
    email = f"analyst@{t.slug}.test"
    cli.user_create(t.slug, email, "analyst")
    analyst = login(t.slug, email)
    # the analyst's list masks the email: the export does too
    listed = h.get(analyst, "customers", c["id"])
    got = analyst.get(f"{API}/customers/export", params={"format": "json", "id": c["id"]})
    assert got.status_code == 200, h.show(got)
    assert got.json()[0]["email"] == listed["email"]
    # secret columns are never exported, and cannot be asked for
    h.expect_error(t.owner.get(f"{API}/users/export", params={"columns": "password_hash"}), 400, "invalid_query")
    assert "password_hash" not in t.owner.get(f"{API}/users/export", params={"format": "json"}).json()[0]


def test_permissions_and_settings(cli, login, new_tenant):
    t = new_tenant()
    h.create(t.owner, "customers", {"company_name": h.uniq("p")})
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    viewer = login(t.slug, email)
    # a viewer reads customers but holds no export permission
    h.expect_error(viewer.get(f"{API}/customers/export"), 403, "forbidden")
    h.expect_error(t.owner.get(f"{API}/customers/export", params={"format": "doc"}), 400, "invalid_query")
    h.expect_error(t.owner.get(f"{API}/customers/export", params={"nope": "1"}), 400, "invalid_query")

    settings = h.list_all(t.owner, "security_settings")[0]
    url = f"{API}/security_settings/{settings['id']}"
    h.ok(t.owner.patch(url, json={"export_enabled": False}))
    e = h.expect_error(t.owner.get(f"{API}/customers/export"), 403, "forbidden")
    assert "disabled" in e["message"]
    h.ok(t.owner.patch(url, json={"export_enabled": True, "max_export_rows": 2}))
    for _ in range(2):
        h.create(t.owner, "customers", {"company_name": h.uniq("p")})
    e = h.expect_error(t.owner.get(f"{API}/customers/export"), 403, "forbidden")
    assert "more than 2 rows" in e["message"]
    v = h.list_all(t.owner, "security_violations")
    assert [x["violation_type"] for x in v] == ["export_row_limit"] and v[0]["user_id"] == t.owner.user["id"]
    assert h.list_all(t.owner, "export_logs") == []
    # a day's exports
    h.ok(t.owner.patch(url, json={"max_export_rows": 1000, "max_exports_per_day": 2}))
    for _ in range(2):
        assert t.owner.get(f"{API}/customers/export").status_code == 200
    e = h.expect_error(t.owner.get(f"{API}/customers/export"), 403, "forbidden")
    assert "2 exports a day" in e["message"]
    assert len(h.list_all(t.owner, "export_logs")) == 2


def test_customer_user_exports_only_their_rows(cli, login, acme_owner):
    c1, c2 = h.create_customer(acme_owner), h.create_customer(acme_owner)
    t1 = h.create_ticket(acme_owner, c1["id"])
    h.create_ticket(acme_owner, c2["id"])
    email = h.uniq("portal") + "@acme.test"
    cli.user_create("acme", email, "customer")
    uid = h.user_id_by_email(acme_owner, email)
    h.ok(acme_owner.patch(f"{API}/users/{uid}", json={"customer_id": c1["id"]}))
    portal = login("acme", email)
    # customers hold no export permission by default
    h.expect_error(portal.get(f"{API}/tickets/export"), 403, "forbidden")
    assert t1["customer_id"] == c1["id"]


def test_xlsx_typed_cells_pages_and_log(new_tenant):
    t = new_tenant()
    word = h.uniq("xl")
    names = [f"{word} {i:03d}" for i in range(230)]  # more than one page of the list
    for i, n in enumerate(names):
        h.create(t.owner, "customers", {"company_name": n, "credit_limit": f"{i}.05", "payment_terms": i % 90})
    h.create(t.owner, "customers", {"company_name": f"{word} big", "credit_limit": "1234567890123456.78"})
    h.create(t.owner, "customers", {"company_name": f"{word} =HYPERLINK(\"http://evil\")",
                                    "notes": "-2+3", "credit_limit": "0"})
    r = t.owner.get(f"{API}/customers/export", params={"format": "xlsx", "company_name.like": f"{word}*",
                                                        "sort": "company_name",
                                                        "columns": "company_name,credit_limit,payment_terms,notes"})
    rows = _xlsx(r)
    assert r.headers["content-disposition"] == 'attachment; filename="customers.xlsx"'
    assert r.headers["x-export-rows"] == "232"
    assert [c[:2] for c in rows[0]] == [("s", "company_name"), ("s", "credit_limit"), ("s", "payment_terms"),
                                         ("s", "notes")]
    body = rows[1:]
    assert len(body) == 232
    assert [x[0][1] for x in body] == sorted(names + [f"{word} big", f"{word} =HYPERLINK(\"http://evil\")"])
    # a decimal is a number shown at its column's scale, an int a number
    first = body[0]
    assert first[0] == ("s", names[0], None)
    assert first[1][0] == "n" and float(first[1][1]) == 0.05 and first[1][2] == "0.00"
    assert first[2][:2] == ("n", "0") and first[2][2] == "0"
    assert len(first) == 3  # notes is null: no cell
    row7 = body[7]
    assert row7[1][0] == "n" and f"{float(row7[1][1]):.2f}" == "7.05" and row7[2][1] == "7"
    # more digits than a double keeps: the exact decimal as text
    big = [x for x in body if x[0][1] == f"{word} big"][0]
    assert big[1][:2] == ("s", "1234567890123456.78")
    # text is a string cell, never a formula, and kept as it is
    evil = [x for x in body if "HYPERLINK" in x[0][1]][0]
    assert evil[0][:2] == ("s", f"{word} =HYPERLINK(\"http://evil\")")
    assert evil[3][:2] == ("s", "-2+3")
    assert all(c is None or c[0] != "f" for x in rows for c in x)

    logs = [l for l in h.list_all(t.owner, "export_logs") if l["file_format"] == "xlsx"]
    assert len(logs) == 1
    log = logs[0]
    assert log["row_count"] == 232 and log["file_size_bytes"] == len(r.content)
    assert log["export_type"] == "customers" and log["user_id"] == t.owner.user["id"]
    assert log["status"] == "completed"
    assert h.as_obj(log["columns_exported"]) == ["company_name", "credit_limit", "payment_terms", "notes"]

    # an empty export is a header row only
    rows = _xlsx(t.owner.get(f"{API}/customers/export", params={"format": "xlsx", "company_name": "no such",
                                                                  "columns": "company_name"}))
    assert rows == [[("s", "company_name", None)]]


def test_xlsx_masking_and_refusals(cli, login, new_tenant):
    t = new_tenant()
    c = h.create(t.owner, "customers", {"company_name": h.uniq("xm"), "email": "someone@example.test"})
    email = f"analyst@{t.slug}.test"
    cli.user_create(t.slug, email, "analyst")
    analyst = login(t.slug, email)
    listed = h.get(analyst, "customers", c["id"])
    rows = _xlsx(analyst.get(f"{API}/customers/export", params={"format": "xlsx", "id": c["id"],
                                                                "columns": "company_name,email"}))
    assert rows[1][1][:2] == ("s", listed["email"])  # as the caller's list shows it
    # staff-only and secret columns cannot be asked for
    h.expect_error(t.owner.get(f"{API}/users/export", params={"format": "xlsx", "columns": "password_hash"}),
                   400, "invalid_query")
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    viewer = login(t.slug, email)
    h.expect_error(viewer.get(f"{API}/customers/export", params={"format": "xlsx"}), 403, "forbidden")
    h.expect_error(t.owner.get(f"{API}/customers/export", params={"format": "XLSX"}), 400, "invalid_query")

    settings = h.list_all(t.owner, "security_settings")[0]
    url = f"{API}/security_settings/{settings['id']}"
    h.ok(t.owner.patch(url, json={"export_enabled": False}))
    h.expect_error(t.owner.get(f"{API}/customers/export", params={"format": "xlsx"}), 403, "forbidden")
    h.ok(t.owner.patch(url, json={"export_enabled": True, "max_export_rows": 1}))
    h.create(t.owner, "customers", {"company_name": h.uniq("xm")})
    e = h.expect_error(t.owner.get(f"{API}/customers/export", params={"format": "xlsx"}), 403, "forbidden")
    assert "more than 1 rows" in e["message"]
    v = h.list_all(t.owner, "security_violations")
    assert [x["violation_type"] for x in v] == ["export_row_limit"]
    # only the analyst's export was logged
    logs = h.list_all(t.owner, "export_logs")
    assert len(logs) == 1 and logs[0]["file_format"] == "xlsx" and logs[0]["user_id"] != t.owner.user["id"]


def test_watermark_when_the_tenant_asks_for_it(new_tenant):
    t = new_tenant()
    h.create(t.owner, "customers", {"company_name": h.uniq("wm")})
    me = t.owner.user
    r = t.owner.get(f"{API}/customers/export", params={"columns": "company_name"})
    assert r.status_code == 200, h.show(r)
    first = list(csv.reader(io.StringIO(r.text)))[0]
    m = re.fullmatch(r"Exported by (\S+) \(user (\S+)\) from tenant (\S+) at (\S+)", first[0])
    assert m and m.group(1) == me["email"] and m.group(2) == me["id"] and m.group(3) == t.slug
    stamp = h.parse_ts(m.group(4))
    assert stamp.utcoffset().total_seconds() == 0
    # XLSX: in the sheet's page header; the first row stays the column names
    x = t.owner.get(f"{API}/customers/export", params={"format": "xlsx", "columns": "company_name"})
    assert _xlsx(x)[0] == [("s", "company_name", None)]
    sheet = ET.fromstring(zipfile.ZipFile(io.BytesIO(x.content)).read("xl/worksheets/sheet1.xml"))
    head = sheet.find("m:headerFooter/m:oddHeader", NS).text
    assert head.startswith("&L") and f"Exported by {me['email']} (user {me['id']}) from tenant {t.slug}" in head
    logs = sorted(h.list_all(t.owner, "export_logs"), key=lambda l: l["created_at"])
    assert [l["watermark_text"] for l in logs] == [first[0], head[2:]]

    settings = h.list_all(t.owner, "security_settings")[0]
    h.ok(t.owner.patch(f"{API}/security_settings/{settings['id']}", json={"require_watermark": False}))
    r = t.owner.get(f"{API}/customers/export", params={"columns": "company_name"})
    assert list(csv.reader(io.StringIO(r.text)))[0] == ["company_name"]
    x = t.owner.get(f"{API}/customers/export", params={"format": "xlsx", "columns": "company_name"})
    sheet = ET.fromstring(zipfile.ZipFile(io.BytesIO(x.content)).read("xl/worksheets/sheet1.xml"))
    assert sheet.find("m:headerFooter/m:oddHeader", NS) is None
    logs = h.list_all(t.owner, "export_logs")
    assert len(logs) == 4 and sum(1 for l in logs if l["watermark_text"] is None) == 2
