"""Identity hardening: regressions named after the defects they close.

The owner could be locked out by a manager; customer confinement followed
users.user_type instead of the roles; anyone could lock any account with five
bad passwords (ending its sessions too); parallel guesses passed the limit;
deactivation and locks only suspended sessions; plan limits were bypassed by
deactivate/add/reactivate and by deleting tickets.

This module runs its own `opsbase serve` with short sign-in throttle settings
(the OPSBASE_LOGIN_* variables of docs/cli.md), so blocks end within seconds; each test makes its
own tenant, so the per-address counters of one test never reach another.
"""
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

import conftest
import helpers as h

MAX_FAILURES = 5
ADDRESS_MAX = 12
DELAY_S = 3
MAX_DELAY_S = 6


class Env:
    def __init__(self, url, cli, proc):
        self.url = url
        self.cli = cli
        self.proc = proc
        self.clients = []

    def login(self, tenant, email, password=h.USER_PASSWORD):
        r = h.login_raw(self.url, tenant, email, password)
        assert r.status_code == 200, h.show(r)
        body = r.json()
        c = h.ApiClient(base_url=self.url, timeout=h.HTTP_TIMEOUT,
                        headers={"Authorization": f"Bearer {body['token']}"})
        c.token = body["token"]
        c.user = body["user"]
        c.tenant = tenant
        self.clients.append(c)
        return c

    def tenant(self, plan="business", extra=(), **roles):
        """A fresh tenant; roles: name=role makes name@slug.test with that role.
        Returns (slug, owner client, {name: user id})."""
        s = h.slug()
        self.cli.tenant_create(s, plan=plan, extra=extra)
        for name, role in roles.items():
            self.cli.user_create(s, f"{name}@{s}.test", role)
        owner = self.login(s, f"owner@{s}.test", h.OWNER_PASSWORD)
        ids = {name: h.user_id_by_email(owner, f"{name}@{s}.test") for name in roles}
        ids["owner"] = owner.user["id"]
        return s, owner, ids


@pytest.fixture(scope="module")
def env(opsbase_bin, tmp_path_factory, database):
    base = tmp_path_factory.mktemp("hardening")
    data = base / "data"
    data.mkdir()
    cli = h.Cli(opsbase_bin, data)
    cli.tenant_create(h.slug())  # creates and migrates the data directory
    port = conftest._free_port()
    url = f"http://127.0.0.1:{port}"
    stderr_path = base / "server.stderr"
    env_vars = dict(os.environ, OPSBASE_LOGIN_MAX_FAILURES=str(MAX_FAILURES),
                    OPSBASE_LOGIN_ADDRESS_MAX_FAILURES=str(ADDRESS_MAX), OPSBASE_LOGIN_WINDOW="60",
                    OPSBASE_LOGIN_DELAY=str(DELAY_S), OPSBASE_LOGIN_MAX_DELAY=str(MAX_DELAY_S))
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            [str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
             *(("--db", database) if database else ())],
            stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env_vars)
    e = Env(url, cli, proc)
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
        yield e
    finally:
        for c in e.clients:
            c.close()
        conftest._stop(proc)


def _bad(env, tenant, email, n=1):
    for _ in range(n):
        h.expect_error(h.login_raw(env.url, tenant, email, "Wrong-pass-999!"), 401,
                       "invalid_credentials")


def _refused(c):
    h.expect_error(c.get("/api/v1/auth/me"), 401, "unauthenticated")


def _sessions(owner, uid):
    return h.rows_where(owner, "user_sessions", user_id=uid)


# ------------------------------------------------------------------ item 5

