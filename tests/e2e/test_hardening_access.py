"""Hardening: access and data exposure (customer row rules, column audiences,
row images in the audit log, configuration permissions, customer-writable
fields). Each test is named after the defect it guards against; the suite runs
on both engines."""
import helpers as h


def _portal(cli, login, owner, tenant, customer_id):
    """A customer-portal user (role customer) of customer_id; its client."""
    email = h.uniq("portal") + f"@{tenant}.test"
    cli.user_create(tenant, email, "customer")
    uid = h.user_id_by_email(owner, email)
    h.ok(owner.patch(f"/api/v1/users/{uid}", json={"customer_id": customer_id}))
    return login(tenant, email)


def _ids(rows):
    return [r["id"] for r in rows]


def _conversation(owner, agent, customer_id, word):
    """A ticket with one public reply and one internal note, both containing word."""
    t = h.create_ticket(owner, customer_id)
    public = h.create(agent, "ticket_messages", {"ticket_id": t["id"], "content": f"public {word} reply"})
    internal = h.create(agent, "ticket_messages", {"ticket_id": t["id"], "is_internal": True,
                                                   "content": f"internal {word} note: refund is fraud"})
    return t, public, internal


def test_customer_cannot_read_internal_staff_notes(cli, login, acme_owner, acme_agent):
    cust = h.create_customer(acme_owner)
    word = h.word(10)
    t, public, internal = _conversation(acme_owner, acme_agent, cust["id"], word)
    portal = _portal(cli, login, acme_owner, "acme", cust["id"])

    # list, filtered list, search: only the public reply exists
    assert _ids(h.list_all(portal, "ticket_messages")) == [public["id"]]
    assert _ids(h.list_all(portal, "ticket_messages", {"ticket_id": t["id"]})) == [public["id"]]
    assert _ids(h.list_all(portal, "ticket_messages", {"q": word})) == [public["id"]]
    assert h.list_all(portal, "ticket_messages", {"q": "fraud"}) == []
    # get by id is a 404, as for another customer's row
    h.expect_error(portal.get(f"/api/v1/ticket_messages/{internal['id']}"), 404, "not_found")
    # cursor pages walk the same rows: one per page, no internal note in between
    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": 1, "ticket_id": t["id"]}
        if cursor:
            params["cursor"] = cursor
        body = h.page(portal, "ticket_messages", params)
        seen += _ids(body["data"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [public["id"]]
    # the flag itself is staff-only: not shown, not filterable
    assert "is_internal" not in h.get(portal, "ticket_messages", public["id"])
    h.expect_error(portal.get("/api/v1/ticket_messages", params={"is_internal": "true"}), 400, "invalid_query")
    # staff still see both
    assert set(_ids(h.list_all(acme_owner, "ticket_messages", {"ticket_id": t["id"]}))) == {public["id"],
                                                                                           internal["id"]}


def test_customer_reads_only_published_articles(cli, login, acme_owner):
    cust = h.create_customer(acme_owner)
    word = h.word(10)
    pub = h.create(acme_owner, "documents", {"title": f"How to {word}", "content": "steps", "is_public": True})
    draft = h.create(acme_owner, "documents", {"title": f"Draft {word}", "content": "internal", "is_public": False})
    portal = _portal(cli, login, acme_owner, "acme", cust["id"])
    assert _ids(h.list_all(portal, "documents", {"q": word})) == [pub["id"]]
    h.expect_error(portal.get(f"/api/v1/documents/{draft['id']}"), 404, "not_found")
    h.expect_error(portal.post("/api/v1/documents", json={"title": "x", "content": "y"}), 403, "forbidden")


STAFF_CUSTOMER_COLUMNS = ("internal_notes", "credit_limit", "approval_status", "account_manager_id", "approved_by")


def test_customer_cannot_read_internal_columns_of_own_record(cli, login, acme_owner):
    manager_id = h.user_id_by_email(acme_owner, "owner@acme.test")
    cust = h.create_customer(acme_owner, internal_notes="slow payer, watch", credit_limit="5000.00",
                             account_manager_id=manager_id, notes="prefers e-mail")
    portal = _portal(cli, login, acme_owner, "acme", cust["id"])
    for row in (h.get(portal, "customers", cust["id"]), h.list_all(portal, "customers")[0]):
        assert row["id"] == cust["id"]
        assert row["notes"] == "prefers e-mail"
        for col in STAFF_CUSTOMER_COLUMNS:
            assert col not in row, col
    # refused in filters and sort, the way secret columns are
    h.expect_error(portal.get("/api/v1/customers", params={"credit_limit": "5000.00"}), 400, "invalid_query")
    h.expect_error(portal.get("/api/v1/customers", params={"internal_notes.like": "slow%"}), 400, "invalid_query")
    h.expect_error(portal.get("/api/v1/customers", params={"sort": "credit_limit"}), 400, "invalid_query")
    # tickets: the routing columns are staff's
    t = h.create_ticket(acme_owner, cust["id"])
    mine = h.get(portal, "tickets", t["id"])
    for col in ("assigned_agent_id", "assigned_team", "created_by"):
        assert col not in mine, col
    h.expect_error(portal.get("/api/v1/tickets", params={"assigned_agent_id": manager_id}), 400, "invalid_query")
    # staff see every column
    staff = h.get(acme_owner, "customers", cust["id"])
    assert staff["internal_notes"] == "slow payer, watch" and staff["credit_limit"] == "5000.00"


def test_customer_audience_is_declared_in_schema(opsbase_bin):
    import json
    import subprocess
    doc = json.loads(subprocess.run([str(opsbase_bin), "schema", "--json"], check=True,
                                    capture_output=True, text=True).stdout)
    tables = {t["name"]: t for t in doc["tables"]}
    cols = {c["name"]: c for c in tables["customers"]["columns"]}
    for col in STAFF_CUSTOMER_COLUMNS:
        assert cols[col].get("staff_only") is True, col
    msg = {c["name"]: c for c in tables["ticket_messages"]["columns"]}
    assert msg["content"].get("customer_writable") is True
    assert not msg["is_solution"].get("customer_writable")
    assert tables["ticket_messages"]["customer_rows"] == [{"column": "is_internal", "equals": "false"}]


def _masking_tenant(new_tenant, cli, login):
    """A tenant whose analysts see sensitive fields masked; returns (tenant, analyst client)."""
    t = new_tenant()
    email = f"analyst@{t.slug}.test"
    cli.user_create(t.slug, email, "analyst")
    h.create(t.owner, "data_masking_rules", {"field_name": "sensitive_ids", "field_type": "sensitive",
                                             "mask_pattern": "****1234", "applies_to_roles": ["analyst"],
                                             "is_active": True})
    return t, login(t.slug, email)


def test_masked_values_not_readable_through_audit_log(new_tenant, cli, login):
    t, analyst = _masking_tenant(new_tenant, cli, login)
    secret_tax = "GSTIN27AAAPL1234C1Z5"
    cust = h.create_customer(t.owner, tax_number=secret_tax, national_id="784199012345671")
    h.ok(t.owner.patch(f"/api/v1/customers/{cust['id']}", json={"tax_number": secret_tax + "X"}))
    # on the record the analyst sees it masked ...
    assert h.get(analyst, "customers", cust["id"])["tax_number"] != secret_tax
    # ... and so in every row image of the audit trail
    rows = h.list_all(analyst, "audit_logs", {"entity_id": cust["id"]})
    assert {r["action"] for r in rows} >= {"create", "update"}
    for r in rows:
        text = str(r["old_values"]) + str(r["new_values"])
        assert secret_tax not in text and "784199012345671" not in text, r
        for image in (r["old_values"], r["new_values"]):
            if image:
                assert image["tax_number"].startswith("****"), image
    # the owner, unmasked, reads the values as they were
    own = h.list_all(t.owner, "audit_logs", {"entity_id": cust["id"], "action": "update"})
    assert own[0]["old_values"]["tax_number"] == secret_tax
    assert own[0]["new_values"]["tax_number"] == secret_tax + "X"


def test_masking_rules_removable_without_settings_edit(new_tenant, cli, login):
    t = new_tenant()
    email = f"manager@{t.slug}.test"
    cli.user_create(t.slug, email, "manager")
    manager = login(t.slug, email)
    rule = h.create(t.owner, "data_masking_rules", {"field_name": "phones", "field_type": "phone",
                                                    "mask_pattern": "98****3210",
                                                    "applies_to_roles": ["viewer"], "is_active": True})
    # not delete, not re-create, not edit: every change needs settings.edit
    h.expect_error(manager.delete(f"/api/v1/data_masking_rules/{rule['id']}"), 403, "forbidden")
    h.expect_error(manager.post("/api/v1/data_masking_rules", json={"field_name": "emails", "field_type": "email",
                                                                            "mask_pattern": "ab**@***.***"}), 403, "forbidden")
    h.expect_error(manager.patch(f"/api/v1/data_masking_rules/{rule['id']}", json={"is_active": False}),
                   403, "forbidden")
    assert h.get(t.owner, "data_masking_rules", rule["id"]) == rule
    # the same for the security settings
    h.expect_error(manager.post("/api/v1/role_security_settings", json={}), 403, "forbidden")
    for s in h.list_all(t.owner, "security_settings"):
        h.expect_error(manager.delete(f"/api/v1/security_settings/{s['id']}"), 403, "forbidden")
    # roles and grants need team.roles, which a manager does not hold
    h.expect_error(manager.post("/api/v1/roles", json={"name": "Sneaky", "code": "sneaky"}), 403, "forbidden")
    # the owner may
    h.ok(t.owner.delete(f"/api/v1/data_masking_rules/{rule['id']}"))


def _refused_write(resp, field):
    assert resp.status_code == 400, h.show(resp)
    e = h.assert_json(resp)["error"]
    assert e["code"] in ("readonly_field", "unknown_field"), h.show(resp)
    assert e.get("field") == field, h.show(resp)


def test_customer_cannot_mass_assign_workflow_fields(cli, login, acme_owner, acme_agent):
    cust = h.create_customer(acme_owner)
    portal = _portal(cli, login, acme_owner, "acme", cust["id"])
    owner_id = h.user_id_by_email(acme_owner, "owner@acme.test")
    st = h.create(acme_owner, "service_types", {"service_code": h.uniq("ST")[:20], "service_name": "Customs"})
    title = "Mass " + h.uniq()
    base = {"service_type_id": st["id"], "request_title": title}
    for field, value in (("status", "approved"), ("approved_by", owner_id),
                         ("approved_at", "2026-01-01T00:00:00Z"), ("actual_cost", "1.00"),
                         ("assigned_to", owner_id)):
        _refused_write(portal.post("/api/v1/service_requests", json={**base, field: value}), field)
    assert h.rows_where(acme_owner, "service_requests", request_title=title) == []
    # what is the customer's to say is accepted, and the workflow fields keep their defaults
    sr = h.create(portal, "service_requests", base)
    assert sr["customer_id"] == cust["id"] and sr["status"] == "submitted"
    assert "approved_by" not in sr and "assigned_to" not in sr

    doc_name = "Invoice " + h.uniq()
    for field, value in (("status", "verified"), ("verified_by", owner_id),
                         ("verified_at", "2026-01-01T00:00:00Z")):
        _refused_write(portal.post("/api/v1/request_documents", json={
            "service_request_id": sr["id"], "document_name": doc_name, field: value}), field)
    assert h.rows_where(acme_owner, "request_documents", document_name=doc_name) == []
    d = h.create(portal, "request_documents", {"service_request_id": sr["id"], "document_name": doc_name})
    assert d["status"] == "pending"

    for field, value in (("status", "serving"), ("served_by", owner_id), ("actual_wait_minutes", 0)):
        _refused_write(portal.post("/api/v1/queue_numbers", json={field: value}), field)
    assert h.list_all(acme_owner, "queue_numbers", {"customer_id": cust["id"]}) == []

    t = h.create_ticket(acme_owner, cust["id"])
    for field, value in (("is_internal", True), ("is_solution", True), ("is_auto_response", True)):
        _refused_write(portal.post("/api/v1/ticket_messages", json={
            "ticket_id": t["id"], "content": "mine", field: value}), field)
    assert h.list_all(acme_owner, "ticket_messages", {"ticket_id": t["id"]}) == []
    m = h.create(portal, "ticket_messages", {"ticket_id": t["id"], "content": "mine"})
    assert m["sender_type"] == "customer"
    # reference data is staff's, whatever a role was granted
    h.expect_error(portal.post("/api/v1/service_types", json={"service_code": h.uniq("X")[:20],
                                                              "service_name": "Free"}), 403, "forbidden")
