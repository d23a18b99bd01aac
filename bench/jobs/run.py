#!/usr/bin/python3
"""Background work (issue #11): the job queue's throughput and latency, and
webhook delivery latency to a local HTTP sink, each next to a baseline measured
in the same run on the same machine.

  jobs/s          BENCH_JOBS system.sleep jobs (ms 0) queued in one transaction
                  while no worker runs, then drained by `serve --workers 2`:
                  (jobs - 1) / (last finished_at - first finished_at).
  baseline        the engine's bare cost of a job on a copy of the same database:
                  per job the claim UPDATE and the completing UPDATE, each its own
                  transaction with synchronous=FULL, as the worker commits them
                  (no HTTP, no lease bookkeeping, no JSON).
  enqueue-to-run  single jobs queued by another process (`opsbase job enqueue`)
                  while the server's workers poll every --job-poll-ms (100):
                  finished_at - created_at, p50 / p99. The poll interval is the
                  bound for work queued by another process; work queued by a
                  request in the server wakes its workers at once (next case).
  webhook         POST /api/v1/customers with a subscription to a local sink:
                  the sink's receive time - the change's created_at (the write's
                  clock reading), p50 / p99, and deliveries/s of a burst.
  baseline        a plain client's POST of the same body to the same sink, p50 / p99.

SQLite only (the throw-away PostgreSQL of the tests is not durable, so its
figures would mislead). With BENCH_SMOKE=1 the counts are small and the script
fails when a job is not done or a delivery did not arrive; the figures then
mean nothing.

usage: bench/jobs/run.py OPSBASE_BINARY
env:   BENCH_JOBS (2000)  BENCH_SINGLE (50)  BENCH_HOOKS (200)  BENCH_SMOKE (0|1)
       BENCH_WORK (build-release/bench-jobs)"""
import datetime
import http.server
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SMOKE = os.environ.get("BENCH_SMOKE") == "1"
BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) == 2 else sys.exit(__doc__)
JOBS = int(os.environ.get("BENCH_JOBS", "100" if SMOKE else "2000"))
SINGLE = int(os.environ.get("BENCH_SINGLE", "5" if SMOKE else "50"))
HOOKS = int(os.environ.get("BENCH_HOOKS", "20" if SMOKE else "200"))
WORK = os.environ.get("BENCH_WORK", os.path.join(ROOT, "build-release", "bench-jobs"))
PASSWORD = "Bench-pass-123!"
# sealed columns need a master key: the benchmark's fixed one (as bench/lib.sh),
# so that `make bench-reserve` / `make bench-jobs` run from a plain shell
os.environ.setdefault("OPSBASE_MASTER_KEY", "62656e63682d6f6e6c79206d6173746572206b65792c206e6f74206120736563")
os.environ.setdefault("OPSBASE_SETTINGS_RATE_LIMITS", "off")
WAIT_S = 120


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ts(text):
    """A stored UTC timestamp (2026-12-05T18:26:15.241Z) as seconds."""
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def cli(data, *args):
    subprocess.run([BIN, *args, "--data", data], check=True, capture_output=True, text=True, timeout=120)


def wait_until(pred, what):
    deadline = time.monotonic() + WAIT_S
    while not pred():
        if time.monotonic() > deadline:
            sys.exit(f"bench-jobs: {what} did not happen in {WAIT_S}s")
        time.sleep(0.05)


class Sink(http.server.BaseHTTPRequestHandler):
    """Records when each delivery arrived and the change it carries."""
    got = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        now = time.time()
        self.send_response(204)
        self.end_headers()
        if self.path == "/hook":
            with Sink.lock:
                Sink.got.append((now, body, self.headers.get("Opsbase-Signature")))

    def log_message(self, *args):
        pass


def jobs_db(data):
    return os.path.join(data, "tenants", "bench.db")


def done_jobs(data):
    with sqlite3.connect(f"file:{jobs_db(data)}?mode=ro", uri=True, timeout=10) as c:
        return c.execute("SELECT created_at, finished_at FROM jobs WHERE status = 'done' AND kind = 'system.sleep'"
                         ).fetchall()