def test_manager_or_admin_cannot_lock_out_the_owner(env):
    s, owner, ids = env.tenant(boss="manager", adm="admin")
    for who in ("boss", "adm"):
        c = env.login(s, f"{who}@{s}.test")
        for body in ({"status": "suspended"}, {"email": h.uniq("evil") + "@x.test"},
                     {"is_active": False}, {"name": "Not the owner"}):
            h.expect_error(c.patch(f"/api/v1/users/{ids['owner']}", json=body), 403, "forbidden")
    me = h.get(owner, "users", ids["owner"])
    assert me["status"] == "active" and me["email"] == f"owner@{s}.test" and me["is_active"]
    h.ok(h.login_raw(env.url, s, f"owner@{s}.test", h.OWNER_PASSWORD))
    # the owner still changes the owner's own account
    assert h.ok(owner.patch(f"/api/v1/users/{ids['owner']}", json={"name": "Boss"}))["name"] == "Boss"


def test_only_the_owner_changes_the_owners_roles_credentials_and_sessions(env):
    s, owner, ids = env.tenant(adm="admin")
    adm = env.login(s, f"adm@{s}.test")
    oid = ids["owner"]
    viewer_role = h.find_role_id(owner, "viewer")
    owner_role = h.find_role_id(owner, "owner")
    h.expect_error(adm.post("/api/v1/user_roles", json={"user_id": oid, "role_id": viewer_role}),
                   403, "forbidden")
    own_grant = h.rows_where(owner, "user_roles", user_id=oid, role_id=owner_role)
    assert len(own_grant) == 1
    h.expect_error(adm.delete(f"/api/v1/user_roles/{own_grant[0]['id']}"), 403, "forbidden")
    h.expect_error(adm.patch(f"/api/v1/user_roles/{own_grant[0]['id']}", json={"status": "inactive"}),
                   403, "forbidden")
    h.expect_error(adm.post(f"/api/v1/users/{oid}/set_password",
                            json={"password": "Taken-over-123!"}), 403, "forbidden")
    for action in ("lock", "end_sessions"):
        h.expect_error(adm.post(f"/api/v1/users/{oid}/{action}"), 403, "forbidden")
    owner_sessions = [x for x in _sessions(owner, oid) if x["terminated_at"] is None]
    h.expect_error(adm.delete(f"/api/v1/user_sessions/{owner_sessions[0]['id']}"), 403, "forbidden")
    # nor can anyone but a transfer hand out the owner role
    h.expect_error(adm.post("/api/v1/user_roles", json={"user_id": ids["adm"], "role_id": owner_role}),
                   403, "forbidden")
    h.expect_error(owner.post("/api/v1/user_roles", json={"user_id": ids["adm"], "role_id": owner_role}),
                   403, "forbidden")
    # nor end the owner's sessions through the roles
    h.expect_error(adm.patch(f"/api/v1/roles/{owner_role}", json={"status": "inactive"}), 422, "unprocessable")
    h.ok(owner.get("/api/v1/auth/me"))
    h.ok(h.login_raw(env.url, s, f"owner@{s}.test", h.OWNER_PASSWORD))
    assert len(h.rows_where(owner, "user_roles", user_id=oid)) == 1


def test_ownership_moves_only_by_the_owners_transfer(env):
    s, owner, ids = env.tenant(adm="admin")
    adm = env.login(s, f"adm@{s}.test")
    h.expect_error(adm.post(f"/api/v1/users/{ids['adm']}/transfer_ownership"), 403, "forbidden")
    h.expect_error(owner.post(f"/api/v1/users/{ids['owner']}/transfer_ownership"), 422, "unprocessable")
    assert h.get(owner, "users", ids["adm"])["is_owner"] is False
    moved = h.ok(owner.post(f"/api/v1/users/{ids['adm']}/transfer_ownership"))
    assert moved["is_owner"] is True
    assert h.get(adm, "users", ids["owner"])["is_owner"] is False
    new_me = h.ok(adm.get("/api/v1/auth/me"))
    assert "owner" in new_me["roles"]
    old_me = h.ok(owner.get("/api/v1/auth/me"))
    assert "owner" not in old_me["roles"] and "admin" in old_me["roles"]
    # the former owner is now an administrator like any other
    h.expect_error(owner.patch(f"/api/v1/users/{ids['adm']}", json={"status": "suspended"}),
                   403, "forbidden")
    h.expect_error(owner.post(f"/api/v1/users/{ids['owner']}/transfer_ownership"), 403, "forbidden")
    assert len(h.audit_rows(adm, action="transfer_ownership", entity_id=ids["adm"])) == 1


