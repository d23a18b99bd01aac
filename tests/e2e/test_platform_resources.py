"""The platform API's resources (issue #17): the control tables served to super
admins under /api/v1/platform/<table> by the generic machinery (list, get,
create and change as the registry allows), a tenant suspended (every write of
the tenant 423 tenant_suspended, reads work) and resumed, and every change in
the hash-chained platform audit log."""
import threading

import httpx

import helpers as h
from platform_helpers import PLATFORM, platform_admin  # noqa: F401 (a fixture)


def _tenant_id(admin, slug):
    rows = h.ok(admin.get(f"{PLATFORM}/tenants", params={"slug": slug}))["data"]
    assert [r["slug"] for r in rows] == [slug]
    return rows[0]["id"]


def test_plans_and_features_are_generic_resources(platform_admin):
    plans = h.ok(platform_admin.get(f"{PLATFORM}/plans", params={"sort": "sort_order", "limit": 50}))["data"]
    assert {"free", "starter", "professional", "business", "enterprise"} <= {p["code"] for p in plans}
    code = h.uniq("plan").lower()
    r = platform_admin.post(f"{PLATFORM}/plans", json={"name": "Gold", "code": code, "price_monthly": "1999.50",
                                                       "max_users": 7})
    plan = h.ok(r, 201)
    assert r.headers["Location"] == f"{PLATFORM}/plans/{plan['id']}"
    assert plan["price_monthly"] == "1999.50" and plan["max_users"] == 7 and plan["is_active"] is True
    got = h.ok(platform_admin.get(f"{PLATFORM}/plans/{plan['id']}"))
    assert got == plan
    changed = h.ok(platform_admin.patch(f"{PLATFORM}/plans/{plan['id']}", json={"price_monthly": "2100"}))
    assert changed["price_monthly"] == "2100.00" and changed["version"] == plan["version"] + 1
    # the registry's checks, as on any table
    h.expect_error(platform_admin.post(f"{PLATFORM}/plans", json={"name": "Dup", "code": code, "price_monthly": "1"}),
                   409, "conflict")
    h.expect_error(platform_admin.post(f"{PLATFORM}/plans", json={"name": "X", "code": h.uniq("p"),
                                                                  "price_monthly": "-1"}), 400, "validation_failed",
                   "price_monthly")
    h.expect_error(platform_admin.patch(f"{PLATFORM}/plans/{plan['id']}", json={"nope": 1}), 400, "unknown_field")
    h.expect_error(platform_admin.get(f"{PLATFORM}/plans/{h.MISSING_ID}"), 404, "not_found")
    # features are append-only: created and read, never changed
    feat = h.ok(platform_admin.post(f"{PLATFORM}/features", json={"name": "Gold support", "code": h.uniq("f")}), 201)
    link = h.ok(platform_admin.post(f"{PLATFORM}/plan_features", json={"plan_id": plan["id"],
                                                                       "feature_id": feat["id"]}), 201)
    assert link["is_enabled"] is True
    h.expect_error(platform_admin.post(f"{PLATFORM}/plan_features", json={"plan_id": h.MISSING_ID,
                                                                          "feature_id": feat["id"]}),
                   422, "unprocessable", "plan_id")
    r = platform_admin.patch(f"{PLATFORM}/features/{feat['id']}", json={"name": "x"})
    h.expect_error(r, 405, "method_not_allowed")


def test_tenants_cannot_be_created_or_patched_generically(platform_admin):
    # POST provisions (test_platform_tenant_create.py): a row alone, without a
    # plan and an owner, is refused and makes nothing
    h.expect_error(platform_admin.post(f"{PLATFORM}/tenants", json={"name": "x", "slug": "x"}), 400,
                   "validation_failed", "plan")
    assert not h.ok(platform_admin.get(f"{PLATFORM}/tenants", params={"slug": "x"}))["data"]
    tid = _tenant_id(platform_admin, "globex")
    # DELETE schedules the tenant's erasure instead (test_platform_tenant_erasure.py)
    h.expect_error(platform_admin.patch(f"{PLATFORM}/tenants/{tid}", json={"name": "x"}), 405, "method_not_allowed")


def test_tenant_tokens_never_reach_platform_resources(acme_owner, anon):
    for path in ("plans", "tenants", "subscriptions", "tenant_features", "platform_audit_logs"):
        h.expect_error(acme_owner.get(f"{PLATFORM}/{path}"), 401, "unauthenticated")
        h.expect_error(anon.get(f"{PLATFORM}/{path}"), 401, "unauthenticated")
    h.expect_error(acme_owner.post(f"{PLATFORM}/plans", json={"name": "x"}), 401, "unauthenticated")


