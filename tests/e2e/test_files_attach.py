"""Files attached to a record (issue #19, the console's record page):
files.record_table and record_id name the record; the upload is refused when
the record is missing, another tenant's, out of the uploader's sight (404, as
missing) or a customer user's other customer's, when the table is unknown or
only one of the pair is given (400); nothing is stored then. The pair is fixed
once written, and a record's files are listed by it. Both engines."""
import os

import helpers as h
from test_commerce_orders import order
from test_files_records import _portal

API = "/api/v1"


def png():
    # a valid PNG signature and header chunk, unique per call (libmagic reads image/png)
    return bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + os.urandom(16)


def up(c, **fields):
    return c.post(f"{API}/files", files={"file": ("p.png", png(), "image/png")}, data=fields)


def attached(c, table, rid):
    return h.list_all(c, "files", {"record_table": table, "record_id": rid})


def test_a_record_lists_its_files(acme_owner, acme_agent):
    cust = h.create_customer(acme_owner)
    f = h.ok(up(acme_owner, record_table="customers", record_id=cust["id"]), 201)
    assert (f["record_table"], f["record_id"]) == ("customers", cust["id"])
    g = h.ok(up(acme_agent, record_table="customers", record_id=cust["id"]), 201)
    assert sorted(x["id"] for x in attached(acme_owner, "customers", cust["id"])) == sorted([f["id"], g["id"]])
    assert attached(acme_owner, "customers", h.create_customer(acme_owner)["id"]) == []
    # a file without a record stays as it was
    assert h.ok(up(acme_owner), 201)["record_table"] is None
    # files are facts: the pair is not changed afterwards
    h.expect_error(acme_owner.patch(f"{API}/files/{f['id']}", json={"record_id": cust["id"]}), 405,
                   "method_not_allowed")


def test_refusals_store_nothing(acme_owner, acme_agent, globex_owner):
    cust = h.create_customer(acme_owner)
    before = len(h.list_all(acme_owner, "files", {"record_table": "customers"}))
    h.expect_error(up(acme_owner, record_table="customers", record_id=h.MISSING_ID), 404, "not_found")
    h.expect_error(up(acme_owner, record_table="no_such_table", record_id=cust["id"]), 400, "validation_failed",
                   "record_table")
    h.expect_error(up(acme_owner, record_table="files", record_id=cust["id"]), 400, "validation_failed",
                   "record_table")
    h.expect_error(up(acme_owner, record_id=cust["id"]), 400, "validation_failed", "record_table")
    h.expect_error(up(acme_owner, record_table="customers"), 400, "validation_failed", "record_id")
    # another tenant's customer is no record here
    h.expect_error(up(globex_owner, record_table="customers", record_id=cust["id"]), 404, "not_found")
    # the agent may upload but not see orders: an order is as missing to it
    o = order(acme_owner, [])
    h.expect_error(up(acme_agent, record_table="orders", record_id=o["id"]), 404, "not_found")
    assert len(h.list_all(acme_owner, "files", {"record_table": "customers"})) == before
    assert attached(acme_owner, "orders", o["id"]) == []


def test_a_customer_user_attaches_only_to_its_own_customer(cli, login, acme_owner):
    mine, other = h.create_customer(acme_owner), h.create_customer(acme_owner)
    portal = _portal(cli, login, acme_owner, mine["id"])
    f = h.ok(up(portal, record_table="customers", record_id=mine["id"]), 201)
    assert f["customer_id"] == mine["id"]
    h.expect_error(up(portal, record_table="customers", record_id=other["id"]), 404, "not_found")
    assert attached(acme_owner, "customers", other["id"]) == []
