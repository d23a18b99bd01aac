"""Generic create/read/update/delete on customers and customer_contacts."""
import pytest

import helpers as h


def _no_customer(client, code):
    assert h.rows_where(client, "customers", customer_code=code) == [], code


# --- happy path -------------------------------------------------------------

def test_create_get_patch_delete_customer(acme_owner):
    code = h.uniq("CRUD-")
    r = acme_owner.post("/api/v1/customers", json={
        "customer_code": code, "company_name": "Crud Co", "credit_limit": "1500",
        "customer_tier": "PREMIUM", "payment_terms": 45})
    c = h.ok(r, 201)
    assert isinstance(c["id"], str) and len(c["id"]) == 36
    assert c["version"] == 1
    assert r.headers.get("etag") == '"1"'
    assert r.headers.get("location", "").endswith(f"/api/v1/customers/{c['id']}")
    assert h.TS_RE.match(c["created_at"]), c["created_at"]
    assert h.TS_RE.match(c["updated_at"]), c["updated_at"]
    assert c["customer_code"] == code
    assert c["credit_limit"] == "1500.00"
    assert c["customer_tier"] == "premium"
    assert c["payment_terms"] == 45

    r = acme_owner.get(f"/api/v1/customers/{c['id']}")
    got = h.ok(r)
    assert r.headers.get("etag") == '"1"'
    assert got == c

    r = acme_owner.patch(f"/api/v1/customers/{c['id']}",
                         json={"company_name": "Crud Co Renamed", "customer_tier": "Basic"})
    p = h.ok(r)
    assert p["version"] == 2
    assert r.headers.get("etag", '"2"') == '"2"'
    assert p["company_name"] == "Crud Co Renamed"
    assert p["customer_tier"] == "basic"
    assert p["customer_code"] == code            # untouched fields stay
    assert p["created_at"] == c["created_at"]
    assert h.parse_ts(p["updated_at"]) >= h.parse_ts(c["updated_at"])
    assert h.get(acme_owner, "customers", c["id"]) == p

    d = h.ok(acme_owner.delete(f"/api/v1/customers/{c['id']}"))
    assert d == {"id": c["id"], "deleted": True}
    h.expect_error(acme_owner.get(f"/api/v1/customers/{c['id']}"), 404, "not_found")
    h.expect_error(acme_owner.delete(f"/api/v1/customers/{c['id']}"), 404, "not_found")
    h.expect_error(acme_owner.patch(f"/api/v1/customers/{c['id']}", json={"notes": "x"}),
                   404, "not_found")
    _no_customer(acme_owner, code)


def test_get_missing_and_malformed_id(acme_owner):
    h.expect_error(acme_owner.get(f"/api/v1/customers/{h.MISSING_ID}"), 404, "not_found")
    r = acme_owner.get("/api/v1/customers/not-an-id")
    assert r.status_code in (400, 404), h.show(r)
    h.assert_json(r)


@pytest.mark.parametrize("sent,stored", [
    ("1500", "1500.00"),
    (1500, "1500.00"),
    (1500.5, "1500.50"),
    ("1500.5", "1500.50"),
    ("0", "0.00"),
    ("9999999.99", "9999999.99"),
])
def test_decimal_input_forms(acme_owner, sent, stored):
    c = h.create_customer(acme_owner, credit_limit=sent)
    assert c["credit_limit"] == stored
    assert h.get(acme_owner, "customers", c["id"])["credit_limit"] == stored


@pytest.mark.parametrize("bad", ["1.234", -5, "-0.01", "abc", "1e3x", True, [], {}])
def test_decimal_rejected(acme_owner, bad):
    code = h.uniq("DEC-")
    r = acme_owner.post("/api/v1/customers", json={"customer_code": code, "credit_limit": bad})
    e = h.expect_error(r, 400, "validation_failed")
    assert "credit_limit" in h.error_fields(e)
    _no_customer(acme_owner, code)


