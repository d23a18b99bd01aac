"""Stamps written and cleared by the engine from the declarations
(ob_column.stamp_on / clear_on), replacing hand-written hooks: a ticket's
resolved_at and closed_at follow its state machine, a security alert's
resolved_by and resolved_at follow its PATCHable status column."""
import json

import helpers as h

API = "/api/v1"


def _alert(client, **fields):
    body = {"alert_type": "suspicious_login", "severity": "high", "description": "Login from " + h.uniq()}
    body.update(fields)
    return h.create(client, "security_alerts", body)


def test_alert_closing_stamps_once_reopening_clears(new_tenant, cli, login):
    t = new_tenant()
    email = f"adm@{t.slug}.test"
    cli.user_create(t.slug, email, "admin")
    adm = login(t.slug, email)
    owner_id, adm_id = t.owner.user["id"], h.user_id_by_email(t.owner, email)

    a = _alert(t.owner)
    url = f"{API}/security_alerts/{a['id']}"
    done = h.ok(t.owner.patch(url, json={"status": "resolved"}))
    assert done["resolved_by"] == owner_id
    h.parse_ts(done["resolved_at"])
    # from one closed status to the other is not a new closure: the stamp stays
    fp = h.ok(adm.patch(url, json={"status": "false_positive"}))
    assert (fp["resolved_by"], fp["resolved_at"]) == (owner_id, done["resolved_at"])
    # nor does a PATCH that leaves the status alone touch it
    same = h.ok(adm.patch(url, json={"status": "false_positive"}))
    assert (same["resolved_by"], same["resolved_at"]) == (owner_id, done["resolved_at"])
    # investigating again reopens it, and a later closure is the closer's
    back = h.ok(adm.patch(url, json={"status": "investigating"}))
    assert (back["resolved_by"], back["resolved_at"]) == (None, None)
    again = h.ok(adm.patch(url, json={"status": "resolved"}))
    assert again["resolved_by"] == adm_id
    assert h.parse_ts(again["resolved_at"]) >= h.parse_ts(done["resolved_at"])


def test_alert_recorded_as_closed_is_stamped_on_create(new_tenant):
    t = new_tenant()
    a = _alert(t.owner, status="false_positive")
    assert a["resolved_by"] == t.owner.user["id"]
    assert h.parse_ts(a["resolved_at"]) == h.parse_ts(a["created_at"])
    # the stamped columns stay the server's
    e = h.expect_error(t.owner.post(f"{API}/security_alerts", json={
        "alert_type": "x", "severity": "low", "description": "y", "resolved_by": t.owner.user["id"]}),
        400, "readonly_field")
    assert "resolved_by" in h.error_fields(e)


def test_cancelled_ticket_is_closed_at_cancellation(acme_owner):
    cust = h.create_customer(acme_owner)
    tk = h.create_ticket(acme_owner, cust["id"])
    assert (tk["resolved_at"], tk["closed_at"]) == (None, None)
    c = h.ok(acme_owner.post(f"{API}/tickets/{tk['id']}/cancel"))
    assert c["status"] == "cancelled" and c["resolved_at"] is None
    assert h.parse_ts(c["closed_at"]) == h.parse_ts(c["updated_at"])


def test_reopened_ticket_keeps_no_resolution_time(acme_owner):
    cust = h.create_customer(acme_owner)
    tk = h.create_ticket(acme_owner, cust["id"])
    url = f"{API}/tickets/{tk['id']}"
    r1 = h.ok(acme_owner.post(url + "/resolve"))
    assert h.parse_ts(r1["resolved_at"]) == h.parse_ts(r1["updated_at"])
    o = h.ok(acme_owner.post(url + "/reopen"))
    assert o["resolved_at"] is None and o["closed_at"] is None
    r2 = h.ok(acme_owner.post(url + "/resolve"))
    assert h.parse_ts(r2["resolved_at"]) >= h.parse_ts(r1["resolved_at"])
    c = h.ok(acme_owner.post(url + "/close"))
    assert c["resolved_at"] == r2["resolved_at"]          # closing keeps the resolution time
    assert h.parse_ts(c["closed_at"]) == h.parse_ts(c["updated_at"])


def test_schema_declares_the_stamps(bare_cli):
    by_name = {t["name"]: t for t in json.loads(bare_cli.run("schema", "--json", data=False).stdout)["tables"]}

    def col(table, name):
        return next(c for c in by_name[table]["columns"] if c["name"] == name)

    assert (col("tickets", "resolved_at")["stamp_on"], col("tickets", "resolved_at")["clear_on"]) == ("resolved", "open")
    assert col("tickets", "closed_at")["stamp_on"] == "closed,cancelled"
    rb = col("security_alerts", "resolved_by")
    assert (rb["stamp"], rb["stamp_on"], rb["clear_on"]) == ("actor", "resolved,false_positive", "open,investigating")
