"""The finance and customer-relationship model (issue 4): payments, payment
methods and transactions, expenses, revenue records, invoices and their items,
accounting entries, company settings, customer documents, relationships, tags,
communication history, preferences and loyalty.

For each table: a valid row is created, read back equal, changed (unless the
table is append-only) and audited. The declared constraints (required, lengths,
bounds, enums, uniques, references, checks, server-set columns) are refused by
test_generic.py for every table; this file keeps what hooks add: computed
totals, numbering, defaults from settings, masking, cascades, one-row tables.
"""
import datetime
import json
import re
import subprocess

import pytest

import helpers as h

TODAY = datetime.date.today().isoformat()


def _utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()
NOW = h.fmt_ts(datetime.datetime.now(datetime.timezone.utc))


# --- helpers of this file --------------------------------------------------

@pytest.fixture(scope="module")
def schema(opsbase_bin):
    out = subprocess.run([str(opsbase_bin), "schema", "--json"], capture_output=True, text=True,
                         timeout=h.CLI_TIMEOUT, check=True).stdout
    return {t["name"]: t for t in json.loads(out)["tables"]}


def _filler(col):
    """A valid value for a column of another area's table (its constraints only)."""
    t = col["type"]
    if t == "text":
        return h.uniq("f")[: max(1, min(col.get("max_length") or 12, 13))]
    if t == "integer":
        lo = col.get("min", 1) + (1 if col.get("min_exclusive") else 0)
        return max(lo, 1) if col.get("max", 1) >= 1 else lo
    if t == "decimal":
        return "1"
    if t == "real":
        return 1.0
    if t == "boolean":
        return False
    if t == "timestamp":
        return NOW
    if t == "date":
        return TODAY
    if t == "json":
        return {}
    if t == "enum":
        return col["values"][0]
    raise AssertionError(f"no filler for {col}")


def make_row(client, schema, table, **fields):
    """A row of any table with its required columns filled (references made
    recursively); used for the other areas' tables our foreign keys point at."""
    if table == "customers":
        return h.create_customer(client, **fields)
    body = dict(fields)
    for col in schema[table]["columns"]:
        name = col["name"]
        if (name in body or col["nullable"] or "default" in col or col.get("server_set")
                or col.get("server_default") or col.get("implicit")):
            continue
        if col["type"] == "reference":
            body[name] = make_row(client, schema, col["references"])["id"]
        else:
            body[name] = _filler(col)
    return h.create(client, table, body)


def refused(client, table, body, status, code, field, **marker):
    """POST body, expect the error naming field, and check nothing was written
    (no row matches the marker filter)."""
    assert marker, "a refused write needs a marker to read back"
    e = h.expect_error(client.post(f"/api/v1/{table}", json=body), status, code, field)
    assert h.rows_where(client, table, **marker) == [], f"{table} row written by a refused request"
    return e


def audited(client, table, rid, *actions):
    got = [r["action"] for r in h.audit_rows(client, entity_type=table, entity_id=rid)]
    for a in actions:
        assert a in got, f"no {a} audit row for {table} {rid}: {got}"


def round_trip(client, table, body, change=None):
    """Create, read back equal, change one field (unless append-only), audit."""
    row = h.create(client, table, body)
    for k, v in body.items():
        if not isinstance(v, (dict, list)):
            assert row[k] == v or str(row[k]).lower() == str(v).lower(), (k, row[k], v)
    assert h.get(client, table, row["id"]) == row
    if change is None:
        audited(client, table, row["id"], "create")
        return row
    upd = h.ok(client.patch(f"/api/v1/{table}/{row['id']}", json=change))
    for k, v in change.items():
        assert upd[k] == v, (k, upd[k], v)
    assert upd["version"] == row["version"] + 1
    assert h.get(client, table, row["id"]) == upd
    audited(client, table, row["id"], "create", "update")
    return upd


def not_patchable(client, table, rid, change):
    h.expect_error(client.patch(f"/api/v1/{table}/{rid}", json=change), 405, "method_not_allowed")


# --- shared rows -----------------------------------------------------------

@pytest.fixture(scope="module")
def cust(acme_owner):
    return h.create_customer(acme_owner)


@pytest.fixture(scope="module")
def invoice(acme_owner, cust):
    return h.create(acme_owner, "invoices", {"customer_id": cust["id"]})


