"""The web console as HTTP sees it (issue #19): the embedded files with their
caching and security headers, the cookie session with its CSRF token beside
bearer tokens, and the schema the console is drawn from. The browser tests
are in tests/console (Playwright)."""
import re
import subprocess

import httpx
import pytest

import helpers as h

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def req(server, method, path, **kw):
    # a fresh client each time: nothing is carried in a cookie jar unless a test sends it
    with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT) as c:
        return c.request(method, path, **kw)


def sign_in(server, tenant="acme", email="owner@acme.test", password=h.OWNER_PASSWORD, headers=None):
    r = req(server, "POST", "/api/v1/console/session",
            json={"tenant": tenant, "email": email, "password": password}, headers=headers or {})
    body = h.ok(r)
    m = re.match(r"ob_console=([^;]+);", r.headers["set-cookie"])
    assert m, r.headers["set-cookie"]
    return m.group(1), body["csrf_token"], r


def cookie(token):
    return {"Cookie": f"other=1; ob_console={token}"}


def assets(server):
    html = req(server, "GET", "/").text
    return re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)


# ---- the files ---------------------------------------------------------------

def test_index_is_served_with_a_strict_policy(server):
    r = req(server, "GET", "/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "base-uri 'none'"):
        assert directive in csp, csp
    assert "unsafe" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{20}"', r.headers["etag"])
    # no inline script or style: every script has a src, no style element or attribute
    assert re.findall(r"<script[^>]*>", r.text) == [s for s in re.findall(r"<script[^>]*>", r.text) if "src=" in s]
    assert "<style" not in r.text and "style=" not in r.text
    assert len(assets(server)) == 2


def test_assets_are_content_addressed_and_cached_for_good(server):
    for path in assets(server):
        assert re.fullmatch(r"/assets/main-[A-Z0-9]{8}\.(js|css)", path), path
        r = req(server, "GET", path)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        want = "text/javascript" if path.endswith(".js") else "text/css"
        assert r.headers["content-type"].startswith(want)
        assert len(r.content) > 1000
        again = req(server, "GET", path, headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        other = req(server, "GET", path, headers={"If-None-Match": '"0000"'})
        assert other.status_code == 200


def test_index_revalidates(server):
    etag = req(server, "GET", "/").headers["etag"]
    r = req(server, "GET", "/", headers={"If-None-Match": f'"x", {etag}'})
    assert r.status_code == 304
    head = req(server, "HEAD", "/")
    assert head.status_code == 200 and head.content == b""


def test_unknown_files_and_methods_answer_json(server):
    h.expect_error(req(server, "GET", "/assets/main-NOPE0000.js"), 404, "no_route")
    h.expect_error(req(server, "GET", "/assets/a/b.js"), 404, "no_route")
    h.expect_error(req(server, "GET", "/index.html"), 404, "no_route")
    r = req(server, "POST", "/", content=b"x")
    h.expect_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, HEAD"


# ---- the cookie session --------------------------------------------------------

def test_console_sign_in_sets_an_httponly_strict_cookie(server):
    token, csrf, r = sign_in(server)
    sc = r.headers["set-cookie"]
    for part in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
        assert part in sc, sc
    assert "Secure" not in sc  # plain HTTP here
    assert token.startswith("obt_acme_")
    body = r.json()
    assert token not in r.text  # the token travels in the cookie only
    assert HEX64.match(csrf)
    assert body["user"]["email"] == "owner@acme.test"
    h.parse_ts(body["expires_at"])
    # behind a TLS proxy the cookie is Secure
    _, _, r2 = sign_in(server, headers={"X-Forwarded-Proto": "https"})
    assert "; Secure" in r2.headers["set-cookie"]


def test_console_sign_in_refusals(server):
    r = req(server, "POST", "/api/v1/console/session",
            json={"tenant": "acme", "email": "owner@acme.test", "password": "Wrong-pass-1!"})
    h.expect_error(r, 401, "invalid_credentials")
    assert "set-cookie" not in r.headers
    h.expect_error(req(server, "POST", "/api/v1/console/session", content=b"{nope",
                       headers={"Content-Type": "application/json"}), 400, "invalid_json")
    e = h.expect_error(req(server, "POST", "/api/v1/console/session", json={"tenant": "acme"}),
                       400, "validation_failed")
    assert "email" in h.error_fields(e)
    h.expect_error(req(server, "POST", "/api/v1/console/session",
                       json={"tenant": "acme", "email": "a@b.c", "password": "x", "token": "y"}),
                   400, "unknown_field")
    h.expect_error(req(server, "POST", "/api/v1/console/session", content=b"tenant=acme",
                       headers={"Content-Type": "application/x-www-form-urlencoded"}), 415, "unsupported_media_type")
    h.expect_error(req(server, "PUT", "/api/v1/console/session"), 405, "method_not_allowed")


def test_session_state_and_csrf_token(server):
    token, csrf, _ = sign_in(server)
    r = req(server, "GET", "/api/v1/console/session", headers=cookie(token))
    assert h.ok(r) == {"signed_in": True, "csrf_token": csrf, "tenant": "acme"}
    assert h.ok(req(server, "GET", "/api/v1/console/session")) == {"signed_in": False}
    dead = req(server, "GET", "/api/v1/console/session", headers=cookie("obt_acme_" + "A" * 43))
    assert h.ok(dead) == {"signed_in": False}
    assert "Max-Age=0" in dead.headers["set-cookie"]
    # each session has its own token
    _, csrf2, _ = sign_in(server)
    assert csrf2 != csrf


def test_cookie_reads_work_and_writes_need_the_csrf_token(server, acme_owner):
    token, csrf, _ = sign_in(server)
    me = h.ok(req(server, "GET", "/api/v1/auth/me", headers=cookie(token)))
    assert me["user"]["email"] == "owner@acme.test" and me["tenant"]["slug"] == "acme"
    code = h.uniq("CSRF").upper()
    body = {"company_name": "Cookie Co", "customer_code": code}
    for headers in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": csrf[:-1]}, {"X-CSRF-Token": csrf.upper()}):
        r = req(server, "POST", "/api/v1/customers", json=body, headers={**cookie(token), **headers})
        h.expect_error(r, 403, "forbidden")
    assert h.rows_where(acme_owner, "customers", customer_code=code.lower()) == [] and \
        h.rows_where(acme_owner, "customers", customer_code=code) == []
    r = req(server, "POST", "/api/v1/customers", json=body, headers={**cookie(token), "X-CSRF-Token": csrf})
    row = h.ok(r, 201)
    assert row["company_name"] == "Cookie Co"
    # a PATCH and a DELETE are writes too
    h.expect_error(req(server, "PATCH", f"/api/v1/customers/{row['id']}", json={"industry": "x"},
                       headers=cookie(token)), 403, "forbidden")
    assert h.get(acme_owner, "customers", row["id"])["industry"] is None
    h.expect_error(req(server, "DELETE", f"/api/v1/customers/{row['id']}", headers=cookie(token)), 403, "forbidden")
    h.get(acme_owner, "customers", row["id"])
    # another session's token does not fit
    _, other_csrf, _ = sign_in(server)
    h.expect_error(req(server, "PATCH", f"/api/v1/customers/{row['id']}", json={"industry": "x"},
                       headers={**cookie(token), "X-CSRF-Token": other_csrf}), 403, "forbidden")
    # the same conflicts and bounds as with a bearer token
    h.expect_error(req(server, "POST", "/api/v1/customers", json=body,
                       headers={**cookie(token), "X-CSRF-Token": csrf}), 409, "conflict")


def test_bearer_tokens_ignore_the_cookie(server, acme_owner):
    token, _, _ = sign_in(server)
    # a bearer request needs no CSRF token, whatever cookie rides along
    r = acme_owner.post("/api/v1/customers", json={"company_name": "Bearer Co"}, headers=cookie(token))
    h.ok(r, 201)
    # and a bad bearer token is not rescued by a good cookie
    r = req(server, "GET", "/api/v1/auth/me", headers={**cookie(token), "Authorization": "Bearer obt_acme_nope"})
    h.expect_error(r, 401, "unauthenticated")


def test_cookie_sessions_keep_permissions_states_and_tenancy(server, globex_owner):
    viewer, vcsrf, _ = sign_in(server, email="viewer@acme.test", password=h.USER_PASSWORD)
    code = h.uniq("VIEW").upper()
    r = req(server, "POST", "/api/v1/customers", json={"company_name": "No", "customer_code": code},
            headers={**cookie(viewer), "X-CSRF-Token": vcsrf})
    h.expect_error(r, 403, "forbidden")
    token, csrf, _ = sign_in(server)
    w = {**cookie(token), "X-CSRF-Token": csrf}
    cus = h.ok(req(server, "POST", "/api/v1/customers", json={"company_name": "States Co"}, headers=w), 201)
    t = h.ok(req(server, "POST", "/api/v1/tickets", headers=w,
                 json={"customer_id": cus["id"], "title": "Via cookie", "description": "d"}), 201)
    h.expect_error(req(server, "POST", f"/api/v1/tickets/{t['id']}/close", headers=w), 422, "invalid_transition")
    assert h.ok(req(server, "POST", f"/api/v1/tickets/{t['id']}/start", headers=w))["status"] == "in_progress"
    # another tenant's record is not there for this cookie
    other = h.create_customer(globex_owner)
    h.expect_error(req(server, "GET", f"/api/v1/customers/{other['id']}", headers=cookie(token)), 404, "not_found")


def test_sign_out_needs_the_csrf_token_and_ends_the_session(server):
    token, csrf, _ = sign_in(server)
    h.expect_error(req(server, "DELETE", "/api/v1/console/session", headers=cookie(token)), 403, "forbidden")
    h.ok(req(server, "GET", "/api/v1/auth/me", headers=cookie(token)))
    r = req(server, "DELETE", "/api/v1/console/session", headers={**cookie(token), "X-CSRF-Token": csrf})
    assert h.ok(r) == {"status": "logged_out"}
    assert "ob_console=;" in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]
    h.expect_error(req(server, "GET", "/api/v1/auth/me", headers=cookie(token)), 401, "unauthenticated")
    assert h.ok(req(server, "GET", "/api/v1/console/session", headers=cookie(token))) == {"signed_in": False}
    h.expect_error(req(server, "DELETE", "/api/v1/console/session"), 401, "unauthenticated")


# ---- the schema ------------------------------------------------------------------

def test_schema_is_served_to_signed_in_users(server, opsbase_bin, acme_viewer):
    h.expect_error(req(server, "GET", "/api/v1/schema"), 401, "unauthenticated")
    r = acme_viewer.get("/api/v1/schema")
    body = h.ok(r)
    cli = subprocess.run([str(opsbase_bin), "schema", "--json"], capture_output=True, check=True, timeout=60)
    assert r.content.strip() == cli.stdout.strip()
    assert {t["name"] for t in body["tables"]} >= {"customers", "tickets", "audit_logs"}
    assert r.headers["cache-control"] == "private, no-cache"
    again = acme_viewer.get("/api/v1/schema", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    token, _, _ = sign_in(server)
    assert h.ok(req(server, "GET", "/api/v1/schema", headers=cookie(token)))["version"] == body["version"]
    h.expect_error(acme_viewer.post("/api/v1/schema", json={}), 405, "method_not_allowed")
