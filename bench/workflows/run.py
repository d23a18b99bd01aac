#!/usr/bin/python3
"""The workflows' hot paths (issue #20, goal "Workflows"), each run against
prepared records on one tenant of a fresh SQLite data directory
(synchronous=FULL, `serve --workers 2`), with every answer's status checked and
the final state verified afterwards:

  confirm   POST /orders/ID/confirm of pending orders of 2-3 lines prepared
            beforehand (lines spread over BENCH_WF_PRODUCTS stocked products),
            confirmed concurrently; ceiling: 2-3 bare conditional UPDATEs of
            those stock rows in one transaction (bench/reserve/ceiling.c
            --lines 2-3) on a copy of the file, after each run. Check: every
            order confirmed, and each product's stock reserved == the sum of
            its confirmed order lines.
  reserve   POST /inventory/ID/reserve {"quantity": 1} on one hot row for
            BENCH_DURATION s; ceiling: the engine's bare conditional UPDATE of
            the same row (bench/reserve/ceiling.c, server stopped), run right
            after each opsbase run. Check: reserved grew by the 200s counted.
  tracking  a signed courier webhook (POST /api/v1/hooks/courier/...) carrying
            a pick-up scan for a shipped order, one per shipment: receipts/s,
            and to the status change (the job couriers.inbound applies it):
            shipments changed/s from the first request to the last change, and
            receipt-to-processed p50/p99. Check: every shipment "picked".
  invoice   POST /invoices/ID/issue of gold-shop draft invoices of 5 priced
            lines: the balanced journal posted. Check: every invoice issued,
            one posted invoice_issue journal each, debits == credits, and each
            invoice's total == the sum of its lines' totals (exact decimals).
  delivery  a burst of customer creates with a subscription to
            customers.created at a local sink: deliveries/s from the first
            create to the last arrival, commit-to-delivery p50/p99; baseline:
            the same number of plain POSTs of the same body to the same sink
            over 2 connections (the 2 workers). Check: every delivery arrives
            once, signed.

Prepared sets are consumed: each run gets its own N records and ends when they
are answered (or after 60 s). Figures: median of BENCH_RUNS runs; the client is
bench/workflows/client.py (16 keep-alive connections, unpinned).

Writes OUT/workflows.tsv for bench/report.py:
  run   CASE RUN OPS_PER_S P50_MS P99_MS FAILED N
  ceil  CASE RUN OPS_PER_S
  extra CASE RUN NAME VALUE
  check CASE ok|failed DETAIL

usage: bench/workflows/run.py OPSBASE_BINARY OUT_DIR
env:   BENCH_RUNS (3)  BENCH_DURATION (5, the reserve case)  BENCH_SMALL (1: a few
       records, one run)  BENCH_WF_N (records per run and case: 400)
       BENCH_WF_CONNS (16)  BENCH_WF_PRODUCTS (20; 5 small)  BENCH_WF_PRINT (1: print the table)"""
import contextlib
import datetime
import decimal
import hashlib
import hmac
import http.server
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from client import Req, created, drive  # noqa: E402

if len(sys.argv) != 3:
    sys.exit(__doc__)
BIN = os.path.abspath(sys.argv[1])
OUT = os.path.abspath(sys.argv[2])
SMALL = os.environ.get("BENCH_SMALL") == "1"
RUNS = int(os.environ.get("BENCH_RUNS", "1" if SMALL else "3"))
DURATION = float(os.environ.get("BENCH_DURATION", "1" if SMALL else "5"))
N = int(os.environ.get("BENCH_WF_N", "20" if SMALL else "400"))
CONNS = int(os.environ.get("BENCH_WF_CONNS", "8" if SMALL else "16"))
PRODUCTS = int(os.environ.get("BENCH_WF_PRODUCTS", "5" if SMALL else "20"))
WORK = os.path.join(OUT, "workflows")
DATA = os.path.join(WORK, "data")
DB = os.path.join(DATA, "tenants", "bench.db")
PASSWORD = "Bench-pass-123!"
CASE_LIMIT_S = 60
STOCK = 100000000
TSV = os.path.join(OUT, "workflows.tsv")
checks_failed = []
# sealed columns need a master key: the benchmark's fixed one (as bench/lib.sh)
os.environ.setdefault("OPSBASE_MASTER_KEY", "62656e63682d6f6e6c79206d6173746572206b65792c206e6f74206120736563")
os.environ.setdefault("OPSBASE_SETTINGS_RATE_LIMITS", "off")


