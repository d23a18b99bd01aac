"""Login, logout, sign-in throttling, bearer tokens and /auth/me."""
import httpx

import helpers as h


def _without_volatile(err):
    # A per-request id, if the server adds one, is allowed to differ.
    return {k: v for k, v in err.items() if k not in ("request_id",)}


def test_login_ok(server):
    r = h.login_raw(server.url, "acme", "owner@acme.test", h.OWNER_PASSWORD)
    body = h.ok(r)
    assert isinstance(body["token"], str) and len(body["token"]) >= 20
    h.parse_ts(body["expires_at"])
    user = body["user"]
    assert user["email"] == "owner@acme.test"
    assert isinstance(user["id"], str) and user["id"]
    # Nothing secret leaks with the user.
    for key in ("password", "password_hash", "mfa_secret"):
        assert key not in user, key
    assert h.OWNER_PASSWORD not in r.text
    assert "$argon2" not in r.text


def test_failed_logins_are_indistinguishable(server):
    attempts = [
        ("acme", "owner@acme.test", "Wrong-pass-999!"),       # wrong password
        ("acme", "nobody@acme.test", h.OWNER_PASSWORD),       # unknown user
        ("nosuchtenant", "owner@acme.test", h.OWNER_PASSWORD),  # unknown tenant
    ]
    errors = []
    for tenant, email, pw in attempts:
        r = h.login_raw(server.url, tenant, email, pw)
        errors.append(_without_volatile(h.expect_error(r, 401, "invalid_credentials")))
        assert "token" not in r.json()
    assert errors[0] == errors[1] == errors[2], errors


def test_five_failures_throttle_sign_in_without_locking(server, cli, login):
    """Five wrong passwords throttle further sign-ins to the account (429 with
    Retry-After, even with the right password) but lock nothing: the user's
    live session keeps working and the account stays active."""
    email = h.uniq("lock") + "@acme.test"
    cli.user_create("acme", email, "viewer")
    victim = login("acme", email)
    for _ in range(5):
        r = h.login_raw(server.url, "acme", email, "Wrong-pass-999!")
        h.expect_error(r, 401, "invalid_credentials")
    r = h.login_raw(server.url, "acme", email, h.USER_PASSWORD)
    h.expect_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0, h.show(r)
    assert "token" not in r.json()
    me = h.ok(victim.get("/api/v1/auth/me"))
    assert me["user"]["status"] == "active" and me["user"]["locked_until"] is None


def test_four_failures_do_not_lock(server, cli):
    email = h.uniq("nolock") + "@acme.test"
    cli.user_create("acme", email, "viewer")
    for _ in range(4):
        h.expect_error(h.login_raw(server.url, "acme", email, "Wrong-pass-999!"),
                       401, "invalid_credentials")
    h.ok(h.login_raw(server.url, "acme", email, h.USER_PASSWORD))


def test_logout_revokes_token(server, cli, login, acme_owner):
    email = h.uniq("logout") + "@acme.test"
    cli.user_create("acme", email, "viewer")
    c = login("acme", email)
    h.ok(c.get("/api/v1/auth/me"))
    assert h.ok(c.post("/api/v1/auth/logout")) == {"status": "logged_out"}
    h.expect_error(c.get("/api/v1/auth/me"), 401, "unauthenticated")
    h.expect_error(c.get("/api/v1/customers"), 401, "unauthenticated")
    h.expect_error(c.post("/api/v1/auth/logout"), 401, "unauthenticated")
    uid = c.user["id"]
    assert len(h.audit_rows(acme_owner, action="logout", user_id=uid)) == 1


def test_two_sessions_are_independent(server, cli, login):
    email = h.uniq("twosess") + "@acme.test"
    cli.user_create("acme", email, "viewer")
    a = login("acme", email)
    b = login("acme", email)
    assert a.token != b.token
    h.ok(a.post("/api/v1/auth/logout"))
    h.expect_error(a.get("/api/v1/auth/me"), 401, "unauthenticated")
    h.ok(b.get("/api/v1/auth/me"))


def test_bad_authorization_headers(server):
    headers = [
        {},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer"},
        {"Authorization": "bearer " + "A" * 43},
        {"Authorization": "Basic b3duZXJAYWNtZS50ZXN0Ok93bmVyLXBhc3MtMTIzIQ=="},
        {"Authorization": "garbage"},
    ]
    with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT) as c:
        for hd in headers:
            h.expect_error(c.get("/api/v1/customers", headers=hd), 401, "unauthenticated")
            h.expect_error(c.get("/api/v1/auth/me", headers=hd), 401, "unauthenticated")


def test_token_of_one_tenant_is_not_a_token_of_another(server, globex_owner):
    # The bearer token alone decides the tenant: there is no way to point it elsewhere.
    with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT,
                      headers={"Authorization": f"Bearer {globex_owner.token}",
                               "X-Tenant": "acme"}) as c:
        me = h.ok(c.get("/api/v1/auth/me"))
    assert me["tenant"]["slug"] == "globex"


def test_me_owner(acme_owner):
    me = h.ok(acme_owner.get("/api/v1/auth/me"))
    assert me["user"]["email"] == "owner@acme.test"
    assert me["tenant"]["slug"] == "acme"
    assert me["tenant"]["plan"] == "business"
    assert "owner" in me["roles"]
    perms = set(me["permissions"])
    for p in ("customers.view", "customers.create", "tickets.create", "audit.view"):
        assert p in perms, p


def test_me_viewer_has_view_not_create(acme_viewer):
    me = h.ok(acme_viewer.get("/api/v1/auth/me"))
    assert me["roles"] == ["viewer"]
    perms = set(me["permissions"])
    assert "customers.view" in perms
    assert "customers.create" not in perms
    assert "customers.delete" not in perms


def test_me_other_roles(login):
    for name, role in (("operator", "operator"), ("analyst", "analyst"), ("agent1", "agent")):
        c = login("acme", f"{name}@acme.test")
        me = h.ok(c.get("/api/v1/auth/me"))
        assert role in me["roles"], (name, me["roles"])
        assert isinstance(me["permissions"], list)


def test_login_rejects_malformed_body(server):
    with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT) as c:
        r = c.post("/api/v1/auth/login", json={"tenant": "acme"})
        assert r.status_code in (400, 401), h.show(r)
        h.assert_json(r)
        r = c.post("/api/v1/auth/login", content=b"{not json",
                   headers={"Content-Type": "application/json"})
        h.expect_error(r, 400, "invalid_json")
