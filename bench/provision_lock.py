#!/usr/bin/python3
"""How long a control write waits while a tenant is being created, A/B.

usage: provision_lock.py [--runs N] [--per-run K] [--pg] BINARY [BINARY ...]

Each binary gets a store of its own (a data directory; with --pg a database of
its own in one throw-away cluster, made as bench/pg_getaudit.py makes it): one
tenant `base` and a super admin signed in once (TOTP computed here). Then N
rounds interleaved (A B A B ...), each a server of that binary and K samples:

  idle    POST /api/v1/platform/tenants/{base}/suspend (a control write through
          the platform API) with nothing else running, timed; then resume
  during  POST /api/v1/platform/tenants (a new tenant, enterprise plan) sent
          from a thread; DELAY ms later (after its first statements, long before
          its database is made) the same suspend, timed; the create's own time
          too. A sample counts only if the suspend was sent while the create
          was still running (the create's answer came after it).

Prints one line per round and the medians per binary (p50 and max of the
samples of all rounds). The server is pinned to CPU 0, this script to CPU 1.
Rate limits are off; every other flag is the default.
"""
import argparse
import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pg_getaudit import Server as PlainServer, as_owner, pg_bin  # noqa: E402

PORT = int(os.environ.get("BENCH_PORT", "18530"))
PG_PORT = PORT + 71
KEY = "62656e63682d6f6e6c79206d6173746572206b65792c206e6f74206120736563"
PASSWORD = "bench-owner-pass-1"
ADMIN_PASSWORD = "Bench-admin-pass-1!"
DELAY_S = float(os.environ.get("BENCH_PROVISION_DELAY_MS", "40")) / 1000


def http(method, path, token=None, body=None):
    hd = {"Content-Type": "application/json"}
    if token:
        hd["Authorization"] = "Bearer " + token
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (PORT, path), method=method, headers=hd,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, e.read()[:300].decode("utf-8", "replace")


def totp(secret_b32):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def Server(binary, data, url):
    return PlainServer(binary, data, url, port=PORT, limits="off", name="provision_lock")