def test_a_suspended_tenant_reads_but_cannot_write(platform_admin, new_tenant):
    t = new_tenant()
    owner = t.owner
    cust = h.create_customer(owner, name="Before")
    tid = _tenant_id(platform_admin, t.slug)
    done = h.ok(platform_admin.post(f"{PLATFORM}/tenants/{tid}/suspend"))
    assert done["status"] == "suspended"
    # writes: 423, nothing written
    h.expect_error(owner.post("/api/v1/customers", json={"name": "During"}), 423, "tenant_suspended")
    h.expect_error(owner.patch(f"/api/v1/customers/{cust['id']}", json={"name": "Changed"}), 423, "tenant_suspended")
    h.expect_error(owner.delete(f"/api/v1/customers/{cust['id']}"), 423, "tenant_suspended")
    # reads work, and so does signing in
    assert h.get(owner, "customers", cust["id"])["name"] == "Before"
    assert [c["name"] for c in h.list_all(owner, "customers")] == ["Before"]
    assert h.login_raw(owner.base_url, t.slug, f"owner@{t.slug}.test", h.OWNER_PASSWORD).status_code == 200
    # suspending twice is a wrong state
    h.expect_error(platform_admin.post(f"{PLATFORM}/tenants/{tid}/suspend"), 422, "invalid_transition")
    assert h.ok(platform_admin.post(f"{PLATFORM}/tenants/{tid}/resume"))["status"] == "active"
    h.create_customer(owner, name="After")
    h.expect_error(platform_admin.post(f"{PLATFORM}/tenants/{tid}/resume"), 422, "invalid_transition")
    h.expect_error(platform_admin.post(f"{PLATFORM}/tenants/{h.MISSING_ID}/suspend"), 404, "not_found")


def test_two_admins_racing_to_suspend_one_wins(server, platform_admin, new_tenant):
    t = new_tenant()
    tid = _tenant_id(platform_admin, t.slug)
    auth = platform_admin.headers["Authorization"]
    results = []
    barrier = threading.Barrier(2)

    def go():
        with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT, headers={"Authorization": auth}) as c:
            barrier.wait()
            results.append(c.post(f"{PLATFORM}/tenants/{tid}/suspend").status_code)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results)[0] == 200 and sorted(results)[1] in (409, 422), results
    h.expect_error(t.owner.post("/api/v1/customers", json={"name": "x"}), 423, "tenant_suspended")


def test_every_platform_change_is_in_the_chained_audit_log(platform_admin, new_tenant):
    t = new_tenant()
    tid = _tenant_id(platform_admin, t.slug)
    h.ok(platform_admin.post(f"{PLATFORM}/tenants/{tid}/suspend"))
    h.ok(platform_admin.post(f"{PLATFORM}/tenants/{tid}/resume"))
    me = h.ok(platform_admin.get(f"{PLATFORM}/auth/me"))["super_admin"]
    rows = h.ok(platform_admin.get(f"{PLATFORM}/platform_audit_logs", params={"entity_id": tid}))["data"]
    # newest first: the tenant was provisioned over the API by the session's
    # super admin (conftest.py provisioner), then suspended and resumed by this one
    assert [r["action"] for r in rows] == ["resume", "suspend", "create"], rows
    for r in rows:
        assert r["entity_type"] == "tenants"
    assert rows[0]["super_admin_id"] == me["id"] and rows[1]["super_admin_id"] == me["id"]
    assert rows[2]["super_admin_id"] and h.as_obj(rows[2]["new_values"])["slug"] == t.slug
    assert h.as_obj(rows[1]["old_values"])["status"] == "active"
    assert h.as_obj(rows[1]["new_values"])["status"] == "suspended"
    # the whole log is one chain: seq 1.., each row's prev_hash the hash before
    chain = []
    cursor = None
    while True:
        params = {"sort": "seq", "limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = h.ok(platform_admin.get(f"{PLATFORM}/platform_audit_logs", params=params))
        chain += page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert [r["seq"] for r in chain] == list(range(1, len(chain) + 1))
    assert chain[0]["prev_hash"] == "0" * 64
    for a, b in zip(chain, chain[1:]):
        assert b["prev_hash"] == a["hash"] and len(b["hash"]) == 64
    # the log is read-only
    h.expect_error(platform_admin.post(f"{PLATFORM}/platform_audit_logs", json={}), 405, "method_not_allowed")
