"""The support desk: SLA dates, auto-assignment, status events, reassignment,
first response, and the plan limits of the free tenant `tiny`."""
import datetime

import pytest

import helpers as h

ONE_SECOND = datetime.timedelta(seconds=1)


def _minutes_after(later, earlier, minutes):
    delta = h.parse_ts(later) - h.parse_ts(earlier) - datetime.timedelta(minutes=minutes)
    return abs(delta) <= ONE_SECOND


# --- categories and SLA ----------------------------------------------------

def test_category_defaults(acme_owner):
    cat = h.create_category(acme_owner)
    assert cat["response_sla_minutes"] == 60
    assert cat["resolution_sla_minutes"] == 480
    assert cat["priority_level"] == 3


@pytest.mark.parametrize("level", [0, 6, "high"])
def test_category_priority_level_range(acme_owner, level):
    name = "Cat " + h.uniq()
    e = h.expect_error(acme_owner.post("/api/v1/categories",
                                       json={"name": name, "priority_level": level}),
                       400, "validation_failed")
    assert "priority_level" in h.error_fields(e)
    assert h.rows_where(acme_owner, "categories", name=name) == []


def test_ticket_sla_from_category(acme_owner):
    cat = h.create_category(acme_owner, response_sla_minutes=30, resolution_sla_minutes=240)
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"], category_id=cat["id"], priority="HIGH")
    assert t["status"] == "open"
    assert t["priority"] == "high"
    assert t["category_id"] == cat["id"]
    assert _minutes_after(t["response_due_at"], t["created_at"], 30), t
    assert _minutes_after(t["sla_due_date"], t["created_at"], 240), t
    assert t["ticket_number"]
    assert t["first_response_at"] is None and t["resolved_at"] is None


def test_ticket_defaults_without_category(acme_owner):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    assert t["status"] == "open"
    assert t["created_by"] == acme_owner.user["id"]
    assert h.TS_RE.match(t["created_at"])


def test_ticket_numbers_are_unique(acme_owner):
    cust = h.create_customer(acme_owner)
    nums = {h.create_ticket(acme_owner, cust["id"])["ticket_number"] for _ in range(3)}
    assert len(nums) == 3


def test_ticket_missing_customer(acme_owner):
    title = "Orphan " + h.uniq()
    h.expect_error(acme_owner.post("/api/v1/tickets", json={
        "title": title, "description": "x", "customer_id": h.MISSING_ID}), 422, "unprocessable")
    e = h.expect_error(acme_owner.post("/api/v1/tickets", json={"title": title, "description": "x"}),
                       400, "validation_failed")
    assert "customer_id" in (e.get("fields") or {})
    assert h.rows_where(acme_owner, "tickets", title=title) == []


@pytest.mark.parametrize("field,value", [
    ("status", "closed"), ("ticket_number", "T-1"), ("created_by", h.MISSING_ID),
    ("response_due_at", "2030-01-01T00:00:00.000Z"), ("resolved_at", "2030-01-01T00:00:00.000Z"),
    ("first_response_at", "2030-01-01T00:00:00.000Z"),
])
def test_ticket_server_fields_refused_on_create(acme_owner, field, value):
    cust = h.create_customer(acme_owner)
    title = "RO " + h.uniq()
    e = h.expect_error(acme_owner.post("/api/v1/tickets", json={
        "title": title, "description": "x", "customer_id": cust["id"], field: value}),
        400, "readonly_field")
    assert e.get("field") == field
    assert h.rows_where(acme_owner, "tickets", title=title) == []


def test_patch_status_is_readonly(acme_owner):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    e = h.expect_error(acme_owner.patch(f"/api/v1/tickets/{t['id']}", json={"status": "closed"}),
                       400, "readonly_field")
    assert e.get("field") == "status"
    e = h.expect_error(acme_owner.patch(f"/api/v1/tickets/{t['id']}",
                                        json={"title": "fine", "status": "resolved"}),
                       400, "readonly_field")
    assert h.get(acme_owner, "tickets", t["id"]) == t


# --- auto-assignment ----------------------------------------------------------

