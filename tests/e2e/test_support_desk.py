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
