"""Gold shop CRM (issue #16): a customer's timeline (invoices, payments,
communications, documents and tickets in time order, paged, scoped), the
follow-ups due today in the tenant's time zone or overdue, the job that
tells the creator of an overdue follow-up once, and the special occasions of
a month."""
import datetime as dt
import json
import time

import pytest

import helpers as h

API = "/api/v1"


@pytest.fixture(scope="module")
def shop(new_tenant):
    return new_tenant()


def comm(c, cust, **f):
    body = {"customer_id": cust["id"], "communication_type": "call", "direction": "outbound", "subject": h.uniq("s")}
    body.update(f)
    return h.create(c, "customer_communication_history", body)


def timeline(c, cust, **params):
    return c.get(f"{API}/customers/{cust['id']}/timeline", params=params)


def customer_user(cli, login, t, cust):
    email = f"{h.uniq('cu')}@{t.slug}.test"
    cli.user_create(t.slug, email, "customer")
    uid = h.user_id_by_email(t.owner, email)
    h.ok(t.owner.patch(f"{API}/users/{uid}", json={"customer_id": cust["id"], "user_type": "customer"}))
    return login(t.slug, email)


def test_timeline_in_time_order_and_paged(shop):
    c = shop.owner
    cust, other = h.create_customer(c), h.create_customer(c)
    inv = h.create(c, "invoices", {"customer_id": cust["id"]})
    pay = h.create(c, "payments", {"customer_id": cust["id"], "amount": "10.00", "description": "deposit",
                                   "payment_date": "2026-01-05T10:00:00Z"})
    old = comm(c, cust, communication_date="2026-01-01T09:00:00Z", subject="first visit")
    note = comm(c, cust, direction="internal", subject="prefers 22K", communication_date="2026-01-02T09:00:00Z")
    f = h.upload_file(c, name="id.pdf")
    doc = h.create(c, "customer_documents", {"customer_id": cust["id"], "document_name": "ID proof", "file_id": f["id"]})
    tk = h.create_ticket(c, cust["id"], title="ring resize")
    comm(c, other, subject="not theirs")
    body = h.ok(timeline(c, cust))
    assert body["customer_id"] == cust["id"] and body["next_cursor"] is None
    got = [(e["kind"], e["id"]) for e in body["data"]]
    # newest first: the ticket, document and invoice were created now (in that order, backwards),
    # then the payment (its payment_date), the internal note and the first visit
    assert got[-3:] == [("payment", pay["id"]), ("communication", note["id"]), ("communication", old["id"])]
    assert set(got[:3]) == {("ticket", tk["id"]), ("document", doc["id"]),
                            ("invoice", inv["id"])}
    ats = [e["at"] for e in body["data"]]
    assert ats == sorted(ats, reverse=True)
    first = body["data"][-1]
    assert first["at"] == "2026-01-01T09:00:00.000Z" and first["title"] == "first visit"
    assert first["status"] == "completed"
    assert [e for e in body["data"] if e["kind"] == "invoice"][0]["title"] == inv["invoice_number"]
    asc = h.ok(timeline(c, cust, order="asc"))["data"]
    assert [(e["kind"], e["id"]) for e in asc] == list(reversed(got))
    # pages of 4 then 2
    p1 = h.ok(timeline(c, cust, limit=4))
    assert [(e["kind"], e["id"]) for e in p1["data"]] == got[:4] and p1["next_cursor"]
    p2 = h.ok(timeline(c, cust, limit=4, cursor=p1["next_cursor"]))
    assert [(e["kind"], e["id"]) for e in p2["data"]] == got[4:] and p2["next_cursor"] is None


