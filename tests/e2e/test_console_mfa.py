"""The console's sign-in with a second factor and its token renewal (issue
#19): the password answers a challenge and sets no cookie, the code (or a
recovery code) sets the session and refresh cookies, and
/api/v1/console/session/refresh rotates both, guarded by the CSRF token.
Codes are computed here (RFC 6238), as tests/e2e/test_mfa.py does."""
import base64
import hashlib
import hmac
import re
import struct
import time

import httpx

import helpers as h

API = "/api/v1"
SESSION = f"{API}/console/session"


def totp(secret, step):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def enrol(client):
    e = h.ok(client.post(f"{API}/auth/mfa/enroll", json={"password": h.USER_PASSWORD}))
    step = int(time.time()) // 30
    codes = h.ok(client.post(f"{API}/auth/mfa/confirm", json={"code": totp(e["secret"], step)}))
    return e["secret"], codes["recovery_codes"], step


def req(server, method, path, **kw):
    with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT) as c:
        return c.request(method, path, **kw)


def cookies_of(r):
    """name -> (value, attributes) of every Set-Cookie of a response."""
    out = {}
    for sc in r.headers.get_list("set-cookie"):
        m = re.match(r"([^=]+)=([^;]*);(.*)$", sc)
        assert m, sc
        out[m.group(1)] = (m.group(2), m.group(3))
    return out


def password_step(server, t, email):
    r = req(server, "POST", SESSION, json={"tenant": t.slug, "email": email, "password": h.USER_PASSWORD})
    body = h.ok(r)
    assert body["mfa_required"] is True and body["challenge"].startswith(f"obm_{t.slug}_")
    assert set(body) == {"mfa_required", "challenge"}
    assert "set-cookie" not in r.headers  # no session before the second factor
    return body["challenge"]


def jar(token, refresh=None):
    c = f"ob_console={token}"
    return {"Cookie": c + (f"; ob_console_refresh={refresh}" if refresh else "")}


