"""Session policy from the tenant's security settings (issue #17): idle
timeout, concurrent sessions (end the oldest or refuse), IP binding and
sign-out on role changes. Time is moved by back-dating the rows the server
stamps, as an operator could."""
import datetime
import threading

import httpx

import helpers as h

API = "/api/v1"


def settings_url(owner):
    return f"{API}/security_settings/{h.list_all(owner, 'security_settings')[0]['id']}"


def set_policy(owner, **fields):
    return h.ok(owner.patch(settings_url(owner), json=fields))


def sign_in(server, tenant, email, password=h.USER_PASSWORD, local=None):
    r = h.login_raw(server.url, tenant, email, password)
    tok = h.ok(r)["token"]
    return client(server, tok, local)


def client(server, token, local=None):
    transport = httpx.HTTPTransport(local_address=local) if local else None
    return httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT, transport=transport,
                        headers={"Authorization": f"Bearer {token}"})


def session_row(owner, user_id, **filters):
    rows = h.list_all(owner, "user_sessions", {"user_id": user_id, **filters})
    return sorted(rows, key=lambda r: r["created_at"])


def ok_me(c):
    return c.get(f"{API}/auth/me").status_code == 200


def test_new_tenant_gets_seed_defaults(cli, login):
    # made without the suite's relaxed policy
    s = h.slug()
    cli.run("tenant", "create", s, "--plan", "business", "--owner-email", f"owner@{s}.test",
            "--owner-password", h.OWNER_PASSWORD)
    owner = login(s, f"owner@{s}.test", h.OWNER_PASSWORD)
    st = h.list_all(owner, "security_settings")[0]
    assert st["session_timeout_minutes"] == 30
    assert st["max_concurrent_sessions"] == 3
    assert st["session_limit_action"] == "end_oldest"
    assert st["force_logout_on_role_change"] is True
    assert st["ip_binding_enabled"] is False


def test_idle_timeout_slides_and_ends_session(server, new_tenant):
    t = new_tenant(agents=1)
    set_policy(t.owner, session_timeout_minutes=5)
    agent = sign_in(server, t.slug, t.agents[0])
    uid = h.ok(agent.get(f"{API}/auth/me"))["user"]["id"]
    sid = session_row(t.owner, uid)[-1]["id"]
    # used 4 minutes ago: still live, and this use slides the window
    last = h.parse_ts(h.get(t.owner, "user_sessions", sid)["last_activity_at"])
    four = h.fmt_ts(last - datetime.timedelta(minutes=4))
    h.tenant_sql(server, t.slug, f"UPDATE user_sessions SET last_activity_at = '{four}' WHERE id = '{sid}'")
    assert ok_me(agent)
    row = h.get(t.owner, "user_sessions", sid)
    assert row["last_activity_at"] > four and row["terminated_at"] is None
    # unused for longer than the timeout: the session ends
    six = h.fmt_ts(h.parse_ts(row["last_activity_at"]) - datetime.timedelta(minutes=6))
    h.tenant_sql(server, t.slug, f"UPDATE user_sessions SET last_activity_at = '{six}' WHERE id = '{sid}'")
    e = h.expect_error(agent.get(f"{API}/auth/me"), 401, "unauthenticated")
    assert "inactivity" in e["message"]
    row = h.get(t.owner, "user_sessions", sid)
    assert row["termination_reason"] == "idle_timeout" and row["terminated_at"] and row["is_active"] is False
    # and stays ended
    h.expect_error(agent.get(f"{API}/auth/me"), 401, "unauthenticated")
    agent.close()


def test_absolute_lifetime(server, new_tenant):
    t = new_tenant(agents=1)
    r = h.ok(h.login_raw(server.url, t.slug, t.agents[0], h.USER_PASSWORD))
    life = h.parse_ts(r["expires_at"]) - h.parse_ts(r["user"]["last_login_at"])
    assert abs(life.total_seconds() - 12 * 3600) < 5
    agent = client(server, r["token"])
    sid = session_row(t.owner, r["user"]["id"])[-1]["id"]
    h.tenant_sql(server, t.slug, f"UPDATE user_sessions SET expires_at = '2001-01-01T00:00:00.000Z' WHERE id = '{sid}'")
    h.expect_error(agent.get(f"{API}/auth/me"), 401, "unauthenticated")
    agent.close()


