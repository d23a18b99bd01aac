"""API keys (issue 17, feature api_access): POST /api/v1/api_keys returns the
key once (obk_<tenant>_...), stored as a hash; Authorization: Bearer obk_...
acts as the creator narrowed to the key's scopes; a scope the creator lacks is
refused at creation (422); revoke by POST .../revoke or DELETE; expired and
revoked keys are 401; last_used_at is written at most once a minute."""
import threading

import helpers as h

API = "/api/v1"


def key_client(server, key):
    return h.ApiClient(base_url=server.url, timeout=10, headers={"Authorization": "Bearer " + key})


def make_key(client, scopes, status=201, **extra):
    return h.ok(client.post(f"{API}/api_keys", json={"name": "k " + h.uniq(), "scopes": scopes, **extra}), status)


def test_key_is_shown_once_stored_hashed_and_acts_within_its_scopes(server, new_tenant):
    t = new_tenant()
    made = make_key(t.owner, ["customers.view", "tickets.view"])
    key = made["key"]
    assert key.startswith(f"obk_{t.slug}_") and len(key) >= len(f"obk_{t.slug}_") + 43
    assert made["key_prefix"] == key[:len(f"obk_{t.slug}_") + 6] and made["status"] == "active"
    assert made["user_id"] == t.owner.get(f"{API}/auth/me").json()["user"]["id"]
    assert "key_hash" not in made and made["last_used_at"] is None
    again = h.get(t.owner, "api_keys", made["id"])
    assert "key" not in again and "key_hash" not in again
    [(stored,)] = raw_rows(server, t.slug, f"SELECT key_hash FROM api_keys WHERE id = '{made['id']}'")
    assert key not in stored and len(stored) == 64
    cust = h.create_customer(t.owner)
    with key_client(server, key) as k:
        assert h.get(k, "customers", cust["id"])["id"] == cust["id"]
        h.ok(k.get(f"{API}/tickets"))
        # an owner's key holds its scopes, not every code
        h.expect_error(k.post(f"{API}/customers", json={"customer_code": h.uniq("C-"), "company_name": "X"}),
                       403, "forbidden")
        h.expect_error(k.get(f"{API}/orders"), 403, "forbidden")
        h.expect_error(k.get(f"{API}/api_keys"), 403, "forbidden")
        h.expect_error(k.post(f"{API}/api_keys", json={"name": "n", "scopes": ["customers.view"]}), 403, "forbidden")
    # writes made with a key are audited as its creator
    wk = make_key(t.owner, ["customers.create", "customers.view"])["key"]
    with key_client(server, wk) as k:
        c2 = h.create_customer(k)
    [row] = h.audit_rows(t.owner, entity_type="customers", entity_id=c2["id"], action="create")
    assert row["user_id"] == made["user_id"]


def raw_rows(server, slug, sql):
    import test_security_secrets as s
    return s.raw(server, slug, sql)