@pytest.fixture(scope="module")
def payment(acme_owner, cust):
    return h.create(acme_owner, "payments", {"customer_id": cust["id"], "amount": "10.00",
                                             "description": h.uniq("pay-")})


# --- payments --------------------------------------------------------------

def test_payment_round_trip(acme_owner, schema, cust, invoice):
    sr = make_row(acme_owner, schema, "service_requests", customer_id=cust["id"])
    pm = h.create(acme_owner, "payment_methods", {"customer_id": cust["id"], "method_type": "card"})
    body = {"customer_id": cust["id"], "service_request_id": sr["id"], "invoice_id": invoice["id"],
            "invoice_number": invoice["invoice_number"], "payment_method_id": pm["id"],
            "amount": "1250.50", "currency": "EUR", "payment_method": "CARD",
            "payment_status": "processing", "payment_gateway": "stripe",
            "transaction_id": h.uniq("txn-"), "gateway_response": '{"ok":true}',
            "payment_date": NOW, "due_date": TODAY, "description": "first instalment"}
    p = round_trip(acme_owner, "payments", body, {"payment_status": "failed"})  # completed pays (test_gold_books.py)
    assert [r["id"] for r in h.rows_where(acme_owner, "payments", transaction_id=body["transaction_id"])] == [p["id"]]


def test_payment_defaults_and_enum_case(acme_owner, cust):
    p = h.create(acme_owner, "payments", {"customer_id": cust["id"], "amount": 5,
                                          "payment_status": "REFUNDED"})
    assert p["amount"] == "5.00" and p["currency"] == "USD" and p["payment_status"] == "refunded"
    assert h.create(acme_owner, "payments", {"customer_id": cust["id"], "amount": "1"})["payment_status"] == "pending"


def test_payment_keeps_invoice_and_customer(acme_owner):
    c = h.create_customer(acme_owner)
    inv = h.create(acme_owner, "invoices", {"customer_id": c["id"]})
    h.create(acme_owner, "payments", {"customer_id": c["id"], "invoice_id": inv["id"], "amount": "1"})
    h.expect_error(acme_owner.delete(f"/api/v1/invoices/{inv['id']}"), 409, "in_use")
    h.expect_error(acme_owner.delete(f"/api/v1/customers/{c['id']}"), 409, "in_use")
    assert h.get(acme_owner, "invoices", inv["id"])["id"] == inv["id"]


def test_payments_need_the_payments_permission(acme_viewer, cust):
    h.expect_error(acme_viewer.post("/api/v1/payments", json={"customer_id": cust["id"], "amount": "1"}),
                   403, "forbidden")


# --- payment methods -------------------------------------------------------

def test_payment_method_round_trip_and_masking(acme_owner, acme_viewer, cust):
    body = {"customer_id": cust["id"], "method_type": "BANK_ACCOUNT", "label": h.uniq("pm-"),
            "provider": "HDFC", "holder_name": "A Person", "bank_name": "HDFC Bank",
            "account_number": "123456789012", "routing_code": "HDFC0001234", "upi_id": "person@hdfc",
            "card_number": "4111111111111111", "card_expiry_month": 12, "card_expiry_year": 2030,
            "is_default": False}
    pm = round_trip(acme_owner, "payment_methods", body, {"label": h.uniq("pm2-")})
    assert "gateway_token" not in pm
    seen = h.get(acme_viewer, "payment_methods", pm["id"])
    assert seen["account_number"] != body["account_number"] and seen["account_number"].endswith("9012")
    assert seen["card_number"] != body["card_number"] and seen["card_number"].endswith("1111")


def test_payment_method_secret_token_is_not_writable(acme_owner, cust):
    label = h.uniq("pm-")
    refused(acme_owner, "payment_methods", {"customer_id": cust["id"], "method_type": "card", "label": label,
                                            "gateway_token": "tok_123"},
            400, "unknown_field", "gateway_token", label=label)


def test_payment_method_one_default_per_customer(acme_owner):
    c = h.create_customer(acme_owner)
    h.create(acme_owner, "payment_methods", {"customer_id": c["id"], "method_type": "card", "is_default": True})
    h.create(acme_owner, "payment_methods", {"customer_id": c["id"], "method_type": "upi"})
    label = h.uniq("pm-")
    refused(acme_owner, "payment_methods", {"customer_id": c["id"], "method_type": "cash", "label": label,
                                            "is_default": True}, 409, "conflict", "customer_id", label=label)


