#!/usr/bin/python3
"""Stock reservations per second (issue #13): POST /api/v1/inventory/ID/reserve
on one hot inventory row and spread over BENCH_ROWS rows (1,000), each against
the engine's bare conditional UPDATE (ceiling.c) on the same table in the same
database, on SQLite and, with BENCH_PG=1 (default when PostgreSQL is installed),
on PostgreSQL. The two run one after the other on the same data, so machine load
hits both; compare the ratio rather than raw figures.

usage: bench/reserve/run.py OPSBASE_BINARY
env:   BENCH_DURATION (s, 5)  BENCH_ROWS (1000)  BENCH_CONNS (16)  BENCH_PG (1|0)
       BENCH_WORK (build-release/bench-reserve)"""
import concurrent.futures
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

BIN = os.path.abspath(sys.argv[1])
DURATION = os.environ.get("BENCH_DURATION", "5")
ROWS = int(os.environ.get("BENCH_ROWS", "1000"))
CONNS = os.environ.get("BENCH_CONNS", "16")
WORK = os.environ.get("BENCH_WORK", os.path.join(ROOT, "build-release", "bench-reserve"))
PASSWORD = "Bench-pass-123!"
# sealed columns need a master key: the benchmark's fixed one (as bench/lib.sh),
# so that `make bench-reserve` / `make bench-jobs` run from a plain shell
os.environ.setdefault("OPSBASE_MASTER_KEY", "62656e63682d6f6e6c79206d6173746572206b65792c206e6f74206120736563")
os.environ.setdefault("OPSBASE_SETTINGS_RATE_LIMITS", "off")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_ceiling():
    out = os.path.join(WORK, "ceiling")
    flags = subprocess.check_output(["pkg-config", "--cflags", "--libs", "sqlite3", "libpq"], text=True).split()
    subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror", "-o", out,
                    os.path.join(HERE, "ceiling.c"), *flags, "-lpthread"], check=True)
    return out


def prepare(db_args, data):
    """A tenant with BENCH_ROWS stocked inventory rows; returns (url, proc, token, ids)."""
    subprocess.run([BIN, "tenant", "create", "bench", "--plan", "enterprise", "--owner-email", "o@bench.test",
                    "--owner-password", PASSWORD, "--data", data, *db_args], check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--data", data, *db_args, "--listen", f"127.0.0.1:{port}",
                             "--log-level", "warn", "--workers", "0", "--rate-read", "0", "--rate-write", "0",
                             "--rate-auth", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    token = httpx.post(url + "/api/v1/auth/login", json={"tenant": "bench", "email": "o@bench.test",
                                                          "password": PASSWORD}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    wh = httpx.post(url + "/api/v1/warehouses", headers=auth, json={"name": "Main"}).json()["id"]

    def one(i):
        with httpx.Client(base_url=url, headers=auth, timeout=30) as c:
            p = c.post("/api/v1/products", json={"sku": f"B{i:06d}", "name": f"Item {i}"}).json()["id"]
            inv = c.post("/api/v1/inventory", json={"product_id": p, "warehouse_id": wh}).json()["id"]
            r = c.post(f"/api/v1/inventory/{inv}/adjust", json={"quantity": 100000000, "reason": "bench stock"})
            assert r.status_code == 200, r.text
            return inv

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        ids = list(ex.map(one, range(ROWS)))
    return url, proc, token, ids


def wrk(url, token, idfile):
    env = dict(os.environ, BENCH_TOKEN=token, BENCH_FILE=idfile)
    out = subprocess.run(["wrk", "-t2", f"-c{CONNS}", f"-d{DURATION}s", "-s", os.path.join(HERE, "reserve.lua"), url],
                         env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(r"BENCH rps=([\d.]+) p50=(\d+) p99=(\d+) errors=(\d+)", out)
    return float(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4))


def ceiling(exe, target, idfile):
    out = subprocess.run([exe, *target, "--ids", idfile, "--threads", "2", "--seconds", DURATION],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"ops_per_s=([\d.]+)", out).group(1))


def engine_run(name, exe, db_args, target_of):
    data = os.path.join(WORK, name)
    shutil.rmtree(data, ignore_errors=True)
    url, proc, token, ids = prepare(db_args, data)
    hot, many = os.path.join(WORK, f"{name}-hot.txt"), os.path.join(WORK, f"{name}-many.txt")
    with open(hot, "w") as f:
        f.write(ids[0] + "\n")
    with open(many, "w") as f:
        f.write("\n".join(ids) + "\n")
    rows = []
    try:
        for case, idfile in (("hot row", hot), (f"{ROWS} rows", many)):
            rps, p50, p99, errors = wrk(url, token, idfile)
            proc.send_signal(15)
            proc.wait()
            ceil = ceiling(exe, target_of(data), idfile)
            rows.append((name, case, rps, ceil, p50, p99, errors))
            port = url.rsplit(":", 1)[1]
            proc = subprocess.Popen([BIN, "serve", "--data", data, *db_args, "--listen", f"127.0.0.1:{port}",
                                     "--log-level", "warn", "--workers", "0", "--rate-read", "0", "--rate-write",
                                     "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
    finally:
        proc.send_signal(15)
        proc.wait()
    return rows


def main():
    os.makedirs(WORK, exist_ok=True)
    exe = build_ceiling()
    rows = engine_run("sqlite", exe, [], lambda data: ["--sqlite", os.path.join(data, "tenants", "bench.db")])
    want_pg = os.environ.get("BENCH_PG", "1") == "1"
    if want_pg:
        from conftest import PgServer, _pg_available
        if _pg_available():
            pg = PgServer()
            try:
                pg.init().start()
                pg.create_db()
                rows += engine_run("postgres", exe, ["--db", pg.url],
                                   lambda data: ["--pg", pg.url, "--schema", "tenant_bench"])
            finally:
                pg.destroy()
    print(f"{'engine':10} {'case':12} {'opsbase req/s':>14} {'ceiling ops/s':>14} {'ratio':>6} {'p50 us':>8} "
          f"{'p99 us':>8} {'errors':>6}")
    for name, case, rps, ceil, p50, p99, errors in rows:
        print(f"{name:10} {case:12} {rps:14.0f} {ceil:14.0f} {rps / ceil:6.2f} {p50:8d} {p99:8d} {errors:6d}")


if __name__ == "__main__":
    main()
