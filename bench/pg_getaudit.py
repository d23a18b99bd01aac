#!/usr/bin/python3
"""The audited get on PostgreSQL, A/B: statements per warm get, gets/s with
the read audit on, and how long a create waits right after a get run.

usage: pg_getaudit.py [--runs N] [--duration S] BINARY [BINARY ...]

One throw-away cluster (initdb in a temporary directory, 127.0.0.1 only,
durable: fsync and synchronous_commit on, as bench/pg.sh), one tenant made by
the first binary with 200 customers, every statement logged
(log_min_duration_statement=0, so the count below is exact; it costs every
binary alike). For each binary in turn, N rounds interleaved (A B A B ...):

  trips   statements on the cluster for one warm GET /customers/{id} (after
          three warm-ups; the fewest of five gets), split into those while
          the request ran and those of the 0.6 s after (the read log's flush)
  get     wrk, 32 connections, DURATION s of gets of random customers; the
          server pinned to CPU 0 and wrk to CPU 1 as in bench/lib.sh
  create  at once after the get run: 10 POST /customers one after another,
          each timed (p50 and max ms); a create queues on the tenant's write
          lock behind the read log's backlog of the get run
  backlog read-audit rows written by the time the creates end, against the
          gets answered (both counted in audit_logs and by wrk)

The tenant's per-user limits are on (the production default; its limit set
far above the load, so nothing is refused), so the trips include their read;
OPSBASE_SETTINGS_RATE_LIMITS_AB=off turns them off as bench/lib.sh does.
Every other flag is bench/lib.sh's. Prints one line per run and the medians
per binary. --sqlite: the same tenant on the embedded engine (its file, the
server's default durability), without the statement counts. Needs wrk,
taskset and (not with --sqlite) PostgreSQL 15+ server binaries
(OPSBASE_PG_BINDIR or /usr/lib/postgresql/*/bin).
"""
import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = int(os.environ.get("BENCH_PORT", "18490"))
PG_PORT = PORT + 71
PASSWORD = "bench-owner-pass-1"
LIMITS = os.environ.get("OPSBASE_SETTINGS_RATE_LIMITS_AB", "on")
KEY = "62656e63682d6f6e6c79206d6173746572206b65792c206e6f74206120736563"


def pg_bin():
    d = os.environ.get("OPSBASE_PG_BINDIR")
    if not d:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
        d = found[-1] if found else ""
    if not d or not os.path.exists(os.path.join(d, "initdb")):
        sys.exit("pg_getaudit: no PostgreSQL server binaries")
    return d


def as_owner(cmd):
    # initdb and postgres refuse root: run them as the benchmark's system user
    if os.getuid() == 0:
        return ["setpriv", "--reuid", "opsbase-bench", "--regid", "opsbase-bench", "--clear-groups"] + cmd
    return cmd


def http(method, path, token=None, body=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (PORT, path), method=method, headers=h,
                                 data=json.dumps(body).encode() if body is not None else None)
    for attempt in range(5):
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            # a write refused as busy while the server's first sweep holds the tenant's lock
            if e.code != 503 or attempt == 4:
                raise RuntimeError("%s %s: %d %s" % (method, path, e.code, e.read()[:300].decode("utf-8", "replace")))
            time.sleep(0.2)


SQLITE_FILE = None  # --sqlite: the tenant's file, read with the sqlite3 module instead of psql