# ------------------------------------------------------------------ item 7

def _customer_world(env):
    s, owner, ids = env.tenant(mgr="manager", cust="customer", mixed="customer")
    a = h.create_customer(owner)
    b = h.create_customer(owner)
    ta = h.create_ticket(owner, a["id"])
    tb = h.create_ticket(owner, b["id"])
    return s, owner, ids, a, b, ta, tb


def test_user_type_switch_does_not_unscope_a_customer_role_user(env):
    s, owner, ids, a, b, ta, tb = _customer_world(env)
    mgr = env.login(s, f"mgr@{s}.test")
    h.ok(owner.patch(f"/api/v1/users/{ids['cust']}", json={"customer_id": a["id"], "user_type": "customer"}))
    h.ok(mgr.patch(f"/api/v1/users/{ids['cust']}", json={"user_type": "employee"}))
    cust = env.login(s, f"cust@{s}.test")
    seen = {t["id"] for t in h.list_all(cust, "tickets")}
    assert ta["id"] in seen and tb["id"] not in seen, seen
    assert cust.get(f"/api/v1/tickets/{tb['id']}").status_code in (403, 404)
    assert {c["id"] for c in h.list_all(cust, "customers")} == {a["id"]}


def test_confined_principal_without_customer_sees_nothing(env):
    s, owner, ids, a, b, ta, tb = _customer_world(env)
    # customer role, switched to the employee type, no customer: confined, to nothing
    mgr = env.login(s, f"mgr@{s}.test")
    h.ok(mgr.patch(f"/api/v1/users/{ids['cust']}", json={"user_type": "employee"}))
    cust = env.login(s, f"cust@{s}.test")
    assert h.list_all(cust, "tickets") == []
    assert h.list_all(cust, "customers") == []
    assert cust.get(f"/api/v1/tickets/{ta['id']}").status_code in (403, 404)


def test_customer_role_confines_even_with_a_staff_role(env):
    s, owner, ids, a, b, ta, tb = _customer_world(env)
    h.ok(owner.patch(f"/api/v1/users/{ids['mixed']}", json={"customer_id": b["id"], "user_type": "employee"}))
    h.create(owner, "user_roles", {"user_id": ids["mixed"], "role_id": h.find_role_id(owner, "viewer")})
    mixed = env.login(s, f"mixed@{s}.test")
    assert {t["id"] for t in h.list_all(mixed, "tickets")} == {tb["id"]}


# ------------------------------------------------------------------ item 8

def test_bad_passwords_from_anyone_do_not_lock_the_account_or_end_its_sessions(env):
    s, owner, ids = env.tenant(victim="viewer")
    email = f"victim@{s}.test"
    victim = env.login(s, email)
    _bad(env, s, email, MAX_FAILURES)
    h.ok(victim.get("/api/v1/auth/me"))
    row = h.get(owner, "users", ids["victim"])
    assert row["status"] == "active" and row["locked_until"] is None
    assert all(x["terminated_at"] is None for x in _sessions(owner, ids["victim"]))
    r = h.login_raw(env.url, s, email, h.USER_PASSWORD)
    h.expect_error(r, 429, "rate_limited")
    assert 0 < int(r.headers["Retry-After"]) <= DELAY_S
    v = h.rows_where(owner, "security_violations", violation_type="rate_limit_exceeded")
    assert len(v) == 1 and email in v[0]["description"] and v[0]["blocked"] is True
    assert v[0]["user_id"] == ids["victim"]
    h.ok(victim.get("/api/v1/auth/me"))
    time.sleep(int(r.headers["Retry-After"]) + 0.2)
    h.ok(h.login_raw(env.url, s, email, h.USER_PASSWORD))