def test_enum_case_insensitive_and_invalid(acme_owner):
    for sent in ("PREMIUM", "Premium", "premium"):
        assert h.create_customer(acme_owner, customer_tier=sent)["customer_tier"] == "premium"
    code = h.uniq("ENUM-")
    e = h.expect_error(acme_owner.post("/api/v1/customers",
                                       json={"customer_code": code, "customer_tier": "gold"}),
                       400, "validation_failed")
    assert "customer_tier" in h.error_fields(e)
    _no_customer(acme_owner, code)


# --- refused writes ---------------------------------------------------------

def test_unknown_field(acme_owner):
    code = h.uniq("UNK-")
    r = acme_owner.post("/api/v1/customers", json={"customer_code": code, "favourite_colour": "red"})
    e = h.expect_error(r, 400, "unknown_field")
    assert e.get("field") == "favourite_colour", e
    _no_customer(acme_owner, code)


def test_field_names_are_case_sensitive(acme_owner):
    code = h.uniq("CASE-")
    r = acme_owner.post("/api/v1/customers", json={"Customer_Code": code})
    e = h.expect_error(r, 400, "unknown_field")
    assert e.get("field") == "Customer_Code"
    _no_customer(acme_owner, code)


@pytest.mark.parametrize("field,value", [
    ("id", h.MISSING_ID),
    ("version", 7),
    ("created_at", "2020-01-01T00:00:00.000Z"),
    ("updated_at", "2020-01-01T00:00:00.000Z"),
])
def test_readonly_field_on_create(acme_owner, field, value):
    code = h.uniq("RO-")
    r = acme_owner.post("/api/v1/customers", json={"customer_code": code, field: value})
    e = h.expect_error(r, 400, "readonly_field")
    assert e.get("field") == field, e
    _no_customer(acme_owner, code)


@pytest.mark.parametrize("field,value", [("id", h.MISSING_ID), ("version", 9),
                                         ("created_at", "2020-01-01T00:00:00.000Z")])
def test_readonly_field_on_patch(acme_owner, field, value):
    c = h.create_customer(acme_owner)
    r = acme_owner.patch(f"/api/v1/customers/{c['id']}", json={field: value})
    e = h.expect_error(r, 400, "readonly_field")
    assert e.get("field") == field, e
    assert h.get(acme_owner, "customers", c["id"]) == c


@pytest.mark.parametrize("field,value", [
    ("payment_terms", "thirty"),   # string for an integer
    ("payment_terms", 30.5),       # fraction for an integer
    ("company_name", 123),         # number for text
    ("company_name", {"a": 1}),    # object for text
    ("customer_tier", 1),          # number for an enum
])
def test_wrong_types_customer(acme_owner, field, value):
    code = h.uniq("TYPE-")
    e = h.expect_error(acme_owner.post("/api/v1/customers",
                                       json={"customer_code": code, field: value}),
                       400, "validation_failed")
    assert field in (e.get("fields") or {}), e
    _no_customer(acme_owner, code)


def test_all_bad_fields_are_named(acme_owner):
    code = h.uniq("MULTI-")
    e = h.expect_error(acme_owner.post("/api/v1/customers", json={
        "customer_code": code, "payment_terms": "thirty", "company_name": 5}),
        400, "validation_failed")
    assert {"payment_terms", "company_name"} <= set((e.get("fields") or {}).keys()), e
    _no_customer(acme_owner, code)


def test_missing_required_fields(acme_owner):
    """tickets need title, description and customer_id; each missing one is named."""
    cust = h.create_customer(acme_owner)
    e = h.expect_error(acme_owner.post("/api/v1/tickets", json={"customer_id": cust["id"]}),
                       400, "validation_failed")
    assert {"title", "description"} <= set((e.get("fields") or {}).keys()), e
    assert h.rows_where(acme_owner, "tickets", customer_id=cust["id"]) == []


