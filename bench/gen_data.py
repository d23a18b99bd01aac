#!/usr/bin/python3
"""Fill a tenant database, created by `opsbase tenant create`, with generated
customers and tickets, writing rows with SQLite directly.

opsbase has no bulk import and creating 100,000 rows through the API would take
longer than the benchmark itself, so the rows are written into the very tables
`opsbase tenant create` made: same DDL, same CHECK constraints, same indexes,
same full-text triggers (they fire on every insert here too). Every column the
server would fill on create is filled the way the server does (UUIDv7 ids in
creation order, RFC 3339 timestamps with milliseconds, CUS-/TKT- numbers and
their counters in `sequences`, SLA due times, assigned agents and their
`current_ticket_count`). The server is not running while this writes.

usage: gen_data.py DB... --customers N [--tickets N] [--seed S]
"""
import argparse
import os
import random
import sqlite3
import sys
import time

FIRST = ("james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan "
         "joseph jessica thomas sarah charles karen christopher nancy daniel lisa matthew betty anthony margaret "
         "mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth carol kevin "
         "amanda brian dorothy george melissa timothy deborah ronald stephanie edward rebecca jason sharon").split()
# 100 surnames, each about 1% of the rows: a search for one of them matches ~1%.
LAST = ("smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez "
        "wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark "
        "ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams "
        "nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker "
        "cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper "
        "peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood james "
        "bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster").split()
WORDS = ("printer network invoice delivery refund account password login shipment warehouse order payment "
         "screen battery cable router label parcel customs pallet freight schedule contract upgrade billing "
         "error timeout report export import license server backup email phone portal mobile update").split()
CITIES = "Mumbai Delhi Pune Chennai Kolkata Lagos Nairobi Lima Austin Denver Leeds Lyon Porto Turin Graz".split()
INDUSTRY = "logistics retail manufacturing healthcare finance education travel energy".split()


def uuid7(ms, rnd):
    r = rnd.getrandbits(74)
    hi = (ms << 16) | (0x7 << 12) | (r >> 62)
    lo = (0b10 << 62) | (r & ((1 << 62) - 1))
    h = "%012x%04x%016x" % (ms, hi & 0xFFFF, lo)
    return "%s-%s-%s-%s-%s" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])