def queue_baseline(data):
    """Per job: the claim and the completion, one transaction each, FULL sync."""
    copy = os.path.join(WORK, "baseline.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(copy + suffix):
            os.remove(copy + suffix)
    src = sqlite3.connect(jobs_db(data))
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=FULL")
    dst.isolation_level = None
    ids = [r[0] for r in dst.execute("SELECT id FROM jobs WHERE kind = 'system.sleep'")]
    dst.execute("UPDATE jobs SET status = 'queued', finished_at = NULL")
    t0 = time.perf_counter()
    for i in ids:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        dst.execute("BEGIN IMMEDIATE")
        dst.execute("UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = ?, "
                    "version = version + 1 WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND "
                    "run_at <= ? ORDER BY run_at LIMIT 1)", (now, now))
        dst.execute("COMMIT")
        dst.execute("BEGIN IMMEDIATE")
        dst.execute("UPDATE jobs SET status = 'done', finished_at = ?, result = '{}', version = version + 1 "
                    "WHERE id = ?", (now, i))
        dst.execute("COMMIT")
    rate = len(ids) / (time.perf_counter() - t0)
    dst.close()
    return rate


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    data = os.path.join(WORK, "data")
    cli(data, "tenant", "create", "bench", "--plan", "enterprise", "--owner-email", "o@bench.test",
        "--owner-password", PASSWORD)
    cli(data, "tenant", "set", "bench", "--webhooks-allow-private", "yes")
    failures = []

    # -- throughput: a full queue drained by two workers
    cli(data, "job", "enqueue", "--tenant", "bench", "--kind", "system.sleep", "--payload", '{"ms": 0}',
        "--count", str(JOBS))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(WORK, "serve.log"), "ab")
    proc = subprocess.Popen([BIN, "serve", "--data", data, "--listen", f"127.0.0.1:{port}", "--log-level", "warn",
                             "--workers", "2", "--job-poll-ms", "100", "--rate-read", "0", "--rate-write", "0",
                             "--rate-auth", "0"], stdout=log, stderr=log)
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        wait_until(lambda: len(done_jobs(data)) >= JOBS, f"{JOBS} jobs done")
        fin = sorted(ts(f) for _, f in done_jobs(data))
        jobs_rate = (len(fin) - 1) / max(fin[-1] - fin[0], 0.001)

        # -- enqueue-to-run of single jobs queued by another process
        for _ in range(SINGLE):
            cli(data, "job", "enqueue", "--tenant", "bench", "--kind", "system.sleep", "--payload", '{"ms": 0}')
        wait_until(lambda: len(done_jobs(data)) >= JOBS + SINGLE, "the single jobs done")
        rows = sorted(done_jobs(data), key=lambda r: r[0])[-SINGLE:]
        single = [(ts(f) - ts(c)) * 1000 for c, f in rows]

        # -- webhooks: the change's commit to the sink
        for _ in range(100):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        token = httpx.post(url + "/api/v1/auth/login", json={"tenant": "bench", "email": "o@bench.test",
                                                              "password": PASSWORD}).json()["token"]
        c = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        hook = f"http://127.0.0.1:{sink.server_address[1]}/hook"
        r = c.post("/api/v1/webhook_subscriptions", json={"url": hook, "events": ["customers.created"],
                                                           "secret": "bench-secret-0123456789"})
        assert r.status_code == 201, r.text
        for i in range(HOOKS):
            r = c.post("/api/v1/customers", json={"company_name": f"Bench {i}", "email": f"b{i}@bench.test"})
            assert r.status_code == 201, r.text
            time.sleep(0.02)  # one at a time: latency, not a queue behind a burst
        wait_until(lambda: len(Sink.got) >= HOOKS, f"{HOOKS} webhook deliveries")
        hook_lat = [(t - ts(json.loads(b)["data"]["object"]["created_at"])) * 1000 for t, b, _ in Sink.got]
        if any(not s or not s.startswith("v1=") for _, _, s in Sink.got):
            failures.append("a delivery without its signature")
        # a burst: deliveries per second from the first commit to the last arrival
        Sink.got.clear()
        t0 = time.time()
        for i in range(HOOKS):
            c.post("/api/v1/customers", json={"company_name": f"Burst {i}", "email": f"u{i}@bench.test"})
        wait_until(lambda: len(Sink.got) >= HOOKS, f"{HOOKS} burst deliveries")
        burst_rate = HOOKS / (max(t for t, _, _ in Sink.got) - t0)
        body = Sink.got[0][1]
        c.close()

        # -- baselines of the same run
        with httpx.Client(timeout=10) as plain:
            rtt = []
            for _ in range(HOOKS):
                t = time.perf_counter()
                plain.post(hook, content=body, headers={"Content-Type": "application/json"})
                rtt.append((time.perf_counter() - t) * 1000)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        sink.shutdown()
        log.close()
    base_rate = queue_baseline(data)

    print(f"bench-jobs ({'smoke: figures mean nothing' if SMOKE else 'SQLite, synchronous=FULL'})")
    print("| case | opsbase | baseline | ratio |")
    print("|---|---|---|---|")
    print(f"| jobs/s, {JOBS} queued, 2 workers | {jobs_rate:,.0f} | {base_rate:,.0f} (bare claim + complete) "
          f"| {jobs_rate / base_rate:.2f} |")
    print(f"| enqueue-to-run p50 / p99 ms, other process, poll 100 ms | {pct(single, 50):.0f} / {pct(single, 99):.0f}"
          f" | - | - |")
    print(f"| webhook commit-to-delivery p50 / p99 ms | {pct(hook_lat, 50):.1f} / {pct(hook_lat, 99):.1f} | "
          f"{pct(rtt, 50):.1f} / {pct(rtt, 99):.1f} (plain POST to the sink) | - |")
    print(f"| webhook deliveries/s, burst of {HOOKS} | {burst_rate:,.0f} | - | - |")
    print(f"(median single-job latency {statistics.median(single):.0f} ms over {SINGLE}; "
          f"webhook latency over {len(hook_lat)})")
    if failures:
        sys.exit("bench-jobs: " + "; ".join(failures))


if __name__ == "__main__":
    main()
