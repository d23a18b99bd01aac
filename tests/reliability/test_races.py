"""Races: one side effect per Idempotency-Key, one winner per If-Match, an
exactly balanced agent pool under concurrent ticket creation, and no more
checked sign-in guesses than the throttle allows."""
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

import helpers as h
import rel


def _parallel(n, fn):
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_idempotency_key_one_side_effect(server, acme_owner):
    code = h.uniq("IDEM-")
    body = {"customer_code": code, "company_name": "Idem"}
    key = h.uniq("key-")
    audit_before = rel.row_counts(server.tenant_db("acme"))["audit_logs"]
    hdrs = {"Authorization": f"Bearer {acme_owner.token}", "Idempotency-Key": key}

    def post(_):
        with httpx.Client(base_url=server.url, timeout=30) as c:
            return c.post("/api/v1/customers", json=body, headers=hdrs)

    rs = _parallel(20, post)
    statuses = sorted(r.status_code for r in rs)
    assert all(s in (201, 409) for s in statuses), statuses
    created = {r.json()["id"] for r in rs if r.status_code == 201}
    assert len(created) == 1, f"{len(created)} different records from one key: {statuses}"
    assert len(h.rows_where(acme_owner, "customers", customer_code=code)) == 1
    audit_after = rel.row_counts(server.tenant_db("acme"))["audit_logs"]
    assert audit_after - audit_before == 1, "one create, one audit row"


def test_if_match_one_winner(server, acme_owner):
    c = h.create_customer(acme_owner)
    hdrs = {"Authorization": f"Bearer {acme_owner.token}", "If-Match": f'"{c["version"]}"'}

    def patch(i):
        with httpx.Client(base_url=server.url, timeout=30) as cl:
            return cl.patch(f"/api/v1/customers/{c['id']}", json={"notes": f"writer {i}"}, headers=hdrs)

    rs = _parallel(50, patch)
    statuses = [r.status_code for r in rs]
    assert statuses.count(200) == 1 and statuses.count(412) == 49, sorted(statuses)
    winner = next(r.json() for r in rs if r.status_code == 200)
    now = h.get(acme_owner, "customers", c["id"])
    assert now["version"] == c["version"] + 1 and now["notes"] == winner["notes"]


def test_ticket_creation_balances_five_agents(server, new_tenant):
    slug, owner, agents = new_tenant(agents=5)
    cust = h.create_customer(owner)
    hdrs = {"Authorization": f"Bearer {owner.token}"}

    def create(i):
        with httpx.Client(base_url=server.url, timeout=60) as cl:
            return cl.post("/api/v1/tickets", headers=hdrs,
                           json={"title": f"race {i}", "description": "d", "customer_id": cust["id"]})

    rs = _parallel(50, create)
    assert all(r.status_code == 201 for r in rs), [h.show(r) for r in rs if r.status_code != 201][:3]
    tickets = h.list_all(owner, "tickets")
    per_agent = {}
    for t in tickets:
        per_agent[t["assigned_agent_id"]] = per_agent.get(t["assigned_agent_id"], 0) + 1
    ids = [h.user_id_by_email(owner, e) for e in agents]
    assert sorted(per_agent.get(i, 0) for i in ids) == [10] * 5, per_agent
    for i in ids:
        assert h.ticket_count(owner, i) == 10


def test_parallel_wrong_passwords_pass_no_more_than_the_limit(server, new_tenant):
    """Sign-in attempts are claimed in a write transaction before the password
    is checked: of many parallel wrong guesses at one account, exactly the
    limit (5 by default) are checked and answered 401; the rest are 429 with
    Retry-After, and the account is neither locked nor its session ended."""
    slug, owner, agents = new_tenant(agents=1)
    email = agents[0]
    with httpx.Client(base_url=server.url, timeout=60) as cl:
        r = cl.post("/api/v1/auth/login", json={"tenant": slug, "email": email, "password": h.USER_PASSWORD})
        assert r.status_code == 200, h.show(r)
        live = {"Authorization": f"Bearer {r.json()['token']}"}

    def guess(i):
        with httpx.Client(base_url=server.url, timeout=60) as cl:
            return cl.post("/api/v1/auth/login",
                           json={"tenant": slug, "email": email, "password": f"Wrong-guess-{i:03d}!"})

    rs = _parallel(20, guess)
    codes = [r.status_code for r in rs]
    assert codes.count(401) == 5 and codes.count(429) == 15, codes
    assert all(int(r.headers["Retry-After"]) > 0 for r in rs if r.status_code == 429)
    uid = h.user_id_by_email(owner, email)
    assert h.get(owner, "users", uid)["failed_login_attempts"] == 5
    assert httpx.get(server.url + "/api/v1/auth/me", headers=live, timeout=10).status_code == 200
