"""Export (issue #12): GET /api/v1/<table>/export streams every row the list
would give, as the caller sees them, in CSV (RFC 4180, formula cells
defused) or JSON, under the tenant's security settings, with an export_logs
row each time. Both engines."""
import csv
import io

import helpers as h

API = "/api/v1"


def _csv(r):
    assert r.status_code == 200, h.show(r)
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(r.text)))


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
    h.expect_error(t.owner.get(f"{API}/customers/export", params={"format": "pdf"}), 400, "invalid_query")
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
