"""Audited reads of personal data (issue #17): a GET that returns rows of a table
with personal columns (customers, customer documents, payment methods...) leaves one audit_logs row
per request, action `read`, naming the table and the ids read in its metadata.
The row is written after the response by the server's read log (the GET takes
no write lock), chained like every audit row, so `audit verify` holds. A table
without personal columns, a refused read and a 404 leave none. Both engines."""
import json
import time
import uuid

import pytest

import helpers as h

API = "/api/v1"


@pytest.fixture(scope="module")
def shop(cli, login):
    slug = "reads-" + uuid.uuid4().hex[:8]
    cli.tenant_create(slug)
    cli.user_create(slug, f"agent@{slug}.test", "agent")
    return slug, login(slug, f"owner@{slug}.test", h.OWNER_PASSWORD), login(slug, f"agent@{slug}.test")


def read_rows(c, rid, wait=5.0):
    """The read audit rows of the request rid, polled: they are written after the response."""
    deadline = time.monotonic() + wait
    while True:
        rows = h.audit_rows(c, request_id=rid)
        if rows or time.monotonic() > deadline:
            return [r for r in rows if r["action"] == "read"]
        time.sleep(0.05)


def settled(c, rid):
    """Rows of a request that should write none: wait for a later read's row, which the
    read log writes after every earlier one, then look."""
    probe = h.create_customer(c)
    prid = "probe-" + uuid.uuid4().hex
    h.ok(c.get(f"{API}/customers/{probe['id']}", headers={"X-Request-Id": prid}))
    assert read_rows(c, prid), "the probe's read was not audited"
    return [r for r in h.audit_rows(c, request_id=rid) if r["action"] == "read"]


def meta(row):
    return h.as_obj(row["metadata"])


def test_get_of_a_customer_is_audited_with_its_id(shop):
    _, owner, _ = shop
    cust = h.create_customer(owner)
    me = h.ok(owner.get(f"{API}/auth/me"))
    rid = "read-" + uuid.uuid4().hex
    got = h.ok(owner.get(f"{API}/customers/{cust['id']}", headers={"X-Request-Id": rid}))
    assert got["id"] == cust["id"]
    rows = read_rows(owner, rid)
    assert len(rows) == 1, rows
    r = rows[0]
    assert r["entity_type"] == "customers" and r["entity_id"] == cust["id"]
    assert r["user_id"] == (me.get("user") or me)["id"]
    assert meta(r) == {"reads": {"customers": [cust["id"]]}, "rows": 1}
    assert r["seq"] and r["hash"] and h.TS_RE.match(r["created_at"])
    # the row's images carry nothing: a read changes no value
    assert r["old_values"] is None and r["new_values"] is None


def test_a_list_page_is_one_row_naming_every_id(shop):
    _, owner, _ = shop
    tag = uuid.uuid4().hex[:8]
    made = [h.create_customer(owner, company_name=f"ReadCo {tag} {i}") for i in range(3)]
    rid = "list-" + uuid.uuid4().hex
    body = h.ok(owner.get(f"{API}/customers", params={"q": f"ReadCo {tag}", "limit": "2"},
                          headers={"X-Request-Id": rid}))
    shown = [row["id"] for row in body["data"]]
    assert len(shown) == 2 and set(shown) <= {m["id"] for m in made}
    rows = read_rows(owner, rid)
    assert len(rows) == 1, rows
    r = rows[0]
    assert r["entity_type"] == "customers" and r["entity_id"] is None
    # exactly the rows the page showed, in its order: not the third one
    assert meta(r) == {"reads": {"customers": shown}, "rows": 2}


def test_payment_methods_are_personal_too(shop):
    _, owner, _ = shop
    cust = h.create_customer(owner)
    pm = h.create(owner, "payment_methods", {"customer_id": cust["id"], "method_type": "upi",
                                             "upi_id": "reader@upi", "holder_name": "Ada Reader"})
    rid = "pm-" + uuid.uuid4().hex
    h.ok(owner.get(f"{API}/payment_methods/{pm['id']}", headers={"X-Request-Id": rid}))
    rows = read_rows(owner, rid)
    assert len(rows) == 1 and meta(rows[0])["reads"] == {"payment_methods": [pm["id"]]}, rows


