"""Second factors count as sign-in attempts (issue #17).

A tenant user's wrong MFA codes claim attempts of the same throttle as wrong
passwords (the account and address counters of login_throttles): a right
password that still owes a code gives its claim back, every wrong code keeps
one, and the MAX_FAILURES-th wrong answer of either kind blocks the account
(429 with Retry-After and a security_violations row), each audited.

A super admin's wrong passwords and wrong codes count on the admin; the
PLATFORM_MAX-th in a row locks platform sign-in for PLATFORM_LOCK_S seconds
(423 with Retry-After, even with the right password and code), ends the
admin's pending challenges, and each failure, the lockout and the completed
sign-in are platform audit rows.

This module runs its own `opsbase serve` with short settings so blocks end
within seconds.
"""
import os
import subprocess
import time

import httpx
import pytest

import conftest
import helpers as h
from platform_helpers import ADMIN_PASSWORD, PLATFORM, control_rows, create_admin, now_step, totp
from test_mfa import totp as user_totp

MAX_FAILURES = 5
DELAY_S = 3
PLATFORM_MAX = 3
PLATFORM_LOCK_S = 4
API = "/api/v1"


class Env:
    def __init__(self, url, cli, data, db_url):
        self.url, self.cli, self.data, self.db_url = url, cli, data, db_url


@pytest.fixture(scope="module")
def env(opsbase_bin, tmp_path_factory, database):
    base = tmp_path_factory.mktemp("lockout")
    data = base / "data"
    data.mkdir()
    cli = h.Cli(opsbase_bin, data)
    cli.tenant_create(h.slug())  # creates and migrates the data directory
    port = conftest._free_port()
    url = f"http://127.0.0.1:{port}"
    stderr_path = base / "server.stderr"
    env_vars = dict(os.environ, OPSBASE_LOGIN_MAX_FAILURES=str(MAX_FAILURES),
                    OPSBASE_LOGIN_ADDRESS_MAX_FAILURES="200", OPSBASE_LOGIN_WINDOW="60",
                    OPSBASE_LOGIN_DELAY=str(DELAY_S), OPSBASE_LOGIN_MAX_DELAY=str(2 * DELAY_S),
                    OPSBASE_PLATFORM_LOGIN_MAX_FAILURES=str(PLATFORM_MAX),
                    OPSBASE_PLATFORM_LOCKOUT=str(PLATFORM_LOCK_S))
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            [str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
             *(("--db", database) if database else ())],
            stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env_vars)
    try:
        deadline = time.monotonic() + conftest.STARTUP_TIMEOUT
        while True:
            assert proc.poll() is None, h.tail(stderr_path)
            try:
                if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, h.tail(stderr_path)
            time.sleep(0.05)
        yield Env(url, cli, data, database)
    finally:
        conftest._stop(proc)


def _client(env, token):
    return h.ApiClient(base_url=env.url, timeout=h.HTTP_TIMEOUT, headers={"Authorization": f"Bearer {token}"})


def _tenant_with_mfa_user(env):
    """A tenant with a viewer who has MFA on: (slug, owner client, email, secret, step used, user id)."""
    s = h.slug()
    env.cli.tenant_create(s)
    email = f"mfa@{s}.test"
    env.cli.user_create(s, email, "viewer")
    owner = _client(env, h.ok(h.login_raw(env.url, s, f"owner@{s}.test", h.OWNER_PASSWORD))["token"])
    with _client(env, h.ok(h.login_raw(env.url, s, email, h.USER_PASSWORD))["token"]) as user:
        e = h.ok(user.post(f"{API}/auth/mfa/enroll", json={"password": h.USER_PASSWORD}))
        step = now_step()
        h.ok(user.post(f"{API}/auth/mfa/confirm", json={"code": user_totp(e["secret"], step)}))
    uid = h.user_id_by_email(owner, email)
    return s, owner, email, e["secret"], step, uid


def next_step(last):
    """A step after last that the server accepts now (one step either side of its clock)."""
    n = max(last + 1, now_step())
    while n > now_step() + 1:
        time.sleep(0.5)
    return n


def _challenge(env, s, email):
    body = h.ok(h.login_raw(env.url, s, email, h.USER_PASSWORD))
    assert body["mfa_required"] is True
    return body["challenge"]


