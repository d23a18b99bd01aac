"""The support desk around a ticket (issue 11): the category's auto-response
on a new ticket (a system message marked is_auto_response, not a first
response). Both engines."""
import helpers as h

API = "/api/v1"


def _portal(cli, login, owner, tenant, customer_id):
    """A customer-portal user (role customer) of customer_id; its client."""
    email = h.uniq("portal") + f"@{tenant}.test"
    cli.user_create(tenant, email, "customer")
    uid = h.user_id_by_email(owner, email)
    h.ok(owner.patch(f"{API}/users/{uid}", json={"customer_id": customer_id}))
    return login(tenant, email)


def _messages(c, tid):
    return h.list_all(c, "ticket_messages", {"ticket_id": tid})


def test_auto_response_on_a_new_ticket_when_the_category_has_one(new_tenant, cli, login):
    t = new_tenant(agents=1)
    c = t.owner
    cust = h.create_customer(c)
    portal = _portal(cli, login, c, t.slug, cust["id"])
    auto = h.create_category(c, auto_response="Thanks! {{ticket_number}} is with us; {{ticket_number}} again.")
    assert auto["auto_response"].startswith("Thanks!")
    quiet = h.create_category(c)
    assert quiet["auto_response"] is None
    # the customer's own ticket gets the reply, from the system
    tk = h.create(portal, "tickets", {"title": "Printer", "description": "It jams", "category_id": auto["id"]})
    msgs = _messages(portal, tk["id"])
    assert len(msgs) == 1
    m = msgs[0]
    assert m["content"] == f"Thanks! {tk['ticket_number']} is with us; {tk['ticket_number']} again."
    assert m["is_auto_response"] is True and m["sender_type"] == "system" and m["sender_id"] is None
    assert _messages(c, tk["id"])[0]["is_internal"] is False  # staff see the flag: a public reply
    # it is no first response: the response clock still runs
    assert h.get(c, "tickets", tk["id"])["first_response_at"] is None
    reply = h.create(c, "ticket_messages", {"ticket_id": tk["id"], "content": "Looking"})
    assert reply["sender_type"] == "agent"
    assert h.get(c, "tickets", tk["id"])["first_response_at"] == reply["created_at"]
    # no auto-response without one on the category, or without a category
    for cat in (quiet["id"], None):
        body = {"category_id": cat} if cat else {}
        other = h.create_ticket(c, cust["id"], **body)
        assert _messages(c, other["id"]) == []
    # a customer's own message is theirs, not the system's
    mine = h.create(portal, "ticket_messages", {"ticket_id": tk["id"], "content": "Any news?"})
    assert mine["sender_type"] == "customer"


def _rate(c, tid, body):
    return c.post(f"{API}/tickets/{tid}/rate", json=body)


