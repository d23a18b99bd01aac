"""A person's erasure (issue #17): POST /api/v1/customers/{id}/erase overwrites
the personal columns (declared `personal`) of the customer and of the rows that
reference it with a pseudonym or null, keeps the amounts of business records,
redacts the old values from the audit images (the hash chain re-linked, so it
still verifies) and answers the erasure record. Under a legal hold 409 and
nothing written; a second erase 422; permission customers.erase (owner, admin);
another tenant's id 404. Both engines."""
import concurrent.futures
import json
import uuid

import httpx
import pytest

import helpers as h
import stock_helpers as stock

API = "/api/v1"


@pytest.fixture
def shop(cli, login):
    slug = "erase-" + uuid.uuid4().hex[:8]
    cli.tenant_create(slug)
    return slug, login(slug, f"owner@{slug}.test", h.OWNER_PASSWORD)


def person(c):
    """A customer with a contact and an order, each naming the person."""
    tag = uuid.uuid4().hex[:8]
    phone = "+1" + str(int(tag, 16) % 10**10).zfill(10)
    p = {"name": f"Zelda Quux {tag}", "email": f"zelda.{tag}@example.org", "phone": phone,
         "national_id": f"NID-{tag}", "tax_number": f"TAX-{tag}", "date_of_birth": "1980-02-03",
         "street_address": f"{tag} Elm Street", "company_name": f"Quux Ltd {tag}", "credit_limit": "1500.00"}
    cust = h.create_customer(c, **p)
    # a change, so the audit trail holds the person's values twice
    cust = h.ok(c.patch(f"{API}/customers/{cust['id']}", json={"name": p["name"] + " Jr"},
                        headers={"If-Match": str(cust["version"])}))
    contact = h.create(c, "customer_contacts", {"customer_id": cust["id"], "first_name": f"Zel{tag}",
                                                "last_name": f"Qu{tag}", "email": f"c.{tag}@example.org"})
    ch = h.create(c, "sales_channels", {"channel_type_code": "shopify", "name": "Shop " + h.uniq()})
    order = h.create(c, "orders", {
        "channel_id": ch["id"], "external_order_id": h.uniq("EXT-"), "customer_id": cust["id"],
        "customer_name": p["name"], "customer_email": p["email"],
        "shipping_address": {"name": p["name"], "line1": p["street_address"], "city": "Pune", "country": "IN"},
        "subtotal": "100.00", "total_amount": "100.00"})
    secrets = [p["name"], p["email"], p["street_address"], f"Zel{tag}", f"Qu{tag}", f"c.{tag}@example.org",
               phone, f"NID-{tag}", f"TAX-{tag}"]
    return cust, contact, order, secrets


def all_audit_text(c):
    return json.dumps(h.list_all(c, "audit_logs"))