def test_sign_in_throttle_blocks_longer_each_time(env):
    s, owner, ids = env.tenant(victim="viewer")
    email = f"victim@{s}.test"
    _bad(env, s, email, MAX_FAILURES)
    first = h.login_raw(env.url, s, email, "Wrong-pass-999!")
    h.expect_error(first, 429, "rate_limited")
    assert int(first.headers["Retry-After"]) == DELAY_S
    time.sleep(DELAY_S + 0.2)
    _bad(env, s, email, MAX_FAILURES)
    second = h.login_raw(env.url, s, email, "Wrong-pass-999!")
    h.expect_error(second, 429, "rate_limited")
    assert int(second.headers["Retry-After"]) == min(2 * DELAY_S, MAX_DELAY_S)
    assert len(h.rows_where(owner, "security_violations", violation_type="rate_limit_exceeded")) == 2


def test_sign_in_throttle_per_client_address(env):
    s, owner, ids = env.tenant(real="viewer")
    # guesses spread over many accounts (most of them unknown) still count per address
    for i in range(ADDRESS_MAX):
        _bad(env, s, f"guess{i}@{s}.test")
    r = h.login_raw(env.url, s, f"real@{s}.test", h.USER_PASSWORD)
    h.expect_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0
    v = h.rows_where(owner, "security_violations", violation_type="rate_limit_exceeded")
    assert len(v) == 1 and "address" in v[0]["description"] and v[0]["user_id"] is None


def test_lock_is_an_explicit_admin_action(env):
    s, owner, ids = env.tenant(adm="admin", mgr="manager", target="viewer")
    adm = env.login(s, f"adm@{s}.test")
    mgr = env.login(s, f"mgr@{s}.test")
    target = env.login(s, f"target@{s}.test")
    h.ok(target.get("/api/v1/auth/me"))
    h.expect_error(mgr.post(f"/api/v1/users/{ids['target']}/lock"), 403, "forbidden")
    h.ok(target.get("/api/v1/auth/me"))
    locked = h.ok(adm.post(f"/api/v1/users/{ids['target']}/lock"))
    assert locked["locked_until"] is not None
    _refused(target)
    h.expect_error(h.login_raw(env.url, s, f"target@{s}.test", h.USER_PASSWORD), 401,
                   "invalid_credentials")
    h.expect_error(adm.post(f"/api/v1/users/{ids['target']}/lock"), 422, "invalid_transition")
    h.expect_error(adm.post(f"/api/v1/users/{ids['adm']}/lock"), 422, "unprocessable")
    assert h.ok(adm.post(f"/api/v1/users/{ids['target']}/unlock"))["locked_until"] is None
    again = env.login(s, f"target@{s}.test")
    h.ok(again.get("/api/v1/auth/me"))
    _refused(target)  # the lock ended the old session for good
    assert len(h.audit_rows(owner, action="lock", entity_id=ids["target"])) == 1


