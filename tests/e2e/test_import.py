"""Bulk import (issue #12): POST /api/v1/<table>/import with CSV (a header
row of field names) or NDJSON. Every row goes through the table's create
path; all row errors come back at once; a dry run writes nothing; without
it every row or none is written, in one transaction, audited. Also
`opsbase import`. Both engines."""
import json
import uuid

import helpers as h

API = "/api/v1"
CSV = {"Content-Type": "text/csv"}
NDJSON = {"Content-Type": "application/x-ndjson"}


def _ours(client, word):
    return h.list_all(client, "customers", {"company_name.like": f"{word}*"})


def _bad_file(word, taken):
    return "\r\n".join([
        "company_name,customer_code,payment_terms,status,account_manager_id,age,credit_limit",
        f"{word} 1,{word}-A,30,active,,40,12.50",                 # 1 fine
        f"{word} 2,{word}-B,abc,active,,,",                       # 2 payment_terms not an integer
        f"{word} 3,{word}-C,30,bogus,,,",                         # 3 status not in the enum
        f"{word} 4,{word}-A,30,,,,",                              # 4 customer_code repeats row 1
        f"{word} 5,{taken},30,,,,",                               # 5 customer_code already stored
        f"{word} 6,{word}-F,30,,{uuid.uuid4()},,",                # 6 no such user
        f"{word} 7,{word}-G,30,,,200,",                           # 7 age over 150
        f'"{word} 8, quoted ""name""",{word}-H,1000,,,,',          # 8 payment_terms over 999
        f"{word} 9,{word}-I,0,inactive,,0,0",                     # 9 fine
    ]) + "\r\n"


def test_dry_run_reports_every_error_and_writes_nothing(new_tenant):
    t = new_tenant()
    word = h.uniq("imp")
    taken = h.create(t.owner, "customers", {"company_name": "stored", "customer_code": f"{word}-X"})["customer_code"]
    # changes only: listing customers leaves read rows (audited reads of personal data)
    audits = len([a for a in h.audit_rows(t.owner, entity_type="customers") if a["action"] != "read"])
    body = _bad_file(word, taken)
    r = t.owner.post(f"{API}/customers/import", params={"dry_run": "true"}, content=body, headers=CSV)
    rep = h.ok(r)
    assert rep["dry_run"] is True and rep["rows"] == 9 and rep["valid"] == 2 and rep["imported"] == 0
    got = {(e["row"], e["field"], e["code"]) for e in rep["errors"]}
    assert got == {(2, "payment_terms", "validation_failed"), (3, "status", "validation_failed"),
                   (4, "customer_code", "conflict"), (5, "customer_code", "conflict"),
                   (6, "account_manager_id", "unprocessable"), (7, "age", "validation_failed"),
                   (8, "payment_terms", "validation_failed")}, rep["errors"]
    assert all(e.get("message") for e in rep["errors"])
    assert _ours(t.owner, word) == []
    assert len([a for a in h.audit_rows(t.owner, entity_type="customers") if a["action"] != "read"]) == audits
    # without the dry run: none of the rows, 422 with the same report
    r = t.owner.post(f"{API}/customers/import", params={"dry_run": "false"}, content=body, headers=CSV)
    assert r.status_code == 422, h.show(r)
    rep2 = r.json()
    assert rep2["error"]["code"] == "unprocessable" and rep2["imported"] == 0
    assert {(e["row"], e["field"], e["code"]) for e in rep2["errors"]} == got
    assert _ours(t.owner, word) == []
    # the default is a dry run
    assert h.ok(t.owner.post(f"{API}/customers/import", content=body, headers=CSV))["dry_run"] is True
    assert _ours(t.owner, word) == []


