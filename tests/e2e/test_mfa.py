"""TOTP second factor (issue #17): enrolment, confirmation with recovery
codes, the sign-in challenge and its verification, replay refusal, wrong
codes, expiry and turning it off. Codes are computed here (RFC 6238 with
hmac and hashlib) for a clock read once per step of a test: the server
accepts one 30-second step either side of its own clock, and a code's step
only once."""
import base64
import hashlib
import hmac
import struct
import time

import helpers as h

API = "/api/v1"


def totp(secret, step):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def test_rfc6238_vector():
    # the computation the tests rely on, at the RFC's fixed time 59 s (SHA-1, 8 digits -> last 6)
    assert totp(base64.b32encode(b"12345678901234567890").decode(), 59 // 30) == "287082"


def now_step():
    return int(time.time()) // 30


def login(server, t, email):
    return h.ok(h.login_raw(server.url, t.slug, email, h.USER_PASSWORD))


def verify(anon, challenge, **answer):
    return anon.post(f"{API}/auth/mfa/verify", json={"challenge": challenge, **answer})


def bearer(login_fixture, t, email):
    return login_fixture(t.slug, email)


def enrol(client):
    e = h.ok(client.post(f"{API}/auth/mfa/enroll", json={"password": h.USER_PASSWORD}))
    step = now_step()
    codes = h.ok(client.post(f"{API}/auth/mfa/confirm", json={"code": totp(e["secret"], step)}))
    return e["secret"], codes["recovery_codes"], step


def test_enrol_confirm_and_sign_in(server, anon, login, new_tenant):
    t = new_tenant(agents=1)
    agent = login(t.slug, t.agents[0])
    h.expect_error(agent.post(f"{API}/auth/mfa/enroll", json={"password": "wrong-Pass-1!"}), 422, "unprocessable")
    h.expect_error(agent.post(f"{API}/auth/mfa/confirm", json={"code": "123456"}), 422, "invalid_transition")
    e = h.ok(agent.post(f"{API}/auth/mfa/enroll", json={"password": h.USER_PASSWORD}))
    assert len(e["secret"]) == 32 and e["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={e['secret']}" in e["otpauth_uri"]
    me = h.get(t.owner, "users", agent.user["id"])
    assert "mfa_secret" not in me and e["secret"] not in str(me) and me["mfa_enabled"] is False
    # sealed at rest like every secret column (test_security_secrets.py)
    from test_security_secrets import raw
    [(stored,)] = raw(server, t.slug, f"SELECT mfa_secret FROM users WHERE id = '{agent.user['id']}'")
    assert stored.startswith("v1:") and e["secret"] not in stored
    # not in force before confirmation: sign-in still gives tokens
    assert "token" in login_raw_ok(server, t)
    step = now_step()
    h.expect_error(agent.post(f"{API}/auth/mfa/confirm", json={"code": totp(e["secret"], step + 5)}), 422,
                   "unprocessable")
    c = h.ok(agent.post(f"{API}/auth/mfa/confirm", json={"code": totp(e["secret"], step)}))
    assert c["mfa_enabled"] is True and len(set(c["recovery_codes"])) == 10
    assert h.get(t.owner, "users", agent.user["id"])["mfa_enabled"] is True
    h.expect_error(agent.post(f"{API}/auth/mfa/enroll", json={"password": h.USER_PASSWORD}), 422,
                   "invalid_transition")
    # sign-in now stops at the challenge
    r = login_raw_ok(server, t)
    assert r["mfa_required"] is True and r["challenge"].startswith(f"obm_{t.slug}_") and "token" not in r
    done = h.ok(verify(anon, r["challenge"], code=totp(e["secret"], step + 1)))
    assert done["user"]["id"] == agent.user["id"] and done["refresh_token"]
    with h.ApiClient(base_url=server.url, timeout=h.HTTP_TIMEOUT,
                     headers={"Authorization": f"Bearer {done['token']}"}) as c2:
        h.ok(c2.get(f"{API}/auth/me"))
    # a challenge serves one sign-in
    h.expect_error(verify(anon, r["challenge"], code=totp(e["secret"], step + 1)), 401, "unauthenticated")


def login_raw_ok(server, t):
    return h.ok(h.login_raw(server.url, t.slug, t.agents[0], h.USER_PASSWORD))


def test_a_code_is_accepted_once(server, anon, login, new_tenant):
    t = new_tenant(agents=1)
    secret, _, step = enrol(login(t.slug, t.agents[0]))
    # the confirmation used step's code: it, and older ones, are spent
    for s in (step, step - 1):
        e = h.expect_error(verify(anon, login_raw_ok(server, t)["challenge"], code=totp(secret, s)), 401,
                           "unauthenticated")
        assert "wrong or was already used" in e["message"]
    ch = login_raw_ok(server, t)["challenge"]
    h.ok(verify(anon, ch, code=totp(secret, step + 1)))
    h.expect_error(verify(anon, login_raw_ok(server, t)["challenge"], code=totp(secret, step + 1)), 401,
                   "unauthenticated")
    # outside the window
    h.expect_error(verify(anon, login_raw_ok(server, t)["challenge"], code=totp(secret, now_step() + 3)), 401,
                   "unauthenticated")


def test_five_wrong_codes_end_the_challenge(server, anon, login, new_tenant):
    t = new_tenant(agents=1)
    secret, _, step = enrol(login(t.slug, t.agents[0]))
    ch = login_raw_ok(server, t)["challenge"]
    good = totp(secret, step + 1)
    wrong = "000000" if good != "000000" else "111111"
    for i in range(5):
        e = h.expect_error(verify(anon, ch, code=wrong), 401, "unauthenticated")
    assert "too many" in e["message"]
    h.expect_error(verify(anon, ch, code=good), 401, "unauthenticated")
    rows = h.list_all(t.owner, "mfa_challenges")
    ended = [r for r in rows if r["failed_attempts"] == 5]
    assert len(ended) == 1 and ended[0]["ended_at"] and "challenge_hash" not in ended[0]
    # five wrong codes are five failed sign-ins of the account: the throttle
    # blocks it as after five wrong passwords (test_signin_lockout.py)
    r = h.login_raw(server.url, t.slug, t.agents[0], h.USER_PASSWORD)
    h.expect_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0


def test_a_challenge_expires(server, anon, login, new_tenant):
    t = new_tenant(agents=1)
    secret, _, step = enrol(login(t.slug, t.agents[0]))
    r = login_raw_ok(server, t)
    exp = [x for x in h.list_all(t.owner, "mfa_challenges") if x["ended_at"] is None][0]
    assert abs((h.parse_ts(exp["expires_at"]) - h.parse_ts(exp["created_at"])).total_seconds() - 300) < 2
    h.tenant_sql(server, t.slug, "UPDATE mfa_challenges SET expires_at = '2001-01-01T00:00:00.000Z' "
                 f"WHERE id = '{exp['id']}'")
    e = h.expect_error(verify(anon, r["challenge"], code=totp(secret, step + 1)), 401, "unauthenticated")
    assert "expired" in e["message"]


def test_recovery_codes_are_single_use(server, anon, login, new_tenant):
    t = new_tenant(agents=1)
    _, codes, _ = enrol(login(t.slug, t.agents[0]))
    h.ok(verify(anon, login_raw_ok(server, t)["challenge"], recovery_code=codes[3]))
    h.expect_error(verify(anon, login_raw_ok(server, t)["challenge"], recovery_code=codes[3]), 401,
                   "unauthenticated")
    h.expect_error(verify(anon, login_raw_ok(server, t)["challenge"], recovery_code="not-a-code"), 401,
                   "unauthenticated")
    for c in (codes[0], codes[9]):
        h.ok(verify(anon, login_raw_ok(server, t)["challenge"], recovery_code=c))


def test_disable(server, anon, login, new_tenant):
    t = new_tenant(agents=1)
    agent = login(t.slug, t.agents[0])
    secret, _, step = enrol(agent)
    h.expect_error(agent.post(f"{API}/auth/mfa/disable", json={"code": totp(secret, step)}), 422, "unprocessable")
    h.ok(agent.post(f"{API}/auth/mfa/disable", json={"code": totp(secret, step + 1)}))
    assert h.get(t.owner, "users", agent.user["id"])["mfa_enabled"] is False
    assert "token" in login_raw_ok(server, t)
    h.expect_error(agent.post(f"{API}/auth/mfa/disable", json={"code": totp(secret, step + 1)}), 422,
                   "invalid_transition")


def test_mfa_input(server, anon, login, new_tenant):
    t = new_tenant(agents=1)
    h.expect_error(anon.post(f"{API}/auth/mfa/enroll", json={"password": "x"}), 401, "unauthenticated")
    secret, codes, step = enrol(login(t.slug, t.agents[0]))
    ch = login_raw_ok(server, t)["challenge"]
    h.expect_error(verify(anon, ch), 400, "validation_failed")
    h.expect_error(verify(anon, ch, code=totp(secret, step + 1), recovery_code=codes[0]), 400, "validation_failed")
    h.expect_error(anon.post(f"{API}/auth/mfa/verify", json={"code": "123456"}), 400, "validation_failed")
    h.expect_error(anon.post(f"{API}/auth/mfa/verify", json={"challenge": ch, "code": 123456}), 400,
                   "validation_failed")
    h.expect_error(verify(anon, "obm_nope_" + "a" * 43, code="123456"), 401, "unauthenticated")
    # the challenge names its tenant: under another tenant's slug it is nothing
    h.expect_error(verify(anon, ch.replace(f"obm_{t.slug}_", "obm_acme_"), code=totp(secret, step + 1)), 401,
                   "unauthenticated")
    # wrong answers above did not touch the challenge, which still works
    h.ok(verify(anon, ch, code=totp(secret, step + 1)))


def test_mfa_required_forces_enrolment(server, anon, new_tenant):
    t = new_tenant(agents=1)
    url = f"{API}/security_settings/{h.list_all(t.owner, 'security_settings')[0]['id']}"
    h.ok(t.owner.patch(url, json={"mfa_required": True}))
    r = login_raw_ok(server, t)
    assert r["mfa_enrollment_required"] is True and r["token"]
    with h.ApiClient(base_url=server.url, timeout=h.HTTP_TIMEOUT,
                     headers={"Authorization": f"Bearer {r['token']}"}) as limited:
        e = h.expect_error(limited.get(f"{API}/customers"), 403, "forbidden")
        assert "second factor" in e["message"]
        h.ok(limited.get(f"{API}/auth/me"))
        secret, _, step = enrol(limited)
        # enrolled, but this session stays limited: the next sign-in asks for the code
        h.expect_error(limited.get(f"{API}/customers"), 403, "forbidden")
    r = login_raw_ok(server, t)
    assert r["mfa_required"] is True and "token" not in r
    done = h.ok(verify(anon, r["challenge"], code=totp(secret, step + 1)))
    assert "mfa_enrollment_required" not in done
    with h.ApiClient(base_url=server.url, timeout=h.HTTP_TIMEOUT,
                     headers={"Authorization": f"Bearer {done['token']}"}) as full:
        h.ok(full.get(f"{API}/customers"))
    # sessions opened before the setting keep working; the rule applies at sign-in
    h.ok(t.owner.get(f"{API}/customers"))
    # the console cannot enrol: its sign-in is refused rather than limited
    c = anon.post(f"{API}/console/session", json={"tenant": t.slug, "email": f"owner@{t.slug}.test",
                                                   "password": h.OWNER_PASSWORD})
    h.expect_error(c, 422, "unprocessable")
