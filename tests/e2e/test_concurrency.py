"""Concurrent requests: optimistic locking, idempotency and assignment counters
stay correct when requests race."""
from concurrent.futures import ThreadPoolExecutor

import httpx

import helpers as h

WORKERS = 8


def _parallel(server, token, calls):
    """Run calls (method, path, kwargs) at once, each on its own connection."""
    def one(call):
        method, path, kwargs = call
        with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT,
                          headers={"Authorization": f"Bearer {token}"}) as c:
            return c.request(method, path, **kwargs)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, calls))


def test_racing_patches_with_if_match(server, acme_owner):
    c = h.create_customer(acme_owner)
    url = f"/api/v1/customers/{c['id']}"
    calls = [("PATCH", url, {"json": {"company_name": f"writer {i}"},
                             "headers": {"If-Match": '"1"'}}) for i in range(WORKERS)]
    results = _parallel(server, acme_owner.token, calls)
    winners = [r for r in results if r.status_code == 200]
    assert len(winners) == 1, [h.show(r) for r in results]
    for r in results:
        if r.status_code != 200:
            h.expect_error(r, 412, "version_mismatch")
    now = h.get(acme_owner, "customers", c["id"])
    assert now["version"] == 2
    assert now["company_name"] == winners[0].json()["company_name"]


def test_racing_idempotent_posts(server, acme_owner):
    key = h.uniq("race-")
    code = h.uniq("RACE-")
    calls = [("POST", "/api/v1/customers", {"json": {"customer_code": code},
                                              "headers": {"Idempotency-Key": key}})
             for _ in range(WORKERS)]
    results = _parallel(server, acme_owner.token, calls)
    created = [r for r in results if r.status_code == 201]
    assert created, [h.show(r) for r in results]
    assert len({r.json()["id"] for r in created}) == 1
    for r in results:
        if r.status_code != 201:
            # A request that arrives while the first is in flight may be refused.
            assert r.status_code == 409, h.show(r)
    assert len(h.rows_where(acme_owner, "customers", customer_code=code)) == 1


def test_racing_unique_values(server, acme_owner):
    code = h.uniq("UNIQRACE-")
    calls = [("POST", "/api/v1/customers", {"json": {"customer_code": code}})
             for _ in range(WORKERS)]
    results = _parallel(server, acme_owner.token, calls)
    assert sum(r.status_code == 201 for r in results) == 1, [h.show(r) for r in results]
    for r in results:
        if r.status_code != 201:
            h.expect_error(r, 409, "conflict")
    assert len(h.rows_where(acme_owner, "customers", customer_code=code)) == 1


def test_racing_ticket_creation_keeps_counters_exact(server, new_tenant):
    t = new_tenant(agents=2)
    owner = t.owner
    agents = [h.user_id_by_email(owner, e) for e in t.agents]
    cust = h.create_customer(owner)
    n = 10
    calls = [("POST", "/api/v1/tickets", {"json": {"title": f"Race {i}", "description": "x",
                                                     "customer_id": cust["id"]}})
             for i in range(n)]
    results = _parallel(server, owner.token, calls)
    for r in results:
        h.ok(r, 201)
    tickets = h.rows_where(owner, "tickets", customer_id=cust["id"])
    assert len(tickets) == n
    assert len({tk["ticket_number"] for tk in tickets}) == n
    for a in agents:
        open_for_a = h.rows_where(owner, "tickets", assigned_agent_id=a, status="open")
        assert h.ticket_count(owner, a) == len(open_for_a)
        # Writes are serialized, so fewest-open keeps the pool exactly balanced.
        assert len(open_for_a) == n // 2