def test_payment_method_of_the_tenant(acme_owner):
    pm = h.create(acme_owner, "payment_methods", {"method_type": "bank_account", "label": h.uniq("own-")})
    assert pm["customer_id"] is None


# --- payment transactions --------------------------------------------------

def test_payment_transaction_round_trip(acme_owner, payment):
    body = {"payment_id": payment["id"], "transaction_type": "charge", "status": "succeeded",
            "amount": "10.00", "currency": "USD", "payment_gateway": "razorpay",
            "gateway_transaction_id": h.uniq("gw-"), "gateway_response": "{}", "error_code": None,
            "processed_at": NOW}
    t = round_trip(acme_owner, "payment_transactions", body)
    assert "updated_at" not in t and "version" not in t
    not_patchable(acme_owner, "payment_transactions", t["id"], {"status": "failed"})


def test_payment_transactions_go_with_their_payment(acme_owner, cust):
    p = h.create(acme_owner, "payments", {"customer_id": cust["id"], "amount": "2"})
    g = h.uniq("gw-")
    h.create(acme_owner, "payment_transactions", {"payment_id": p["id"], "transaction_type": "charge",
                                                  "amount": "2", "gateway_transaction_id": g})
    h.ok(acme_owner.delete(f"/api/v1/payments/{p['id']}"))
    assert h.rows_where(acme_owner, "payment_transactions", gateway_transaction_id=g) == []


# --- expenses --------------------------------------------------------------

def test_expense_round_trip(acme_owner, schema, cust):
    ch = make_row(acme_owner, schema, "sales_channels")
    order = make_row(acme_owner, schema, "orders", channel_id=ch["id"])
    ship = make_row(acme_owner, schema, "shipments", customer_id=cust["id"])  # an air-cargo shipment
    body = {"category": "SHIPPING", "subcategory": h.uniq("sub-"), "description": "courier pickup",
            "amount": "99.90", "expense_date": TODAY, "channel_id": ch["id"], "order_id": order["id"],
            "shipment_id": ship["id"], "receipt_url": "https://r.test/1.pdf", "tags": ["a", "b"],
            "metadata": {"k": 1}}
    e = round_trip(acme_owner, "expenses", body, {"amount": "100.00"})
    assert e["currency"] == "INR" and e["category"] == "shipping"
    assert e["tags"] == ["a", "b"] and e["metadata"] == {"k": 1}
    assert e["created_by"] == acme_owner.user["id"]


# --- revenue records -------------------------------------------------------

@pytest.fixture(scope="module")
def channel(acme_owner, schema):
    return make_row(acme_owner, schema, "sales_channels")


def test_revenue_record_round_trip(acme_owner, schema, channel):
    order = make_row(acme_owner, schema, "orders", channel_id=channel["id"])
    body = {"order_id": order["id"], "channel_id": channel["id"], "gross_revenue": "1000.00",
            "platform_fee": "50.00", "payment_gateway_fee": "20.00", "shipping_cost": "30.00",
            "product_cost": "600.00", "other_costs": "0.50", "revenue_date": TODAY, "metadata": {"src": "t"}}
    r = round_trip(acme_owner, "revenue_records", body)
    assert r["net_revenue"] == "299.50"
    not_patchable(acme_owner, "revenue_records", r["id"], {"gross_revenue": "1"})
    r2 = h.create(acme_owner, "revenue_records", {"order_id": order["id"], "channel_id": channel["id"],
                                                  "gross_revenue": "10", "revenue_date": TODAY})
    assert r2["platform_fee"] == "0.00" and r2["net_revenue"] == "10.00"


# --- invoices and items ----------------------------------------------------

def test_invoice_round_trip(acme_owner, cust):
    body = {"customer_id": cust["id"], "invoice_date": "2025-03-01",
            "due_date": "2025-03-31", "currency": "INR", "gold_rate_per_gram": "6250.00", "notes": "thank you",
            "terms": "30 days"}
    inv = round_trip(acme_owner, "invoices", body, {"notes": "changed"})
    assert re.fullmatch(r"INV-\d{6}", inv["invoice_number"]), inv["invoice_number"]
    assert inv["total_amount"] == "0.00"  # the lines' (test_gold_invoices.py)
    assert inv["created_by"] == acme_owner.user["id"]


