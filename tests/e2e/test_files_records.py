"""Records made from uploaded files (issue #12): customer_documents and
request_documents name a files row by file_id; the engine copies the file's
name, storage path, size, type and hash into them (ob_resource.copy), clients
cannot write those columns, and GET .../{id}/content serves the file with the
record's own permission and customer scope. Both engines."""
import hashlib
import os

import helpers as h

API = "/api/v1"


def pdf():
    return b"%PDF-1.4\n" + os.urandom(48) + b"\n%%EOF\n"


def _portal(cli, login, owner, customer_id):
    email = h.uniq("portal") + "@acme.test"
    cli.user_create("acme", email, "customer")
    uid = h.user_id_by_email(owner, email)
    h.ok(owner.patch(f"{API}/users/{uid}", json={"customer_id": customer_id}))
    return login("acme", email)


def test_customer_document_from_a_file(acme_owner, acme_viewer, globex_owner):
    cust = h.create_customer(acme_owner)
    body = pdf()
    f = h.upload_file(acme_owner, body, name="passport scan.pdf")
    d = h.create(acme_owner, "customer_documents",
                 {"customer_id": cust["id"], "document_name": "Passport", "file_id": f["id"]})
    assert d["file_id"] == f["id"]
    assert d["file_name"] == "passport scan.pdf" and d["file_size"] == len(body)
    assert d["mime_type"] == "application/pdf" and d["file_hash"] == hashlib.sha256(body).hexdigest()
    assert d["file_path"] == f"{f['sha256'][:2]}/{f['sha256']}"
    # the record serves its file: same bytes, ETag, attachment
    r = acme_viewer.get(f"{API}/customer_documents/{d['id']}/content")
    assert r.status_code == 200, h.show(r)
    assert r.content == body and r.headers["etag"] == f'"{f["sha256"]}"'
    assert r.headers["content-disposition"].startswith('attachment; filename="passport scan.pdf"')
    r = acme_viewer.get(f"{API}/customer_documents/{d['id']}/content", headers={"Range": "bytes=0-3"})
    assert r.status_code == 206 and r.content == b"%PDF"
    # another tenant: neither the record nor its content
    h.expect_error(globex_owner.get(f"{API}/customer_documents/{d['id']}/content"), 404, "not_found")


def test_file_columns_are_the_servers(acme_owner):
    cust = h.create_customer(acme_owner)
    f = h.upload_file(acme_owner, pdf())
    base = {"customer_id": cust["id"], "document_name": h.uniq("doc")}
    for field, value in (("file_path", "/etc/passwd"), ("file_size", 1), ("mime_type", "application/pdf"),
                         ("file_hash", "a" * 64), ("file_name", "x.pdf")):
        h.expect_error(acme_owner.post(f"{API}/customer_documents", json={**base, "file_id": f["id"], field: value}),
                       400, "readonly_field")
    # a document needs its file
    h.expect_error(acme_owner.post(f"{API}/customer_documents", json=base), 400, "validation_failed",
                   field="file_id")
    # a file of no such id (or another tenant's) is refused on the reference
    h.expect_error(acme_owner.post(f"{API}/customer_documents", json={**base, "file_id": h.MISSING_ID}),
                   422, "unprocessable", field="file_id")
    assert h.rows_where(acme_owner, "customer_documents", document_name=base["document_name"]) == []
    # the file of a document cannot be swapped afterwards
    d = h.create(acme_owner, "customer_documents", {**base, "file_id": f["id"]})
    other = h.upload_file(acme_owner, pdf())
    h.expect_error(acme_owner.patch(f"{API}/customer_documents/{d['id']}", json={"file_id": other["id"]}),
                   400, "readonly_field")