def test_max_sessions_ends_the_oldest(server, new_tenant):
    t = new_tenant(agents=1)
    set_policy(t.owner, max_concurrent_sessions=2)
    first, second, third = (sign_in(server, t.slug, t.agents[0]) for _ in range(3))
    h.expect_error(first.get(f"{API}/auth/me"), 401, "unauthenticated")
    assert ok_me(second) and ok_me(third)
    uid = h.ok(third.get(f"{API}/auth/me"))["user"]["id"]
    rows = session_row(t.owner, uid)
    assert [r["termination_reason"] for r in rows] == ["max_sessions_exceeded", None, None]
    # an ended session does not count: signing out of one makes room without ending another
    h.ok(second.post(f"{API}/auth/logout"))
    fourth = sign_in(server, t.slug, t.agents[0])
    assert ok_me(third) and ok_me(fourth)
    for c in (first, second, third, fourth):
        c.close()


def test_max_sessions_refuse(server, new_tenant):
    t = new_tenant(agents=1)
    set_policy(t.owner, max_concurrent_sessions=1, session_limit_action="refuse")
    first = sign_in(server, t.slug, t.agents[0])
    uid = h.ok(first.get(f"{API}/auth/me"))["user"]["id"]
    e = h.expect_error(h.login_raw(server.url, t.slug, t.agents[0], h.USER_PASSWORD), 409, "session_limit_reached")
    assert "1" in e["message"]
    assert ok_me(first)
    assert len(session_row(t.owner, uid)) == 1
    refused = [a for a in h.audit_rows(t.owner, action="login_failed") if "session_limit" in str(a)]
    assert refused
    h.ok(first.post(f"{API}/auth/logout"))
    second = sign_in(server, t.slug, t.agents[0])
    assert ok_me(second)
    first.close()
    second.close()


def test_racing_sign_ins_for_the_last_session(server, new_tenant):
    t = new_tenant(agents=1)
    set_policy(t.owner, max_concurrent_sessions=1, session_limit_action="refuse")
    codes = []
    barrier = threading.Barrier(2)

    def go():
        barrier.wait()
        codes.append(h.login_raw(server.url, t.slug, t.agents[0], h.USER_PASSWORD).status_code)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(codes) == [200, 409]
    uid = h.user_id_by_email(t.owner, t.agents[0])
    assert len([r for r in session_row(t.owner, uid) if r["terminated_at"] is None]) == 1


def test_ip_binding(server, new_tenant):
    t = new_tenant(agents=1)
    # off: another address may use the token
    agent = sign_in(server, t.slug, t.agents[0])
    moved = client(server, agent.headers["Authorization"].split()[1], local="127.0.0.2")
    assert ok_me(moved)
    set_policy(t.owner, ip_binding_enabled=True)
    assert ok_me(agent)
    e = h.expect_error(moved.get(f"{API}/auth/me"), 401, "unauthenticated")
    assert "address" in e["message"]
    # the session is over for the original address too
    h.expect_error(agent.get(f"{API}/auth/me"), 401, "unauthenticated")
    uid = h.user_id_by_email(t.owner, t.agents[0])
    assert session_row(t.owner, uid)[-1]["termination_reason"] == "ip_mismatch"
    v = h.list_all(t.owner, "security_violations")
    assert [x["violation_type"] for x in v] == ["session_hijack_attempt"]
    assert v[0]["user_id"] == uid and v[0]["ip_address"] == "127.0.0.2" and v[0]["severity"] == "high"
    a = [x for x in h.list_all(t.owner, "security_alerts") if x["alert_type"] == "session_hijack_attempt"]
    assert len(a) == 1 and a[0]["user_id"] == uid and a[0]["status"] == "open" and a[0]["severity"] == "high"
    agent.close()
    moved.close()


