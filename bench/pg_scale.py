#!/usr/bin/python3
"""The scaling probes of run.sh on PostgreSQL: the list, the unfiltered list,
the search (q=garcia, ~1% of rows) and a search for a word in no row on tenants of 10k, 100k and 1M
customers, each probed by latency.py (one client, keep-alive, up to 200
requests or BENCH_PROBE_BUDGET seconds), BENCH_RUNS times.

A throw-away PostgreSQL 15 (the end-to-end tests' PgServer: initdb into a
temporary directory, fsync off, 127.0.0.1 only) holds one schema per tenant,
made by `opsbase tenant create`; the rows are gen_data.py's, the same
generator and seed as the SQLite tenants, copied in with COPY (the GIN index
and every other index are kept up to date by PostgreSQL as they arrive), then
ANALYZE. The server is stopped and the cluster removed at the end.

With more than one binary (A/B), each run probes every binary in turn, so
machine load hits them alike. With BENCH_PG_OWN=1 each binary gets its own
database and data directory, its tenants made and loaded by itself: for an A/B
across a schema version (a binary refuses a schema newer than it knows, and an
older binary's indexes are not the newer one's); the load time of each is
logged, and each run then also probes creates (POST /customers, one client,
up to 200 or BENCH_PROBE_BUDGET seconds, on the smallest tenant: the write
cost of the full-text upkeep). Without PostgreSQL server binaries it prints
why and exits 0.

usage: bench/pg_scale.py OPSBASE_BINARY [OPSBASE_BINARY...]
prints: PROBE NAME RUN BENCH ...   (NAME scale_pg_<shape>_<rows>, suffixed
        _b<i> for the i-th binary when more than one is given)
env:    BENCH_RUNS (3)  BENCH_PROBE_BUDGET (5)  BENCH_PG_SIZES (10k,100k,1M)
        BENCH_SMALL (1: 2k and 20k rows)  BENCH_WORK (build-release/bench-pg)
        BENCH_PG_OWN (0; 1: a database per binary, and the create probe)"""
import csv
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import json
import random

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import gen_data  # noqa: E402

# as bench/lib.sh: a bench-only key, and the per-user rate limits off (one client)
os.environ.setdefault("OPSBASE_MASTER_KEY", "62656e63682d6f6e6c79206d6173746572206b65792c206e6f74206120736563")
os.environ.setdefault("OPSBASE_SETTINGS_RATE_LIMITS", "off")

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
BUDGET = os.environ.get("BENCH_PROBE_BUDGET", "5")
WORK = os.environ.get("BENCH_WORK", os.path.join(ROOT, "build-release", "bench-pg"))
PASSWORD = "bench-owner-pass-1"
LABELS = {"10k": 10000, "100k": 100000, "1M": 1000000, "2k": 2000, "20k": 20000}
SHAPES = (("list", "/api/v1/customers?status=active&sort=-created_at&limit=50"),
          ("list_nofilter", "/api/v1/customers?sort=-created_at&limit=50"),
          ("search", "/api/v1/customers?q=garcia&limit=50"),
          # a word in no row: the worst case of a search that reads newest rows first
          ("searchabsent", "/api/v1/customers?q=zzzabsent&limit=50"))