def test_timeline_refusals_and_scope(shop, cli, login, acme_owner, acme_viewer):
    c = shop.owner
    a, b = h.create_customer(c), h.create_customer(c)
    h.create(c, "invoices", {"customer_id": a["id"]})
    pay = h.create(c, "payments", {"customer_id": a["id"], "amount": "5.00"})
    comm(c, a, direction="internal", subject="internal only")
    out = comm(c, a, direction="outbound", subject="called about the ring")
    tk = h.create_ticket(c, a["id"])
    for params in ({"limit": "0"}, {"limit": "101"}, {"cursor": "-1"}, {"cursor": "x"}, {"order": "up"},
                   {"page": "2"}):
        h.expect_error(timeline(c, a, **params), 400, "invalid_query")
    h.expect_error(c.get(f"{API}/customers/00000000-0000-7000-8000-000000000000/timeline"), 404, "not_found")
    h.expect_error(timeline(acme_owner, a), 404, "not_found")
    # a customer user sees their own timeline, of the kinds they may view, without internal notes
    me = customer_user(cli, login, shop, a)
    mine = h.ok(timeline(me, a))["data"]
    kinds = {(e["kind"], e["id"]) for e in mine}
    assert ("payment", pay["id"]) in kinds and ("ticket", tk["id"]) in kinds
    assert all(e["kind"] not in ("invoice", "document") for e in mine)
    assert all(e["kind"] != "communication" or e["id"] == out["id"] for e in mine)
    h.expect_error(timeline(me, b), 404, "not_found")
    # staff without the modules see less, never an error
    acme_cust = h.create_customer(acme_owner)
    assert h.ok(timeline(acme_viewer, acme_cust))["data"] == []


def local_day(tz_offset_minutes):
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=tz_offset_minutes)).date()


