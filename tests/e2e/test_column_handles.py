"""Workflow paths that read rows through column handles and that no other
test reaches: deleting tickets, assigning finished ones, deleting users and
system roles, reactivating the agent role over the plan's limit.

Column handles (gen/columns.h) are checked on every use: a handle of the
wrong table aborts the server, so each of these requests passing shows the
hook reads the columns of its own table. The registry's start-up check of the
handles runs at every server start of the suite."""
import helpers as h

API = "/api/v1"


def test_deleting_an_open_ticket_frees_its_agent(new_tenant):
    t = new_tenant(agents=1)
    agent = h.user_id_by_email(t.owner, t.agents[0])
    cust = h.create_customer(t.owner)
    open_ = h.create_ticket(t.owner, cust["id"])
    done = h.create_ticket(t.owner, cust["id"])
    assert open_["assigned_agent_id"] == agent and done["assigned_agent_id"] == agent
    assert h.ticket_count(t.owner, agent) == 2
    h.ok(t.owner.post(f"{API}/tickets/{done['id']}/resolve"))
    assert h.ticket_count(t.owner, agent) == 1

    # a resolved ticket no longer counts: deleting it changes nothing
    h.ok(t.owner.delete(f"{API}/tickets/{done['id']}"))
    assert h.ticket_count(t.owner, agent) == 1
    # an open one gives its agent a ticket back
    h.ok(t.owner.delete(f"{API}/tickets/{open_['id']}"))
    assert h.ticket_count(t.owner, agent) == 0
    h.expect_error(t.owner.get(f"{API}/tickets/{open_['id']}"), 404, "not_found")


def test_assigning_a_finished_ticket_is_refused(acme_owner, acme_agent_ids):
    cust = h.create_customer(acme_owner)
    tk = h.create_ticket(acme_owner, cust["id"])
    h.ok(acme_owner.post(f"{API}/tickets/{tk['id']}/cancel"))
    before = h.get(acme_owner, "tickets", tk["id"])
    e = h.expect_error(acme_owner.post(f"{API}/tickets/{tk['id']}/assign",
                                       json={"agent_id": acme_agent_ids[0]}), 422, "invalid_transition")
    assert '"cancelled"' in e["message"]
    after = h.get(acme_owner, "tickets", tk["id"])
    assert after["version"] == before["version"]
    assert after["assigned_agent_id"] == before["assigned_agent_id"]


def test_user_deletion_rules(new_tenant, cli, login, server):
    t = new_tenant()
    ids = {}
    for name, role in (("adm", "admin"), ("gone", "viewer")):
        email = f"{name}@{t.slug}.test"
        cli.user_create(t.slug, email, role)
        ids[name] = h.user_id_by_email(t.owner, email)
    owner_id = t.owner.user["id"]
    adm = login(t.slug, f"adm@{t.slug}.test")
    gone = login(t.slug, f"gone@{t.slug}.test")

    # the owner is never deleted, by anyone
    e = h.expect_error(t.owner.delete(f"{API}/users/{owner_id}"), 422, "unprocessable")
    assert "owner" in e["message"]
    h.expect_error(adm.delete(f"{API}/users/{owner_id}"), 422, "unprocessable")
    # nor does anyone delete their own account
    e = h.expect_error(adm.delete(f"{API}/users/{ids['adm']}"), 422, "unprocessable")
    assert "your own account" in e["message"]
    assert h.get(t.owner, "users", ids["adm"])["id"] == ids["adm"]

    # another user goes, and their sessions end with them
    h.ok(gone.get(f"{API}/auth/me"))
    h.ok(adm.delete(f"{API}/users/{ids['gone']}"))
    assert gone.get(f"{API}/auth/me").status_code == 401
    sessions = h.rows_where(t.owner, "user_sessions", user_id=ids["gone"])
    assert sessions and all(s["termination_reason"] == "user_deleted" for s in sessions)
    assert h.login_raw(server.url, t.slug, f"gone@{t.slug}.test", h.USER_PASSWORD).status_code == 401


def test_system_roles_cannot_be_deleted(new_tenant):
    t = new_tenant()
    role = h.find_role_id(t.owner, "agent")
    e = h.expect_error(t.owner.delete(f"{API}/roles/{role}"), 422, "unprocessable")
    assert 'system role "agent"' in e["message"]
    assert h.get(t.owner, "roles", role)["id"] == role


def test_reactivating_the_agent_role_over_the_limit(new_tenant, cli):
    t = new_tenant(agents=1, plan="free", extra=("--agent-limit", "1"))
    role = h.find_role_id(t.owner, "agent")
    h.ok(t.owner.patch(f"{API}/roles/{role}", json={"status": "inactive"}))
    # while the role is inactive nobody counts as an agent, so a second grant passes
    email = h.uniq("second") + f"@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    uid = h.user_id_by_email(t.owner, email)
    h.create(t.owner, "user_roles", {"user_id": uid, "role_id": role})
    # turning it back on would make two agents on a plan of one
    h.expect_error(t.owner.patch(f"{API}/roles/{role}", json={"status": "active"}), 403, "plan_limit_reached")
    assert h.get(t.owner, "roles", role)["status"] == "inactive"
    # once the extra grant is gone the role comes back
    grant = h.rows_where(t.owner, "user_roles", user_id=uid, role_id=role)[0]
    h.ok(t.owner.delete(f"{API}/user_roles/{grant['id']}"))
    assert h.ok(t.owner.patch(f"{API}/roles/{role}", json={"status": "active"}))["status"] == "active"
