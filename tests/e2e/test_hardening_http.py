"""HTTP-layer hardening, each test named after the defect it guards against.

Raw sockets throughout: ordinary clients normalise exactly what these tests
send (whitespace before a header colon, an encoded '/', a body that never
ends). The tests of the request-head deadline and the per-address cap run
against a second `opsbase serve` of their own (the `strict` fixture) with a
one-second head deadline, a small per-address cap and a small body limit, so
they finish in seconds; it answers only /healthz, so it needs no tenants.
"""
import json
import signal
import socket
import subprocess
import time
import urllib.parse

import httpx
import pytest

import helpers as h

HEAD_TIMEOUT_S = 1          # the strict server's --header-timeout
PER_IP = 4                  # its --max-conns-per-ip
BODY_LIMIT = 1024           # its --body-limit
DRAIN_FACTOR = 16           # a refused body is read up to this many times the limit
OTHER_ADDRESS = "127.0.0.2"  # another client address on the loopback interface


def _addr(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def _connect(url, source=None, timeout=5.0):
    s = socket.create_connection(_addr(url), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _read_all(s, timeout=5.0):
    """Everything the server sends until it closes; raises on timeout, since
    every case here expects the server to close."""
    s.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def _responses(data):
    """(status, headers, body) of each response in data, framed by Content-Length."""
    out = []
    while data:
        assert b"\r\n\r\n" in data, f"incomplete response: {data[:200]!r}"
        top, rest = data.split(b"\r\n\r\n", 1)
        lines = top.decode("latin-1").split("\r\n")
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        out.append((int(lines[0].split()[1]), hdrs, rest[:n]))
        data = rest[n:]
    return out


def _exchange(url, raw, source=None):
    """Send raw bytes, read until the server closes, return the responses."""
    with _connect(url, source) as s:
        s.sendall(raw)
        return _responses(_read_all(s))


def _healthy(url, source=None):
    rs = _exchange(url, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", source)
    return len(rs) == 1 and rs[0][0] == 200


def _error_code(body):
    return json.loads(body)["error"]["code"]


@pytest.fixture(scope="module")
def strict(opsbase_bin, tmp_path_factory):
    """An `opsbase serve` with short limits; yields its URL."""
    base = tmp_path_factory.mktemp("strict")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    err_path = base / "serve.stderr"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(
            [str(opsbase_bin), "serve", "--data", str(base / "data"), "--listen", f"127.0.0.1:{port}",
             "--header-timeout", str(HEAD_TIMEOUT_S), "--timeout", "30",
             "--max-conns-per-ip", str(PER_IP), "--body-limit", str(BODY_LIMIT)],
            stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
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


def _wait_slots_free(url, timeout=5.0):
    """Connections closed by an earlier test leave the server's books a moment
    later; wait until this address is served again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if _healthy(url):
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "127.0.0.1 is not served again"
        time.sleep(0.1)


# ---- 12: whitespace between a header name and its colon ----------------------

@pytest.mark.parametrize("line", [
    b"Host : t",                   # space before the colon
    b"X-Request-Id\t: abc",        # tab before the colon
    b"X Request-Id: abc",          # space inside the name
])
def test_whitespace_before_header_colon_is_400(server, line):
    """libmicrohttpd kept the whitespace in the name and served the request, so
    a proxy and opsbase could disagree about which headers a request has."""
    host = b"" if line.startswith(b"Host") else b"Host: t\r\n"
    rs = _exchange(server.url, b"GET /healthz HTTP/1.1\r\n" + host + line + b"\r\n\r\n")
    assert len(rs) == 1, rs
    status, hdrs, body = rs[0]
    assert status == 400, rs
    assert hdrs["content-type"].startswith("application/json")
    assert _error_code(body) == "bad_request"
    assert hdrs.get("connection", "").lower() == "close"


def test_whitespace_before_content_length_colon_cannot_smuggle(server):
    """'Content-Length : N' was not a Content-Length to opsbase: the body was
    read as a second request on the same connection. Now: one 400, then close."""
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
    raw = (b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length : " + str(len(smuggled)).encode()
           + b"\r\n\r\n" + smuggled)
    rs = _exchange(server.url, raw)
    assert [r[0] for r in rs] == [400], rs
    assert _error_code(rs[0][2]) == "bad_request"
    # Same with a Transfer-Encoding the proxy would honour.
    raw = (b"POST /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n"
           b"0\r\n\r\n" + smuggled)
    rs = _exchange(server.url, raw)
    assert [r[0] for r in rs] == [400], rs
    assert _healthy(server.url)


def test_header_names_without_whitespace_still_work(server):
    rs = _exchange(server.url, b"GET /healthz HTTP/1.1\r\nHost:t\r\nX-Request-Id:hard-12\r\n"
                               b"Connection: close\r\n\r\n")
    assert rs[0][0] == 200, rs
    assert rs[0][1]["x-request-id"] == "hard-12"


# ---- 15: an encoded '/' in the path ------------------------------------------------

def _get(server, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, _, body = h.raw_request(server.url, "GET", path, headers, b"")
    return status, body


def test_encoded_slash_is_not_a_path_separator(server, acme_owner):
    """The path was decoded before it was split, so %2F became a separator:
    /api/v1%2Ftickets listed tickets and /api%2Fopenapi.json served the
    document. Now each segment is decoded on its own and %2F is data."""
    cust = h.create_customer(acme_owner)
    ticket = h.create_ticket(acme_owner, cust["id"])
    status, _ = _get(server, "/api/v1/tickets", acme_owner.token)
    assert status == 200
    status, _ = _get(server, f"/api/v1/tickets/{ticket['id']}", acme_owner.token)
    assert status == 200

    for path in ["/api/v1%2Ftickets", "/api/v1%2ftickets", "/api%2Fv1%2Ftickets",
                 f"/api/v1/tickets%2F{ticket['id']}", "/api/v1/tickets%2Fx",
                 f"/api/v1/customers/{cust['id']}%2Fx", "/api%2Fopenapi.json",
                 "/api/v1/auth%2Fme"]:
        status, body = _get(server, path, acme_owner.token)
        assert status == 404, (path, status, body[:200])
        assert _error_code(body) in ("no_route", "not_found"), (path, body[:200])


def test_encoded_slash_is_404_without_a_token(server):
    status, body = _get(server, "/api/v1%2Ftickets")
    assert status == 404, body[:200]
    assert _error_code(body) == "no_route"


def test_other_escapes_in_the_path_still_decode(server, acme_owner):
    cust = h.create_customer(acme_owner)
    status, body = _get(server, "/api/v1/%63ustomers/" + cust["id"], acme_owner.token)
    assert status == 200, body[:200]
    assert json.loads(body)["id"] == cust["id"]
