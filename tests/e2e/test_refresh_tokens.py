"""Refresh tokens (issue #17): sign-in gives a short-lived bearer token and a
rotating refresh token; POST /api/v1/auth/refresh exchanges the refresh token
for the next pair; a spent refresh token presented again revokes every token
of its sign-in and ends the session."""
import threading

import httpx

import helpers as h

API = "/api/v1"


def settings_url(owner):
    return f"{API}/security_settings/{h.list_all(owner, 'security_settings')[0]['id']}"


def bearer(server, token):
    return httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT, headers={"Authorization": f"Bearer {token}"})


def refresh(server, token):
    return httpx.post(server.url + f"{API}/auth/refresh", json={"refresh_token": token}, timeout=h.HTTP_TIMEOUT)


def me_status(server, token):
    with bearer(server, token) as c:
        return c.get(f"{API}/auth/me").status_code


def sign_in(server, t):
    return h.ok(h.login_raw(server.url, t.slug, t.agents[0], h.USER_PASSWORD))


def test_sign_in_gives_short_bearer_and_refresh_token(server, new_tenant):
    t = new_tenant(agents=1)
    h.ok(t.owner.patch(settings_url(t.owner), json={"access_token_minutes": 15}))
    r = sign_in(server, t)
    assert r["token"].startswith(f"obt_{t.slug}_") and r["refresh_token"].startswith(f"obr_{t.slug}_")
    start = h.parse_ts(r["user"]["last_login_at"])
    assert abs((h.parse_ts(r["expires_at"]) - start).total_seconds() - 15 * 60) < 5
    assert abs((h.parse_ts(r["session_expires_at"]) - start).total_seconds() - 12 * 3600) < 5
    assert me_status(server, r["token"]) == 200
    # neither token stands in for the other
    assert me_status(server, r["refresh_token"]) == 401
    h.expect_error(refresh(server, r["token"]), 401, "unauthenticated")
    # stored as a hash, never shown
    rows = h.list_all(t.owner, "refresh_tokens", {"user_id": r["user"]["id"]})
    assert len(rows) == 1 and "token_hash" not in rows[0] and r["refresh_token"] not in str(rows)


def test_refresh_rotates_the_pair(server, new_tenant):
    t = new_tenant(agents=1)
    first = sign_in(server, t)
    second = h.ok(refresh(server, first["refresh_token"]))
    assert second["token"] != first["token"] and second["refresh_token"] != first["refresh_token"]
    assert second["session_expires_at"] == first["session_expires_at"]
    assert me_status(server, first["token"]) == 401
    assert me_status(server, second["token"]) == 200
    third = h.ok(refresh(server, second["refresh_token"]))
    assert me_status(server, third["token"]) == 200
    # one session throughout: the same sign-in
    uid = first["user"]["id"]
    sessions = h.list_all(t.owner, "user_sessions", {"user_id": uid})
    assert len(sessions) == 1 and sessions[0]["terminated_at"] is None
    rows = sorted(h.list_all(t.owner, "refresh_tokens", {"user_id": uid}), key=lambda x: x["created_at"])
    assert [x["replaced_at"] is not None for x in rows] == [True, True, False]
    assert {x["session_id"] for x in rows} == {sessions[0]["id"]}