def test_invoice_numbers_and_defaults(acme_owner, cust):
    a = h.create(acme_owner, "invoices", {"customer_id": cust["id"]})
    b = h.create(acme_owner, "invoices", {"customer_id": cust["id"]})
    assert a["invoice_number"] != b["invoice_number"]
    # the server's today (UTC): TODAY, or the next day when the suite runs across midnight
    assert a["status"] == "draft" and a["invoice_date"] in (TODAY, _utc_today()) and a["currency"] == "USD"
    assert a["total_amount"] == "0.00"
    own = h.uniq("OWN-")
    assert h.create(acme_owner, "invoices", {"customer_id": cust["id"], "invoice_number": own})["invoice_number"] == own
    n = h.uniq("n-")
    refused(acme_owner, "invoices", {"customer_id": cust["id"], "invoice_number": own, "notes": n},
            409, "conflict", "invoice_number", notes=n)


# a generated number may be given, but not empty (the declared length and
# uniqueness are covered by test_generic.py)
@pytest.mark.parametrize("field,value,extra", [("invoice_number", "", {})])
def test_invoice_constraints(acme_owner, cust, field, value, extra):
    n = h.uniq("n-")
    body = dict({"customer_id": cust["id"], "notes": n}, **extra)
    body[field] = value
    refused(acme_owner, "invoices", body, 400, "validation_failed", field, notes=n)


def test_invoice_currency_follows_company_settings(new_tenant):
    t = new_tenant()
    cs = h.list_all(t.owner, "company_settings")[0]
    h.ok(t.owner.patch(f"/api/v1/company_settings/{cs['id']}", json={"currency": "INR"}))
    c = h.create_customer(t.owner)
    assert h.create(t.owner, "invoices", {"customer_id": c["id"]})["currency"] == "INR"
    j = h.create(t.owner, "journals", {})
    e = h.create(t.owner, "accounting_entries", {"journal_id": j["id"], "account_code": "1000", "debit": "1"})
    assert e["currency"] == "INR"


def test_invoice_item_round_trip(acme_owner, schema, invoice):
    prod = make_row(acme_owner, schema, "products")
    body = {"invoice_id": invoice["id"], "product_id": prod["id"], "sort_order": 1,
            "description": h.uniq("ring-"), "sku": "R-22K", "metal_type": "gold", "purity": "22K",
            "gross_weight": "10.500", "quantity": "2.500", "unit_price": "10.01", "making_charges": "1.00",
            "discount_amount": "0.50", "tax_rate": "3.00"}
    it = round_trip(acme_owner, "invoice_items", body, {"quantity": "1.000"})
    # 1 x 10.01 + 1.00 - 0.50 = 10.51, + 3% = 0.3153 -> 0.32 after the change
    assert it["line_total"] == "10.83" and it["tax_amount"] == "0.32"
    first = h.audit_rows(acme_owner, entity_type="invoice_items", entity_id=it["id"], action="create")[0]
    # 2.5 x 10.01 = 25.025 -> 25.03, + 1.00 - 0.50 = 25.53, + 0.7659 -> 0.77
    assert h.as_obj(first["new_values"])["line_total"] == "26.30"


# a line's discount may not exceed its amount: a hook, not a declared check
@pytest.mark.parametrize("field,value,extra", [("discount_amount", "11.00", {})])
def test_invoice_item_constraints(acme_owner, invoice, field, value, extra):
    d = h.uniq("item-")
    body = dict({"invoice_id": invoice["id"], "description": d, "unit_price": "10.00"}, **extra)
    body[field] = value
    marker = {"sku": d} if field == "description" else {"description": d}
    body["sku"] = d
    refused(acme_owner, "invoice_items", body, 400, "validation_failed", field, **marker)


def test_invoice_items_go_with_their_invoice(acme_owner, cust):
    inv = h.create(acme_owner, "invoices", {"customer_id": cust["id"]})
    d = h.uniq("item-")
    h.create(acme_owner, "invoice_items", {"invoice_id": inv["id"], "description": d, "unit_price": "1"})
    h.ok(acme_owner.delete(f"/api/v1/invoices/{inv['id']}"))
    assert h.rows_where(acme_owner, "invoice_items", description=d) == []


