#!/usr/bin/env python3
"""Data exchange (issue #12): upload throughput, an export of many rows (time
and the server's peak RSS during it) and an import of many rows, against one
`opsbase serve` on SQLite that this script starts and stops (by pid).

  uploads  BENCH_UPLOADS files of BENCH_UPLOAD_KB KiB each (distinct
           text/plain content, raw bodies), one after another: MB/s, files/s
  export   BENCH_EXPORT_ROWS customers (written straight into the tenant's
           SQLite file) as CSV: seconds, rows/s, bytes, and the server's peak
           RSS during the export (VmHWM, reset just before it) against its RSS
           before
  import   BENCH_IMPORT_ROWS customers as CSV through POST .../import
           (dry_run=false: one transaction): seconds, rows/s; then the same
           count through `opsbase import` into a second tenant

usage: bench/exchange.py OPSBASE_BINARY
env:   BENCH_SMALL=1 (a moment: bench-smoke), BENCH_WORK (build-release/bench-exchange),
       BENCH_PORT (18320)"""
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid

import httpx

SMALL = os.environ.get("BENCH_SMALL") == "1"
UPLOADS = int(os.environ.get("BENCH_UPLOADS", "10" if SMALL else "200"))
UPLOAD_KB = int(os.environ.get("BENCH_UPLOAD_KB", "64" if SMALL else "1024"))
EXPORT_ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "2000" if SMALL else "100000"))
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "1000" if SMALL else "20000"))
PORT = int(os.environ.get("BENCH_PORT", "18320"))
PASSWORD = "Bench-pass-123!"

binary = os.path.abspath(sys.argv[1])
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
work = os.environ.get("BENCH_WORK", os.path.join(root, "build-release", "bench-exchange"))
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
data = os.path.join(work, "data")


def run(*argv):
    t = time.monotonic()
    r = subprocess.run([binary, *argv, "--data", data], capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        sys.exit(f"exchange: {' '.join(argv[:2])} failed: {r.stderr.strip()[-500:]}")
    return time.monotonic() - t, r


def rss_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


for slug in ("ex", "ex2"):
    run("tenant", "create", slug, "--plan", "business", "--owner-email", f"o@{slug}.test", "--owner-password",
        PASSWORD)
db = sqlite3.connect(os.path.join(data, "tenants", "ex.db"))
now = "2026-01-01T00:00:00.000Z"
with db:
    for start in range(0, EXPORT_ROWS, 10000):
        db.executemany(
            "INSERT INTO customers (id, created_at, updated_at, version, customer_code, name, email, company_name, "
            "notes) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)",
            ((str(uuid.uuid4()), now, now, f"B{i:09d}", f"Customer {i}", f"c{i}@ex.test", f"Company {i}",
              "a note of some length, " * 4) for i in range(start, min(start + 10000, EXPORT_ROWS))))
db.close()

log = open(os.path.join(work, "server.log"), "wb")
srv = subprocess.Popen([binary, "serve", "--data", data, "--listen", f"127.0.0.1:{PORT}",
                        "--body-limit", str(64 << 20), "--log-level", "warn"],
                       stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
try:
    base = f"http://127.0.0.1:{PORT}"
    for _ in range(200):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    c = httpx.Client(base_url=base, timeout=600)
    tok = c.post("/api/v1/auth/login", json={"tenant": "ex", "email": "o@ex.test", "password": PASSWORD}).json()
    c.headers["Authorization"] = f"Bearer {tok['token']}"
    s = c.get("/api/v1/security_settings").json()["data"][0]
    r = c.patch(f"/api/v1/security_settings/{s['id']}",
                json={"max_export_rows": EXPORT_ROWS + 1, "require_approval_threshold": None,
                      "max_exports_per_day": 1000})
    assert r.status_code == 200, r.text

    # uploads
    chunk = (b"opsbase exchange benchmark line of text\n" * 1024)[: UPLOAD_KB * 1024]
    t = time.monotonic()
    for i in range(UPLOADS):
        body = f"file {i} {uuid.uuid4()}\n".encode() + chunk
        r = c.post("/api/v1/files", content=body,
                   headers={"Content-Type": "text/plain", "Content-Disposition": f'attachment; filename="f{i}.txt"'})
        assert r.status_code == 201, r.text
    dt = time.monotonic() - t
    mb = UPLOADS * UPLOAD_KB / 1024
    print(f"UPLOAD files {UPLOADS} size_kb {UPLOAD_KB} seconds {dt:.2f} mb_s {mb / dt:.1f} files_s {UPLOADS / dt:.1f}")

    # export
    before = rss_kb(srv.pid, "VmRSS")
    with open(f"/proc/{srv.pid}/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    t = time.monotonic()
    size = 0
    with c.stream("GET", "/api/v1/customers/export", params={"format": "csv"}) as r:
        assert r.status_code == 200, r.read()
        for part in r.iter_bytes():
            size += len(part)
        rows = int(r.headers["x-export-rows"])
    dt = time.monotonic() - t
    peak = rss_kb(srv.pid, "VmHWM")
    assert rows == EXPORT_ROWS, rows
    print(f"EXPORT rows {rows} seconds {dt:.2f} rows_s {rows / dt:,.0f} bytes {size} "
          f"rss_before_mb {before / 1024:.1f} peak_rss_mb {peak / 1024:.1f}")

    # import, through the API
    lines = ["company_name,customer_code,email,payment_terms,credit_limit"]
    lines += [f"Imported {i},I{i:09d},i{i}@ex.test,{i % 90},{i % 1000}.50" for i in range(IMPORT_ROWS)]
    csv_body = ("\n".join(lines) + "\n").encode()
    t = time.monotonic()
    r = c.post("/api/v1/customers/import", params={"dry_run": "false"}, content=csv_body,
               headers={"Content-Type": "text/csv"})
    dt = time.monotonic() - t
    assert r.status_code == 201 and r.json()["imported"] == IMPORT_ROWS, r.text[:500]
    print(f"IMPORT api rows {IMPORT_ROWS} bytes {len(csv_body)} seconds {dt:.2f} rows_s {IMPORT_ROWS / dt:,.0f}")
    c.close()
finally:
    os.killpg(srv.pid, signal.SIGTERM)
    try:
        srv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(srv.pid, signal.SIGKILL)
        srv.wait()
    log.close()

# import, through the CLI (no server: the CLI takes the tenant's writer itself)
path = os.path.join(work, "import.csv")
with open(path, "wb") as f:
    f.write(csv_body)
dt, r = run("import", "--tenant", "ex2", "--table", "customers", path)
assert f"{IMPORT_ROWS} imported" in r.stdout, r.stdout
print(f"IMPORT cli rows {IMPORT_ROWS} seconds {dt:.2f} rows_s {IMPORT_ROWS / dt:,.0f}")
