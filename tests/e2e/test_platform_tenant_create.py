"""POST /api/v1/platform/tenants: a super admin provisions a tenant as
`opsbase tenant create` does; the control rows' audit names the admin."""
import concurrent.futures

import httpx

import helpers as h
from platform_helpers import PLATFORM, control_rows, platform_admin  # noqa: F401 (fixture)


def _create(client, **body):
    return client.post(f"{PLATFORM}/tenants", json=body)


def _tenant_count(server):
    return int(control_rows(server, "SELECT COUNT(*) FROM tenants")[0][0])


def test_a_tenant_made_over_the_api_works_and_is_audited(server, platform_admin):  # noqa: F811
    slug = h.slug()
    r = _create(platform_admin, slug=slug, plan="professional", owner_email=f"owner@{slug}.test",
                owner_password=h.OWNER_PASSWORD, name="Made Over The API", agent_limit=3)
    body = h.ok(r, 201)
    assert body["slug"] == slug and body["plan"] == "professional"
    assert "owner_password" not in body  # only a password made here is answered
    assert r.headers["location"] == f"{PLATFORM}/tenants/{body['id']}"
    row = h.ok(platform_admin.get(f"{PLATFORM}/tenants/{body['id']}"))
    assert row["slug"] == slug and row["name"] == "Made Over The API" and row["agent_limit"] == 3
    # the owner signs in and the tenant's database is seeded (its roles)
    owner = h.login_raw(server.url, slug, f"owner@{slug}.test", h.OWNER_PASSWORD)
    assert owner.status_code == 200, h.show(owner)
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer " + owner.json()["token"]}) as c:
        codes = {x["code"] for x in h.ok(c.get("/api/v1/roles", params={"limit": 100}))["data"]}
    assert {"owner", "admin", "agent"} <= codes
    # the tenant and its subscription are in the platform's audit, by this admin and request
    me = h.ok(platform_admin.get(f"{PLATFORM}/auth/me"))["super_admin"]
    audit = control_rows(server, "SELECT entity_type, super_admin_id, request_id FROM platform_audit_logs "
                                 f"WHERE action = 'create' AND (entity_id = '{body['id']}' OR CAST(new_values AS TEXT) LIKE "
                                 f"'%{body['id']}%') ORDER BY seq")
    assert [a[0] for a in audit] == ["tenants", "subscriptions"], audit
    assert all(a[1] == me["id"] for a in audit) and audit[0][2] and audit[0][2] == audit[1][2]


def test_a_password_is_made_when_none_is_given(server, platform_admin):  # noqa: F811
    slug = h.slug()
    body = h.ok(_create(platform_admin, slug=slug, plan="free", owner_email=f"owner@{slug}.test"), 201)
    pw = body["owner_password"]
    assert len(pw) >= 16
    assert h.login_raw(server.url, slug, f"owner@{slug}.test", pw).status_code == 200
    # never shown again
    assert "owner_password" not in h.ok(platform_admin.get(f"{PLATFORM}/tenants/{body['id']}"))


def test_bad_input_is_refused_and_writes_nothing(server, platform_admin):  # noqa: F811
    slug = h.slug()
    good = {"slug": slug, "plan": "business", "owner_email": f"owner@{slug}.test", "owner_password": h.OWNER_PASSWORD}
    before = _tenant_count(server)
    cases = [
        ({**good, "slug": "Not A Slug"}, "slug"),
        ({**good, "slug": "x" * 64}, "slug"),
        ({k: v for k, v in good.items() if k != "owner_email"}, "owner_email"),
        ({k: v for k, v in good.items() if k != "plan"}, "plan"),
        ({**good, "owner_email": "nobody"}, "owner_email"),
        ({**good, "agent_limit": -1}, "agent_limit"),
        ({**good, "ticket_limit": "many"}, "ticket_limit"),
        ({**good, "colour": "blue"}, "colour"),
        ({**good, "slug": 7}, "slug"),
    ]
    for body, field in cases:
        err = h.expect_error(_create(platform_admin, **body), 400, "validation_failed")
        assert field in err.get("fields", {}), (body, err)
    h.expect_error(_create(platform_admin, **{**good, "plan": "no-such-plan"}), 400, "validation_failed")
    h.expect_error(_create(platform_admin, **{**good, "owner_password": "short"}), 400, "validation_failed")
    r = platform_admin.post(f"{PLATFORM}/tenants", content=b"{not json", headers={"Content-Type": "application/json"})
    h.expect_error(r, 400, "invalid_json")
    assert _tenant_count(server) == before
    assert not control_rows(server, f"SELECT id FROM tenants WHERE slug = '{slug}'")
    # and the slug is still free
    h.ok(_create(platform_admin, **good), 201)


def test_only_a_super_admin_provisions(server, anon, acme_owner):
    slug = h.slug()
    body = {"slug": slug, "plan": "business", "owner_email": f"owner@{slug}.test"}
    h.expect_error(anon.post(f"{PLATFORM}/tenants", json=body), 401, "unauthenticated")
    h.expect_error(acme_owner.post(f"{PLATFORM}/tenants", json=body), 401, "unauthenticated")
    assert not control_rows(server, f"SELECT id FROM tenants WHERE slug = '{slug}'")


def test_a_taken_slug_is_409_and_two_racing_creates_make_one_tenant(server, platform_admin):  # noqa: F811
    h.expect_error(_create(platform_admin, slug="acme", plan="business", owner_email="x@acme.test",
                           owner_password=h.OWNER_PASSWORD), 409, "conflict")
    slug = h.slug()
    body = {"slug": slug, "plan": "business", "owner_email": f"owner@{slug}.test", "owner_password": h.OWNER_PASSWORD}
    token = platform_admin.headers["Authorization"]

    def one(_):
        with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT, headers={"Authorization": token}) as c:
            return c.post(f"{PLATFORM}/tenants", json=body).status_code

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(one, range(2)))
    assert codes == [201, 409], codes
    assert len(control_rows(server, f"SELECT id FROM tenants WHERE slug = '{slug}'")) == 1