def test_erasure_pseudonymises_the_person_everywhere_and_keeps_the_amounts(shop):
    slug, c = shop
    cust, contact, order, secrets = person(c)
    other, other_contact, _, other_secrets = person(c)
    assert all(s in all_audit_text(c) for s in secrets[:6])
    # a subscriber to the changes: the erasure's payloads must not carry the old values
    h.create(c, "webhook_subscriptions", {"url": "https://1.1.1.1/erase-test", "secret": "whsec-0123456789abcdef",
                                          "events": ["customers.updated", "customer_contacts.updated",
                                                     "orders.updated"]})

    e = h.ok(c.post(f"{API}/customers/{cust['id']}/erase", json={"reason": "GDPR art. 17 request #12"}))
    pseudo = "erased-" + cust["id"][-12:]
    assert e["subject_type"] == "customers" and e["subject_id"] == cust["id"]
    assert e["pseudonym"] == pseudo and e["reason"] == "GDPR art. 17 request #12"
    assert e["tables"] == {"customers": 1, "customer_contacts": 1, "orders": 1} and e["rows_erased"] == 3
    assert e["audit_rows_redacted"] >= 4  # create + update of the customer, the contact's and the order's creates
    me = h.ok(c.get(f"{API}/auth/me"))
    assert e["erased_by"] == (me.get("user") or me)["id"]
    assert h.TS_RE.match(e["created_at"])

    got = h.get(c, "customers", cust["id"])
    assert got["name"] == pseudo and got["email"] == pseudo and got["phone"] == pseudo[:20]
    assert got["street_address"] == pseudo
    assert got["national_id"] is None and got["tax_number"] is None and got["date_of_birth"] is None
    # what is not personal stays: the business name, the credit limit, the code
    assert got["company_name"] == cust["company_name"] and got["credit_limit"] == "1500.00"
    assert got["customer_code"] == cust["customer_code"] and got["erased_at"] == e["created_at"]
    assert got["version"] == cust["version"] + 1

    con = h.get(c, "customer_contacts", contact["id"])
    assert con["first_name"] == pseudo and con["last_name"] == pseudo and con["email"] == pseudo
    o = h.get(c, "orders", order["id"])
    assert o["customer_name"] == pseudo and o["customer_email"] == pseudo and o["shipping_address"] == {}
    assert o["total_amount"] == "100.00" and o["subtotal"] == "100.00" and o["customer_id"] == cust["id"]

    # the other customer is untouched
    assert h.get(c, "customers", other["id"])["name"] == other["name"]
    assert h.get(c, "customer_contacts", other_contact["id"])["first_name"] == other_contact["first_name"]

    # nothing of the person is left in the audit trail, full-text search or listings
    text = all_audit_text(c)
    for s in secrets:
        assert s not in text, s
    assert any(s in text for s in other_secrets[:3])
    assert [r["id"] for r in h.rows_where(c, "customers", q="Zelda")] == [other["id"]]
    erase_rows = h.audit_rows(c, entity_type="customers", entity_id=cust["id"], action="erase")
    assert len(erase_rows) == 1 and "name" in erase_rows[0]["changed_fields"]
    assert erase_rows[0]["new_values"]["name"] == pseudo and erase_rows[0]["old_values"]["name"] is None
    assert [a["action"] for a in h.audit_rows(c, entity_type="erasures", entity_id=e["id"])] == ["create"]

    deliveries = h.list_all(c, "webhook_deliveries")
    assert len(deliveries) >= 3
    dtext = json.dumps(deliveries)
    assert cust["id"] in dtext and pseudo in dtext
    for s in secrets:
        assert s not in dtext, s

    # the chain was re-linked and holds
    v = h.ok(c.get(f"{API}/audit_logs/verify"))
    assert v["holds"] is True and v["broken"] is None

    # the record is listed; a second erase is refused and writes nothing
    assert [r["id"] for r in h.list_all(c, "erasures")] == [e["id"]]
    h.expect_error(c.post(f"{API}/customers/{cust['id']}/erase", json={}), 422, "invalid_transition")
    assert len(h.list_all(c, "erasures")) == 1
    assert h.get(c, "customers", cust["id"])["version"] == got["version"]


def test_a_legal_hold_refuses_the_erasure_and_nothing_is_written(shop):
    slug, c = shop
    cust, contact, order, secrets = person(c)
    audit_before = all_audit_text(c)
    hold = h.create(c, "legal_holds", {"scope": "customer", "customer_id": cust["id"], "reason": "litigation"})
    h.expect_error(c.post(f"{API}/customers/{cust['id']}/erase"), 409, "legal_hold")
    rec = h.create(c, "legal_holds", {"scope": "record", "entity_type": "customers", "entity_id": cust["id"],
                                      "reason": "audit"})
    ten = h.create(c, "legal_holds", {"scope": "tenant", "reason": "regulator"})
    for hd in (hold, rec):
        h.ok(c.post(f"{API}/legal_holds/{hd['id']}/release"))
    h.expect_error(c.post(f"{API}/customers/{cust['id']}/erase"), 409, "legal_hold")
    assert h.get(c, "customers", cust["id"])["name"] == cust["name"]
    assert h.get(c, "customer_contacts", contact["id"])["first_name"] == contact["first_name"]
    assert h.list_all(c, "erasures") == []
    assert cust["name"] in all_audit_text(c) and secrets[0] in audit_before
    h.ok(c.post(f"{API}/legal_holds/{ten['id']}/release"))
    e = h.ok(c.post(f"{API}/customers/{cust['id']}/erase"))
    assert e["reason"] is None and e["rows_erased"] == 3