def log(msg):
    print(f"[workflows {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def emit(*fields):
    with open(TSV, "a") as f:
        f.write("\t".join(str(x) for x in fields) + "\n")


def check(case, ok, detail):
    emit("check", case, "ok" if ok else "failed", detail)
    log(f"{case}: check {'ok' if ok else 'FAILED'}: {detail}")
    if not ok:
        checks_failed.append(f"{case}: {detail}")


def record(case, r, res, expected_n=None):
    """One run's figures; a run that lost answers or missed its count fails."""
    failed = len(res.bad) + (0 if expected_n is None else max(0, expected_n - res.ok - len(res.bad)))
    p50, p99 = res.pct(50), res.pct(99)
    emit("run", case, r, "%.1f" % res.rate(), "%.2f" % (p50 * 1000 if p50 else 0),
         "%.2f" % (p99 * 1000 if p99 else 0), failed, res.ok)
    log(f"{case} run {r}: {res.rate():.0f}/s, {res.ok} ok, {failed} failed"
        + (f" (first: {res.bad[0]})" if res.bad else ""))
    if failed:
        checks_failed.append(f"{case} run {r}: {failed} requests failed")


def ts(text):
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def q(sql, args=()):
    """A read of the tenant's file beside the running server (WAL: never blocks it)."""
    with contextlib.closing(sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=30)) as c:
        return c.execute(sql, args).fetchall()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args):
    subprocess.run([BIN, *args, "--data", DATA], check=True, capture_output=True, text=True, timeout=120)


class Server:
    def __init__(self):
        self.port = free_port()
        self.proc = None

    def start(self):
        log_f = open(os.path.join(WORK, "serve.log"), "ab")
        self.proc = subprocess.Popen([BIN, "serve", "--data", DATA, "--listen", f"127.0.0.1:{self.port}",
                                      "--log-level", "error", "--workers", "2", "--rate-read", "0",
                                      "--rate-write", "0", "--rate-auth", "0"], stdout=log_f, stderr=log_f)
        log_f.close()
        for _ in range(600):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit("workflows: opsbase did not start (see serve.log)")
                time.sleep(0.05)
        sys.exit("workflows: opsbase did not start in 30 s")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def one(srv, req):
    res = drive(srv.port, [req], conns=1, keep_bodies=True)
    return created(res)[0]


def many(srv, reqs):
    return created(drive(srv.port, reqs, conns=8, keep_bodies=True))


def login(srv):
    return one(srv, Req("POST", "/api/v1/auth/login", body={"tenant": "bench", "email": "o@bench.test",
                                                            "password": PASSWORD}))["token"]


# --- preparation ----------------------------------------------------------------