# --- accounting entries ----------------------------------------------------

def test_accounting_entry_round_trip(acme_owner, invoice, payment):
    jr = h.create(acme_owner, "journals", {"description": "sale"})
    j = jr["journal_number"]
    body = {"journal_id": jr["id"], "entry_date": TODAY, "account_code": "1100", "account_name": "Receivables",
            "account_type": "ASSET", "debit": "927.00", "credit": "0.00", "currency": "INR",
            "description": "sale", "invoice_id": invoice["id"], "payment_id": payment["id"]}
    e = round_trip(acme_owner, "accounting_entries", body)
    assert e["account_type"] == "asset" and e["created_by"] == acme_owner.user["id"]
    not_patchable(acme_owner, "accounting_entries", e["id"], {"debit": "1"})
    c = h.create(acme_owner, "accounting_entries", {"journal_id": jr["id"], "account_code": "4000",
                                                    "credit": "927.00"})
    assert c["debit"] == "0.00" and c["currency"] == "USD" and c["entry_date"] in (TODAY, _utc_today())
    lines = h.rows_where(acme_owner, "accounting_entries", journal_number=j)
    assert sum(float(x["debit"]) for x in lines) == sum(float(x["credit"]) for x in lines)
    assert all(x["journal_number"] == j for x in lines)


@pytest.mark.parametrize("body,field", [
    ({"debit": "1", "credit": "1"}, "debit"), ({}, "debit"), ({"debit": "0", "credit": "0"}, "debit"),
    ({"debit": "-1", "credit": "2"}, "debit"), ({"credit": "-1", "debit": "2"}, "credit"),
    ({"debit": "1", "entry_date": None}, "entry_date"),
])
def test_accounting_entry_constraints(acme_owner, body, field):
    j = h.create(acme_owner, "journals", {})
    full = dict({"journal_id": j["id"], "account_code": "1000"}, **body)
    refused(acme_owner, "accounting_entries", full, 400, "validation_failed", field, journal_id=j["id"])


def test_ledger_lines_keep_their_invoice_and_payment(acme_owner, cust):
    inv = h.create(acme_owner, "invoices", {"customer_id": cust["id"]})
    pay = h.create(acme_owner, "payments", {"customer_id": cust["id"], "amount": "1"})
    h.create(acme_owner, "accounting_entries", {"journal_id": h.create(acme_owner, "journals", {})["id"],
                                                "account_code": "1",
                                                "debit": "1", "invoice_id": inv["id"], "payment_id": pay["id"]})
    h.expect_error(acme_owner.delete(f"/api/v1/invoices/{inv['id']}"), 409, "in_use")
    h.expect_error(acme_owner.delete(f"/api/v1/payments/{pay['id']}"), 409, "in_use")
    assert h.get(acme_owner, "payments", pay["id"])["id"] == pay["id"]


# --- company settings ------------------------------------------------------

def test_company_settings_one_row_seeded(acme_owner, acme_viewer):
    rows = h.list_all(acme_owner, "company_settings")
    assert len(rows) == 1, rows
    cs = rows[0]
    assert cs["company_name"] and cs["currency"] == "USD" and cs["timezone"] == "UTC"
    assert cs["fiscal_year_start_month"] == 1 and cs["settings"] == {}
    h.expect_error(acme_owner.post("/api/v1/company_settings", json={"company_name": "Second"}), 409, "conflict")
    assert len(h.list_all(acme_owner, "company_settings")) == 1
    change = {"legal_name": "Acme Jewellers Pvt Ltd", "tax_number": "27AAPFU0939F1ZV", "pan_number": "AAPFU0939F",
              "default_tax_rate": "3.00"}  # the rate columns follow metal_rates (test_gold_rates.py)
    upd = h.ok(acme_owner.patch(f"/api/v1/company_settings/{cs['id']}", json=change))
    for k, v in change.items():
        assert upd[k] == v, k
    audited(acme_owner, "company_settings", cs["id"], "update")
    seen = h.get(acme_viewer, "company_settings", cs["id"])
    assert seen["tax_number"] != change["tax_number"] and seen["tax_number"].endswith("1ZV")
    assert seen["pan_number"] != change["pan_number"]


