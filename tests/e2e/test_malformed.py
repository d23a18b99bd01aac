"""Malformed request bodies: each is refused, writes nothing, and the server
keeps serving afterwards."""
import json

import pytest

import helpers as h

JSON_CT = {"Content-Type": "application/json"}


def _post_raw(client, body, headers=None):
    return client.post("/api/v1/customers", content=body, headers=headers or JSON_CT)


def _assert_absent(client, *codes):
    for code in codes:
        assert h.rows_where(client, "customers", customer_code=code) == [], code


def _assert_alive(anon):
    assert h.ok(anon.get("/healthz")) == {"status": "ok"}


def test_invalid_json(acme_owner, anon):
    code = h.uniq("BADJ-")
    for body in (b'{"customer_code": "' + code.encode() + b'"',
                 b'{"customer_code": "' + code.encode() + b'",}',
                 b"{customer_code: 1}",
                 b"\xff\xfe{}",
                 b'{"customer_code": "' + code.encode() + b'"} trailing'):
        h.expect_error(_post_raw(acme_owner, body), 400, "invalid_json")
    _assert_absent(acme_owner, code)
    _assert_alive(anon)


@pytest.mark.parametrize("doc", ["array", "string", "number", "null"])
def test_body_not_an_object(acme_owner, anon, doc):
    code = h.uniq("ARR-")
    body = {"array": [{"customer_code": code}], "string": code, "number": 5, "null": None}[doc]
    h.expect_error(_post_raw(acme_owner, json.dumps(body).encode()), 400, "invalid_json")
    _assert_absent(acme_owner, code)
    _assert_alive(anon)


def test_deeply_nested_json(acme_owner, anon):
    code = h.uniq("DEEP-")
    nested = "1"
    for _ in range(100):
        nested = '{"a":' + nested + "}"
    body = '{"customer_code":"' + code + '","notes":' + nested + "}"
    h.expect_error(_post_raw(acme_owner, body.encode()), 400, "invalid_json")
    arrays = '{"customer_code":"' + code + '","notes":' + "[" * 100 + "]" * 100 + "}"
    h.expect_error(_post_raw(acme_owner, arrays.encode()), 400, "invalid_json")
    _assert_absent(acme_owner, code)
    _assert_alive(anon)


def test_very_deep_nesting_does_not_crash(acme_owner, anon):
    body = ("[" * 100000 + "]" * 100000).encode()
    h.expect_error(_post_raw(acme_owner, body), 400, "invalid_json")
    _assert_alive(anon)


def test_duplicate_keys(acme_owner, anon):
    a, b = h.uniq("DUPA-"), h.uniq("DUPB-")
    body = '{"customer_code":"' + a + '","customer_code":"' + b + '"}'
    h.expect_error(_post_raw(acme_owner, body.encode()), 400, "invalid_json")
    _assert_absent(acme_owner, a, b)
    # On PATCH too.
    c = h.create_customer(acme_owner)
    r = acme_owner.patch(f"/api/v1/customers/{c['id']}",
                         content=b'{"notes":"one","notes":"two"}', headers=JSON_CT)
    h.expect_error(r, 400, "invalid_json")
    assert h.get(acme_owner, "customers", c["id"]) == c
    _assert_alive(anon)


def test_nul_in_string(acme_owner, anon):
    code = h.uniq("NUL-")
    body = '{"customer_code":"' + code + '","company_name":"a\\u0000b"}'
    h.expect_error(_post_raw(acme_owner, body.encode()), 400, "invalid_json")
    _assert_absent(acme_owner, code)
    _assert_alive(anon)


def test_integer_out_of_range(acme_owner, anon):
    code = h.uniq("BIG-")
    body = '{"customer_code":"' + code + '","payment_terms":123456789012345678901234567890}'
    r = _post_raw(acme_owner, body.encode())
    assert r.status_code == 400, h.show(r)
    assert h.assert_json(r)["error"]["code"] in ("invalid_json", "validation_failed")
    _assert_absent(acme_owner, code)
    _assert_alive(anon)