def psql(sql):
    if SQLITE_FILE:
        import sqlite3
        db = sqlite3.connect(SQLITE_FILE, timeout=30)
        try:
            cur = db.execute(sql.replace("tenant_ga.", ""))
            row = cur.fetchone()
            db.commit()
            return str(row[0]) if row else ""
        finally:
            db.close()
    out = subprocess.run(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d",
                          "opsbase", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Server:
    """A server of BINARY on DATA (and URL: PostgreSQL), pinned to CPU 0, on
    PORT (this script's by default), the tenants' rate limits as LIMITS (this
    script's setting by default), the gate's limits off; NAME in messages."""

    def __init__(self, binary, data, url, port=None, limits=None, name="pg_getaudit"):
        port = port or PORT
        try:  # a server left on the port would answer for this one
            urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1)
            sys.exit("%s: something already answers on port %d" % (name, port))
        except urllib.error.URLError:
            pass
        env = dict(os.environ, OPSBASE_MASTER_KEY=KEY, OPSBASE_SETTINGS_RATE_LIMITS=limits or LIMITS)
        self.p = subprocess.Popen(["taskset", "-c", "0", binary, "serve", "--data", data] + (["--db", url] if url else []) + ["--listen",
                                   "127.0.0.1:%d" % port, "--log-level", "error", "--rate-read", "0",
                                   "--rate-write", "0", "--rate-auth", "0"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1)
                return
            except Exception:
                time.sleep(0.1)
        self.stop()
        sys.exit("%s: %s did not start" % (name, binary))

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def stamped(log, t0, t1):
    """The executions logged between wall times t0 and t1 (the log line's own
    time stamp, %m: a backend's line may reach the file late)."""
    out = []
    with open(log, errors="replace") as f:
        for l in f:
            m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) UTC .*duration: [0-9.]+ ms  (execute|statement)", l)
            if m:
                t = time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%d %H:%M:%S")) - time.timezone
                t += float("0" + m.group(1)[19:])
                if t0 <= t <= t1:
                    out.append(l[l.index("duration:"):])
    return out


def trips(log, tok, cid):
    """Statements of one warm get and of the read-log flush after it: the
    fewest of five gets, since the server's background sweeps (schedules,
    jobs, the tenant list) run now and then on the same cluster."""
    for _ in range(3):
        http("GET", "/api/v1/customers/" + cid, tok)
    time.sleep(1.0)  # the warm-ups' read-log flush, the server's first background sweep
    best = None
    for _ in range(5):
        t0 = time.time()
        http("GET", "/api/v1/customers/" + cid, tok)
        t1 = time.time()
        time.sleep(0.6)  # the flusher's interval is 200 ms
        own, flush = stamped(log, t0, t1), stamped(log, t1, time.time())
        if best is None or (len(own), len(flush)) < (len(best[0]), len(best[1])):
            best = (own, flush)
    if os.environ.get("PG_GETAUDIT_SHOW"):
        print("".join("request: " + l[:150] + "\n" for l in best[0]) +
              "".join("after:   " + l[:150] + "\n" for l in best[1]))
    return len(best[0]), len(best[1])