def test_required_field_cannot_be_nulled(acme_owner):
    c = h.create_customer(acme_owner)
    e = h.expect_error(acme_owner.patch(f"/api/v1/customers/{c['id']}",
                                        json={"customer_code": None}),
                       400, "validation_failed")
    assert "customer_code" in h.error_fields(e)
    assert h.get(acme_owner, "customers", c["id"]) == c


def test_text_too_long(acme_owner):
    code = h.uniq("LONG-")
    e = h.expect_error(acme_owner.post("/api/v1/customers",
                                       json={"customer_code": code, "company_name": "x" * 20000}),
                       400, "validation_failed")
    assert "company_name" in h.error_fields(e)
    _no_customer(acme_owner, code)


def test_unique_violation(acme_owner):
    code = h.uniq("UNIQ-")
    first = h.create_customer(acme_owner, customer_code=code, company_name="First")
    e = h.expect_error(acme_owner.post("/api/v1/customers",
                                       json={"customer_code": code, "company_name": "Second"}),
                       409, "conflict")
    if e.get("field") is not None:
        assert e["field"] == "customer_code"
    rows = h.rows_where(acme_owner, "customers", customer_code=code)
    assert [r["id"] for r in rows] == [first["id"]]
    assert rows[0]["company_name"] == "First"
    # Taking an existing code by PATCH is a conflict too.
    other = h.create_customer(acme_owner)
    h.expect_error(acme_owner.patch(f"/api/v1/customers/{other['id']}",
                                    json={"customer_code": code}), 409, "conflict")
    assert h.get(acme_owner, "customers", other["id"]) == other


def test_negative_credit_limit_on_patch(acme_owner):
    c = h.create_customer(acme_owner, credit_limit="10")
    e = h.expect_error(acme_owner.patch(f"/api/v1/customers/{c['id']}",
                                        json={"credit_limit": "-1.00"}),
                       400, "validation_failed")
    assert "credit_limit" in h.error_fields(e)
    assert h.get(acme_owner, "customers", c["id"]) == c


# --- optimistic concurrency and idempotency --------------------------------

def test_if_match(acme_owner):
    c = h.create_customer(acme_owner, company_name="Before")
    url = f"/api/v1/customers/{c['id']}"
    p = h.ok(acme_owner.patch(url, json={"company_name": "After"}, headers={"If-Match": '"1"'}))
    assert p["version"] == 2
    h.expect_error(acme_owner.patch(url, json={"company_name": "Stale"},
                                    headers={"If-Match": '"1"'}), 412, "version_mismatch")
    h.expect_error(acme_owner.delete(url, headers={"If-Match": '"1"'}), 412, "version_mismatch")
    now = h.get(acme_owner, "customers", c["id"])
    assert now == p
    assert now["company_name"] == "After" and now["version"] == 2
    h.ok(acme_owner.delete(url, headers={"If-Match": '"2"'}))
    h.expect_error(acme_owner.get(url), 404, "not_found")


def test_idempotency_key(acme_owner):
    key = h.uniq("idem-")
    code = h.uniq("IDEM-")
    body = {"customer_code": code, "company_name": "Idem Co"}
    r1 = acme_owner.post("/api/v1/customers", json=body, headers={"Idempotency-Key": key})
    first = h.ok(r1, 201)
    r2 = acme_owner.post("/api/v1/customers", json=body, headers={"Idempotency-Key": key})
    assert r2.status_code == 201, h.show(r2)
    assert r2.json() == first
    assert r2.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in r1.headers
    assert len(h.rows_where(acme_owner, "customers", customer_code=code)) == 1

    code2 = h.uniq("IDEM-")
    h.expect_error(acme_owner.post("/api/v1/customers",
                                   json={"customer_code": code2, "company_name": "Other"},
                                   headers={"Idempotency-Key": key}),
                   409, "idempotency_conflict")
    _no_customer(acme_owner, code2)
    assert len(h.rows_where(acme_owner, "customers", customer_code=code)) == 1


