"""Probes, the OpenAPI document, unknown routes and the JSON content type."""
import json

import helpers as h


def test_healthz(anon):
    assert h.ok(anon.get("/healthz")) == {"status": "ok"}


def test_readyz(anon):
    body = h.ok(anon.get("/readyz"))
    assert body["status"] == "ready" and set(body["checks"]) == {"database", "jobs", "disk"}


def test_openapi_document(anon):
    r = anon.get("/api/openapi.json")
    doc = h.ok(r)
    # Also valid JSON as raw text, not just as httpx parses it.
    json.loads(r.text)
    assert isinstance(doc.get("openapi"), str) and doc["openapi"].startswith("3.1"), doc.get("openapi")
    paths = doc.get("paths")
    assert isinstance(paths, dict)
    assert "/api/v1/customers" in paths
    assert "/api/v1/tickets/{id}" in paths
    assert "get" in paths["/api/v1/customers"] and "post" in paths["/api/v1/customers"]


def test_unknown_route_without_auth(anon):
    h.expect_error(anon.get("/no/such/route"), 404, "no_route")


def test_unknown_api_route(acme_owner):
    h.expect_error(acme_owner.get("/api/v1/no_such_table"), 404, "no_route")
    h.expect_error(acme_owner.get("/api/v2/customers"), 404, "no_route")


def test_wrong_method_on_known_path(acme_owner):
    h.expect_error(acme_owner.put("/api/v1/customers", json={}), 405, "method_not_allowed")


def test_every_response_is_json(anon, acme_owner, acme_viewer):
    """A spread of statuses; each must carry Content-Type application/json."""
    c = h.create_customer(acme_owner)
    responses = [
        anon.get("/healthz"),
        anon.get("/readyz"),
        anon.get("/api/openapi.json"),
        anon.get("/nowhere"),                                              # 404 no_route
        anon.get("/api/v1/customers"),                                     # 401
        anon.post("/api/v1/auth/login", json={"tenant": "acme", "email": "x@y.z",
                                               "password": "nope"}),     # 401
        acme_owner.get("/api/v1/customers", params={"limit": "1"}),        # 200 list
        acme_owner.get(f"/api/v1/customers/{c['id']}"),                    # 200 record
        acme_owner.get(f"/api/v1/customers/{h.MISSING_ID}"),               # 404
        acme_owner.post("/api/v1/customers", json={"nope": 1}),            # 400
        acme_owner.post("/api/v1/customers", content=b"x",
                        headers={"Content-Type": "text/plain"}),          # 415
        acme_owner.post("/api/v1/audit_logs", json={}),                    # 405
        acme_viewer.post("/api/v1/customers", json={"customer_code": h.uniq()}),  # 403
        acme_owner.delete(f"/api/v1/customers/{c['id']}"),                 # 200
    ]
    for r in responses:
        h.assert_json(r)


def test_keep_alive_holds(server):
    """Several requests on one connection each get their answer (the server does
    not close after the first)."""
    import socket
    import urllib.parse

    u = urllib.parse.urlsplit(server.url)
    req = f"GET /healthz HTTP/1.1\r\nHost: {u.netloc}\r\n\r\n".encode()
    with socket.create_connection((u.hostname, u.port), timeout=5) as s:
        for _ in range(3):
            s.sendall(req)
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                chunk = s.recv(4096)
                assert chunk, "connection closed after a keep-alive request"
                data += chunk
            assert data.startswith(b"HTTP/1.1 200"), data[:100]
            assert b"connection: close" not in data.lower()