def prepare(srv, tok):
    log("preparing: products and stock, orders, gold pieces and invoices")
    wh = one(srv, Req("POST", "/api/v1/warehouses", tok, {"name": "Main"}, expect=201))["id"]
    prods = many(srv, [Req("POST", "/api/v1/products", tok, {"sku": f"WF{i:04d}", "name": f"Item {i}"}, expect=201)
                       for i in range(PRODUCTS + 1)])
    invs = many(srv, [Req("POST", "/api/v1/inventory", tok, {"product_id": p["id"], "warehouse_id": wh}, expect=201)
                      for p in prods])
    many(srv, [Req("POST", f"/api/v1/inventory/{i['id']}/adjust", tok, {"quantity": STOCK, "reason": "bench stock"})
               for i in invs])
    hot = invs[-1]["id"]  # the reserve case's row: no order line uses its product
    ch = one(srv, Req("POST", "/api/v1/sales_channels", tok, {"channel_type_code": "shopify", "name": "Shop"},
                      expect=201))["id"]
    total = N * RUNS
    rnd = random.Random(20)
    orders = many(srv, [Req("POST", "/api/v1/orders", tok, {
        "channel_id": ch, "external_order_id": f"WF-{i}", "customer_name": f"Buyer {i}",
        "shipping_address": {"name": "Buyer", "line1": "1 Main St", "city": "Pune", "country": "IN"},
        "subtotal": "100.00", "total_amount": "100.00"}, expect=201) for i in range(total)])
    lines = []
    for o in orders:
        for k, p in enumerate(rnd.sample(prods[:PRODUCTS], rnd.choice((2, 3)))):
            qty = rnd.randint(1, 3)
            lines.append(Req("POST", "/api/v1/order_items", tok, {
                "order_id": o["id"], "product_id": p["id"], "name": f"Line {k}", "sku": f"L{k}", "quantity": qty,
                "unit_price": "10.00", "total_amount": f"{10 * qty}.00"}, expect=201))
    many(srv, lines)

    one(srv, Req("POST", "/api/v1/metal_rates", tok, {"metal": "gold", "purity": 916, "rate_per_gram": "6400.00",
                                                      "effective_from": "2026-01-01T00:00:00Z"}, expect=201))
    pieces = many(srv, [Req("POST", "/api/v1/products", tok, {
        "sku": f"G{i}", "name": f"22K piece {i}", "metal": "gold", "purity": 916,
        "gross_weight": f"{5 + i}.{i * 37 % 1000:03d}", "stone_weight": "0.250", "making_charge_type": "percent",
        "making_charge_value": "12.00", "stone_charges": "1500.00"}, expect=201) for i in range(5)])
    # a piece is sold from stock and held by the invoice that issues it: each
    # of the five stocked deep enough for every invoice
    stock = many(srv, [Req("POST", "/api/v1/inventory", tok, {"product_id": p["id"], "warehouse_id": wh},
                           expect=201) for p in pieces])
    many(srv, [Req("POST", f"/api/v1/inventory/{i['id']}/adjust", tok, {"quantity": STOCK, "reason": "bench stock"})
               for i in stock])
    custs = many(srv, [Req("POST", "/api/v1/customers", tok, {"company_name": f"Gold buyer {i}"}, expect=201)
                       for i in range(min(20, total))])
    bills = many(srv, [Req("POST", "/api/v1/invoices", tok, {"customer_id": custs[i % len(custs)]["id"],
                                                              "currency": "INR"}, expect=201) for i in range(total)])
    many(srv, [Req("POST", "/api/v1/invoice_items", tok, {"invoice_id": b["id"], "product_id": p["id"],
                                                           "description": p["name"], "tax_rate": "3.00"}, expect=201)
               for b in bills for p in pieces])
    return [o["id"] for o in orders], hot, [b["id"] for b in bills], [i["id"] for i in invs[:PRODUCTS]]


# --- cases ------------------------------------------------------------------------

def ceiling(exe, db, idfile, *extra):
    out = subprocess.run([exe, "--sqlite", db, "--ids", idfile, "--threads", "2", "--seconds",
                          str(max(1, int(DURATION))), *extra], capture_output=True, text=True, check=True).stdout
    return float(out.split("ops_per_s=")[1].split()[0])


def case_confirm(srv, tok, orders, exe, stocked):
    """Ceiling: 2-3 bare conditional UPDATEs of the stocked rows in one durable
    transaction, on a copy of the tenant's file taken after each run (the
    server idle), so the orders' reservations stay checkable."""
    idfile, copy = os.path.join(WORK, "stocked.txt"), os.path.join(WORK, "confirm-ceiling.db")
    with open(idfile, "w") as f:
        f.write("\n".join(stocked) + "\n")
    for r in range(RUNS):
        mine = orders[r * N:(r + 1) * N]
        res = drive(srv.port, [Req("POST", f"/api/v1/orders/{o}/confirm", tok, {}) for o in mine], CONNS,
                    seconds=CASE_LIMIT_S)
        record("confirm", r + 1, res, len(mine))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(copy + suffix):
                os.remove(copy + suffix)
        with contextlib.closing(sqlite3.connect(f"file:{DB}?mode=ro", uri=True)) as src, \
                contextlib.closing(sqlite3.connect(copy)) as dst:
            src.backup(dst)
        ceil = ceiling(exe, copy, idfile, "--lines", "2-3")
        emit("ceil", "confirm", r + 1, "%.1f" % ceil)
        log(f"confirm run {r + 1}: ceiling {ceil:.0f} transactions/s")
    n = q("SELECT count(*) FROM orders WHERE status = 'confirmed'")[0][0]
    check("confirm", n == len(orders), f"{n} of {len(orders)} orders confirmed")
    want = dict(q("SELECT oi.product_id, sum(oi.quantity) FROM order_items oi JOIN orders o ON o.id = oi.order_id "
                  "WHERE o.status = 'confirmed' GROUP BY oi.product_id"))
    got = dict(q("SELECT product_id, quantity_reserved FROM inventory WHERE quantity_reserved > 0"))
    check("confirm", want == got and sum(want.values()) > 0,
          f"stock reserved {sum(got.values())} == lines of confirmed orders {sum(want.values())} "
          f"on {len(want)} products" + ("" if want == got else " (MISMATCH per product)"))