def test_csat_rating_once_per_resolved_ticket(new_tenant, cli, login):
    t = new_tenant()
    c = t.owner
    cust, other_cust = h.create_customer(c), h.create_customer(c)
    portal = _portal(cli, login, c, t.slug, cust["id"])
    stranger = _portal(cli, login, c, t.slug, other_cust["id"])
    tk = h.create(portal, "tickets", {"title": "Refund", "description": "Where is it"})
    # not before it is resolved
    h.expect_error(_rate(portal, tk["id"], {"rating": 5}), 422, "invalid_transition")
    h.ok(c.post(f"{API}/tickets/{tk['id']}/resolve", json={}))
    # malformed bodies: 400, nothing written
    h.expect_error(_rate(portal, tk["id"], {}), 400, "validation_failed", "rating")
    h.expect_error(_rate(portal, tk["id"], {"rating": "five"}), 400, "validation_failed", "rating")
    h.expect_error(_rate(portal, tk["id"], {"rating": 4, "stars": 4}), 400, "unknown_field", "stars")
    # out of range: 422
    for bad in (0, 6, -1):
        h.expect_error(_rate(portal, tk["id"], {"rating": bad}), 422, "unprocessable", "rating")
    # another customer's ticket does not exist for them
    h.expect_error(_rate(stranger, tk["id"], {"rating": 1}), 404, "not_found")
    h.expect_error(_rate(portal, h.MISSING_ID, {"rating": 1}), 404, "not_found")
    assert h.get(c, "tickets", tk["id"])["customer_satisfaction"] is None
    # the customer rates their own ticket, once
    rated = h.ok(_rate(portal, tk["id"], {"rating": 4, "comment": "Quick, thanks"}))
    assert rated["customer_satisfaction"] == 4 and rated["satisfaction_feedback"] == "Quick, thanks"
    assert rated["status"] == "resolved"
    h.expect_error(_rate(portal, tk["id"], {"rating": 1}), 409, "conflict")
    h.expect_error(_rate(c, tk["id"], {"rating": 1}), 409, "conflict")
    # nobody writes the rating directly
    h.expect_error(c.patch(f"{API}/tickets/{tk['id']}", json={"customer_satisfaction": 1}), 400, "readonly_field")
    h.expect_error(portal.patch(f"{API}/tickets/{tk['id']}", json={"customer_satisfaction": 1}), 403, "forbidden")
    got = h.get(c, "tickets", tk["id"])
    assert got["customer_satisfaction"] == 4 and got["satisfaction_feedback"] == "Quick, thanks"
    # a closed ticket may be rated too; a cancelled one may not
    t2 = h.create_ticket(c, cust["id"])
    h.ok(c.post(f"{API}/tickets/{t2['id']}/resolve", json={}))
    h.ok(c.post(f"{API}/tickets/{t2['id']}/close", json={}))
    assert h.ok(_rate(portal, t2["id"], {"rating": 2}))["customer_satisfaction"] == 2
    t3 = h.create_ticket(c, cust["id"])
    h.ok(c.post(f"{API}/tickets/{t3['id']}/cancel", json={}))
    h.expect_error(_rate(portal, t3["id"], {"rating": 3}), 422, "invalid_transition")
    # a viewer may not rate
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    t4 = h.create_ticket(c, cust["id"])
    h.ok(c.post(f"{API}/tickets/{t4['id']}/resolve", json={}))
    h.expect_error(_rate(login(t.slug, email), t4["id"], {"rating": 3}), 403, "forbidden")
    assert h.get(c, "tickets", t4["id"])["customer_satisfaction"] is None


def _suggest(c, tid, **params):
    return c.get(f"{API}/tickets/{tid}/suggestions", params=params)


def test_kb_suggestions_rank_documents_by_the_ticket_words(new_tenant, cli, login):
    t = new_tenant()
    c = t.owner
    cust, other_cust = h.create_customer(c), h.create_customer(c)
    portal = _portal(cli, login, c, t.slug, cust["id"])
    stranger = _portal(cli, login, c, t.slug, other_cust["id"])
    best = h.create_document(c, title="Printer paper jam", content="Open the tray; the printer pulls paper.",
                             is_public=True)
    title_only = h.create_document(c, title="Printer drivers", content="Install from the vendor site.",
                                   is_public=True)
    body_only = h.create_document(c, title="Office supplies", content="Order paper and toner in bulk.",
                                  is_public=True)
    staff_only = h.create_document(c, title="Printer jam escalation runbook",
                                   content="Internal: paper jam handling for printer fleets.", is_public=False)
    h.create_document(c, title="Holiday calendar", content="Closed on new year.", is_public=True)
    tk = h.create(portal, "tickets", {"title": "PRINTER jam", "description": "The printer has a paper jam again!"})
    r = h.ok(_suggest(c, tk["id"]))
    assert r["ticket_id"] == tk["id"] and r["terms"] == ["printer", "jam", "paper", "again"]
    got = [(d["id"], d["score"]) for d in r["documents"]]
    # title: printer 2 + jam 2 + paper 2, content: printer 1 + paper 1 (jam not in content) = 8
    # staff runbook: title printer 2 + jam 2, content paper 1 + jam 1 + printer 1 = 7
    assert got == [(best["id"], 8), (staff_only["id"], 7), (title_only["id"], 2), (body_only["id"], 1)]
    assert [d["is_public"] for d in r["documents"]] == [True, False, True, True]
    assert r["documents"][0]["title"] == "Printer paper jam"
    # the customer sees the public documents only
    mine = h.ok(_suggest(portal, tk["id"]))
    assert [d["id"] for d in mine["documents"]] == [best["id"], title_only["id"], body_only["id"]]
    # limit
    assert [d["id"] for d in h.ok(_suggest(c, tk["id"], limit=2))["documents"]] == [best["id"], staff_only["id"]]
    for bad in ("0", "21", "x", ""):
        h.expect_error(_suggest(c, tk["id"], limit=bad), 400, "invalid_query")
    h.expect_error(_suggest(c, tk["id"], sort="x"), 400, "invalid_query")
    # another customer's ticket, a missing one, another tenant's
    h.expect_error(_suggest(stranger, tk["id"]), 404, "not_found")
    h.expect_error(_suggest(c, h.MISSING_ID), 404, "not_found")
    h.expect_error(_suggest(new_tenant().owner, tk["id"]), 404, "not_found")
    # a ticket with no usable word suggests nothing
    quiet = h.create_ticket(c, cust["id"], title="Hi", description="?? ..")
    r = h.ok(_suggest(c, quiet["id"]))
    assert r["terms"] == [] and r["documents"] == []


