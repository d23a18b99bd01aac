"""Files (issue #12): upload streamed to disk with its SHA-256 and a type read
from the content, download with the record's scope, ETag and ranges. Both
engines."""
import hashlib
import os
import threading

import helpers as h

API = "/api/v1"

# A one-page PDF, small but what libmagic calls application/pdf.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
# The first bytes of an ELF executable: never accepted, whatever its name says.
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 200
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def upload(client, content, name="doc.pdf", ctype="application/pdf", **fields):
    return client.post(f"{API}/files", files={"file": (name, content, ctype)},
                       data={k: v for k, v in fields.items()})


def raw_upload(client, content, name, ctype="application/octet-stream", params=None, headers=None):
    hdr = {"Content-Type": ctype, "Content-Disposition": f'attachment; filename="{name}"'}
    hdr.update(headers or {})
    return client.post(f"{API}/files", content=content, headers=hdr, params=params)


def test_multipart_upload_returns_the_row_and_the_content_comes_back(acme_owner):
    body = PDF + os.urandom(64)  # unique content
    f = h.ok(upload(acme_owner, body, name="../../etc/Contract: 2026?.pdf", purpose="Contract"), 201)
    assert f["sha256"] == hashlib.sha256(body).hexdigest()
    assert f["file_size"] == len(body)
    assert f["mime_type"] == "application/pdf"
    assert f["file_name"] == "Contract_ 2026_.pdf"  # no path, no reserved characters
    assert f["purpose"] == "contract"
    assert f["uploaded_by"] == acme_owner.user["id"]
    assert h.get(acme_owner, "files", f["id"])["sha256"] == f["sha256"]

    r = acme_owner.get(f"{API}/files/{f['id']}/content")
    assert r.status_code == 200, h.show(r)
    assert r.content == body
    assert r.headers["etag"] == f'"{f["sha256"]}"'
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith('attachment; filename="Contract_ 2026_.pdf"')
    assert r.headers["accept-ranges"] == "bytes"
    # the ETag answers 304 without the body
    r = acme_owner.get(f"{API}/files/{f['id']}/content", headers={"If-None-Match": r.headers["etag"]})
    assert r.status_code == 304 and r.content == b""


def test_raw_body_upload_with_content_disposition(acme_owner):
    body = PNG + os.urandom(16)
    f = h.ok(raw_upload(acme_owner, body, "pixel.png", "image/png", params={"purpose": "image"}), 201)
    assert f["mime_type"] == "image/png" and f["file_name"] == "pixel.png" and f["purpose"] == "image"
    assert f["sha256"] == hashlib.sha256(body).hexdigest()
    # a raw body must name its file
    r = acme_owner.post(f"{API}/files", content=body, headers={"Content-Type": "image/png"})
    h.expect_error(r, 400, "bad_request")