def build_reserve_ceiling():
    exe = os.path.join(WORK, "reserve-ceiling")
    flags = subprocess.check_output(["pkg-config", "--cflags", "--libs", "sqlite3", "libpq"], text=True).split()
    subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror", "-o", exe,
                    os.path.join(BENCH, "reserve", "ceiling.c"), *flags, "-lpthread"], check=True)
    return exe


def reserved(inv):
    return q("SELECT quantity_reserved FROM inventory WHERE id = ?", (inv,))[0][0]


def case_reserve(srv, tok, hot, exe):
    idfile = os.path.join(WORK, "hot.txt")
    with open(idfile, "w") as f:
        f.write(hot + "\n")
    body = {"quantity": 1, "reference_type": "order", "reference_id": "bench"}
    req = Req("POST", f"/api/v1/inventory/{hot}/reserve", tok, body)
    ok_total, grew = 0, 0
    for r in range(RUNS):
        before = reserved(hot)
        res = drive(srv.port, iter(lambda: req, None), CONNS, seconds=DURATION)
        record("reserve", r + 1, res)
        ok_total += res.ok
        grew += reserved(hot) - before
        # the ceiling on the same row of the same file, the server stopped
        srv.stop()
        ceil = ceiling(exe, DB, idfile)
        emit("ceil", "reserve", r + 1, "%.1f" % ceil)
        log(f"reserve run {r + 1}: ceiling {ceil:.0f} ops/s")
        srv.start()
    check("reserve", grew == ok_total and ok_total > 0,
          f"hot row's reserved grew by {grew}, the 200s counted {ok_total}")