def test_permission_tenant_and_malformed_input(acme_owner, acme_viewer, login, globex_owner):
    cust = h.create_customer(acme_owner, name="Erase Perm " + h.uniq())
    url = f"{API}/customers/{cust['id']}/erase"
    h.expect_error(acme_viewer.post(url), 403, "forbidden")
    operator = login("acme", "operator@acme.test")
    h.expect_error(operator.post(url), 403, "forbidden")
    h.expect_error(operator.get(f"{API}/erasures"), 403, "forbidden")
    # another tenant's customer, and an id that does not exist
    h.expect_error(globex_owner.post(url), 404, "not_found")
    h.expect_error(acme_owner.post(f"{API}/customers/{h.MISSING_ID}/erase"), 404, "not_found")
    h.expect_error(acme_owner.post(url, json={"reason": "x", "name": "y"}), 400, "unknown_field")
    h.expect_error(acme_owner.post(url, json={"reason": "x" * 1001}), 400, "validation_failed")
    h.expect_error(acme_owner.post(url, content=b"{not json", headers={"Content-Type": "application/json"}),
                   400, "invalid_json")
    assert h.get(acme_owner, "customers", cust["id"])["name"] == cust["name"]
    # the erasure record is read-only
    h.expect_error(acme_owner.post(f"{API}/erasures", json={"subject_type": "x"}), 405, "method_not_allowed")


def test_two_racing_erasures_one_wins(server, shop):
    slug, c = shop
    cust, _, _, _ = person(c)
    token = c.headers["Authorization"]

    def erase(_):
        with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT, headers={"Authorization": token}) as cl:
            return cl.post(f"{API}/customers/{cust['id']}/erase").status_code

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        codes = sorted(ex.map(erase, range(2)))
    assert codes == [200, 422]
    assert len(h.list_all(c, "erasures")) == 1
    assert h.ok(c.get(f"{API}/audit_logs/verify"))["holds"] is True


def test_erasure_follows_references_two_and_three_deep(shop):
    """customer <- order <- shipment (two deep: the shipment names the order, not
    the customer) <- NDR case (three deep through the shipment; it names the order
    too, and is rewritten once)."""
    slug, c = shop
    cust, _, order, secrets = person(c)
    tag = uuid.uuid4().hex[:8]
    consignee = f"Consignee {tag}"
    wh = stock.warehouse(c)
    sh = h.create(c, "shipments", {"shipment_type": "outbound", "origin_warehouse_id": wh["id"],
                                   "order_id": order["id"], "consignee_name": consignee,
                                   "consignee_address": f"{tag} Dock Road, Pune",
                                   "delivery_address": {"line1": f"{tag} Dock Road", "city": "Pune"}})
    assert sh.get("customer_id") in (None, "") and sh["order_id"] == order["id"]
    case = h.create(c, "ndr_records", {"shipment_id": sh["id"], "reason_code": "customer_unavailable",
                                       "ndr_date": "2026-06-01T18:00:00Z", "customer_name": consignee,
                                       "customer_phone": "+9198765" + str(int(tag, 16) % 10**5).zfill(5)})
    assert case["order_id"] == order["id"]
    # an unrelated shipment of another order keeps its consignee
    _, _, other_order, _ = person(c)
    keep = h.create(c, "shipments", {"shipment_type": "outbound", "origin_warehouse_id": wh["id"],
                                     "order_id": other_order["id"],
                                     "consignee_name": f"Keep {tag}"})

    e = h.ok(c.post(f"{API}/customers/{cust['id']}/erase", json={}))
    pseudo = "erased-" + cust["id"][-12:]
    assert e["tables"] == {"customers": 1, "customer_contacts": 1, "orders": 1, "shipments": 1,
                           "ndr_records": 1}, e["tables"]
    got = h.get(c, "shipments", sh["id"])
    assert got["consignee_name"] == pseudo and got["consignee_address"] == pseudo
    assert got["delivery_address"] in (None, {}), got["delivery_address"]
    assert got["order_id"] == order["id"] and got["version"] == sh["version"] + 1
    nd = h.get(c, "ndr_records", case["id"])
    assert nd["customer_name"] == pseudo and nd["customer_phone"] in (None, pseudo[:20])
    assert nd["status"] == case["status"] and nd["reason_code"] == "customer_unavailable"
    assert h.get(c, "shipments", keep["id"])["consignee_name"] == f"Keep {tag}"
    # each deep row once, under the action erase, its old image redacted; the chain holds
    for table, rid in (("shipments", sh["id"]), ("ndr_records", case["id"])):
        rows = h.audit_rows(c, entity_type=table, entity_id=rid, action="erase")
        assert len(rows) == 1, (table, rows)
    text = all_audit_text(c)
    assert consignee not in text and f"{tag} Dock Road" not in text
    assert h.ok(c.get(f"{API}/audit_logs/verify"))["holds"] is True
