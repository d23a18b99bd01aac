"""Retention of customer documents (issue #12): purge_after is created_at +
retention_days (0: kept until removed by hand); the documents.purge job,
scheduled daily in every tenant, deletes documents past it with a `purged`
audit entry, unless their legal_hold flag or an active legal hold (record,
customer) keeps them; a purged document's files row goes when nothing else
names it, and its content when no files row has its SHA-256 any more.
Documents are back-dated in the database (the server sets created_at), then
their retention is changed through the API, which recomputes purge_after.
Both engines."""
import datetime as dt
import json
import os
import time
import uuid

import pytest

import helpers as h
import media_helpers as m

API = "/api/v1"


@pytest.fixture
def shop(cli, login):
    slug = "keep-" + uuid.uuid4().hex[:8]
    cli.tenant_create(slug)
    return slug, login(slug, f"owner@{slug}.test", h.OWNER_PASSWORD)



def purge(server, slug, c):
    """Queue documents.purge and wait for it; its result."""
    before = len(m.jobs_of(c, "documents.purge"))
    args = ["job", "enqueue", "--tenant", slug, "--kind", "documents.purge"]
    if server.db_url:
        args += ["--db", server.db_url]
    server.cli.run(*args)
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        jobs = m.jobs_of(c, "documents.purge")
        if len(jobs) > before and all(j["status"] in ("done", "dead") for j in jobs):
            job = max(jobs, key=lambda j: j["created_at"])
            assert job["status"] == "done", job
            return job["result"]
        time.sleep(0.1)
    raise AssertionError("the purge job did not finish")


def backdate(server, slug, c, doc, days_ago, retention_days):
    """Make doc days_ago old, then set its retention through the API."""
    then = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    h.tenant_sql(server, slug, f"UPDATE customer_documents SET created_at = '{then}' WHERE id = '{doc['id']}'")
    return h.ok(c.patch(f"{API}/customer_documents/{doc['id']}", json={"retention_days": retention_days}))


def stored(server, slug, sha):
    return os.path.exists(server.data / "files" / slug / sha[:2] / sha)


def note():
    """Plain text: a document OCR leaves alone, so no job touches the rows here."""
    return f"a note {uuid.uuid4().hex}\n".encode()


def document(c, cust, content=None, **extra):
    f = h.upload_file(c, content or note(), name="d.txt", ctype="text/plain")
    d = h.create(c, "customer_documents", {"customer_id": cust["id"], "document_name": h.uniq("doc"),
                                           "file_id": f["id"], "retention_days": 2, **extra})
    return d, f


def test_the_daily_schedule_is_seeded(shop):
    slug, c = shop
    rows = [s for s in h.list_all(c, "schedules") if s["kind"] == "documents.purge"]
    assert len(rows) == 1 and rows[0]["enabled"] is True and rows[0]["cron"] == "0 3 * * *", rows
    nxt = h.parse_ts(rows[0]["next_run_at"])
    now = dt.datetime.now(dt.timezone.utc)
    assert (nxt.hour, nxt.minute) == (3, 0) and now < nxt <= now + dt.timedelta(days=1)


def test_retention_sets_purge_after(shop, server):
    slug, c = shop
    cust = h.create_customer(c)
    d, _ = document(c, cust)
    created = h.parse_ts(d["created_at"])
    assert h.parse_ts(d["purge_after"]) == created + dt.timedelta(days=2)
    d = h.ok(c.patch(f"{API}/customer_documents/{d['id']}", json={"retention_days": 0}))
    assert d["purge_after"] is None
    d = h.ok(c.patch(f"{API}/customer_documents/{d['id']}", json={"retention_days": 30}))
    assert h.parse_ts(d["purge_after"]) == created + dt.timedelta(days=30)
    # the server's column; bounds and types of the days
    h.expect_error(c.patch(f"{API}/customer_documents/{d['id']}", json={"purge_after": d["created_at"]}), 400,
                   "readonly_field")
    for bad in (-1, 1000000, "soon"):
        h.expect_error(c.patch(f"{API}/customer_documents/{d['id']}", json={"retention_days": bad}), 400,
                       "validation_failed")
    assert h.get(c, "customer_documents", d["id"])["retention_days"] == 30