def prepare(binary, data, url):
    """The store's base tenant and signed-in super admin: (token, base id)."""
    env = dict(os.environ, OPSBASE_MASTER_KEY=KEY)
    db = ["--db", url] if url else []
    subprocess.run([binary, "tenant", "create", "base", "--plan", "enterprise", "--owner-email", "owner@base.test",
                    "--owner-password", PASSWORD, "--data", data] + db, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([binary, "admin", "create-super-admin", "--email", "admin@bench.test", "--password",
                    ADMIN_PASSWORD, "--name", "Bench", "--data", data] + db, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    s = Server(binary, data, url)
    try:
        code, body = http("POST", "/api/v1/platform/auth/login", body={"email": "admin@bench.test",
                                                                     "password": ADMIN_PASSWORD})
        assert code == 200, body
        code, done = http("POST", "/api/v1/platform/auth/mfa/verify",
                          body={"challenge": body["challenge"], "code": totp(body["secret"])})
        assert code == 200, done
        token = done["token"]
        code, lst = http("GET", "/api/v1/platform/tenants?limit=10", token)
        base = [t["id"] for t in lst["data"] if t["slug"] == "base"][0]
    finally:
        s.stop()
    return token, base


def suspend(token, base):
    t0 = time.monotonic()
    code, body = http("POST", "/api/v1/platform/tenants/%s/suspend" % base, token)
    ms = (time.monotonic() - t0) * 1000
    code2, body2 = http("POST", "/api/v1/platform/tenants/%s/resume" % base, token)
    if code != 200 or code2 != 200:
        return ms, "suspend %d / resume %d: %s %s" % (code, code2, body, body2)
    return ms, None


def create(token, slug):
    t0 = time.monotonic()
    code, body = http("POST", "/api/v1/platform/tenants", token,
                      {"slug": slug, "plan": "enterprise", "owner_email": "owner@%s.test" % slug,
                       "owner_password": PASSWORD})
    return code, (time.monotonic() - t0) * 1000, time.monotonic(), body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--per-run", type=int, default=5)
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()
    os.sched_setaffinity(0, {1})
    bins = [os.path.abspath(b) for b in a.binaries]
    work = tempfile.mkdtemp(prefix="provision_lock.")
    pgb = pg_bin() if a.pg else None
    if os.getuid() == 0 and a.pg:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "opsbase-bench"],
                       capture_output=True)
        shutil.chown(work, "opsbase-bench")
    pgdata, log = os.path.join(work, "pg"), os.path.join(work, "pg.log")
    if a.pg:
        subprocess.run(as_owner([pgb + "/initdb", "-D", pgdata, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                 "--locale=C"]), check=True, capture_output=True)
        opts = "-h 127.0.0.1 -p %d -k %s -c max_connections=200 -c shared_buffers=256MB" % (PG_PORT, work)
        subprocess.run(as_owner([pgb + "/pg_ctl", "-D", pgdata, "-l", log, "-w", "-o", opts, "start"]), check=True,
                       capture_output=True)
    try:
        stores = {}
        for i, b in enumerate(bins):
            url = None
            if a.pg:
                subprocess.run(as_owner([pgb + "/createdb", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres",
                                         "ob%d" % i]), check=True)
                url = "postgres://postgres@127.0.0.1:%d/ob%d" % (PG_PORT, i)
            data = os.path.join(work, "data%d" % i)
            stores[b] = (data, url) + prepare(b, data, url)
        res = {b: {"idle": [], "during": [], "create": [], "missed": 0} for b in bins}
        n = 0
        for r in range(a.runs):
            for b in bins:
                data, url, token, base = stores[b]
                load = os.getloadavg()[0]
                s = Server(b, data, url)
                row = {"idle": [], "during": [], "create": [], "missed": 0}
                try:
                    suspend(token, base)  # warm: the first request's connections and caches
                    with concurrent.futures.ThreadPoolExecutor(1) as pool:
                        for _ in range(a.per_run):
                            ms, bad = suspend(token, base)
                            if bad:
                                sys.exit("provision_lock: idle " + bad)
                            row["idle"].append(ms)
                            n += 1
                            pending = pool.submit(create, token, "p%d-%d" % (os.getpid(), n))
                            time.sleep(DELAY_S)
                            sent = time.monotonic()
                            ms, bad = suspend(token, base)
                            code, cms, ended, body = pending.result()
                            if code != 201:
                                sys.exit("provision_lock: create %d %s" % (code, body))
                            row["create"].append(cms)
                            if bad:  # a 503: the lock wait ran out
                                print("  %s: the control write failed while a create ran: %s" % (b, bad))
                            if ended < sent:
                                row["missed"] += 1  # the create was over before the write was sent
                            else:
                                row["during"].append(ms)
                finally:
                    s.stop()
                for k in ("idle", "during", "create"):
                    res[b][k] += row[k]
                res[b]["missed"] += row["missed"]
                med = lambda v: statistics.median(v) if v else float("nan")
                print("round %d %s: load %.1f, control write idle p50 %.1f ms, during a create p50 %.1f ms "
                      "max %.1f ms (%d samples, %d missed), create %.0f ms" %
                      (r + 1, b, load, med(row["idle"]), med(row["during"]), max(row["during"] or [float("nan")]),
                       len(row["during"]), row["missed"], med(row["create"])), flush=True)
        print()
        for b in bins:
            x = res[b]
            med = lambda v: statistics.median(v) if v else float("nan")
            print("median %s: control write idle %.1f ms, during a create %.1f ms (max %.1f, %d samples), "
                  "create %.0f ms" % (b, med(x["idle"]), med(x["during"]), max(x["during"] or [float("nan")]),
                                      len(x["during"]), med(x["create"])))
    finally:
        if a.pg:
            subprocess.run(as_owner([pgb + "/pg_ctl", "-D", pgdata, "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
