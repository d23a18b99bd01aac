"""Documents checked by staff (issue #15, seed 000): a request document is
pending until it has a file, uploaded once it has one (given on create,
attached later by the customer with the attach event, or by staff), then verified or
rejected by the verify and reject events (services.approve, stamping who and
when); a new file moves it back to uploaded and clears the verification. A
customer document is verified once by the verify action (crm.verify). The
status and verification columns are the server's. Both engines."""
import os

import helpers as h

API = "/api/v1"


def _pdf():
    return b"%PDF-1.4\n" + os.urandom(48) + b"\n%%EOF\n"


def _portal(cli, login, owner, customer_id):
    email = h.uniq("portal") + "@acme.test"
    cli.user_create("acme", email, "customer")
    uid = h.user_id_by_email(owner, email)
    h.ok(owner.patch(f"{API}/users/{uid}", json={"customer_id": customer_id}))
    return login("acme", email)


def test_request_document_verify_reject_and_replace(cli, login, acme_owner, acme_agent, globex_owner):
    cust = h.create_customer(acme_owner)
    portal = _portal(cli, login, acme_owner, cust["id"])
    st = h.create(acme_owner, "service_types", {"service_code": h.uniq("ST")[:20], "service_name": "Customs"})
    sr = h.create(portal, "service_requests", {"service_type_id": st["id"], "request_title": h.uniq("req")})
    doc = h.create(portal, "request_documents", {"service_request_id": sr["id"], "document_name": "Invoice"})
    assert doc["status"] == "pending"
    # nothing to check before there is a file
    h.expect_error(acme_owner.post(f"{API}/request_documents/{doc['id']}/verify"), 422, "invalid_transition")
    # the customer uploads; staff attach it (customers hold services.create, not .edit)
    f1 = h.upload_file(portal, _pdf(), name="inv.pdf")
    up = h.ok(acme_owner.patch(f"{API}/request_documents/{doc['id']}", json={"file_id": f1["id"]}))
    assert up["status"] == "uploaded" and up["file_name"] == "inv.pdf"
    # the customer cannot check their own document, nor type its state; an agent lacks services.approve
    h.expect_error(portal.post(f"{API}/request_documents/{doc['id']}/verify"), 403, "forbidden")
    h.expect_error(acme_agent.post(f"{API}/request_documents/{doc['id']}/verify"), 403, "forbidden")
    for field, value in (("status", "verified"), ("verified_at", "2026-01-01T00:00:00Z")):
        h.expect_error(acme_owner.patch(f"{API}/request_documents/{doc['id']}", json={field: value}), 400,
                       "readonly_field", field)
    # another tenant's id is unknown
    h.expect_error(globex_owner.post(f"{API}/request_documents/{doc['id']}/verify"), 404, "not_found")
    assert h.get(acme_owner, "request_documents", doc["id"])["status"] == "uploaded"
    ok = h.ok(acme_owner.post(f"{API}/request_documents/{doc['id']}/verify"))
    assert ok["status"] == "verified" and ok["verified_by"] == acme_owner.user["id"]
    assert h.TS_RE.match(ok["verified_at"])
    h.expect_error(acme_owner.post(f"{API}/request_documents/{doc['id']}/verify"), 422, "invalid_transition")
    # rejected with a reason (a body field the event declares; anything else is 400)
    assert acme_owner.post(f"{API}/request_documents/{doc['id']}/reject", json={"status": "pending"}).status_code == 400
    rej = h.ok(acme_owner.post(f"{API}/request_documents/{doc['id']}/reject",
                               json={"rejection_reason": "illegible scan"}))
    assert rej["status"] == "rejected" and rej["rejection_reason"] == "illegible scan"
    assert rej["verified_by"] is None and rej["verified_at"] is None
    # a better file, attached by staff here (the customer's own way is the attach event, below)
    f2 = h.upload_file(portal, _pdf(), name="inv2.pdf")
    h.expect_error(portal.patch(f"{API}/request_documents/{doc['id']}", json={"file_id": f2["id"]}), 403, "forbidden")
    again = h.ok(acme_owner.patch(f"{API}/request_documents/{doc['id']}", json={"file_id": f2["id"]}))
    assert again["status"] == "uploaded" and again["file_name"] == "inv2.pdf"
    seen = h.get(portal, "request_documents", doc["id"])
    assert seen["status"] == "uploaded" and "verified_by" not in seen  # staff-only column, absent for customers
    assert h.ok(acme_owner.post(f"{API}/request_documents/{doc['id']}/verify"))["status"] == "verified"
    # a document created with its file starts uploaded
    direct = h.create(portal, "request_documents", {"service_request_id": sr["id"], "document_name": "Packing list",
                                                    "file_id": h.upload_file(portal, _pdf())["id"]})
    assert direct["status"] == "uploaded"
    acts = [a["action"] for a in h.audit_rows(acme_owner, entity_type="request_documents", entity_id=doc["id"])]
    assert acts.count("verify") == 2 and acts.count("reject") == 1, acts