def test_creation_refusals(server, new_tenant, cli, login):
    t = new_tenant()
    e = f"manager@{t.slug}.test"
    cli.user_create(t.slug, e, "manager")
    manager = login(t.slug, e)
    ag = f"agent@{t.slug}.test"
    cli.user_create(t.slug, ag, "agent")
    agent = login(t.slug, ag)
    before = len(h.list_all(t.owner, "api_keys"))
    # a scope the creator lacks (managers may not delete team members), or no such code: 422
    h.expect_error(manager.post(f"{API}/api_keys", json={"name": "n", "scopes": ["customers.view", "team.delete"]}),
                   422, "unprocessable", "scopes")
    h.expect_error(t.owner.post(f"{API}/api_keys", json={"name": "n", "scopes": ["nothing.view"]}),
                   422, "unprocessable", "scopes")
    h.expect_error(t.owner.post(f"{API}/api_keys", json={"name": "n", "scopes": ["customers.view"],
                                                         "expires_at": "2020-01-01T00:00:00.000Z"}),
                   422, "unprocessable", "expires_at")
    # malformed: 400
    for body, field in (({"name": "n", "scopes": []}, "scopes"), ({"name": "n", "scopes": "customers.view"}, "scopes"),
                        ({"name": "n", "scopes": [5]}, "scopes"), ({"scopes": ["customers.view"]}, "name"),
                        ({"name": "n", "scopes": ["customers.view"], "key_hash": "x"}, "key_hash")):
        r = t.owner.post(f"{API}/api_keys", json=body)
        assert r.status_code == 400, h.show(r)
        e = r.json()["error"]
        assert field in h.error_fields(e) or field in e["message"], e
    # an agent holds no api_keys permission: 403
    h.expect_error(agent.post(f"{API}/api_keys", json={"name": "n", "scopes": ["tickets.view"]}), 403, "forbidden")
    # nothing was written
    assert len(h.list_all(t.owner, "api_keys")) == before
    # a manager's key within the manager's permissions is fine
    assert make_key(manager, ["customers.view"])["status"] == "active"


def test_plan_without_api_access_is_refused(new_tenant):
    t = new_tenant(plan="professional")
    h.expect_error(t.owner.post(f"{API}/api_keys", json={"name": "n", "scopes": ["customers.view"]}),
                   403, "feature_disabled")


def test_revoke_expire_and_other_tenants(server, new_tenant):
    t, other = new_tenant(), new_tenant()
    a = make_key(t.owner, ["customers.view"])
    b = make_key(t.owner, ["customers.view"])
    with key_client(server, a["key"]) as ka, key_client(server, b["key"]) as kb:
        h.ok(ka.get(f"{API}/customers"))
        # another tenant's key ids are not found
        h.expect_error(other.owner.delete(f"{API}/api_keys/{a['id']}"), 404, "not_found")
        h.expect_error(other.owner.post(f"{API}/api_keys/{a['id']}/revoke"), 404, "not_found")
        h.ok(ka.get(f"{API}/customers"))
        # DELETE revokes (the row stays), POST .../revoke too; revoking twice is 422
        gone = h.ok(t.owner.delete(f"{API}/api_keys/{a['id']}"))
        assert gone["status"] == "revoked" and gone["revoked_at"]
        h.expect_error(ka.get(f"{API}/customers"), 401, "unauthenticated")
        h.ok(t.owner.post(f"{API}/api_keys/{b['id']}/revoke"))
        h.expect_error(kb.get(f"{API}/customers"), 401, "unauthenticated")
        h.expect_error(t.owner.post(f"{API}/api_keys/{b['id']}/revoke"), 422, "invalid_transition")
        assert h.get(t.owner, "api_keys", a["id"])["status"] == "revoked"
    # expired
    c = make_key(t.owner, ["customers.view"], expires_at="2099-01-01T00:00:00.000Z")
    with key_client(server, c["key"]) as kc:
        h.ok(kc.get(f"{API}/customers"))
        h.tenant_sql(server, t.slug, f"UPDATE api_keys SET expires_at = '2020-01-01T00:00:00.000Z' "
                                     f"WHERE id = '{c['id']}'")
        h.expect_error(kc.get(f"{API}/customers"), 401, "unauthenticated")
    # a key naming another tenant, or altered, is 401
    d = make_key(t.owner, ["customers.view"])
    forged = d["key"].replace(f"obk_{t.slug}_", f"obk_{other.slug}_")
    for bad in (forged, d["key"][:-1] + ("A" if d["key"][-1] != "A" else "B"), "obk_", "obk_x_y"):
        with key_client(server, bad) as kx:
            h.expect_error(kx.get(f"{API}/customers"), 401, "unauthenticated")