def test_body_over_one_mib(server, acme_owner, anon):
    """A raw socket: the server may answer 413 and close before reading the whole
    body, which makes ordinary clients fail on write; the answer must still arrive."""
    code = h.uniq("HUGE-")
    body = json.dumps({"customer_code": code, "notes": "x" * (1024 * 1024 + 100)}).encode()
    status, headers, payload = h.raw_request(server.url, "POST", "/api/v1/customers", {
        "Authorization": f"Bearer {acme_owner.token}", "Content-Type": "application/json"}, body)
    assert status == 413, (status, payload[:300])
    assert headers.get("content-type", "").startswith("application/json")
    assert json.loads(payload)["error"]["code"] == "payload_too_large"
    _assert_absent(acme_owner, code)
    _assert_alive(anon)


def test_declared_length_over_limit(server, acme_owner, anon):
    """Refused from the Content-Length alone, before any body byte is sent."""
    status, _, payload = h.raw_request(server.url, "POST", "/api/v1/customers", {
        "Authorization": f"Bearer {acme_owner.token}", "Content-Type": "application/json",
        "Content-Length": str(50 * 1024 * 1024), "Expect": "100-continue"}, b"")
    assert status == 413, (status, payload[:300])
    assert json.loads(payload)["error"]["code"] == "payload_too_large"
    _assert_alive(anon)


def test_body_just_under_limit_is_not_413(acme_owner):
    code = h.uniq("NEAR-")
    body = json.dumps({"customer_code": code, "notes": "y" * (1024 * 1024 - 200)}).encode()
    r = _post_raw(acme_owner, body)
    assert r.status_code != 413, h.show(r)
    h.assert_json(r)


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "application/xml", None])
def test_wrong_content_type(acme_owner, anon, ctype):
    code = h.uniq("CT-")
    headers = {"Content-Type": ctype} if ctype else {}
    body = json.dumps({"customer_code": code}).encode()
    h.expect_error(acme_owner.post("/api/v1/customers", content=body, headers=headers),
                   415, "unsupported_media_type")
    _assert_absent(acme_owner, code)
    _assert_alive(anon)


def test_content_type_with_charset_is_json(acme_owner):
    code = h.uniq("CS-")
    r = acme_owner.post("/api/v1/customers", content=json.dumps({"customer_code": code}).encode(),
                        headers={"Content-Type": "application/json; charset=utf-8"})
    h.ok(r, 201)


def test_wrong_content_type_on_patch(acme_owner):
    c = h.create_customer(acme_owner)
    r = acme_owner.patch(f"/api/v1/customers/{c['id']}", content=b'{"notes":"x"}',
                         headers={"Content-Type": "text/plain"})
    h.expect_error(r, 415, "unsupported_media_type")
    assert h.get(acme_owner, "customers", c["id"]) == c


def test_empty_body(acme_owner, anon):
    h.expect_error(_post_raw(acme_owner, b""), 400, "invalid_json")
    c = h.create_customer(acme_owner)
    r = acme_owner.patch(f"/api/v1/customers/{c['id']}", content=b"", headers=JSON_CT)
    h.expect_error(r, 400, "invalid_json")
    assert h.get(acme_owner, "customers", c["id"]) == c
    _assert_alive(anon)


def test_bad_query_string(acme_owner):
    r = acme_owner.get("/api/v1/customers?limit=%zz")
    assert r.status_code == 400, h.show(r)
    assert h.assert_json(r)["error"]["code"] in ("bad_request", "invalid_query")


def test_server_still_serves_after_abuse(acme_owner, anon):
    _assert_alive(anon)
    c = h.create_customer(acme_owner)
    assert h.get(acme_owner, "customers", c["id"])["id"] == c["id"]