def test_ranges(acme_owner):
    body = b"%PDF-1.4\n" + bytes(range(256)) * 8
    f = h.ok(upload(acme_owner, body), 201)
    url = f"{API}/files/{f['id']}/content"
    r = acme_owner.get(url, headers={"Range": "bytes=10-19"})
    assert r.status_code == 206, h.show(r)
    assert r.content == body[10:20]
    assert r.headers["content-range"] == f"bytes 10-19/{len(body)}"
    r = acme_owner.get(url, headers={"Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == body[-5:]
    r = acme_owner.get(url, headers={"Range": f"bytes={len(body) - 3}-"})
    assert r.status_code == 206 and r.content == body[-3:]
    r = acme_owner.get(url, headers={"Range": f"bytes={len(body)}-"})
    h.expect_error(r, 416, "range_not_satisfiable")
    assert r.headers["content-range"] == f"bytes */{len(body)}"
    # If-Range with another validator: the whole file
    r = acme_owner.get(url, headers={"Range": "bytes=0-0", "If-Range": '"other"'})
    assert r.status_code == 200 and r.content == body


def test_an_executable_named_pdf_is_refused_and_nothing_is_written(acme_owner, server):
    before = len(h.list_all(acme_owner, "files"))
    e = h.expect_error(upload(acme_owner, ELF, name="invoice.pdf"), 415, "unsupported_media_type")
    assert "application/x-" in e["message"]
    h.expect_error(raw_upload(acme_owner, ELF, "invoice.pdf", "application/pdf"), 415, "unsupported_media_type")
    assert len(h.list_all(acme_owner, "files")) == before
    # and no spool file is left behind
    assert os.listdir(server.data / "spool") == []


def test_bad_uploads(acme_owner):
    # multipart without a part named file
    r = acme_owner.post(f"{API}/files", files={"other": ("a.pdf", PDF, "application/pdf")})
    assert h.expect_error(r, 400, "validation_failed", field="file")
    # an empty file
    h.expect_error(upload(acme_owner, b""), 400, "validation_failed", field="file")
    # clients cannot write the server's columns, or fields that do not exist
    h.expect_error(upload(acme_owner, PDF, sha256="0" * 64), 400, "readonly_field")
    h.expect_error(upload(acme_owner, PDF, colour="red"), 400, "unknown_field")
    # a reference outside the tenant
    h.expect_error(upload(acme_owner, PDF, customer_id="0190d6a4-0000-7000-8000-000000000000"), 422,
                   "unprocessable", field="customer_id")
    # two file parts
    r = acme_owner.post(f"{API}/files", files=[("file", ("a.pdf", PDF, "application/pdf")),
                                               ("file", ("b.pdf", PDF, "application/pdf"))])
    h.expect_error(r, 400, "bad_request")
    # files rows are facts: no PATCH, no DELETE, and no JSON create
    f = h.ok(upload(acme_owner, PDF), 201)
    assert acme_owner.patch(f"{API}/files/{f['id']}", json={"purpose": "x"}).status_code == 405
    assert acme_owner.delete(f"{API}/files/{f['id']}").status_code == 405
    h.expect_error(acme_owner.post(f"{API}/files", json={"purpose": "x"}), 400, "bad_request")


def test_tenant_upload_limit(new_tenant):
    t = new_tenant()
    settings = h.list_all(t.owner, "security_settings")[0]
    assert settings["max_upload_bytes"] == 25 * 1024 * 1024
    h.ok(t.owner.patch(f"{API}/security_settings/{settings['id']}", json={"max_upload_bytes": 1000}))
    h.ok(upload(t.owner, PDF + b"x" * (1000 - len(PDF))), 201)
    e = h.expect_error(upload(t.owner, PDF + b"x" * 1000), 413, "payload_too_large")
    assert "at most 1000" in e["message"]
    assert len(h.list_all(t.owner, "files")) == 1


def test_permissions_and_customer_scope(cli, login, acme_owner, acme_viewer, globex_owner):
    f = h.ok(upload(acme_owner, PDF + os.urandom(8)), 201)
    # a viewer reads but cannot upload
    assert acme_viewer.get(f"{API}/files/{f['id']}/content").status_code == 200
    h.expect_error(upload(acme_viewer, PDF), 403, "forbidden")
    # another tenant's id is 404, for the row and its content
    h.expect_error(globex_owner.get(f"{API}/files/{f['id']}"), 404, "not_found")
    h.expect_error(globex_owner.get(f"{API}/files/{f['id']}/content"), 404, "not_found")

    # customer users: their uploads are their customer's, and they see no other's
    c1, c2 = h.create_customer(acme_owner), h.create_customer(acme_owner)
    portals = []
    for c in (c1, c2):
        email = h.uniq("portal") + "@acme.test"
        cli.user_create("acme", email, "customer")
        uid = h.user_id_by_email(acme_owner, email)
        h.ok(acme_owner.patch(f"{API}/users/{uid}", json={"customer_id": c["id"]}))
        portals.append(login("acme", email))
    p1, p2 = portals
    mine = h.ok(upload(p1, PDF + os.urandom(8), purpose="id_copy"), 201)
    assert mine["customer_id"] == c1["id"]
    assert "storage_key" not in mine and "uploaded_by" not in mine  # staff-only columns
    staff = h.ok(upload(acme_owner, PDF + os.urandom(8), customer_id=c2["id"]), 201)
    assert p1.get(f"{API}/files/{mine['id']}/content").status_code == 200
    h.expect_error(p1.get(f"{API}/files/{staff['id']}/content"), 404, "not_found")
    h.expect_error(p1.get(f"{API}/files/{f['id']}/content"), 404, "not_found")
    h.expect_error(p2.get(f"{API}/files/{mine['id']}/content"), 404, "not_found")
    assert [r["id"] for r in h.list_all(p2, "files")] == [staff["id"]]
    # a customer cannot file content under another customer
    h.expect_error(upload(p1, PDF, customer_id=c2["id"]), 422, "unprocessable", field="customer_id")


def test_same_content_is_stored_once_and_idempotent_retry(acme_owner, server):
    body = PDF + os.urandom(32)
    a = h.ok(upload(acme_owner, body, name="a.pdf"), 201)
    b = h.ok(upload(acme_owner, body, name="b.pdf"), 201)
    assert a["id"] != b["id"] and a["sha256"] == b["sha256"]
    stored = server.data / "files" / "acme" / a["sha256"][:2] / a["sha256"]
    assert stored.read_bytes() == body
    key = h.uniq("idem")
    r1 = acme_owner.post(f"{API}/files", files={"file": ("c.pdf", body, "application/pdf")},
                         headers={"Idempotency-Key": key})
    r2 = acme_owner.post(f"{API}/files", files={"file": ("c.pdf", body, "application/pdf")},
                         headers={"Idempotency-Key": key})
    assert r1.status_code == 201 and r2.status_code == 201
    assert r1.json()["id"] == r2.json()["id"] and r2.headers.get("idempotent-replayed") == "true"
    other = acme_owner.post(f"{API}/files", files={"file": ("c.pdf", body + b"!", "application/pdf")},
                            headers={"Idempotency-Key": key})
    h.expect_error(other, 409, "idempotency_conflict")


def test_large_upload_streams_past_the_json_body_limit(acme_owner):
    # 3 MiB: over the 1 MiB JSON body limit, under the tenant's 25 MiB
    body = PDF + os.urandom(3 * 1024 * 1024)
    f = h.ok(upload(acme_owner, body), 201)
    assert f["file_size"] == len(body)
    r = acme_owner.get(f"{API}/files/{f['id']}/content")
    assert hashlib.sha256(r.content).hexdigest() == f["sha256"]
    # a JSON body of that size is still refused
    h.expect_error(acme_owner.post(f"{API}/customers", content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                                   headers={"Content-Type": "application/json"}), 413, "payload_too_large")


def test_parallel_uploads(acme_owner):
    bodies = [PDF + os.urandom(200_000) for _ in range(6)]
    out = [None] * len(bodies)

    def go(i):
        out[i] = upload(acme_owner, bodies[i], name=f"p{i}.pdf")

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for body, r in zip(bodies, out):
        assert h.ok(r, 201)["sha256"] == hashlib.sha256(body).hexdigest()