def ts(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def seq_set(db, name, value, now_ms, rnd):
    db.execute("INSERT INTO sequences (id, created_at, name, value) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (uuid7(now_ms, rnd), ts(now_ms), name, value))


def gen_customers(db, n, now_ms, rnd):
    start = db.execute("SELECT COALESCE(MAX(value), 0) FROM sequences WHERE name = 'customers'").fetchone()[0]
    span = 365 * 86400 * 1000
    base = now_ms - span
    step = span // max(n, 1)
    ids = []
    batch = []
    cols = ("id, created_at, updated_at, version, customer_code, name, email, phone, company_name, industry, "
            "customer_tier, credit_limit, payment_terms, status, registration_date, approval_status, city, "
            "country, notes")
    sql = "INSERT INTO customers (%s) VALUES (%s)" % (cols, ",".join("?" * 19))
    for i in range(n):
        ms = base + i * step + rnd.randrange(step or 1)
        cid = uuid7(ms, rnd)
        ids.append(cid)
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        t = ts(ms)
        k = start + i + 1
        st = rnd.random()
        status = "active" if st < 0.8 else ("inactive" if st < 0.9 else "suspended")
        notes = " ".join(rnd.choice(WORDS) for _ in range(8))
        batch.append((cid, t, t, 1, "CUS-%06d" % k, "%s %s" % (first.title(), last.title()),
                      "%s.%s%d@example.test" % (first, last, k), "98%08d" % rnd.randrange(10 ** 8),
                      "%s %s Ltd" % (last.title(), rnd.choice(WORDS).title()), rnd.choice(INDUSTRY),
                      rnd.choice(("premium", "standard", "standard", "basic")), rnd.randrange(0, 5000000),
                      30, status, t[:10], "approved", rnd.choice(CITIES), "IN", notes))
        if len(batch) == 5000:
            db.executemany(sql, batch)
            batch = []
    if batch:
        db.executemany(sql, batch)
    seq_set(db, "customers", start + n, now_ms, rnd)
    return ids


def gen_tickets(db, n, customer_ids, now_ms, rnd):
    owner = db.execute("SELECT id FROM users WHERE is_owner ORDER BY created_at LIMIT 1").fetchone()[0]
    agents = [r[0] for r in db.execute(
        "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id "
        "WHERE r.code = 'agent' ORDER BY u.id")]
    start = db.execute("SELECT COALESCE(MAX(value), 0) FROM sequences WHERE name = 'tickets'").fetchone()[0]
    span = 180 * 86400 * 1000
    base = now_ms - span
    step = span // max(n, 1)
    load = {a: 0 for a in agents}
    last_assigned = {}
    batch = []
    cols = ("id, created_at, updated_at, version, ticket_number, customer_id, assigned_agent_id, assigned_at, "
            "created_by, title, description, status, priority, priority_level, criticality, source, "
            "response_due_at, sla_due_date, resolved_at, closed_at")
    sql = "INSERT INTO tickets (%s) VALUES (%s)" % (cols, ",".join("?" * 20))
    for i in range(n):
        ms = base + i * step + rnd.randrange(step or 1)
        t = ts(ms)
        st = rnd.random()
        status = ("open" if st < 0.25 else "in_progress" if st < 0.4 else "waiting_customer" if st < 0.45
                  else "resolved" if st < 0.75 else "closed")
        agent = agents[i % len(agents)] if agents else None
        if agent and status in ("open", "in_progress", "waiting_customer"):
            load[agent] += 1
        if agent:
            last_assigned[agent] = t
        w = [rnd.choice(WORDS) for _ in range(14)]
        batch.append((uuid7(ms, rnd), t, t, 1, "TKT-%06d" % (start + i + 1), rnd.choice(customer_ids), agent,
                      t if agent else None, owner, " ".join(w[:4]).capitalize(), " ".join(w) + ".", status,
                      rnd.choice(("low", "medium", "high", "urgent")), rnd.randrange(1, 6),
                      rnd.choice(("low", "medium", "high", "critical")), rnd.choice(("portal", "email", "phone", "chat")),
                      ts(ms + 3600000), ts(ms + 8 * 3600000),
                      t if status in ("resolved", "closed") else None, t if status == "closed" else None))
        if len(batch) == 5000:
            db.executemany(sql, batch)
            batch = []
    if batch:
        db.executemany(sql, batch)
    for a, c in load.items():
        db.execute("UPDATE users SET current_ticket_count = current_ticket_count + ?, last_assigned_at = ? "
                   "WHERE id = ?", (c, last_assigned.get(a), a))
    seq_set(db, "tickets", start + n, now_ms, rnd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db", nargs="+")
    ap.add_argument("--customers", type=int, required=True)
    ap.add_argument("--tickets", type=int, default=0)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    for path in a.db:
        if not os.path.exists(path):
            sys.exit("gen_data: %s does not exist (create the tenant first)" % path)
    for i, path in enumerate(a.db):
        fill(path, a, a.seed + i)


def fill(path, a, seed):
    rnd = random.Random(seed)
    now_ms = int(time.time() * 1000) - 60000
    db = sqlite3.connect(path, isolation_level=None)
    # Bulk load without a journal (nothing else has the file open), then put
    # the file back in WAL mode, as the server expects it.
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -262144")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("BEGIN IMMEDIATE")
    ids = gen_customers(db, a.customers, now_ms, rnd)
    if a.tickets:
        gen_tickets(db, a.tickets, ids, now_ms, rnd)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()


if __name__ == "__main__":
    main()