def test_last_used_at_is_written_at_most_once_a_minute(server, new_tenant):
    t = new_tenant()
    k = make_key(t.owner, ["customers.view"])
    with key_client(server, k["key"]) as kc:
        h.ok(kc.get(f"{API}/customers"))
        first = h.get(t.owner, "api_keys", k["id"])["last_used_at"]
        assert first
        version = h.get(t.owner, "api_keys", k["id"])["version"]
        for _ in range(3):
            h.ok(kc.get(f"{API}/customers"))
        assert h.get(t.owner, "api_keys", k["id"])["last_used_at"] == first
        h.tenant_sql(server, t.slug, f"UPDATE api_keys SET last_used_at = '2020-01-01T00:00:00.000Z' "
                                     f"WHERE id = '{k['id']}'")
        h.ok(kc.get(f"{API}/customers"))
        now = h.get(t.owner, "api_keys", k["id"])
        assert now["last_used_at"] > "2021" and now["version"] == version


def test_racing_requests_with_one_key_all_pass(server, new_tenant):
    t = new_tenant()
    k = make_key(t.owner, ["customers.view"])
    codes = []

    def use():
        with key_client(server, k["key"]) as kc:
            codes.append(kc.get(f"{API}/customers").status_code)

    ts = [threading.Thread(target=use) for _ in range(8)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    assert codes == [200] * 8


def test_keys_are_seen_by_their_creator_and_by_those_who_manage_keys(server, new_tenant, cli, login):
    """A key's row (name, scopes, prefix) belongs to its creator: other users
    see only their own keys (404 for another's, by id, revoke or delete)
    unless they hold api_keys.manage (owner and admin)."""
    t = new_tenant()
    for name, role in (("mgr1", "manager"), ("mgr2", "manager"), ("adm", "admin"), ("view", "viewer")):
        cli.user_create(t.slug, f"{name}@{t.slug}.test", role)
    m1, m2 = login(t.slug, f"mgr1@{t.slug}.test"), login(t.slug, f"mgr2@{t.slug}.test")
    adm, viewer = login(t.slug, f"adm@{t.slug}.test"), login(t.slug, f"view@{t.slug}.test")
    k1, k2 = make_key(m1, ["customers.view"]), make_key(m2, ["customers.view"])
    ko = make_key(t.owner, ["customers.view"])
    assert [k["id"] for k in h.list_all(m1, "api_keys")] == [k1["id"]]
    assert [k["id"] for k in h.list_all(m2, "api_keys")] == [k2["id"]]
    assert h.list_all(viewer, "api_keys") == []
    for c in (t.owner, adm):
        assert {k["id"] for k in h.list_all(c, "api_keys")} == {k1["id"], k2["id"], ko["id"]}
    # another's key is not found, whatever is asked of it; nothing changes
    for kid in (k2["id"], ko["id"]):
        h.expect_error(m1.get(f"{API}/api_keys/{kid}"), 404, "not_found")
        h.expect_error(m1.post(f"{API}/api_keys/{kid}/revoke"), 404, "not_found")
        h.expect_error(m1.delete(f"{API}/api_keys/{kid}"), 404, "not_found")
        h.expect_error(m1.patch(f"{API}/api_keys/{kid}", json={"name": "mine now"}), 404, "not_found")
        h.expect_error(viewer.get(f"{API}/api_keys/{kid}"), 404, "not_found")
    assert h.get(t.owner, "api_keys", k2["id"])["status"] == "active"
    # the creator reads and revokes its own; an admin revokes anyone's
    assert h.get(m1, "api_keys", k1["id"])["name"] == k1["name"]
    assert h.ok(m1.post(f"{API}/api_keys/{k1['id']}/revoke"))["status"] == "revoked"
    assert h.ok(adm.post(f"{API}/api_keys/{k2['id']}/revoke"))["status"] == "revoked"
    # the manage code is an administrator's: managers do not hold it
    perms = h.ok(m1.get(f"{API}/auth/me"))["permissions"]
    assert "api_keys.view" in perms and "api_keys.manage" not in perms
    assert "api_keys.manage" in h.ok(adm.get(f"{API}/auth/me"))["permissions"]