def test_request_document_gets_its_file_later_and_keeps_customer_scope(cli, login, acme_owner):
    c1, c2 = h.create_customer(acme_owner), h.create_customer(acme_owner)
    p1, p2 = _portal(cli, login, acme_owner, c1["id"]), _portal(cli, login, acme_owner, c2["id"])
    st = h.create(acme_owner, "service_types", {"service_code": h.uniq("ST")[:20], "service_name": "Customs"})
    sr = h.create(p1, "service_requests", {"service_type_id": st["id"], "request_title": h.uniq("req")})
    doc = h.create(p1, "request_documents", {"service_request_id": sr["id"], "document_name": "Invoice"})
    assert doc["file_id"] is None and doc["file_size"] is None
    h.expect_error(p1.get(f"{API}/request_documents/{doc['id']}/content"), 404, "not_found")

    # a customer cannot attach a file that is not their customer's, nor write the file columns
    base = {"service_request_id": sr["id"], "document_name": h.uniq("Invoice")}
    staff_file = h.upload_file(acme_owner, pdf())
    h.expect_error(p1.post(f"{API}/request_documents", json={**base, "file_id": staff_file["id"]}),
                   422, "unprocessable", field="file_id")
    theirs = h.upload_file(p2, pdf())
    h.expect_error(p1.post(f"{API}/request_documents", json={**base, "file_id": theirs["id"]}),
                   422, "unprocessable", field="file_id")
    h.expect_error(p1.post(f"{API}/request_documents", json={**base, "file_size": 5}), 400, "readonly_field")
    assert h.rows_where(acme_owner, "request_documents", document_name=base["document_name"]) == []

    body = pdf()
    mine = h.upload_file(p1, body, name="invoice.pdf")
    got = h.create(p1, "request_documents", {**base, "file_id": mine["id"]})
    assert got["file_name"] == "invoice.pdf" and got["file_hash"] == mine["sha256"]
    assert "file_path" not in got  # staff only
    assert p1.get(f"{API}/request_documents/{got['id']}/content").content == body
    # the other customer sees neither the document nor its content; staff see both
    h.expect_error(p2.get(f"{API}/request_documents/{got['id']}/content"), 404, "not_found")
    assert acme_owner.get(f"{API}/request_documents/{got['id']}/content").content == body

    # staff attach a file to the pending document later: the customer reads it
    # through the document (the record's scope), though the files row is staff's
    body2 = pdf() + b"v2"
    later = h.upload_file(acme_owner, body2, name="from-staff.pdf")
    h.expect_error(p1.get(f"{API}/files/{later['id']}/content"), 404, "not_found")
    upd = h.ok(acme_owner.patch(f"{API}/request_documents/{doc['id']}", json={"file_id": later["id"]}))
    assert upd["file_name"] == "from-staff.pdf" and upd["file_size"] == len(body2)
    assert p1.get(f"{API}/request_documents/{doc['id']}/content").content == body2
    h.expect_error(p2.get(f"{API}/request_documents/{doc['id']}/content"), 404, "not_found")


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def test_image_from_a_file(acme_owner):
    body = PNG + os.urandom(8)
    f = h.upload_file(acme_owner, body, name="front.png", ctype="image/png")
    img = h.create(acme_owner, "images", {"entity_type": "product", "entity_id": h.MISSING_ID,
                                          "file_id": f["id"], "alt_text": "front"})
    assert (img["file_name"], img["file_size"], img["mime_type"]) == ("front.png", len(body), "image/png")
    assert img["file_path"] == f"{f['sha256'][:2]}/{f['sha256']}"
    r = acme_owner.get(f"{API}/images/{img['id']}/content")
    assert r.status_code == 200 and r.content == body and r.headers["content-type"] == "image/png"
    h.expect_error(acme_owner.post(f"{API}/images", json={"entity_type": "product", "entity_id": h.MISSING_ID,
                                                          "file_id": f["id"], "file_path": "/x.png"}),
                   400, "readonly_field")
    h.expect_error(acme_owner.post(f"{API}/images", json={"entity_type": "product", "entity_id": h.MISSING_ID}),
                   400, "validation_failed", field="file_id")


def test_expense_receipt(acme_owner, acme_viewer, acme_agent):
    body = pdf()
    f = h.upload_file(acme_owner, body, name="receipt.pdf", purpose="receipt")
    e = h.create(acme_owner, "expenses", {"category": "shipping", "amount": "12.50", "expense_date": "2026-01-02",
                                          "receipt_file_id": f["id"]})
    assert e["receipt_file_id"] == f["id"]
    assert acme_viewer.get(f"{API}/expenses/{e['id']}/content").content == body
    # the expense's permission rules its receipt: an agent may not read finance
    h.expect_error(acme_agent.get(f"{API}/expenses/{e['id']}/content"), 403, "forbidden")
    # an expense without a receipt has no content
    e2 = h.create(acme_owner, "expenses", {"category": "shipping", "amount": "1.00", "expense_date": "2026-01-02"})
    h.expect_error(acme_owner.get(f"{API}/expenses/{e2['id']}/content"), 404, "not_found")
