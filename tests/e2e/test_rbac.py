"""Role-based access: permission codes decide every route."""
import helpers as h


def test_viewer_reads_but_cannot_write(acme_owner, acme_viewer):
    c = h.create_customer(acme_owner, company_name="Viewer target")
    url = f"/api/v1/customers/{c['id']}"
    assert h.get(acme_viewer, "customers", c["id"]) == c
    assert c["id"] in {r["id"] for r in h.rows_where(acme_viewer, "customers",
                                                       customer_code=c["customer_code"])}

    code = h.uniq("VIEW-")
    h.expect_error(acme_viewer.post("/api/v1/customers", json={"customer_code": code}),
                   403, "forbidden")
    assert h.rows_where(acme_owner, "customers", customer_code=code) == []

    h.expect_error(acme_viewer.patch(url, json={"company_name": "changed"}), 403, "forbidden")
    h.expect_error(acme_viewer.delete(url), 403, "forbidden")
    assert h.get(acme_owner, "customers", c["id"]) == c


def test_viewer_cannot_run_ticket_events(acme_owner, acme_viewer):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    h.expect_error(acme_viewer.post(f"/api/v1/tickets/{t['id']}/start"), 403, "forbidden")
    h.expect_error(acme_viewer.post(f"/api/v1/tickets/{t['id']}/assign", json={}),
                   403, "forbidden")
    assert h.get(acme_owner, "tickets", t["id"]) == t


def test_forbidden_before_validation(acme_viewer):
    """A refused user learns nothing about the body's validity."""
    h.expect_error(acme_viewer.post("/api/v1/customers", json={"no_such_field": 1}),
                   403, "forbidden")


def test_agent_creates_tickets_but_cannot_delete_customers(acme_owner, acme_agent):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_agent, cust["id"])
    assert t["status"] == "open"
    assert t["created_by"] == acme_agent.user["id"]
    h.expect_error(acme_agent.delete(f"/api/v1/customers/{cust['id']}"), 403, "forbidden")
    assert h.get(acme_owner, "customers", cust["id"]) == cust


def test_audit_logs_are_read_only(acme_owner):
    h.expect_error(acme_owner.post("/api/v1/audit_logs", json={"action": "create"}),
                   405, "method_not_allowed")
    rows = h.page(acme_owner, "audit_logs", {"limit": "1"})["data"]
    rid = rows[0]["id"] if rows else h.MISSING_ID
    h.expect_error(acme_owner.patch(f"/api/v1/audit_logs/{rid}", json={"action": "x"}),
                   405, "method_not_allowed")
    h.expect_error(acme_owner.delete(f"/api/v1/audit_logs/{rid}"), 405, "method_not_allowed")
    if rows:
        assert h.get(acme_owner, "audit_logs", rid) == rows[0]


def test_user_sessions_are_read_only(acme_owner):
    h.expect_error(acme_owner.post("/api/v1/user_sessions", json={}), 405, "method_not_allowed")


def test_permissions_listed_in_me_are_enforced(acme_viewer):
    """Whatever the viewer seed grants, /auth/me and the routes agree."""
    perms = set(h.ok(acme_viewer.get("/api/v1/auth/me"))["permissions"])
    r = acme_viewer.get("/api/v1/audit_logs", params={"limit": "1"})
    if "audit.view" in perms:
        h.ok(r)
    else:
        h.expect_error(r, 403, "forbidden")


def test_secrets_never_serialized(acme_owner):
    rows = h.list_all(acme_owner, "users")
    assert rows
    for r in rows:
        for key in ("password", "password_hash", "mfa_secret", "session_token", "token_hash"):
            assert key not in r, key
    text = acme_owner.get("/api/v1/users", params={"limit": "200"}).text
    assert "$argon2" not in text
    sessions = acme_owner.get("/api/v1/user_sessions", params={"limit": "50"})
    if sessions.status_code == 200:
        for r in sessions.json()["data"]:
            assert "session_token" not in r and "token" not in r