def test_import_writes_all_rows_typed_and_audited(new_tenant):
    t = new_tenant()
    word = h.uniq("ok")
    lines = ["company_name,customer_code,payment_terms,credit_limit,custom_fields,notes"]
    for i in range(250):
        lines.append(f'{word} {i:03d},{word}-{i},{i % 100},{i}.25,"{{""n"": {i}}}","line1\nline2"')
    body = "\n".join(lines)  # LF line ends, a quoted cell with a newline, no trailing newline
    rep = h.ok(t.owner.post(f"{API}/customers/import", params={"dry_run": "true"}, content=body, headers=CSV))
    assert rep["valid"] == 250 and rep["errors"] == [] and _ours(t.owner, word) == []
    r = t.owner.post(f"{API}/customers/import", params={"dry_run": "false"}, content=body, headers=CSV)
    rep = h.ok(r, 201)
    assert rep == {"dry_run": False, "rows": 250, "valid": 250, "imported": 250, "errors": []}
    rows = sorted(_ours(t.owner, word), key=lambda c: c["company_name"])
    assert len(rows) == 250
    assert rows[7]["payment_terms"] == 7 and rows[7]["credit_limit"] == "7.25"
    assert h.as_obj(rows[7]["custom_fields"]) == {"n": 7} and rows[7]["notes"] == "line1\nline2"
    assert rows[7]["status"] == "active"  # an absent field takes its default
    audits = h.audit_rows(t.owner, entity_type="customers", action="create")
    assert {a["entity_id"] for a in audits} >= {c["id"] for c in rows}
    # the same file again: every code is taken now
    rep = h.ok(t.owner.post(f"{API}/customers/import", content=body, headers=CSV))
    assert rep["valid"] == 0 and len(rep["errors"]) == 250
    assert {e["code"] for e in rep["errors"]} == {"conflict"}


def test_ndjson_and_refusals(cli, login, new_tenant):
    t = new_tenant()
    word = h.uniq("nd")
    lines = [json.dumps({"company_name": f"{word} a", "payment_terms": 5}),
             "{not json",
             "",
             json.dumps({"company_name": f"{word} b", "nope": 1}),
             json.dumps({"company_name": f"{word} c", "customer_tier": "Premium"})]
    body = "\n".join(lines) + "\n"
    rep = h.ok(t.owner.post(f"{API}/customers/import", content=body, headers=NDJSON))
    assert rep["rows"] == 4 and rep["valid"] == 2
    assert {(e["row"], e["field"], e["code"]) for e in rep["errors"]} == {(2, None, "invalid_json"),
                                                                          (3, "nope", "unknown_field")}
    ok = "\n".join(l for l in lines if l.startswith("{\"")  and "nope" not in l)
    assert h.ok(t.owner.post(f"{API}/customers/import", params={"dry_run": "false"}, content=ok,
                             headers=NDJSON), 201)["imported"] == 2
    assert {c["company_name"] for c in _ours(t.owner, word)} == {f"{word} a", f"{word} c"}
    # refusals, all before anything is written
    h.expect_error(t.owner.post(f"{API}/customers/import", content="company_name,wat\nx,y\n", headers=CSV), 400,
                   "unknown_field", field="wat")
    h.expect_error(t.owner.post(f"{API}/customers/import", content='company_name\n"open\n', headers=CSV), 400,
                   "bad_request")
    h.expect_error(t.owner.post(f"{API}/customers/import", content="{}", headers={"Content-Type": "application/json"}),
                   415, "unsupported_media_type")
    h.expect_error(t.owner.post(f"{API}/customers/import", params={"dry_run": "maybe"}, content="company_name\n",
                                headers=CSV), 400, "invalid_query")
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    viewer = login(t.slug, email)
    h.expect_error(viewer.post(f"{API}/customers/import", content=f"company_name\n{word} v\n", headers=CSV), 403,
                   "forbidden")
    # read-only tables have no import route
    h.expect_error(t.owner.post(f"{API}/audit_logs/import", content="x\n", headers=CSV), 405, "method_not_allowed")
    assert len(_ours(t.owner, word)) == 2


