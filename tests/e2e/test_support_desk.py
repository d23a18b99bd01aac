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
