"""What /auth/me tells the console besides the user: the tenant's time zone
(company_settings.timezone) for showing times, and the plan's features with
the permission modules it leaves out, each of which the gate refuses."""
import helpers as h

API = "/api/v1"


def _company(client):
    rows = h.ok(client.get(f"{API}/company_settings"))["data"]
    assert len(rows) == 1
    return rows[0]


def test_timezone_follows_the_company_settings(new_tenant):
    t = new_tenant()
    me = h.ok(t.owner.get(f"{API}/auth/me"))
    assert me["tenant"]["timezone"] == "UTC"
    row = _company(t.owner)
    h.ok(t.owner.patch(f"{API}/company_settings/{row['id']}", json={"timezone": "Asia/Kolkata"}))
    assert h.ok(t.owner.get(f"{API}/auth/me"))["tenant"]["timezone"] == "Asia/Kolkata"
    # a name the server does not know is not handed to the console: UTC instead
    h.ok(t.owner.patch(f"{API}/company_settings/{row['id']}", json={"timezone": "Mars/Olympus_Mons"}))
    assert h.ok(t.owner.get(f"{API}/auth/me"))["tenant"]["timezone"] == "UTC"


def test_features_and_the_modules_the_plan_leaves_out(new_tenant, login):
    rich = new_tenant(plan="business")
    me = h.ok(rich.owner.get(f"{API}/auth/me"))
    assert {"support_desk", "knowledge_base"} <= set(me["features"])
    assert "tickets" not in me["modules_not_in_plan"]
    poor = new_tenant(plan="free")
    pm = h.ok(poor.owner.get(f"{API}/auth/me"))
    left_out = set(pm["modules_not_in_plan"])
    assert left_out, "the free plan leaves areas out"
    assert len(pm["features"]) == len(set(pm["features"])), "each feature once"
    # every module named is really refused by the gate, and the others are not
    schema = h.ok(poor.owner.get(f"{API}/schema"))
    by_module = {}
    for t in schema["tables"]:
        if t.get("api") and t.get("database") == "tenant" and "GET" in (t.get("methods") or {}).get("collection", ["GET"]):
            by_module.setdefault(t["permission_module"], t["name"])
    for module in sorted(left_out):
        if module in by_module:
            h.expect_error(poor.owner.get(f"{API}/{by_module[module]}"), 403, "feature_disabled")
    for module in ("customers", "tickets"):
        if module not in left_out and module in by_module:
            h.ok(poor.owner.get(f"{API}/{by_module[module]}"))