def test_purge_with_and_without_hold(shop, server, login, cli):
    slug, c = shop
    cust, held_cust = h.create_customer(c), h.create_customer(c)
    expired, fe = document(c, cust)
    held, fh = document(c, cust, legal_hold=True)
    fresh, ff = document(c, cust)
    forever, fv = document(c, cust)
    # two documents of one file (one expired), and one content uploaded twice
    shared_old = h.create(c, "customer_documents", {"customer_id": cust["id"], "document_name": "copy",
                                                    "file_id": ff["id"], "retention_days": 2})
    twice = note()
    dup_old, fd1 = document(c, cust, twice)
    dup_new, fd2 = document(c, cust, twice)
    assert fd1["id"] != fd2["id"] and fd1["sha256"] == fd2["sha256"]
    # an active legal hold on a customer keeps that customer's documents
    cust_held, fc = document(c, held_cust)
    h.create(c, "legal_holds", {"scope": "customer", "customer_id": held_cust["id"], "reason": "litigation"})

    for d in (expired, held, shared_old, dup_old, cust_held):
        assert h.parse_ts(backdate(server, slug, c, d, 3, 1)["purge_after"]) < dt.datetime.now(dt.timezone.utc)
    backdate(server, slug, c, forever, 3, 0)
    assert all(stored(server, slug, f["sha256"]) for f in (fe, fh, ff, fv, fd1, fc))

    result = purge(server, slug, c)
    assert result == {"purged": 3, "files_removed": 1}, result
    left = {d["id"] for d in h.list_all(c, "customer_documents")}
    assert left == {held["id"], fresh["id"], forever["id"], dup_new["id"], cust_held["id"]}
    # the expired document's file went, row and content
    h.expect_error(c.get(f"{API}/files/{fe['id']}"), 404, "not_found")
    assert not stored(server, slug, fe["sha256"])
    # a file another document names stays, and serves
    assert h.get(c, "files", ff["id"])["id"] == ff["id"]
    assert c.get(f"{API}/customer_documents/{fresh['id']}/content").status_code == 200
    # a content another files row has stays: only the purged document's files row went
    h.expect_error(c.get(f"{API}/files/{fd1['id']}"), 404, "not_found")
    assert stored(server, slug, fd2["sha256"])
    assert c.get(f"{API}/customer_documents/{dup_new['id']}/content").status_code == 200
    # every purge is audited, with the row as it was
    for d in (expired, shared_old, dup_old):
        rows = h.audit_rows(c, entity_type="customer_documents", entity_id=d["id"], action="purged")
        assert len(rows) == 1, rows
    assert h.audit_rows(c, entity_type="files", entity_id=fe["id"], action="purged")

    # a viewer cannot lift a hold; the owner can, and the next run purges it
    email = f"viewer@{slug}.test"
    cli.user_create(slug, email, "viewer")
    viewer = login(slug, email)
    h.expect_error(viewer.patch(f"{API}/customer_documents/{held['id']}", json={"legal_hold": False}), 403,
                   "forbidden")
    h.ok(c.patch(f"{API}/customer_documents/{held['id']}", json={"legal_hold": False}))
    assert purge(server, slug, c) == {"purged": 1, "files_removed": 1}
    h.expect_error(c.get(f"{API}/customer_documents/{held['id']}"), 404, "not_found")
    assert not stored(server, slug, fh["sha256"])
    # the customer's hold still keeps its document; nothing more is due
    assert h.get(c, "customer_documents", cust_held["id"])["id"] == cust_held["id"]
    assert purge(server, slug, c) == {"purged": 0, "files_removed": 0}


def test_other_tenants_are_untouched(shop, server, acme_owner):
    slug, c = shop
    mine = h.create_customer(acme_owner)
    keep, f = document(acme_owner, mine)
    cust = h.create_customer(c)
    gone, _ = document(c, cust)
    backdate(server, slug, c, gone, 3, 1)
    assert purge(server, slug, c)["purged"] == 1
    assert h.get(acme_owner, "customer_documents", keep["id"])["id"] == keep["id"]
    assert stored(server, "acme", f["sha256"])


def test_documents_stored_before_purge_after_get_theirs(shop, server):
    slug, c = shop
    cust = h.create_customer(c)
    old, f = document(c, cust)
    backdate(server, slug, c, old, 3, 1)
    # as a document written before the column existed
    h.tenant_sql(server, slug, f"UPDATE customer_documents SET purge_after = NULL WHERE id = '{old['id']}'")
    assert h.get(c, "customer_documents", old["id"])["purge_after"] is None
    assert purge(server, slug, c) == {"purged": 1, "files_removed": 1}
    h.expect_error(c.get(f"{API}/customer_documents/{old['id']}"), 404, "not_found")
    assert not stored(server, slug, f["sha256"])