def utc_of_local(day, hh, mm, tz_offset_minutes):
    t = dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=dt.timezone.utc) - dt.timedelta(
        minutes=tz_offset_minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_job(server, t, kind):
    c = t.owner
    before = {j["id"] for j in h.list_all(c, "jobs", {"kind": kind})}
    args = ["job", "enqueue", "--tenant", t.slug, "--kind", kind, "--max-attempts", "1"]
    if server.db_url:
        args += ["--db", server.db_url]
    server.cli.run(*args)
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        new = [j for j in h.list_all(c, "jobs", {"kind": kind}) if j["id"] not in before]
        if new and new[0]["status"] in ("done", "dead"):
            assert new[0]["status"] == "done", new[0]
            return new[0]["result"]
        time.sleep(0.1)
    raise AssertionError(f"{kind} did not finish")


def test_follow_ups_today_and_overdue_and_the_notice(server, new_tenant):
    t = new_tenant()
    c = t.owner
    settings = h.list_all(c, "company_settings")[0]
    h.ok(c.patch(f"{API}/company_settings/{settings['id']}", json={"timezone": "Asia/Kolkata"}))
    ist = 330
    today, cust = local_day(ist), h.create_customer(c, name="Meera Rao")
    late_tonight = comm(c, cust, follow_up_required=True, follow_up_date=utc_of_local(today, 23, 59, ist))
    yesterday = comm(c, cust, follow_up_required=True,
                     follow_up_date=utc_of_local(today - dt.timedelta(days=1), 23, 59, ist), subject="bring the ring")
    comm(c, cust, follow_up_required=True, follow_up_date=utc_of_local(today + dt.timedelta(days=1), 0, 1, ist))
    comm(c, cust, follow_up_required=True, follow_up_date=utc_of_local(today - dt.timedelta(days=2), 9, 0, ist),
         status="cancelled")
    comm(c, cust, follow_up_required=False, follow_up_date=utc_of_local(today - dt.timedelta(days=3), 9, 0, ist))
    rep = h.ok(c.get(f"{API}/reports/follow_ups", params={"due": "today"}))
    assert rep["timezone"] == "Asia/Kolkata" and rep["today"] == str(today)
    assert [r["communication_id"] for r in rep["data"]] == [late_tonight["id"]]
    assert rep["data"][0]["customer_name"] == "Meera Rao"
    rep = h.ok(c.get(f"{API}/reports/follow_ups", params={"due": "overdue"}))
    assert [r["communication_id"] for r in rep["data"]] == [yesterday["id"]]
    for params in ({}, {"due": "tomorrow"}, {"due": "today", "x": "1"}):
        h.expect_error(c.get(f"{API}/reports/follow_ups", params=params), 400, "invalid_query")
    # the job tells the creator once
    assert run_job(server, t, "crm.follow_ups") == {"notified": 1}
    logs = [l for l in h.list_all(c, "notification_logs") if l["reference_id"] == yesterday["id"]]
    assert len(logs) == 1 and "Meera Rao" in logs[0]["subject"] and "bring the ring" in logs[0]["body"]
    assert h.get(c, "customer_communication_history", yesterday["id"])["follow_up_notified_at"]
    assert run_job(server, t, "crm.follow_ups") == {"notified": 0}
    # moved to another past date: a new follow-up, told again
    h.ok(c.patch(f"{API}/customer_communication_history/{yesterday['id']}",
                 json={"follow_up_date": utc_of_local(today - dt.timedelta(days=1), 20, 0, ist)}))
    assert h.get(c, "customer_communication_history", yesterday["id"])["follow_up_notified_at"] is None
    assert run_job(server, t, "crm.follow_ups") == {"notified": 1}
    assert len([l for l in h.list_all(c, "notification_logs") if l["reference_id"] == yesterday["id"]]) == 2
    h.expect_error(c.patch(f"{API}/customer_communication_history/{yesterday['id']}",
                           json={"follow_up_notified_at": None}), 400, "readonly_field")
    sched = [s for s in h.list_all(c, "schedules") if s["kind"] == "crm.follow_ups"]
    assert len(sched) == 1 and sched[0]["enabled"] is True


def test_occasions_of_a_month(shop, cli, login):
    c = shop.owner
    a, b, gone = (h.create_customer(c, name=n) for n in ("Anil", "Bela", "Gone"))
    h.create(c, "customer_preferences", {"customer_id": a["id"],
                                         "special_occasions": {"birthday": "1985-03-14", "anniversary": "2010-11-02"}})
    h.create(c, "customer_preferences", {"customer_id": b["id"],
                                         "special_occasions": [{"type": "birthday", "date": "03-01"}]})
    h.create(c, "customer_preferences", {"customer_id": gone["id"], "special_occasions": {"birthday": "1990-03-20"}})
    assert c.delete(f"{API}/customers/{gone['id']}").status_code in (200, 204)
    rep = h.ok(c.get(f"{API}/reports/occasions", params={"month": 3}))
    mine = [(r["customer_name"], r["occasion"], r["day"]) for r in rep["data"]
            if r["customer_id"] in (a["id"], b["id"], gone["id"])]
    assert mine == [("Bela", "birthday", 1), ("Anil", "birthday", 14)]
    rep = h.ok(c.get(f"{API}/reports/occasions", params={"month": 11}))
    assert [(r["customer_name"], r["occasion"], r["date"]) for r in rep["data"]
            if r["customer_id"] == a["id"]] == [("Anil", "anniversary", "2010-11-02")]
    for params in ({}, {"month": 0}, {"month": 13}, {"month": "march"}, {"month": 3, "year": 2026}):
        h.expect_error(c.get(f"{API}/reports/occasions", params=params), 400, "invalid_query")
    # what the report could not read is refused when written
    for bad in ({"birthday": "14 March"}, {"birthday": "1985-02-30"}, {"birthday": 1985}, [{"date": "03-01"}],
                [{"type": "birthday", "date": "13-01"}], "march"):
        h.expect_error(c.post(f"{API}/customer_preferences", json={"customer_id": h.create_customer(c)["id"],
                                                                   "special_occasions": bad}),
                       400, "validation_failed", "special_occasions")
    pref = h.rows_where(c, "customer_preferences", customer_id=b["id"])[0]
    h.expect_error(c.patch(f"{API}/customer_preferences/{pref['id']}", json={"special_occasions": {"x": "y"}}),
                   400, "validation_failed", "special_occasions")
    me = customer_user(cli, login, shop, a)
    h.expect_error(me.get(f"{API}/reports/occasions", params={"month": 3}), 403, "forbidden")
    h.expect_error(me.get(f"{API}/reports/follow_ups", params={"due": "today"}), 403, "forbidden")