def me(server, token):
    return req(server, "GET", f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_console_sign_in_with_a_code_or_a_recovery_code(server, login, new_tenant):
    t = new_tenant(agents=1)
    email = t.agents[0]
    secret, codes, step = enrol(login(t.slug, email))
    ch = password_step(server, t, email)
    # refusals: nothing is opened, the challenge survives them
    h.expect_error(req(server, "POST", f"{SESSION}/mfa", json={"challenge": ch}), 400, "validation_failed")
    h.expect_error(req(server, "POST", f"{SESSION}/mfa",
                       json={"challenge": ch, "code": totp(secret, step + 1), "recovery_code": codes[0]}),
                   400, "validation_failed")
    h.expect_error(req(server, "POST", f"{SESSION}/mfa", json={"challenge": ch, "code": 123456}), 400,
                   "validation_failed")
    h.expect_error(req(server, "POST", f"{SESSION}/mfa", json={"challenge": ch, "code": "1", "x": 1}), 400,
                   "unknown_field")
    h.expect_error(req(server, "POST", f"{SESSION}/mfa", content=b"{nope",
                       headers={"Content-Type": "application/json"}), 400, "invalid_json")
    h.expect_error(req(server, "GET", f"{SESSION}/mfa"), 405, "method_not_allowed")
    h.expect_error(req(server, "POST", f"{SESSION}/nope", json={}), 404, "no_route")
    # the step confirmed at enrolment is spent
    r = req(server, "POST", f"{SESSION}/mfa", json={"challenge": ch, "code": totp(secret, step)})
    h.expect_error(r, 401, "unauthenticated")
    assert "set-cookie" not in r.headers
    # under another tenant's slug the challenge is nothing
    h.expect_error(req(server, "POST", f"{SESSION}/mfa",
                       json={"challenge": ch.replace(f"obm_{t.slug}_", "obm_acme_"), "code": totp(secret, step + 1)}),
                   401, "unauthenticated")
    r = req(server, "POST", f"{SESSION}/mfa", json={"challenge": ch, "code": totp(secret, step + 1)})
    body = h.ok(r)
    set_ = cookies_of(r)
    token, attrs = set_["ob_console"]
    refresh, rattrs = set_["ob_console_refresh"]
    assert token.startswith(f"obt_{t.slug}_") and refresh.startswith(f"obr_{t.slug}_")
    assert "HttpOnly" in attrs and "SameSite=Strict" in attrs and "Path=/;" in attrs
    assert "HttpOnly" in rattrs and "SameSite=Strict" in rattrs and "Path=/api/v1/console/session;" in rattrs
    assert token not in r.text and refresh not in r.text  # the tokens travel in cookies only
    assert re.fullmatch(r"[0-9a-f]{64}", body["csrf_token"]) and body["user"]["email"] == email
    assert h.ok(me(server, token))["user"]["email"] == email
    # a challenge opens one session
    h.expect_error(req(server, "POST", f"{SESSION}/mfa", json={"challenge": ch, "code": totp(secret, step + 1)}),
                   401, "unauthenticated")
    # a recovery code, once
    ch2 = password_step(server, t, email)
    r = req(server, "POST", f"{SESSION}/mfa", json={"challenge": ch2, "recovery_code": codes[0]})
    assert h.ok(me(server, cookies_of(r)["ob_console"][0]))["user"]["email"] == email
    ch3 = password_step(server, t, email)
    h.expect_error(req(server, "POST", f"{SESSION}/mfa", json={"challenge": ch3, "recovery_code": codes[0]}),
                   401, "unauthenticated")


def test_console_refresh_rotates_both_cookies(server):
    r = req(server, "POST", SESSION, json={"tenant": "acme", "email": "owner@acme.test", "password": h.OWNER_PASSWORD})
    body = h.ok(r)
    token, refresh = cookies_of(r)["ob_console"][0], cookies_of(r)["ob_console_refresh"][0]
    csrf = body["csrf_token"]
    h.parse_ts(body["session_expires_at"])
    # refusals: no refresh cookie, no CSRF token, a wrong one; nothing is spent
    h.expect_error(req(server, "POST", f"{SESSION}/refresh", headers={**jar(token), "X-CSRF-Token": csrf}),
                   401, "unauthenticated")
    h.expect_error(req(server, "POST", f"{SESSION}/refresh", headers=jar(token, refresh)), 403, "forbidden")
    h.expect_error(req(server, "POST", f"{SESSION}/refresh",
                       headers={**jar(token, refresh), "X-CSRF-Token": "0" * 64}), 403, "forbidden")
    h.expect_error(req(server, "GET", f"{SESSION}/refresh", headers=jar(token, refresh)), 405, "method_not_allowed")
    h.ok(me(server, token))
    r = req(server, "POST", f"{SESSION}/refresh", headers={**jar(token, refresh), "X-CSRF-Token": csrf})
    body = h.ok(r)
    token2, refresh2 = cookies_of(r)["ob_console"][0], cookies_of(r)["ob_console_refresh"][0]
    assert token2 != token and refresh2 != refresh and body["csrf_token"] != csrf
    assert token2 not in r.text and refresh2 not in r.text
    h.parse_ts(body["expires_at"])
    # the old token is done, the new one and its CSRF token work
    h.expect_error(me(server, token), 401, "unauthenticated")
    state = h.ok(req(server, "GET", SESSION, headers=jar(token2)))
    assert state["signed_in"] is True and state["csrf_token"] == body["csrf_token"]
    # the spent refresh token presented again is a reuse: the whole session ends, cookies cleared
    r = req(server, "POST", f"{SESSION}/refresh", headers={**jar(token2, refresh), "X-CSRF-Token": body["csrf_token"]})
    h.expect_error(r, 401, "unauthenticated")
    assert all("Max-Age=0" in a for _, a in cookies_of(r).values()) and len(cookies_of(r)) == 2
    h.expect_error(me(server, token2), 401, "unauthenticated")


def test_console_sign_out_clears_the_refresh_cookie(server):
    r = req(server, "POST", SESSION, json={"tenant": "acme", "email": "owner@acme.test", "password": h.OWNER_PASSWORD})
    csrf = h.ok(r)["csrf_token"]
    token, refresh = cookies_of(r)["ob_console"][0], cookies_of(r)["ob_console_refresh"][0]
    r = req(server, "DELETE", SESSION, headers={**jar(token, refresh), "X-CSRF-Token": csrf})
    h.ok(r)
    assert set(cookies_of(r)) == {"ob_console", "ob_console_refresh"}
    assert all("Max-Age=0" in a for _, a in cookies_of(r).values())
    # the session's refresh token went with it
    h.expect_error(req(server, "POST", f"{SESSION}/refresh", headers={**jar(token, refresh), "X-CSRF-Token": csrf}),
                   401, "unauthenticated")