def test_auto_assignment_balances_and_alternates(new_tenant):
    t = new_tenant(agents=2)
    owner = t.owner
    a1, a2 = (h.user_id_by_email(owner, e) for e in t.agents)
    for a in (a1, a2):
        assert h.ticket_count(owner, a) == 0
    cust = h.create_customer(owner)
    assigned = [h.create_ticket(owner, cust["id"])["assigned_agent_id"] for _ in range(4)]
    assert set(assigned) == {a1, a2}, assigned
    first, second = assigned[0], assigned[1]
    assert first != second
    assert assigned == [first, second, first, second]
    for a in (a1, a2):
        u = h.get(owner, "users", a)
        assert u["current_ticket_count"] == 2
        h.parse_ts(u["last_assigned_at"])
    # Most recently assigned is the second agent.
    u1, u2 = h.get(owner, "users", first), h.get(owner, "users", second)
    assert h.parse_ts(u1["last_assigned_at"]) <= h.parse_ts(u2["last_assigned_at"])


def test_auto_assignment_prefers_fewest_open(new_tenant):
    t = new_tenant(agents=2)
    owner = t.owner
    cust = h.create_customer(owner)
    t1 = h.create_ticket(owner, cust["id"])
    t2 = h.create_ticket(owner, cust["id"])
    busy, free = t1["assigned_agent_id"], t2["assigned_agent_id"]
    t3 = h.create_ticket(owner, cust["id"])
    assert t3["assigned_agent_id"] == busy           # tie: least recently assigned
    # Resolving two of `busy`'s tickets leaves it with the fewest open.
    h.ok(owner.post(f"/api/v1/tickets/{t1['id']}/resolve"))
    h.ok(owner.post(f"/api/v1/tickets/{t3['id']}/resolve"))
    assert h.ticket_count(owner, busy) == 0 and h.ticket_count(owner, free) == 1
    assert h.create_ticket(owner, cust["id"])["assigned_agent_id"] == busy


def test_no_agents_leaves_ticket_unassigned(new_tenant):
    t = new_tenant(agents=0)
    cust = h.create_customer(t.owner)
    tk = h.create_ticket(t.owner, cust["id"])
    assert tk["assigned_agent_id"] is None
    assert tk["status"] == "open"


# --- status events ------------------------------------------------------------

def test_event_lifecycle(acme_owner):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    agent = t["assigned_agent_id"]
    assert agent, "acme has two agents; the ticket must be assigned"
    base = h.ticket_count(acme_owner, agent)
    url = f"/api/v1/tickets/{t['id']}"

    # Illegal: close from open. Nothing changes.
    h.expect_error(acme_owner.post(url + "/close"), 422, "invalid_transition")
    h.expect_error(acme_owner.post(url + "/reopen", json={}), 422, "invalid_transition")
    h.expect_error(acme_owner.post(url + "/resume"), 422, "invalid_transition")
    assert h.get(acme_owner, "tickets", t["id"]) == t
    assert h.ticket_count(acme_owner, agent) == base

    s = h.ok(acme_owner.post(url + "/start"))
    assert s["status"] == "in_progress" and s["version"] == t["version"] + 1
    assert h.ticket_count(acme_owner, agent) == base

    w = h.ok(acme_owner.post(url + "/wait_customer", json={}))
    assert w["status"] == "waiting_customer"
    w = h.ok(acme_owner.post(url + "/resume"))
    assert w["status"] == "in_progress"

    r = h.ok(acme_owner.post(url + "/resolve", json={"resolution_notes": "Replaced the toner"}))
    assert r["status"] == "resolved"
    h.parse_ts(r["resolved_at"])
    assert r["resolution_notes"] == "Replaced the toner"
    assert r["closed_at"] is None
    assert h.ticket_count(acme_owner, agent) == base - 1

    o = h.ok(acme_owner.post(url + "/reopen"))
    assert o["status"] == "open" and o["resolved_at"] is None
    assert h.ticket_count(acme_owner, agent) == base

    r = h.ok(acme_owner.post(url + "/resolve"))
    c = h.ok(acme_owner.post(url + "/close"))
    assert c["status"] == "closed"
    h.parse_ts(c["closed_at"])
    assert c["resolved_at"] == r["resolved_at"]
    assert h.ticket_count(acme_owner, agent) == base - 1

    for ev in ("start", "resolve", "cancel", "reopen", "close"):
        h.expect_error(acme_owner.post(url + "/" + ev), 422, "invalid_transition")
    assert h.get(acme_owner, "tickets", t["id"]) == c

    audit = h.audit_rows(acme_owner, entity_type="tickets", entity_id=t["id"])
    actions = [a["action"] for a in audit]
    for ev in ("create", "start", "wait_customer", "resume", "resolve", "reopen", "close"):
        assert ev in actions, (ev, actions)
    start = [a for a in audit if a["action"] == "start"][0]
    assert h.as_obj(start["old_values"])["status"] == "open"
    assert h.as_obj(start["new_values"])["status"] == "in_progress"
    assert "status" in h.as_obj(start["changed_fields"])


