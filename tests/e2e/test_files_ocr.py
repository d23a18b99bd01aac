"""OCR of customer documents (issue #12): a document made from an image or a
PDF queues the documents.ocr job; Tesseract reads the text (PDF pages rendered
by poppler), the job fills ocr_content, ocr_confidence (0.00-1.00) and
ocr_processed, and the text is found with q=. The OCR columns are the
server's. Timing: one A4 page at 300 dpi takes about 2.5 s on one core.
Both engines."""
import json

import helpers as h
import media_helpers as m

API = "/api/v1"


def _document(c, cust, content, name, ctype):
    f = h.upload_file(c, content, name=name, ctype=ctype)
    return h.create(c, "customer_documents", {"customer_id": cust["id"], "document_name": h.uniq("doc"),
                                              "file_id": f["id"]})


def _read(c, doc):
    return m.wait_row(c, "customer_documents", doc["id"], lambda r: r["ocr_processed"], "the OCR")


def _job(c, doc):
    jobs = [j for j in m.jobs_of(c, "documents.ocr") if doc["id"] in json.dumps(j.get("payload"))]
    assert len(jobs) == 1, jobs
    return jobs[0]


def test_the_text_of_a_pdf_is_read_and_found(acme_owner, acme_viewer, acme_agent, globex_owner):
    cust = h.create_customer(acme_owner)
    word = "QUARTZ"  # no other test writes it: the search below must find this document only
    doc = _document(acme_owner, cust, m.pdf_with_text(f"INVOICE {word} PAID"), "invoice.pdf", "application/pdf")
    assert doc["ocr_processed"] is False and doc["ocr_content"] is None
    doc = _read(acme_owner, doc)
    assert "INVOICE" in doc["ocr_content"] and word in doc["ocr_content"], doc["ocr_content"]
    assert 0.5 <= float(doc["ocr_confidence"]) <= 1.0, doc["ocr_confidence"]
    job = _job(acme_owner, doc)
    assert job["status"] == "done" and job["result"]["chars"] == len(doc["ocr_content"])
    print(f"OCR of one PDF page took {job['result']['ms']} ms")

    # q= finds it by the recognised word, for staff of the tenant only
    found = h.list_all(acme_viewer, "customer_documents", {"q": word})
    assert [r["id"] for r in found] == [doc["id"]]
    assert h.list_all(globex_owner, "customer_documents", {"q": word}) == []
    # without the documents' permission, no search at all
    h.expect_error(acme_agent.get(f"{API}/customer_documents", params={"q": word}), 403, "forbidden")


def test_the_ocr_columns_are_the_servers(acme_owner):
    cust = h.create_customer(acme_owner)
    f = h.upload_file(acme_owner)
    base = {"customer_id": cust["id"], "document_name": h.uniq("doc"), "file_id": f["id"]}
    for field, value in (("ocr_content", "forged"), ("ocr_confidence", "0.99"), ("ocr_processed", True)):
        h.expect_error(acme_owner.post(f"{API}/customer_documents", json={**base, field: value}), 400,
                       "readonly_field")
    assert h.rows_where(acme_owner, "customer_documents", document_name=base["document_name"]) == []
    doc = h.create(acme_owner, "customer_documents", base)
    h.expect_error(acme_owner.patch(f"{API}/customer_documents/{doc['id']}", json={"ocr_content": "x"}), 400,
                   "readonly_field")


def test_an_image_without_text_is_processed_with_none(acme_owner):
    cust = h.create_customer(acme_owner)
    doc = _document(acme_owner, cust, m.png_rows(64, [bytes([255] * 64)] * 64), "blank.png", "image/png")
    doc = _read(acme_owner, doc)
    assert doc["ocr_content"] in (None, ""), doc["ocr_content"]
    assert _job(acme_owner, doc)["status"] == "done"


def test_the_text_of_an_image_is_read_and_found(acme_owner):
    cust = h.create_customer(acme_owner)
    doc = _document(acme_owner, cust, m.png_text("HELLO WORLD"), "scan.png", "image/png")
    doc = _read(acme_owner, doc)
    assert "HELLO WORLD" in doc["ocr_content"], doc["ocr_content"]
    assert float(doc["ocr_confidence"]) > 0.5, doc["ocr_confidence"]
    assert [r["id"] for r in h.list_all(acme_owner, "customer_documents", {"q": "hello"})] == [doc["id"]]
