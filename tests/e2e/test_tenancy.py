"""Tenant isolation: another tenant's ids do not exist, its rows never show."""
import helpers as h


def test_other_tenants_customer_is_not_found(acme_owner, globex_owner):
    c = h.create_customer(acme_owner, company_name="Acme private")
    url = f"/api/v1/customers/{c['id']}"
    h.expect_error(globex_owner.get(url), 404, "not_found")
    h.expect_error(globex_owner.patch(url, json={"company_name": "hijacked"}), 404, "not_found")
    h.expect_error(globex_owner.patch(url, json={"company_name": "hijacked"},
                                      headers={"If-Match": '"1"'}), 404, "not_found")
    h.expect_error(globex_owner.delete(url), 404, "not_found")
    assert h.get(acme_owner, "customers", c["id"]) == c


def test_other_tenants_ticket_events_are_not_found(acme_owner, globex_owner):
    cust = h.create_customer(acme_owner)
    t = h.create_ticket(acme_owner, cust["id"])
    h.expect_error(globex_owner.post(f"/api/v1/tickets/{t['id']}/resolve"), 404, "not_found")
    h.expect_error(globex_owner.post(f"/api/v1/tickets/{t['id']}/assign", json={}),
                   404, "not_found")
    assert h.get(acme_owner, "tickets", t["id"]) == t


def test_reference_to_other_tenants_row(acme_owner, globex_owner):
    """A globex ticket cannot point at an acme customer."""
    cust = h.create_customer(acme_owner)
    title = "Cross " + h.uniq()
    h.expect_error(globex_owner.post("/api/v1/tickets", json={
        "title": title, "description": "x", "customer_id": cust["id"]}), 422, "unprocessable")
    assert h.rows_where(globex_owner, "tickets", title=title) == []


def test_lists_are_separate(acme_owner, globex_owner):
    a = h.create_customer(acme_owner)
    g = h.create_customer(globex_owner)
    acme_ids = {r["id"] for r in h.list_all(acme_owner, "customers")}
    globex_ids = {r["id"] for r in h.list_all(globex_owner, "customers")}
    assert a["id"] in acme_ids and g["id"] in globex_ids
    assert a["id"] not in globex_ids and g["id"] not in acme_ids
    assert not acme_ids & globex_ids
    # Filtering on the other tenant's exact value finds nothing.
    assert h.rows_where(globex_owner, "customers", customer_code=a["customer_code"]) == []


def test_canary_never_reaches_other_tenant(acme_owner, globex_owner):
    canary = "CANARY" + h.word(16)
    g = h.create_customer(globex_owner, company_name=canary, notes=canary)
    doc = h.create_document(globex_owner, title=canary, content=canary)
    cust_g = h.create_customer(globex_owner)
    h.create_ticket(globex_owner, cust_g["id"], title=canary, description=canary)

    texts = []
    for table in ("customers", "documents", "tickets", "audit_logs", "users"):
        params = {"limit": "200"}
        while True:
            r = acme_owner.get(f"/api/v1/{table}", params=params)
            body = h.ok(r)
            texts.append(r.text)
            if not body["next_cursor"]:
                break
            params["cursor"] = body["next_cursor"]
    for table, q in (("documents", canary), ("tickets", canary)):
        texts.append(acme_owner.get(f"/api/v1/{table}", params={"q": q}).text)
    texts.append(acme_owner.get("/api/v1/customers", params={"company_name": canary}).text)
    for rid, table in ((g["id"], "customers"), (doc["id"], "documents")):
        r = acme_owner.get(f"/api/v1/{table}/{rid}")
        h.expect_error(r, 404, "not_found")
        texts.append(r.text)
    for t in texts:
        assert canary not in t
    # And globex itself does see it.
    assert canary in globex_owner.get(f"/api/v1/customers/{g['id']}").text


def _customer_user(cli, login, owner, customer_id):
    """A portal user (role customer) tied to customer_id; returns its client."""
    email = h.uniq("portal") + "@acme.test"
    cli.user_create("acme", email, "customer")
    uid = h.user_id_by_email(owner, email)
    h.ok(owner.patch(f"/api/v1/users/{uid}", json={"customer_id": customer_id}))
    return login("acme", email)


def test_customer_user_sees_only_own_rows(cli, login, acme_owner):
    """docs/DESIGN.md 3: a customer user sees only rows that belong to its customer."""
    mine, other = h.create_customer(acme_owner), h.create_customer(acme_owner)
    t_mine = h.create_ticket(acme_owner, mine["id"])
    t_other = h.create_ticket(acme_owner, other["id"])
    portal = _customer_user(cli, login, acme_owner, mine["id"])

    assert [t["id"] for t in h.list_all(portal, "tickets")] == [t_mine["id"]]
    assert [c["id"] for c in h.list_all(portal, "customers")] == [mine["id"]]
    h.expect_error(portal.get(f"/api/v1/tickets/{t_other['id']}"), 404, "not_found")
    h.expect_error(portal.get(f"/api/v1/customers/{other['id']}"), 404, "not_found")
    # Filters cannot widen the scope.
    assert h.list_all(portal, "tickets", {"customer_id": other["id"]}) == []
    # Writing to another customer's ticket is refused and writes nothing.
    r = portal.post("/api/v1/ticket_messages", json={"ticket_id": t_other["id"], "content": "x"})
    assert r.status_code in (403, 404, 422), h.show(r)
    assert h.rows_where(acme_owner, "ticket_messages", ticket_id=t_other["id"]) == []
    # A ticket the portal user opens belongs to its customer.
    title = "Portal " + h.uniq()
    r = portal.post("/api/v1/tickets", json={"title": title, "description": "help",
                                              "customer_id": other["id"]})
    assert r.status_code in (403, 404, 422), h.show(r)
    assert h.rows_where(acme_owner, "tickets", title=title) == []
