"""GET /api/v1/platform/stats (issue 18, seed 000's monitoring queries): the
statements with the most total time (pg_stat_statements where installed,
else the process's own timing), the largest tenants with their tables' exact
row counts and sizes, connections and the job queues; super admins only."""
import httpx

import helpers as h
from platform_helpers import PLATFORM, platform_admin  # noqa: F401 (a fixture)

STATS = f"{PLATFORM}/stats"
# an operator's report that visits tenants: seconds in a session of a hundred or more
SLOW = 120


def test_stats_show_statements_tenants_connections_and_jobs(platform_admin, acme_owner, database):
    secret = h.uniq("STATS-SECRET-")
    c = h.create_customer(acme_owner, customer_code=secret)
    body = h.ok(platform_admin.get(STATS, timeout=SLOW))
    assert body["engine"] == ("postgres" if database else "sqlite")

    st = body["statements"]
    assert st["source"] in ("opsbase", "pg_stat_statements")
    top = st["top"]
    assert 1 <= len(top) <= 20 and st["executed_total"] >= sum(1 for _ in top)
    totals = [s["total_ms"] for s in top]
    assert totals == sorted(totals, reverse=True)
    for s in top:
        assert s["sql"] and s["calls"] >= 1 and s["total_ms"] >= 0 and s["max_ms"] >= 0 and s["rows"] >= 0
        assert s["mean_ms"] <= s["max_ms"] + 1e-6
    # statements are shown as prepared: the customer's code was a bound value
    assert secret not in str(body)

    # at most the first 100 in slug order, and at most what two seconds allow
    assert body["tenants_total"] >= 3 and 1 <= body["tenants_scanned"] <= min(body["tenants_total"], 100)
    tenants = body["tenants"]
    assert 1 <= len(tenants) <= 10
    sizes = [(t["bytes"] or 0, t["rows"]) for t in tenants]
    assert sizes == sorted(sizes, reverse=True)
    acme = [t for t in tenants if t["tenant"] == "acme"]
    assert acme, [t["tenant"] for t in tenants]
    tables = acme[0]["tables"]
    assert 1 <= len(tables) <= 10
    assert [t["rows"] for t in tables] == sorted((t["rows"] for t in tables), reverse=True)
    assert acme[0]["rows"] >= sum(t["rows"] for t in tables)
    for t in tables:
        assert t["bytes"] is None or t["bytes"] > 0
    customers = h.list_all(acme_owner, "customers")
    in_top = [t for t in tables if t["table"] == "customers"]
    if in_top and not database:  # SQLite counts exactly; PostgreSQL shows its statistics' estimates
        assert in_top[0]["rows"] >= len(customers) >= 1

    conns = body["connections"]
    assert conns["open"] >= 1 and 0 <= conns["idle"] <= conns["open"] and conns["opened_total"] >= 1
    if database:
        assert conns["server_sessions"] >= 1
    jobs = body["jobs"]
    assert jobs["queued"] >= 0 and jobs["due"] >= 0 and jobs["oldest_due_age_s"] >= 0
    h.ok(acme_owner.delete(f"/api/v1/customers/{c['id']}"))


def test_own_timing_counts_calls(platform_admin, database):
    """Without pg_stat_statements (SQLite always) the figures are this process's
    own, so asking again shows more calls of the same statements."""
    first = h.ok(platform_admin.get(STATS, timeout=SLOW))["statements"]
    if first["source"] != "opsbase":
        return
    second = h.ok(platform_admin.get(STATS, timeout=SLOW))["statements"]
    assert second["executed_total"] > first["executed_total"]
    calls = {s["sql"]: s["calls"] for s in first["top"]}
    assert any(s["sql"] in calls and s["calls"] > calls[s["sql"]] for s in second["top"])


def test_stats_are_for_super_admins_only(server, anon, acme_owner):
    # a tenant's owner (however privileged in the tenant) and anonymous callers
    # are refused as every platform route refuses them: no platform token
    h.expect_error(acme_owner.get(STATS), 401, "unauthenticated")
    h.expect_error(anon.get(STATS), 401, "unauthenticated")
    forged = acme_owner.headers["Authorization"].replace("Bearer obt_", "Bearer obp_")
    with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT, headers={"Authorization": forged}) as c:
        h.expect_error(c.get(STATS), 401, "unauthenticated")


def test_stats_take_no_body_or_other_methods(platform_admin):
    h.expect_error(platform_admin.post(STATS, json={}), 405, "method_not_allowed")