def run_wrk(tok, ids_file, duration):
    env = dict(os.environ, BENCH_MODE="get", BENCH_TOKEN=tok, BENCH_FILE=ids_file, BENCH_THREADS="1",
               BENCH_PREFIX="/api/v1/customers")
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c32", "-d%ds" % duration, "-s",
                          os.path.join(HERE, "wrk", "bench.lua"), "http://127.0.0.1:%d/api/v1/customers" % PORT],
                         env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(r"^BENCH (.*)$", out, re.M)
    kv = dict(x.split("=", 1) for x in m.group(1).split())
    return float(kv["rps"]), int(kv.get("non2xx", "0")) + int(kv.get("sockerr", "0"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--sqlite", action="store_true", help="the embedded engine instead: no cluster, no statement counts")
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()
    global SQLITE_FILE
    bins = [os.path.abspath(b) for b in a.binaries]
    pgb = pg_bin() if not a.sqlite else None
    work = tempfile.mkdtemp(prefix="pg_getaudit.")
    if os.getuid() == 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "opsbase-bench"],
                       capture_output=True)
        shutil.chown(work, "opsbase-bench")
    pgdata, log = os.path.join(work, "pg"), os.path.join(work, "pg.log")
    if a.sqlite:
        SQLITE_FILE = os.path.join(work, "files", "tenants", "ga.db")
    if not a.sqlite:
        subprocess.run(as_owner([pgb + "/initdb", "-D", pgdata, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                 "--locale=C"]), check=True, capture_output=True)
        opts = ("-h 127.0.0.1 -p %d -k %s -c max_connections=200 -c shared_buffers=256MB "
                "-c log_min_duration_statement=0 -c log_timezone=UTC -c log_line_prefix='%%m [%%p] '" % (PG_PORT, work))
        subprocess.run(as_owner([pgb + "/pg_ctl", "-D", pgdata, "-l", log, "-w", "-o", opts, "start"]), check=True,
                       capture_output=True)
    try:
        url = None
        if not a.sqlite:
            subprocess.run(as_owner([pgb + "/createdb", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres",
                                     "opsbase"]), check=True)
            url = "postgres://postgres@127.0.0.1:%d/opsbase" % PG_PORT
        data = os.path.join(work, "files")
        env = dict(os.environ, OPSBASE_MASTER_KEY=KEY)
        subprocess.run([bins[0], "tenant", "create", "ga", "--plan", "enterprise", "--owner-email", "owner@ga.test",
                        "--owner-password", PASSWORD, "--data", data] + (["--db", url] if url else []), env=env, check=True,
                       stdout=subprocess.DEVNULL)
        # one load generator is one user: a limit it never reaches, so the
        # limiter does all its work (the settings read, leases) and refuses none
        psql("UPDATE tenant_ga.security_settings SET requests_per_minute = 1000000000")
        s = Server(bins[0], data, url)
        try:
            tok = http("POST", "/api/v1/auth/login", body={"tenant": "ga", "email": "owner@ga.test",
                                                           "password": PASSWORD})["token"]
            ids = [http("POST", "/api/v1/customers", tok, {"name": "Person %d" % i, "email": "p%d@example.test" % i,
                                                          "industry": "logistics"})["id"] for i in range(200)]
        finally:
            s.stop()
        ids_file = os.path.join(work, "ids.txt")
        with open(ids_file, "w") as f:
            f.write("\n".join(ids) + "\n")
        res = {b: [] for b in bins}
        for r in range(a.runs):
            for b in bins:
                load = os.getloadavg()[0]
                s = Server(b, data, url)
                try:
                    own, flush = trips(log, tok, ids[0]) if url else (0, 0)
                    before = int(psql("SELECT count(*) FROM tenant_ga.audit_logs WHERE action = 'read'"))
                    rps, errors = run_wrk(tok, ids_file, a.duration)
                    gets = int(rps * a.duration)
                    lat = []
                    for i in range(10):
                        t0 = time.monotonic()
                        http("POST", "/api/v1/customers", tok, {"name": "After %d %d" % (r, i),
                                                               "email": "a%d-%d-%d@example.test" % (r, i, id(b) % 997)})
                        lat.append((time.monotonic() - t0) * 1000)
                    written = int(psql("SELECT count(*) FROM tenant_ga.audit_logs WHERE action = 'read'")) - before
                finally:
                    s.stop()
                row = {"load": load, "own": own, "flush": flush, "rps": rps, "errors": errors,
                       "create_p50": statistics.median(lat), "create_max": max(lat), "written": written,
                       "gets": gets}
                res[b].append(row)
                print("run %d %s: load %.1f, statements per get %d (+%d read-log flush), get %.0f req/s "
                      "(%d errors), create after it p50 %.1f ms max %.1f ms, read-audit rows written by then "
                      "%d of about %d gets" % (r + 1, b, load, own, flush, rps, errors, row["create_p50"],
                                               row["create_max"], written, gets), flush=True)
        print()
        for b in bins:
            rows = res[b]
            med = lambda k: statistics.median(x[k] for x in rows)
            print("median %s: get %.0f req/s, create after p50 %.1f ms max %.1f ms, statements %d+%d, "
                  "audit rows written %.0f%% of gets" % (b, med("rps"), med("create_p50"), med("create_max"),
                                                         med("own"), med("flush"),
                                                         100 * med("written") / max(1, med("gets"))))
    finally:
        if not a.sqlite:
            subprocess.run(as_owner([pgb + "/pg_ctl", "-D", pgdata, "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
