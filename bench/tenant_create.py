#!/usr/bin/env python3
"""A/B of `opsbase tenant create` for two binaries, runs interleaved (A B, then
B A, ...) so that load from other work hits both alike; medians printed.

    bench/tenant_create.py OLD_BINARY NEW_BINARY --pg postgres://USER@HOST:PORT/ [--runs N] [--work DIR]

Per engine and binary: the wall time of a whole `tenant create` (the owner's
password hash included); on PostgreSQL also the CPU time (user + system) the
server's backend spent on the one statement that makes the tenant's schema,
read from the server log after `ALTER DATABASE ... SET log_statement_stats =
on` (so the server log must be readable: --pg-log FILE), which a loaded machine
disturbs much less than wall times; and the indexes of a tenant on each.
Each binary gets its own data directory and PostgreSQL database (two binaries
of different schema versions cannot share a control database); the first
tenant of each (the control database, SQLite's schema template) is not counted.
Needs: psql, the superuser of the PostgreSQL server given."""
import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import time

KEY = "6f70736261736520746573742d6f6e6c79206d6173746572206b657920303031"


def psql(url, sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--pg", required=True, help="server URL ending in '/', e.g. postgres://postgres@127.0.0.1:5432/")
    ap.add_argument("--pg-log", help="the server's log file, for the schema statement's CPU time")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--work", default="build-release/bench-tenant-create")
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    env = dict(os.environ, OPSBASE_MASTER_KEY=os.environ.get("OPSBASE_MASTER_KEY", KEY))
    bins = {"A": a.old, "B": a.new}
    dbs = {"A": "bench_tc_a", "B": "bench_tc_b"}
    for db in dbs.values():
        psql(a.pg + "postgres", f"DROP DATABASE IF EXISTS {db}")
        psql(a.pg + "postgres", f"CREATE DATABASE {db}")
        if a.pg_log:
            psql(a.pg + "postgres", f"ALTER DATABASE {db} SET log_statement_stats = on")
    wall = {(k, e): [] for k in bins for e in ("sqlite", "pg")}
    cpu = {k: [] for k in bins}

    def create(k, e, i):
        argv = [bins[k], "tenant", "create", f"t{i}", "--plan", "free", "--owner-email", "o@bench.test",
                "--owner-password", "Bench-Passw0rd!", "--data", os.path.join(a.work, f"{k}-{e}")]
        if e == "pg":
            argv += ["--db", a.pg + dbs[k]]
        off = os.path.getsize(a.pg_log) if a.pg_log and e == "pg" else None
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        ms = (time.perf_counter() - t0) * 1000
        if off is None:
            return ms, None
        time.sleep(0.2)  # the server's logger writes after the statement returned
        with open(a.pg_log, "rb") as f:
            f.seek(off)
            text = f.read().decode("utf-8", "replace")
        used = []
        for block in text.split("QUERY STATISTICS")[1:]:
            m = re.search(r"!\s+([\d.]+) s user, ([\d.]+) s system", block)
            st = re.search(r"STATEMENT:\s+(\S+ \S+)", block)
            if m and st and st.group(1) == "CREATE TABLE":
                used.append((float(m.group(1)) + float(m.group(2))) * 1000)
        return ms, max(used) if used else None  # the schema's statement; the small one is schema_migrations

    for e in ("sqlite", "pg"):
        for k in bins:
            create(k, e, 0)
        for i in range(1, a.runs + 1):
            for k in (("A", "B") if i % 2 else ("B", "A")):
                ms, c = create(k, e, i)
                wall[(k, e)].append(ms)
                if c is not None:
                    cpu[k].append(c)
    print("load average:", " ".join(open("/proc/loadavg").read().split()[:3]))
    for e in ("sqlite", "pg"):
        ma, mb = statistics.median(wall[("A", e)]), statistics.median(wall[("B", e)])
        print(f"{e:6} tenant create, median wall ms: A {ma:.0f}  B {mb:.0f}  B/A {mb / ma:.3f}")
    if cpu["A"] and cpu["B"]:
        ca, cb = statistics.median(cpu["A"]), statistics.median(cpu["B"])
        print(f"pg     schema statement, median backend CPU ms: A {ca:.0f}  B {cb:.0f}  B/A {cb / ca:.3f}")
        for k in bins:
            print(f"  {k}: {sorted(round(x) for x in cpu[k])}")
    for k in bins:
        with sqlite3.connect(os.path.join(a.work, f"{k}-sqlite", "tenants", "t1.db")) as db:
            total, named = db.execute("SELECT COUNT(*), COUNT(sql) FROM sqlite_master WHERE type = 'index'").fetchone()
        pg = psql(a.pg + dbs[k], "SELECT COUNT(*) || ' (' || COUNT(*) FILTER (WHERE indexname LIKE 'ix\\_%') || "
                                 "' by name)' FROM pg_indexes WHERE schemaname = 'tenant_t1'")
        print(f"{k}: indexes of a tenant: SQLite {total} ({named} by name), PostgreSQL {pg}")


if __name__ == "__main__":
    main()