def _verify(env, challenge, **answer):
    with httpx.Client(base_url=env.url, timeout=h.HTTP_TIMEOUT) as c:
        return c.post(f"{API}/auth/mfa/verify", json={"challenge": challenge, **answer})


def _wrong(secret, step):
    good = {user_totp(secret, s) for s in (step - 1, step, step + 1, step + 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in good)


def test_wrong_mfa_codes_block_the_account_like_wrong_passwords(env):
    s, owner, email, secret, step, uid = _tenant_with_mfa_user(env)
    wrong = _wrong(secret, step)
    # right passwords owe a code and give their claims back: they never block
    for _ in range(MAX_FAILURES + 2):
        _challenge(env, s, email)
    ch = _challenge(env, s, email)
    # MAX_FAILURES - 1 wrong codes spread over two challenges are all still 401
    for _ in range(MAX_FAILURES - 2):
        h.expect_error(_verify(env, ch, code=wrong), 401, "unauthenticated")
    ch2 = _challenge(env, s, email)
    h.expect_error(_verify(env, ch2, code=wrong), 401, "unauthenticated")
    # the MAX_FAILURES-th wrong answer (here a recovery code) is still answered as wrong ...
    h.expect_error(_verify(env, ch2, recovery_code="WRONG-CODE"), 401, "unauthenticated")
    # ... and from now on the account is blocked: even the right code on a live challenge
    r = _verify(env, ch2, code=user_totp(secret, next_step(step)))
    h.expect_error(r, 429, "rate_limited")
    assert 0 < int(r.headers["Retry-After"]) <= DELAY_S
    # the refused answer cost the challenge nothing
    [row] = [c for c in h.list_all(owner, "mfa_challenges") if c["failed_attempts"] == 2]
    assert row["ended_at"] is None
    # and the password step is blocked as after MAX_FAILURES wrong passwords
    h.expect_error(h.login_raw(env.url, s, email, h.USER_PASSWORD), 429, "rate_limited")
    v = h.rows_where(owner, "security_violations", violation_type="rate_limit_exceeded")
    assert len(v) == 1 and email in v[0]["description"] and v[0]["user_id"] == uid and v[0]["blocked"] is True
    reasons = [a["metadata"].get("reason") for a in h.audit_rows(owner, action="login_failed", entity_id=uid)]
    assert reasons.count("bad_mfa_code") == MAX_FAILURES - 1 and reasons.count("bad_recovery_code") == 1
    assert reasons.count("rate_limited") == 1
    assert h.get(owner, "users", uid)["failed_login_attempts"] == MAX_FAILURES
    # the block ends; the right code then signs in and forgets the failures
    time.sleep(int(r.headers["Retry-After"]) + 0.3)
    s1 = next_step(step)
    done = h.ok(_verify(env, _challenge(env, s, email), code=user_totp(secret, s1)))
    assert done["user"]["id"] == uid
    for _ in range(MAX_FAILURES - 1):
        h.expect_error(_verify(env, _challenge(env, s, email), code=wrong), 401, "unauthenticated")
    h.ok(_verify(env, _challenge(env, s, email), code=user_totp(secret, next_step(s1))))
    owner.close()


def test_wrong_passwords_and_wrong_codes_share_the_counter(env):
    s, owner, email, secret, step, uid = _tenant_with_mfa_user(env)
    wrong = _wrong(secret, step)
    for _ in range(2):
        h.expect_error(h.login_raw(env.url, s, email, "Wrong-pass-999!"), 401, "invalid_credentials")
    ch = _challenge(env, s, email)
    for _ in range(MAX_FAILURES - 2):
        h.expect_error(_verify(env, ch, code=wrong), 401, "unauthenticated")
    r = h.login_raw(env.url, s, email, h.USER_PASSWORD)
    h.expect_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) == DELAY_S
    # another user of the tenant is not affected
    h.ok(h.login_raw(env.url, s, f"owner@{s}.test", h.OWNER_PASSWORD))
    owner.close()


# ------------------------------------------------------------------ platform

def _plogin(env, email, password=ADMIN_PASSWORD):
    with httpx.Client(base_url=env.url, timeout=h.HTTP_TIMEOUT) as c:
        return c.post(f"{PLATFORM}/auth/login", json={"email": email, "password": password})