def test_company_settings_created_when_missing(new_tenant):
    t = new_tenant()
    cs = h.list_all(t.owner, "company_settings")[0]
    h.ok(t.owner.delete(f"/api/v1/company_settings/{cs['id']}"))
    e = h.expect_error(t.owner.post("/api/v1/company_settings", json={"timezone": "Asia/Kolkata"}),
                       400, "validation_failed", "company_name")
    assert "company_name" in h.error_fields(e)
    assert h.list_all(t.owner, "company_settings") == []
    made = round_trip(t.owner, "company_settings", {"company_name": "Fresh Co", "timezone": "Asia/Kolkata"},
                      {"company_name": "Fresh Co Ltd"})
    assert made["currency"] == "USD"


# --- customer documents ----------------------------------------------------

def test_customer_document_round_trip_and_search(acme_owner, schema, cust):
    sr = make_row(acme_owner, schema, "service_requests", customer_id=cust["id"])
    w = h.word()
    f = h.upload_file(acme_owner, name="pl.pdf")
    body = {"customer_id": cust["id"], "service_request_id": sr["id"], "document_name": h.uniq("doc-"),
            "document_type": "packing_list", "file_id": f["id"],
            "description": f"packing list {w}", "is_confidential": True, "retention_days": 3650,
            "expiry_date": "2030-01-01"}
    # verification is staff's verify action (test_cargo_documents.py), not a typed field
    d = round_trip(acme_owner, "customer_documents", body, {"is_confidential": False})
    assert d["uploaded_by"] == acme_owner.user["id"]
    # the file columns are the upload's (issue #12)
    assert (d["file_name"], d["file_size"], d["mime_type"], d["file_hash"]) == (
        "pl.pdf", f["file_size"], "application/pdf", f["sha256"])
    assert [r["id"] for r in h.list_all(acme_owner, "customer_documents", {"q": w})] == [d["id"]]
    # the OCR columns are the OCR job's (issue #12), never the client's
    for col, value in (("ocr_processed", True), ("ocr_content", "typed"), ("ocr_confidence", "0.97")):
        h.expect_error(acme_owner.post("/api/v1/customer_documents", json={**body, col: value}), 400, "readonly_field")


def test_customer_document_defaults(acme_owner, cust):
    f = h.upload_file(acme_owner, name="passport.pdf")
    d = h.create(acme_owner, "customer_documents", {
        "customer_id": cust["id"], "document_name": h.uniq("id-"), "file_id": f["id"]})
    assert d["file_name"] == "passport.pdf" and d["mime_type"] == "application/pdf"
    assert d["document_type"] == "other" and d["retention_days"] == 2555
    assert d["is_confidential"] is False and d["ocr_processed"] is False and d["is_verified"] is False


# --- relationships, tags ---------------------------------------------------

def test_customer_relationship_round_trip(acme_owner, cust):
    other = h.create_customer(acme_owner)
    body = {"customer_id": cust["id"], "related_customer_id": other["id"], "relationship_type": "FAMILY",
            "relationship_description": h.uniq("sister-"), "is_active": True}
    r = round_trip(acme_owner, "customer_relationships", body, {"is_active": False})
    assert r["relationship_type"] == "family"


def test_customer_tag_round_trip(acme_owner):
    t = round_trip(acme_owner, "customer_tags", {"name": h.uniq("VIP-"), "color": "#FFD700",
                                                 "description": "top buyers"}, {"color": "#000000"})
    d = h.uniq("d-")
    refused(acme_owner, "customer_tags", {"name": t["name"], "description": d}, 409, "conflict", "name",
            description=d)