def case_tracking(srv, tok, orders):
    """Ships the confirmed orders (preparation, not timed), then pushes one signed
    pick-up scan per shipment."""
    cfg = one(srv, Req("POST", "/api/v1/courier_configs", tok, {"courier_type_code": "simulator", "name": "Sim",
                                                                 "settings": {}}, expect=201))["id"]
    hook = one(srv, Req("POST", f"/api/v1/courier_configs/{cfg}/webhook", tok, {}))
    many(srv, [Req("POST", f"/api/v1/orders/{o}/ship", tok, {"courier_config_id": cfg}) for o in orders])
    ships = q("SELECT id, awb_number FROM shipments WHERE courier_config_id = ? ORDER BY awb_number", (cfg,))
    if len(ships) != len(orders):
        check("tracking", False, f"{len(ships)} shipments for {len(orders)} shipped orders")
        return
    secret = hook["webhook_secret"].encode()
    for r in range(RUNS):
        mine = ships[r * N:(r + 1) * N]
        stamp = str(int(time.time()))
        reqs = []
        for sid, awb in mine:
            body = json.dumps({"awb": awb, "scans": [{"code": "PU", "at": "2026-06-01T10:00:00Z",
                                                      "location": "Pune hub"}]}).encode()
            sig = "v1=" + hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
            reqs.append(Req("POST", hook["webhook_url"], None, body, {
                "Opsbase-Event": "tracking.scan", "Opsbase-Delivery": f"wf-{sid}", "Opsbase-Timestamp": stamp,
                "Opsbase-Signature": sig}))
        t0 = time.time()
        res = drive(srv.port, reqs, CONNS, seconds=CASE_LIMIT_S, keep_bodies=True)
        record("tracking", r + 1, res, len(mine))
        ids = [json.loads(b)["id"] for _, st, b in res.bodies if st == 200]
        marks = ",".join("?" * len(ids))
        deadline = time.monotonic() + CASE_LIMIT_S
        while time.monotonic() < deadline:
            left = q(f"SELECT count(*) FROM inbound_webhooks WHERE status = 'received' AND id IN ({marks})", ids)[0][0]
            if left == 0:
                break
            time.sleep(0.05)
        rows = q(f"SELECT created_at, processed_at, status FROM inbound_webhooks WHERE id IN ({marks})", ids)
        done = [(ts(c), ts(p)) for c, p, s in rows if p and s == "processed"]
        if done:
            lat = sorted((p - c) * 1000 for c, p in done)
            last = max(p for _, p in done)
            emit("extra", "tracking", r + 1, "changed_per_s", "%.1f" % (len(done) / max(last - t0, 0.001)))
            emit("extra", "tracking", r + 1, "apply_p50_ms", "%.1f" % lat[len(lat) // 2])
            emit("extra", "tracking", r + 1, "apply_p99_ms", "%.1f" % lat[min(len(lat) - 1, int(0.99 * len(lat)))])
            log(f"tracking run {r + 1}: {len(done)} applied, {len(done) / max(last - t0, 0.001):.0f} changed/s")
        if len(done) != len(mine):
            checks_failed.append(f"tracking run {r + 1}: {len(done)} of {len(mine)} webhooks processed")
    picked = q("SELECT count(*) FROM shipments WHERE courier_config_id = ? AND status = 'picked'", (cfg,))[0][0]
    check("tracking", picked == len(ships), f"{picked} of {len(ships)} shipments moved to picked")


def case_invoice(srv, tok, bills):
    for r in range(RUNS):
        mine = bills[r * N:(r + 1) * N]
        res = drive(srv.port, [Req("POST", f"/api/v1/invoices/{b}/issue", tok, {}) for b in mine], CONNS,
                    seconds=CASE_LIMIT_S)
        record("invoice", r + 1, res, len(mine))
    D = decimal.Decimal
    issued = q("SELECT count(*) FROM invoices WHERE status = 'issued'")[0][0]
    check("invoice", issued == len(bills), f"{issued} of {len(bills)} invoices issued")
    lines = q("SELECT invoice_id, count(*), group_concat(line_total, ' ') FROM invoice_items GROUP BY invoice_id")
    totals = dict(q("SELECT id, total_amount FROM invoices"))
    wrong = [i for i, n, lt in lines if n != 5 or sum(D(x) for x in lt.split()) != D(totals[i])]
    check("invoice", not wrong and len(lines) == len(bills),
          f"{len(lines)} invoices of 5 lines, {len(wrong)} whose total is not the sum of its lines")
    held = [r[0] for r in q("SELECT i.quantity_reserved FROM inventory i JOIN products p ON p.id = i.product_id "
                            "WHERE p.metal = 'gold'")]
    check("invoice", held == [len(bills)] * 5, f"each of the 5 pieces held by {held} issued invoices "
          f"(want {len(bills)})")
    journals = q("SELECT j.id, j.total_debit, j.total_credit, j.status FROM journals j "
                 "WHERE j.source = 'invoice_issue'")
    unbalanced = [j for j in journals if D(j[1]) != D(j[2]) or j[3] != "posted"]
    sums = q("SELECT journal_id, group_concat(debit, ' '), group_concat(credit, ' ') FROM accounting_entries "
             "WHERE journal_id IN (SELECT id FROM journals WHERE source = 'invoice_issue') GROUP BY journal_id")
    uneven = [j for j, d, c in sums if sum(D(x) for x in d.split()) != sum(D(x) for x in c.split())]
    check("invoice", len(journals) == len(bills) and not unbalanced and not uneven,
          f"{len(journals)} invoice_issue journals, {len(unbalanced) + len(uneven)} unbalanced or unposted")


class Sink(http.server.BaseHTTPRequestHandler):
    got = []
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        now = time.time()
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if self.path == "/hook":
            with Sink.lock:
                Sink.got.append((now, body, self.headers.get("Opsbase-Signature"),
                                 self.headers.get("Opsbase-Delivery")))

    def log_message(self, *args):
        pass


def case_delivery(srv, tok):
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{sink.server_address[1]}/hook"
    try:
        one(srv, Req("POST", "/api/v1/webhook_subscriptions", tok, {
            "url": hook, "events": ["customers.created"], "secret": "bench-secret-0123456789"}, expect=201))
        for r in range(RUNS):
            Sink.got.clear()
            t0 = time.time()
            res = drive(srv.port, [Req("POST", "/api/v1/customers", tok, {
                "company_name": f"Hook {r}-{i}", "email": f"h{r}-{i}@bench.test"}, expect=201) for i in range(N)],
                CONNS, seconds=CASE_LIMIT_S)
            record("delivery_creates", r + 1, res, N)
            deadline = time.monotonic() + CASE_LIMIT_S
            while len(Sink.got) < res.ok and time.monotonic() < deadline:
                time.sleep(0.05)
            got = list(Sink.got)
            lat = sorted((t - ts(json.loads(b)["data"]["object"]["created_at"])) * 1000 for t, b, _, _ in got)
            rate = len(got) / max(max(t for t, _, _, _ in got) - t0, 0.001) if got else 0.0
            emit("run", "delivery", r + 1, "%.1f" % rate, "%.2f" % (lat[len(lat) // 2] if lat else 0),
                 "%.2f" % (lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else 0),
                 N - len(got), len(got))
            log(f"delivery run {r + 1}: {len(got)} of {N} delivered, {rate:.0f}/s")
            unsigned = sum(1 for _, _, s, _ in got if not s or not s.startswith("v1="))
            dup = len(got) - len({d for _, _, _, d in got})
            if len(got) != N or unsigned or dup:
                checks_failed.append(f"delivery run {r + 1}: {len(got)} of {N} arrived, {unsigned} unsigned, "
                                     f"{dup} twice")
            body = got[0][1] if got else b"{}"
            base = drive(sink.server_address[1], [Req("POST", "/hook-baseline", None, body, expect=204)
                                                  for _ in range(N)], 2)
            emit("ceil", "delivery", r + 1, "%.1f" % base.rate())
            log(f"delivery run {r + 1}: baseline plain POST {base.rate():.0f}/s")
        deliveries = q("SELECT count(*) FROM webhook_deliveries")[0][0]
        check("delivery", deliveries == N * RUNS and not any(c.startswith("delivery run") for c in checks_failed),
              f"{deliveries} webhook_deliveries rows for {N * RUNS} creates; every one arrived once, signed")
    finally:
        sink.shutdown()


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    open(TSV, "w").close()
    t0 = time.time()
    cli("tenant", "create", "bench", "--plan", "enterprise", "--owner-email", "o@bench.test",
        "--owner-password", PASSWORD)
    cli("tenant", "set", "bench", "--webhooks-allow-private", "yes")
    srv = Server()
    srv.start()
    try:
        tok = login(srv)
        orders, hot, bills, stocked = prepare(srv, tok)
        emit("extra", "setup", 1, "prepare_s", "%.1f" % (time.time() - t0))
        log(f"prepared in {time.time() - t0:.0f} s; measuring ({RUNS} runs, {N} records a run, {CONNS} connections)")
        exe = build_reserve_ceiling()
        case_confirm(srv, tok, orders, exe, stocked)
        case_reserve(srv, tok, hot, exe)
        case_invoice(srv, tok, bills)
        case_tracking(srv, tok, orders)
        case_delivery(srv, tok)
    finally:
        srv.stop()
    log(f"done in {time.time() - t0:.0f} s")
    if os.environ.get("BENCH_WF_PRINT") == "1":  # make bench-workflows: the table now
        from wfreport import section
        print(section(OUT, {})[0])
    if checks_failed:
        sys.exit("workflows: FAILED: " + "; ".join(checks_failed))
    if not SMALL:
        shutil.rmtree(DATA, ignore_errors=True)


if __name__ == "__main__":
    main()