def _half_up(num, den):
    """num/den to 2 places, rounded half up, as the report writes it."""
    from decimal import Decimal, ROUND_HALF_UP
    return str((Decimal(num) / Decimal(den)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _ms(ts):
    return round(h.parse_ts(ts).timestamp() * 1000)


def test_support_report_by_category_and_agent(new_tenant, cli, login):
    import datetime as dt
    t = new_tenant(agents=1)
    c = t.owner
    agent = login(t.slug, t.agents[0])
    cust = h.create_customer(c)
    portal = _portal(cli, login, c, t.slug, cust["id"])
    a, b = h.create_category(c, name="A " + h.uniq()), h.create_category(c, name="B " + h.uniq())

    def ticket(cat=None, reply=False, resolve=False, rating=None, cancel=False):
        tk = h.create_ticket(c, cust["id"], **({"category_id": cat["id"]} if cat else {}))
        if reply:
            h.create(agent, "ticket_messages", {"ticket_id": tk["id"], "content": "On it"})
        if resolve:
            h.ok(c.post(f"{API}/tickets/{tk['id']}/resolve", json={}))
        if rating:
            h.ok(portal.post(f"{API}/tickets/{tk['id']}/rate", json={"rating": rating}))
        if cancel:
            h.ok(c.post(f"{API}/tickets/{tk['id']}/cancel", json={}))
        return h.get(c, "tickets", tk["id"])

    in_a = [ticket(a, reply=True, resolve=True, rating=5), ticket(a, reply=True, resolve=True, rating=4),
            ticket(a, reply=True), ticket(a)]
    in_b = [ticket(b, cancel=True), ticket(b, reply=True, resolve=True, rating=2)]
    no_cat = [ticket()]
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    rep = h.ok(c.get(f"{API}/reports/support", params={"from": today, "to": today, "group": "category"}))
    assert rep["report"] == "support" and rep["group"] == "category" and rep["from"] == today

    def minutes(rows):
        fr = sorted(_ms(x["first_response_at"]) - _ms(x["created_at"]) for x in rows if x["first_response_at"])
        if not fr:
            return None, None
        n = len(fr)
        twice = 2 * fr[n // 2] if n % 2 else fr[n // 2 - 1] + fr[n // 2]
        return _half_up(sum(fr), n * 60000), _half_up(twice, 2 * 60000)

    rows = {r["key"]: r for r in rep["rows"]}
    assert set(rows) == {a["id"], b["id"], "none"}
    ra, rb, rn = rows[a["id"]], rows[b["id"]], rows["none"]
    assert ra["name"] == a["name"] and rn["name"] is None
    assert (ra["tickets"], ra["response_measured"], ra["response_met"], ra["response_compliance_pct"]) == \
        (4, 3, 3, "100.00")
    assert (ra["resolution_measured"], ra["resolution_met"], ra["resolution_compliance_pct"]) == (2, 2, "100.00")
    assert (ra["csat_count"], ra["csat_average"], ra["responded"]) == (2, "4.50", 3)
    assert (ra["first_response_mean_minutes"], ra["first_response_median_minutes"]) == minutes(in_a)
    # the cancelled ticket counts as a ticket, for no SLA
    assert (rb["tickets"], rb["response_measured"], rb["resolution_measured"], rb["csat_average"]) == (2, 1, 1, "2.00")
    assert (rn["tickets"], rn["response_measured"], rn["response_compliance_pct"], rn["csat_average"]) == \
        (1, 0, None, None)
    assert rn["first_response_mean_minutes"] is None and rn["first_response_median_minutes"] is None
    tot = rep["totals"]
    assert (tot["tickets"], tot["responded"], tot["csat_count"], tot["csat_average"]) == (7, 4, 3, "3.67")
    assert (tot["first_response_mean_minutes"], tot["first_response_median_minutes"]) == minutes(in_a + in_b + no_cat)
    # by agent: the one agent had them all
    rep = h.ok(c.get(f"{API}/reports/support", params={"from": today, "to": today, "group": "agent"}))
    assert [(r["key"], r["name"], r["tickets"]) for r in rep["rows"]] == \
        [(h.user_id_by_email(c, t.agents[0]), t.agents[0], 7)]
    # another period has nothing
    rep = h.ok(c.get(f"{API}/reports/support", params={"from": "2020-01-01", "to": "2020-12-31"}))
    assert rep["group"] == "category" and rep["rows"] == [] and rep["totals"]["tickets"] == 0
    assert rep["totals"]["csat_average"] is None
    # bad queries
    for params in ({"to": today}, {"from": today}, {"from": today, "to": "2020-01-01"},
                   {"from": "2026-02-30", "to": today}, {"from": today, "to": today, "group": "customer"},
                   {"from": today, "to": today, "page": "2"}):
        h.expect_error(c.get(f"{API}/reports/support", params=params), 400, "invalid_query")
    # the analyst reads it and writes no ticket; customers and agents do not read it
    email = f"analyst@{t.slug}.test"
    cli.user_create(t.slug, email, "analyst")
    analyst = login(t.slug, email)
    assert h.ok(analyst.get(f"{API}/reports/support", params={"from": today, "to": today}))["totals"]["tickets"] == 7
    h.expect_error(analyst.post(f"{API}/tickets", json={"customer_id": cust["id"], "title": "x", "description": "y"}),
                   403, "forbidden")
    h.expect_error(analyst.patch(f"{API}/tickets/{no_cat[0]['id']}", json={"title": "changed"}), 403, "forbidden")
    h.expect_error(analyst.post(f"{API}/tickets/{no_cat[0]['id']}/resolve", json={}), 403, "forbidden")
    assert h.get(c, "tickets", no_cat[0]["id"])["title"] == no_cat[0]["title"]
    for who in (portal, agent):
        h.expect_error(who.get(f"{API}/reports/support", params={"from": today, "to": today}), 403, "forbidden")
    # another tenant's report knows nothing of these
    other = new_tenant().owner
    assert h.ok(other.get(f"{API}/reports/support", params={"from": today, "to": today}))["rows"] == []


def test_two_racing_ratings_one_wins(new_tenant, cli, login):
    from concurrent.futures import ThreadPoolExecutor
    t = new_tenant()
    c = t.owner
    cust = h.create_customer(c)
    portal = _portal(cli, login, c, t.slug, cust["id"])
    for _ in range(5):
        tk = h.create_ticket(c, cust["id"])
        h.ok(c.post(f"{API}/tickets/{tk['id']}/resolve", json={}))
        with ThreadPoolExecutor(2) as pool:
            got = list(pool.map(lambda a: _rate(a[0], tk["id"], {"rating": a[1]}), [(portal, 5), (c, 1)]))
        codes = sorted(r.status_code for r in got)
        assert codes == [200, 409], [h.show(r) for r in got]
        winner = next(r.json() for r in got if r.status_code == 200)
        assert h.get(c, "tickets", tk["id"])["customer_satisfaction"] == winner["customer_satisfaction"]