def _pverify(env, challenge, code):
    with httpx.Client(base_url=env.url, timeout=h.HTTP_TIMEOUT) as c:
        return c.post(f"{PLATFORM}/auth/mfa/verify", json={"challenge": challenge, "code": code})


def _enrolled_admin(env):
    email = create_admin(env.cli)
    body = h.ok(_plogin(env, email))
    step = now_step()
    h.ok(_pverify(env, body["challenge"], totp(body["secret"], step)))
    [(aid,)] = control_rows(env, f"SELECT id FROM super_admins WHERE email = '{email}'")
    return email, body["secret"], step, aid


def _audit(env, aid):
    return control_rows(env, "SELECT action, COALESCE(CAST(new_values AS TEXT), '') FROM platform_audit_logs "
                             f"WHERE entity_id = '{aid}' ORDER BY seq")


def test_platform_sign_in_locks_after_failures(env):
    email, secret, step, aid = _enrolled_admin(env)
    other, osecret, ostep, _ = _enrolled_admin(env)
    wrong = "000000" if totp(secret, step + 1) != "000000" else "111111"
    # one wrong password and one wrong code count together
    h.expect_error(_plogin(env, email, "Wrong-pass-123!"), 401, "invalid_credentials")
    pending = h.ok(_plogin(env, email))["challenge"]
    h.expect_error(_pverify(env, pending, wrong), 401, "invalid_credentials")
    assert control_rows(env, f"SELECT failed_login_attempts FROM super_admins WHERE id = '{aid}'") == [("2",)]
    h.expect_error(_plogin(env, email, "Wrong-pass-123!"), 401, "invalid_credentials")
    # locked now: the right password, and the right code on the challenge opened before, are refused
    r = _plogin(env, email)
    h.expect_error(r, 423, "locked")
    assert 0 < int(r.headers["Retry-After"]) <= PLATFORM_LOCK_S
    h.expect_error(_pverify(env, pending, totp(secret, next_step(step))), 401, "invalid_credentials")
    [(until, fails)] = control_rows(env, f"SELECT locked_until, failed_login_attempts FROM super_admins "
                                         f"WHERE id = '{aid}'")
    assert until and fails == "0"
    stages = control_rows(env, f"SELECT stage FROM platform_sessions WHERE super_admin_id = '{aid}'")
    assert ("mfa_pending",) not in stages
    # another admin signs in meanwhile
    o = h.ok(_plogin(env, other))
    h.ok(_pverify(env, o["challenge"], totp(osecret, next_step(ostep))))
    acts = _audit(env, aid)
    assert [a for a, _ in acts].count("login_failed") == 4  # three counted, one refused while locked
    assert [a for a, _ in acts].count("login_lockout") == 1
    assert any("bad_code" in v for _, v in acts) and any('"locked"' in v for _, v in acts)
    # the lockout ends; a completed sign-in clears the count
    time.sleep(int(r.headers["Retry-After"]) + 0.3)
    ch = h.ok(_plogin(env, email))["challenge"]
    h.ok(_pverify(env, ch, totp(secret, next_step(step))))
    assert control_rows(env, f"SELECT COALESCE(CAST(locked_until AS TEXT), ''), failed_login_attempts FROM super_admins "
                             f"WHERE id = '{aid}'") == [("", "0")]
    assert _audit(env, aid)[-1][0] == "login"


def test_platform_lock_holds_for_a_locked_challenge_too(env):
    email, secret, step, aid = _enrolled_admin(env)
    ch = h.ok(_plogin(env, email))["challenge"]
    wrong = "000000" if totp(secret, step + 1) != "000000" else "111111"
    for _ in range(PLATFORM_MAX - 1):
        h.expect_error(_pverify(env, ch, wrong), 401, "invalid_credentials")
    h.expect_error(_pverify(env, ch, wrong), 401, "invalid_credentials")
    h.expect_error(_plogin(env, email), 423, "locked")
    # unknown admins are refused as before and audited without a name
    h.expect_error(_plogin(env, "nobody@platform.test"), 401, "invalid_credentials")
    assert control_rows(env, "SELECT COUNT(*) FROM platform_audit_logs WHERE action = 'login_failed' AND "
                             "entity_id IS NULL AND CAST(new_values AS TEXT) LIKE '%unknown_admin%'")[0][0] != "0"
