"""Shared helpers of the reliability tests (beside tests/e2e/helpers.py)."""
import json
import os
import re
import socket
import sqlite3
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def error_statuses():
    """wire code -> HTTP status, from src/base/errcodes.def (the source of docs/api.md's table)."""
    text = (REPO_ROOT / "src" / "base" / "errcodes.def").read_text()
    out = {}
    for m in re.finditer(r'^OB_ERR\(\s*\w+\s*,\s*(\d+)\s*,\s*"([a-z_]+)"', text, re.M):
        out[m.group(2)] = int(m.group(1))
    return out


ERRORS = error_statuses()
CLIENT_ERRORS = {s for s in ERRORS.values() if 400 <= s < 500}


def check_error(status, headers, body, what):
    """A 4xx from the error table with the documented JSON error body."""
    assert status in CLIENT_ERRORS, f"{what}: status {status} {body[:300]!r}"
    ctype = headers.get("content-type", "")
    assert ctype.split(";")[0].strip().lower() == "application/json", f"{what}: Content-Type {ctype!r}"
    doc = json.loads(body)
    e = doc["error"]
    assert isinstance(e.get("message"), str) and e["message"], f"{what}: {body[:300]!r}"
    assert ERRORS.get(e.get("code")) == status, f"{what}: code {e.get('code')} with status {status}"
    return e


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


# Tables the job worker writes on its own clock: a schedule falling due queues
# jobs and advances the schedule row whatever a test's requests do, so "nothing
# written" cannot be asked of them. The database's one full-text table (ob_fts
# and its shadow tables) holds schedules' entries among every other table's:
# it is left out too, a write to a searchable table shows in that table.
BACKGROUND = ("jobs", "schedules")


def background(name):
    return name in BACKGROUND or name.startswith("ob_fts")


def row_counts(db_path):
    """Rows per table of one SQLite database, read-only. Audit rows of reads
    (action `read`: GETs of personal data, written after their responses) are
    left out: they record reads, and "nothing written" is about writes. So are
    the job worker's own tables (BACKGROUND)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
            if not background(r[0])]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"' +
                               (" WHERE action <> 'read'" if n == "audit_logs" else "")).fetchone()[0]
                for n in names}
    finally:
        con.close()


def raw(url, data, timeout=10.0, read_all=True):
    """Send raw bytes; return (status or None, lower-cased headers, body bytes).
    None when the server closed without an HTTP answer."""
    host, port = url.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        buf = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
                if b"\r\n\r\n" in buf:
                    top, rest = buf.split(b"\r\n\r\n", 1)
                    m = re.search(rb"(?im)^content-length:\s*(\d+)", top)
                    if m and len(rest) >= int(m.group(1)):
                        break
        except (socket.timeout, ConnectionResetError):
            pass
    if not buf.startswith(b"HTTP/") or b"\r\n\r\n" not in buf:
        return None, {}, buf
    top, rest = buf.split(b"\r\n\r\n", 1)
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    if "content-length" in hdrs:
        rest = rest[:int(hdrs["content-length"])]
    return status, hdrs, rest


def request_bytes(method, target, headers, body=b"", host="127.0.0.1"):
    if isinstance(body, str):
        body = body.encode()
    if isinstance(target, str):
        target = target.encode("latin-1")
    head = method.encode("latin-1") + b" " + target + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n"
    names = {(k.decode("latin-1") if isinstance(k, bytes) else k).lower() for k, _ in headers}
    if body and not names & {"content-length", "transfer-encoding"}:
        headers = list(headers) + [("Content-Length", str(len(body)))]
    for k, v in headers:
        kb = k if isinstance(k, bytes) else k.encode("latin-1")
        vb = v if isinstance(v, bytes) else v.encode("latin-1")
        head += kb + b": " + vb + b"\r\n"
    return head + b"\r\n" + body