def test_cancel_decrements(acme_owner):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    agent = t["assigned_agent_id"]
    base = h.ticket_count(acme_owner, agent)
    c = h.ok(acme_owner.post(f"/api/v1/tickets/{t['id']}/cancel"))
    assert c["status"] == "cancelled"
    assert h.ticket_count(acme_owner, agent) == base - 1


def test_unknown_event(acme_owner):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    r = acme_owner.post(f"/api/v1/tickets/{t['id']}/explode")
    assert r.status_code in (404, 422), h.show(r)
    h.assert_json(r)
    assert h.get(acme_owner, "tickets", t["id"]) == t


def test_event_body_is_validated(acme_owner):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    h.expect_error(acme_owner.post(f"/api/v1/tickets/{t['id']}/start", json={"bogus": 1}),
                   400, "unknown_field")
    # an event takes only the fields it declares: none for start
    h.expect_error(acme_owner.post(f"/api/v1/tickets/{t['id']}/start", json={"status": "closed"}),
                   400, "unknown_field", "status")
    h.expect_error(acme_owner.post(f"/api/v1/tickets/{t['id']}/resolve", json={"priority": "low"}),
                   400, "unknown_field", "priority")
    h.expect_error(acme_owner.post(f"/api/v1/tickets/{t['id']}/resolve", json={"resolution_notes": 5}),
                   400, "validation_failed", "resolution_notes")
    assert h.get(acme_owner, "tickets", t["id"]) == t


# --- reassignment -----------------------------------------------------------

def test_reassign_moves_counters(acme_owner, acme_agent_ids):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    x = t["assigned_agent_id"]
    assert x in acme_agent_ids
    y = [a for a in acme_agent_ids if a != x][0]
    cx, cy = h.ticket_count(acme_owner, x), h.ticket_count(acme_owner, y)
    moved = h.ok(acme_owner.post(f"/api/v1/tickets/{t['id']}/assign", json={"agent_id": y}))
    assert moved["assigned_agent_id"] == y
    assert h.get(acme_owner, "tickets", t["id"])["assigned_agent_id"] == y
    assert h.ticket_count(acme_owner, x) == cx - 1
    assert h.ticket_count(acme_owner, y) == cy + 1
    actions = [a["action"] for a in h.audit_rows(acme_owner, entity_type="tickets",
                                                  entity_id=t["id"])]
    assert "assign" in actions, actions


def test_reassign_to_missing_user(acme_owner):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    h.expect_error(acme_owner.post(f"/api/v1/tickets/{t['id']}/assign",
                                   json={"agent_id": h.MISSING_ID}), 422, "unprocessable")
    assert h.get(acme_owner, "tickets", t["id"]) == t


def test_auto_assign_with_empty_body(new_tenant):
    t = new_tenant(agents=2)
    owner = t.owner
    a1, a2 = (h.user_id_by_email(owner, e) for e in t.agents)
    cust = h.create_customer(owner)
    tk = h.create_ticket(owner, cust["id"])
    x = tk["assigned_agent_id"]
    y = a2 if x == a1 else a1
    h.create_ticket(owner, cust["id"])  # goes to y: both now have 1
    moved = h.ok(owner.post(f"/api/v1/tickets/{tk['id']}/assign", json={"agent_id": y}))
    assert moved["assigned_agent_id"] == y
    assert h.ticket_count(owner, x) == 0 and h.ticket_count(owner, y) == 2
    back = h.ok(owner.post(f"/api/v1/tickets/{tk['id']}/assign", json={}))
    assert back["assigned_agent_id"] == x
    assert h.ticket_count(owner, x) == 1 and h.ticket_count(owner, y) == 1


# --- messages and first response ------------------------------------------

def test_first_response(acme_owner, acme_agent):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    note = h.create(acme_agent, "ticket_messages",
                    {"ticket_id": t["id"], "content": "internal note", "is_internal": True})
    assert note["sender_id"] == acme_agent.user["id"]
    assert note["sender_type"] == "agent"
    assert note["is_internal"] is True
    h.create(acme_agent, "ticket_messages",
             {"ticket_id": t["id"], "content": "We got your request", "is_auto_response": True})
    assert h.get(acme_owner, "tickets", t["id"])["first_response_at"] is None

    reply = h.create(acme_agent, "ticket_messages",
                     {"ticket_id": t["id"], "content": "Hello, we are on it", "is_internal": False,
                      "message_type": "TEXT"})
    assert reply["message_type"] == "text"
    first = h.get(acme_owner, "tickets", t["id"])["first_response_at"]
    h.parse_ts(first)
    assert h.parse_ts(first) >= h.parse_ts(t["created_at"])

    h.create(acme_agent, "ticket_messages", {"ticket_id": t["id"], "content": "Second reply"})
    assert h.get(acme_owner, "tickets", t["id"])["first_response_at"] == first
    msgs = h.rows_where(acme_owner, "ticket_messages", ticket_id=t["id"])
    assert len(msgs) == 4