def test_customer_tag_assignment(acme_owner):
    c = h.create_customer(acme_owner)
    tag = h.create(acme_owner, "customer_tags", {"name": h.uniq("tag-")})
    a = round_trip(acme_owner, "customer_tag_assignments", {"customer_id": c["id"], "tag_id": tag["id"]})
    assert a["assigned_by"] == acme_owner.user["id"] and h.TS_RE.match(a["assigned_at"])
    not_patchable(acme_owner, "customer_tag_assignments", a["id"], {"tag_id": tag["id"]})
    h.expect_error(acme_owner.post("/api/v1/customer_tag_assignments",
                                   json={"customer_id": c["id"], "tag_id": tag["id"]}), 409, "conflict")
    assert len(h.rows_where(acme_owner, "customer_tag_assignments", customer_id=c["id"])) == 1
    for field in ("customer_id", "tag_id"):
        body = {"customer_id": c["id"], "tag_id": tag["id"]}
        body[field] = h.MISSING_ID
        h.expect_error(acme_owner.post("/api/v1/customer_tag_assignments", json=body), 422, "unprocessable", field)
    assert len(h.rows_where(acme_owner, "customer_tag_assignments", customer_id=c["id"])) == 1
    assert h.rows_where(acme_owner, "customer_tag_assignments", customer_id=h.MISSING_ID) == []
    h.expect_error(acme_owner.post("/api/v1/customer_tag_assignments",
                                   json={"customer_id": c["id"], "tag_id": tag["id"],
                                         "assigned_by": acme_owner.user["id"]}), 400, "readonly_field")
    h.ok(acme_owner.delete(f"/api/v1/customer_tags/{tag['id']}"))
    assert h.rows_where(acme_owner, "customer_tag_assignments", customer_id=c["id"]) == []


# --- communication history, preferences ------------------------------------

def test_communication_round_trip(acme_owner, cust):
    body = {"customer_id": cust["id"], "communication_type": "CALL", "direction": "outbound",
            "subject": h.uniq("call-"), "content": "asked about bangles", "communication_date": NOW,
            "follow_up_required": True, "follow_up_date": "2030-01-01T10:00:00.000Z", "status": "scheduled"}
    c = round_trip(acme_owner, "customer_communication_history", body, {"status": "completed"})
    assert c["created_by"] == acme_owner.user["id"]
    d = h.create(acme_owner, "customer_communication_history",
                 {"customer_id": cust["id"], "communication_type": "note", "direction": "internal"})
    assert d["status"] == "completed" and d["follow_up_required"] is False and h.TS_RE.match(d["communication_date"])


def test_customer_preferences_round_trip(acme_owner):
    c = h.create_customer(acme_owner)
    body = {"customer_id": c["id"], "preferred_metal_types": ["gold", "platinum"], "preferred_styles": ["temple"],
            "price_range_min": "10000.00", "price_range_max": "50000.00",
            "communication_preferences": {"sms": True}, "special_occasions": {"birthday": "1990-05-01"},
            "purchase_frequency": "SEASONAL", "preferred_visit_time": "evenings", "notes": "likes antique"}
    p = round_trip(acme_owner, "customer_preferences", body, {"price_range_max": "60000.00"})
    assert p["purchase_frequency"] == "seasonal" and p["preferred_metal_types"] == ["gold", "platinum"]
    h.expect_error(acme_owner.post("/api/v1/customer_preferences", json={"customer_id": c["id"]}), 409, "conflict",
                   "customer_id")
    assert len(h.rows_where(acme_owner, "customer_preferences", customer_id=c["id"])) == 1


# --- loyalty ---------------------------------------------------------------

def test_loyalty_program_round_trip(acme_owner):
    body = {"name": h.uniq("Gold Club "), "description": "1 point per 100", "points_per_currency_unit": "0.01",
            "tier_thresholds": {"silver": 1000, "gold": 5000}, "tier_benefits": {"gold": ["free polish"]},
            "is_active": True}
    round_trip(acme_owner, "loyalty_programs", body, {"points_per_currency_unit": "999.99"})


def test_loyalty_points_round_trip(acme_owner, cust, invoice):
    prog = h.create(acme_owner, "loyalty_programs", {"name": h.uniq("LP "), "points_per_currency_unit": "1"})
    body = {"customer_id": cust["id"], "loyalty_program_id": prog["id"], "transaction_type": "EARNED",
            "points": 927, "reference_type": "invoice", "reference_id": invoice["id"],
            "description": h.uniq("earn-"), "expiry_date": "2027-12-31"}
    p = round_trip(acme_owner, "customer_loyalty_points", body)
    assert p["transaction_type"] == "earned" and p["created_by"] == acme_owner.user["id"]
    not_patchable(acme_owner, "customer_loyalty_points", p["id"], {"points": 1})
    r = h.create(acme_owner, "customer_loyalty_points", {"customer_id": cust["id"], "transaction_type": "redeemed",
                                                         "points": -100})
    assert r["points"] == -100