def test_reuse_revokes_the_family(server, new_tenant):
    t = new_tenant(agents=1)
    first = sign_in(server, t)
    other = sign_in(server, t)  # another sign-in of the same user: its own family
    second = h.ok(refresh(server, first["refresh_token"]))
    e = h.expect_error(refresh(server, first["refresh_token"]), 401, "unauthenticated")
    assert "already used" in e["message"]
    # the whole family is gone: the current pair too
    assert me_status(server, second["token"]) == 401
    h.expect_error(refresh(server, second["refresh_token"]), 401, "unauthenticated")
    uid = first["user"]["id"]
    ended = [s for s in h.list_all(t.owner, "user_sessions", {"user_id": uid}) if s["terminated_at"]]
    assert [s["termination_reason"] for s in ended] == ["refresh_token_reuse"]
    assert all(x["revoked_at"] for x in h.list_all(t.owner, "refresh_tokens", {"session_id": ended[0]["id"]}))
    v = h.list_all(t.owner, "security_violations")
    assert [x["violation_type"] for x in v] == ["refresh_token_reuse"] and v[0]["user_id"] == uid
    a = [x for x in h.list_all(t.owner, "security_alerts") if x["alert_type"] == "refresh_token_reuse"]
    assert len(a) == 1 and a[0]["user_id"] == uid and a[0]["severity"] == "high"
    # the other sign-in is untouched
    assert me_status(server, other["token"]) == 200
    h.ok(refresh(server, other["refresh_token"]))


def test_expired_bearer_is_renewed_by_refresh(server, new_tenant):
    t = new_tenant(agents=1)
    r = sign_in(server, t)
    assert me_status(server, r["token"]) == 200
    h.tenant_sql(server, t.slug, "UPDATE user_sessions SET access_expires_at = '2001-01-01T00:00:00.000Z' "
                 f"WHERE user_id = '{r['user']['id']}'")
    with bearer(server, r["token"]) as c:
        e = h.expect_error(c.get(f"{API}/auth/me"), 401, "unauthenticated")
    assert "refresh" in e["message"]
    n = h.ok(refresh(server, r["refresh_token"]))
    assert me_status(server, n["token"]) == 200


def test_refresh_after_logout_or_session_end(server, new_tenant):
    t = new_tenant(agents=1)
    r = sign_in(server, t)
    with bearer(server, r["token"]) as c:
        h.ok(c.post(f"{API}/auth/logout"))
    h.expect_error(refresh(server, r["refresh_token"]), 401, "unauthenticated")
    # an administrator ending the session ends its refresh too
    r = sign_in(server, t)
    sid = [s for s in h.list_all(t.owner, "user_sessions", {"user_id": r["user"]["id"]}) if not s["terminated_at"]][0]
    h.ok(t.owner.delete(f"{API}/user_sessions/{sid['id']}"))
    h.expect_error(refresh(server, r["refresh_token"]), 401, "unauthenticated")
    # no violation for either: nothing was reused
    assert h.list_all(t.owner, "security_violations") == []


def test_refresh_input(server, anon, new_tenant):
    t = new_tenant(agents=1)
    h.expect_error(anon.post(f"{API}/auth/refresh", json={}), 400, "validation_failed")
    h.expect_error(anon.post(f"{API}/auth/refresh", json={"refresh_token": 5}), 400, "validation_failed")
    h.expect_error(anon.post(f"{API}/auth/refresh", content=b"{", headers={"Content-Type": "application/json"}),
                   400, "invalid_json")
    h.expect_error(refresh(server, "obr_nope_" + "a" * 43), 401, "unauthenticated")
    h.expect_error(refresh(server, f"obr_{t.slug}_" + "a" * 43), 401, "unauthenticated")
    # another tenant's slug on this tenant's token: no such token there
    r = sign_in(server, t)
    forged = r["refresh_token"].replace(f"obr_{t.slug}_", "obr_acme_")
    h.expect_error(refresh(server, forged), 401, "unauthenticated")
    h.ok(refresh(server, r["refresh_token"]))


def test_racing_refreshes_of_one_token(server, new_tenant):
    t = new_tenant(agents=1)
    r = sign_in(server, t)
    codes = []
    barrier = threading.Barrier(2)

    def go():
        barrier.wait()
        codes.append(refresh(server, r["refresh_token"]).status_code)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # exactly one exchange; the second is a reuse, which ends the sign-in
    assert sorted(codes) == [200, 401]
    s = h.list_all(t.owner, "user_sessions", {"user_id": r["user"]["id"]})
    assert [x["termination_reason"] for x in s] == ["refresh_token_reuse"]