def test_cli_import(cli, new_tenant, tmp_path):
    t = new_tenant()
    word = h.uniq("cli")
    good = tmp_path / "good.csv"
    good.write_text("company_name,customer_code\n" + "".join(f"{word} {i},{word}-{i}\n" for i in range(2500)))
    r = cli.run("import", "--tenant", t.slug, "--table", "customers", "--dry-run", good)
    assert "2500 rows, 2500 valid, 0 imported (dry run)" in r.stdout and "import: 2500 rows" in r.stderr
    assert _ours(t.owner, word) == []
    r = cli.run("import", "--tenant", t.slug, "--table", "customers", good)
    assert "2500 rows, 2500 valid, 2500 imported" in r.stdout
    assert "import: 1000 rows" in r.stderr  # the progress line
    assert len(_ours(t.owner, word)) == 2500
    bad = tmp_path / "bad.ndjson"
    bad.write_text(json.dumps({"company_name": f"{word} new"}) + "\n" +
                   json.dumps({"company_name": f"{word} dup", "customer_code": f"{word}-1"}) + "\n")
    r = cli.run("import", "--tenant", t.slug, "--table", "customers", bad, check=False)
    assert r.returncode == 1 and "row 2: customer_code: conflict" in r.stdout and "0 imported" in r.stdout
    assert len(_ours(t.owner, word)) == 2500
    r = cli.run("import", "--tenant", t.slug, "--table", "audit_logs", good, check=False)
    assert r.returncode != 0 and "takes imported rows" in r.stderr


def test_a_file_larger_than_a_json_body_comes_like_an_upload(new_tenant):
    """An import's body is streamed to disk like an upload's, so a file past the
    server's JSON body limit (1 MiB) is taken; the tenant's upload limit
    (security_settings.max_upload_bytes) bounds it instead, and a multipart
    form with a part named "file" works as well as a raw body."""
    t = new_tenant()
    word = h.uniq("big")
    note = "n" * 9000
    rows = [f"{word} {i},{word}-{i},{note}" for i in range(150)]
    body = "company_name,customer_code,notes\n" + "\n".join(rows) + "\n"
    assert len(body) > 1024 * 1024
    rep = h.ok(t.owner.post(f"{API}/customers/import", params={"dry_run": "false"}, content=body, headers=CSV), 201)
    assert rep["imported"] == 150 and rep["errors"] == []
    got = _ours(t.owner, word)
    assert len(got) == 150 and all(len(c["notes"]) == 9000 for c in got)
    # multipart: the part's type, or its name, says CSV or NDJSON
    w2 = h.uniq("mp")
    nd = "\n".join(json.dumps({"company_name": f"{w2} {i}", "customer_code": f"{w2}-{i}"}) for i in range(3))
    r = t.owner.post(f"{API}/customers/import", params={"dry_run": "false"},
                     files={"file": ("rows.ndjson", nd.encode(), "application/octet-stream")})
    assert h.ok(r, 201)["imported"] == 3 and len(_ours(t.owner, w2)) == 3
    h.expect_error(t.owner.post(f"{API}/customers/import", files={"file": ("rows.txt", b"a,b\n", "text/plain")}),
                   415, "unsupported_media_type")
    h.expect_error(t.owner.post(f"{API}/customers/import", files={"other": ("rows.csv", b"a\n", "text/csv")}),
                   400, "validation_failed")
    # past the tenant's upload limit: 413, nothing written
    sid = h.list_all(t.owner, "security_settings")[0]["id"]
    h.ok(t.owner.patch(f"{API}/security_settings/{sid}", json={"max_upload_bytes": 100_000}))
    w3 = h.uniq("cap")
    big = "company_name,customer_code,notes\n" + "\n".join(f"{w3} {i},{w3}-{i},{note}" for i in range(20)) + "\n"
    h.expect_error(t.owner.post(f"{API}/customers/import", params={"dry_run": "false"}, content=big, headers=CSV),
                   413, "payload_too_large")
    assert _ours(t.owner, w3) == []