def test_serve_refuses_bad_throttle_settings(opsbase_bin, tmp_path):
    for flags in (("--login-max-failures", "0"), ("--login-window", "soon"),
                  ("--login-delay", "10", "--login-max-delay", "5")):
        r = subprocess.run([str(opsbase_bin), "serve", "--data", str(tmp_path / "d"), *flags],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert r.returncode == 2, (flags, r.stdout, r.stderr)


# ------------------------------------------------------------------ item 9

def test_parallel_wrong_passwords_check_at_most_the_limit(env):
    s, owner, ids = env.tenant(victim="viewer")
    email = f"victim@{s}.test"
    n = 14
    barrier = threading.Barrier(n)

    def guess(i):
        barrier.wait()
        return h.login_raw(env.url, s, email, f"Wrong-pass-{i:03d}!")

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(guess, range(n)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(401) == MAX_FAILURES, codes
    assert codes.count(429) == n - MAX_FAILURES, codes
    for r in results:
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) > 0
    # the server checked exactly the claimed attempts: one failure each on the user
    assert h.get(owner, "users", ids["victim"])["failed_login_attempts"] == MAX_FAILURES


# ------------------------------------------------------------------ item 10

def test_deactivation_ends_sessions_for_good(env):
    s, owner, ids = env.tenant(u="viewer")
    c = env.login(s, f"u@{s}.test")
    h.ok(c.get("/api/v1/auth/me"))  # cached principal
    h.ok(owner.patch(f"/api/v1/users/{ids['u']}", json={"is_active": False}))
    _refused(c)
    h.ok(owner.patch(f"/api/v1/users/{ids['u']}", json={"is_active": True}))
    _refused(c)  # reactivation does not revive the token
    [sess] = _sessions(owner, ids["u"])
    assert sess["terminated_at"] is not None and sess["termination_reason"] == "deactivated"
    h.ok(env.login(s, f"u@{s}.test").get("/api/v1/auth/me"))
    # status works the same way as is_active
    d = env.login(s, f"u@{s}.test")
    h.ok(owner.patch(f"/api/v1/users/{ids['u']}", json={"status": "suspended"}))
    h.ok(owner.patch(f"/api/v1/users/{ids['u']}", json={"status": "active"}))
    _refused(d)


def test_password_change_ends_sessions(env):
    s, owner, ids = env.tenant(u="viewer")
    c = env.login(s, f"u@{s}.test")
    h.ok(c.get("/api/v1/auth/me"))
    h.expect_error(owner.post(f"/api/v1/users/{ids['u']}/set_password", json={"password": "short"}),
                   400, "validation_failed")
    h.ok(c.get("/api/v1/auth/me"))
    h.ok(owner.post(f"/api/v1/users/{ids['u']}/set_password", json={"password": "Brand-new-pass-1!"}))
    _refused(c)
    h.expect_error(h.login_raw(env.url, s, f"u@{s}.test", h.USER_PASSWORD), 401, "invalid_credentials")
    h.ok(h.login_raw(env.url, s, f"u@{s}.test", "Brand-new-pass-1!"))
    assert any(x["termination_reason"] == "password_changed" for x in _sessions(owner, ids["u"]))


def test_role_removal_ends_sessions(env):
    s, owner, ids = env.tenant(u="operator")
    c = env.login(s, f"u@{s}.test")
    h.ok(c.get("/api/v1/auth/me"))
    [grant] = h.rows_where(owner, "user_roles", user_id=ids["u"])
    h.ok(owner.delete(f"/api/v1/user_roles/{grant['id']}"))
    _refused(c)
    assert [x["termination_reason"] for x in _sessions(owner, ids["u"])] == ["role_changed"]
    # a custom role switched off ends its holders' sessions too, not the owner's
    code = h.uniq("r")
    role = h.create(owner, "roles", {"name": "Role " + code, "code": code})
    h.create(owner, "user_roles", {"user_id": ids["u"], "role_id": role["id"]})
    h.create(owner, "user_roles", {"user_id": ids["owner"], "role_id": role["id"]})
    d = env.login(s, f"u@{s}.test")
    h.ok(d.get("/api/v1/auth/me"))
    h.ok(owner.patch(f"/api/v1/roles/{role['id']}", json={"status": "inactive"}))
    _refused(d)
    h.ok(owner.get("/api/v1/auth/me"))


def test_admin_ends_another_users_sessions(env):
    s, owner, ids = env.tenant(adm="admin", mgr="manager", u="viewer")
    adm = env.login(s, f"adm@{s}.test")
    mgr = env.login(s, f"mgr@{s}.test")
    a = env.login(s, f"u@{s}.test")
    b = env.login(s, f"u@{s}.test")
    h.ok(a.get("/api/v1/auth/me"))
    h.ok(b.get("/api/v1/auth/me"))
    h.expect_error(mgr.post(f"/api/v1/users/{ids['u']}/end_sessions"), 403, "forbidden")
    h.ok(a.get("/api/v1/auth/me"))
    h.ok(adm.post(f"/api/v1/users/{ids['u']}/end_sessions"))
    _refused(a)
    _refused(b)
    rows = _sessions(owner, ids["u"])
    assert len(rows) == 2
    assert all(x["termination_reason"] == "admin_force_logout" and x["terminated_by"] == ids["adm"]
               for x in rows)
    h.ok(env.login(s, f"u@{s}.test").get("/api/v1/auth/me"))


def test_delete_user_session_terminates_rather_than_deletes(env):
    s, owner, ids = env.tenant(adm="admin", u="viewer")
    adm = env.login(s, f"adm@{s}.test")
    c = env.login(s, f"u@{s}.test")
    other = env.login(s, f"u@{s}.test")
    h.ok(c.get("/api/v1/auth/me"))
    sid = [x for x in _sessions(owner, ids["u"]) if x["terminated_at"] is None][0]["id"]
    ended = h.ok(adm.delete(f"/api/v1/user_sessions/{sid}"))
    assert ended["id"] == sid and ended["terminated_at"] is not None
    row = h.get(owner, "user_sessions", sid)
    assert row["termination_reason"] == "admin_force_logout" and row["is_active"] is False
    live = [x for x in (c, other) if x.get("/api/v1/auth/me").status_code == 200]
    assert len(live) == 1  # only the one session ended
    h.expect_error(adm.delete(f"/api/v1/user_sessions/{sid}"), 422, "invalid_transition")


# ------------------------------------------------------------------ item 11

def test_agent_limit_not_bypassed_by_deactivate_add_reactivate(env):
    s, owner, ids = env.tenant(plan="free", extra=("--agent-limit", "2"),
                               a1="agent", a2="agent", v="viewer")
    agent_role = h.find_role_id(owner, "agent")
    h.ok(owner.patch(f"/api/v1/users/{ids['a1']}", json={"is_active": False}))
    h.create(owner, "user_roles", {"user_id": ids["v"], "role_id": agent_role})
    h.expect_error(owner.patch(f"/api/v1/users/{ids['a1']}", json={"is_active": True}),
                   403, "plan_limit_reached")
    assert h.get(owner, "users", ids["a1"])["is_active"] is False
    # the same through status, and through a grant switched back on
    h.ok(owner.patch(f"/api/v1/users/{ids['a2']}", json={"status": "inactive"}))
    h.ok(owner.patch(f"/api/v1/users/{ids['a1']}", json={"is_active": True}))
    h.expect_error(owner.patch(f"/api/v1/users/{ids['a2']}", json={"status": "active"}),
                   403, "plan_limit_reached")
    [g] = h.rows_where(owner, "user_roles", user_id=ids["v"], role_id=agent_role)
    h.ok(owner.patch(f"/api/v1/user_roles/{g['id']}", json={"status": "inactive"}))
    h.ok(owner.patch(f"/api/v1/users/{ids['a2']}", json={"status": "active"}))
    h.expect_error(owner.patch(f"/api/v1/user_roles/{g['id']}", json={"status": "active"}),
                   403, "plan_limit_reached")


def test_deleting_a_ticket_does_not_free_a_monthly_slot(env):
    s, owner, ids = env.tenant(plan="free", extra=("--ticket-limit", "2"))
    cust = h.create_customer(owner)
    t1 = h.create_ticket(owner, cust["id"])
    h.create_ticket(owner, cust["id"])
    h.expect_error(owner.post("/api/v1/tickets", json={"title": "x", "description": "y",
                                                      "customer_id": cust["id"]}),
                   403, "plan_limit_reached")
    h.ok(owner.delete(f"/api/v1/tickets/{t1['id']}"))
    h.expect_error(owner.post("/api/v1/tickets", json={"title": "x", "description": "y",
                                                      "customer_id": cust["id"]}),
                   403, "plan_limit_reached")
    assert len(h.list_all(owner, "tickets")) == 1
