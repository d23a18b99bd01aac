"""Super admins sign in to the platform API (issue #17): a password answers a
challenge, never a token; MFA is required (the first sign-in enrols a TOTP
secret, confirmed by its first code); a code is accepted once; the obp_ token
is stored hashed; tenant tokens never reach /platform routes and platform
tokens never reach tenant routes."""
import threading

import httpx

import helpers as h
from platform_helpers import (ADMIN_PASSWORD, PLATFORM, client, control_rows, create_admin, enrol, now_step,  # noqa: F401
                              platform_admin,
                              totp)


def _login(anon, email, password=ADMIN_PASSWORD):
    return anon.post(f"{PLATFORM}/auth/login", json={"email": email, "password": password})


def _verify(anon, challenge, code):
    return anon.post(f"{PLATFORM}/auth/mfa/verify", json={"challenge": challenge, "code": code})


def test_first_sign_in_enrols_then_later_ones_are_challenged(server, anon):
    email = create_admin(server.cli)
    body = h.ok(_login(anon, email))
    assert body["mfa_required"] is True and body["mfa_enrolment"] is True
    assert body["challenge"].startswith("obc_") and "token" not in body
    secret = body["secret"]
    assert len(secret) == 32 and body["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={secret}" in body["otpauth_uri"]
    h.parse_ts(body["expires_at"])
    # a wrong code is refused and enrols nothing
    step = now_step()
    wrong = "000000" if totp(secret, step) != "000000" else "111111"
    h.expect_error(_verify(anon, body["challenge"], wrong), 401, "invalid_credentials")
    assert control_rows(server, f"SELECT mfa_enabled FROM super_admins WHERE email = '{email}'") in ([("0",)], [("f",)])
    ok = h.ok(_verify(anon, body["challenge"], totp(secret, step)))
    token = ok["token"]
    assert token.startswith("obp_") and ok["token_type"] == "Bearer"
    assert ok["super_admin"]["email"] == email
    with client(server.url, token) as c:
        me = h.ok(c.get(f"{PLATFORM}/auth/me"))
        assert me["super_admin"]["email"] == email and me["super_admin"]["name"] == "Platform Admin"
    # the challenge is spent: the same challenge and code never give a second token
    h.expect_error(_verify(anon, body["challenge"], totp(secret, step)), 401, "invalid_credentials")

    # the next sign-in is a challenge only, with no secret shown again
    again = h.ok(_login(anon, email))
    assert again["mfa_enrolment"] is False and "secret" not in again and "otpauth_uri" not in again
    # the code already used is refused (replay), and so is an older one
    h.expect_error(_verify(anon, again["challenge"], totp(secret, step)), 401, "invalid_credentials")
    h.expect_error(_verify(anon, again["challenge"], totp(secret, step - 1)), 401, "invalid_credentials")
    second = h.ok(_verify(anon, again["challenge"], totp(secret, step + 1)))
    assert second["token"] != token
    # and that code is spent too, on a fresh challenge
    third = h.ok(_login(anon, email))
    h.expect_error(_verify(anon, third["challenge"], totp(secret, step + 1)), 401, "invalid_credentials")


def test_tokens_and_secrets_are_stored_hashed(server, anon):
    email = create_admin(server.cli)
    token, _, _ = enrol(server.url, email)
    rows = control_rows(server, "SELECT token_hash, stage FROM platform_sessions s JOIN super_admins a "
                                f"ON a.id = s.super_admin_id WHERE a.email = '{email}'")
    assert [r[1] for r in rows] == ["active"]
    assert rows[0][0] and token not in rows[0][0] and token[4:] not in rows[0][0]
    # the password hash is argon2id, never the password
    (pw,) = control_rows(server, f"SELECT password_hash FROM super_admins WHERE email = '{email}'")[0]
    assert pw.startswith("$argon2id$") and ADMIN_PASSWORD not in pw


def test_wrong_passwords_and_unknown_admins_are_the_same_401(server, anon):
    email = create_admin(server.cli)
    h.expect_error(_login(anon, email, "Wrong-pass-123!"), 401, "invalid_credentials")
    h.expect_error(_login(anon, "nobody@platform.test"), 401, "invalid_credentials")
    # a tenant owner's credentials are not a super admin's
    h.expect_error(_login(anon, "owner@acme.test", h.OWNER_PASSWORD), 401, "invalid_credentials")
    # malformed bodies
    h.expect_error(anon.post(f"{PLATFORM}/auth/login", content=b"{", headers={"Content-Type": "application/json"}),
                   400, "invalid_json")
    h.expect_error(anon.post(f"{PLATFORM}/auth/login", json={"email": email}), 400, "validation_failed", "password")
    h.expect_error(anon.post(f"{PLATFORM}/auth/login", json={"email": email, "password": ADMIN_PASSWORD, "x": 1}),
                   400, "unknown_field")
    h.expect_error(anon.post(f"{PLATFORM}/auth/mfa/verify", json={"challenge": "obc_nope"}), 400,
                   "validation_failed", "code")
    h.expect_error(_verify(anon, "obc_no-such-challenge", "123456"), 401, "invalid_credentials")
    h.expect_error(_verify(anon, "obt_acme_x", "123456"), 401, "invalid_credentials")


def test_five_wrong_codes_end_the_challenge(server, anon):
    email = create_admin(server.cli)
    token, secret, step = enrol(server.url, email)
    ch = h.ok(_login(anon, email))["challenge"]
    good = totp(secret, step + 1)
    wrongs = [c for c in ("000000", "111111", "222222", "333333", "444444", "555555")
              if c not in {totp(secret, s) for s in range(step - 2, step + 4)}][:5]
    assert len(wrongs) == 5
    for w in wrongs:
        h.expect_error(_verify(anon, ch, w), 401, "invalid_credentials")
    h.expect_error(_verify(anon, ch, good), 401, "invalid_credentials")
    rows = control_rows(server, f"SELECT s.stage, s.failed_codes FROM platform_sessions s JOIN super_admins a "
                                f"ON a.id = s.super_admin_id WHERE a.email = '{email}' AND s.stage <> 'active'")
    assert rows == [("ended", "5")]
    # five wrong codes are also five failed sign-in steps: the account is locked
    # (serve --platform-login-max-failures, 5 by default; test_signin_lockout.py)
    h.expect_error(_login(anon, email), 423, "locked")


def test_tenant_tokens_never_reach_platform_routes_nor_platform_tokens_tenant_routes(server, anon, acme_owner,
                                                                                     platform_admin):
    # a tenant owner's token on the platform
    r = acme_owner.get(f"{PLATFORM}/auth/me")
    h.expect_error(r, 401, "unauthenticated")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    h.expect_error(acme_owner.post(f"{PLATFORM}/auth/logout"), 401, "unauthenticated")
    h.expect_error(anon.get(f"{PLATFORM}/auth/me"), 401, "unauthenticated")
    # a platform token on tenant routes
    token = platform_admin.headers["Authorization"]
    with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT, headers={"Authorization": token}) as c:
        h.expect_error(c.get("/api/v1/customers"), 401, "unauthenticated")
        h.expect_error(c.get("/api/v1/auth/me"), 401, "unauthenticated")
        h.expect_error(c.post("/api/v1/customers", json={"name": "x"}), 401, "unauthenticated")
    # a tenant token dressed as a platform one
    forged = acme_owner.headers["Authorization"].replace("Bearer obt_", "Bearer obp_")
    with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT, headers={"Authorization": forged}) as c:
        h.expect_error(c.get(f"{PLATFORM}/auth/me"), 401, "unauthenticated")


def test_logout_ends_the_platform_token(server):
    email = create_admin(server.cli)
    token, _, _ = enrol(server.url, email)
    with client(server.url, token) as c:
        h.ok(c.get(f"{PLATFORM}/auth/me"))
        assert h.ok(c.post(f"{PLATFORM}/auth/logout"))["status"] == "logged_out"
        h.expect_error(c.get(f"{PLATFORM}/auth/me"), 401, "unauthenticated")


def test_two_challenges_racing_with_one_code_exactly_one_wins(server, anon):
    email = create_admin(server.cli)
    _, secret, step = enrol(server.url, email)
    a, b = h.ok(_login(anon, email))["challenge"], h.ok(_login(anon, email))["challenge"]
    code = totp(secret, step + 1)
    results = []
    barrier = threading.Barrier(2)

    def go(ch):
        with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT) as c:
            barrier.wait()
            results.append(_verify(c, ch, code).status_code)

    threads = [threading.Thread(target=go, args=(ch,)) for ch in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 401], results
