"""The insight area of the unified model: security (settings, per-role settings,
export logs, violations, alerts, refresh tokens, permission templates, user
feature overrides), notifications (templates, logs) and analytics (event types,
events, metrics, calculated data, KPI targets, dashboard widgets, custom
reports, automation rules and logs).

Every refused write is followed by a read-back that shows nothing was written.
The declared constraints of the client-written tables, and the 405 of the
read-only ones, are covered for every table by test_generic.py; this file keeps
what hooks add. Tables the server alone writes (logs, violations, tokens) have
their constraints shown on
the tenant database itself (a fresh tenant's SQLite file, written next to the
running server), which is where the server's own writes will meet them.
"""
import json
import sqlite3
import uuid
from decimal import Decimal, InvalidOperation

import pytest

import helpers as h


# --- helpers of this file ---------------------------------------------------

def _me(client):
    return h.ok(client.get("/api/v1/auth/me"))["user"]["id"]


def _none_where(client, table, **filters):
    rows = h.rows_where(client, table, **filters)
    assert rows == [], f"{table} {filters}: expected nothing, got {rows}"


def _refused(resp, status, ecode, field, client, table, **filters):
    """A refused write names the field and leaves no row matching filters."""
    e = h.expect_error(resp, status, ecode)
    if field is not None:
        assert field in h.error_fields(e), f"error does not name {field!r}: {h.show(resp)}"
    if filters:
        _none_where(client, table, **filters)
    return e


def _audit_actions(client, table, rid):
    return sorted(r["action"] for r in h.audit_rows(client, entity_type=table, entity_id=rid))


def _crud_roundtrip(client, table, body, patch=None):
    """Create, read back equal, optionally PATCH, and see the audit rows."""
    row = h.create(client, table, body)
    for k, v in body.items():
        assert _same(row[k], v), f"{table}.{k}: sent {v!r}, stored {row[k]!r}"
    assert h.get(client, table, row["id"]) == row
    actions = ["create"]
    if patch:
        upd = h.ok(client.patch(f"/api/v1/{table}/{row['id']}", json=patch))
        for k, v in patch.items():
            assert upd[k] == v, f"{table}.{k}: patched {v!r}, got {upd[k]!r}"
        assert upd["version"] == row["version"] + 1
        assert h.get(client, table, row["id"]) == upd
        row = upd
        actions.append("update")
    assert _audit_actions(client, table, row["id"]) == sorted(actions)
    return row


def _same(stored, sent):
    """Stored equals sent, allowing enum case, decimal scale and JSON text."""
    if isinstance(sent, str) and isinstance(stored, str):
        if stored.lower() == sent.lower():
            return True
        try:
            return Decimal(stored) == Decimal(sent)
        except InvalidOperation:
            return False
    if isinstance(sent, (dict, list)):
        return h.as_obj(stored) == sent
    return stored == sent


def _new_role(client):
    code = h.uniq("role_")
    return h.create(client, "roles", {"name": "Role " + code, "code": code})


@pytest.fixture(scope="module")
def fresh(new_tenant, server):
    """A tenant of this module's own: its seed rows are untouched by others and
    its database file may be written directly for the read-only tables."""
    t = new_tenant()
    t.db_path = server.data / "tenants" / f"{t.slug}.db"
    t.engine = server.engine
    assert server.engine == "postgres" or t.db_path.is_file(), f"no tenant database at {t.db_path}"
    t.user_id = _me(t.owner)
    return t