def test_idempotency_key_is_per_user(acme_owner, login):
    """The same key from another tenant is a different request, not a replay."""
    key = h.uniq("idem-")
    a = h.ok(acme_owner.post("/api/v1/customers", json={"customer_code": h.uniq("IDA-")},
                             headers={"Idempotency-Key": key}), 201)
    g = login("globex", "owner@globex.test", h.OWNER_PASSWORD)
    b = h.ok(g.post("/api/v1/customers", json={"customer_code": h.uniq("IDB-")},
                    headers={"Idempotency-Key": key}), 201)
    assert a["id"] != b["id"]


def test_idempotency_key_invalid(acme_owner):
    code = h.uniq("IDK-")
    r = acme_owner.post("/api/v1/customers", json={"customer_code": code},
                        headers={"Idempotency-Key": "k" * 201})
    h.expect_error(r, 400, "bad_request")
    _no_customer(acme_owner, code)


# --- customer_contacts ------------------------------------------------------

def test_contacts_crud(acme_owner):
    cust = h.create_customer(acme_owner)
    r = acme_owner.post("/api/v1/customer_contacts", json={
        "customer_id": cust["id"], "contact_type": "BILLING", "first_name": "Ada",
        "last_name": "Lovelace", "email": "ada@example.test", "is_primary": True})
    ct = h.ok(r, 201)
    assert ct["version"] == 1 and ct["contact_type"] == "billing" and ct["is_primary"] is True
    assert ct["customer_id"] == cust["id"]
    assert h.TS_RE.match(ct["created_at"])
    p = h.ok(acme_owner.patch(f"/api/v1/customer_contacts/{ct['id']}",
                              json={"is_primary": False, "title": "CFO"}))
    assert p["version"] == 2 and p["is_primary"] is False and p["title"] == "CFO"
    listed = h.rows_where(acme_owner, "customer_contacts", customer_id=cust["id"])
    assert [x["id"] for x in listed] == [ct["id"]]
    h.ok(acme_owner.delete(f"/api/v1/customer_contacts/{ct['id']}"))
    h.expect_error(acme_owner.get(f"/api/v1/customer_contacts/{ct['id']}"), 404, "not_found")
    assert h.rows_where(acme_owner, "customer_contacts", customer_id=cust["id"]) == []


@pytest.mark.parametrize("field,value", [
    ("is_primary", {}),        # object for a boolean
    ("is_primary", "yes"),     # string for a boolean
    ("first_name", 42),        # number for text
    ("contact_type", "pigeon"),
])
def test_contacts_wrong_types(acme_owner, field, value):
    cust = h.create_customer(acme_owner)
    body = {"customer_id": cust["id"], "first_name": "A", "last_name": "B", field: value}
    e = h.expect_error(acme_owner.post("/api/v1/customer_contacts", json=body),
                       400, "validation_failed")
    assert field in (e.get("fields") or {}), e
    assert h.rows_where(acme_owner, "customer_contacts", customer_id=cust["id"]) == []


def test_contacts_missing_required(acme_owner):
    cust = h.create_customer(acme_owner)
    e = h.expect_error(acme_owner.post("/api/v1/customer_contacts",
                                       json={"customer_id": cust["id"], "last_name": "B"}),
                       400, "validation_failed")
    assert "first_name" in (e.get("fields") or {}), e
    assert h.rows_where(acme_owner, "customer_contacts", customer_id=cust["id"]) == []


def test_contacts_reference_to_missing_customer(acme_owner):
    last = h.uniq("Ghost")
    h.expect_error(acme_owner.post("/api/v1/customer_contacts", json={
        "customer_id": h.MISSING_ID, "first_name": "A", "last_name": last}),
        422, "unprocessable")
    assert h.rows_where(acme_owner, "customer_contacts", last_name=last) == []


def test_delete_referenced_record_is_in_use(acme_owner):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    h.expect_error(acme_owner.delete(f"/api/v1/customers/{cust['id']}"), 409, "in_use")
    assert h.get(acme_owner, "customers", cust["id"]) == cust
    assert h.get(acme_owner, "tickets", t["id"])["customer_id"] == cust["id"]