def test_customer_message_is_not_a_first_response(cli, login, acme_owner, acme_agent):
    cust = h.create_customer(acme_owner)
    email = h.uniq("portal") + "@acme.test"
    cli.user_create("acme", email, "customer")
    uid = h.user_id_by_email(acme_owner, email)
    h.ok(acme_owner.patch(f"/api/v1/users/{uid}", json={"customer_id": cust["id"]}))
    portal = login("acme", email)
    t = h.create_ticket(acme_owner, cust["id"])

    m = h.create(portal, "ticket_messages", {"ticket_id": t["id"], "content": "Any news?"})
    assert m["sender_id"] == uid
    assert m["sender_type"] == "customer"
    assert h.get(acme_owner, "tickets", t["id"])["first_response_at"] is None
    h.create(acme_agent, "ticket_messages", {"ticket_id": t["id"], "content": "Yes, fixed"})
    h.parse_ts(h.get(acme_owner, "tickets", t["id"])["first_response_at"])


def test_message_server_fields_refused(acme_owner, acme_agent):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    for field, value in (("sender_id", acme_owner.user["id"]), ("sender_type", "customer")):
        e = h.expect_error(acme_agent.post("/api/v1/ticket_messages", json={
            "ticket_id": t["id"], "content": "spoof", field: value}), 400, "readonly_field")
        assert e.get("field") == field
    assert h.rows_where(acme_owner, "ticket_messages", ticket_id=t["id"]) == []
    assert h.get(acme_owner, "tickets", t["id"])["first_response_at"] is None


# --- plan limits (tenant tiny: 3 tickets a month, 2 agents) -----------------

def test_monthly_ticket_limit(tiny_owner):
    cust = h.create_customer(tiny_owner)
    existing = len(h.list_all(tiny_owner, "tickets"))
    assert existing <= 3
    for _ in range(3 - existing):
        h.create_ticket(tiny_owner, cust["id"])
    title = "Over " + h.uniq()
    h.expect_error(tiny_owner.post("/api/v1/tickets", json={
        "title": title, "description": "x", "customer_id": cust["id"]}),
        403, "plan_limit_reached")
    assert len(h.list_all(tiny_owner, "tickets")) == 3
    assert h.rows_where(tiny_owner, "tickets", title=title) == []


def test_agent_limit_cli(cli, tiny_owner):
    email = h.uniq("agent3") + "@tiny.test"
    r = cli.user_create("tiny", email, "agent", check=False)
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert r.stderr.strip(), "the refusal should say why on stderr"
    assert h.rows_where(tiny_owner, "users", email=email) == []


def test_agent_limit_api(tiny_owner):
    viewer = h.user_id_by_email(tiny_owner, "viewer@tiny.test")
    agent_role = h.find_role_id(tiny_owner, "agent")
    before = h.rows_where(tiny_owner, "user_roles", user_id=viewer)
    h.expect_error(tiny_owner.post("/api/v1/user_roles",
                                   json={"user_id": viewer, "role_id": agent_role}),
                   403, "plan_limit_reached")
    after = h.rows_where(tiny_owner, "user_roles", user_id=viewer)
    assert after == before
    assert agent_role not in [r["role_id"] for r in after]


def test_agent_role_below_limit_is_allowed(new_tenant, cli):
    t = new_tenant(agents=1, plan="free", extra=("--agent-limit", "2"))
    email = h.uniq("promote") + "@" + t.slug + ".test"
    cli.user_create(t.slug, email, "viewer")
    uid = h.user_id_by_email(t.owner, email)
    role = h.find_role_id(t.owner, "agent")
    ur = h.create(t.owner, "user_roles", {"user_id": uid, "role_id": role})
    assert ur["user_id"] == uid and ur["role_id"] == role
    # Now at the limit: the next promotion is refused.
    email2 = h.uniq("promote") + "@" + t.slug + ".test"
    cli.user_create(t.slug, email2, "viewer")
    uid2 = h.user_id_by_email(t.owner, email2)
    h.expect_error(t.owner.post("/api/v1/user_roles", json={"user_id": uid2, "role_id": role}),
                   403, "plan_limit_reached")