def test_customer_documents_are_personal_too(shop):
    """A customer's documents (an id card's recognised text is personal): a read of one is audited."""
    _, owner, _ = shop
    cust = h.create_customer(owner)
    f = h.upload_file(owner, b"%PDF-1.4\n%%EOF\n", name="id card.pdf")
    doc = h.create(owner, "customer_documents", {"customer_id": cust["id"], "document_name": "Id card",
                                                 "document_type": "id_copy", "file_id": f["id"]})
    rid = "doc-" + uuid.uuid4().hex
    h.ok(owner.get(f"{API}/customer_documents/{doc['id']}", headers={"X-Request-Id": rid}))
    rows = read_rows(owner, rid)
    assert len(rows) == 1 and meta(rows[0])["reads"] == {"customer_documents": [doc["id"]]}, rows


def test_tables_without_personal_columns_refusals_and_404s_leave_none(shop):
    _, owner, agent = shop
    cat = h.create_category(owner)
    rid_cat = "cat-" + uuid.uuid4().hex
    h.ok(owner.get(f"{API}/categories/{cat['id']}", headers={"X-Request-Id": rid_cat}))
    rid_list = "cats-" + uuid.uuid4().hex
    h.ok(owner.get(f"{API}/categories", headers={"X-Request-Id": rid_list}))
    rid_404 = "nf-" + uuid.uuid4().hex
    h.expect_error(owner.get(f"{API}/customers/{uuid.uuid4()}", headers={"X-Request-Id": rid_404}), 404, "not_found")
    # an agent without the permission to read payment methods is refused before any read
    cust = h.create_customer(owner)
    pm = h.create(owner, "payment_methods", {"customer_id": cust["id"], "method_type": "upi",
                                             "upi_id": "refused@upi", "holder_name": "Bo Refused"})
    rid_403 = "fb-" + uuid.uuid4().hex
    r = agent.get(f"{API}/payment_methods/{pm['id']}", headers={"X-Request-Id": rid_403})
    assert r.status_code in (403, 404), r.text
    assert settled(owner, rid_403) == []
    for rid in (rid_cat, rid_list, rid_404):
        assert [x for x in h.audit_rows(owner, request_id=rid) if x["action"] == "read"] == []


def test_the_chain_holds_with_read_rows(shop, cli):
    slug, owner, _ = shop
    cust = h.create_customer(owner)
    for _ in range(3):
        rid = "v-" + uuid.uuid4().hex
        h.ok(owner.get(f"{API}/customers/{cust['id']}", headers={"X-Request-Id": rid}))
    assert read_rows(owner, rid)
    got = h.ok(owner.get(f"{API}/audit_logs/verify"))
    assert got["holds"] is True and got["broken"] is None, got
    n_read = len(h.audit_rows(owner, action="read"))
    assert n_read >= 3 and got["rows"] >= n_read
    out = cli.run("audit", "verify", "--tenant", slug)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_burst_of_reads_is_audited_row_by_row_in_one_chain(shop, cli):
    """Many gets at once: the read log writes a flush's rows with multi-row
    inserts (64, 32, ... rows a statement), chained in memory. Every request
    keeps exactly its own row, in one unbroken chain."""
    from concurrent.futures import ThreadPoolExecutor
    slug, owner, _ = shop
    custs = [h.create_customer(owner) for _ in range(5)]
    tag = uuid.uuid4().hex[:8]
    asked = {}

    def one(i):
        rid = f"burst-{tag}-{i}"
        cust = custs[i % len(custs)]
        h.ok(owner.get(f"{API}/customers/{cust['id']}", headers={"X-Request-Id": rid}))
        return rid, cust["id"]

    with ThreadPoolExecutor(8) as pool:
        asked = dict(pool.map(one, range(157)))
    deadline = time.monotonic() + 10
    while True:
        rows = [r for r in h.audit_rows(owner, action="read") if (r["request_id"] or "").startswith(f"burst-{tag}-")]
        if len(rows) >= len(asked) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    by_rid = {}
    for r in rows:
        by_rid.setdefault(r["request_id"], []).append(r)
    assert sorted(by_rid) == sorted(asked), (len(by_rid), len(asked))
    for rid, got in by_rid.items():
        assert len(got) == 1 and got[0]["entity_id"] == asked[rid], got
    seqs = [r["seq"] for r in rows]
    assert len(set(seqs)) == len(seqs)
    got = h.ok(owner.get(f"{API}/audit_logs/verify"))
    assert got["holds"] is True and got["broken"] is None, got
    out = cli.run("audit", "verify", "--tenant", slug)
    assert out.returncode == 0, out.stdout + out.stderr
