"""The super admins' console session (issue #19): after the declared
password step (POST /api/v1/platform/auth/login), POST
/api/v1/console/platform/session/mfa sets an HttpOnly cookie that only the
platform's routes read; writes through it need the CSRF token; GET tells
whether it is live, DELETE ends it. Tenant cookies and platform cookies never
stand in for each other."""
import re

import httpx

import helpers as h
from platform_helpers import ADMIN_PASSWORD, PLATFORM, create_admin, now_step, totp

API = "/api/v1"
PSESSION = f"{API}/console/platform/session"


def req(server, method, path, **kw):
    with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT) as c:
        return c.request(method, path, **kw)


def password_step(server, email):
    return h.ok(req(server, "POST", f"{PLATFORM}/auth/login", json={"email": email, "password": ADMIN_PASSWORD}))


def platform_cookie(r):
    for sc in r.headers.get_list("set-cookie"):
        m = re.match(r"ob_console_platform=([^;]*);(.*)$", sc)
        if m:
            return m.group(1), m.group(2)
    raise AssertionError(f"no platform cookie: {r.headers.get_list('set-cookie')}")


def jar(token):
    return {"Cookie": f"x=1; ob_console_platform={token}"}


def tenant_id(server, cookie_token, csrf, slug):
    rows = h.ok(req(server, "GET", f"{PLATFORM}/tenants?limit=100", headers=jar(cookie_token)))["data"]
    return next(r["id"] for r in rows if r["slug"] == slug)


def signed_in(server):
    email = create_admin(server.cli)
    first = password_step(server, email)
    assert first["mfa_enrolment"] is True
    step = now_step()
    r = req(server, "POST", f"{PSESSION}/mfa", json={"challenge": first["challenge"], "code": totp(first["secret"], step)})
    body = h.ok(r)
    token, attrs = platform_cookie(r)
    return token, attrs, body, first["secret"], step, r


def test_platform_cookie_session(server, new_tenant):
    token, attrs, body, _, _, r = signed_in(server)
    assert token.startswith("obp_") and token not in r.text
    assert "HttpOnly" in attrs and "SameSite=Strict" in attrs and "Path=/api/v1;" in attrs
    assert re.fullmatch(r"[0-9a-f]{64}", body["csrf_token"]) and body["signed_in"] is True
    csrf = body["csrf_token"]
    assert h.ok(req(server, "GET", PSESSION, headers=jar(token))) == {"signed_in": True, "csrf_token": csrf}
    assert h.ok(req(server, "GET", f"{PLATFORM}/auth/me", headers=jar(token)))["super_admin"]["email"]
    # a write through the cookie needs the CSRF token: refused without it, nothing changed
    t = new_tenant()
    tid = tenant_id(server, token, csrf, t.slug)
    h.expect_error(req(server, "POST", f"{PLATFORM}/tenants/{tid}/suspend", headers=jar(token)), 403, "forbidden")
    h.expect_error(req(server, "POST", f"{PLATFORM}/tenants/{tid}/suspend",
                       headers={**jar(token), "X-CSRF-Token": "0" * 64}), 403, "forbidden")
    assert h.ok(req(server, "GET", f"{PLATFORM}/tenants/{tid}", headers=jar(token)))["status"] == "active"
    done = h.ok(req(server, "POST", f"{PLATFORM}/tenants/{tid}/suspend", headers={**jar(token), "X-CSRF-Token": csrf}))
    assert done["status"] == "suspended"
    h.ok(req(server, "POST", f"{PLATFORM}/tenants/{tid}/resume", headers={**jar(token), "X-CSRF-Token": csrf}))
    # the platform cookie is no tenant session, and a tenant's cookie is no platform session
    assert h.ok(req(server, "GET", f"{API}/console/session", headers={"Cookie": f"ob_console={token}"})) == {
        "signed_in": False}
    h.expect_error(req(server, "GET", f"{API}/customers", headers=jar(token)), 401, "unauthenticated")
    tr = req(server, "POST", f"{API}/console/session",
             json={"tenant": "acme", "email": "owner@acme.test", "password": h.OWNER_PASSWORD})
    ttoken = re.match(r"ob_console=([^;]+);", tr.headers["set-cookie"]).group(1)
    h.expect_error(req(server, "GET", f"{PLATFORM}/tenants", headers={"Cookie": f"ob_console={ttoken}"}), 401,
                   "unauthenticated")
    assert h.ok(req(server, "GET", PSESSION, headers=jar(ttoken))) == {"signed_in": False}
    # an Authorization header wins over the cookie
    h.expect_error(req(server, "GET", f"{PLATFORM}/tenants", headers={**jar(token), "Authorization": "Bearer nope"}),
                   401, "unauthenticated")
    # sign out: the CSRF token is needed, then the cookie is cleared and dead
    h.expect_error(req(server, "DELETE", PSESSION, headers=jar(token)), 403, "forbidden")
    r = req(server, "DELETE", PSESSION, headers={**jar(token), "X-CSRF-Token": csrf})
    assert h.ok(r) == {"status": "logged_out"}
    assert "Max-Age=0" in platform_cookie(r)[1]
    dead = req(server, "GET", PSESSION, headers=jar(token))
    assert h.ok(dead) == {"signed_in": False} and "Max-Age=0" in platform_cookie(dead)[1]
    h.expect_error(req(server, "GET", f"{PLATFORM}/tenants", headers=jar(token)), 401, "unauthenticated")
    h.expect_error(req(server, "DELETE", PSESSION), 401, "unauthenticated")


def test_platform_cookie_refusals(server):
    email = create_admin(server.cli)
    first = password_step(server, email)
    ch, secret = first["challenge"], first["secret"]
    for bad in ({"challenge": ch}, {"challenge": ch, "code": 123456}, {"code": "123456"}):
        r = req(server, "POST", f"{PSESSION}/mfa", json=bad)
        h.expect_error(r, 400, "validation_failed")
        assert "set-cookie" not in r.headers
    h.expect_error(req(server, "POST", f"{PSESSION}/mfa", json={"challenge": ch, "code": "1", "token": "x"}), 400,
                   "unknown_field")
    h.expect_error(req(server, "POST", f"{PSESSION}/mfa", content=b"{nope",
                       headers={"Content-Type": "application/json"}), 400, "invalid_json")
    h.expect_error(req(server, "GET", f"{PSESSION}/mfa"), 405, "method_not_allowed")
    h.expect_error(req(server, "PUT", PSESSION), 405, "method_not_allowed")
    h.expect_error(req(server, "POST", f"{PSESSION}/other", json={}), 404, "no_route")
    step = now_step()
    wrong = next(c for c in (f"{n:06d}" for n in range(100000, 100010))
                 if c not in {totp(secret, step + d) for d in (-1, 0, 1)})
    r = req(server, "POST", f"{PSESSION}/mfa", json={"challenge": ch, "code": wrong})
    h.expect_error(r, 401, "invalid_credentials")
    assert "set-cookie" not in r.headers
    assert h.ok(req(server, "GET", PSESSION)) == {"signed_in": False}
    # the challenge survives one wrong code; a right one completes it once
    r = req(server, "POST", f"{PSESSION}/mfa", json={"challenge": ch, "code": totp(secret, step)})
    token, _ = platform_cookie(h.ok(r) and r)
    h.expect_error(req(server, "POST", f"{PSESSION}/mfa", json={"challenge": ch, "code": totp(secret, step + 1)}),
                   401, "invalid_credentials")
    h.ok(req(server, "GET", f"{PLATFORM}/tenants", headers=jar(token)))