def log(msg):
    print("pg_scale: " + msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CopySink:
    """Stands in for the sqlite3 connection gen_data.gen_customers writes to:
    its rows go to PostgreSQL through COPY, its counter through an upsert."""

    def __init__(self, pg, schema):
        self.pg, self.schema, self.copy, self.seq = pg, schema, None, None

    def execute(self, sql, args=()):
        if sql.startswith("SELECT COALESCE"):
            return _One((0,))
        self.seq = args  # the sequences upsert: (id, created_at, name, value)
        return None

    def executemany(self, sql, batch):
        if self.copy is None:
            cols = sql[sql.index("(") + 1:sql.index(")")]
            cmd = "COPY %s.customers (%s) FROM STDIN (FORMAT csv)" % (self.schema, cols)
            self.copy = subprocess.Popen(psql_argv(self.pg, cmd), stdin=subprocess.PIPE, text=True,
                                         stdout=subprocess.DEVNULL)
        w = csv.writer(self.copy.stdin)
        w.writerows(batch)

    def close(self):
        self.copy.stdin.close()
        if self.copy.wait() != 0:
            sys.exit("pg_scale: COPY into %s failed" % self.schema)
        sid, created, name, value = self.seq
        self.pg.psql("INSERT INTO %s.sequences (id, created_at, name, value) VALUES ('%s', '%s', '%s', %d) "
                     "ON CONFLICT (name) DO UPDATE SET value = excluded.value" % (self.schema, sid, created, name, value))


class _One:
    def __init__(self, row):
        self.row = row

    def fetchone(self):
        return self.row


def psql_argv(pg, sql):
    return [os.path.join(pg.bin, "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", pg.dbname,
            "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]


def load(binary, pg, data, slug, rows):
    subprocess.run([binary, "tenant", "create", slug, "--plan", "enterprise", "--owner-email", "owner@%s.test" % slug,
                    "--owner-password", PASSWORD, "--data", data, "--db", pg.url], check=True,
                   stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    sink = CopySink(pg, "tenant_" + slug)
    gen_data.gen_customers(sink, rows, int(time.time() * 1000) - 60000, random.Random(5))
    sink.close()
    pg.psql("ANALYZE tenant_%s.customers" % slug)
    log("%s: %d customers loaded in %.0f s" % (slug, rows, time.monotonic() - t0))


def serve(binary, pg, data):
    port = free_port()
    proc = subprocess.Popen([binary, "serve", "--data", data, "--db", pg.url, "--listen", "127.0.0.1:%d" % port,
                             "--log-level", "warn", "--workers", "0", "--rate-read", "0", "--rate-write", "0",
                             "--rate-auth", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("pg_scale: %s did not start" % binary)


def login(port, slug):
    body = json.dumps({"tenant": slug, "email": "owner@%s.test" % slug, "password": PASSWORD}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/auth/login" % port, data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["token"]


def create_probe(port, token, budget):
    """POST /customers one after another on one keep-alive connection; the
    same summary line as latency.py."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    lat, bad = [], 0
    t0 = time.monotonic()
    while len(lat) < 200 and (not lat or time.monotonic() - t0 < budget):
        n = random.randrange(10 ** 12)
        # no word of the search probes: the new rows must not change their answers
        body = json.dumps({"customer_code": "B-%d" % n, "company_name": "Probe %d" % n,
                           "notes": "created by the create probe"})
        s = time.monotonic()
        conn.request("POST", "/api/v1/customers", body=body,
                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        lat.append(int((time.monotonic() - s) * 1e6))
        bad += r.status >= 400
    secs = time.monotonic() - t0
    conn.close()
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, max(0, int(round(p / 100.0 * len(lat) + 0.5)) - 1))]
    return ("BENCH rps=%.1f requests=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d connect=0 read=0 "
            "write=0 timeout=0" % (len(lat) / secs, len(lat), pct(50), pct(90), pct(99), lat[-1], bad))


def main():
    binaries = [os.path.abspath(b) for b in sys.argv[1:]]
    if not binaries:
        sys.exit(__doc__)
    from conftest import PgServer, _pg_available
    if not _pg_available():
        log("skipped: no PostgreSQL 15 server binaries (initdb, pg_ctl) found")
        return
    if os.environ.get("BENCH_SMALL", "0") == "1":
        labels = ["2k", "20k"]
    else:
        labels = os.environ.get("BENCH_PG_SIZES", "10k,100k,1M").split(",")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    pg = PgServer()
    procs = []
    try:
        pg.init().start()
        own = os.environ.get("BENCH_PG_OWN", "0") == "1"
        places = []  # (data directory, server) of each binary
        for i, binary in enumerate(binaries if own else binaries[:1]):
            db = PgServer.__new__(PgServer)
            db.__dict__.update(pg.__dict__)
            db.dbname = "opsbase_b%d" % (i + 1) if own else pg.dbname
            pg.create_db(db.dbname)
            data = os.path.join(WORK, "data_b%d" % (i + 1) if own else "data")
            for label in labels:
                load(binary, db, data, "p" + label.lower(), LABELS[label])
            places.append((data, db))
        for r in range(1, RUNS + 1):
            for i, binary in enumerate(binaries):
                data, db = places[i if own else 0]
                proc, port = serve(binary, db, data)
                procs.append(proc)
                suffix = "_b%d" % (i + 1) if len(binaries) > 1 else ""
                for label in labels:
                    token = login(port, "p" + label.lower())
                    for shape, path in SHAPES:
                        out = subprocess.run([sys.executable, os.path.join(HERE, "latency.py"), "127.0.0.1",
                                              str(port), path, token, "200", BUDGET],
                                             check=True, capture_output=True, text=True).stdout
                        line = [x for x in out.splitlines() if x.startswith("BENCH ")][-1]
                        print("PROBE scale_pg_%s_%s%s %d %s" % (shape, label, suffix, r, line), flush=True)
                if own:
                    line = create_probe(port, login(port, "p" + labels[0].lower()), float(BUDGET))
                    print("PROBE scale_pg_create_%s%s %d %s" % (labels[0], suffix, r, line), flush=True)
                proc.terminate()
                proc.wait()
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
        pg.destroy()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
