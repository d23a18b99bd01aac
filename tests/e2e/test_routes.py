"""The route table and the gate (issue #10, section 1).

`opsbase routes` prints the one route table; the OpenAPI document's operations
are exactly its rows, and every row answers (never 404 no_route or 405). The
gate runs its checks in one order before any handler: authentication, tenant,
feature (403 feature_disabled), permission (403 forbidden), rate limit (429
rate_limited with Retry-After), then the declared input (400)."""
import json
import signal
import socket
import subprocess
import time

import httpx
import pytest

import helpers as h
import platform_helpers as ph
from platform_helpers import platform_admin  # noqa: F401 (a fixture)

API = "/api/v1"
METHODS = ("get", "post", "patch", "delete")


@pytest.fixture(scope="module")
def routes(opsbase_bin):
    r = subprocess.run([str(opsbase_bin), "routes"], capture_output=True, text=True,
                       timeout=h.CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["routes"]


@pytest.fixture(scope="module")
def doc(anon):
    return h.ok(anon.get("/api/openapi.json"))


def _operations(doc):
    return {(m.upper(), path): op for path, item in doc["paths"].items()
            for m, op in item.items() if m in METHODS}


# ---- route table == OpenAPI operations == what answers ---------------------

def test_route_table_is_the_openapi_operations(routes, doc, opsbase_bin):
    ops = _operations(doc)
    keys = [(r["method"], r["path"]) for r in routes]
    assert len(keys) == len(set(keys)), "a method and path twice in the table"
    assert set(keys) == set(ops)
    for r in routes:
        op = ops[(r["method"], r["path"])]
        assert op["operationId"] == r["operation_id"]
        assert op.get("x-permission") == r["permission"], r
        assert op.get("x-feature") == r["feature"], r
        assert op.get("x-rate-class", "none") == r["rate_class"], r
        assert (op["security"] == [{"bearer": []}]) == (r["auth"] == "bearer"), r
        assert ("429" in op["responses"]) == (r["rate_class"] != "none"), r
    # every declared table with an API has its generic rows, and every event
    # and action of the registry is a row of its own
    by_key = {(r["method"], r["path"]): r for r in routes}
    schema = json.loads(subprocess.run([str(opsbase_bin), "schema", "--json"], capture_output=True,
                                       text=True, timeout=h.CLI_TIMEOUT, check=True).stdout)
    verbs = 0
    for t in schema["tables"]:
        if not t["api"] or t["database"] != "tenant":
            continue
        name = t["name"]
        assert ("GET", f"{API}/{name}") in keys and ("GET", f"{API}/{name}/{{id}}") in keys, name
        for m in t["methods"]["collection"]:
            assert (m, f"{API}/{name}") in keys, (name, m)
        for m in t["methods"]["record"]:
            assert (m, f"{API}/{name}/{{id}}") in keys, (name, m)
        declared = {a["verb"]: a["permission"] for a in t.get("actions", [])}
        for tr in (t.get("state_machine") or {}).get("transitions", []):
            declared.setdefault(tr["event"], tr["permission"])
        for verb, perm in declared.items():
            row = by_key.get(("POST", f"{API}/{name}/{{id}}/{verb}"))
            assert row and row["permission"] == perm, (name, verb, row)
            verbs += 1
    assert verbs > 20
    # tables of uploads, and records made from them, have their content route
    uploads = [t["name"] for t in schema["tables"] if t.get("content")]
    assert "files" in uploads and "customer_documents" in uploads
    for name in uploads:
        assert ("GET", f"{API}/{name}/{{id}}/content") in keys, name
    # and the files made from them (a thumbnail) theirs
    variants = [(t["name"], v) for t in schema["tables"] for v in t.get("variants", [])]
    assert ("images", "thumbnail") in variants
    for name, v in variants:
        assert by_key[("GET", f"{API}/{name}/{{id}}/{v}")]["permission"] == by_key[("GET", f"{API}/{name}/{{id}}")]["permission"]
    # figures read from a record (a widget's data) are read like the record
    views = [(t["name"], v) for t in schema["tables"] for v in t.get("views", [])]
    assert ("dashboard_widgets", "data") in views
    for name, v in views:
        assert by_key[("GET", f"{API}/{name}/{{id}}/{v}")]["permission"] == by_key[("GET", f"{API}/{name}/{{id}}")]["permission"]
    # tables that take creates take imports too (issue #12), upload tables excepted
    for t in schema["tables"]:
        if t["api"] and t["database"] == "tenant":
            takes = "POST" in t["methods"]["collection"] and not t.get("upload")
            assert (("POST", f"{API}/{t['name']}/import") in keys) == takes, t["name"]
    # and no verb row the registry does not declare (the ONE Record rows, the
    # auth/mfa rows, a ticket's suggestions, an export's one download and a customer's timeline are explicit, not a
    # table's verbs)
    explicit = {("GET", f"{API}/tickets/{{id}}/suggestions"), ("GET", f"{API}/export_logs/{{id}}/download"),
                ("GET", f"{API}/customers/{{id}}/timeline")}
    assert verbs + len(uploads) + len(variants) + len(views) == len([k for k in keys if k[1].startswith(API) and k[1].count("/") == 5
                                                        and not k[1].startswith(f"{API}/one-record/")
                                                        and not k[1].startswith(f"{API}/platform/")
                                                        and not k[1].startswith(f"{API}/auth/")
                                                        and k not in explicit])
    assert len(routes) > 350


def _probe(client, r):
    url = r["path"].replace("{id}", h.MISSING_ID)
    if r["method"] in ("POST", "PATCH"):
        return client.request(r["method"], url, json={})
    if url.endswith("/platform/stats"):
        # an operator's report that visits tenants (docs/api.md: seconds on a large
        # deployment): this session holds a hundred or more, under a sanitizer
        return client.request(r["method"], url, timeout=120)
    if url.endswith("/export"):
        # an export answers a file and logs itself: probe with a format it refuses (400, nothing written)
        return client.request(r["method"], url, params={"format": "probe"})
    return client.request(r["method"], url)


def test_every_route_answers(server, routes, anon, acme_owner, login, platform_admin):
    """Each row is routed: never 404 no_route, never 405, with its auth. A
    probe writes nothing: bodies are empty, ids do not exist."""
    answered = 0
    for r in routes:
        if r["path"] == f"{API}/platform/auth/logout":  # ends only its own session
            client = ph.client(server.url, ph.enrol(server.url, ph.create_admin(server.cli))[0])
        elif r["path"] == f"{API}/auth/logout":
            client = login("acme", "owner@acme.test", h.OWNER_PASSWORD)  # ends only its own session
        else:
            client = {"bearer": acme_owner, "platform": platform_admin}.get(r["auth"], anon)
        resp = _probe(client, r)
        h.assert_json(resp)
        assert resp.status_code != 405, (r, h.show(resp))
        if resp.status_code == 404:
            assert resp.json()["error"]["code"] == "not_found", (r, h.show(resp))
        assert resp.status_code not in (401, 403, 429, 500), (r, h.show(resp))
        answered += 1
    assert answered == len(routes)


def test_a_path_of_no_row_is_404_and_a_method_of_no_row_405(acme_owner, anon):
    h.expect_error(acme_owner.get(f"{API}/no_such_table"), 404, "no_route")
    h.expect_error(acme_owner.post(f"{API}/tickets/{h.MISSING_ID}/no_such_verb", json={}), 404, "no_route")
    h.expect_error(anon.get(f"{API}/tickets/{h.MISSING_ID}/start/more"), 404, "no_route")
    # routing comes before the gate: no token needed to learn a method is wrong
    r = anon.put(f"{API}/tickets")
    h.expect_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET, POST"
    r = anon.get(f"{API}/auth/login")
    h.expect_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "POST"
    assert anon.head("/healthz").status_code == 200


# ---- the gate's order -------------------------------------------------------

def test_feature_disabled_by_plan(tiny_owner, acme_owner, routes, anon):
    """ndr_management is a Professional feature: the free tenant's NDR routes are
    403 feature_disabled, its support desk answers."""
    ndr = [r for r in routes if r["feature"] == "ndr_management"]
    assert {r["path"].split("/")[3] for r in ndr} == {"ndr_records", "ndr_actions", "ndr_remarks", "ndr_rules",
                                                      "ndr_rule_runs"}
    for r in ndr:
        h.expect_error(_probe(tiny_owner, r), 403, "feature_disabled")
    h.ok(acme_owner.get(f"{API}/ndr_records"))
    h.ok(tiny_owner.get(f"{API}/tickets"))
    # authentication comes first
    h.expect_error(anon.get(f"{API}/ndr_records"), 401, "unauthenticated")
    # feature before input: a malformed body is not even read
    r = tiny_owner.post(f"{API}/ndr_records", content=b"{not json", headers={"Content-Type": "application/json"})
    h.expect_error(r, 403, "feature_disabled")
    assert "ndr" in r.json()["error"]["message"]


def test_feature_before_permission(login, cli):
    """A tiny viewer lacks NDR permissions and the tenant lacks the feature:
    the feature is checked first."""
    viewer = login("tiny", "viewer@tiny.test")
    h.expect_error(viewer.post(f"{API}/ndr_records", json={}), 403, "feature_disabled")
    # a feature the plan has: now the permission decides
    h.expect_error(viewer.post(f"{API}/customers", json={}), 403, "forbidden")


def test_permission_before_input(acme_viewer, acme_owner):
    before = h.list_all(acme_owner, "customers")
    r = acme_viewer.post(f"{API}/customers", content=b"{not json", headers={"Content-Type": "application/json"})
    h.expect_error(r, 403, "forbidden")
    assert "customers.create" in r.json()["error"]["message"]
    assert len(h.list_all(acme_owner, "customers")) == len(before)


def test_input_validated_before_the_handler(acme_owner):
    """The declared input is checked by the gate: an action's unknown field is
    400 even on a record that does not exist (the handler never ran)."""
    h.expect_error(acme_owner.post(f"{API}/tickets/{h.MISSING_ID}/assign", json={"bogus": 1}),
                   400, "unknown_field")
    h.expect_error(acme_owner.patch(f"{API}/customers/{h.MISSING_ID}", json={"bogus": 1}), 400, "unknown_field")
    h.expect_error(acme_owner.patch(f"{API}/customers/{h.MISSING_ID}", json={"company_name": "x"}),
                   404, "not_found")
    h.expect_error(acme_owner.get(f"{API}/customers", params={"sort": "no_such_column"}), 400, "invalid_query")
    r = acme_owner.delete(f"{API}/customers/{h.MISSING_ID}", headers={"If-Match": "abc"})
    h.expect_error(r, 400, "bad_request")


# ---- rate limits ------------------------------------------------------------

@pytest.fixture(scope="module")
def limited(server, opsbase_bin, tmp_path_factory):
    """A second server on the same data with tiny budgets: 3 reads, 2 writes
    and 2 sign-ins a minute."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    err_path = tmp_path_factory.mktemp("limited") / "serve.stderr"
    argv = [str(opsbase_bin), "serve", "--data", str(server.data), "--listen", f"127.0.0.1:{port}",
            "--rate-read", "3", "--rate-write", "2", "--rate-auth", "2", "--workers", "0"]
    if server.db_url:
        argv += ["--db", server.db_url]
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + h.WAIT_S
        while True:
            assert proc.poll() is None, f"serve exited with {proc.returncode}\n{h.tail(err_path)}"
            try:
                if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"serve did not start\n{h.tail(err_path)}"
            time.sleep(0.05)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _retry_after(resp, most):
    h.expect_error(resp, 429, "rate_limited")
    ra = int(resp.headers["Retry-After"])
    assert 1 <= ra <= most, ra
    return ra


def test_rate_limits_per_class_and_principal(limited, acme_owner, acme_viewer):
    owner = httpx.Client(base_url=limited, timeout=h.HTTP_TIMEOUT,
                         headers={"Authorization": f"Bearer {acme_owner.token}"})
    viewer = httpx.Client(base_url=limited, timeout=h.HTTP_TIMEOUT,
                          headers={"Authorization": f"Bearer {acme_viewer.token}"})
    with owner, viewer:
        for _ in range(3):
            h.ok(owner.get(f"{API}/customers", params={"limit": "1"}))
        # 3 a minute: one more every 20 s
        _retry_after(owner.get(f"{API}/customers", params={"limit": "1"}), 20)
        _retry_after(owner.get(f"{API}/auth/me"), 20)
        # another principal has a bucket of its own
        h.ok(viewer.get(f"{API}/customers", params={"limit": "1"}))
        # writes are another class; the refused one writes nothing
        before = len(h.list_all(acme_owner, "customers"))
        for _ in range(2):
            h.ok(owner.post(f"{API}/customers", json={"company_name": h.uniq("rate-"),
                                                      "email": h.uniq("r") + "@rate.test"}), 201)
        name = h.uniq("rate-")
        _retry_after(owner.post(f"{API}/customers", json={"company_name": name}), 30)
        after = h.list_all(acme_owner, "customers")
        assert len(after) == before + 2
        assert not [c for c in after if c["company_name"] == name]
        # a refusal by permission takes nothing from the budget: it comes first
        for _ in range(4):
            h.expect_error(viewer.post(f"{API}/customers", json={}), 403, "forbidden")
        # the probes are never limited
        for _ in range(5):
            h.ok(owner.get("/healthz"))


def test_sign_in_rate_per_address(limited):
    body = {"tenant": "acme", "email": "nobody@acme.test", "password": "wrong-password-1"}
    with httpx.Client(base_url=limited, timeout=h.HTTP_TIMEOUT) as c:
        for _ in range(2):
            h.expect_error(c.post(f"{API}/auth/login", json=body), 401, "invalid_credentials")
        _retry_after(c.post(f"{API}/auth/login", json=body), 30)
        # the input is not even read once the budget is spent
        _retry_after(c.post(f"{API}/auth/login", content=b"{", headers={"Content-Type": "application/json"}), 30)