def test_role_change_ends_sessions_when_configured(server, new_tenant):
    t = new_tenant(agents=1)
    uid = h.user_id_by_email(t.owner, t.agents[0])
    viewer_role = h.find_role_id(t.owner, "viewer")
    # off: a grant leaves the sessions alone
    set_policy(t.owner, force_logout_on_role_change=False)
    agent = sign_in(server, t.slug, t.agents[0])
    grant = h.create(t.owner, "user_roles", {"user_id": uid, "role_id": viewer_role})
    assert ok_me(agent)
    h.ok(t.owner.delete(f"{API}/user_roles/{grant['id']}"))
    # a grant lost always ends them
    h.expect_error(agent.get(f"{API}/auth/me"), 401, "unauthenticated")
    # on: a grant given ends them too
    set_policy(t.owner, force_logout_on_role_change=True)
    agent2 = sign_in(server, t.slug, t.agents[0])
    h.create(t.owner, "user_roles", {"user_id": uid, "role_id": viewer_role})
    h.expect_error(agent2.get(f"{API}/auth/me"), 401, "unauthenticated")
    assert session_row(t.owner, uid)[-1]["termination_reason"] == "role_changed"
    # the owner who granted keeps working
    assert ok_me(t.owner)
    agent.close()
    agent2.close()


def test_policy_settings_are_guarded(server, new_tenant):
    t = new_tenant(agents=1)
    agent = sign_in(server, t.slug, t.agents[0])
    url = settings_url(t.owner)
    h.expect_error(agent.patch(url, json={"max_concurrent_sessions": 50}), 403, "forbidden")
    h.expect_error(t.owner.patch(url, json={"session_limit_action": "sometimes"}), 400, "validation_failed")
    h.expect_error(t.owner.patch(url, json={"max_concurrent_sessions": 0}), 400, "validation_failed")
    h.expect_error(t.owner.patch(url, json={"session_timeout_minutes": "x"}), 400, "validation_failed")
    st = h.list_all(t.owner, "security_settings")[0]
    assert st["max_concurrent_sessions"] == 1000 and st["session_limit_action"] == "end_oldest"
    agent.close()


def test_me_shows_session_and_copy_protection(server, new_tenant):
    t = new_tenant(agents=1)
    set_policy(t.owner, disable_right_click=True, session_timeout_minutes=45)
    agent = sign_in(server, t.slug, t.agents[0])
    me = h.ok(agent.get(f"{API}/auth/me"))
    s = me["session"]
    assert s["idle_timeout_minutes"] == 45 and s["mfa_enrolment_only"] is False
    assert s["expires_at"] >= s["token_expires_at"] > s["last_activity_at"]
    cp = me["copy_protection"]
    assert cp["enabled"] is True and cp["disable_right_click"] is True and cp["disable_text_selection"] is False
    assert cp["can_copy_data"] is False and cp["can_print"] is True
    # a role's override wins over the tenant's; the owner may copy
    role = h.find_role_id(t.owner, "agent")
    h.create(t.owner, "role_security_settings", {"role_id": role, "disable_text_selection": True,
                                                 "disable_right_click": False, "can_print": False})
    cp = h.ok(agent.get(f"{API}/auth/me"))["copy_protection"]
    assert cp["disable_text_selection"] is True and cp["disable_right_click"] is False and cp["can_print"] is False
    assert h.ok(t.owner.get(f"{API}/auth/me"))["copy_protection"]["can_copy_data"] is True
    # copy protection off: nothing is asked of the console
    set_policy(t.owner, copy_protection_enabled=False)
    cp = h.ok(agent.get(f"{API}/auth/me"))["copy_protection"]
    assert not any(cp[k] for k in ("disable_text_selection", "disable_right_click", "block_keyboard_shortcuts"))
    agent.close()
