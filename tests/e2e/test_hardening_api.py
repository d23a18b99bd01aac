"""Regression tests of the API contract: what the OpenAPI document declares is what
the server does. Each test is named after the defect it pins down."""
import json
import subprocess
import unicodedata

import helpers as h

API = "/api/v1"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ORDER = ("GET", "POST", "PATCH", "DELETE")  # the order an Allow header lists them
PROBE_BODY = {"__probe__": 1}  # an unknown field: refused before anything is written


def _doc(anon):
    return h.ok(anon.get("/api/openapi.json"))


def _schema(opsbase_bin):
    r = subprocess.run([str(opsbase_bin), "schema", "--json"], capture_output=True, text=True,
                       timeout=h.CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return {t["name"]: t for t in json.loads(r.stdout)["tables"]}


def _allow(methods):
    return ", ".join(m for m in ORDER if m in methods)


def _send(client, method, path):
    if method in ("POST", "PUT", "PATCH"):
        return client.request(method, path, json=PROBE_BODY)
    return client.request(method, path)


# ---- 16: declared operations, routing and Allow come from one rule ----------

def test_openapi_declares_only_callable_operations_and_405_allow_is_true(anon, acme_owner, opsbase_bin):
    """The document declared DELETE on append-only tables the server refused, and a
    405 advertised methods that were themselves refused. Every declared operation
    must be routed (never 405) and every other method must be a 405 whose Allow
    lists exactly the declared ones; `opsbase schema --json` says the same."""
    doc = _doc(anon)
    schema = _schema(opsbase_bin)
    checked = 0
    for table, meta in schema.items():
        if not meta["api"] or meta["database"] != "tenant":
            continue
        for path, route in ((f"{API}/{table}", "collection"), (f"{API}/{table}/{{id}}", "record")):
            declared = {m.upper() for m in doc["paths"][path] if m.upper() in METHODS}
            assert declared == set(meta["methods"][route]), (path, declared, meta["methods"])
            url = path.replace("{id}", h.MISSING_ID)
            for m in METHODS:
                r = _send(acme_owner, m, url)
                if m in declared:
                    assert r.status_code != 405, h.show(r)
                else:
                    h.expect_error(r, 405, "method_not_allowed")
                    assert r.headers.get("Allow") == _allow(declared), (h.show(r), r.headers.get("Allow"))
                checked += 1
    assert checked > 300


def test_append_only_tables_refuse_patch_put_and_delete(anon, acme_owner, opsbase_bin):
    """DELETE on an append-only table was 405 on some (inventory_transactions) and
    200 on others (tracking_events, payment_transactions, revenue_records,
    ndr_remarks, ...); a PATCH there advertised Allow: GET, DELETE."""
    schema = _schema(opsbase_bin)
    doc = _doc(anon)
    facts = ["tracking_events", "payment_transactions", "revenue_records", "ndr_remarks",
             "inventory_transactions", "analytics_events", "accounting_entries", "customer_loyalty_points"]
    for table in facts:
        assert schema[table]["append_only"], table
        ops = doc["paths"][f"{API}/{table}/{{id}}"]
        assert "delete" not in ops and "patch" not in ops, (table, sorted(ops))
        for m in ("PATCH", "PUT", "DELETE"):
            r = _send(acme_owner, m, f"{API}/{table}/{h.MISSING_ID}")
            h.expect_error(r, 405, "method_not_allowed")
            assert r.headers["Allow"] == "GET", (table, m, r.headers["Allow"])


def test_append_only_ledger_row_survives_delete(acme_owner):
    """A real append-only row: DELETE is refused and the row is still there."""
    cust = h.create_customer(acme_owner)
    row = h.create(acme_owner, "customer_loyalty_points",
                   {"customer_id": cust["id"], "points": 10, "transaction_type": "earned"})
    r = acme_owner.delete(f"{API}/customer_loyalty_points/{row['id']}")
    h.expect_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET"
    assert h.get(acme_owner, "customer_loyalty_points", row["id"])["id"] == row["id"]


def test_link_tables_keep_delete_and_say_so(anon, acme_owner):
    """Links between records (role_permissions, customer_tag_assignments,
    document_categories) are append-only rows that may be undone: DELETE is
    declared and routed, PATCH is a 405 with Allow: GET, DELETE."""
    doc = _doc(anon)
    cust = h.create_customer(acme_owner)
    tag = h.create(acme_owner, "customer_tags", {"name": h.uniq("tag-")})
    link = h.create(acme_owner, "customer_tag_assignments", {"customer_id": cust["id"], "tag_id": tag["id"]})
    for table in ("role_permissions", "customer_tag_assignments", "document_categories"):
        ops = doc["paths"][f"{API}/{table}/{{id}}"]
        assert set(ops) >= {"get", "delete"} and "patch" not in ops, (table, sorted(ops))
    r = acme_owner.patch(f"{API}/customer_tag_assignments/{link['id']}", json={})
    h.expect_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET, DELETE"
    h.ok(acme_owner.delete(f"{API}/customer_tag_assignments/{link['id']}"))
    h.expect_error(acme_owner.get(f"{API}/customer_tag_assignments/{link['id']}"), 404, "not_found")


def test_verb_route_allows_post_only(acme_owner):
    t = h.create_ticket(acme_owner, h.create_customer(acme_owner)["id"])
    r = acme_owner.get(f"{API}/tickets/{t['id']}/assign")
    h.expect_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "POST"


# ---- 18: integer-valued numbers and numbers too large ------------------------

def _raw_post(client, path, text):
    return client.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


def test_integer_valued_number_is_accepted_for_integer_column(acme_owner):
    """{"payment_terms": 30.0} was refused: 30.0 is the integer 30 in JSON."""
    c = h.create_customer(acme_owner, payment_terms=45.0)
    assert c["payment_terms"] == 45 and isinstance(c["payment_terms"], int)
    r = _raw_post(acme_owner, f"{API}/customers",
                  '{"customer_code": "%s", "company_name": "x", "payment_terms": 3e1}' % h.uniq("C-"))
    assert h.ok(r, 201)["payment_terms"] == 30
    c2 = h.ok(acme_owner.patch(f"{API}/customers/{c['id']}", json={"payment_terms": 60.0}))
    assert c2["payment_terms"] == 60
    # a fraction is still not an integer, and the range still applies
    h.expect_error(acme_owner.patch(f"{API}/customers/{c['id']}", json={"payment_terms": 30.5}),
                   400, "validation_failed", field="payment_terms")
    h.expect_error(acme_owner.patch(f"{API}/customers/{c['id']}", json={"payment_terms": 1000.0}),
                   400, "validation_failed", field="payment_terms")
    assert h.get(acme_owner, "customers", c["id"])["payment_terms"] == 60


def test_too_large_integer_is_a_field_error_not_invalid_json(acme_owner):
    """A number beyond 64 bits made the whole body invalid_json; it is well-formed
    JSON, so the field it was given for is named instead."""
    code = h.uniq("C-")
    for big in ("99999999999999999999999", "-99999999999999999999999", "9223372036854775808"):
        r = _raw_post(acme_owner, f"{API}/customers",
                      '{"customer_code": "%s", "company_name": "x", "payment_terms": %s}' % (code, big))
        e = h.expect_error(r, 400, "validation_failed", field="payment_terms")
        assert set(h.error_fields(e)) == {"payment_terms"}, e
    # beyond 2^53 a double names no single integer: refused, never rounded
    r = _raw_post(acme_owner, f"{API}/customers",
                  '{"customer_code": "%s", "company_name": "x", "payment_terms": 1e300}' % code)
    h.expect_error(r, 400, "validation_failed", field="payment_terms")
    assert h.rows_where(acme_owner, "customers", customer_code=code) == []
    # text that is not JSON stays invalid_json
    h.expect_error(_raw_post(acme_owner, f"{API}/customers", '{"payment_terms": 30.}'), 400, "invalid_json")


# ---- 21: coordinates have ranges ---------------------------------------------

def test_latitude_longitude_out_of_range_are_refused(acme_owner, anon):
    """latitude and longitude accepted any number (1e300)."""
    w = h.create(acme_owner, "warehouses", {"name": h.uniq("WH "), "latitude": -90, "longitude": 180.0})
    assert (w["latitude"], w["longitude"]) == (-90, 180)
    for field, bad in (("latitude", 1e300), ("latitude", 90.0001), ("latitude", -91),
                       ("longitude", -180.5), ("longitude", 181)):
        r = acme_owner.patch(f"{API}/warehouses/{w['id']}", json={field: bad})
        h.expect_error(r, 400, "validation_failed", field=field)
    assert h.get(acme_owner, "warehouses", w["id"])["latitude"] == -90
    h.ok(acme_owner.patch(f"{API}/warehouses/{w['id']}", json={"latitude": 51.5, "longitude": -0.12}))
    # the document says the same for every coordinate column
    schemas = _doc(anon)["components"]["schemas"]
    seen = 0
    for name, s in schemas.items():
        for col, (lo, hi) in (("latitude", (-90, 90)), ("longitude", (-180, 180))):
            prop = s.get("properties", {}).get(col)
            if prop:
                assert (prop.get("minimum"), prop.get("maximum")) == (lo, hi), (name, col, prop)
                seen += 1
    assert seen >= 8  # warehouses and tracking_events: record, create and update bodies


# ---- 20: case-insensitive text is folded by Unicode, not only ASCII ---------

def test_unicode_email_case_and_nfc_are_one_user(cli, server, acme_owner):
    """ÄRGER@x.test and ärger@x.test were two users: only ASCII was lower-cased."""
    local = h.uniq("rger")
    upper = f"\u00c4{local.upper()}@X.TEST"
    lower = f"\u00e4{local}@x.test"
    decomposed = unicodedata.normalize("NFD", upper)  # A + U+0308
    assert decomposed != upper
    cli.user_create("acme", upper, "viewer")
    for other in (lower, decomposed):
        r = cli.user_create("acme", other, "viewer", check=False)
        assert r.returncode != 0, (other, r.stdout, r.stderr)
    users = h.rows_where(acme_owner, "users", email=decomposed)
    assert [u["email"] for u in users] == [lower]
    # every spelling signs in as the one user
    for spelling in (upper, lower, decomposed):
        r = h.login_raw(server.url, "acme", spelling, h.USER_PASSWORD)
        assert r.status_code == 200, (spelling, h.show(r))
        assert r.json()["user"]["id"] == users[0]["id"]


def test_unicode_case_insensitive_columns_store_and_filter_folded(acme_owner):
    """Every OB_LOWER column (here customers.email) stores the folded NFC form
    and its filters fold the same way."""
    local = h.uniq("\u00d6ZTURK-\u03a3")  # Ö ... Σ
    c = h.create_customer(acme_owner, email=unicodedata.normalize("NFD", f"{local}@B\u00dcRO.TEST"))
    want = unicodedata.normalize("NFC", f"{local}@b\u00fcro.test".lower())
    assert c["email"] == want, (c["email"], want)
    assert [r["id"] for r in h.rows_where(acme_owner, "customers", email=f"{local}@B\u00dcRO.test")] == [c["id"]]


# ---- 17: an idempotent replay is the first response, headers included -------

def _post_key(client, path, body, key):
    return client.post(path, json=body, headers={"Idempotency-Key": key})


def test_idempotent_replay_keeps_etag_and_location(acme_owner):
    """A replay returned the first body and status but dropped ETag and Location."""
    key = h.uniq("idem-")
    body = {"customer_code": h.uniq("C-"), "company_name": "Replay Ltd"}
    first = _post_key(acme_owner, f"{API}/customers", body, key)
    h.ok(first, 201)
    assert first.headers["ETag"] == '"1"' and first.headers["Location"].endswith(f"/customers/{first.json()['id']}")
    assert "Idempotent-Replayed" not in first.headers
    again = _post_key(acme_owner, f"{API}/customers", body, key)
    assert again.status_code == 201 and again.json() == first.json(), h.show(again)
    assert again.headers["Idempotent-Replayed"] == "true"
    for name in ("ETag", "Location"):
        assert again.headers.get(name) == first.headers[name], (name, dict(again.headers))
    # an action replays its ETag too, although the record has moved on since
    t = h.create_ticket(acme_owner, first.json()["id"])
    key2 = h.uniq("idem-")
    a1 = _post_key(acme_owner, f"{API}/tickets/{t['id']}/assign", {}, key2)
    h.ok(a1)
    h.ok(acme_owner.patch(f"{API}/tickets/{t['id']}", json={"title": "moved on"}))
    a2 = _post_key(acme_owner, f"{API}/tickets/{t['id']}/assign", {}, key2)
    assert a2.status_code == 200 and a2.headers["ETag"] == a1.headers["ETag"] and a2.json() == a1.json()
    assert "Location" not in a2.headers


def _tenant_sql(server, slug, statements):
    """Run SQL in one tenant's database on the session's engine."""
    if server.engine == "sqlite":
        with h.sqlite_db(server.data / "tenants" / f"{slug}.db") as c:
            for s in statements:
                c.execute(s)
        return
    import conftest
    schema = "tenant_" + slug.replace("-", "_")
    sql = f"SET search_path TO {schema}; " + "; ".join(statements)
    r = subprocess.run([f"{conftest._pg_bindir()}/psql", server.db_url, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


# What schema version 3 added (the stock issue), undone in reverse.
VERSION_3_UNDO = [
    "DROP INDEX IF EXISTS ix_products_sku_key_p",
    "DROP INDEX IF EXISTS ix_suppliers_fill_rate",
    "DROP INDEX IF EXISTS ix_suppliers_on_time_rate",
    "ALTER TABLE products DROP COLUMN sku_key",
    "ALTER TABLE purchase_orders DROP COLUMN approved_at",
    "ALTER TABLE suppliers DROP COLUMN fill_rate",
    "ALTER TABLE suppliers DROP COLUMN on_time_rate",
    "ALTER TABLE suppliers DROP COLUMN on_time_receipts",
    "ALTER TABLE suppliers DROP COLUMN receipts_count",
    "ALTER TABLE user_roles DROP COLUMN warehouse_scope",
]


def test_idempotency_headers_column_migrates_from_version_1(server, cli, login, opsbase_bin):
    """The stored headers are a schema version 2 column: a tenant database at
    version 1 (no column, keys stored without headers) is migrated in place and
    its old keys still replay."""
    version = _schema_version(opsbase_bin)
    assert version >= 2
    slug = h.slug()
    cli.tenant_create(slug)
    owner = login(slug, f"owner@{slug}.test", h.OWNER_PASSWORD)
    key = h.uniq("old-")
    old_body = {"customer_code": h.uniq("C-"), "company_name": "o"}
    old = h.ok(_post_key(owner, f"{API}/customers", old_body, key), 201)
    owner.close()
    # take the tenant back to version 1 as an older binary left it: what
    # later versions added goes too
    _tenant_sql(server, slug, VERSION_3_UNDO + ["ALTER TABLE idempotency_keys DROP COLUMN headers",
                                                "DELETE FROM schema_migrations WHERE version >= 2"]
                + (["PRAGMA user_version = 1"] if server.engine == "sqlite" else []))
    r = cli.run("migrate")
    assert f"schema version {version}" in r.stdout, r.stdout
    owner = login(slug, f"owner@{slug}.test", h.OWNER_PASSWORD)
    # a key stored without headers still replays its body and status
    again = _post_key(owner, f"{API}/customers", old_body, key)
    assert again.status_code == 201 and again.json() == old and again.headers["Idempotent-Replayed"] == "true"
    body = {"customer_code": h.uniq("C-"), "company_name": "n"}
    first = h.ok(_post_key(owner, f"{API}/customers", body, key + "-new"), 201)
    replay = _post_key(owner, f"{API}/customers", body, key + "-new")
    assert replay.json() == first and replay.headers["Location"].endswith(first["id"])
    assert old["id"] != first["id"]


def _schema_version(opsbase_bin):
    r = subprocess.run([str(opsbase_bin), "schema", "--json"], capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout)["version"]


# ---- 19: the document describes what the server accepts ----------------------

def _body_prop(doc, table, col, mode="_create"):
    return doc["components"]["schemas"][f"{table}{mode}"]["properties"][col]


def _matches(schema, value):
    """The few JSON Schema keywords these checks need, for one value."""
    import re
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    kind = {str: "string", int: "number", float: "number", list: "array", type(None): "null"}[type(value)]
    if kind not in types and not (kind == "number" and "integer" in types and float(value).is_integer()):
        return False
    if kind == "string" and "pattern" in schema and not re.search(schema["pattern"], value):
        return False
    if kind == "array":
        return len(set(value)) == len(value) and all(_matches(schema["items"], v) for v in value)
    return True


def test_enum_schemas_accept_any_case_as_the_server_does(anon, acme_owner):
    """Enum schemas listed only lower-case values while the server takes any case."""
    doc = _doc(anon)
    prop = _body_prop(doc, "tickets", "priority")
    assert "enum" not in prop and _matches(prop, "HIGH") and _matches(prop, "High")
    assert not _matches(prop, "highest")
    t = h.create_ticket(acme_owner, h.create_customer(acme_owner)["id"], priority="HIGH")
    assert t["priority"] == "high"
    h.expect_error(acme_owner.patch(f"{API}/tickets/{t['id']}", json={"priority": "highest"}),
                   400, "validation_failed", field="priority")
    # records still list the canonical values: the server writes only those
    rec = doc["components"]["schemas"]["tickets"]["properties"]["priority"]
    assert rec["enum"] == ["low", "medium", "high", "urgent"]
    # and filters take any case too
    fparam = [p for p in doc["paths"][f"{API}/tickets"]["get"]["parameters"] if p.get("name") == "priority"][0]
    assert _matches(fparam["schema"], "URGENT")


def test_decimal_schemas_admit_numbers_as_the_server_does(anon, acme_owner):
    """Decimals were documented as strings only, but JSON numbers are accepted."""
    prop = _body_prop(_doc(anon), "customers", "credit_limit")
    assert _matches(prop, "12.50") and _matches(prop, 12.5) and prop["minimum"] == 0
    c = h.create_customer(acme_owner, credit_limit=12.5)
    assert c["credit_limit"] == "12.50"


def test_json_arrays_and_patterns_are_typed(anon, acme_owner, login):
    """export_formats and allowed_exports were untyped JSON and schedule_time had
    no pattern; each is now declared, validated from the declaration and
    described by the document."""
    doc = _doc(anon)
    fmt = _body_prop(doc, "custom_reports", "export_formats")
    assert fmt["type"][0] == "array" and fmt["uniqueItems"] is True
    assert _matches(fmt, ["pdf", "CSV"]) and not _matches(fmt, ["pdf", "docx"]) and not _matches(fmt, "pdf")
    exp = _body_prop(doc, "role_security_settings", "allowed_exports")
    assert _matches(exp, ["orders_csv"]) and not _matches(exp, ["everything"])
    st = _body_prop(doc, "custom_reports", "schedule_time")
    for good in ("08:30", "23:59:59", "00:00"):
        assert _matches(st, good), good
    for bad in ("24:00", "8:30", "12:60", "12:00:60", "noon"):
        assert not _matches(st, bad), bad
    body = {"name": h.uniq("Report "), "report_type": "sales",
            "report_config": {"source": "invoices", "measures": [{"fn": "count"}]},
            "export_formats": ["PDF", "csv"], "schedule_time": "23:59:59"}
    r = h.create(acme_owner, "custom_reports", body)
    assert h.as_obj(r["export_formats"]) == ["pdf", "csv"]
    for change in ({"export_formats": ["pdf", "pdf"]}, {"export_formats": ["docx"]}, {"export_formats": "pdf"},
                   {"export_formats": [1]}, {"schedule_time": "24:00"}, {"schedule_time": "7:05"}):
        field = next(iter(change))
        e = h.expect_error(acme_owner.patch(f"{API}/custom_reports/{r['id']}", json=change),
                           400, "validation_failed", field=field)
        assert h.error_fields(e) == {field}
    assert h.as_obj(h.get(acme_owner, "custom_reports", r["id"])["export_formats"]) == ["pdf", "csv"]


def test_document_has_servers_and_no_unused_responses(anon):
    """Linters found no servers and error responses no operation used."""
    doc = _doc(anon)
    assert doc["servers"] == [{"url": "/", "description": doc["servers"][0]["description"]}]
    text = json.dumps(doc["paths"])
    for name in doc["components"]["responses"]:
        assert f"#/components/responses/{name}" in text, name


def test_openapi_command_prints_the_served_document(anon, opsbase_bin):
    """The linters read `opsbase openapi`: it must be the document the server serves."""
    r = subprocess.run([str(opsbase_bin), "openapi"], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == _doc(anon)