def test_customer_document_verified_once_by_staff(acme_owner, acme_agent, globex_owner):
    cust = h.create_customer(acme_owner)
    f = h.upload_file(acme_owner, _pdf(), name="id.pdf")
    d = h.create(acme_owner, "customer_documents", {"customer_id": cust["id"], "document_name": "Id card",
                                                      "file_id": f["id"]})
    assert d["is_verified"] is False and d["verified_by"] is None
    for field, value in (("is_verified", True), ("verified_by", acme_owner.user["id"]),
                         ("verified_at", "2026-01-01T00:00:00Z")):
        h.expect_error(acme_owner.patch(f"{API}/customer_documents/{d['id']}", json={field: value}), 400,
                       "readonly_field", field)
        h.expect_error(acme_owner.post(f"{API}/customer_documents",
                                       json={"customer_id": cust["id"], "document_name": "x", "file_id": f["id"],
                                             field: value}), 400, "readonly_field", field)
    h.expect_error(acme_agent.post(f"{API}/customer_documents/{d['id']}/verify"), 403, "forbidden")
    h.expect_error(globex_owner.post(f"{API}/customer_documents/{d['id']}/verify"), 404, "not_found")
    # (the OCR job may have read the file meanwhile: only the verification is compared)
    VER = ("is_verified", "verified_by", "verified_at")
    assert [h.get(acme_owner, "customer_documents", d["id"])[k] for k in VER] == [False, None, None]
    v = h.ok(acme_owner.post(f"{API}/customer_documents/{d['id']}/verify"))
    assert v["is_verified"] is True and v["verified_by"] == acme_owner.user["id"] and h.TS_RE.match(v["verified_at"])
    h.expect_error(acme_owner.post(f"{API}/customer_documents/{d['id']}/verify"), 422, "invalid_transition")
    assert [h.get(acme_owner, "customer_documents", d["id"])[k] for k in VER] == [v[k] for k in VER]


def test_the_customer_attaches_the_file_of_their_own_request_document(cli, login, acme_owner, globex_owner):
    """The attach event: the request's customer gives a pending or rejected
    document its file (staff PATCH file_id; the portal role holds
    services.create, not .edit). Another customer's document or file, or
    another tenant's, is unknown (404); a verified document refuses (422);
    a missing file_id is 400; nothing is written on a refusal."""
    cust, other = h.create_customer(acme_owner), h.create_customer(acme_owner)
    portal, portal_b = _portal(cli, login, acme_owner, cust["id"]), _portal(cli, login, acme_owner, other["id"])
    st = h.create(acme_owner, "service_types", {"service_code": h.uniq("ST")[:20], "service_name": "Customs"})
    sr = h.create(portal, "service_requests", {"service_type_id": st["id"], "request_title": h.uniq("req")})
    doc = h.create(portal, "request_documents", {"service_request_id": sr["id"], "document_name": "Invoice"})
    mine = h.upload_file(portal, _pdf(), name="invoice.pdf")
    theirs = h.upload_file(portal_b, _pdf(), name="theirs.pdf")
    staff_for_b = h.upload_file(acme_owner, _pdf(), name="b.pdf", customer_id=other["id"])
    foreign = h.upload_file(globex_owner, _pdf(), name="globex.pdf")
    url = f"{API}/request_documents/{doc['id']}/attach"
    h.expect_error(portal.post(url, json={}), 400, "validation_failed", "file_id")
    assert portal.post(url, json={"file_id": mine["id"], "status": "verified"}).status_code == 400
    assert portal.post(url, content=b"{nope", headers={"Content-Type": "application/json"}).status_code == 400
    # not their file, not this tenant's file
    for f in (theirs, foreign, staff_for_b):
        h.expect_error(portal.post(url, json={"file_id": f["id"]}), 404, "not_found")
    # not their document; not this tenant's document
    h.expect_error(portal_b.post(url, json={"file_id": theirs["id"]}), 404, "not_found")
    h.expect_error(globex_owner.post(url, json={"file_id": foreign["id"]}), 404, "not_found")
    email = h.uniq("viewer") + "@acme.test"
    cli.user_create("acme", email, "viewer")
    h.expect_error(login("acme", email).post(url, json={"file_id": mine["id"]}), 403, "forbidden")
    still = h.get(acme_owner, "request_documents", doc["id"])
    assert still["status"] == "pending" and still["file_id"] is None and still["file_name"] is None
    got = h.ok(portal.post(url, json={"file_id": mine["id"]}))
    assert got["status"] == "uploaded" and got["file_id"] == mine["id"] and got["file_name"] == "invoice.pdf"
    assert "file_path" not in got and "uploaded_by" not in got  # staff-only columns
    full = h.get(acme_owner, "request_documents", doc["id"])
    assert full["file_hash"] == mine["sha256"] and full["file_size"] == mine["file_size"]
    # once uploaded, the document waits for staff: attaching again is the wrong state
    h.expect_error(portal.post(url, json={"file_id": mine["id"]}), 422, "invalid_transition")
    h.ok(acme_owner.post(f"{API}/request_documents/{doc['id']}/verify"))
    h.expect_error(portal.post(url, json={"file_id": h.upload_file(portal, _pdf())["id"]}), 422,
                   "invalid_transition")
    assert h.get(acme_owner, "request_documents", doc["id"])["status"] == "verified"
    # rejected: the customer sends a better file, to be checked again
    h.ok(acme_owner.post(f"{API}/request_documents/{doc['id']}/reject", json={"rejection_reason": "blurred"}))
    better = h.upload_file(portal, _pdf(), name="invoice-2.pdf")
    again = h.ok(portal.post(url, json={"file_id": better["id"]}))
    assert again["status"] == "uploaded" and again["file_name"] == "invoice-2.pdf"
    staff_view = h.get(acme_owner, "request_documents", doc["id"])
    assert staff_view["verified_by"] is None and staff_view["verified_at"] is None
    acts = [a["action"] for a in h.audit_rows(acme_owner, entity_type="request_documents", entity_id=doc["id"])]
    assert acts.count("attach") == 2 and acts.count("verify") == 1 and acts.count("reject") == 1, acts