def _db(t):
    if t.engine == "postgres":
        pytest.skip("writes the embedded SQLite file directly to test read-only tables; no such file on PostgreSQL")
    con = sqlite3.connect(str(t.db_path), timeout=15, isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA busy_timeout = 15000")
    return con


NOW = "2026-01-02T03:04:05.678Z"


def _insert(t, table, **cols):
    """Insert a row of an append-only table directly; returns its id."""
    rid = cols.pop("id", None) or str(uuid.uuid4())
    cols = {"id": rid, "created_at": NOW, **cols}
    names = ", ".join(f'"{k}"' for k in cols)
    marks = ", ".join("?" for _ in cols)
    con = _db(t)
    try:
        con.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', list(cols.values()))
    finally:
        con.close()
    return rid


def _db_refuses(t, table, **cols):
    rid = str(uuid.uuid4())
    with pytest.raises(sqlite3.IntegrityError):
        _insert(t, table, id=rid, **cols)
    con = _db(t)
    try:
        assert con.execute(f'SELECT COUNT(*) FROM "{table}" WHERE id = ?', (rid,)).fetchone()[0] == 0
    finally:
        con.close()


# --- security_settings (001) -------------------------------------------------

SECURITY_DEFAULTS = {
    "copy_protection_enabled": True, "disable_text_selection": False, "disable_right_click": False,
    "block_keyboard_shortcuts": False, "blur_on_print_screen": False, "export_enabled": True,
    "require_watermark": True, "max_export_rows": 10000, "max_exports_per_day": 10,
    "require_approval_threshold": 1000, "export_link_expiry_hours": 24, "data_masking_enabled": True,
    "mask_phone_numbers": True, "mask_email_addresses": True, "mask_addresses": False,
    "mask_financial_data": False, "session_timeout_minutes": 30, "max_concurrent_sessions": 3,
    "force_logout_on_role_change": True, "ip_binding_enabled": False, "mfa_required": False,
    "requests_per_minute": 100, "export_requests_per_hour": 10, "alert_on_limit_violations": True,
}


def _settings(client):
    rows = h.list_all(client, "security_settings")
    assert len(rows) == 1, f"expected the one settings row: {rows}"
    return rows[0]


def test_security_settings_seeded_with_001_defaults(fresh, acme_owner):
    # the suite's tenants run a relaxed session policy (helpers.py); a bare
    # tenant's session defaults are test_sessions_policy.py's
    for client in (fresh.owner, acme_owner):
        s = _settings(client)
        for k, v in {**SECURITY_DEFAULTS, **h.RELAXED_SESSION_SETTINGS}.items():
            assert s[k] == v, f"{k}: {s[k]!r} != {v!r}"
        assert s["scope"] == "tenant"


def test_security_settings_patch_and_audit(fresh):
    s = _settings(fresh.owner)
    upd = h.ok(fresh.owner.patch(f"/api/v1/security_settings/{s['id']}",
                                 json={"max_export_rows": 500, "mfa_required": True,
                                       "require_approval_threshold": None}))
    assert (upd["max_export_rows"], upd["mfa_required"], upd["require_approval_threshold"]) == (500, True, None)
    assert _settings(fresh.owner) == upd
    assert "update" in _audit_actions(fresh.owner, "security_settings", s["id"])
    # the module's later sign-ins must not be held for MFA enrolment
    h.ok(fresh.owner.patch(f"/api/v1/security_settings/{s['id']}", json={"mfa_required": False}))


def test_security_settings_stay_one_row(fresh):
    before = _settings(fresh.owner)
    h.expect_error(fresh.owner.post("/api/v1/security_settings", json={"mfa_required": True}), 409, "conflict")
    h.expect_error(fresh.owner.delete(f"/api/v1/security_settings/{before['id']}"), 422, "unprocessable")
    e = h.expect_error(fresh.owner.patch(f"/api/v1/security_settings/{before['id']}", json={"scope": "tenant"}),
                       400, "readonly_field")
    assert "scope" in h.error_fields(e)
    assert _settings(fresh.owner) == before


def test_security_settings_are_settings_permission(acme_viewer):
    s = _settings(acme_viewer)  # settings.view
    h.expect_error(acme_viewer.patch(f"/api/v1/security_settings/{s['id']}", json={"mfa_required": True}),
                   403, "forbidden")
    assert _settings(acme_viewer) == s


# --- role_security_settings (001) -------------------------------------------

def test_role_security_settings_crud(fresh):
    role = _new_role(fresh.owner)
    row = _crud_roundtrip(fresh.owner, "role_security_settings",
                          {"role_id": role["id"], "disable_right_click": True, "custom_export_limit": 5},
                          patch={"can_print": False, "disable_right_click": None})
    # 001 defaults; null overrides mean "the tenant setting applies"
    assert (row["view_full_data"], row["can_copy_data"], row["disable_text_selection"]) == (False, False, None)
    assert h.as_obj(row["allowed_exports"]) == []
    # one row per role
    h.expect_error(fresh.owner.post("/api/v1/role_security_settings", json={"role_id": role["id"]}),
                   409, "conflict")
    assert len(h.rows_where(fresh.owner, "role_security_settings", role_id=role["id"])) == 1
    # role_id is fixed once set
    other = _new_role(fresh.owner)
    e = h.expect_error(fresh.owner.patch(f"/api/v1/role_security_settings/{row['id']}",
                                         json={"role_id": other["id"]}), 400, "readonly_field")
    assert "role_id" in h.error_fields(e)
    # ON DELETE CASCADE from roles
    h.ok(fresh.owner.delete(f"/api/v1/roles/{role['id']}"))
    h.expect_error(fresh.owner.get(f"/api/v1/role_security_settings/{row['id']}"), 404, "not_found")


def test_role_security_settings_allowed_exports(fresh):
    role = _new_role(fresh.owner)
    row = h.create(fresh.owner, "role_security_settings",
                   {"role_id": role["id"], "allowed_exports": ["ORDERS_CSV", "ndr"]})
    assert h.as_obj(row["allowed_exports"]) == ["orders_csv", "ndr"]
    for bad in (["pdf"], "orders_csv", {"a": 1}, ["ndr", "ndr"], [1]):
        e = h.expect_error(fresh.owner.patch(f"/api/v1/role_security_settings/{row['id']}",
                                             json={"allowed_exports": bad}), 400, "validation_failed")
        assert "allowed_exports" in h.error_fields(e)
    assert h.get(fresh.owner, "role_security_settings", row["id"]) == row
    other = _new_role(fresh.owner)
    _refused(fresh.owner.post("/api/v1/role_security_settings",
                              json={"role_id": other["id"], "allowed_exports": ["everything"]}),
             400, "validation_failed", "allowed_exports", fresh.owner, "role_security_settings",
             role_id=other["id"])


# --- security_alerts (003) ---------------------------------------------------

def _alert(client, **fields):
    body = {"alert_type": "suspicious_login", "severity": "HIGH", "description": "Login from " + h.uniq()}
    body.update(fields)
    return h.create(client, "security_alerts", body)


def test_security_alert_lifecycle(fresh):
    a = _alert(fresh.owner, user_id=fresh.user_id, ip_address="203.0.113.7", additional_data={"tries": 7})
    assert (a["severity"], a["status"], a["resolved_by"], a["resolved_at"]) == ("high", "open", None, None)
    assert h.as_obj(a["additional_data"]) == {"tries": 7}
    assert h.get(fresh.owner, "security_alerts", a["id"]) == a
    inv = h.ok(fresh.owner.patch(f"/api/v1/security_alerts/{a['id']}", json={"status": "investigating"}))
    assert (inv["status"], inv["resolved_by"]) == ("investigating", None)
    done = h.ok(fresh.owner.patch(f"/api/v1/security_alerts/{a['id']}", json={"status": "RESOLVED"}))
    assert done["status"] == "resolved"
    assert done["resolved_by"] == fresh.user_id
    h.parse_ts(done["resolved_at"])
    again = h.ok(fresh.owner.patch(f"/api/v1/security_alerts/{a['id']}", json={"status": "open"}))
    assert (again["resolved_by"], again["resolved_at"]) == (None, None)
    fp = h.ok(fresh.owner.patch(f"/api/v1/security_alerts/{a['id']}", json={"status": "false_positive"}))
    assert fp["resolved_by"] == fresh.user_id
    assert _audit_actions(fresh.owner, "security_alerts", a["id"]) == ["create"] + ["update"] * 4


@pytest.mark.parametrize("field,value", [
    ("severity", "low"), ("description", "rewritten"), ("alert_type", "other"), ("user_id", None),
    ("resolved_by", None), ("resolved_at", "2026-01-01T00:00:00Z"),
])
def test_security_alert_recorded_facts_are_fixed(fresh, field, value):
    a = _alert(fresh.owner)
    e = h.expect_error(fresh.owner.patch(f"/api/v1/security_alerts/{a['id']}", json={field: value}),
                       400, "readonly_field")
    assert field in h.error_fields(e)
    assert h.get(fresh.owner, "security_alerts", a["id"]) == a


def test_security_alert_needs_security_permission(acme_viewer, acme_owner):
    ip = h.uniq("ip")
    h.expect_error(acme_viewer.post("/api/v1/security_alerts",
                                    json={"alert_type": "x", "severity": "low", "description": "d",
                                          "ip_address": ip}), 403, "forbidden")
    _none_where(acme_owner, "security_alerts", ip_address=ip)


# --- permission_templates (003) and user_features (001) ----------------------

def test_permission_templates(fresh):
    t = _crud_roundtrip(fresh.owner, "permission_templates",
                        {"name": h.uniq("Tpl "), "permissions": ["orders.view", "orders.edit"]},
                        patch={"description": "for order desks"})
    assert (t["created_by"], t["is_system_template"]) == (fresh.user_id, False)
    assert h.as_obj(t["permissions"]) == ["orders.view", "orders.edit"]
    name = h.uniq("Tpl ")
    _refused(fresh.owner.post("/api/v1/permission_templates", json={"name": name}), 400, "validation_failed",
             "permissions", fresh.owner, "permission_templates", name=name)
    _refused(fresh.owner.post("/api/v1/permission_templates", json={"name": name, "permissions": [],
                                                                     "is_system_template": True}),
             400, "readonly_field", "is_system_template", fresh.owner, "permission_templates", name=name)
    marker = h.uniq("nameless ")
    _refused(fresh.owner.post("/api/v1/permission_templates", json={"permissions": [], "description": marker}),
             400, "validation_failed", "name", fresh.owner, "permission_templates", description=marker)


def test_user_features(fresh):
    code = h.uniq("feat_")
    f = _crud_roundtrip(fresh.owner, "user_features",
                        {"user_id": fresh.user_id, "feature_code": code, "is_enabled": False},
                        patch={"is_enabled": True})
    # UNIQUE (user_id, feature_code)
    h.expect_error(fresh.owner.post("/api/v1/user_features",
                                    json={"user_id": fresh.user_id, "feature_code": code, "is_enabled": False}),
                   409, "conflict")
    assert [r["id"] for r in h.rows_where(fresh.owner, "user_features", feature_code=code)] == [f["id"]]
    for field, value in (("feature_code", "other"), ("user_id", fresh.user_id)):
        h.expect_error(fresh.owner.patch(f"/api/v1/user_features/{f['id']}", json={field: value}),
                       400, "readonly_field")
    code2 = h.uniq("feat_")
    for body, status, ecode, field in (
            ({"user_id": fresh.user_id, "feature_code": code2}, 400, "validation_failed", "is_enabled"),
            ({"user_id": h.MISSING_ID, "feature_code": code2, "is_enabled": True}, 422, "unprocessable", "user_id"),
            ({"feature_code": code2, "is_enabled": True}, 400, "validation_failed", "user_id"),
            ({"user_id": fresh.user_id, "feature_code": "x" * 101, "is_enabled": True}, 400, "validation_failed",
             "feature_code")):
        _refused(fresh.owner.post("/api/v1/user_features", json=body), status, ecode, field,
                 fresh.owner, "user_features", feature_code=code2)


# --- notification_templates (001) --------------------------------------------

def _template(client, **fields):
    body = {"name": "Shipped", "code": h.uniq("order_shipped_"), "type": "email",
            "subject": "Your order {{order_number}}", "body": "Hello {{customer_name}}",
            "variables": ["customer_name", "order_number"]}
    body.update(fields)
    return h.create(client, "notification_templates", body)


def test_notification_templates(fresh):
    code = h.uniq("tpl_")
    t = _crud_roundtrip(fresh.owner, "notification_templates",
                        {"name": "Out for delivery", "code": code, "type": "sms", "body": "On its way"},
                        patch={"body": "On its way today", "is_active": False})
    assert h.as_obj(t["variables"]) == []
    # UNIQUE (code, type): another channel may reuse the code, the same may not
    h.expect_error(fresh.owner.post("/api/v1/notification_templates",
                                    json={"name": "dup", "code": code, "type": "SMS", "body": "b"}),
                   409, "conflict")
    w = _template(fresh.owner, code=code, type="WhatsApp")
    assert w["type"] == "whatsapp"
    assert sorted(r["type"] for r in h.rows_where(fresh.owner, "notification_templates", code=code)) == \
        ["sms", "whatsapp"]


# --- read-only logs: notification_logs, export_logs, security_violations,
# --- automation_logs, refresh_tokens -----------------------------------------

def test_notification_logs(fresh, cli, login):
    t = _template(fresh.owner)
    lid = _insert(fresh, "notification_logs", template_id=t["id"], type="email", recipient="alice@example.com",
                  subject="s", body="b", status="sent", reference_type="order", reference_id=str(uuid.uuid4()),
                  sent_at=NOW, metadata="{}")
    row = h.get(fresh.owner, "notification_logs", lid)
    assert (row["recipient"], row["status"], row["template_id"]) == ("alice@example.com", "sent", t["id"])
    for verb in ("patch", "delete"):
        h.expect_error(getattr(fresh.owner, verb)(f"/api/v1/notification_logs/{lid}",
                                                  **({"json": {"status": "failed"}} if verb == "patch" else {})),
                       405, "method_not_allowed")
    assert h.get(fresh.owner, "notification_logs", lid) == row
    # recipient is masked for roles the e-mail masking rule names (viewer)
    email = f"viewer@{fresh.slug}.test"
    cli.user_create(fresh.slug, email, "viewer")
    viewer = login(fresh.slug, email)
    assert h.get(viewer, "notification_logs", lid)["recipient"] == "al**@***.***"
    # the template is referenced (RESTRICT): it cannot be deleted
    h.expect_error(fresh.owner.delete(f"/api/v1/notification_templates/{t['id']}"), 409, "in_use")
    assert h.get(fresh.owner, "notification_templates", t["id"]) == t
    # the database holds the declared constraints
    ok = dict(type="sms", recipient="+15550100", body="b", status="pending")
    _db_refuses(fresh, "notification_logs", **dict(ok, status="bounced"))
    _db_refuses(fresh, "notification_logs", **dict(ok, type="fax"))
    _db_refuses(fresh, "notification_logs", **{k: v for k, v in ok.items() if k != "recipient"})
    _db_refuses(fresh, "notification_logs", **{k: v for k, v in ok.items() if k != "body"})
    _db_refuses(fresh, "notification_logs", **dict(ok, template_id=h.MISSING_ID))
    _db_refuses(fresh, "notification_logs", **dict(ok, metadata="{bad"))


def test_export_logs(fresh):
    lid = _insert(fresh, "export_logs", user_id=fresh.user_id, export_type="orders_csv", file_format="csv",
                  row_count=12, download_url="https://files.example/secret-token", download_count=0,
                  status="pending_approval", approval_required=1, filters_applied="{}", columns_exported="[]")
    row = h.get(fresh.owner, "export_logs", lid)
    assert (row["status"], row["approval_required"], row["row_count"]) == ("pending_approval", True, 12)
    assert "download_url" not in row  # a link that grants the file: never serialized
    h.expect_error(fresh.owner.get("/api/v1/export_logs", params={"download_url": "x"}), 400, "invalid_query")
    ok = dict(user_id=fresh.user_id, export_type="ndr", file_format="xlsx", row_count=1, download_count=0,
              status="completed", approval_required=0)
    for bad in (dict(status="lost"), dict(row_count=-1), dict(download_count=-1), dict(file_size_bytes=-1),
                dict(user_id=h.MISSING_ID), dict(approved_by=h.MISSING_ID), dict(user_id=None),
                dict(row_count=None), dict(export_type=None), dict(approval_required=None)):
        _db_refuses(fresh, "export_logs", **dict(ok, **bad))


def test_security_violations(fresh):
    vid = _insert(fresh, "security_violations", user_id=fresh.user_id, violation_type="copy_attempt",
                  severity="critical", blocked=1, request_path="/api/v1/orders", metadata='{"k": 1}')
    row = h.get(fresh.owner, "security_violations", vid)
    assert (row["severity"], row["blocked"], h.as_obj(row["metadata"])) == ("critical", True, {"k": 1})
    assert [r["id"] for r in h.rows_where(fresh.owner, "security_violations", severity="CRITICAL")] == [vid]
    ok = dict(violation_type="rate_limit_exceeded", severity="low", blocked=1)
    for bad in (dict(severity="fatal"), dict(violation_type=None), dict(blocked=2),
                dict(user_id=h.MISSING_ID), dict(request_path="/" * 501)):
        _db_refuses(fresh, "security_violations", **dict(ok, **bad))


def test_refresh_tokens(fresh):
    token_hash = "h" + uuid.uuid4().hex
    rid = _insert(fresh, "refresh_tokens", user_id=fresh.user_id, token_hash=token_hash,
                  expires_at="2030-01-01T00:00:00.000Z")
    row = h.get(fresh.owner, "refresh_tokens", rid)
    assert "token_hash" not in row and "token" not in row
    assert (row["user_id"], row["revoked_at"]) == (fresh.user_id, None)
    assert token_hash not in json.dumps(h.list_all(fresh.owner, "refresh_tokens"))
    ok = dict(user_id=fresh.user_id, token_hash="h" + uuid.uuid4().hex, expires_at="2030-01-01T00:00:00.000Z")
    for bad in (dict(token_hash=token_hash), dict(token_hash=None), dict(expires_at=None),
                dict(user_id=h.MISSING_ID)):
        _db_refuses(fresh, "refresh_tokens", **dict(ok, **bad))


# --- event_types and analytics_events (000 + 004) -----------------------------

def _event_type(client, **fields):
    body = {"code": h.uniq("PAGE_VIEW_"), "name": "Page view", "category": "navigation"}
    body.update(fields)
    return h.create(client, "event_types", body)


def test_event_types(fresh):
    et = _crud_roundtrip(fresh.owner, "event_types", {"code": h.uniq("SEARCH_"), "name": "Search"},
                         patch={"description": "a search was run", "is_active": False})
    _refused(fresh.owner.post("/api/v1/event_types", json={"code": et["code"], "name": "again"}),
             409, "conflict", None, fresh.owner, "event_types", name="again")
    code = h.uniq("E_")
    _refused(fresh.owner.post("/api/v1/event_types", json={"code": code}), 400, "validation_failed", "name",
             fresh.owner, "event_types", code=code)
    _refused(fresh.owner.post("/api/v1/event_types", json={"name": code}), 400, "validation_failed", "code",
             fresh.owner, "event_types", name=code)


def test_analytics_event_by_catalogued_code(fresh):
    et = _event_type(fresh.owner)
    c = h.create_customer(fresh.owner)
    body = {"event_type": et["code"], "user_id": fresh.user_id, "customer_id": c["id"],
            "session_id": "s-1", "page_url": "https://portal.example/track", "ip_address": "2001:db8::1",
            "country": "IN", "city": "Mumbai", "device_type": "mobile", "browser": "Firefox",
            "entity_type": "shipment", "event_properties": {"awb": "123-45678901"}, "event_value": "12.5",
            "event_timestamp": "2026-03-04T05:06:07.089Z"}
    ev = h.create(fresh.owner, "analytics_events", body)
    assert ev["event_type_id"] == et["id"]
    assert (ev["event_name"], ev["event_category"]) == ("Page view", "navigation")
    assert (ev["event_value"], ev["processed"]) == ("12.50", False)
    assert h.as_obj(ev["event_properties"]) == {"awb": "123-45678901"}
    assert ev["event_timestamp"] == "2026-03-04T05:06:07.089Z"
    assert "updated_at" not in ev and "version" not in ev  # append-only
    assert h.get(fresh.owner, "analytics_events", ev["id"]) == ev
    assert _audit_actions(fresh.owner, "analytics_events", ev["id"]) == ["create"]
    # events are facts: no PATCH; the type they use cannot be deleted (RESTRICT)
    h.expect_error(fresh.owner.patch(f"/api/v1/analytics_events/{ev['id']}", json={"city": "Pune"}),
                   405, "method_not_allowed")
    h.expect_error(fresh.owner.delete(f"/api/v1/event_types/{et['id']}"), 409, "in_use")
    assert h.get(fresh.owner, "analytics_events", ev["id"]) == ev
    # the event's own values win over the type's
    ev2 = h.create(fresh.owner, "analytics_events",
                   {"event_type": et["code"], "event_name": "Tracking page", "event_category": "portal"})
    assert (ev2["event_name"], ev2["event_category"]) == ("Tracking page", "portal")


def test_analytics_event_by_type_id_and_uncatalogued(fresh):
    et = _event_type(fresh.owner)
    ev = h.create(fresh.owner, "analytics_events", {"event_type_id": et["id"]})
    assert (ev["event_type"], ev["event_name"]) == (et["code"], et["name"])
    h.parse_ts(ev["event_timestamp"])  # defaults to now
    # 004 logs any event_type: an uncatalogued one names its own events
    code = h.uniq("stock_moved_")
    ev4 = h.create(fresh.owner, "analytics_events",
                   {"event_type": code, "entity_type": "inventory", "event_properties": {"qty": 3}})
    assert (ev4["event_type_id"], ev4["event_name"], ev4["user_id"]) == (None, code, None)
    assert [r["id"] for r in h.rows_where(fresh.owner, "analytics_events", event_type=code)] == [ev4["id"]]
    # events are append-only: no client DELETE either (retention is not an API call)
    r = fresh.owner.delete(f"/api/v1/analytics_events/{ev4['id']}")
    h.expect_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET"
    assert h.get(fresh.owner, "analytics_events", ev4["id"]) == ev4
    assert _audit_actions(fresh.owner, "analytics_events", ev4["id"]) == ["create"]


def test_analytics_event_refused(fresh):
    et = _event_type(fresh.owner)
    sid = h.uniq("sess-")
    cases = [
        ({}, 400, "validation_failed", "event_type"),
        ({"event_type_id": et["id"], "event_type": "SOMETHING_ELSE"}, 400, "validation_failed", "event_type"),
        ({"event_type_id": h.MISSING_ID}, 422, "unprocessable", "event_type_id"),
        ({"event_type": "x", "user_id": h.MISSING_ID}, 422, "unprocessable", "user_id"),
        ({"event_type": "x", "customer_id": h.MISSING_ID}, 422, "unprocessable", "customer_id"),
        ({"event_type": "x", "event_value": "1.234"}, 400, "validation_failed", "event_value"),
        ({"event_type": "x", "country": "IND"}, 400, "validation_failed", "country"),
        ({"event_type": "x" * 51}, 400, "validation_failed", "event_type"),
        ({"event_type": "x", "event_timestamp": "yesterday"}, 400, "validation_failed", "event_timestamp"),
        ({"event_type": "x", "processed": True}, 400, "readonly_field", "processed"),
    ]
    for body, status, code, field in cases:
        _refused(fresh.owner.post("/api/v1/analytics_events", json=dict(body, session_id=sid)), status, code,
                 field, fresh.owner, "analytics_events", session_id=sid)


# --- analytics_metrics (004) and analytics_data (003) -------------------------

def test_analytics_metrics(fresh):
    name = h.uniq("orders_per_day_")
    m = _crud_roundtrip(fresh.owner, "analytics_metrics",
                        {"metric_name": name, "metric_value": "42.1250", "dimension_date": "2026-02-01"})
    assert m["metric_value"] == "42.1250"
    h.expect_error(fresh.owner.patch(f"/api/v1/analytics_metrics/{m['id']}", json={"metric_value": "1"}),
                   405, "method_not_allowed")
    assert h.get(fresh.owner, "analytics_metrics", m["id"]) == m
    name2 = h.uniq("m_")
    for body, field in (({"metric_value": "1", "dimension_date": "2026-02-01"}, "metric_name"),
                        ({"metric_name": name2, "dimension_date": "2026-02-01"}, "metric_value"),
                        ({"metric_name": name2, "metric_value": "1"}, "dimension_date"),
                        ({"metric_name": name2, "metric_value": "1.00001", "dimension_date": "2026-02-01"},
                         "metric_value"),
                        ({"metric_name": name2, "metric_value": "1", "dimension_date": "2026-02-30"},
                         "dimension_date")):
        _refused(fresh.owner.post("/api/v1/analytics_metrics", json=body), 400, "validation_failed", field,
                 fresh.owner, "analytics_metrics", metric_name=name2)


def test_analytics_data(fresh):
    name = h.uniq("turnover_")
    d = _crud_roundtrip(fresh.owner, "analytics_data",
                        {"data_type": "inventory_turnover", "entity_type": "product",
                         "entity_id": str(uuid.uuid4()), "metric_name": name, "metric_value": "3.5",
                         "calculation_date": "2026-02-02"})
    assert d["metric_value"] == "3.5000"
    h.parse_ts(d["calculated_at"])
    name2 = h.uniq("m_")
    base = {"data_type": "sales_trend", "metric_name": name2, "metric_value": "1", "calculation_date": "2026-02-02"}
    for drop in ("data_type", "metric_value", "calculation_date"):
        _refused(fresh.owner.post("/api/v1/analytics_data", json={k: v for k, v in base.items() if k != drop}),
                 400, "validation_failed", drop, fresh.owner, "analytics_data", metric_name=name2)
    _refused(fresh.owner.post("/api/v1/analytics_data", json=dict(base, metric_value="0.00001")), 400,
             "validation_failed", "metric_value", fresh.owner, "analytics_data", metric_name=name2)


# --- kpi_targets (003) ---------------------------------------------------------

def _kpi_body(**fields):
    body = {"kpi_type": "Financial", "kpi_name": h.uniq("daily_sales_"), "target_period": "monthly",
            "target_value": "200.00", "period_start": "2026-01-01", "period_end": "2026-01-31"}
    body.update(fields)
    return body


def test_kpi_targets(fresh):
    # the figures are the server's (test_analytics_kpis.py measures the known names);
    # a name it does not know keeps 0 and no trend
    for field, value in (("current_value", "50"), ("trend_direction", "up")):
        e = h.expect_error(fresh.owner.post("/api/v1/kpi_targets", json=_kpi_body(**{field: value})),
                           400, "readonly_field")
        assert field in h.error_fields(e)
    k = h.create(fresh.owner, "kpi_targets", _kpi_body())
    assert (k["kpi_type"], k["current_value"], k["achievement_rate"], k["trend_direction"], k["created_by"],
            k["is_active"]) == ("financial", "0.00", "0.00", None, fresh.user_id, True)
    assert h.get(fresh.owner, "kpi_targets", k["id"]) == k
    upd = h.ok(fresh.owner.patch(f"/api/v1/kpi_targets/{k['id']}", json={"target_value": "150.5"}))
    assert (upd["target_value"], upd["achievement_rate"]) == ("150.50", "0.00")
    upd = h.ok(fresh.owner.patch(f"/api/v1/kpi_targets/{k['id']}", json={"target_value": "0"}))
    assert upd["achievement_rate"] == "0.00"
    assert _audit_actions(fresh.owner, "kpi_targets", k["id"]) == ["create", "update", "update"]
    # period_end >= period_start on PATCH too
    e = h.expect_error(fresh.owner.patch(f"/api/v1/kpi_targets/{k['id']}", json={"period_end": "2025-12-31"}),
                       400, "validation_failed")
    assert "period_end" in h.error_fields(e)
    assert h.get(fresh.owner, "kpi_targets", k["id"]) == upd


# --- dashboard_widgets (003) ---------------------------------------------------

def test_dashboard_widgets(fresh, cli, login):
    w = _crud_roundtrip(fresh.owner, "dashboard_widgets",
                        {"widget_type": "chart", "widget_config": {"kpi": "daily_sales"}, "position_x": 0,
                         "position_y": 2, "width": 4, "height": 3},
                        patch={"position_x": 4, "is_visible": False})
    assert w["user_id"] == fresh.user_id
    e = h.expect_error(fresh.owner.patch(f"/api/v1/dashboard_widgets/{w['id']}", json={"user_id": fresh.user_id}),
                       400, "readonly_field")
    assert "user_id" in h.error_fields(e)
    # placed on another user's dashboard; ON DELETE CASCADE is the database's
    email = f"{h.uniq('w')}@{fresh.slug}.test"
    cli.user_create(fresh.slug, email, "viewer")
    other = h.user_id_by_email(fresh.owner, email)
    w2 = h.create(fresh.owner, "dashboard_widgets", {"user_id": other, "widget_type": "METRIC",
                                                      "widget_config": {"kpi": "gold_sold_grams"},
                                                      "position_x": 0, "position_y": 0,
                                                      "width": 1, "height": 1})
    assert (w2["user_id"], w2["widget_type"]) == (other, "metric")


# --- custom_reports (003) ------------------------------------------------------

def _report_body(**fields):
    body = {"name": h.uniq("Sales report "), "report_type": "sales",
            "report_config": {"source": "invoices", "group_by": ["status"], "measures": [{"fn": "count"}]}}
    body.update(fields)
    return body


def test_custom_reports(fresh):
    r = _crud_roundtrip(fresh.owner, "custom_reports",
                        _report_body(is_scheduled=True, schedule_frequency="WEEKLY", schedule_time="08:30",
                                     schedule_days=["monday", "thursday"], email_recipients=["a@example.com"],
                                     export_formats=["pdf", "csv"]),
                        patch={"schedule_time": "23:59:59", "is_active": False})
    assert (r["schedule_frequency"], r["created_by"]) == ("weekly", fresh.user_id)
    r = h.ok(fresh.owner.patch(f"/api/v1/custom_reports/{r['id']}", json={"export_formats": ["EXCEL", "Pdf"]}))
    assert h.as_obj(r["export_formats"]) == ["excel", "pdf"]  # stored in the canonical spelling
    for change, field in (({"export_formats": ["docx"]}, "export_formats"),
                          ({"schedule_time": "24:00"}, "schedule_time"),
                          ({"report_type": "weather"}, "report_type")):
        e = h.expect_error(fresh.owner.patch(f"/api/v1/custom_reports/{r['id']}", json=change),
                           400, "validation_failed")
        assert field in h.error_fields(e)
    assert h.get(fresh.owner, "custom_reports", r["id"]) == r


# formats a hook checks (declared required, enum and server-set columns are
# refused by test_generic.py)
@pytest.mark.parametrize("change,status,code,field", [
    ({"schedule_time": "8:30"}, 400, "validation_failed", "schedule_time"),
    ({"schedule_time": "12:60"}, 400, "validation_failed", "schedule_time"),
    ({"export_formats": "pdf"}, 400, "validation_failed", "export_formats"),
    ({"export_formats": ["pdf", "xml"]}, 400, "validation_failed", "export_formats"),
])
def test_custom_report_refused(fresh, change, status, code, field):
    body = _report_body(**change)
    _refused(fresh.owner.post("/api/v1/custom_reports", json=body), status, code, field, fresh.owner,
             "custom_reports", name=body["name"])


# --- automation_rules and automation_logs (003) ----------------------------------

def _rule_body(**fields):
    body = {"rule_name": h.uniq("Reorder gold "), "rule_type": "reorder",
            "trigger_conditions": {"event": "inventory.low"}, "actions": [{"type": "reorder"}]}
    body.update(fields)
    return body


def test_automation_rules_and_logs(fresh):
    rule = _crud_roundtrip(fresh.owner, "automation_rules", _rule_body(), patch={"is_active": False})
    assert (rule["execution_count"], rule["last_executed"], rule["created_by"]) == (0, None, fresh.user_id)
    lid = _insert(fresh, "automation_logs", rule_id=rule["id"], execution_status="partial",
                  execution_details='{"ran": 1}', error_message="one action failed", executed_at=NOW)
    log = h.get(fresh.owner, "automation_logs", lid)
    assert (log["rule_id"], log["execution_status"]) == (rule["id"], "partial")
    ok = dict(rule_id=rule["id"], execution_status="success", executed_at=NOW)
    for bad in (dict(execution_status="maybe"), dict(execution_status=None), dict(rule_id=h.MISSING_ID),
                dict(rule_id=None), dict(executed_at=None)):
        _db_refuses(fresh, "automation_logs", **dict(ok, **bad))
    # ON DELETE CASCADE: deleting the rule removes its log
    h.ok(fresh.owner.delete(f"/api/v1/automation_rules/{rule['id']}"))
    h.expect_error(fresh.owner.get(f"/api/v1/automation_logs/{lid}"), 404, "not_found")


# --- permissions of the new modules ------------------------------------------------

@pytest.mark.parametrize("table,body", [
    ("kpi_targets", _kpi_body()),
    ("custom_reports", _report_body()),
    ("automation_rules", _rule_body()),
    ("notification_templates", {"name": "n", "code": h.uniq("c"), "type": "email", "body": "b"}),
    ("user_features", {"user_id": h.MISSING_ID, "feature_code": "x", "is_enabled": True}),
])
def test_viewer_cannot_write_insight_tables(acme_viewer, table, body):
    before = h.list_all(acme_viewer, table)
    h.expect_error(acme_viewer.post(f"/api/v1/{table}", json=body), 403, "forbidden")
    assert h.list_all(acme_viewer, table) == before
